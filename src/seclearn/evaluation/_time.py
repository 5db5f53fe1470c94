"""Metrics that need time: alert volume per day, time to detect a campaign, decay over periods.

- :func:`alert_volume`: ``alerts/day = alert rate x events/day``, with events per day
  given by the user or measured from the test rows' own timestamps. False alerts per
  day use the false-alert rate (false positives / rows) the same way.
- :func:`campaign_metrics`: a *campaign* is the malicious rows of one attack type (and,
  when given, one source address) that follow each other with gaps shorter than
  ``gap_s``. For each: when it started, whether the model alerted on any of its rows,
  how long after the first row the first alert came, and how many rows that took.
- :func:`period_metrics`: the test rows cut into consecutive periods (a UTC day when
  the test data spans at least four days), with detection, FPR and ROC-AUC per period
  and the slope of detection and FPR against time since the end of training: a
  negative detection slope is a detector decaying as traffic drifts.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from seclearn.errors import EvaluationError

SECONDS_PER_DAY = 86_400.0
#: Default gap (seconds) that ends a campaign: rows further apart start a new one.
CAMPAIGN_GAP_S = 3_600.0
#: Most campaigns listed one by one in a report (summaries cover all of them).
MAX_LISTED_CAMPAIGNS = 200
#: Most periods; longer test data gets longer periods.
MAX_PERIODS = 366
#: Periods needed (each with malicious rows) before a decay slope is reported.
MIN_PERIODS_FOR_SLOPE = 3


def iso(ts: float) -> str:
    """Epoch seconds as an ISO-8601 UTC string."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds")


def as_epoch_seconds(ts: Any, n: int, name: str = "ts") -> np.ndarray:
    """``ts`` as float64 epoch seconds (NaN where missing); datetimes are converted."""
    series = pd.Series(ts).reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(series):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        elapsed = (series - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1)
        values = elapsed.to_numpy(dtype="float64", na_value=np.nan)
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    if values.shape != (n,):
        raise EvaluationError(
            f"{name} has {values.shape[0]} values but y_true has {n}; they must match."
        )
    return np.where(np.isfinite(values), values, np.nan)


def time_span(t: np.ndarray) -> dict[str, Any] | None:
    """Start, end and length in days of the finite timestamps; None with fewer than two."""
    finite = np.isfinite(t)
    if finite.sum() < 2 or t[finite].max() <= t[finite].min():
        return None
    start, end = float(t[finite].min()), float(t[finite].max())
    return {
        "start": iso(start),
        "end": iso(end),
        "start_ts": start,
        "end_ts": end,
        "span_days": (end - start) / SECONDS_PER_DAY,
        "rows_with_ts": int(finite.sum()),
        "rows_without_ts": int((~finite).sum()),
    }


def alert_volume(
    y: np.ndarray,
    d: np.ndarray,
    span: dict[str, Any] | None,
    events_per_day: float | None,
    not_available: dict[str, str],
) -> dict[str, Any] | None:
    """Alerts, false alerts and true alerts per day at the operating point.

    ``events_per_day`` (given) wins over the rate measured from timestamps, which is
    ``rows with a timestamp / span in days``.
    """
    if events_per_day is not None:
        if not (isinstance(events_per_day, int | float) and math.isfinite(events_per_day)) or (
            events_per_day <= 0
        ):
            raise EvaluationError(
                f"events_per_day must be a positive number of events per day, got {events_per_day!r}."
            )
        rate, source = float(events_per_day), "given"
    elif span is not None:
        rate, source = span["rows_with_ts"] / span["span_days"], "test timestamps"
    else:
        not_available["alert_volume"] = (
            "no timestamps and no events_per_day: pass events_per_day to get alerts per day"
        )
        return None
    n = len(y)
    fp = float(np.sum(d & (y == 0)))
    tp = float(np.sum(d & (y == 1)))
    return {
        "events_per_day": rate,
        "events_per_day_source": source,
        "alert_rate": float(d.sum()) / n,
        "alerts_per_day": float(d.sum()) / n * rate,
        "false_alerts_per_day": fp / n * rate,
        "true_alerts_per_day": tp / n * rate,
    }


