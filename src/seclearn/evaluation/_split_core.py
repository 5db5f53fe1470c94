"""The pieces every split shares: :class:`SplitResult`, the :class:`Split` protocol,
parameter checks, and the readers of ``ts``, labels and group values.

Kept apart from :mod:`seclearn.evaluation.splits` (the four splits) so that each file
holds one idea; :mod:`seclearn.evaluation._leaks` reads the data with the same helpers
only where a shared reading is the point (timestamps in seconds, what "benign" means).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from seclearn.errors import ConfigError, EvaluationError

#: Default share of rows (or groups) that go to the test side.
DEFAULT_TEST_FRACTION = 0.3


@dataclass(frozen=True)
class SplitResult:
    """Which rows of a frame each side of a split holds.

    ``train``, ``test`` and ``train_unlabeled`` are sorted ``int64`` positions (``iloc``)
    into the frame that was split; together with ``dropped`` (rows on neither side,
    counted by reason) they account for every row. ``train_unlabeled`` holds the rows
    of the training period whose labels had not arrived by the cutoff
    (:class:`TimeSplit` with ``label_delay_s``); it is empty for other splits.
    ``resolved`` holds what the split computed from the data (cutoff, groups, ...).
    """

    split: Split
    train: np.ndarray
    test: np.ndarray
    train_unlabeled: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    dropped: dict[str, int] = field(default_factory=dict)
    resolved: dict[str, Any] = field(default_factory=dict)
    row_fingerprint: str | None = None

    def describe(self) -> dict[str, Any]:
        """The split's parameters, what it resolved, and the row counts of each side.

        ``row_fingerprint`` (set by :func:`seclearn.lifecycle.split_frame`) identifies
        which rows went to which side, so that a later run can prove it made the same cut.
        """
        out = {
            **self.split.describe(),
            "spec": self.split.spec(),
            **self.resolved,
            "n_train": len(self.train),
            "n_test": len(self.test),
            "n_train_unlabeled": len(self.train_unlabeled),
            "dropped": dict(self.dropped),
            "summary": self.split.summary(self),
        }
        if self.row_fingerprint is not None:
            out["row_fingerprint"] = self.row_fingerprint
        return out

    def train_frame(
        self, frame: pd.DataFrame, *, unlabeled: Literal["drop", "mask"] = "drop"
    ) -> pd.DataFrame:
        """The training rows of ``frame``.

        ``unlabeled="drop"`` leaves out the rows whose labels had not arrived
        (``train_unlabeled``); ``"mask"`` keeps them with ``label`` and
        ``attack_type`` set to missing, as a detector in production would see them.
        """
        if unlabeled == "drop" or len(self.train_unlabeled) == 0:
            return frame.iloc[self.train]
        if unlabeled != "mask":
            raise ConfigError(f"unlabeled must be 'drop' or 'mask', got {unlabeled!r}.")
        positions = np.sort(np.concatenate([self.train, self.train_unlabeled]))
        out = frame.iloc[positions].copy()
        hidden = np.isin(positions, self.train_unlabeled)
        for column in ("label", "attack_type"):
            if column in out.columns:
                out.loc[out.index[hidden], column] = pd.NA
        return out

    def test_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The test rows of ``frame``."""
        return frame.iloc[self.test]


@runtime_checkable
class Split(Protocol):
    """A way to cut a frame into train and test rows (see the module docstring)."""

    kind: ClassVar[str]

    def split(self, frame: pd.DataFrame, *, row_hashes: Any = None) -> SplitResult:
        """Positions of the train and test rows of ``frame``."""
        ...

    def describe(self) -> dict[str, Any]:
        """The split's kind and parameters, JSON-ready."""
        ...

    def spec(self) -> str:
        """The string that :func:`~seclearn.evaluation.make_split` turns back into this split."""
        ...

    def summary(self, result: SplitResult) -> str:
        """One sentence for reports: what the split did."""
        ...


# --------------------------------------------------------------------------- helpers
def _bad(cls: object, name: str, allowed: str, got: object) -> ConfigError:
    return ConfigError(
        f"The {name!r} parameter of {type(cls).__name__} must be {allowed}. Got {got!r} instead."
    )


