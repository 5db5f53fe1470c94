"""Ranking metrics from the test scores: ROC-AUC, PR-AUC, curves, detection at a fixed FPR."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

#: False-positive rates at which the detection rate is read off the test ROC curve.
DETECTION_FPRS = (0.01, 0.001, 0.0001)
#: Most points stored per curve (ROC, PR) in a report.
MAX_CURVE_POINTS = 500

DETECTION_NOTE = (
    "Detection rates at a fixed FPR are points read off the ROC curve of the test scores: "
    "they describe how well the scores rank this test set and are descriptive only. "
    "The model's operating point was chosen on training data; these test-set thresholds "
    "(a row counts as detected when its score is >= the test-set threshold) are not, "
    "and must not be used as, operating points."
)


def downsample_indices(n_points: int, max_points: int = MAX_CURVE_POINTS) -> np.ndarray:
    """At most ``max_points`` evenly spaced indices into a curve, first and last included."""
    if n_points <= max_points:
        return np.arange(n_points)
    return np.unique(np.round(np.linspace(0, n_points - 1, max_points)).astype(np.int64))


def ranking_metrics(
    y: np.ndarray, scores: np.ndarray, not_available: dict[str, str]
) -> dict[str, Any]:
    """ROC-AUC, PR-AUC (average precision), downsampled curves, detection at fixed FPRs.

    Needs both classes; otherwise every value is None and ``not_available`` says why.
    """
    n_mal = int(y.sum())
    n_ben = int(len(y) - n_mal)
    out: dict[str, Any] = {
        "roc_auc": None,
        "pr_auc": None,
        "roc_curve": None,
        "pr_curve": None,
        "detection_at_fpr": {},
        "detection_at_fpr_detail": [],
    }
    one_class = _one_class_reason(n_mal, n_ben)
    if one_class is None:
        out["roc_auc"] = float(roc_auc_score(y, scores))
        out["pr_auc"] = float(average_precision_score(y, scores))
        fpr, tpr, _ = roc_curve(y, scores)
        keep = downsample_indices(len(fpr))
        out["roc_curve"] = {"fpr": fpr[keep].tolist(), "tpr": tpr[keep].tolist()}
        precision, recall, _ = precision_recall_curve(y, scores)
        keep = downsample_indices(len(precision))
        out["pr_curve"] = {"precision": precision[keep].tolist(), "recall": recall[keep].tolist()}
    else:
        for key in ("roc_auc", "pr_auc", "roc_curve", "pr_curve"):
            not_available[key] = one_class
    fpr_full = tpr_full = thr_full = None
    if one_class is None:
        fpr_full, tpr_full, thr_full = roc_curve(y, scores, drop_intermediate=False)
    for target in DETECTION_FPRS:
        key = f"{target:g}"
        min_benign = math.ceil(1.0 / target - 1e-9)
        detail: dict[str, Any] = {
            "target_fpr": target,
            "min_benign_rows": min_benign,
            "detection_rate": None,
            "achieved_fpr": None,
            "test_threshold": None,
            "reason": None,
        }
        if one_class is not None:
            detail["reason"] = one_class
        elif n_ben < min_benign:
            detail["reason"] = (
                f"needs at least {min_benign:,} benign rows to resolve an FPR of {target:.2%}, "
                f"the test set has {n_ben:,}"
            )
        else:
            assert fpr_full is not None and tpr_full is not None and thr_full is not None
            idx = int(np.searchsorted(fpr_full, target, side="right") - 1)
            detail["detection_rate"] = float(tpr_full[idx])
            detail["achieved_fpr"] = float(fpr_full[idx])
            threshold = float(thr_full[idx])
            detail["test_threshold"] = threshold if math.isfinite(threshold) else None
        if detail["reason"] is not None:
            not_available[f"detection_at_fpr@{key}"] = detail["reason"]
        out["detection_at_fpr"][key] = detail["detection_rate"]
        out["detection_at_fpr_detail"].append(detail)
    return out


def _one_class_reason(n_mal: int, n_ben: int) -> str | None:
    if n_mal == 0:
        return "the test set has no malicious rows; ranking metrics need both classes"
    if n_ben == 0:
        return "the test set has no benign rows; ranking metrics need both classes"
    return None


__all__ = [
    "DETECTION_FPRS",
    "DETECTION_NOTE",
    "MAX_CURVE_POINTS",
    "downsample_indices",
    "ranking_metrics",
]
