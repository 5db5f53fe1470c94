"""Bootstrap 95% intervals of every headline metric, vectorised: :func:`bootstrap_intervals`.

A bootstrap replicate resamples the ``n`` test rows with replacement. Rows with the
same (score, label, decision) are interchangeable for every metric here, so a
replicate is fully described by how many times each such *cell* was drawn, and those
counts follow a multinomial distribution with the cells' observed shares. Drawing the
counts directly (``numpy.random.Generator.multinomial``) gives exactly the row
bootstrap's distribution at a cost of O(cells) per replicate; when nearly every score
is distinct, drawing row indices and counting them per cell (O(n), no sort) is
cheaper and is used instead. Every metric is then a sum or a cumulative sum over cells,
computed for a batch of replicates at once:

- confusion-matrix rates (accuracy, precision, recall, F1, FPR, alert rate, false-alert
  rate = false positives / rows, which scales to false alerts per day);
- ROC-AUC (ties count one half), average precision (PR-AUC, scikit-learn's step
  definition) and the detection rate at 1% FPR (the last point of the ROC curve whose
  FPR is at most 1%, as :func:`~seclearn.evaluation._curves.ranking_metrics` reads it)
  from the cumulative positives and negatives over distinct scores;
- Brier score and ECE (10 equal-width bins) when scores lie in [0, 1].

Intervals are the 2.5th and 97.5th percentiles of the replicates where the metric is
defined (a replicate without malicious rows has no recall); ``valid_replicates`` says
how many that was. ``tests/test_evaluation_security.py`` checks that the point values
equal scikit-learn's, that the replicate distributions match a plain row-resampling
bootstrap, and that the intervals cover known population values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from seclearn.errors import EvaluationError
from seclearn.evaluation._calibration import ECE_BINS

#: FPR at which the detection rate gets an interval (the headline "detection at 1% FPR").
DETECTION_FPR = 0.01
#: Key of that detection rate among the intervals.
DETECTION_KEY = f"detection_at_fpr@{DETECTION_FPR:g}"
#: Metrics given an interval, in report order.
BOOTSTRAP_METRICS = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "fpr",
    "alert_rate",
    "false_alert_rate",
    "roc_auc",
    "pr_auc",
    DETECTION_KEY,
    "brier",
    "ece",
)
#: Default number of bootstrap replicates of :func:`~seclearn.evaluation.evaluate`.
DEFAULT_N_BOOTSTRAP = 200
#: Upper bound on replicates x cells held in memory at once (about 8 arrays of this).
_BATCH_CELLS = 1_000_000
#: How many row draws one binomial draw costs, roughly (chooses the sampling method).
_BINOMIAL_COST = 8
METHOD = (
    "percentile bootstrap: test rows resampled with replacement, drawn as multinomial "
    "counts over distinct (score, label, decision) cells"
)


class Cells:
    """Distinct (score, label, decision) triples of a test set, sorted by score, descending.

    ``cell_of_row`` maps each input row to its cell; ``counts`` is how many rows each
    cell holds; cells of one distinct score form a *level* (a point of the ROC curve).
    """

    def __init__(self, y: np.ndarray, scores: np.ndarray, decisions: np.ndarray) -> None:
        s = np.asarray(scores, dtype=np.float64)
        yy = np.asarray(y).astype(np.int8)
        dd = np.asarray(decisions).astype(np.int8)
        order = np.lexsort((dd, yy, -s))
        s_o, y_o, d_o = s[order], yy[order], dd[order]
        new = np.ones(len(s_o), dtype=bool)
        new[1:] = (s_o[1:] != s_o[:-1]) | (y_o[1:] != y_o[:-1]) | (d_o[1:] != d_o[:-1])
        starts = np.flatnonzero(new)
        self.cell_of_row = np.empty(len(s_o), dtype=np.int64)
        self.cell_of_row[order] = np.cumsum(new) - 1
        self.score = s_o[starts]
        self.y = y_o[starts].astype(np.float64)
        self.d = d_o[starts].astype(np.float64)
        self.counts = np.diff(np.r_[starts, len(s_o)]).astype(np.int64)
        self.n = len(s_o)
        level = np.ones(len(starts), dtype=bool)
        level[1:] = self.score[1:] != self.score[:-1]
        self.level_start = np.flatnonzero(level)
        self.tied = len(self.level_start) < len(starts)
        # levels holding a malicious cell: the only ones where average precision gains
        level_pos = np.add.reduceat(self.y, self.level_start) if len(starts) else self.y
        self.positive_levels = np.flatnonzero(level_pos > 0)
        self.probabilistic = bool(len(s_o) and s_o.min() >= 0.0 and s_o.max() <= 1.0)
        if self.probabilistic:
            bins = np.clip(np.floor(self.score * ECE_BINS).astype(np.int64), 0, ECE_BINS - 1)
            self.bin_gaps = np.zeros((len(self.score), ECE_BINS))
            self.bin_gaps[np.arange(len(self.score)), bins] = self.score - self.y

    def metrics(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        """Every metric for each row of ``counts`` (replicates x cells); NaN where undefined."""
        m = np.asarray(counts, dtype=np.float64)
        n = m.sum(axis=1)
        pos, alert = m @ self.y, m @ self.d
        tp = m @ (self.y * self.d)
        fp, fn = alert - tp, pos - tp
        neg = n - pos
        tn = neg - fp
        with np.errstate(divide="ignore", invalid="ignore"):
            out = {
                "accuracy": (tp + tn) / n,
                "precision": tp / alert,
                "recall": tp / pos,
                "f1": 2 * tp / (2 * tp + fp + fn),
                "fpr": fp / neg,
                "alert_rate": alert / n,
                "false_alert_rate": fp / n,
            }
            out.update(self._ranking(m, pos, neg))
            if self.probabilistic:
                out["brier"] = (m @ (self.score - self.y) ** 2) / n
                out["ece"] = np.abs(m @ self.bin_gaps).sum(axis=1) / n
        return out

    def _ranking(self, m: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> dict[str, np.ndarray]:
        """ROC-AUC, average precision and detection at 1% FPR from per-level counts."""
        pos_cells = m * self.y
        if self.tied:
            pos_level = np.add.reduceat(pos_cells, self.level_start, axis=1)
            all_level = np.add.reduceat(m, self.level_start, axis=1)
        else:
            pos_level, all_level = pos_cells, m
        cum_pos = np.cumsum(pos_level, axis=1)
        cum_all = np.cumsum(all_level, axis=1)
        # sum over levels of negatives x (positives scored higher + half the tied ones)
        above = np.einsum("ij,ij->i", all_level, cum_pos) - np.einsum(
            "ij,ij->i", pos_level, cum_pos
        )
        if self.tied:  # without ties a level is one cell: all malicious or all benign
            above -= 0.5 * (
                np.einsum("ij,ij->i", all_level, pos_level)
                - np.einsum("ij,ij->i", pos_level, pos_level)
            )
        both = (pos > 0) & (neg > 0)
        p = self.positive_levels
        precision_at = cum_pos[:, p] / np.maximum(cum_all[:, p], 1.0)
        ap = np.einsum("ij,ij->i", pos_level[:, p], precision_at) / pos
        cum_neg = cum_all - cum_pos
        within = cum_neg / neg[:, None] <= DETECTION_FPR
        reached = within.sum(axis=1)  # cum_neg is non-decreasing: a prefix of levels
        rows = np.arange(len(m))
        tpr = np.where(reached > 0, cum_pos[rows, np.maximum(reached - 1, 0)], 0.0) / pos
        enough = neg >= math.ceil(1.0 / DETECTION_FPR - 1e-9)
        return {
            "roc_auc": np.where(both, above / (pos * neg), np.nan),
            "pr_auc": np.where(both, ap, np.nan),
            DETECTION_KEY: np.where(both & enough, tpr, np.nan),
        }

    def expand(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows one replicate's cell counts stand for: (y, scores, decisions)."""
        counts = np.asarray(counts, dtype=np.int64)
        return (
            np.repeat(self.y, counts).astype(np.int8),
            np.repeat(self.score, counts),
            np.repeat(self.d, counts).astype(bool),
        )


