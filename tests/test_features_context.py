"""Time-window context features: exact values, no look-ahead, chunking, featurizer wiring."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seclearn.datasets import simulate_enterprise, write_zeek_conn
from seclearn.errors import ConfigError, FeatureMismatchError
from seclearn.features import (
    CONTEXT_COLUMNS,
    ContextHistory,
    ContextWindows,
    FlowFeaturizer,
    context_features,
    has_context_inputs,
)
from seclearn.lifecycle.demo import DEMO_START
from seclearn.models import make_detector
from seclearn.pipeline import DetectionPipeline
from seclearn.scoring import score_files

#: Short windows so that small random frames hit window edges and ties often.
SMALL = ContextWindows(pair_window_s=50.0, src_window_s=10.0, service_window_s=10.0, pair_history=4)
FAILED = {"S0", "REJ", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"}


def _tiny() -> pd.DataFrame:
    """Six flows, out of time order: host a talks to x (80, 443, 22) and y; host b to x."""
    return pd.DataFrame(
        {
            "ts": [30.0, 0.0, 10.0, 20.0, 25.0, 100.0],
            "src_ip": ["a", "a", "a", "a", "b", "a"],
            "dst_ip": ["x", "x", "x", "y", "x", "x"],
            "dst_port": [80, 80, 443, 80, 80, 22],
            "src_bytes": [100.0, 100.0, 100.0, 50.0, 7.0, 100.0],
            "conn_state": ["SF", "S0", "REJ", "SF", "SF", "SF"],
        }
    )


def _random_flows(seed: int, n: int = 160) -> pd.DataFrame:
    """Few hosts, integer times with many ties, some missing values."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "ts": rng.integers(0, 200, n).astype(float),
            "src_ip": rng.choice(["a", "b", "c"], n),
            "dst_ip": rng.choice(["x", "y", "z", "w"], n),
            "dst_port": rng.choice([22, 80, 443, 8080], n).astype(float),
            "src_bytes": rng.choice([100.0, 120.0, 300.0, np.nan], n),
            "conn_state": rng.choice(["SF", "S0", "REJ", "rsto", "S1"], n),
        }
    )
    frame.loc[rng.random(n) < 0.05, "ts"] = np.nan
    frame.loc[rng.random(n) < 0.05, "dst_port"] = np.nan
    return frame


def _mean_cv(values: list[float], min_count: int) -> tuple[float, float]:
    v = np.array([x for x in values if np.isfinite(x)])
    if len(v) == 0:
        return np.nan, np.nan
    mean = v.mean()
    cv = v.std() / mean if len(v) >= min_count and mean > 0 else np.nan
    return mean, cv


def _reference(frame: pd.DataFrame, w: ContextWindows) -> pd.DataFrame:
    """The definitions, one flow at a time (slow, for small frames)."""
    names = w.names
    out = pd.DataFrame(np.nan, index=frame.index, columns=names)
    rows = list(frame.itertuples(index=False))
    valid = [i for i, r in enumerate(rows) if np.isfinite(r.ts)]
    for i in valid:
        me = rows[i]
        before = sorted(
            (j for j in valid if (rows[j].ts, j) <= (me.ts, i)), key=lambda j: (rows[j].ts, j)
        )

        def recent(window_s: float, *fields: str, me=me, before=before) -> list[int]:
            return [
                j
                for j in before
                if rows[j].ts >= me.ts - window_s
                and all(str(getattr(rows[j], f)) == str(getattr(me, f)) for f in fields)
            ]

        pair = recent(w.pair_window_s, "src_ip", "dst_ip")
        last = pair[-w.pair_history :]
        gaps = list(np.diff([rows[j].ts for j in last]))
        gap_mean, gap_cv = _mean_cv(gaps, 2)
        bytes_mean, bytes_cv = _mean_cv([rows[j].src_bytes for j in last], 2)
        src = recent(w.src_window_s, "src_ip")
        svc = recent(w.service_window_s, "dst_ip", "dst_port")  # str(nan) == "nan": one value
        ports = {"nan" if np.isnan(rows[j].dst_port) else rows[j].dst_port for j in src}
        out.loc[frame.index[i]] = [
            len(pair) - 1,
            gap_mean,
            gap_cv,
            bytes_mean,
            bytes_cv,
            len(src),
            len(ports),
            len({rows[j].dst_ip for j in src}),
            np.mean([rows[j].conn_state.upper() in FAILED for j in src]),
            len({rows[j].src_ip for j in svc}),
        ]
    return out


