"""Precision and recall at an analyst alert budget: :func:`budget_metrics`.

If analysts can look at ``k`` alerts a day, they look at the ``k`` highest scores of
each day. With timestamps, rows are grouped by UTC calendar day and the top ``k`` of
each day are taken; without them the whole set is treated as ``n_days`` days
(``rows / events_per_day`` when events per day are known, else one day) and its top
``k x n_days`` rows are taken. Precision is the malicious share of the rows taken,
recall the share of all malicious rows that were among them. Equal scores at the
cut are taken in row order (stable sort), so the result is deterministic.

Unlike the operating point, a budget uses no threshold: it says what the ranking is
worth to a team of a given size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seclearn.errors import EvaluationError
from seclearn.evaluation._time import SECONDS_PER_DAY

#: Alerts per day an analyst team might review, by default.
DEFAULT_ALERT_BUDGETS = (10, 50, 100, 500)


def budget_metrics(
    y: np.ndarray,
    s: np.ndarray,
    t: np.ndarray | None,
    budgets: tuple[int, ...] | list[int],
    events_per_day: float | None,
) -> dict[str, Any] | None:
    """Precision and recall of the top ``k`` scores per day, for each ``k`` in ``budgets``."""
    budgets = _check_budgets(budgets)
    if not budgets:
        return None
    finite = np.isfinite(t) if t is not None else np.zeros(len(y), dtype=bool)
    if finite.sum() >= 2 and np.ptp(t[finite]) > 0:  # type: ignore[index]
        assert t is not None
        return _per_day(y[finite], s[finite], t[finite], budgets, int((~finite).sum()))
    n_days = len(y) / events_per_day if events_per_day else 1.0
    order = np.argsort(-s, kind="stable")
    rows = []
    for k in budgets:
        taken = order[: max(1, min(len(y), round(k * n_days)))]
        rows.append(_row(k, y, taken.size, int(y[taken].sum()), n_days))
    return {
        "mode": "whole set",
        "n_days": n_days,
        "note": (
            f"no timestamps: the set stands for {n_days:.3g} days of {events_per_day:g} events"
            if events_per_day
            else "no timestamps and no events_per_day: the whole set is treated as one day"
        ),
        "rows_without_ts": len(y) if t is not None else None,
        "budgets": rows,
    }


def _per_day(
    y: np.ndarray, s: np.ndarray, t: np.ndarray, budgets: list[int], dropped: int
) -> dict[str, Any]:
    day = np.floor(t / SECONDS_PER_DAY).astype(np.int64)
    order = np.lexsort((-s, day))  # by day, then score descending (stable for ties)
    day_sorted = day[order]
    first = np.flatnonzero(np.r_[True, day_sorted[1:] != day_sorted[:-1]])
    sizes = np.diff(np.r_[first, len(order)])
    rank = np.arange(len(order)) - np.repeat(first, sizes)
    y_sorted = y[order]
    n_days = len(first)
    rows = []
    for k in budgets:
        taken = rank < k
        rows.append(_row(k, y, int(taken.sum()), int(y_sorted[taken].sum()), float(n_days)))
    return {
        "mode": "per day",
        "n_days": n_days,
        "note": "top-k scores of each UTC calendar day",
        "rows_without_ts": dropped,
        "budgets": rows,
    }


def _row(k: int, y: np.ndarray, taken: int, hits: int, n_days: float) -> dict[str, Any]:
    n_mal = int(y.sum())
    return {
        "k_per_day": k,
        "alerts": taken,
        "true_alerts": hits,
        "alerts_per_day": taken / n_days if n_days else None,
        "precision": hits / taken if taken else None,
        "recall": hits / n_mal if n_mal else None,
    }


def _check_budgets(budgets: Any) -> list[int]:
    try:
        values = list(budgets)
    except TypeError:
        raise EvaluationError(
            f"alert_budgets must be a list of positive integers (alerts per day), got {budgets!r}."
        ) from None
    for k in values:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise EvaluationError(
                f"alert_budgets must hold positive integers (alerts per day), got {k!r}."
            )
    return sorted({int(k) for k in values})


__all__ = ["DEFAULT_ALERT_BUDGETS", "budget_metrics"]
