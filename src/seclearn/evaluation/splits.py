"""Train/test splits of a labeled frame that cannot leak, and what each one promises.

Every split is a small frozen dataclass with ``split(frame) -> SplitResult`` (row
positions of each side) and ``describe()`` (its parameters, for reports):

- :class:`RandomSplit`: stratified at random after dropping feature-identical
  duplicates, so no row of the test side appears, feature for feature, in training.
- :class:`TimeSplit`: train strictly before test, with an optional gap and an
  optional label delay (training rows whose label had not arrived yet are held apart).
- :class:`GroupSplit`: no value of an entity or capture column (``src_ip``, a
  source-file column) on both sides.
- :class:`LeaveFamilyOut`: one attack family absent from training, tested against
  held-out benign rows: how does a detector do on an attack it never saw?

:func:`make_split` builds one from a CLI string (``"time:0.3,gap=1h"``), and
:func:`~seclearn.evaluation.check_no_leak` checks a :class:`SplitResult` against the
promise of its split, independently of the code that made it.

``seclearn.evaluation`` sits below ``seclearn.datasets`` (docs/architecture.md), so the
feature-identical row hashes that :class:`RandomSplit` deduplicates on are passed in
as ``row_hashes``: ``hash_rows(frame, feature_columns(frame.columns))`` from
``seclearn.datasets``. :func:`seclearn.lifecycle.split_frame` does that for you.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from seclearn.errors import ConfigError, EvaluationError
from seclearn.evaluation._split_core import (
    DEFAULT_TEST_FRACTION,
    Split,
    SplitResult,
    _bad,
    _check_fraction,
    _check_frame,
    _check_seconds,
    _check_seed,
    _labels,
    _num,
    _positions,
    _require_both_sides,
    _text,
    assign_test,
    check_row_hashes,
    epoch_seconds,
    family_benign_mask,
    iso,
    timestamps,
)


# ---------------------------------------------------------------------------- splits
@dataclass(frozen=True)
class RandomSplit:
    """Stratified random split after dropping feature-identical duplicates.

    With ``dedupe`` (the default) only the first row of each group of equal
    ``row_hashes`` is kept (the others are counted in ``dropped["duplicates"]``), so no
    test row has a feature-identical twin in training. Then ``round(test_fraction * n)``
    rows of each value of ``stratify`` go to test (``attack_type`` by default, falling
    back to ``label`` when absent; ``None`` for no stratification).
    """

    test_fraction: float = DEFAULT_TEST_FRACTION
    dedupe: bool = True
    stratify: str | None = "attack_type"
    random_state: int = 0
    kind: ClassVar[str] = "random"

    def __post_init__(self) -> None:
        _check_fraction(self, "test_fraction", self.test_fraction)
        if not isinstance(self.dedupe, bool):
            raise _bad(self, "dedupe", "True or False", self.dedupe)
        if self.stratify is not None and not isinstance(self.stratify, str):
            raise _bad(self, "stratify", "a column name or None", self.stratify)
        _check_seed(self, self.random_state)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "test_fraction": self.test_fraction,
            "dedupe": self.dedupe,
            "stratify": self.stratify,
            "random_state": self.random_state,
        }

    def spec(self) -> str:
        stratify = "none" if self.stratify is None else self.stratify
        return (
            f"random:{_num(self.test_fraction)},dedupe={str(self.dedupe).lower()},"
            f"stratify={stratify},seed={self.random_state}"
        )

    def summary(self, result: SplitResult) -> str:
        dup = result.dropped.get("duplicates", 0)
        how = f"after dropping {dup:,} feature-identical duplicates" if self.dedupe else "no dedupe"
        by = result.resolved.get("stratified_by")
        return (
            f"random {1 - self.test_fraction:.0%}/{self.test_fraction:.0%} split "
            f"({how}; stratified by {by or 'nothing'})"
        )

    def split(self, frame: pd.DataFrame, *, row_hashes: Any = None) -> SplitResult:
        """Positions of each side; ``row_hashes`` (one per row) is required with ``dedupe``."""
        n = _check_frame(frame, "RandomSplit")
        keep = np.ones(n, dtype=bool)
        if self.dedupe:
            hashes = check_row_hashes(row_hashes, n, "RandomSplit(dedupe=True)")
            keep[:] = False
            keep[np.unique(hashes, return_index=True)[1]] = True
        column = self.stratify
        if column is not None and column not in frame.columns:
            if column != "attack_type":
                raise ConfigError(
                    f"RandomSplit cannot stratify by {column!r}: no such column. "
                    f"Columns: {list(frame.columns)[:20]}. Pass stratify=None or another column."
                )
            column = "label" if "label" in frame.columns else None
        strata = _text(frame[column]) if column else np.zeros(n, dtype=str)
        kept = _positions(keep)
        rng = np.random.default_rng(self.random_state)
        is_test = assign_test(strata[kept], float(self.test_fraction), rng)
        train, test = kept[~is_test], kept[is_test]
        _require_both_sides("RandomSplit", train, test, "Use more rows or another test_fraction.")
        return SplitResult(
            split=self,
            train=train,
            test=test,
            dropped={"duplicates": int(n - len(kept))},
            resolved={"stratified_by": column},
        )


@dataclass(frozen=True)
class TimeSplit:
    """Time-ordered split: train strictly before test, with an optional gap and label delay.

    The cutoff is ``cutoff_ts`` (epoch seconds) or, when only ``test_fraction`` is
    given (default 0.3), the timestamp of the first row of the latest
    ``round(test_fraction * n)`` timestamped rows. Then, exactly:

    - test: rows with ``ts >= cutoff``;
    - training period: rows with ``ts < cutoff - gap_s``; rows in
      ``[cutoff - gap_s, cutoff)`` are dropped (``dropped["in_gap"]``);
    - a training row at time ``t`` keeps its label only if ``t + label_delay_s <= cutoff``,
      i.e. its label had arrived when the test period starts; the others go to
      ``train_unlabeled`` (dropped from training by default, see
      :meth:`SplitResult.train_frame`);
    - rows without a timestamp are dropped (``dropped["no_ts"]``).

    So ``max(train ts) < min(test ts) - gap_s`` always holds.
    """

    test_fraction: float | None = None
    cutoff_ts: float | None = None
    gap_s: float = 0.0
    label_delay_s: float = 0.0
    kind: ClassVar[str] = "time"

    def __post_init__(self) -> None:
        if self.test_fraction is not None and self.cutoff_ts is not None:
            raise ConfigError(
                "TimeSplit takes either test_fraction or cutoff_ts, not both; got "
                f"test_fraction={self.test_fraction!r} and cutoff_ts={self.cutoff_ts!r}."
            )
        if self.test_fraction is not None:
            _check_fraction(self, "test_fraction", self.test_fraction)
        if self.cutoff_ts is not None and (
            isinstance(self.cutoff_ts, bool)
            or not isinstance(self.cutoff_ts, int | float)
            or not math.isfinite(self.cutoff_ts)
        ):
            raise _bad(self, "cutoff_ts", "finite epoch seconds or None", self.cutoff_ts)
        _check_seconds(self, "gap_s", self.gap_s)
        _check_seconds(self, "label_delay_s", self.label_delay_s)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "test_fraction": self.test_fraction,
            "cutoff_ts": self.cutoff_ts,
            "gap_s": float(self.gap_s),
            "label_delay_s": float(self.label_delay_s),
        }

    def spec(self) -> str:
        if self.cutoff_ts is not None:
            head = f"time:cutoff={_num(self.cutoff_ts)}"
        else:
            head = f"time:{_num(DEFAULT_TEST_FRACTION if self.test_fraction is None else self.test_fraction)}"
        return f"{head},gap={_num(self.gap_s)}s,delay={_num(self.label_delay_s)}s"

    def summary(self, result: SplitResult) -> str:
        r = result.resolved
        text = (
            f"time-ordered: train before {iso(r['train_end_ts'])}, test from {iso(r['cutoff_ts'])}"
        )
        if self.gap_s:
            text += f" (gap {self.gap_s:g} s)"
        if self.label_delay_s:
            text += (
                f"; labels arrive {self.label_delay_s:g} s after the event, so "
                f"{len(result.train_unlabeled):,} training rows had none yet"
            )
        return text

    def split(self, frame: pd.DataFrame, *, row_hashes: Any = None) -> SplitResult:
        """Positions of each side (``row_hashes`` is ignored)."""
        _check_frame(frame, "TimeSplit")
        ts = timestamps(frame)
        finite = np.isfinite(ts)
        if self.cutoff_ts is not None:
            cutoff = float(self.cutoff_ts)
        else:
            fraction = DEFAULT_TEST_FRACTION if self.test_fraction is None else self.test_fraction
            ordered = np.sort(ts[finite])
            n_test = round(float(fraction) * len(ordered))
            if not 0 < n_test < len(ordered):
                raise EvaluationError(
                    f"TimeSplit(test_fraction={fraction}) on {len(ordered):,} timestamped rows puts "
                    f"{n_test:,} in test; both sides need rows. Use another test_fraction."
                )
            cutoff = float(ordered[len(ordered) - n_test])
        train_end = cutoff - float(self.gap_s)
        test = _positions(finite & (ts >= cutoff))
        period = _positions(finite & (ts < train_end))
        known = ts[period] + float(self.label_delay_s) <= cutoff
        train, unlabeled = period[known], period[~known]
        if len(train) == 0 and len(unlabeled):
            raise EvaluationError(
                f"TimeSplit: none of the {len(unlabeled):,} training rows has its label by the "
                f"cutoff {iso(cutoff)} with label_delay_s={self.label_delay_s:g}. "
                "Use a smaller label delay or a later cutoff."
            )
        _require_both_sides(
            "TimeSplit", train, test, f"The cutoff {iso(cutoff)} leaves one side empty."
        )
        return SplitResult(
            split=self,
            train=train,
            test=test,
            train_unlabeled=unlabeled,
            dropped={
                "no_ts": int((~finite).sum()),
                "in_gap": int((finite & (ts >= train_end) & (ts < cutoff)).sum()),
            },
            resolved={
                "cutoff_ts": cutoff,
                "train_end_ts": train_end,
                "labels_known_until_ts": cutoff - float(self.label_delay_s),
                "cutoff": iso(cutoff),
            },
        )


@dataclass(frozen=True)
class GroupSplit:
    """No value of ``column`` on both sides (an entity such as ``src_ip``, or a capture).

    Groups (distinct non-missing values) are shuffled with ``random_state`` and
    ``round(test_fraction * n_groups)`` of them go to test, separately among groups
    holding at least one malicious row and the others, so that both sides see attacks
    when at least two groups do (each stratum with two or more groups gives each side at
    least one). Rows whose group value is missing are dropped (``dropped["no_group"]``).
    """

    column: str = "src_ip"
    test_fraction: float = DEFAULT_TEST_FRACTION
    random_state: int = 0
    kind: ClassVar[str] = "group"

    def __post_init__(self) -> None:
        if not isinstance(self.column, str) or not self.column:
            raise _bad(self, "column", "a column name", self.column)
        _check_fraction(self, "test_fraction", self.test_fraction)
        _check_seed(self, self.random_state)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "column": self.column,
            "test_fraction": self.test_fraction,
            "random_state": self.random_state,
        }

    def spec(self) -> str:
        return f"group:{self.column}:{_num(self.test_fraction)},seed={self.random_state}"

    def summary(self, result: SplitResult) -> str:
        r = result.resolved
        return (
            f"grouped by {self.column}: {r['n_train_groups']:,} groups in train, "
            f"{r['n_test_groups']:,} in test, none on both sides"
        )

    def split(self, frame: pd.DataFrame, *, row_hashes: Any = None) -> SplitResult:
        """Positions of each side (``row_hashes`` is ignored)."""
        n = _check_frame(frame, "GroupSplit")
        if self.column not in frame.columns:
            raise ConfigError(
                f"GroupSplit cannot group by {self.column!r}: no such column. "
                f"Columns: {list(frame.columns)[:20]}."
            )
        present = frame[self.column].notna().to_numpy()
        keys = _text(frame[self.column])
        groups, inverse = np.unique(keys[present], return_inverse=True)
        if len(groups) < 2:
            raise EvaluationError(
                f"GroupSplit by {self.column!r} needs at least 2 distinct values; got {len(groups)}."
            )
        malicious = np.zeros(len(groups), dtype=bool)
        labels = _labels(frame)[present]
        np.logical_or.at(malicious, inverse, labels == 1)
        rng = np.random.default_rng(self.random_state)
        test_group = np.zeros(len(groups), dtype=bool)
        for flag in (False, True):
            members = np.flatnonzero(malicious == flag)
            if len(members) < 2:
                continue  # a lone group stays in training
            take = min(max(round(self.test_fraction * len(members)), 1), len(members) - 1)
            test_group[rng.permutation(members)[:take]] = True
        if not test_group.any():
            test_group[rng.integers(len(groups))] = True
        positions = _positions(present)
        is_test = test_group[inverse]
        train, test = positions[~is_test], positions[is_test]
        return SplitResult(
            split=self,
            train=train,
            test=test,
            dropped={"no_group": int(n - len(positions))},
            resolved={
                "n_train_groups": int((~test_group).sum()),
                "n_test_groups": int(test_group.sum()),
                "n_malicious_groups": int(malicious.sum()),
            },
        )


@dataclass(frozen=True)
class LeaveFamilyOut:
    """Train without one attack family; test on that family plus held-out benign rows.

    ``family`` is an exact ``attack_type`` value. Test holds every row of that family
    and ``round(benign_test_fraction * n_benign)`` benign rows chosen at random
    (benign: ``label == 0``, or ``attack_type == "benign"`` without a label column);
    training holds the other benign rows and every other family. Rows with a missing
    ``attack_type`` cannot be told apart from the family and are dropped
    (``dropped["unknown_attack_type"]``).
    """

    family: str
    benign_test_fraction: float = DEFAULT_TEST_FRACTION
    random_state: int = 0
    kind: ClassVar[str] = "family"

    def __post_init__(self) -> None:
        if not isinstance(self.family, str) or not self.family or self.family == "benign":
            raise _bad(self, "family", "an attack_type value other than 'benign'", self.family)
        _check_fraction(self, "benign_test_fraction", self.benign_test_fraction)
        _check_seed(self, self.random_state)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "family": self.family,
            "benign_test_fraction": self.benign_test_fraction,
            "random_state": self.random_state,
        }

    def spec(self) -> str:
        return (
            f"family:{self.family},benign={_num(self.benign_test_fraction)},"
            f"seed={self.random_state}"
        )

    def summary(self, result: SplitResult) -> str:
        return (
            f"leave-one-family-out: {self.family!r} absent from training; test holds its "
            f"{result.resolved['n_family']:,} rows and {result.resolved['n_benign_test']:,} "
            "held-out benign rows"
        )

    def split(self, frame: pd.DataFrame, *, row_hashes: Any = None) -> SplitResult:
        """Positions of each side (``row_hashes`` is ignored)."""
        n = _check_frame(frame, "LeaveFamilyOut")
        if "attack_type" not in frame.columns:
            raise EvaluationError(
                "LeaveFamilyOut needs an 'attack_type' column; the frame has none. "
                "Use a random, time or group split."
            )
        known = frame["attack_type"].notna().to_numpy()
        types = _text(frame["attack_type"])
        family = known & (types == self.family)
        if not family.any():
            counts = pd.Series(types[known & (types != "benign")]).value_counts()
            listing = ", ".join(f"{k} ({v:,})" for k, v in counts.head(30).items()) or "none"
            raise ConfigError(
                f"LeaveFamilyOut: no row has attack_type {self.family!r}. Attack types in the "
                f"data: {listing}."
            )
        benign = family_benign_mask(frame, types, known) & ~family
        other = known & ~family & ~benign
        benign_pos = _positions(benign)
        rng = np.random.default_rng(self.random_state)
        is_test = assign_test(np.zeros(len(benign_pos), dtype=str), self.benign_test_fraction, rng)
        test = np.sort(np.concatenate([_positions(family), benign_pos[is_test]]))
        train = np.sort(np.concatenate([_positions(other), benign_pos[~is_test]]))
        _require_both_sides(
            "LeaveFamilyOut", train, test, "The data need benign rows or other families."
        )
        return SplitResult(
            split=self,
            train=train,
            test=test,
            dropped={"unknown_attack_type": int(n - known.sum())},
            resolved={"n_family": int(family.sum()), "n_benign_test": int(is_test.sum())},
        )


__all__ = [
    "DEFAULT_TEST_FRACTION",
    "GroupSplit",
    "LeaveFamilyOut",
    "RandomSplit",
    "Split",
    "SplitResult",
    "TimeSplit",
    "assign_test",
    "check_row_hashes",
    "epoch_seconds",
    "family_benign_mask",
    "iso",
    "timestamps",
]
