"""Datasets in a workspace: create, manifest, load, quarantine, refusals, tamper detection."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from seclearn.datasets import (
    create_dataset,
    dataset_path,
    iter_dataset,
    list_datasets,
    load_dataset,
    read_manifest,
    simulate_enterprise,
    write_zeek_conn,
)
from seclearn.datasets._writer import PartWriter
from seclearn.errors import ConfigError, DatasetNotFoundError, IngestError, WorkspaceError


@pytest.fixture(scope="module")
def flows() -> pd.DataFrame:
    return simulate_enterprise(days=1, hosts=6, seed=3)


@pytest.fixture(scope="module")
def zeek_file(flows, tmp_path_factory) -> Path:
    return write_zeek_conn(flows, tmp_path_factory.mktemp("zeek") / "conn.log")


@pytest.fixture
def created(workspace, zeek_file) -> dict:
    return create_dataset(workspace, "sim", [zeek_file])


def test_create_then_load_gives_back_every_row_and_label(workspace, created, flows):
    frame = load_dataset(workspace, "sim")
    assert len(frame) == len(flows)
    assert frame["label"].tolist() == flows["label"].tolist()
    assert frame["attack_type"].tolist() == flows["attack_type"].tolist()
    assert str(frame["label"].dtype) == "Int8" and str(frame["dst_port"].dtype) == "Int64"


def test_manifest_records_source_hash_counts_classes_and_lineage(
    workspace, created, zeek_file, flows
):
    manifest = read_manifest(workspace, "sim")
    assert manifest == created
    (source,) = manifest["sources"]
    assert source["sha256"] == hashlib.sha256(zeek_file.read_bytes()).hexdigest()
    assert source["size_bytes"] == zeek_file.stat().st_size
    assert source["format"] and source["reader"] and source["reader_version"]
    assert source["accepted"] + source["quarantined"] + source["rejected"] == len(flows)
    assert manifest["totals"]["rows"] == source["accepted"] == len(flows)
    counts = flows["label"].value_counts()
    assert manifest["label"]["counts"] == {
        "benign": counts[0],
        "malicious": counts[1],
        "unlabeled": 0,
    }
    assert manifest["attack_types"] == flows["attack_type"].value_counts().to_dict()
    assert manifest["time_range"]["start"].startswith("2024-03-07T")
    assert manifest["lineage"]["operation"] == "ingest"
    assert manifest["lineage"]["derived_from"][0]["sha256"] == source["sha256"]
    folder = dataset_path(workspace, "sim")
    content = hashlib.sha256(b"".join((folder / p["path"]).read_bytes() for p in manifest["parts"]))
    assert manifest["content_fingerprint"] == content.hexdigest()
    assert {c["name"] for c in manifest["columns"]} >= {"ts", "src_ip", "label", "attack_type"}
    assert (folder / "quality.json").is_file() and (folder / "quarantine.jsonl").read_text() == ""


def test_list_and_iterate_datasets(workspace, created, flows):
    (entry,) = list_datasets(workspace)
    assert entry["name"] == "sim" and entry["rows"] == len(flows)
    assert entry["labels"]["malicious"] == int((flows["label"] == 1).sum())
    chunks = list(iter_dataset(workspace, "sim", columns=["ts", "label"], chunk_rows=1000))
    assert max(len(c) for c in chunks) <= 1000
    assert sum(len(c) for c in chunks) == len(flows)
    assert list(chunks[0].columns) == ["ts", "label"]


def test_small_chunks_give_several_parts_with_one_schema(workspace, zeek_file, flows):
    seen: list[int] = []
    manifest = create_dataset(
        workspace, "chunked", [zeek_file], chunk_rows=2000, progress=seen.append
    )
    assert seen == sorted(seen) and seen[-1] == len(flows) and len(seen) > 1
    parts = [dataset_path(workspace, "chunked") / p["path"] for p in manifest["parts"]]
    assert len(parts) > 1
    schemas = {pq.read_schema(p).remove_metadata().to_string() for p in parts}
    assert len(schemas) == 1
    assert len(load_dataset(workspace, "chunked")) == len(flows)


def test_chunks_with_different_dtypes_are_unified(tmp_path):
    writer = PartWriter(tmp_path, rows_per_part=2)
    writer.write(pd.DataFrame({"a": pd.array([1, 2], dtype="Int64"), "b": [True, False]}))
    writer.write(
        pd.DataFrame(
            {"a": [0.5, None], "b": pd.array([True, None], dtype="boolean"), "c": ["x", "y"]}
        )
    )
    parts = writer.close()
    assert len(parts) == 2
    schemas = {
        pq.read_schema(tmp_path / Path(p["path"]).name).remove_metadata().to_string() for p in parts
    }
    assert len(schemas) == 1
    assert writer.dtypes == {"a": "float64", "b": "boolean", "c": "str"}
    first = pq.read_table(tmp_path / "part-00000.parquet").to_pandas()
    assert first["a"].tolist() == [1.0, 2.0] and first["c"].isna().all()


def test_quarantined_records_are_written_with_file_line_and_reason(
    workspace, zeek_file, tmp_path, flows
):
    lines = zeek_file.read_text().splitlines(keepends=True)
    bad = tmp_path / "bad.log"
    bad.write_text(
        "".join([*lines[:20], "this line has too few fields\n", "1\t2\t3\n", *lines[20:]])
    )
    manifest = create_dataset(workspace, "bad", [bad])
    (source,) = manifest["sources"]
    assert source["quarantined"] == 2 and source["accepted"] == len(flows)
    records = pd.read_json(dataset_path(workspace, "bad") / "quarantine.jsonl", lines=True)
    assert records["line"].tolist() == [21, 22]
    assert set(records["file"]) == {str(bad)}
    assert records["reason"].str.len().gt(0).all()
    assert records["raw"].iloc[0].startswith("this line")


def test_existing_name_is_refused_unless_overwrite(workspace, created, zeek_file):
    with pytest.raises(WorkspaceError, match="already exists"):
        create_dataset(workspace, "sim", [zeek_file])
    again = create_dataset(workspace, "sim", [zeek_file], overwrite=True)
    assert again["content_fingerprint"] == created["content_fingerprint"]
    assert [p.name for p in (workspace / "datasets").iterdir()] == ["sim"]


@pytest.mark.parametrize("name", ["../evil", "Upper", "", "a" * 65, ".hidden", "a/b", "a..b", "-x"])
def test_invalid_names_are_refused(workspace, zeek_file, name):
    with pytest.raises(ConfigError, match="Invalid dataset name"):
        create_dataset(workspace, name, [zeek_file])
    assert not (workspace / "datasets").exists() or not any((workspace / "datasets").iterdir())


def test_failed_create_leaves_nothing_behind(workspace, tmp_path):
    with pytest.raises(IngestError):
        create_dataset(workspace, "ghost", [tmp_path / "missing.log"])
    assert not (workspace / "datasets").exists() or not any((workspace / "datasets").iterdir())


def test_missing_dataset_error_lists_existing_names(workspace, created):
    with pytest.raises(DatasetNotFoundError, match="Existing datasets: sim"):
        load_dataset(workspace, "nope")


def test_tampered_part_is_detected(workspace, created):
    part = dataset_path(workspace, "sim") / created["parts"][0]["path"]
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    with pytest.raises(WorkspaceError, match="does not match its manifest hash"):
        load_dataset(workspace, "sim")
    with pytest.raises(WorkspaceError, match="does not match"):
        next(iter_dataset(workspace, "sim"))


def test_unparseable_manifest_is_reported(workspace, created):
    (dataset_path(workspace, "sim") / "manifest.json").write_text("{not json")
    with pytest.raises(WorkspaceError, match="not valid JSON"):
        read_manifest(workspace, "sim")
    (entry,) = list_datasets(workspace)
    assert "not valid JSON" in entry["error"]