# ------------------------------------------------------------------ values
def test_hand_built_frame_gives_the_expected_counts_gaps_and_sizes():
    ctx = context_features(_tiny())
    row0 = ctx.loc[0]  # a->x:80 at 30 s; earlier a->x flows at 0 and 10 s, a->y at 20 s
    assert row0["ctx_pair_flows_1h"] == 2
    assert row0["ctx_pair_gap_mean_s"] == pytest.approx(15.0)  # gaps 10 and 20
    assert row0["ctx_pair_gap_cv"] == pytest.approx(5.0 / 15.0)
    assert row0["ctx_pair_src_bytes_mean"] == 100 and row0["ctx_pair_src_bytes_cv"] == 0
    assert row0["ctx_src_flows_60s"] == 4
    assert row0["ctx_src_dst_ports_60s"] == 2  # 80 and 443
    assert row0["ctx_src_dst_ips_60s"] == 2  # x and y
    assert row0["ctx_src_failed_share_60s"] == pytest.approx(0.5)  # S0 and REJ of 4
    assert row0["ctx_dst_srcs_60s"] == 2  # a and b on x:80
    first = ctx.loc[1]  # the very first flow has no history
    assert first["ctx_pair_flows_1h"] == 0 and np.isnan(first["ctx_pair_gap_mean_s"])
    assert first["ctx_src_flows_60s"] == 1 and first["ctx_src_failed_share_60s"] == 1.0
    assert np.isnan(ctx.loc[2, "ctx_pair_gap_cv"])  # one gap: no spread yet
    late = ctx.loc[5]  # a->x:22 at 100 s: the earlier minute is out of the 60 s window
    assert late["ctx_pair_flows_1h"] == 3 and late["ctx_src_flows_60s"] == 1
    assert late["ctx_pair_gap_mean_s"] == pytest.approx(100.0 / 3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_features_match_the_definitions_with_ties_and_window_edges(seed):
    frame = _random_flows(seed)
    got = context_features(frame, SMALL)
    expected = _reference(frame, SMALL)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(dtype=float), rtol=1e-9)


def test_pair_history_keeps_only_the_last_k_flows_within_the_window():
    beacon = pd.DataFrame({"ts": [0.0, 1.0, 2.0, 10.0, 20.0, 30.0], "src_ip": "a", "dst_ip": "b"})
    ctx = context_features(beacon, SMALL)  # history 4: the last row sees gaps 8, 10, 10
    assert ctx["ctx_pair_gap_mean_s"].iloc[-1] == pytest.approx(28.0 / 3)
    assert ctx["ctx_pair_flows_50s"].iloc[-1] == 5


def test_appending_later_flows_never_changes_earlier_flows_features():
    frame = _random_flows(3).dropna(subset=["ts"]).reset_index(drop=True)
    later = _random_flows(4).assign(ts=lambda f: f["ts"] + 200.0)  # after all, within windows
    before = context_features(frame, SMALL)
    after = context_features(pd.concat([frame, later], ignore_index=True), SMALL)
    np.testing.assert_array_equal(after.iloc[: len(frame)].to_numpy(), before.to_numpy())


