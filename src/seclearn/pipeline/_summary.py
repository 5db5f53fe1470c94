"""What a pipeline records about its training data: fingerprint, counts, out-of-fold metrics."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

#: At most this many attack types are listed in metadata (largest first).
MAX_LISTED_TYPES = 100


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """sha256 over a canonical hash of a frame: column names, dtypes and values, in row order.

    Columns are taken in sorted name order, so the same data with shuffled columns has
    the same fingerprint; the index is ignored.
    """
    digest = hashlib.sha256()
    digest.update(f"rows={len(frame)}".encode())
    for name in sorted(map(str, frame.columns)):
        col = frame[name]
        digest.update(f"|{name}:{col.dtype}|".encode())
        digest.update(pd.util.hash_pandas_object(col, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def class_counts(labels: np.ndarray) -> dict[str, int]:
    """Benign, malicious and unlabeled row counts of float labels (NaN = unlabeled)."""
    return {
        "benign": int(np.sum(labels == 0)),
        "malicious": int(np.sum(labels == 1)),
        "unlabeled": int(np.sum(np.isnan(labels))),
    }


def attack_type_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Rows per ``attack_type`` (largest first, at most MAX_LISTED_TYPES); empty when absent."""
    if "attack_type" not in frame.columns:
        return {}
    counts = frame["attack_type"].astype("str").fillna("<missing>").value_counts()
    return {str(k): int(v) for k, v in counts.head(MAX_LISTED_TYPES).items()}


def oof_metrics(
    scores: np.ndarray, labels: np.ndarray, threshold: float, groups: np.ndarray | None = None
) -> dict[str, Any]:
    """Metrics of out-of-fold calibrated scores on the training rows.

    ROC-AUC and average precision need both classes; detection per attack type is the
    share of that type's rows above the threshold.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    labeled = ~np.isnan(labels)
    y = labels[labeled]
    s = scores[labeled]
    alerts = s > threshold
    out: dict[str, Any] = {"n_scored": int(labeled.sum())}
    if (y == 0).any():
        out["fpr"] = float(alerts[y == 0].mean())
    if (y == 1).any():
        out["detection_rate"] = float(alerts[y == 1].mean())
    if (y == 0).any() and (y == 1).any():
        out["roc_auc"] = float(roc_auc_score(y, s))
        out["average_precision"] = float(average_precision_score(y, s))
    if groups is not None and (y == 1).any():
        g = np.asarray(groups, dtype=object)[labeled][y == 1].astype(str)
        a = alerts[y == 1]
        names, inverse, counts = np.unique(g, return_inverse=True, return_counts=True)
        hits = np.bincount(inverse, weights=a.astype(np.float64), minlength=len(names))
        order = np.argsort(-counts, kind="stable")[:MAX_LISTED_TYPES]
        out["detection_by_attack_type"] = {
            str(names[i]): round(float(hits[i] / counts[i]), 4) for i in order
        }
    if not labeled.all():
        out["unlabeled_alert_rate"] = float((scores[~labeled] > threshold).mean())
    return out


__all__ = ["attack_type_counts", "class_counts", "frame_fingerprint", "oof_metrics"]
