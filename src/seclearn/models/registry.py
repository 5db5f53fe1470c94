"""Detectors by name: ``DETECTORS`` and :func:`make_detector`."""

from __future__ import annotations

from typing import Any

from seclearn.errors import ConfigError
from seclearn.models.anomaly import ECODDetector, HBOSDetector, IsolationForestDetector
from seclearn.models.bagging import BaggingDetector
from seclearn.models.base import Detector
from seclearn.models.boosting import HistGradientBoostingDetector
from seclearn.models.ensembles import SoftVotingDetector, StackingDetector
from seclearn.models.hybrid import HybridDetector
from seclearn.models.monotone import MonotoneLightGBMDetector
from seclearn.models.pu import PULearningDetector
from seclearn.models.semisupervised import AnomalyAugmentedDetector, SelfTrainingDetector
from seclearn.models.supervised import (
    LightGBMDetector,
    LogisticRegressionDetector,
    RandomForestDetector,
)

#: Every registered detector class by its name.
DETECTORS: dict[str, type[Detector]] = {
    cls.name: cls
    for cls in (
        LightGBMDetector,
        MonotoneLightGBMDetector,
        RandomForestDetector,
        LogisticRegressionDetector,
        IsolationForestDetector,
        ECODDetector,
        HBOSDetector,
        HybridDetector,
        HistGradientBoostingDetector,
        BaggingDetector,
        StackingDetector,
        SoftVotingDetector,
        SelfTrainingDetector,
        PULearningDetector,
        AnomalyAugmentedDetector,
    )
}


def make_detector(name: str, **params: Any) -> Detector:
    """A new, unfitted detector registered as ``name``, with ``params`` set.

    >>> make_detector("lightgbm", n_estimators=50).n_estimators
    50
    """
    cls = DETECTORS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ConfigError(
            f"Unknown detector {name!r}. Known detectors: {', '.join(sorted(DETECTORS))}."
        )
    try:
        return cls(**params)
    except TypeError as exc:
        known = sorted(cls().get_params(deep=False))
        raise ConfigError(
            f"Detector {name!r} does not take parameters {sorted(set(params) - set(known))}. "
            f"Its parameters are: {', '.join(known)}."
        ) from exc


__all__ = ["DETECTORS", "make_detector"]