def campaign_metrics(
    y: np.ndarray,
    d: np.ndarray,
    t: np.ndarray,
    attack_type: Any,
    src_ip: Any,
    gap_s: float,
    not_available: dict[str, str],
) -> dict[str, Any] | None:
    """Time to first detection of each campaign (see the module docstring)."""
    if not (math.isfinite(gap_s) and gap_s > 0):
        raise EvaluationError(
            f"campaign_gap_s must be a positive number of seconds, got {gap_s!r}."
        )
    rows = np.flatnonzero((y == 1) & np.isfinite(t))
    if len(rows) == 0:
        not_available["campaigns"] = "no malicious rows with a timestamp"
        return None
    kinds, keys = _campaign_keys(attack_type, src_ip, len(y))
    codes, names = pd.factorize(pd.Series(keys[rows], dtype=object), sort=True)
    order = np.lexsort((t[rows], codes))
    rows, codes = rows[order], codes[order]
    tt, dd = t[rows], d[rows]
    new = np.ones(len(rows), dtype=bool)
    new[1:] = (codes[1:] != codes[:-1]) | (np.diff(tt) >= gap_s)
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], len(rows)]
    position = np.arange(len(rows)) - np.repeat(starts, ends - starts)
    first = np.minimum.reduceat(np.where(dd, position, len(rows)), starts)
    detected = first < len(rows)
    first_safe = np.minimum(first, ends - starts - 1)
    delay = np.where(detected, tt[starts + first_safe] - tt[starts], np.nan)
    table = pd.DataFrame(
        {
            "key": [str(names[c]) for c in codes[starts]],
            "attack_type": kinds[rows[starts]].astype(str),
            "start_ts": tt[starts],
            "end_ts": tt[ends - 1],
            "rows": ends - starts,
            "detected": detected,
            "delay_s": delay,
            "rows_until_detected": np.where(detected, first + 1, -1),
        }
    )
    listed = table.sort_values(["rows", "start_ts"], ascending=[False, True]).head(
        MAX_LISTED_CAMPAIGNS
    )
    return {
        "gap_s": float(gap_s),
        "grouped_by": ["attack_type"] + (["src_ip"] if src_ip is not None else []),
        "n_campaigns": len(table),
        "n_detected": int(detected.sum()),
        "detected_share": float(detected.mean()),
        "median_delay_s": _quantile(delay[detected], 0.5),
        "p90_delay_s": _quantile(delay[detected], 0.9),
        "median_rows_until_detected": _quantile(first[detected] + 1.0, 0.5),
        "by_attack_type": _campaigns_by_type(table),
        "campaigns": [
            {
                "attack_type": r.attack_type,
                "key": r.key,
                "start": iso(r.start_ts),
                "duration_s": float(r.end_ts - r.start_ts),
                "rows": int(r.rows),
                "detected": bool(r.detected),
                "first_detection_delay_s": None if not r.detected else float(r.delay_s),
                "rows_until_detected": None if not r.detected else int(r.rows_until_detected),
            }
            for r in listed.itertuples(index=False)
        ],
        "n_listed": len(listed),
    }


