"""Detectors under one contract, calibration, threshold policies and a name-to-class registry."""

from seclearn.models.anomaly import (
    AnomalyDetector,
    ECODDetector,
    HBOSDetector,
    IsolationForestDetector,
)
from seclearn.models.base import Detector
from seclearn.models.calibration import (
    BenignQuantileCalibrator,
    IdentityCalibrator,
    ProbabilityCalibrator,
    calibrator_from_dict,
)
from seclearn.models.hybrid import HybridDetector, choose_anomaly_weight
from seclearn.models.registry import DETECTORS, make_detector
from seclearn.models.supervised import (
    LightGBMDetector,
    LogisticRegressionDetector,
    RandomForestDetector,
)
from seclearn.models.threshold import ThresholdPolicy

__all__ = [
    "AnomalyDetector",
    "BenignQuantileCalibrator",
    "DETECTORS",
    "Detector",
    "ECODDetector",
    "HBOSDetector",
    "HybridDetector",
    "IdentityCalibrator",
    "IsolationForestDetector",
    "LightGBMDetector",
    "LogisticRegressionDetector",
    "ProbabilityCalibrator",
    "RandomForestDetector",
    "ThresholdPolicy",
    "calibrator_from_dict",
    "choose_anomaly_weight",
    "make_detector",
]
