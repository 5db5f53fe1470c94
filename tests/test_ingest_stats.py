"""Counting records (IngestStats) and the public surface of seclearn.ingest."""

from __future__ import annotations

import json

import pytest

import seclearn.ingest as ingest
from seclearn.errors import ConfigError
from seclearn.ingest import FORMATS, IngestStats, QuarantinedRecord, reader_info


def test_public_names_are_exported_in_sorted_all():
    expected = {
        "FORMATS", "IngestChunk", "IngestResult", "IngestStats", "QuarantinedRecord", "detect_format",
        "iter_flows", "load_mapping", "read_flows", "reader_info",
    }  # fmt: skip
    assert expected <= set(ingest.__all__)
    assert ingest.__all__ == sorted(ingest.__all__)
    assert all(hasattr(ingest, name) for name in ingest.__all__)


def test_formats_are_the_documented_ones():
    assert FORMATS == (
        "nsl-kdd",
        "unsw-nb15",
        "unsw-nb15-raw",
        "cicflowmeter",
        "zeek-tsv",
        "zeek-json",
        "zeek-csv",
        "table",
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_reader_info_names_a_reader_and_version(fmt):
    name, version = reader_info(fmt)
    assert name.startswith("seclearn.ingest.") and version


def test_reader_info_of_unknown_format_lists_allowed():
    with pytest.raises(ConfigError, match="zeek-tsv"):
        reader_info("netflow-v9")


def test_quarantine_keeps_first_1000_but_counts_all():
    stats = IngestStats()
    for i in range(1500):
        stats.add_quarantined(i + 1, "bad", f"line {i}")
    assert stats.quarantined == 1500 and len(stats.quarantine) == 1000
    assert stats.quarantine[-1].line == 1000


def test_merge_adds_counts_and_reasons_and_caps_kept_records():
    a, b = IngestStats(accepted=5, bytes_read=10), IngestStats(accepted=2, rejected=0, bytes_read=4)
    a.add_rejected("repeated header line", 2)
    b.add_rejected("repeated header line")
    b.add_rejected("other")
    for i in range(999):
        a.add_quarantined(i, "x", "")
    b.add_quarantined(1, "y", "")
    b.add_quarantined(2, "z", "")
    a.merge(b)
    assert (a.accepted, a.quarantined, a.rejected, a.bytes_read) == (7, 1001, 4, 14)
    assert a.rejected_reasons == {"repeated header line": 3, "other": 1}
    assert len(a.quarantine) == 1000 and a.quarantine[-1].reason == "y"


def test_to_dict_is_json_ready_and_raw_is_safe_to_print():
    stats = IngestStats()
    stats.add_quarantined(3, "wrong field count", b"\x1b[2J\x00evil" + b"x" * 500)
    data = json.loads(json.dumps(stats.to_dict()))
    assert data["quarantine"][0]["line"] == 3 and data["quarantined"] == 1
    raw = stats.quarantine[0].raw
    assert len(raw) <= 200 and "\x1b" not in raw and "\x00" not in raw and raw.isprintable()
    assert isinstance(stats.quarantine[0], QuarantinedRecord)
