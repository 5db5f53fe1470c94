"""Every reader on the public datasets, checked against the counts in their SOURCE.md."""

from __future__ import annotations

import pytest

from seclearn.ingest import detect_format, read_flows

pytestmark = pytest.mark.realdata


def _check(result, rows: int) -> None:
    assert len(result.frame) == rows
    assert result.stats.accepted == rows
    assert result.stats.quarantined == 0 and result.stats.rejected == 0


def test_nsl_kdd_test21_counts(data_file):
    path = data_file("nsl-kdd/KDDTest-21.txt.gz")
    assert detect_format(path) == "nsl-kdd"
    result = read_flows(path)
    _check(result, 11_850)
    assert result.frame["label"].value_counts().to_dict() == {1: 9_698, 0: 2_152}
    cats = result.frame["meta_attack_category"].value_counts().to_dict()
    assert cats == {
        "DoS": 4_342,
        "R2L": 2_885,
        "Probe": 2_402,
        "benign": 2_152,
        "U2R": 67,
        "unknown": 2,
    }
    assert result.frame["meta_difficulty"].between(0, 21).all()


def test_unsw_partition_counts(data_file):
    path = data_file("unsw-nb15/UNSW_NB15_training-set.csv.gz")
    assert detect_format(path) == "unsw-nb15"
    result = read_flows(path)
    _check(result, 82_332)
    assert result.frame["label"].value_counts().to_dict() == {1: 45_332, 0: 37_000}
    assert result.frame["attack_type"].value_counts().to_dict() == {
        "benign": 37_000, "Generic": 18_871, "Exploits": 11_132, "Fuzzers": 6_062, "DoS": 4_089,
        "Reconnaissance": 3_496, "Analysis": 677, "Backdoor": 583, "Shellcode": 378, "Worms": 44,
    }  # fmt: skip
    assert result.frame["meta_id"].iloc[-1] == 82_332 and result.frame["service"].isna().any()


def test_unsw_raw_sample_counts_and_times(data_file):
    path = data_file("unsw-nb15/unsw-nb15_1_sampled.csv.gz")
    assert detect_format(path) == "unsw-nb15-raw"
    result = read_flows(path)
    _check(result, 7_000)
    assert result.frame["label"].value_counts().to_dict() == {0: 6_796, 1: 204}
    assert result.frame["service"].isna().sum() == 4_362
    ts = result.frame["ts"]
    assert ts.min() >= 1_421_927_400 and ts.max() <= 1_421_956_000  # 2015-01-22 11:50-19:44 UTC


def test_cicids2017_web_attacks_counts(data_file):
    path = data_file("cicids2017-webattacks/web_attacks_balanced.csv.gz")
    assert detect_format(path) == "cicflowmeter"
    result = read_flows(path)
    _check(result, 7_267)
    assert result.frame["attack_type"].value_counts().to_dict() == {
        "benign": 5_087, "Web Attack – Brute Force": 1_507, "Web Attack – XSS": 652, "Web Attack – Sql Injection": 21,
    }  # fmt: skip
    assert result.frame["ts"].isna().all()  # integer codes, not dates
    assert set(result.frame["proto"].unique()) <= {"tcp", "udp", "hopopt"}


@pytest.mark.parametrize(
    ("name", "rows", "labels", "details"),
    [
        (
            "CTU-Malware-Capture-44-1",
            237,
            {0: 211, 1: 26},
            {"C&C": 14, "C&C-FileDownload": 11, "DDoS": 1},
        ),
        ("CTU-Honeypot-Capture-4-1", 452, {0: 452}, {}),
        ("CTU-Malware-Capture-20-1", 3_209, {0: 3_193, 1: 16}, {"C&C-Torii": 16}),
    ],
)
def test_iot23_zeek_csv_counts(data_file, name, rows, labels, details):
    path = data_file(f"iot23-zeek-conn/{name}-labeled.csv.gz")
    assert detect_format(path) == "zeek-csv"
    result = read_flows(path)
    _check(result, rows)
    assert result.frame["label"].value_counts().to_dict() == labels
    attacks = result.frame.loc[result.frame["label"] == 1, "attack_type"].value_counts().to_dict()
    assert attacks == details
    assert result.frame["ts"].notna().all() and result.frame["src_ip"].notna().all()
