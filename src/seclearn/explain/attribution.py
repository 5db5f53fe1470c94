"""Signed per-feature contributions to a detector's raw risk score.

One method per detector family, each answering "how much did this feature move the
score, compared with typical benign traffic?":

* ``treeshap`` - LightGBM's own TreeSHAP (``pred_contrib=True``), in log-odds; exact.
* ``linear`` - logistic regression: coefficient x (standardised value - standardised
  benign median), in log-odds; exact.
* ``additive`` - ECOD and HBOS scores are sums over features: each feature's score
  minus its score at the benign median; exact.
* ``occlusion`` - any other model: score minus the score with that one feature set to
  the benign median (one extra scoring pass per feature; meant for alerts, not bulk).

A hybrid detector explains each row with the part that produced its combined score.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seclearn.models import (
    Detector,
    ECODDetector,
    HBOSDetector,
    HybridDetector,
    LightGBMDetector,
    LogisticRegressionDetector,
)


def method_of(detector: Detector) -> str:
    """Name of the attribution method used for ``detector`` (hybrids: ``"hybrid"``)."""
    if isinstance(detector, LightGBMDetector):
        return "treeshap"
    if isinstance(detector, LogisticRegressionDetector):
        return "linear"
    if isinstance(detector, ECODDetector | HBOSDetector):
        return "additive"
    if isinstance(detector, HybridDetector):
        return "hybrid"
    return "occlusion"


def _occlusion(detector: Detector, X: np.ndarray, reference: np.ndarray) -> np.ndarray:
    base = detector.risk_score(X)
    work = np.array(X, dtype=X.dtype, copy=True)
    out = np.empty(X.shape, dtype=np.float64)
    for j in range(X.shape[1]):
        saved = work[:, j].copy()
        work[:, j] = reference[j]
        out[:, j] = base - detector.risk_score(work)
        work[:, j] = saved
    return out


def feature_contributions(
    detector: Detector, X: Any, reference: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Contributions (n_rows x n_features, float64) and, per row, whether the supervised part drove it.

    ``reference`` is the benign median of each feature (the point a record is compared
    with). The second array is all True for supervised detectors, all False for anomaly
    detectors and per-row for hybrids. Identical rows (floods and scans repeat the same
    record thousands of times) are explained once: TreeSHAP costs about a millisecond
    a row, the deduplication a sort.
    """
    X = np.asarray(X)
    if len(X) > 1:
        unique, inverse = np.unique(X, axis=0, return_inverse=True)
        if len(unique) < len(X):
            inverse = inverse.reshape(-1)
            contrib, supervised = _contributions(detector, unique, reference)
            return contrib[inverse], supervised[inverse]
    return _contributions(detector, X, reference)


def _contributions(
    detector: Detector, X: np.ndarray, reference: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    reference = np.asarray(reference, dtype=np.float64)
    n = len(X)
    if isinstance(detector, HybridDetector):
        drives = detector.supervised_drives(X)
        out = np.zeros(X.shape, dtype=np.float64)
        for mask, part in ((drives, detector.supervised_), (~drives, detector.anomaly_)):
            if mask.any():
                out[mask] = _contributions(part, X[mask], reference)[0]
        return out, drives
    supervised = np.full(n, detector.kind == "supervised")
    if n == 0:
        return np.zeros(X.shape, dtype=np.float64), supervised
    if isinstance(detector, LightGBMDetector):
        contrib = detector.booster_.predict(X, pred_contrib=True)
        return np.asarray(contrib, dtype=np.float64)[:, :-1], supervised
    if isinstance(detector, LogisticRegressionDetector):
        z = detector.standardize(np.asarray(X, dtype=np.float64))
        z_ref = detector.standardize(reference[None, :])
        return (z - z_ref) * detector.coef_, supervised
    if isinstance(detector, ECODDetector | HBOSDetector):
        return detector.dimension_scores(X) - detector.dimension_scores(
            reference[None, :]
        ), supervised
    return _occlusion(detector, X, reference), supervised


def mean_abs_contributions(detector: Detector, X: Any, reference: np.ndarray) -> np.ndarray:
    """Mean absolute contribution of each feature over the rows of ``X`` (global importance)."""
    contrib, _ = feature_contributions(detector, X, reference)
    return np.abs(contrib).mean(axis=0) if len(contrib) else np.zeros(np.asarray(X).shape[1])


__all__ = ["feature_contributions", "mean_abs_contributions", "method_of"]
