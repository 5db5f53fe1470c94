"""Check a :class:`~seclearn.evaluation.SplitResult` against the promise of its split.

:func:`check_no_leak` re-derives every guarantee from the data and the split's stated
parameters, not from the code that made the split, so a buggy or hand-built split is
caught: it returns one sentence per violation (an empty list means no leak).
:func:`assert_no_leak` raises :class:`~seclearn.errors.EvaluationError` instead.

Checks for every split: positions in range, no row twice on one side, no row on both
sides. Then, per kind:

- random with ``dedupe``: no feature-identical row (equal ``row_hashes``) on both sides;
- time: every training row has ``ts < cutoff - gap_s`` and its label by the cutoff
  (``ts + label_delay_s <= cutoff``), every test row ``ts >= cutoff``, no side holds a
  row without a timestamp, so ``max(train ts) < min(test ts) - gap_s``;
- group: no group value on both sides and no missing group value;
- family: the held-out family absent from training, and test holding only that family
  and benign rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from seclearn.errors import EvaluationError
from seclearn.evaluation.splits import (
    GroupSplit,
    LeaveFamilyOut,
    RandomSplit,
    SplitResult,
    TimeSplit,
    check_row_hashes,
    epoch_seconds,
    family_benign_mask,
    iso,
)

_MAX_EXAMPLES = 3


def check_no_leak(frame: pd.DataFrame, result: SplitResult, *, row_hashes: Any = None) -> list[str]:
    """Every way ``result`` breaks the promise of ``result.split`` on ``frame``; [] if none.

    ``row_hashes`` (feature-identity hash per row of ``frame``) is needed to check a
    random split with ``dedupe``; see :mod:`seclearn.evaluation.splits`.
    """
    n = len(frame)
    sides = {
        "train": np.asarray(result.train),
        "test": np.asarray(result.test),
        "train_unlabeled": np.asarray(result.train_unlabeled),
    }
    violations: list[str] = []
    for name, idx in sides.items():
        if idx.size and (idx.dtype.kind not in "iu" or idx.min() < 0 or idx.max() >= n):
            violations.append(f"{name} holds positions outside 0..{n - 1}")
            return violations
        if len(np.unique(idx)) != len(idx):
            violations.append(f"{name} holds {len(idx) - len(np.unique(idx)):,} rows twice")
    training = np.concatenate([sides["train"], sides["train_unlabeled"]]).astype(np.int64)
    both = np.intersect1d(training, sides["test"])
    if both.size:
        violations.append(f"{both.size:,} rows are on both sides (positions {_examples(both)})")
    check = _CHECKS.get(type(result.split))
    if check is None:
        for cls, fn in _CHECKS.items():
            if isinstance(result.split, cls):
                check = fn
                break
    if check is None:  # an unknown kind has no promise we can check: never report it clean
        violations.append(
            f"no leak check is known for split {type(result.split).__name__} "
            f"(kind {getattr(result.split, 'kind', '?')!r}); use one of "
            f"{', '.join(c.__name__ for c in _CHECKS)}"
        )
    else:
        violations.extend(check(frame, result, training, sides["test"], row_hashes))
    return violations


def assert_no_leak(frame: pd.DataFrame, result: SplitResult, *, row_hashes: Any = None) -> None:
    """Raise :class:`EvaluationError` listing the violations of :func:`check_no_leak`."""
    violations = check_no_leak(frame, result, row_hashes=row_hashes)
    if violations:
        raise EvaluationError(
            f"The {result.split.kind} split leaks: " + "; ".join(violations) + ". "
            "This is a bug in the split; report it with the split parameters."
        )


def _examples(values: np.ndarray) -> str:
    shown = ", ".join(str(v) for v in values[:_MAX_EXAMPLES].tolist())
    return shown + (", ..." if len(values) > _MAX_EXAMPLES else "")


def _random(
    frame: pd.DataFrame, result: SplitResult, train: np.ndarray, test: np.ndarray, row_hashes: Any
) -> list[str]:
    split = result.split
    assert isinstance(split, RandomSplit)
    if not split.dedupe:
        return []
    hashes = check_row_hashes(row_hashes, len(frame), "check_no_leak of a deduplicated split")
    shared = np.intersect1d(hashes[train], hashes[test])
    if not shared.size:
        return []
    rows = np.flatnonzero(np.isin(hashes, shared) & np.isin(np.arange(len(frame)), test))
    return [
        f"{shared.size:,} feature-identical rows are on both sides of a deduplicated split "
        f"(test positions {_examples(rows)})"
    ]


def _time(
    frame: pd.DataFrame, result: SplitResult, train: np.ndarray, test: np.ndarray, row_hashes: Any
) -> list[str]:
    split = result.split
    assert isinstance(split, TimeSplit)
    out: list[str] = []
    cutoff = result.resolved.get("cutoff_ts")
    if cutoff is None or not np.isfinite(cutoff):
        return [f"the result states no finite cutoff_ts (resolved={result.resolved})"]
    if split.cutoff_ts is not None and cutoff != float(split.cutoff_ts):
        out.append(
            f"the result's cutoff {cutoff!r} is not the split's cutoff_ts {split.cutoff_ts!r}"
        )
    if "ts" not in frame.columns:
        return [*out, "the frame has no 'ts' column"]
    ts = epoch_seconds(frame["ts"])
    gap, delay = float(split.gap_s), float(split.label_delay_s)
    for name, idx in (("train", train), ("test", test)):
        missing = idx[~np.isfinite(ts[idx])]
        if missing.size:
            out.append(
                f"{missing.size:,} {name} rows have no timestamp (positions {_examples(missing)})"
            )
    t_train, t_test = ts[train], ts[test]
    late = train[~(t_train < cutoff - gap)]
    if late.size:
        out.append(
            f"{late.size:,} training rows are at or after cutoff - gap_s = {iso(cutoff - gap)} "
            f"(positions {_examples(late)})"
        )
    early = test[~(t_test >= cutoff)]
    if early.size:
        out.append(
            f"{early.size:,} test rows are before the cutoff {iso(cutoff)} (positions {_examples(early)})"
        )
    labeled = np.asarray(result.train)
    unknown = labeled[~(ts[labeled] + delay <= cutoff)]
    if unknown.size:
        out.append(
            f"{unknown.size:,} training rows keep a label that arrives after the cutoff "
            f"(label_delay_s={delay:g}; positions {_examples(unknown)})"
        )
    finite_train, finite_test = t_train[np.isfinite(t_train)], t_test[np.isfinite(t_test)]
    if finite_train.size and finite_test.size and not finite_train.max() < finite_test.min() - gap:
        out.append(
            f"max(train ts) {finite_train.max()!r} is not before min(test ts) - gap_s "
            f"{finite_test.min() - gap!r}"
        )
    return out


def _group(
    frame: pd.DataFrame, result: SplitResult, train: np.ndarray, test: np.ndarray, row_hashes: Any
) -> list[str]:
    split = result.split
    assert isinstance(split, GroupSplit)
    if split.column not in frame.columns:
        return [f"the frame has no column {split.column!r}"]
    values = frame[split.column]
    out: list[str] = []
    for name, idx in (("train", train), ("test", test)):
        missing = idx[values.iloc[idx].isna().to_numpy()]
        if missing.size:
            out.append(
                f"{missing.size:,} {name} rows have no {split.column} (positions {_examples(missing)})"
            )
    keys = values.astype("str").to_numpy(dtype=object)
    shared = np.intersect1d(keys[train].astype(str), keys[test].astype(str))
    if shared.size:
        out.append(f"{shared.size:,} {split.column} values are on both sides ({_examples(shared)})")
    return out


def _family(
    frame: pd.DataFrame, result: SplitResult, train: np.ndarray, test: np.ndarray, row_hashes: Any
) -> list[str]:
    split = result.split
    assert isinstance(split, LeaveFamilyOut)
    if "attack_type" not in frame.columns:
        return ["the frame has no 'attack_type' column"]
    known = frame["attack_type"].notna().to_numpy()
    types = frame["attack_type"].astype("str").to_numpy(dtype=object).astype(str)
    family = known & (types == split.family)
    out: list[str] = []
    leaked = train[family[train] | ~known[train]]
    if leaked.size:
        out.append(
            f"{leaked.size:,} training rows may belong to the held-out family {split.family!r} "
            f"(positions {_examples(leaked)})"
        )
    benign = family_benign_mask(frame, types, known) & ~family
    other = test[~(family[test] | benign[test])]
    if other.size:
        out.append(
            f"{other.size:,} test rows are neither {split.family!r} nor benign (positions {_examples(other)})"
        )
    return out


_Check = Callable[[pd.DataFrame, SplitResult, np.ndarray, np.ndarray, Any], list[str]]
_CHECKS: dict[type, _Check] = {
    RandomSplit: _random,
    TimeSplit: _time,
    GroupSplit: _group,
    LeaveFamilyOut: _family,
}

__all__ = ["assert_no_leak", "check_no_leak"]
