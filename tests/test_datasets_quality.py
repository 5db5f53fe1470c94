"""Quality report, row identity, train/test overlap and leakage-free splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seclearn.datasets import (
    compare_datasets,
    create_dataset,
    hash_rows,
    load_dataset,
    quality_report,
    read_manifest,
    simulate_enterprise,
    split_dataset,
    write_zeek_conn,
)
from seclearn.errors import ConfigError, WorkspaceError


def _table(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "ts": np.arange(n, dtype=float),
            "src_ip": [f"10.0.0.{i % 250}" for i in range(n)],
            "dst_port": pd.array(rng.integers(1, 65535, n), dtype="Int64"),
            "src_bytes": rng.lognormal(6, 1, n),
            "proto": pd.Series(rng.choice(["tcp", "udp"], n), dtype="str"),
            "label": pd.array(rng.integers(0, 2, n), dtype="Int8"),
            "attack_type": "x",
            "meta_row": np.arange(n),
        }
    )


def test_report_counts_planted_exact_and_feature_duplicates_with_conflicts():
    base = _table()
    exact = base.iloc[:5].assign(meta_row=-1)  # same everything but metadata
    conflict = base.iloc[10:13].assign(ts=1e6, label=lambda f: (1 - f["label"]).astype("Int8"))
    report = quality_report(pd.concat([base, exact, conflict], ignore_index=True))
    dup = report["duplicates"]
    assert dup["exact_rows"] == 5
    assert dup["feature_identical_rows"] == 8
    assert dup["conflicting_label_groups"] == 3 and dup["conflicting_label_rows"] == 6
    assert "ts" not in dup["feature_columns"] and "meta_row" not in dup["feature_columns"]


def test_report_finds_constant_and_empty_columns_and_missing_fractions():
    frame = _table().assign(
        constant=7.0, empty=np.nan, half=lambda f: f["src_bytes"].where(f.index % 2 == 0)
    )
    report = quality_report(frame)
    assert report["constant_columns"] == ["attack_type", "constant"]
    assert report["empty_columns"] == ["empty"]
    assert report["missing_fraction"]["half"] == 0.5 and report["missing_fraction"]["ts"] == 0.0
    labels = report["labels"]
    assert labels["benign"] + labels["malicious"] == len(frame)


def test_report_measures_planted_train_test_overlap():
    train, test = _table(seed=1), _table(seed=2)
    leaked = train.iloc[:20].assign(
        ts=-1.0, src_ip="192.0.2.1", meta_row=-1
    )  # identity differs only
    report = quality_report(
        pd.concat([test, leaked], ignore_index=True), reference=train, reference_name="train"
    )
    overlap = report["overlap"]
    assert overlap["reference"] == "train"
    assert overlap["shared_rows"] == 20 and overlap["shared_fraction"] == pytest.approx(
        20 / 220, abs=1e-6
    )
    assert overlap["shared_by_label"]["benign"] + overlap["shared_by_label"]["malicious"] == 20


def test_row_hash_ignores_dtype_and_missing_value_representation():
    a = pd.DataFrame(
        {"x": pd.array([1, None, 3], dtype="Int64"), "y": pd.Series(["a", None, "c"], dtype="str")}
    )
    b = pd.DataFrame({"x": [1.0, np.nan, 3.0], "y": pd.Series(["a", None, "c"], dtype=object)})
    assert np.array_equal(hash_rows(a, ["x", "y"]), hash_rows(b, ["x", "y"]))
    assert len(set(hash_rows(a, ["x", "y"]).tolist())) == 3


@pytest.fixture(scope="module")
def sim_file(tmp_path_factory):
    frame = simulate_enterprise(days=1, hosts=6, seed=11)
    return write_zeek_conn(frame, tmp_path_factory.mktemp("sim") / "conn.log")


def test_split_leaves_no_feature_identical_row_on_both_sides_and_records_lineage(
    workspace, sim_file
):
    parent = create_dataset(workspace, "all", [sim_file])
    train, test = split_dataset(
        workspace, "all", ("train", "test"), test_fraction=0.3, random_state=1
    )
    assert compare_datasets(workspace, "train", "test")["shared_rows"] == 0
    params = train["lineage"]["parameters"]
    assert train["lineage"]["operation"] == test["lineage"]["operation"] == "split"
    assert train["lineage"]["derived_from"] == [
        {"dataset": "all", "content_fingerprint": parent["content_fingerprint"]}
    ]
    assert (
        params["dedupe"] is True and params["test_fraction"] == 0.3 and params["random_state"] == 1
    )
    kept = parent["totals"]["rows"] - params["duplicates_dropped"]
    assert params["duplicates_dropped"] > 0
    assert train["totals"]["rows"] + test["totals"]["rows"] == kept
    assert test["totals"]["rows"] / kept == pytest.approx(0.3, abs=0.01)
    common = {name for name, rows in train["attack_types"].items() if rows >= 10}
    assert common <= set(test["attack_types"])  # stratified: every frequent type on both sides
    assert read_manifest(workspace, "test") == test


def test_split_without_dedupe_leaks_duplicates_that_compare_datasets_counts(workspace, sim_file):
    create_dataset(workspace, "all", [sim_file])
    split_dataset(workspace, "all", ("a", "b"), dedupe=False, test_fraction=0.5)
    overlap = compare_datasets(workspace, "a", "b")
    assert overlap["shared_rows"] > 0 and overlap["reference"] == "a" and overlap["test"] == "b"
    both = len(load_dataset(workspace, "a")) + len(load_dataset(workspace, "b"))
    assert both == read_manifest(workspace, "all")["totals"]["rows"]


def test_split_refuses_bad_parameters_and_existing_outputs(workspace, sim_file):
    create_dataset(workspace, "all", [sim_file])
    with pytest.raises(ConfigError, match="test_fraction"):
        split_dataset(workspace, "all", ("a", "b"), test_fraction=1.5)
    with pytest.raises(ConfigError, match="different"):
        split_dataset(workspace, "all", ("all", "b"))
    split_dataset(workspace, "all", ("x", "y"))
    with pytest.raises(WorkspaceError, match="already exists"):
        split_dataset(workspace, "all", ("x", "y"))
