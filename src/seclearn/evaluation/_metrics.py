"""Metrics of scores and decisions against labels: :func:`evaluate_scores`.

One-class test sets (only benign or only malicious rows) are evaluated as far as
they can be: every metric that needs the missing class is ``None`` and
``metrics["not_available"][name]`` says why. :class:`EvaluationError` is raised only
for input that cannot be evaluated at all: no rows, lengths that differ, labels other
than 0/1 (drop unlabeled rows first), or scores / threshold that are not finite.

Beyond the confusion matrix and the curves, the dict holds what a security team asks
first: alerts per day (:mod:`._time`), precision at an analyst alert budget
(:mod:`._budget`), time to first detection per attack campaign and performance per
time period with its decay slope (:mod:`._time`), and 95% bootstrap intervals on every
headline figure (:mod:`._bootstrap`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from seclearn.errors import EvaluationError
from seclearn.evaluation._bootstrap import bootstrap_intervals
from seclearn.evaluation._budget import DEFAULT_ALERT_BUDGETS, budget_metrics
from seclearn.evaluation._calibration import calibration_metrics, score_histogram
from seclearn.evaluation._curves import DETECTION_NOTE, ranking_metrics
from seclearn.evaluation._time import (
    CAMPAIGN_GAP_S,
    alert_volume,
    as_epoch_seconds,
    campaign_metrics,
    period_metrics,
    time_span,
)

#: z for a two-sided 95% interval (per-family Wilson intervals).
_Z95 = 1.959963984540054

NOTES = {
    "detection_at_fpr": DETECTION_NOTE,
    "ece": "Expected calibration error over 10 equal-width score bins on [0, 1].",
    "operating_point": "Decisions use the model's stored threshold, chosen on training data, never on this test set.",
    "per_attack_type": "Per-family intervals are 95% Wilson score intervals of the detection rate.",
    "alert_budget": "Top-k scores per day: what a team that reviews k alerts a day would see; no threshold is used.",
}


def evaluate_scores(
    y_true: Any,
    scores: Any,
    threshold: float,
    *,
    attack_type: Any = None,
    ts: Any = None,
    src_ip: Any = None,
    decision: Any = None,
    n_bootstrap: int = 0,
    random_state: int = 0,
    events_per_day: float | None = None,
    alert_budgets: tuple[int, ...] | list[int] = DEFAULT_ALERT_BUDGETS,
    campaign_gap_s: float = CAMPAIGN_GAP_S,
    period_s: float | None = None,
    train_end_ts: float | None = None,
) -> dict[str, Any]:
    """Every metric of a labeled test set at a given operating point.

    Parameters
    ----------
    y_true : 1 = malicious, 0 = benign (no missing values).
    scores : risk scores, higher = more suspicious; calibration metrics need [0, 1].
    threshold : the operating point; a row is an alert when ``score > threshold``
        (as in ``DetectionPipeline.score``).
    attack_type : optional attack family per row, for per-family detection and campaigns.
    ts : optional epoch seconds (or datetimes) per row, for alerts per day, per-day
        alert budgets, campaigns and time periods.
    src_ip : optional source address per row; campaigns are then per family and source.
    decision : optional decisions the model made; default ``scores > threshold``.
    n_bootstrap : bootstrap replicates for 95% percentile intervals (0 = none).
    random_state : seed of the bootstrap.
    events_per_day : events the detector sees per day in production; default: measured
        from ``ts``. Turns alert rates into alerts per day.
    alert_budgets : alerts per day an analyst team can review (precision at budget).
    campaign_gap_s : a gap at least this long between attack rows starts a new campaign.
    period_s : length of the time periods; default a day (hours for short test data).
    train_end_ts : when the training data ends (epoch seconds), the origin of the decay
        slope; default the start of the test data.

    Returns a JSON-ready dict; ``None`` values are explained in ``not_available``.
    """
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 0:
        raise EvaluationError(f"n_bootstrap must be an integer >= 0, got {n_bootstrap!r}.")
    y, s, d = _validate(y_true, scores, threshold, decision)
    t = as_epoch_seconds(ts, len(y)) if ts is not None else None
    not_available: dict[str, str] = {}
    metrics: dict[str, Any] = {"threshold": float(threshold)}
    metrics.update(_threshold_metrics(y, d, not_available))
    metrics.update(ranking_metrics(y, s, not_available))
    metrics.update(calibration_metrics(y, s, not_available))
    metrics["score_histogram"] = score_histogram(y, s)
    metrics["per_attack_type"] = _per_attack_type(attack_type, y, s, d, not_available)
    span = time_span(t) if t is not None else None
    if span is None:
        not_available["time"] = "no ts given" if t is None else "fewer than two distinct timestamps"
    metrics["time"] = span
    metrics["alert_volume"] = alert_volume(y, d, span, events_per_day, not_available)
    metrics["alert_budget"] = budget_metrics(y, s, t, alert_budgets, events_per_day)
    if t is not None:
        metrics["campaigns"] = campaign_metrics(
            y, d, t, attack_type, src_ip, float(campaign_gap_s), not_available
        )
        metrics["periods"] = period_metrics(y, s, d, t, span, period_s, train_end_ts, not_available)
    else:
        metrics["campaigns"] = metrics["periods"] = None
        not_available["campaigns"] = not_available["periods"] = "no ts given"
    if n_bootstrap:
        metrics["bootstrap"] = bootstrap_intervals(
            y, s, d, n_bootstrap=n_bootstrap, random_state=random_state
        )
        _scale_volume_intervals(metrics)
    metrics["notes"] = dict(NOTES)
    metrics["not_available"] = not_available
    return metrics


def _scale_volume_intervals(metrics: dict[str, Any]) -> None:
    """Alerts per day inherit the alert-rate intervals (events per day is taken as known)."""
    volume = metrics.get("alert_volume")
    intervals = metrics["bootstrap"]["intervals"]
    if not volume:
        return
    rate = volume["events_per_day"]
    for key, source in (
        ("alerts_per_day", "alert_rate"),
        ("false_alerts_per_day", "false_alert_rate"),
    ):
        ci = intervals.get(source)
        volume[f"{key}_ci"] = [ci[0] * rate, ci[1] * rate] if ci else None


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
                "rate_ci": wilson_interval(int(g["detected"]), count),
                "mean_score": float(g["mean_score"]),
            }
        )
    rows.sort(key=lambda r: (r["kind"] == "benign", -r["count"], r["attack_type"]))
    return rows


def wilson_interval(successes: int, trials: int, z: float = _Z95) -> list[float] | None:
    """Wilson score interval of a proportion: sound for small counts and rates near 0 or 1."""
    if trials <= 0:
        return None
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    # min/max with p: at p = 0 or 1 the bound equals p in exact arithmetic, not in floats.
    return [min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))]


__all__ = ["NOTES", "evaluate_scores", "wilson_interval"]
