"""Calibration of scores read as probabilities of malicious: Brier score, ECE, reliability.

Expected calibration error (ECE) uses 10 equal-width bins on [0, 1] (the last bin
includes 1.0): ``ECE = sum over bins of (rows in bin / rows) * |mean score - fraction
malicious|``. It is 0 for perfectly calibrated scores and at most 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Number of equal-width bins of the ECE and the reliability diagram.
ECE_BINS = 10
#: Number of equal-width bins of the score histograms.
HISTOGRAM_BINS = 50


def calibration_metrics(
    y: np.ndarray, scores: np.ndarray, not_available: dict[str, str]
) -> dict[str, Any]:
    """Brier score, ECE and reliability-diagram rows; None when scores leave [0, 1]."""
    if scores.min() < 0.0 or scores.max() > 1.0:
        reason = (
            f"scores range over [{scores.min():.4g}, {scores.max():.4g}], not [0, 1]: "
            "calibration metrics need probabilities"
        )
        for key in ("brier", "ece", "reliability"):
            not_available[key] = reason
        return {"brier": None, "ece": None, "ece_bins": ECE_BINS, "reliability": None}
    brier = float(np.mean((scores - y) ** 2))
    bins = np.clip(np.floor(scores * ECE_BINS).astype(np.int64), 0, ECE_BINS - 1)
    counts = np.bincount(bins, minlength=ECE_BINS)
    score_sums = np.bincount(bins, weights=scores, minlength=ECE_BINS)
    pos_sums = np.bincount(bins, weights=y.astype("float64"), minlength=ECE_BINS)
    rows = []
    ece = 0.0
    for b in range(ECE_BINS):
        count = int(counts[b])
        mean_score = float(score_sums[b] / count) if count else None
        frac = float(pos_sums[b] / count) if count else None
        if count:
            assert mean_score is not None and frac is not None
            ece += count / len(y) * abs(mean_score - frac)
        rows.append(
            {
                "bin_lo": b / ECE_BINS,
                "bin_hi": (b + 1) / ECE_BINS,
                "count": count,
                "mean_score": mean_score,
                "fraction_malicious": frac,
            }
        )
    return {"brier": brier, "ece": float(ece), "ece_bins": ECE_BINS, "reliability": rows}


def score_histogram(y: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    """Counts of benign and malicious scores in equal-width bins ([0, 1] for probabilities)."""
    lo, hi = float(scores.min()), float(scores.max())
    if lo >= 0.0 and hi <= 1.0:
        lo, hi = 0.0, 1.0
    elif lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, HISTOGRAM_BINS + 1)
    benign, _ = np.histogram(scores[y == 0], bins=edges)
    malicious, _ = np.histogram(scores[y == 1], bins=edges)
    return {"edges": edges.tolist(), "benign": benign.tolist(), "malicious": malicious.tolist()}


__all__ = ["ECE_BINS", "HISTOGRAM_BINS", "calibration_metrics", "score_histogram"]
