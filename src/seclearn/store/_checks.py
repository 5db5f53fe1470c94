"""Argument checks shared by the store's methods; each raises ConfigError saying what was wrong."""

from __future__ import annotations

import math
import numbers
import operator
from datetime import datetime

from seclearn.errors import ConfigError

MAX_TEXT = 4096


def text(name: str, value: object, *, empty_ok: bool = False) -> str:
    """A string of at most MAX_TEXT characters (non-empty unless ``empty_ok``)."""
    if not isinstance(value, str) or (not empty_ok and not value.strip()):
        raise ConfigError(f"{name} must be a non-empty string, got {value!r}.")
    if len(value) > MAX_TEXT:
        raise ConfigError(f"{name} must be at most {MAX_TEXT} characters, got {len(value)}.")
    return value


def number(
    name: str, value: object, *, low: float | None = None, high: float | None = None
) -> float:
    """A finite real number (numpy scalars too), optionally in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be a number, got {value!r}.")
    result = float(value)
    if not math.isfinite(result):
        raise ConfigError(f"{name} must be a finite number, got {value!r}.")
    if low is not None and high is not None and not low <= result <= high:
        raise ConfigError(f"{name} must be in [{low:g}, {high:g}], got {value!r}.")
    return result


def when(name: str, value: object) -> float:
    """Epoch seconds, from a number or a time-zone-aware datetime."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ConfigError(
                f"{name} must carry a time zone (or be epoch seconds), got {value!r}."
            )
        return value.timestamp()
    return number(name, value)


def window(name: str, value: object) -> float:
    """A duration in seconds, zero or more."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0 <= float(value) < math.inf
    ):
        raise ConfigError(f"{name} must be a number of seconds >= 0, got {value!r}.")
    return float(value)


def record_id(name: str, value: object) -> int:
    """An integer row id (numpy integers too)."""
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be an integer id, got {value!r}.")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ConfigError(f"{name} must be an integer id, got {value!r}.") from None


def page(limit: object, offset: object, *, max_limit: int) -> tuple[int, int]:
    """A validated ``(limit, offset)`` pair."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= max_limit:
        raise ConfigError(f"limit must be an integer in [1, {max_limit}], got {limit!r}.")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ConfigError(f"offset must be an integer >= 0, got {offset!r}.")
    return limit, offset
