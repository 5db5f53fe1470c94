"""Cutting monitored data into windows: by time (``"1h"``, ``"1d"``) or by rows (``"rows:5000"``).

>>> import numpy as np
>>> spec = parse_window("30m")
>>> spec.kind, spec.size
('time', 1800.0)
>>> ids, bounds = assign_windows(spec, 5, ts=np.array([0.0, 10.0, 1900.0, 5500.0, 5600.0]))
>>> ids.tolist(), len(bounds)
([0, 0, 1, 3, 3], 4)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

from seclearn.errors import ConfigError

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}
_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_ROWS = re.compile(r"^\s*rows\s*:\s*(\d+)\s*$")
#: At most this many windows per run (a guard against "1s" over a month of data).
MAX_WINDOWS = 10_000
DEFAULT_WINDOW = "1d"


@dataclass(frozen=True)
class WindowSpec:
    """How to cut data: ``kind="time"`` with ``size`` seconds, or ``"rows"`` with ``size`` rows."""

    kind: Literal["time", "rows"]
    size: float
    text: str


def parse_window(text: str) -> WindowSpec:
    """Parse ``"1h"``, ``"30m"``, ``"1d"``, ``"2w"``, ``"900s"`` or ``"rows:5000"``."""
    if isinstance(text, str):
        m = _TIME.match(text)
        if m and float(m.group(1)) > 0:
            return WindowSpec("time", float(m.group(1)) * _UNITS[m.group(2)], text.strip())
        m = _ROWS.match(text)
        if m and int(m.group(1)) > 0:
            return WindowSpec("rows", float(int(m.group(1))), text.strip())
    raise ConfigError(
        f"Invalid window {text!r}: expected a duration such as '1h', '30m', '1d' or '900s' "
        "(windows by time, needs a ts column) or 'rows:5000' (windows of that many rows)."
    )


def assign_windows(
    spec: WindowSpec, n: int, ts: np.ndarray | None = None
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Window index of each of ``n`` rows (in order) and each window's (start, end).

    Time windows start at the first ``ts`` and are half-open ``[start, end)``; windows
    with no rows inside the data's time range are kept (they are reported as empty).
    Row windows hold ``size`` consecutive rows (the last may hold fewer); their bounds
    are row positions. Rows without a ``ts`` go to the window of the previous row.
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64), []
    if spec.kind == "rows":
        size = int(spec.size)
        ids = np.arange(n, dtype=np.int64) // size
        count = int(ids[-1]) + 1
        if count > MAX_WINDOWS:
            raise ConfigError(
                f"window {spec.text!r} cuts {n:,} rows into {count:,} windows, more than "
                f"{MAX_WINDOWS:,}; use larger windows."
            )
        return ids, [(float(i * size), float(min((i + 1) * size, n))) for i in range(count)]
    if ts is None:
        raise ConfigError(
            f"window {spec.text!r} cuts by time, but the data has no 'ts' column; "
            "use a row window such as 'rows:5000'."
        )
    t = np.asarray(ts, dtype=np.float64)
    if np.isnan(t).all():
        raise ConfigError(
            f"window {spec.text!r} cuts by time, but no row has a 'ts' value; "
            "use a row window such as 'rows:5000'."
        )
    t = _forward_fill(t)
    t0 = float(t[0])
    ids = np.floor((t - t0) / spec.size).astype(np.int64)
    ids = np.maximum.accumulate(np.maximum(ids, 0))  # rows are in time order
    count = int(ids[-1]) + 1
    if count > MAX_WINDOWS:
        raise ConfigError(
            f"window {spec.text!r} cuts {t[-1] - t0:,.0f} seconds of data into {count:,} windows, "
            f"more than {MAX_WINDOWS:,}; use a longer window."
        )
    return ids, [(t0 + i * spec.size, t0 + (i + 1) * spec.size) for i in range(count)]


def _forward_fill(t: np.ndarray) -> np.ndarray:
    first = int(np.flatnonzero(~np.isnan(t))[0])
    t = t.copy()
    t[:first] = t[first]
    idx = np.where(np.isnan(t), 0, np.arange(len(t)))
    return t[np.maximum.accumulate(idx)]


__all__ = ["DEFAULT_WINDOW", "MAX_WINDOWS", "WindowSpec", "assign_windows", "parse_window"]