def test_input_order_is_irrelevant_and_the_input_is_not_mutated():
    frame = _random_flows(5)
    shuffled = frame.sample(frac=1.0, random_state=1)
    copy = shuffled.copy()
    got = context_features(shuffled, SMALL)
    pd.testing.assert_frame_equal(shuffled, copy)
    assert list(got.index) == list(shuffled.index)
    # ties are broken by input position, so compare on a frame without tied times
    distinct = frame.drop_duplicates("ts").dropna(subset=["ts"])
    np.testing.assert_array_equal(
        context_features(distinct.sample(frac=1.0, random_state=2), SMALL)
        .loc[distinct.index]
        .to_numpy(),
        context_features(distinct, SMALL).to_numpy(),
    )


def test_flows_without_time_or_address_get_nan_and_are_nobodys_context():
    frame = _tiny()
    frame.loc[2, "ts"] = np.nan
    frame.loc[3, "dst_ip"] = None
    ctx = context_features(frame)
    assert ctx.loc[[2, 3]].isna().all().all()
    assert ctx.loc[0, "ctx_pair_flows_1h"] == 1  # the flow at 10 s no longer counts
    assert ctx.loc[0, "ctx_src_dst_ips_60s"] == 1  # nor does the one to y


def test_a_missing_input_column_gives_nan_only_for_features_that_need_it():
    ctx = context_features(_tiny().drop(columns=["dst_port", "conn_state"]))
    needs = {"ctx_src_dst_ports_60s", "ctx_dst_srcs_60s", "ctx_src_failed_share_60s"}
    assert ctx[list(needs)].isna().all().all()
    assert ctx.drop(columns=list(needs))["ctx_src_flows_60s"].notna().all()
    no_keys = context_features(_tiny().drop(columns=["ts"]))
    assert list(no_keys.columns) == list(CONTEXT_COLUMNS) and no_keys.isna().all().all()


def test_window_settings_are_checked_and_named_with_their_units():
    assert ContextWindows(pair_window_s=300.0).names[0] == "ctx_pair_flows_5m"
    assert ContextWindows(src_window_s=30.0).names[5] == "ctx_src_flows_30s"
    with pytest.raises(ConfigError, match="pair_window_s must be a positive"):
        context_features(_tiny(), ContextWindows(pair_window_s=0.0))
    with pytest.raises(ConfigError, match="pair_history must be an int in"):
        ContextHistory(ContextWindows(pair_history=1))


def test_chunks_with_carried_history_equal_one_pass_and_history_stays_within_the_horizon():
    frame = _random_flows(6, n=400).dropna(subset=["ts"]).sort_values("ts", kind="stable")
    whole = context_features(frame, SMALL)
    history = ContextHistory(SMALL)
    parts = []
    for start in range(0, len(frame), 37):
        parts.append(history.add(frame.iloc[start : start + 37]))
        newest = frame["ts"].iloc[: start + 37].max()
        assert history.kept_rows == int((frame["ts"].iloc[: start + 37] >= newest - 50.0).sum())
    np.testing.assert_array_equal(pd.concat(parts).to_numpy(), whole.to_numpy())


# -------------------------------------------------------------- featurizer
def test_auto_context_needs_times_and_addresses_and_leaves_other_datasets_unchanged():
    frame = _random_flows(7).assign(duration_s=1.0)
    on = FlowFeaturizer(min_category_count=1).fit(frame)
    assert on.context_columns_ == list(CONTEXT_COLUMNS)
    for drop in ("ts", "src_ip", "dst_ip"):
        without = frame.drop(columns=[drop])
        auto = FlowFeaturizer(min_category_count=1).fit(without)
        off = FlowFeaturizer(min_category_count=1, context=False).fit(without)
        assert auto.context_columns_ == [] and auto.feature_names_out_ == off.feature_names_out_
        np.testing.assert_array_equal(auto.transform(without), off.transform(without))
    unusable = frame.assign(ts=np.nan)  # times replaced by codes that do not parse, as in CIC
    assert not has_context_inputs(unusable)
    assert FlowFeaturizer(min_category_count=1).fit(unusable).context_columns_ == []


