"""Performance over time on labeled events: per-window precision and recall, ADWIN change points.

Two error streams are watched in time order with :class:`river.drift.ADWIN`: among
events labeled malicious, 1 for a miss (a rise means recall fell); among events labeled
benign, 1 for an alert (a rise means the false-positive rate rose). Both are
conditional on the true class, so they do not move when only the share of attacks
changes; precision does, so it is reported per window but not watched. A change point
is reported with the event's window and ``ts`` and the error rate before and after; it
counts as *performance drift* only when the error rate rose by at least
``min_error_change`` (absolute).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y = np.ones(4000)
>>> decision = np.r_[rng.random(2000) < 0.9, rng.random(2000) < 0.3]  # recall 0.9 -> 0.3
>>> changes = change_points(y, decision, ts=np.arange(4000.0), window_ids=np.arange(4000) // 500)
>>> changes[0].stream, changes[0].degraded, 1800 <= changes[0].event <= 2000 < changes[0].detected_at < 2400
('miss', True, True)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from river.drift import ADWIN

#: ADWIN's confidence: a lower value means fewer and later detections.
DEFAULT_DELTA = 0.002
#: Fewer labeled events than this in a stream: it is not watched.
MIN_EVENTS = 30
#: A change point is a degradation when the error rate rose by at least this much.
MIN_ERROR_CHANGE = 0.02


@dataclass(frozen=True)
class ChangePoint:
    """A change in one error stream, found at event number ``event`` (in time order)."""

    stream: str  # "miss" (1 - recall) or "false_positive" (false-positive rate)
    event: int  # where the new regime starts (ADWIN's cut, to its bucket granularity)
    detected_at: int
    window: int
    ts: float | None
    error_before: float
    error_after: float
    degraded: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def window_performance(y: np.ndarray, decision: np.ndarray) -> dict[str, Any]:
    """Precision and recall of ``decision`` on the rows with a known label ``y`` (NaN unknown)."""
    known = ~np.isnan(y)
    yk, dk = y[known] == 1, decision[known]
    tp = int((yk & dk).sum())
    fp = int((~yk & dk).sum())
    fn = int((yk & ~dk).sum())
    return {
        "n_labeled": int(known.sum()),
        "n_malicious": int(yk.sum()),
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
    }


def _watch(
    name: str,
    errors: np.ndarray,
    positions: np.ndarray,
    ts: np.ndarray | None,
    window_ids: np.ndarray,
    delta: float,
    min_error_change: float,
) -> list[ChangePoint]:
    if len(errors) < MIN_EVENTS:
        return []
    detector = ADWIN(delta=delta)
    found: list[ChangePoint] = []
    start = 0  # first event of the current regime
    for i, e in enumerate(errors):
        detector.update(float(e))
        if detector.drift_detected:
            width = int(detector.width)
            cut = max(start, i + 1 - width)
            before = float(errors[start:cut].mean()) if cut > start else float("nan")
            after = float(detector.estimation)
            row = int(positions[i])
            found.append(
                ChangePoint(
                    stream=name,
                    event=int(cut),
                    detected_at=i,
                    window=int(window_ids[row]),
                    ts=None if ts is None or np.isnan(ts[row]) else float(ts[row]),
                    error_before=before,
                    error_after=after,
                    degraded=bool(after - before >= min_error_change),
                )
            )
            start = cut
    return found


def change_points(
    y: np.ndarray,
    decision: np.ndarray,
    *,
    ts: np.ndarray | None,
    window_ids: np.ndarray,
    delta: float = DEFAULT_DELTA,
    min_error_change: float = MIN_ERROR_CHANGE,
) -> list[ChangePoint]:
    """ADWIN change points of the miss and false-positive streams of rows in time order.

    ``y`` holds 1/0 labels or NaN (unknown), ``decision`` the model's alerts. The
    ``window`` and ``ts`` of a change point are those of the event at which ADWIN
    noticed it (``detected_at``); ``event`` is where the new regime starts in its stream.
    """
    y = np.asarray(y, dtype=np.float64)
    decision = np.asarray(decision, dtype=bool)
    malicious, benign = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    return [
        *_watch("miss", ~decision[malicious], malicious, ts, window_ids, delta, min_error_change),
        *_watch(
            "false_positive", decision[benign], benign, ts, window_ids, delta, min_error_change
        ),
    ]


__all__ = [
    "DEFAULT_DELTA",
    "MIN_ERROR_CHANGE",
    "MIN_EVENTS",
    "ChangePoint",
    "change_points",
    "window_performance",
]
