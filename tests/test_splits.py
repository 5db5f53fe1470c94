"""Leak-proof splits: each keeps its promise, and check_no_leak catches every planted leak.

Three kinds of tests:

- property tests (hypothesis) run every split over generated frames (duplicated rows, tied
  and missing timestamps, one to six groups, missing group values, attack families absent
  or unlabeled) and compare the result with the rule in the split's docstring, then with
  :func:`check_no_leak`;
- planted leaks corrupt a correct result in one way each; :func:`check_no_leak` must name
  the leak and :func:`assert_no_leak` must raise, so a checker that always says "clean"
  fails this file;
- :func:`make_split` parses every documented form, and bad specs or degenerate frames raise
  the declared errors with a message that says how to fix them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from seclearn.datasets import feature_columns, hash_rows
from seclearn.errors import ConfigError, EvaluationError
from seclearn.evaluation import (
    GroupSplit,
    LeaveFamilyOut,
    RandomSplit,
    Split,
    SplitResult,
    TimeSplit,
    assert_no_leak,
    check_no_leak,
    make_split,
)

ATTACK_TYPES = ("benign", "dos", "scan", "brute")
#: Frames with datetime timestamps count their seconds from here.
BASE_S = 1_700_000_000
PROPERTY = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
fractions = st.floats(min_value=0.05, max_value=0.95)
seeds = st.integers(min_value=0, max_value=10_000)


# ------------------------------------------------------------------------ generated frames
@st.composite
def flow_frames(
    draw: st.DrawFn, *, require_types: bool = False, min_types: int = 1
) -> pd.DataFrame:
    """2 to 40 flows with few feature values (so many duplicates), tied timestamps in 0..20 s,
    one to six groups, and optionally missing timestamps, groups, attack types and labels."""
    n = draw(st.integers(min_value=2, max_value=40))
    n_groups = draw(st.integers(min_value=1, max_value=6))
    types = draw(
        st.lists(st.sampled_from(ATTACK_TYPES), min_size=min_types, max_size=4, unique=True)
    )
    missing_ts, missing_group, missing_type, unlabeled = (draw(st.booleans()) for _ in range(4))
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, 3),  # bytes
                st.integers(0, 2),  # pkts
                st.integers(-1 if missing_ts else 0, 20),  # ts offset, -1 = missing
                st.integers(-1 if missing_group else 0, n_groups - 1),  # group, -1 = missing
                st.sampled_from([*types, None] if missing_type else types),
                st.integers(0, 9),  # 0 = unlabeled when allowed; parity labels unknown types
            ),
            min_size=n,
            max_size=n,
        )
    )
    offsets = [np.nan if r[2] < 0 else float(r[2]) for r in rows]
    ts_kind = draw(st.sampled_from(["int", "float", "datetime", "datetime_utc"]))
    if ts_kind == "int":
        ts = pd.array([None if np.isnan(o) else int(o) for o in offsets], dtype="Int64")
    elif ts_kind == "float":
        ts = pd.array(offsets, dtype="float64")
    else:
        ts = pd.to_datetime(
            [BASE_S + o for o in offsets], unit="s", utc=ts_kind == "datetime_utc"
        ).array
    labels = []
    for *_, attack, mode in rows:
        label = float(mode % 2) if attack is None else float(attack != "benign")
        labels.append(np.nan if unlabeled and mode == 0 else label)
    frame = pd.DataFrame(
        {
            "ts": ts,
            "src_ip": [None if r[3] < 0 else f"10.0.0.{r[3]}" for r in rows],
            "meta_capture": [np.nan if r[3] < 0 else float(r[3]) for r in rows],
            "bytes": [r[0] for r in rows],
            "pkts": [r[1] for r in rows],
            "attack_type": [r[4] for r in rows],
            "label": labels,
        }
    )
    if not draw(st.booleans()):
        frame = frame.drop(columns="label")
    if not require_types and not draw(st.booleans()):
        frame = frame.drop(columns="attack_type")
    return frame


def _row_hashes(frame: pd.DataFrame) -> np.ndarray:
    return hash_rows(frame, feature_columns(frame.columns))


def _seconds(frame: pd.DataFrame) -> np.ndarray:
    """``ts`` as float epoch seconds, NaN where missing (computed here, not by the split code)."""
    ts = frame["ts"]
    if pd.api.types.is_datetime64_any_dtype(ts):
        origin = pd.Timestamp(0, tz=ts.dt.tz)
        return ((ts - origin) / pd.Timedelta(seconds=1)).to_numpy(dtype=float, na_value=np.nan)
    return ts.to_numpy(dtype=float, na_value=np.nan)


def _labels(frame: pd.DataFrame) -> np.ndarray:
    if "label" not in frame.columns:
        return np.full(len(frame), np.nan)
    return frame["label"].to_numpy(dtype=float, na_value=np.nan)


def _rows(mask: np.ndarray) -> set[int]:
    return set(np.flatnonzero(mask).tolist())


def _assert_accounts_for_every_row(frame: pd.DataFrame, result: SplitResult) -> None:
    """Sorted unique int64 positions, no row on two sides, every row on a side or dropped."""
    sides = (result.train, result.test, result.train_unlabeled)
    for side in sides:
        assert side.dtype == np.int64
        assert np.all(np.diff(side) > 0)  # sorted, no row twice
    seen = np.concatenate(sides)
    assert len(np.unique(seen)) == len(seen)
    assert len(seen) + sum(result.dropped.values()) == len(frame)
    assert len(result.train) > 0 and len(result.test) > 0


def _assert_clean(frame: pd.DataFrame, result: SplitResult, row_hashes: object = None) -> None:
    assert check_no_leak(frame, result, row_hashes=row_hashes) == []
    assert_no_leak(frame, result, row_hashes=row_hashes)


# ------------------------------------------------------------------------ property tests
@PROPERTY
@given(
    frame=flow_frames(),
    test_fraction=fractions,
    dedupe=st.booleans(),
    stratify=st.sampled_from(["attack_type", "label", None]),
    seed=seeds,
)
def test_random_split_keeps_twins_on_one_side_and_stratifies(
    frame: pd.DataFrame, test_fraction: float, dedupe: bool, stratify: str | None, seed: int
) -> None:
    split = RandomSplit(
        test_fraction=test_fraction, dedupe=dedupe, stratify=stratify, random_state=seed
    )
    hashes = _row_hashes(frame)
    before = frame.copy()
    if stratify == "label" and "label" not in frame.columns:
        with pytest.raises(ConfigError, match=r"cannot stratify by 'label'"):
            split.split(frame, row_hashes=hashes)
        event("declared error")
        return
    kept = np.zeros(len(frame), dtype=bool)
    kept[np.unique(hashes, return_index=True)[1] if dedupe else slice(None)] = True
    column = stratify
    if column == "attack_type" and column not in frame.columns:
        column = "label" if "label" in frame.columns else None
    by = frame[column] if column else pd.Series(0, index=frame.index)
    stratum_sizes = by[kept].groupby(by[kept], dropna=False).size()
    n_test = sum(round(test_fraction * size) for size in stratum_sizes)
    if not 0 < n_test < kept.sum():
        with pytest.raises(EvaluationError, match="both sides need rows"):
            split.split(frame, row_hashes=hashes)
        event("declared error")
        return

    result = split.split(frame, row_hashes=hashes)

    pd.testing.assert_frame_equal(frame, before)
    _assert_clean(frame, result, hashes)
    _assert_accounts_for_every_row(frame, result)
    assert set(result.train) | set(result.test) == _rows(kept)
    assert result.dropped == {"duplicates": int(len(frame) - kept.sum())}
    assert result.resolved["stratified_by"] == column
    if dedupe:
        assert not set(hashes[result.train]) & set(hashes[result.test])
    test_by = by.iloc[result.test]
    test_sizes = test_by.groupby(test_by, dropna=False).size()
    for value, size in stratum_sizes.items():
        in_test = test_sizes.get(value, 0) if not pd.isna(value) else test_by.isna().sum()
        assert abs(in_test - test_fraction * size) <= 0.5 + 1e-9, (value, in_test, size)
    again = split.split(frame, row_hashes=hashes)
    assert np.array_equal(again.test, result.test)  # seeded: the same cut every time


@PROPERTY
@given(
    frame=flow_frames(),
    test_fraction=st.one_of(st.none(), fractions),
    cutoff_offset=st.floats(min_value=-2, max_value=22),
    gap_s=st.sampled_from([0.0, 1.0, 2.5, 6.0]),
    label_delay_s=st.sampled_from([0.0, 1.0, 3.0, 30.0]),
    use_cutoff=st.booleans(),
)
def test_time_split_trains_strictly_before_test_minus_gap_with_labels_known(
    frame: pd.DataFrame,
    test_fraction: float | None,
    cutoff_offset: float,
    gap_s: float,
    label_delay_s: float,
    use_cutoff: bool,
) -> None:
    base = BASE_S if pd.api.types.is_datetime64_any_dtype(frame["ts"]) else 0
    cutoff_ts = base + cutoff_offset if use_cutoff else None
    split = TimeSplit(
        test_fraction=None if use_cutoff else test_fraction,
        cutoff_ts=cutoff_ts,
        gap_s=gap_s,
        label_delay_s=label_delay_s,
    )
    before = frame.copy()
    ts = _seconds(frame)
    finite = ~np.isnan(ts)
    if len(np.unique(ts[finite])) < 2:
        with pytest.raises(EvaluationError, match="at least two distinct timestamps"):
            split.split(frame)
        event("declared error")
        return
    if cutoff_ts is None:
        ordered = np.sort(ts[finite])
        n_test = round((0.3 if test_fraction is None else test_fraction) * len(ordered))
        if not 0 < n_test < len(ordered):
            with pytest.raises(EvaluationError, match="both sides need rows"):
                split.split(frame)
            event("declared error")
            return
        cutoff = float(ordered[len(ordered) - n_test])
    else:
        cutoff = float(cutoff_ts)
    test = finite & (ts >= cutoff)
    period = finite & (ts < cutoff - gap_s)
    known = period & (ts + label_delay_s <= cutoff)
    if not known.any() or not test.any():
        with pytest.raises(EvaluationError):
            split.split(frame)
        event("declared error")
        return

    result = split.split(frame)

    pd.testing.assert_frame_equal(frame, before)
    _assert_clean(frame, result)
    _assert_accounts_for_every_row(frame, result)
    assert result.resolved["cutoff_ts"] == cutoff
    assert set(result.test) == _rows(test)
    assert set(result.train) == _rows(known)
    assert set(result.train_unlabeled) == _rows(period & ~known)
    assert result.dropped == {
        "no_ts": int((~finite).sum()),
        "in_gap": int((finite & ~period & ~test).sum()),
    }
    training = np.concatenate([result.train, result.train_unlabeled])
    assert ts[training].max() < ts[result.test].min() - gap_s
    assert np.all(ts[result.train] + label_delay_s <= cutoff)
    assert np.all(ts[result.train_unlabeled] + label_delay_s > cutoff)
    masked = result.train_frame(frame, unlabeled="mask")
    assert len(result.train_frame(frame)) == len(result.train)
    assert len(masked) == len(training)
    if "label" in frame.columns:
        hidden = masked.index.isin(frame.index[result.train_unlabeled])
        assert masked["label"][hidden].isna().all()


@PROPERTY
@given(
    frame=flow_frames(),
    column=st.sampled_from(["src_ip", "meta_capture"]),
    test_fraction=fractions,
    seed=seeds,
)
def test_group_split_puts_no_group_on_both_sides_and_attacks_on_both_when_it_can(
    frame: pd.DataFrame, column: str, test_fraction: float, seed: int
) -> None:
    split = GroupSplit(column=column, test_fraction=test_fraction, random_state=seed)
    before = frame.copy()
    values = frame[column]
    present = values.notna().to_numpy()
    if values.nunique(dropna=True) < 2:
        with pytest.raises(EvaluationError, match="at least 2 distinct values"):
            split.split(frame)
        event("declared error")
        return

    result = split.split(frame)

    pd.testing.assert_frame_equal(frame, before)
    _assert_clean(frame, result)
    _assert_accounts_for_every_row(frame, result)
    assert set(result.train) | set(result.test) == _rows(present)
    assert result.dropped == {"no_group": int((~present).sum())}
    train_groups = set(values.iloc[result.train])
    test_groups = set(values.iloc[result.test])
    assert not train_groups & test_groups
    malicious = set(values[_labels(frame) == 1].dropna())
    any_stratum_split = False
    for stratum in (malicious, set(values.dropna()) - malicious):
        k = len(stratum)
        if k >= 2:
            any_stratum_split = True
            expected = min(max(round(test_fraction * k), 1), k - 1)
            assert len(stratum & test_groups) == expected
            assert stratum & train_groups  # both sides see this kind of group
    if not any_stratum_split:  # no stratum can be cut: one group goes to test
        assert len(test_groups) == 1
    assert result.resolved["n_test_groups"] == len(test_groups)
    assert result.resolved["n_train_groups"] == len(train_groups)


@PROPERTY
@given(
    frame=flow_frames(require_types=True, min_types=2),
    data=st.data(),
    benign_test_fraction=fractions,
    seed=seeds,
)
def test_leave_family_out_keeps_the_family_out_of_training(
    frame: pd.DataFrame, data: st.DataObject, benign_test_fraction: float, seed: int
) -> None:
    present = sorted(set(frame["attack_type"].dropna()) - {"benign"})
    absent = not present or data.draw(st.integers(0, 9), label="absent") == 0
    family = "web" if absent else data.draw(st.sampled_from(present), label="family")
    split = LeaveFamilyOut(
        family=family, benign_test_fraction=benign_test_fraction, random_state=seed
    )
    before = frame.copy()
    types = frame["attack_type"]
    known = types.notna().to_numpy()
    held_out = known & (types == family).to_numpy()
    if "label" in frame.columns:  # benign as documented: label == 0, else attack_type
        benign = known & (_labels(frame) == 0) & ~held_out
    else:
        benign = known & (types == "benign").to_numpy()
    other = known & ~held_out & ~benign
    n_benign_test = round(benign_test_fraction * benign.sum())
    if not held_out.any():
        with pytest.raises(ConfigError, match=f"no row has attack_type '{family}'"):
            split.split(frame)
        event("declared error: family absent")
        return
    if other.sum() + benign.sum() - n_benign_test == 0:
        with pytest.raises(EvaluationError, match="both sides need rows"):
            split.split(frame)
        event("declared error")
        return

    result = split.split(frame)

    pd.testing.assert_frame_equal(frame, before)
    _assert_clean(frame, result)
    _assert_accounts_for_every_row(frame, result)
    train, test = set(result.train), set(result.test)
    assert _rows(held_out) <= test and not _rows(held_out) & train
    assert _rows(other) <= train
    assert test - _rows(held_out) <= _rows(benign)
    assert len(test & _rows(benign)) == n_benign_test
    assert train | test == _rows(known)
    assert result.dropped == {"unknown_attack_type": int((~known).sum())}


@PROPERTY
@given(
    split=st.one_of(
        st.builds(
            RandomSplit,
            test_fraction=st.floats(0, 1, exclude_min=True, exclude_max=True),
            dedupe=st.booleans(),
            stratify=st.sampled_from(["attack_type", "label", "meta_capture", None]),
            random_state=seeds,
        ),
        st.builds(
            TimeSplit,
            test_fraction=st.floats(0, 1, exclude_min=True, exclude_max=True),
            gap_s=st.floats(0, 1e9),
            label_delay_s=st.floats(0, 1e9),
        ),
        st.builds(
            TimeSplit,
            cutoff_ts=st.floats(-1e10, 1e10),
            gap_s=st.floats(0, 1e9),
            label_delay_s=st.floats(0, 1e9),
        ),
        st.builds(
            GroupSplit,
            column=st.sampled_from(["src_ip", "dst_ip", "meta_source_file"]),
            test_fraction=st.floats(0, 1, exclude_min=True, exclude_max=True),
            random_state=seeds,
        ),
        st.builds(
            LeaveFamilyOut,
            family=st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,12}", fullmatch=True).filter(
                lambda name: name != "benign"
            ),
            benign_test_fraction=st.floats(0, 1, exclude_min=True, exclude_max=True),
            random_state=seeds,
        ),
    )
)
def test_make_split_reads_back_every_spec_exactly(split: Split) -> None:
    assert make_split(split.spec()) == split


# ------------------------------------------------------------------------ planted leaks
def _flows(n: int = 40) -> pd.DataFrame:
    """Timestamps 0, 10, ..., eight hosts, two attack families, every feature row twice."""
    types = np.array(["benign", "benign", "dos", "benign", "scan"] * (n // 5))
    return pd.DataFrame(
        {
            "ts": np.arange(n, dtype=float) * 10.0,
            "src_ip": [f"10.0.0.{i % 8}" for i in range(n)],
            "bytes": np.arange(n) // 2,  # rows 2k and 2k + 1 are feature-identical
            "pkts": np.ones(n, dtype=int),
            "attack_type": types,
            "label": (types != "benign").astype(int),
        }
    )


def _planted(result: SplitResult, **sides: list[int] | np.ndarray) -> SplitResult:
    return dataclasses.replace(
        result, **{name: np.sort(np.asarray(rows, dtype=np.int64)) for name, rows in sides.items()}
    )


def _assert_reported(
    frame: pd.DataFrame, planted: SplitResult, fragment: str, row_hashes: object = None
) -> None:
    violations = check_no_leak(frame, planted, row_hashes=row_hashes)
    assert any(fragment in v for v in violations), violations
    with pytest.raises(EvaluationError, match=f"The {planted.split.kind} split leaks"):
        assert_no_leak(frame, planted, row_hashes=row_hashes)


def _clean(frame: pd.DataFrame, split: Split, row_hashes: object = None) -> SplitResult:
    result = split.split(frame, row_hashes=row_hashes)
    _assert_clean(frame, result, row_hashes)
    return result


def test_planted_duplicate_of_a_test_row_in_train_is_reported() -> None:
    frame = _flows()
    hashes = _row_hashes(frame)
    result = _clean(frame, RandomSplit(random_state=1), hashes)
    victim = int(result.test[0])
    twin = victim ^ 1  # the dropped feature-identical partner
    assert hashes[twin] == hashes[victim] and twin not in result.train
    planted = _planted(result, train=[*result.train, twin])
    _assert_reported(frame, planted, "feature-identical rows are on both sides", hashes)


def test_planted_test_row_earlier_than_the_last_train_row_is_reported() -> None:
    frame = _flows()
    result = _clean(frame, TimeSplit(test_fraction=0.25))
    moved = frame.copy()
    moved.loc[moved.index[result.test[0]], "ts"] = frame["ts"].iloc[result.train].max() - 1.0
    _assert_reported(moved, result, "test rows are before the cutoff")
    _assert_reported(moved, result, "is not before min(test ts)")


def test_planted_test_row_in_the_gap_is_reported() -> None:
    frame = _flows()
    result = _clean(frame, TimeSplit(test_fraction=0.25, gap_s=35.0))
    assert result.dropped["in_gap"] > 0
    moved = frame.copy()
    moved.loc[moved.index[result.test[0]], "ts"] = result.resolved["cutoff_ts"] - 5.0
    _assert_reported(moved, result, "test rows are before the cutoff")
    _assert_reported(moved, result, "is not before min(test ts) - gap_s")


def test_planted_gap_row_in_train_is_reported() -> None:
    frame = _flows()
    result = _clean(frame, TimeSplit(test_fraction=0.25, gap_s=35.0))
    ts = frame["ts"].to_numpy()
    in_gap = np.flatnonzero((ts >= result.resolved["train_end_ts"]) & (ts < 300.0))
    planted = _planted(result, train=[*result.train, in_gap[0]])
    _assert_reported(frame, planted, "training rows are at or after cutoff - gap_s")


def test_planted_latest_train_row_in_test_is_reported() -> None:
    frame = _flows()
    result = _clean(frame, TimeSplit(test_fraction=0.25))
    last = int(result.train[-1])
    planted = _planted(result, train=result.train[:-1], test=[*result.test, last])
    _assert_reported(frame, planted, "test rows are before the cutoff")


def test_planted_label_that_arrives_after_the_cutoff_is_reported() -> None:
    frame = _flows()
    result = _clean(frame, TimeSplit(test_fraction=0.25, label_delay_s=45.0))
    assert len(result.train_unlabeled) > 0
    late = int(result.train_unlabeled[-1])
    planted = _planted(
        result, train=[*result.train, late], train_unlabeled=result.train_unlabeled[:-1]
    )
    _assert_reported(frame, planted, "keep a label that arrives after the cutoff")


def test_planted_row_without_timestamp_in_train_is_reported() -> None:
    frame = _flows()
    frame.loc[3, "ts"] = np.nan
    result = _clean(frame, TimeSplit(test_fraction=0.25))
    assert result.dropped["no_ts"] == 1
    planted = _planted(result, train=[*result.train, 3])
    _assert_reported(frame, planted, "train rows have no timestamp")


def test_planted_cutoff_other_than_the_splits_is_reported() -> None:
    frame = _flows()
    result = _clean(frame, TimeSplit(cutoff_ts=300.0))
    planted = dataclasses.replace(result, resolved={**result.resolved, "cutoff_ts": 250.0})
    _assert_reported(frame, planted, "is not the split's cutoff_ts")


def test_planted_group_on_both_sides_is_reported() -> None:
    frame = _flows()
    result = _clean(frame, GroupSplit(column="src_ip"))
    moved = int(result.test[0])
    planted = _planted(result, train=[*result.train, moved], test=result.test[1:])
    _assert_reported(frame, planted, "src_ip values are on both sides")


def test_planted_row_without_group_in_train_is_reported() -> None:
    frame = _flows()
    frame.loc[5, "src_ip"] = None
    result = _clean(frame, GroupSplit(column="src_ip"))
    assert result.dropped["no_group"] == 1
    planted = _planted(result, train=[*result.train, 5])
    _assert_reported(frame, planted, "train rows have no src_ip")


def test_planted_held_out_family_row_in_train_is_reported() -> None:
    frame = _flows()
    result = _clean(frame, LeaveFamilyOut(family="dos"))
    dos = int(np.flatnonzero(frame["attack_type"] == "dos")[0])
    planted = _planted(result, train=[*result.train, dos], test=result.test[result.test != dos])
    _assert_reported(frame, planted, "training rows may belong to the held-out family 'dos'")


def test_planted_row_of_unknown_family_in_train_is_reported() -> None:
    frame = _flows()
    frame.loc[7, "attack_type"] = None
    result = _clean(frame, LeaveFamilyOut(family="dos"))
    assert result.dropped["unknown_attack_type"] == 1
    planted = _planted(result, train=[*result.train, 7])
    _assert_reported(frame, planted, "may belong to the held-out family")


def test_planted_other_family_row_in_test_is_reported() -> None:
    frame = _flows()
    result = _clean(frame, LeaveFamilyOut(family="dos"))
    scan = int(np.flatnonzero(frame["attack_type"] == "scan")[0])
    planted = _planted(result, train=result.train[result.train != scan], test=[*result.test, scan])
    _assert_reported(frame, planted, "test rows are neither 'dos' nor benign")


@pytest.mark.parametrize(
    "split",
    [
        RandomSplit(dedupe=False),
        TimeSplit(),
        GroupSplit(column="src_ip"),
        LeaveFamilyOut(family="dos"),
    ],
    ids=lambda s: s.kind,
)
def test_planted_row_on_both_sides_is_reported_for_every_split(split: Split) -> None:
    frame = _flows()
    result = _clean(frame, split)
    planted = _planted(result, test=[*result.test, result.train[0]])
    _assert_reported(frame, planted, "rows are on both sides")


def test_planted_position_outside_the_frame_is_reported() -> None:
    frame = _flows()
    result = _clean(frame, RandomSplit(dedupe=False))
    planted = _planted(result, test=[*result.test, len(frame)])
    _assert_reported(frame, planted, "test holds positions outside 0..39")


def test_planted_row_twice_on_one_side_is_reported() -> None:
    frame = _flows()
    result = _clean(frame, RandomSplit(dedupe=False))
    planted = dataclasses.replace(result, train=np.r_[result.train, result.train[:1]])
    _assert_reported(frame, planted, "train holds 1 rows twice")


def test_a_split_of_unknown_kind_is_never_reported_clean() -> None:
    @dataclasses.dataclass(frozen=True)
    class HalfSplit:
        kind = "half"

    frame = _flows()
    result = dataclasses.replace(_clean(frame, RandomSplit(dedupe=False)), split=HalfSplit())  # type: ignore[arg-type]
    _assert_reported(frame, result, "no leak check is known for split HalfSplit")


@PROPERTY
@given(frame=flow_frames(), gap_s=st.sampled_from([0.0, 2.0]), pick=st.integers(0, 10_000))
def test_any_test_row_moved_into_time_training_is_reported(
    frame: pd.DataFrame, gap_s: float, pick: int
) -> None:
    try:
        result = TimeSplit(gap_s=gap_s).split(frame)
    except EvaluationError:  # degenerate frames are covered by the property test above
        event("declared error")
        return
    moved = int(result.test[pick % len(result.test)])
    planted = _planted(result, train=[*result.train, moved], test=result.test[result.test != moved])
    _assert_reported(frame, planted, "training rows are at or after cutoff - gap_s")


@PROPERTY
@given(frame=flow_frames(require_types=True, min_types=2), pick=st.integers(0, 10_000))
def test_any_family_row_moved_into_training_is_reported(frame: pd.DataFrame, pick: int) -> None:
    present = sorted(set(frame["attack_type"].dropna()) - {"benign"})
    if not present:
        event("no attack family in the frame")
        return
    family = present[pick % len(present)]
    try:
        result = LeaveFamilyOut(family=family).split(frame)
    except EvaluationError:
        event("declared error")
        return
    rows = np.flatnonzero(frame["attack_type"] == family)
    moved = int(rows[pick % len(rows)])
    planted = _planted(result, train=[*result.train, moved], test=result.test[result.test != moved])
    _assert_reported(frame, planted, f"may belong to the held-out family {family!r}")


# ------------------------------------------------------------------------ make_split
ISO_CUTOFF_S = dt.datetime(2024, 3, 8, tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("random", RandomSplit()),
        ("random:0.2", RandomSplit(test_fraction=0.2)),
        (
            "random:0.25,dedupe=false,stratify=label,seed=7",
            RandomSplit(test_fraction=0.25, dedupe=False, stratify="label", random_state=7),
        ),
        ("random,stratify=none,dedupe=no", RandomSplit(stratify=None, dedupe=False)),
        (" RANDOM : 0.4 ", RandomSplit(test_fraction=0.4)),
        ("time", TimeSplit()),
        ("time:0.3,gap=1h", TimeSplit(test_fraction=0.3, gap_s=3600.0)),
        (
            "time:0.25,gap=90m,delay=2d",
            TimeSplit(test_fraction=0.25, gap_s=5400.0, label_delay_s=172_800.0),
        ),
        ("time,gap=30,delay=1.5h", TimeSplit(gap_s=30.0, label_delay_s=5400.0)),
        ("time,gap=.5s", TimeSplit(gap_s=0.5)),
        ("time:cutoff=1700000000", TimeSplit(cutoff_ts=1_700_000_000.0)),
        ("time:cutoff=2024-03-08T00:00", TimeSplit(cutoff_ts=ISO_CUTOFF_S)),
        (
            "time:cutoff=2024-03-08T01:00:00+01:00,gap=1d",
            TimeSplit(cutoff_ts=ISO_CUTOFF_S, gap_s=86400.0),
        ),
        ("group:src_ip", GroupSplit(column="src_ip")),
        ("group:src_ip:0.3", GroupSplit(column="src_ip", test_fraction=0.3)),
        (
            "group:meta_source:0.5,seed=3",
            GroupSplit(column="meta_source", test_fraction=0.5, random_state=3),
        ),
        ("family:dos", LeaveFamilyOut(family="dos")),
        (
            "family:DoS-Hulk,benign=0.5,seed=2",
            LeaveFamilyOut(family="DoS-Hulk", benign_test_fraction=0.5, random_state=2),
        ),
    ],
)
def test_make_split_parses_every_documented_form(spec: str, expected: Split) -> None:
    assert make_split(spec) == expected


def test_make_split_seeds_from_random_state_unless_the_spec_gives_one() -> None:
    assert make_split("random", random_state=5) == RandomSplit(random_state=5)
    assert make_split("group:src_ip", random_state=5) == GroupSplit(random_state=5)
    assert make_split("family:dos", random_state=5) == LeaveFamilyOut("dos", random_state=5)
    assert make_split("random,seed=1", random_state=5) == RandomSplit(random_state=1)


def test_default_time_spec_cuts_the_same_rows_as_the_default_split() -> None:
    frame = _flows()
    default = TimeSplit().split(frame)
    read_back = make_split(TimeSplit().spec()).split(frame)
    assert np.array_equal(default.train, read_back.train)
    assert np.array_equal(default.test, read_back.test)


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("", "an empty split"),
        ("   ", "an empty split"),
        (None, "an empty split"),
        ("0.3", "does not start with a kind"),
        ("shuffle:0.3", "unknown kind 'shuffle'"),
        ("random:0", "the fraction 0 is not in (0, 1)"),
        ("random:1.5", "the fraction 1.5 is not in (0, 1)"),
        ("time:1", "the fraction 1 is not in (0, 1)"),
        ("group:src_ip:0", "the fraction 0 is not in (0, 1)"),
        ("family:dos,benign=1.5", "the fraction 1.5 is not in (0, 1)"),
        ("random:abc", "'abc' is not a number"),
        ("random:nan", "the fraction nan is not in (0, 1)"),
        ("time:0.3,gap=soon", "duration 'soon' is not seconds or a number with s, m, h or d"),
        ("time,delay=-1h", "duration '-1h'"),
        ("time,gap=3w", "duration '3w'"),
        ("random:0.3,0.4", "too many values"),
        ("time:0.2,0.3", "too many values"),
        ("family:dos,web", "too many values"),
        ("group:src_ip:0.3,0.2", "a group split is group:COLUMN[:FRACTION]"),
        ("group", "a group split is group:COLUMN[:FRACTION]"),
        ("family", "a family split needs an attack family"),
        ("random:0.3,gap=1h", "unknown option(s) ['gap'] for 'random'"),
        ("group:src_ip,benign=0.2", "unknown option(s) ['benign'] for 'group'"),
        ("random:seed=1,0.3", "positional value '0.3' after key=value options"),
        ("random,seed=1,seed=2", "option 'seed' given twice"),
        ("random,seed=-1", "seed '-1' is not an integer >= 0"),
        ("random,seed=²", "seed '²' is not an integer >= 0"),
        ("random,dedupe=maybe", "'maybe' is not true or false"),
        ("time:0.3,cutoff=5", "give either a test fraction or cutoff=, not both"),
        ("time:cutoff=yesterday", "cutoff 'yesterday' is neither epoch seconds nor an ISO-8601"),
    ],
)
def test_make_split_rejects_bad_specs_saying_what_and_how(spec: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_split(spec)
    message = str(caught.value)
    assert problem in message
    assert "Expected one of: random[:FRACTION]" in message
    assert "for example 'time:0.3,gap=1h'" in message


def test_make_split_rejects_benign_as_the_held_out_family() -> None:
    with pytest.raises(ConfigError, match="'family' parameter of LeaveFamilyOut must be an"):
        make_split("family:benign")


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda: RandomSplit(test_fraction=1), "'test_fraction' parameter of RandomSplit"),
        (lambda: RandomSplit(dedupe="yes"), "'dedupe' parameter of RandomSplit"),
        (lambda: RandomSplit(random_state=-1), "'random_state' parameter of RandomSplit"),
        (lambda: TimeSplit(test_fraction=0.3, cutoff_ts=5.0), "either test_fraction or cutoff_ts"),
        (lambda: TimeSplit(gap_s=-1.0), "'gap_s' parameter of TimeSplit"),
        (lambda: TimeSplit(label_delay_s=float("inf")), "'label_delay_s' parameter of TimeSplit"),
        (lambda: TimeSplit(cutoff_ts=float("nan")), "'cutoff_ts' parameter of TimeSplit"),
        (lambda: GroupSplit(column=""), "'column' parameter of GroupSplit"),
        (lambda: GroupSplit(test_fraction=0.0), "'test_fraction' parameter of GroupSplit"),
        (lambda: LeaveFamilyOut(family=""), "'family' parameter of LeaveFamilyOut"),
        (
            lambda: LeaveFamilyOut(family="dos", benign_test_fraction=2),
            "'benign_test_fraction' parameter of LeaveFamilyOut",
        ),
    ],
)
def test_split_parameters_are_checked_when_built(make: object, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make()  # type: ignore[operator]
    assert problem in str(caught.value)


def test_missing_columns_named_in_the_spec_are_config_errors_at_split_time() -> None:
    frame = _flows()
    with pytest.raises(ConfigError, match=r"cannot group by 'nope': no such column\. Columns:"):
        make_split("group:nope").split(frame)
    with pytest.raises(ConfigError, match=r"cannot stratify by 'nope'.*Pass stratify=None"):
        make_split("random,stratify=nope").split(frame, row_hashes=_row_hashes(frame))


# ------------------------------------------------------------------------ degenerate inputs
ALL_SPLITS = [RandomSplit(), TimeSplit(), GroupSplit(), LeaveFamilyOut(family="dos")]


@pytest.mark.parametrize("split", ALL_SPLITS, ids=lambda s: s.kind)
@pytest.mark.parametrize("n_rows", [0, 1])
def test_frames_with_fewer_than_two_rows_are_evaluation_errors(split: Split, n_rows: int) -> None:
    frame = _flows().head(n_rows)
    with pytest.raises(EvaluationError, match=f"at least 2 rows; got DataFrame with {n_rows} rows"):
        split.split(frame, row_hashes=_row_hashes(frame))


@pytest.mark.parametrize("split", ALL_SPLITS, ids=lambda s: s.kind)
def test_a_non_frame_is_an_evaluation_error(split: Split) -> None:
    with pytest.raises(EvaluationError, match="expects a DataFrame"):
        split.split({"ts": [1, 2, 3]})  # type: ignore[arg-type]


def test_time_split_without_ts_says_which_split_to_use_instead() -> None:
    with pytest.raises(EvaluationError, match=r"needs a 'ts' column.*Use a random or group split"):
        TimeSplit().split(_flows().drop(columns="ts"))


@pytest.mark.parametrize(
    "ts", [[np.nan] * 4, [5.0] * 4, [np.nan, 5.0, 5.0, np.nan], ["a", "b", "c", "d"]]
)
def test_time_split_without_two_distinct_timestamps_is_an_evaluation_error(ts: list) -> None:
    frame = pd.DataFrame({"ts": ts, "bytes": [1, 2, 3, 4]})
    with pytest.raises(EvaluationError, match="at least two distinct timestamps"):
        TimeSplit().split(frame)


def test_time_split_with_a_cutoff_outside_the_data_is_an_evaluation_error() -> None:
    with pytest.raises(EvaluationError, match="both sides need rows"):
        TimeSplit(cutoff_ts=1e12).split(_flows())
    with pytest.raises(EvaluationError, match="both sides need rows"):
        TimeSplit(cutoff_ts=0.0).split(_flows())


def test_time_split_of_millisecond_timestamps_splits_instead_of_crashing() -> None:
    # Regression: iso() raised ValueError ("year 55841 is out of range") past the year 9999.
    frame = _flows().assign(ts=lambda f: 1.7e12 + f["ts"] * 1000)
    result = TimeSplit(test_fraction=0.25).split(frame)
    _assert_clean(frame, result)
    assert "outside the years 1-9999" in result.resolved["cutoff"]
    assert result.split.summary(result).startswith("time-ordered: train before")
    planted = _planted(result, test=[*result.test, result.train[-1]])
    _assert_reported(frame, planted, "test rows are before the cutoff")


def test_time_split_whose_labels_all_arrive_late_is_an_evaluation_error() -> None:
    with pytest.raises(EvaluationError, match="Use a smaller label delay or a later cutoff"):
        TimeSplit(cutoff_ts=100.0, label_delay_s=1e6).split(_flows())


def test_group_split_on_a_missing_column_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="cannot group by 'dst_ip': no such column"):
        GroupSplit(column="dst_ip").split(_flows())


@pytest.mark.parametrize("value", ["10.0.0.1", None])
def test_group_split_with_fewer_than_two_groups_is_an_evaluation_error(value: str | None) -> None:
    frame = _flows().assign(src_ip=value)
    with pytest.raises(EvaluationError, match="at least 2 distinct values; got"):
        GroupSplit().split(frame)


def test_family_split_for_an_absent_family_lists_the_families_present() -> None:
    with pytest.raises(ConfigError, match=r"no row has attack_type 'web'.*dos \(8\), scan \(8\)"):
        LeaveFamilyOut(family="web").split(_flows())


def test_family_split_without_attack_type_is_an_evaluation_error() -> None:
    with pytest.raises(EvaluationError, match="needs an 'attack_type' column"):
        LeaveFamilyOut(family="dos").split(_flows().drop(columns="attack_type"))


def test_family_split_with_nothing_left_to_train_on_is_an_evaluation_error() -> None:
    frame = _flows().assign(attack_type="dos", label=1)
    with pytest.raises(EvaluationError, match="need benign rows or other families"):
        LeaveFamilyOut(family="dos").split(frame)


def test_benign_row_without_attack_type_is_dropped_not_trained_on() -> None:
    # Regression: a label-0 row with a missing attack_type was counted as dropped and yet
    # placed in training (or test), and check_no_leak then reported the split as leaking.
    frame = pd.DataFrame(
        {"attack_type": ["dos", "benign", None, "scan", "benign"], "label": [1, 0, 0, 1, 0]}
    )
    for seed in range(4):
        result = LeaveFamilyOut(family="dos", random_state=seed).split(frame)
        _assert_clean(frame, result)
        _assert_accounts_for_every_row(frame, result)
        assert 2 not in result.train and 2 not in result.test


def test_random_split_of_identical_rows_is_an_evaluation_error() -> None:
    frame = _flows().assign(bytes=1)
    with pytest.raises(EvaluationError, match="both sides need rows"):
        RandomSplit().split(frame, row_hashes=_row_hashes(frame))


def test_random_split_needs_one_row_hash_per_row() -> None:
    frame = _flows()
    with pytest.raises(EvaluationError, match=r"needs row_hashes.*hash_rows"):
        RandomSplit().split(frame)
    with pytest.raises(EvaluationError, match=r"one value per row \(40\)"):
        RandomSplit().split(frame, row_hashes=_row_hashes(frame)[:-1])
    result = RandomSplit().split(frame, row_hashes=_row_hashes(frame))
    with pytest.raises(EvaluationError, match="needs row_hashes"):
        check_no_leak(frame, result)