def _check_fraction(obj: object, name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise _bad(obj, name, "a number in (0, 1)", value)


def _check_seconds(obj: object, name: str, value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise _bad(obj, name, "a finite number of seconds >= 0", value)


def _check_seed(obj: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad(obj, "random_state", "an integer >= 0", value)


def _check_frame(frame: Any, where: str) -> int:
    if not isinstance(frame, pd.DataFrame) or len(frame) < 2:
        raise EvaluationError(
            f"{where}.split expects a DataFrame with at least 2 rows; got "
            f"{type(frame).__name__} with {len(frame) if hasattr(frame, '__len__') else '?'} rows."
        )
    return len(frame)


def _num(value: float) -> str:
    """A number as :func:`make_split` reads it back exactly: positional, no exponent."""
    return str(np.format_float_positional(float(value), trim="-"))


def _positions(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask).astype(np.int64)


def _text(values: pd.Series, missing: str = "<missing>") -> np.ndarray:
    """Values as strings, missing ones replaced by ``missing``."""
    return values.astype("str").where(values.notna(), missing).to_numpy(dtype=object).astype(str)


def _labels(frame: pd.DataFrame) -> np.ndarray:
    """``label`` as float64 (NaN = unlabeled); all NaN when the column is absent."""
    if "label" not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame["label"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def epoch_seconds(values: pd.Series) -> np.ndarray:
    """Float64 epoch seconds of a ``ts`` column, NaN where missing or not finite.

    Datetime columns are converted to seconds (``pd.to_numeric`` alone would give
    nanoseconds, and a gap of one hour would then be 3.6 microseconds).
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        when = pd.to_datetime(values, utc=True)
        ts = (when - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
        out = ts.to_numpy(dtype="float64", na_value=np.nan)
    else:
        out = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(out), out, np.nan)


def timestamps(frame: pd.DataFrame, where: str = "TimeSplit") -> np.ndarray:
    """``ts`` as float64 epoch seconds, NaN where missing; needs at least 2 distinct values."""
    if "ts" not in frame.columns:
        raise EvaluationError(
            f"{where} needs a 'ts' column (epoch seconds); the frame has {list(frame.columns)[:12]}. "
            "Use a random or group split for data without timestamps."
        )
    ts = epoch_seconds(frame["ts"])
    finite = ts[np.isfinite(ts)]
    if len(finite) < 2 or finite.min() == finite.max():
        raise EvaluationError(
            f"{where} needs at least two distinct timestamps; the frame has "
            f"{len(finite):,} rows with a timestamp out of {len(ts):,}. "
            "Use a random or group split instead."
        )
    return ts


def iso(ts: float) -> str:
    """Epoch seconds as an ISO-8601 UTC string; outside the years 1-9999, the seconds as such.

    Timestamps in milliseconds (about 1.7e12) land far past the year 9999, where
    :mod:`datetime` raises; a split or a message must not crash on them.
    """
    try:
        return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return f"{ts:.17g} epoch seconds (outside the years 1-9999; milliseconds?)"


def assign_test(strata: np.ndarray, test_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """True for the members that go to test: ``round(test_fraction * n)`` of each stratum."""
    is_test = np.zeros(len(strata), dtype=bool)
    for value in np.unique(strata):
        members = np.flatnonzero(strata == value)
        take = round(test_fraction * len(members))
        is_test[rng.permutation(members)[:take]] = True
    return is_test


def _require_both_sides(where: str, train: np.ndarray, test: np.ndarray, hint: str) -> None:
    if len(train) == 0 or len(test) == 0:
        raise EvaluationError(
            f"{where} left {len(train):,} training and {len(test):,} test rows; both sides need "
            f"rows. {hint}"
        )


def family_benign_mask(frame: pd.DataFrame, types: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Benign rows as :class:`LeaveFamilyOut` sees them: ``label == 0``, else ``attack_type == 'benign'``.

    Only rows with a known ``attack_type`` count: the others are dropped by the split.
    """
    if "label" in frame.columns:
        return known & (_labels(frame) == 0)
    return known & (types == "benign")


def check_row_hashes(row_hashes: Any, n_rows: int, where: str) -> np.ndarray:
    """``row_hashes`` as a 1-D array of ``n_rows`` values, or a :class:`EvaluationError`."""
    if row_hashes is None:
        raise EvaluationError(
            f"{where} needs row_hashes, one feature-identity hash per row: pass "
            "row_hashes=hash_rows(frame, feature_columns(frame.columns)) from seclearn.datasets, "
            "or use seclearn.lifecycle.split_frame, which does it."
        )
    hashes = np.asarray(row_hashes)
    if hashes.ndim != 1 or len(hashes) != n_rows:
        raise EvaluationError(
            f"{where}: row_hashes must hold one value per row ({n_rows:,}); got shape {hashes.shape}."
        )
    return hashes


__all__ = [
    "DEFAULT_TEST_FRACTION",
    "Split",
    "SplitResult",
    "assign_test",
    "check_row_hashes",
    "epoch_seconds",
    "family_benign_mask",
    "iso",
    "timestamps",
]
