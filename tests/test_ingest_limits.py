"""Hard limits and whole-file failures: long lines, bombs, empty files, bad arguments."""

from __future__ import annotations

import gzip
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from seclearn.config import Limits
from seclearn.errors import (
    ConfigError,
    FormatDetectionError,
    IngestError,
    LimitExceededError,
)
from seclearn.ingest import detect_format, iter_flows, read_flows

KDD_ROW = (
    b"0,tcp,http,SF,215,45076"
    + b",0" * 16
    + b",1,1"
    + b",0.00" * 7
    + b",0,0"
    + b",0.00" * 8
    + b",normal,21\n"
)
ZEEK_HEAD = b"#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tproto\n#types\ttime\tstring\taddr\taddr\tenum\n"
ZEEK_ROW = b"1538478763.6\tC1\t10.0.0.1\t10.0.0.2\ttcp\n"
CIC_HEAD = b"Destination Port,Flow Duration,Total Fwd Packets,Total Backward Packets,Label\n"
CIC_ROW = b"80,1000,2,1,BENIGN\n"
UNSW_HEAD = b"id,dur,proto,service,state,spkts,dpkts,sbytes,dbytes,attack_cat,label\n"
UNSW_ROW = b"1,0.1,tcp,-,FIN,2,2,100,200,Normal,0\n"
RAW_ROW = b"1.1.1.1,1,2.2.2.2,53,udp,CON" + b",0" * 7 + b",dns" + b",0" * 33 + b",,0\n"
ZCSV_HEAD = b"ts,uid,id.orig_h,id.orig_p,id.resp_h,id.resp_p,proto,label,detailed-label\n"
ZCSV_ROW = b"1538478763.6,C1,10.0.0.1,1,10.0.0.2,80,tcp,Benign,-\n"
JSON_ROW = b'{"ts": 1538478763.6, "uid": "C1", "id.orig_h": "10.0.0.1"}\n'

#: format -> (lines before the records, one record)
MINIMAL = {
    "nsl-kdd": (b"", KDD_ROW),
    "unsw-nb15": (UNSW_HEAD, UNSW_ROW),
    "unsw-nb15-raw": (b"", RAW_ROW),
    "cicflowmeter": (CIC_HEAD, CIC_ROW),
    "zeek-tsv": (ZEEK_HEAD, ZEEK_ROW),
    "zeek-json": (b"", JSON_ROW),
    "zeek-csv": (ZCSV_HEAD, ZCSV_ROW),
}
FORMATS = list(MINIMAL)