def _campaign_keys(attack_type: Any, src_ip: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Attack type per row, and the campaign key (type, or type and source address)."""

    def column(values: Any, name: str, default: str) -> np.ndarray:
        if values is None:
            return np.full(n, default, dtype=object)
        series = pd.Series(values).reset_index(drop=True).astype("object")
        if len(series) != n:
            raise EvaluationError(
                f"{name} has {len(series)} values but y_true has {n}; they must match."
            )
        return series.where(series.notna(), "unknown").astype(str).to_numpy(dtype=object)

    kinds = column(attack_type, "attack_type", "malicious")
    if src_ip is None:
        return kinds, kinds
    sources = column(src_ip, "src_ip", "")
    return kinds, np.array(
        [f"{k} | {a}" for k, a in zip(kinds, sources, strict=True)], dtype=object
    )


def _campaigns_by_type(table: pd.DataFrame) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, g in table.groupby("attack_type", sort=True):
        hit = g["detected"].to_numpy()
        out.append(
            {
                "attack_type": str(name),
                "campaigns": len(g),
                "detected": int(hit.sum()),
                "detected_share": float(hit.mean()),
                "median_delay_s": _quantile(g["delay_s"].to_numpy()[hit], 0.5),
                "median_rows_until_detected": _quantile(
                    g["rows_until_detected"].to_numpy()[hit].astype(float), 0.5
                ),
            }
        )
    out.sort(key=lambda r: (-r["campaigns"], r["attack_type"]))
    return out


def _quantile(values: np.ndarray, q: float) -> float | None:
    return float(np.quantile(values, q)) if len(values) else None


def period_metrics(
    y: np.ndarray,
    s: np.ndarray,
    d: np.ndarray,
    t: np.ndarray,
    span: dict[str, Any] | None,
    period_s: float | None,
    train_end_ts: float | None,
    not_available: dict[str, str],
) -> dict[str, Any] | None:
    """Detection, FPR and ROC-AUC per consecutive period, and their slope over time."""
    if span is None:
        not_available["periods"] = "fewer than two distinct timestamps"
        return None
    length = _period_length(span["end_ts"] - span["start_ts"], period_s)
    finite = np.isfinite(t)
    origin = math.floor(span["start_ts"] / length) * length
    index = np.floor((t[finite] - origin) / length).astype(np.int64)
    frame = pd.DataFrame({"p": index, "y": y[finite], "s": s[finite], "d": d[finite]})
    rows = [_one_period(int(p), g, origin, length) for p, g in frame.groupby("p", sort=True)]
    if train_end_ts is not None and math.isfinite(train_end_ts):
        reference, since = float(train_end_ts), "the end of training"
    else:
        reference, since = span["start_ts"], "the start of the test data (no training end given)"
    for r in rows:
        r["days_since_reference"] = (r["mid_ts"] - reference) / SECONDS_PER_DAY
    x = [r["days_since_reference"] for r in rows]
    return {
        "period_s": length,
        "n_periods": len(rows),
        "reference": iso(reference),
        "reference_ts": reference,
        "time_since": since,
        "span_days": max(x) - min(x),
        "periods": rows,
        "detection_slope_per_day": _slope(rows, "detection", "n_malicious"),
        "fpr_slope_per_day": _slope(rows, "fpr", "n_benign"),
        "roc_auc_slope_per_day": _slope(rows, "roc_auc", "n"),
    }


def _period_length(span_s: float, period_s: float | None) -> float:
    if period_s is not None:
        if not (isinstance(period_s, int | float) and math.isfinite(period_s) and period_s > 0):
            raise EvaluationError(
                f"period_s must be a positive number of seconds, got {period_s!r}."
            )
        length = float(period_s)
    elif span_s >= 4 * SECONDS_PER_DAY:
        length = SECONDS_PER_DAY
    elif span_s >= 4 * 3600:
        length = 3600.0
    else:
        length = max(span_s / 4, 1.0)
    if span_s / length > MAX_PERIODS:  # keep the table and the plot readable
        length = math.ceil(span_s / MAX_PERIODS / SECONDS_PER_DAY) * SECONDS_PER_DAY
    return length


def _one_period(p: int, g: pd.DataFrame, origin: float, length: float) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    yy, ss, dd = g["y"].to_numpy(), g["s"].to_numpy(), g["d"].to_numpy()
    n_mal = int(yy.sum())
    n_ben = len(yy) - n_mal
    start = origin + p * length
    return {
        "start": iso(start),
        "start_ts": start,
        "mid_ts": start + length / 2,
        "n": len(yy),
        "n_malicious": n_mal,
        "n_benign": n_ben,
        "alert_rate": float(dd.mean()),
        "detection": float(dd[yy == 1].mean()) if n_mal else None,
        "fpr": float(dd[yy == 0].mean()) if n_ben else None,
        "roc_auc": float(roc_auc_score(yy, ss)) if n_mal and n_ben else None,
    }


def _slope(rows: list[dict[str, Any]], key: str, weight: str) -> float | None:
    """Weighted least-squares slope of ``key`` per day (weights: rows behind each value)."""
    used = [r for r in rows if r[key] is not None and r[weight] > 0]
    if len(used) < MIN_PERIODS_FOR_SLOPE:
        return None
    x = np.array([r["days_since_reference"] for r in used])
    v = np.array([r[key] for r in used], dtype=np.float64)
    w = np.array([r[weight] for r in used], dtype=np.float64)
    xm = np.average(x, weights=w)
    denom = float(np.sum(w * (x - xm) ** 2))
    if denom <= 0:
        return None
    return float(np.sum(w * (x - xm) * (v - np.average(v, weights=w))) / denom)


__all__ = [
    "CAMPAIGN_GAP_S",
    "MAX_LISTED_CAMPAIGNS",
    "SECONDS_PER_DAY",
    "alert_volume",
    "as_epoch_seconds",
    "campaign_metrics",
    "iso",
    "period_metrics",
    "time_span",
]
