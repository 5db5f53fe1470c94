"""Detectors under one contract, calibration, threshold policies, ensembles, semi-supervised
detectors and a name-to-class registry."""

from seclearn.models.anomaly import (
    AnomalyDetector,
    ECODDetector,
    HBOSDetector,
    IsolationForestDetector,
)
from seclearn.models.bagging import BaggingDetector
from seclearn.models.base import Detector
from seclearn.models.boosting import HistGradientBoostingDetector
from seclearn.models.calibration import (
    BenignQuantileCalibrator,
    IdentityCalibrator,
    ProbabilityCalibrator,
    calibrator_from_dict,
)
from seclearn.models.ensembles import SoftVotingDetector, StackingDetector
from seclearn.models.hybrid import HybridDetector, choose_anomaly_weight
from seclearn.models.monotone import MonotoneLightGBMDetector
from seclearn.models.pu import PULearningDetector
from seclearn.models.registry import DETECTORS, make_detector
from seclearn.models.semisupervised import (
    AnomalyAugmentedDetector,
    SelfTrainingDetector,
    SemiSupervisedDetector,
)
from seclearn.models.supervised import (
    LightGBMDetector,
    LogisticRegressionDetector,
    RandomForestDetector,
)
from seclearn.models.threshold import ThresholdPolicy

__all__ = [
    "AnomalyAugmentedDetector",
    "AnomalyDetector",
    "BaggingDetector",
    "BenignQuantileCalibrator",
    "DETECTORS",
    "Detector",
    "ECODDetector",
    "HBOSDetector",
    "HistGradientBoostingDetector",
    "HybridDetector",
    "IdentityCalibrator",
    "IsolationForestDetector",
    "LightGBMDetector",
    "LogisticRegressionDetector",
    "MonotoneLightGBMDetector",
    "PULearningDetector",
    "ProbabilityCalibrator",
    "RandomForestDetector",
    "SelfTrainingDetector",
    "SemiSupervisedDetector",
    "SoftVotingDetector",
    "StackingDetector",
    "ThresholdPolicy",
    "calibrator_from_dict",
    "choose_anomaly_weight",
    "make_detector",
]