def bootstrap_replicates(
    y: np.ndarray,
    scores: np.ndarray,
    decisions: np.ndarray,
    *,
    n_bootstrap: int = DEFAULT_N_BOOTSTRAP,
    random_state: int = 0,
) -> dict[str, np.ndarray]:
    """Every metric of :data:`BOOTSTRAP_METRICS` on each of ``n_bootstrap`` replicates.

    Values are NaN in replicates where the metric is undefined; calibration metrics are
    absent when the scores leave [0, 1].
    """
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 1:
        raise EvaluationError(f"n_bootstrap must be an integer >= 1, got {n_bootstrap!r}.")
    cells = Cells(np.asarray(y), np.asarray(scores), np.asarray(decisions))
    if cells.n == 0:
        raise EvaluationError("No rows to bootstrap; the test set is empty.")
    rng = np.random.default_rng(random_state)
    shares = cells.counts / cells.n
    batch = max(1, min(n_bootstrap, _BATCH_CELLS // max(len(shares), 1)))
    samples: dict[str, list[np.ndarray]] = {}
    done = 0
    # Drawing n row indices costs O(n); a multinomial over K cells costs O(K) binomial
    # draws, each several times dearer: take whichever is cheaper (same distribution).
    by_rows = len(shares) * _BINOMIAL_COST > cells.n
    while done < n_bootstrap:
        size = min(batch, n_bootstrap - done)
        if by_rows:
            counts = np.stack(
                [
                    np.bincount(
                        cells.cell_of_row[rng.integers(0, cells.n, cells.n)],
                        minlength=len(shares),
                    )
                    for _ in range(size)
                ]
            )
        else:
            counts = rng.multinomial(cells.n, shares, size=size)
        for key, values in cells.metrics(counts).items():
            samples.setdefault(key, []).append(values)
        done += size
    return {key: np.concatenate(parts) for key, parts in samples.items()}


def bootstrap_intervals(
    y: np.ndarray,
    scores: np.ndarray,
    decisions: np.ndarray,
    *,
    n_bootstrap: int = DEFAULT_N_BOOTSTRAP,
    random_state: int = 0,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Percentile intervals of :data:`BOOTSTRAP_METRICS` from ``n_bootstrap`` replicates.

    ``y`` holds 0/1 labels, ``scores`` risk scores, ``decisions`` the alerts at the
    operating point, all of one length. Returns ``{"n_bootstrap", "confidence",
    "random_state", "method", "intervals": {metric: [lo, hi] or None},
    "valid_replicates": {metric: count}}``; seeded, so the same inputs give the same
    intervals.
    """
    if not 0 < confidence < 1:
        raise EvaluationError(f"confidence must be in (0, 1), got {confidence!r}.")
    samples = bootstrap_replicates(
        y, scores, decisions, n_bootstrap=n_bootstrap, random_state=random_state
    )
    tail = (1 - confidence) / 2 * 100
    intervals: dict[str, list[float] | None] = {}
    valid: dict[str, int] = {}
    for key in BOOTSTRAP_METRICS:
        values = samples.get(key, np.zeros(0))
        values = values[np.isfinite(values)]
        valid[key] = len(values)
        intervals[key] = (
            [float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))]
            if len(values)
            else None
        )
    return {
        "n_bootstrap": n_bootstrap,
        "confidence": confidence,
        "random_state": random_state,
        "method": METHOD,
        "intervals": intervals,
        "valid_replicates": valid,
    }


__all__ = [
    "BOOTSTRAP_METRICS",
    "DEFAULT_N_BOOTSTRAP",
    "DETECTION_FPR",
    "DETECTION_KEY",
    "METHOD",
    "Cells",
    "bootstrap_intervals",
    "bootstrap_replicates",
]
