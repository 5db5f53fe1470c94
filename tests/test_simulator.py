"""The enterprise simulator: determinism, labels, time window, realism checks, Zeek output."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from seclearn.datasets import (
    ATTACK_TYPES,
    DEFAULT_START,
    ZEEK_FIELDS,
    ZEEK_TYPES,
    simulate_enterprise,
    write_zeek_conn,
)
from seclearn.errors import ConfigError
from seclearn.schema import FLOW_SCHEMA, validate_frame

DAYS = 2


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return simulate_enterprise(days=DAYS, hosts=12, seed=7)


def test_same_seed_gives_identical_frames(small):
    pd.testing.assert_frame_equal(small, simulate_enterprise(days=DAYS, hosts=12, seed=7))


def test_other_seed_gives_other_traffic(small):
    other = simulate_enterprise(days=DAYS, hosts=12, seed=8)
    assert len(other) != len(small) or not np.array_equal(other["ts"], small["ts"])


def test_every_attack_type_is_present_with_label_1_and_benign_with_label_0(small):
    attacks = small[small["attack_type"] != "benign"]
    assert set(attacks["attack_type"]) == set(ATTACK_TYPES)
    assert (attacks["label"] == 1).all()
    assert (small.loc[small["attack_type"] == "benign", "label"] == 0).all()
    assert small["label"].notna().all()


def test_default_run_has_realistic_volume_and_a_few_percent_attacks():
    frame = simulate_enterprise()
    assert 50_000 <= len(frame) <= 200_000
    assert 0.01 <= float((frame["label"] == 1).mean()) <= 0.08


def test_flows_are_sorted_and_inside_the_requested_days(small):
    start = DEFAULT_START.timestamp()
    assert small["ts"].is_monotonic_increasing
    assert small["ts"].min() >= start
    assert small["ts"].max() < start + DAYS * 86400


def test_start_sets_the_window_and_naive_times_mean_utc():
    frame = simulate_enterprise(days=1, hosts=5, seed=1, start=datetime(2023, 1, 2))
    start = datetime(2023, 1, 2).replace(tzinfo=DEFAULT_START.tzinfo).timestamp()
    assert start <= frame["ts"].min() and frame["ts"].max() < start + 86400


def test_frame_has_the_canonical_flow_dtypes(small):
    validate_frame(small, FLOW_SCHEMA, coerce=False)
    assert str(small["label"].dtype) == "Int8"
    assert small["uid"].is_unique


def test_leaving_out_attacks_does_not_change_benign_traffic(small):
    only_dos = simulate_enterprise(days=DAYS, hosts=12, seed=7, attacks=("dos",))
    assert set(only_dos.loc[only_dos["label"] == 1, "attack_type"]) == {"dos"}
    cols = [c for c in small.columns if c != "uid"]
    benign_all = small.loc[small["label"] == 0, cols].reset_index(drop=True)
    benign_dos = only_dos.loc[only_dos["label"] == 0, cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(benign_all, benign_dos)


def test_conn_states_and_histories_match_the_protocol(small):
    udp = small[small["proto"] == "udp"]
    assert set(udp["conn_state"]) <= {"SF", "S0"}
    assert set(small.loc[small["proto"] == "icmp", "conn_state"]) == {"OTH"}
    tcp = small[small["proto"] == "tcp"]
    s0 = tcp[tcp["conn_state"] == "S0"]
    assert (s0["dst_pkts"] == 0).all() and (s0["history"] == "S").all()
    assert (tcp.loc[tcp["conn_state"] == "REJ", "history"] == "Sr").all()
    single = (small["src_pkts"] + small["dst_pkts"]) == 1  # Zeek leaves these unset
    assert small.loc[single, ["duration_s", "src_bytes"]].isna().all().all()


def test_workstations_follow_office_hours(small):
    clients = small[small["src_ip"].str.startswith("10.0.1.") & (small["label"] == 0)]
    hour = ((clients["ts"] - DEFAULT_START.timestamp()) // 3600 % 24).astype(int)
    working_day = clients["ts"] < DEFAULT_START.timestamp() + 86400  # a Thursday
    assert (working_day & hour.between(9, 16)).sum() > 5 * (working_day & hour.between(0, 5)).sum()


def test_attacks_overlap_benign_traffic_on_single_features(small):
    c2 = small[small["attack_type"] == "c2_beacon"]
    benign = small[small["label"] == 0]
    assert (c2["dst_port"] == 443).any() and (benign["dst_port"] == 443).mean() > 0.1
    benign_failed = benign["conn_state"].value_counts()
    assert benign_failed["REJ"] >= 50 and benign_failed["S0"] >= 50  # not only scans fail
    assert (
        benign["src_bytes"].max()
        > small.loc[small["attack_type"] == "exfiltration", "src_bytes"].min()
    )


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"days": 0}, "days"),
        ({"hosts": 1}, "hosts"),
        ({"seed": -1}, "seed"),
        ({"attacks": ("worm",)}, "worm"),
    ],
)
def test_invalid_parameters_are_refused_with_the_parameter_named(kwargs, word):
    with pytest.raises(ConfigError, match=word):
        simulate_enterprise(**kwargs)


def test_zeek_conn_file_has_zeek_header_and_one_line_per_flow(small, tmp_path):
    path = write_zeek_conn(small, tmp_path / "conn.log")
    lines = path.read_text().splitlines()
    assert lines[0] == "#separator \\x09"
    assert lines[1:5] == [
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tconn",
    ]
    assert lines[5].startswith("#open\t") and lines[-1].startswith("#close\t")
    assert lines[6] == "#fields\t" + "\t".join(ZEEK_FIELDS)
    assert lines[7] == "#types\t" + "\t".join(ZEEK_TYPES)
    data = [line.split("\t") for line in lines[8:-1]]
    assert len(data) == len(small)
    assert {len(row) for row in data} == {len(ZEEK_FIELDS)}
    labels = pd.Series([row[-2] for row in data])
    assert (labels == "Malicious").sum() == (small["label"] == 1).sum()
    assert {row[-1] for row in data if row[-2] == "Benign"} == {"-"}


def test_zeek_conn_file_reads_back_with_the_same_rows(small, tmp_path):
    from seclearn.ingest import read_flows

    path = write_zeek_conn(small, tmp_path / "conn.log.gz")
    back = read_flows(path).frame
    assert len(back) == len(small)
    assert back["label"].tolist() == small["label"].tolist()
    assert back["attack_type"].tolist() == small["attack_type"].tolist()
    np.testing.assert_allclose(back["ts"], small["ts"], atol=1e-6)
    np.testing.assert_allclose(back["src_bytes"], small["src_bytes"], equal_nan=True)