def _file(tmp_path: Path, data: bytes, name: str = "in", gz: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes(gzip.compress(data, compresslevel=1) if gz else data)
    return path


@pytest.mark.parametrize("fmt", FORMATS)
def test_minimal_files_are_detected(tmp_path, fmt):
    head, row = MINIMAL[fmt]
    assert detect_format(_file(tmp_path, head + row * 2)) == fmt


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("gz", [False, True])
def test_overlong_line_is_quarantined_and_the_rest_read(tmp_path, fmt, gz):
    head, row = MINIMAL[fmt]
    data = head + row + b"x" * 5000 + b"\n" + row
    result = read_flows(
        _file(tmp_path, data, gz=gz), format=fmt, limits=Limits(max_line_bytes=1000)
    )
    assert result.stats.accepted == 2 and result.stats.quarantined == 1
    record = result.stats.quarantine[0]
    assert record.line == head.count(b"\n") + 2
    assert "max_line_bytes" in record.reason and len(record.raw) <= 200


@pytest.mark.parametrize("fmt", ["zeek-tsv", "cicflowmeter"])
def test_100_mb_line_is_skipped_without_holding_it(tmp_path, fmt):
    head, row = MINIMAL[fmt]
    path = tmp_path / "huge"
    with path.open("wb") as fh:
        fh.write(head + row)
        piece = b"9" * (1 << 20)
        for _ in range(100):
            fh.write(piece)
        fh.write(b"\n" + row * 3)
    tracemalloc.start()
    try:
        chunks = list(iter_flows(path, format=fmt))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(len(c.frame) for c in chunks) == 4
    assert sum(c.stats.quarantined for c in chunks) == 1
    assert peak < 40 * (1 << 20)  # the line is 100 MiB; blocks are 8 MiB


@pytest.mark.parametrize("fmt", FORMATS)
def test_gzip_bomb_stops_at_the_decompression_limit(tmp_path, fmt):
    head, row = MINIMAL[fmt]
    bomb = _file(tmp_path, head + row + b"\n" * (8 << 20), name="bomb.gz", gz=True)
    assert bomb.stat().st_size < 100_000
    with pytest.raises(LimitExceededError, match="max_decompressed_bytes"):
        read_flows(bomb, format=fmt, limits=Limits(max_decompressed_bytes=1 << 20))


def test_file_over_size_limit_is_refused_before_reading(tmp_path):
    path = _file(tmp_path, ZEEK_HEAD + ZEEK_ROW * 10)
    with pytest.raises(LimitExceededError, match="max_file_bytes"):
        read_flows(path, limits=Limits(max_file_bytes=100))


@pytest.mark.parametrize("fmt", [*FORMATS, None])
@pytest.mark.parametrize("content", [b"", b"\n  \r\n\n"], ids=["zero-bytes", "blank-lines"])
def test_empty_file_raises_is_empty(tmp_path, fmt, content):
    path = _file(tmp_path, content)
    with pytest.raises(IngestError, match="is empty"):
        read_flows(path, format=fmt)


def test_empty_gzip_raises_is_empty(tmp_path):
    with pytest.raises(IngestError, match="is empty"):
        read_flows(_file(tmp_path, b"", gz=True), format="zeek-tsv")


@pytest.mark.parametrize("fmt", ["unsw-nb15", "cicflowmeter", "zeek-csv", "zeek-tsv"])
def test_header_without_records_gives_empty_frame_and_zero_counts(tmp_path, fmt):
    result = read_flows(_file(tmp_path, MINIMAL[fmt][0]), format=fmt)
    assert len(result.frame) == 0 and result.stats.records == 0
    assert {"label", "attack_type"} <= set(result.frame.columns)


def test_header_with_too_many_fields_raises(tmp_path):
    header = (
        b",".join(b"c%d" % i for i in range(50))
        + b",Flow Duration,Total Fwd Packets,Total Backward Packets\n"
    )
    with pytest.raises(LimitExceededError, match="max_fields"):
        read_flows(
            _file(tmp_path, header + b"1\n"), format="cicflowmeter", limits=Limits(max_fields=20)
        )


def test_overlong_header_raises(tmp_path):
    with pytest.raises(LimitExceededError, match="max_line_bytes"):
        read_flows(
            _file(tmp_path, b"a" * 5000 + b"\n" + CIC_ROW),
            format="cicflowmeter",
            limits=Limits(max_line_bytes=1000),
        )


def test_deep_json_is_quarantined(tmp_path):
    deep = b'{"ts": 1, "uid": "C", "x": ' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"}\n"
    result = read_flows(
        _file(tmp_path, JSON_ROW + deep), format="zeek-json", limits=Limits(max_json_depth=32)
    )
    assert result.stats.accepted == 1 and "max_json_depth" in result.stats.quarantine[0].reason


def test_missing_file_and_folder_raise_ingest_error(tmp_path):
    with pytest.raises(IngestError, match="does not exist"):
        read_flows(tmp_path / "nope.log", format="zeek-tsv")
    with pytest.raises(IngestError, match="not a regular file"):
        read_flows(tmp_path, format="zeek-tsv")


def test_zip_archive_is_refused_with_advice(tmp_path):
    path = tmp_path / "flows.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("flows.csv", CIC_HEAD + CIC_ROW)
    with pytest.raises(FormatDetectionError, match="zip"):
        read_flows(path)


def test_truncated_gzip_raises_ingest_error(tmp_path):
    packed = gzip.compress(ZEEK_HEAD + ZEEK_ROW * 20000)
    path = tmp_path / "cut.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(IngestError, match="gzip"):
        read_flows(path, format="zeek-tsv")


def test_binary_file_is_not_detected(tmp_path):
    with pytest.raises(FormatDetectionError, match="binary"):
        detect_format(_file(tmp_path, bytes(range(256)) * 10))


def test_zeek_tsv_without_fields_header_raises(tmp_path):
    with pytest.raises(IngestError, match="#fields"):
        read_flows(_file(tmp_path, ZEEK_ROW), format="zeek-tsv")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"format": "pcap"}, "Allowed formats"),
        ({"format": "zeek-tsv", "mapping": {"format": "csv"}}, "only used with format 'table'"),
        ({"format": "table"}, "needs a column mapping"),
        ({"chunk_rows": 0}, "chunk_rows"),
    ],
)
def test_bad_arguments_raise_config_error(tmp_path, kwargs, match):
    path = _file(tmp_path, ZEEK_HEAD + ZEEK_ROW)
    with pytest.raises(ConfigError, match=match):
        iter_flows(path, **kwargs)
