"""Metrics of scores and decisions against labels: :func:`evaluate_scores`.

One-class test sets (only benign or only malicious rows) are evaluated as far as
they can be: every metric that needs the missing class is ``None`` and
``metrics["not_available"][name]`` says why. :class:`EvaluationError` is raised only
for input that cannot be evaluated at all: no rows, lengths that differ, labels other
than 0/1 (drop unlabeled rows first), or scores / threshold that are not finite.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from seclearn.errors import EvaluationError
from seclearn.evaluation._calibration import calibration_metrics, score_histogram
from seclearn.evaluation._curves import DETECTION_NOTE, ranking_metrics

_SECONDS_PER_DAY = 86_400.0
_BOOTSTRAP_METRICS = ("precision", "recall", "f1", "fpr", "roc_auc", "pr_auc")

NOTES = {
    "detection_at_fpr": DETECTION_NOTE,
    "ece": "Expected calibration error over 10 equal-width score bins on [0, 1].",
    "operating_point": "Decisions use the model's stored threshold, chosen on training data, never on this test set.",
}


def evaluate_scores(
    y_true: Any,
    scores: Any,
    threshold: float,
    *,
    attack_type: Any = None,
    ts: Any = None,
    decision: Any = None,
    n_bootstrap: int = 0,
    random_state: int = 0,
) -> dict[str, Any]:
    """Every metric of a labeled test set at a given operating point.

    Parameters
    ----------
    y_true : 1 = malicious, 0 = benign (no missing values).
    scores : risk scores, higher = more suspicious; calibration metrics need [0, 1].
    threshold : the operating point; a row is an alert when ``score > threshold``
        (as in ``DetectionPipeline.score``).
    attack_type : optional attack family per row, for per-type detection.
    ts : optional epoch seconds per row, for alerts per day.
    decision : optional decisions the model made; default ``scores > threshold``.
    n_bootstrap : number of bootstrap resamples for 95% percentile intervals (0 = none).
    random_state : seed of the bootstrap.

    Returns a JSON-ready dict; ``None`` values are explained in ``not_available``.
    """
    if n_bootstrap < 0:
        raise EvaluationError(f"n_bootstrap must be an integer >= 0, got {n_bootstrap}.")
    y, s, d = _validate(y_true, scores, threshold, decision)
    not_available: dict[str, str] = {}
    metrics: dict[str, Any] = {"threshold": float(threshold)}
    metrics.update(_threshold_metrics(y, d, not_available))
    metrics.update(ranking_metrics(y, s, not_available))
    metrics.update(calibration_metrics(y, s, not_available))
    metrics["score_histogram"] = score_histogram(y, s)
    metrics["per_attack_type"] = _per_attack_type(attack_type, y, s, d, not_available)
    metrics["time"] = _time_metrics(ts, d, y, not_available)
    if n_bootstrap:
        metrics["bootstrap"] = _bootstrap(y, s, d, n_bootstrap, random_state)
    metrics["notes"] = dict(NOTES)
    metrics["not_available"] = not_available
    return metrics


def _validate(
    y_true: Any, scores: Any, threshold: float, decision: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y_series = pd.Series(y_true) if not isinstance(y_true, pd.Series) else y_true
    if y_series.isna().any():
        raise EvaluationError(
            f"y_true has {int(y_series.isna().sum())} missing labels; expected only 0 (benign) and 1 "
            "(malicious). Drop unlabeled rows first (evaluate() does this for you)."
        )
    try:
        y = np.asarray(y_series.to_numpy(dtype="float64"))
    except (TypeError, ValueError):
        raise EvaluationError(
            f"y_true must be numeric 0/1 labels, got dtype {y_series.dtype}. Map labels to 0/1 first."
        ) from None
    if not np.isin(y, (0.0, 1.0)).all():
        bad = sorted(set(np.unique(y[~np.isin(y, (0.0, 1.0))]).tolist()))[:5]
        raise EvaluationError(
            f"y_true must hold only 0 and 1, got also {bad}. Map labels to 0/1 first."
        )
    y = y.astype(np.int8)
    try:
        s = np.asarray(pd.Series(scores).to_numpy(dtype="float64", na_value=np.nan))
    except (TypeError, ValueError):
        raise EvaluationError(
            "scores must be numbers (risk scores, higher = more suspicious)."
        ) from None
    if len(y) == 0:
        raise EvaluationError(
            "No labeled rows to evaluate: the test set is empty after dropping unlabeled rows."
        )
    if s.shape != y.shape:
        raise EvaluationError(
            f"scores has {s.shape[0]} values but y_true has {y.shape[0]}; they must match."
        )
    if not np.isfinite(s).all():
        raise EvaluationError(
            f"{int((~np.isfinite(s)).sum())} scores are NaN or infinite; the pipeline must score every row."
        )
    if not np.isfinite(float(threshold)):
        raise EvaluationError(f"threshold must be a finite number, got {threshold!r}.")
    if decision is None:
        d = s > float(threshold)
    else:
        d = np.asarray(pd.Series(decision).to_numpy(dtype="bool", na_value=False))
        if d.shape != y.shape:
            raise EvaluationError(
                f"decision has {d.shape[0]} values but y_true has {y.shape[0]}; they must match."
            )
    return y, s, d


def _threshold_metrics(
    y: np.ndarray, d: np.ndarray, not_available: dict[str, str]
) -> dict[str, Any]:
    pos = y == 1
    tp = int(np.sum(d & pos))
    fp = int(np.sum(d & ~pos))
    fn = int(np.sum(~d & pos))
    tn = int(np.sum(~d & ~pos))
    n, n_mal = len(y), tp + fn
    n_ben = n - n_mal
    values = _rates(tp, fp, fn, tn)
    reasons = {
        "precision": "no alerts at the operating point",
        "recall": "the test set has no malicious rows",
        "fpr": "the test set has no benign rows",
        "f1": "no malicious rows and no alerts",
    }
    for key, reason in reasons.items():
        if values[key] is None:
            not_available[key] = reason
    return {
        "n": n,
        "n_malicious": n_mal,
        "n_benign": n_ben,
        "prevalence": n_mal / n,
        "alerts": tp + fp,
        "alert_rate": (tp + fp) / n,
        "confusion_matrix": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        **values,
    }


def _rates(tp: int, fp: int, fn: int, tn: int) -> dict[str, float | None]:
    def ratio(num: int, den: int) -> float | None:
        return num / den if den else None

    return {
        "accuracy": ratio(tp + tn, tp + fp + fn + tn),
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn),
        "f1": ratio(2 * tp, 2 * tp + fp + fn),
        "fpr": ratio(fp, fp + tn),
    }


def _per_attack_type(
    attack_type: Any, y: np.ndarray, s: np.ndarray, d: np.ndarray, not_available: dict[str, str]
) -> list[dict[str, Any]]:
    """Rows per attack type: count, detected (alerts), rate, mean score, kind; malicious first."""
    if attack_type is None:
        not_available["per_attack_type"] = "no attack_type given"
        return []
    types = pd.Series(attack_type).reset_index(drop=True).astype("object")
    if len(types) != len(y):
        raise EvaluationError(
            f"attack_type has {len(types)} values but y_true has {len(y)}; they must match."
        )
    frame = pd.DataFrame(
        {"t": types.where(types.notna(), "unknown").astype(str), "y": y, "s": s, "d": d}
    )
    grouped = frame.groupby("t", sort=True).agg(
        count=("y", "size"), detected=("d", "sum"), mean_score=("s", "mean"), malicious=("y", "sum")
    )
    rows: list[dict[str, Any]] = []
    for name, g in grouped.iterrows():
        count, malicious = int(g["count"]), int(g["malicious"])
        kind = "malicious" if malicious == count else "benign" if malicious == 0 else "mixed"
        rows.append(
            {
                "attack_type": str(name),
                "kind": kind,
                "count": count,
                "detected": int(g["detected"]),
                "rate": int(g["detected"]) / count,
                "mean_score": float(g["mean_score"]),
            }
        )
    rows.sort(key=lambda r: (r["kind"] == "benign", -r["count"], r["attack_type"]))
    return rows


def _time_metrics(
    ts: Any, d: np.ndarray, y: np.ndarray, not_available: dict[str, str]
) -> dict[str, Any] | None:
    """Time span of the test rows and alerts (all, false) per day at the operating point."""
    if ts is None:
        not_available["time"] = "no ts given"
        return None
    t = np.asarray(pd.Series(ts).to_numpy(dtype="float64", na_value=np.nan))
    if t.shape != d.shape:
        raise EvaluationError(
            f"ts has {t.shape[0]} values but y_true has {d.shape[0]}; they must match."
        )
    finite = np.isfinite(t)
    if finite.sum() < 2 or t[finite].max() <= t[finite].min():
        not_available["time"] = "fewer than two distinct timestamps"
        return None
    start, end = float(t[finite].min()), float(t[finite].max())
    days = (end - start) / _SECONDS_PER_DAY

    def iso(x: float) -> str:
        return dt.datetime.fromtimestamp(x, dt.UTC).isoformat(timespec="seconds")

    return {
        "start": iso(start),
        "end": iso(end),
        "span_days": days,
        "alerts_per_day": float(d.sum()) / days,
        "false_alerts_per_day": float(np.sum(d & (y == 0))) / days,
        "rows_without_ts": int((~finite).sum()),
    }


def _bootstrap(
    y: np.ndarray, s: np.ndarray, d: np.ndarray, n_bootstrap: int, random_state: int
) -> dict[str, Any]:
    """95% percentile intervals from ``n_bootstrap`` row resamples (undefined replicates skipped)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(random_state)
    samples: dict[str, list[float]] = {k: [] for k in _BOOTSTRAP_METRICS}
    n = len(y)
    for _ in range(n_bootstrap):
        idx = rng.integers(0, n, n)
        yb, sb, db = y[idx], s[idx], d[idx]
        pos = yb == 1
        rates = _rates(
            int(np.sum(db & pos)),
            int(np.sum(db & ~pos)),
            int(np.sum(~db & pos)),
            int(np.sum(~db & ~pos)),
        )
        for key in ("precision", "recall", "f1", "fpr"):
            if rates[key] is not None:
                samples[key].append(float(rates[key]))  # type: ignore[arg-type]
        if 0 < pos.sum() < n:
            samples["roc_auc"].append(float(roc_auc_score(yb, sb)))
            samples["pr_auc"].append(float(average_precision_score(yb, sb)))
    intervals = {
        k: ([float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))] if v else None)
        for k, v in samples.items()
    }
    return {
        "n_bootstrap": n_bootstrap,
        "confidence": 0.95,
        "random_state": random_state,
        "intervals": intervals,
    }


__all__ = ["NOTES", "evaluate_scores"]
