"""The generic table reader and its TOML column mapping."""

from __future__ import annotations

import pandas as pd
import pytest

from seclearn.errors import ConfigError, IngestError
from seclearn.ingest import TableMapping, load_mapping, read_flows

MAPPING_TOML = """
format = "csv"
[columns]
src_ip = "SourceAddress"
dst_port = "DestPort"
src_bytes = "Bytes Out"
ts = "EventTime"
[label]
column = "Verdict"
benign_values = ["clean", "ok"]
attack_type_column = "Family"
[time]
format = "%Y-%m-%d %H:%M:%S"
"""
CSV = (
    "EventTime,SourceAddress,DestPort,Bytes Out,Verdict,Family,Note\n"
    '2024-01-02 03:04:05,10.0.0.1,443,1200,clean,,"hello, world"\n'
    "2024-01-02 03:04:06,10.0.0.2,80,99,Bad,Emotet,\n"
    "not a time,10.0.0.3,99999,7,OK,,x\n"
)


def _mapping(tmp_path, text: str = MAPPING_TOML):
    path = tmp_path / "mapping.toml"
    path.write_text(text)
    return path


def test_csv_table_maps_columns_labels_times_and_keeps_extras(tmp_path):
    data = tmp_path / "events.csv"
    data.write_text(CSV)
    result = read_flows(data, mapping=_mapping(tmp_path))
    frame = result.frame
    assert result.format == "table" and result.stats.accepted == 3
    assert frame["src_ip"].tolist() == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert frame["ts"].iloc[0] == pd.Timestamp("2024-01-02 03:04:05", tz="UTC").timestamp()
    assert pd.isna(frame["ts"].iloc[2])  # unparseable time: missing, row kept
    assert frame["dst_port"].iloc[0] == 443 and pd.isna(frame["dst_port"].iloc[2])
    assert frame["label"].tolist() == [0, 1, 0]
    assert frame["attack_type"].tolist() == ["benign", "Emotet", "benign"]
    assert frame["src_bytes"].tolist() == [1200, 99, 7] and frame["note"].iloc[0] == "hello, world"
    assert not {"Verdict", "Family", "verdict", "family"} & set(frame.columns)


def test_csv_table_quarantines_text_in_a_numeric_column(tmp_path):
    data = tmp_path / "events.csv"
    data.write_text(CSV + "2024-01-02 03:04:07,10.0.0.4,22,lots,ok,,\n")
    result = read_flows(data, mapping=_mapping(tmp_path))
    assert result.stats.accepted == 3 and result.stats.quarantined == 1
    assert result.stats.quarantine[0].line == 5
    assert "'Bytes Out': 'lots' is not a number" in result.stats.quarantine[0].reason


def test_jsonl_and_parquet_tables_read_the_same_rows(tmp_path):
    frame = pd.DataFrame(
        {
            "t": [1_700_000_000_000, 1_700_000_001_000],
            "ip": ["1.2.3.4", "5.6.7.8"],
            "v": ["benign", "evil"],
            "n": [1, 2],
        }
    )
    config = {
        "columns": {"ts": "t", "src_ip": "ip"},
        "label": {"column": "v"},
        "time": {"unit": "ms"},
    }
    (tmp_path / "t.jsonl").write_text(frame.to_json(orient="records", lines=True) + "not json\n")
    frame.to_parquet(tmp_path / "t.parquet")
    from_json = read_flows(tmp_path / "t.jsonl", mapping={"format": "jsonl", **config})
    from_parquet = read_flows(tmp_path / "t.parquet", mapping={"format": "parquet", **config})
    assert from_json.stats.quarantined == 1 and from_json.stats.quarantine[0].line == 3
    for result in (from_json, from_parquet):
        assert result.frame["ts"].tolist() == [1_700_000_000.0, 1_700_000_001.0]
        assert result.frame["label"].tolist() == [0, 1]
        assert result.frame["attack_type"].tolist() == ["benign", "malicious"]
        assert result.frame["n"].tolist() == [1, 2]


def test_mapping_naming_a_missing_column_raises(tmp_path):
    data = tmp_path / "events.csv"
    data.write_text("a,b\n1,2\n")
    with pytest.raises(IngestError, match="SourceAddress"):
        read_flows(data, mapping=_mapping(tmp_path))


def test_corrupt_parquet_raises_ingest_error(tmp_path):
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 100 + b"PAR1")
    with pytest.raises(IngestError, match="Parquet"):
        read_flows(path, mapping={"format": "parquet"})


def test_load_mapping_reads_toml(tmp_path):
    mapping = load_mapping(_mapping(tmp_path))
    assert isinstance(mapping, TableMapping)
    assert mapping.columns["src_ip"] == "SourceAddress"
    assert (
        mapping.label.benign_values == ("clean", "ok")
        and mapping.time_format == "%Y-%m-%d %H:%M:%S"
    )


@pytest.mark.parametrize(
    ("toml", "match"),
    [
        ('format = "xlsx"', r"'format' must be one of csv, jsonl, parquet; got 'xlsx'"),
        ('format = "csv"\ncolour = 1', r"unknown key 'colour'.*Allowed keys"),
        ('format = "csv"\n[columns]\nsource = "x"', r"unknown flow field 'columns.source'.*src_ip"),
        ('format = "csv"\n[columns]\nsrc_ip = 3', r"'columns.src_ip' must be a non-empty string"),
        (
            'format = "csv"\n[label]\nbenign_values = ["a"]',
            r"'label.column' must be a non-empty string",
        ),
        (
            'format = "csv"\n[label]\ncolumn = "v"\nbenign_values = "a"',
            r"'label.benign_values' must be a list",
        ),
        ('format = "csv"\n[time]\nunit = "h"', r"'time.unit' must be one of s, ms, us, ns"),
        ('format = "csv"\ndelimiter = ";;"', r"'delimiter' must be a single character"),
        ('format = "csv"\n[columns]\nsrc_ip = "a"\ndst_ip = "a"', r"mapped more than once"),
        ("format = ", r"not valid TOML"),
    ],
)
def test_bad_mapping_says_which_key_and_what_is_allowed(tmp_path, toml, match):
    with pytest.raises(ConfigError, match=match):
        load_mapping(_mapping(tmp_path, toml))


def test_missing_mapping_file_raises_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_mapping(tmp_path / "nope.toml")