def test_forcing_context_without_times_or_addresses_says_how_to_fix():
    with pytest.raises(FeatureMismatchError, match="context='auto' or False"):
        FlowFeaturizer(context=True).fit(_tiny().drop(columns=["src_ip"]))


def test_context_specs_name_their_inputs_and_precomputed_columns_are_used_as_given():
    frame = _random_flows(8).assign(ctx_extra=1.0)
    fz = FlowFeaturizer(min_category_count=1).fit(frame)
    specs = {s.name: s for s in fz.feature_specs_}
    assert "ctx_extra" not in fz.feature_names_out_  # ctx_* inputs are never plain features
    assert specs["ctx_src_dst_ports_60s"].kind == "context"
    assert specs["ctx_src_dst_ports_60s"].sources == ("ts", "src_ip", "dst_ip", "dst_port")
    assert specs["ctx_src_flows_60s"].integer and specs["ctx_src_flows_60s"].min_seen == 1
    j = fz.feature_names_out_.index("ctx_src_flows_60s")
    given = frame.assign(**{c: 7.0 for c in CONTEXT_COLUMNS})
    assert (fz.transform(given)[:, j] == 7.0).all()
    np.testing.assert_array_equal(
        fz.transform(frame)[:, j], context_features(frame)["ctx_src_flows_60s"].astype(np.float32)
    )
    restored = FlowFeaturizer.from_dict(fz.to_dict())
    assert restored.context_columns_ == fz.context_columns_
    np.testing.assert_array_equal(restored.transform(frame), fz.transform(frame))


# ---------------------------------------------------------------- scoring
@pytest.fixture(scope="module")
def one_day() -> pd.DataFrame:
    return simulate_enterprise(days=1, hosts=12, seed=0, start=DEMO_START)


def test_scoring_a_file_in_small_chunks_gives_the_same_scores_as_whole(one_day, tmp_path: Path):
    pipeline = DetectionPipeline(detector=make_detector("lightgbm", n_estimators=30, n_jobs=1)).fit(
        one_day
    )
    assert pipeline.featurizer_.context_columns_
    later = simulate_enterprise(days=1, hosts=12, seed=1, start=DEMO_START + timedelta(days=1))
    log = write_zeek_conn(later, tmp_path / "conn.log")
    whole = score_files(pipeline, [log], tmp_path / "whole.jsonl", explain="none")
    chunked = score_files(
        pipeline, [log], tmp_path / "chunked.jsonl", explain="alerts", chunk_rows=1000
    )
    assert whole.records == chunked.records == len(later)
    a = pd.read_json(tmp_path / "whole.jsonl", lines=True)
    b = pd.read_json(tmp_path / "chunked.jsonl", lines=True)
    np.testing.assert_array_equal(a["score"].to_numpy(), b["score"].to_numpy())
    assert chunked.alerts == whole.alerts > 0


def test_c2_beacon_missed_per_flow_is_detected_with_context_on_a_later_day(one_day):
    later = simulate_enterprise(days=1, hosts=12, seed=1, start=DEMO_START + timedelta(days=1))
    beacon = (later["attack_type"] == "c2_beacon").to_numpy()
    benign = (later["label"] == 0).to_numpy()
    assert beacon.sum() > 100
    rates = {}
    for context in (False, True):
        pipeline = DetectionPipeline(
            detector=make_detector("lightgbm", n_estimators=100, n_jobs=1),
            featurizer=FlowFeaturizer(context=context),
        ).fit(one_day)
        decision = pipeline.score(later)["decision"].to_numpy()
        rates[context] = (decision[beacon].mean(), decision[benign].mean())
    assert rates[False][0] < 0.2, rates  # per-flow features miss this campaign
    assert rates[True][0] > 0.8, rates  # its regular gaps and sizes give it away
    assert rates[True][1] < 0.02, rates  # at a false-positive rate near the 1% target
