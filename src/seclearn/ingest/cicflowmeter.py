"""CICFlowMeter CSV: CIC-IDS2017 and CSE-CIC-IDS2018 flow exports.

Column names are stripped and put in snake_case (``' Flow Bytes/s'`` ->
``flow_bytes_s``); the abbreviated CSE-CIC-IDS2018 names (``Tot Fwd Pkts``,
``Flow Byts/s``, ``Fwd Pkt Len Max``, ...) are mapped onto the same names as 2017's, so
that a model fitted on one year reads the other. ``Flow Duration`` is in microseconds
and becomes ``duration_s`` in seconds; protocol numbers become names (6 -> tcp);
``Flow ID`` becomes ``meta_flow_id``.

``Timestamp`` is parsed day first (``3/7/2017 8:55``, ``03/07/2017 08:55:58 AM``,
``02/03/2018 08:47:38``) and taken as UTC, because the files carry no zone (the
captures were recorded in UTC-3); values that are not dates (some published copies
replaced them by integer codes) leave ``ts`` missing.
``Infinity`` and ``NaN`` in numeric columns become missing values. Header lines repeated
inside the data (CSE-CIC-IDS2018 has them) are rejected with the reason
``"repeated header line"``. Labels that are not UTF-8 (the en dash of
``Web Attack – Brute Force`` written as cp1252 byte 0x96) are decoded as cp1252.
``BENIGN`` (any case) is label 0, ``NeedManualLabel`` / ``No Label`` are unlabeled, and
any other label is 1 with the cleaned label as attack_type.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from seclearn.config import Limits
from seclearn.errors import IngestError
from seclearn.ingest._chunks import ChunkAssembler
from seclearn.ingest._columns import clean_ports, header_cells, snake_case, unique_names
from seclearn.ingest._csv import CsvLayout, stream_csv
from seclearn.ingest._labels import clean_word, per_value
from seclearn.ingest._lines import LineBlocks
from seclearn.ingest._records import IngestChunk, IngestStats
from seclearn.ingest._source import open_source
from seclearn.schema import META_PREFIX

READER = ("seclearn.ingest.cicflowmeter", "1")

#: CSE-CIC-IDS2018 / CICFlowMeter-V4 names (snake_case) -> CIC-IDS2017 names (snake_case).
ALIASES_2018 = {
    "src_ip": "source_ip", "src_port": "source_port", "dst_ip": "destination_ip",
    "dst_port": "destination_port", "tot_fwd_pkts": "total_fwd_packets",
    "tot_bwd_pkts": "total_backward_packets", "totlen_fwd_pkts": "total_length_of_fwd_packets",
    "totlen_bwd_pkts": "total_length_of_bwd_packets", "fwd_pkt_len_max": "fwd_packet_length_max",
    "fwd_pkt_len_min": "fwd_packet_length_min", "fwd_pkt_len_mean": "fwd_packet_length_mean",
    "fwd_pkt_len_std": "fwd_packet_length_std", "bwd_pkt_len_max": "bwd_packet_length_max",
    "bwd_pkt_len_min": "bwd_packet_length_min", "bwd_pkt_len_mean": "bwd_packet_length_mean",
    "bwd_pkt_len_std": "bwd_packet_length_std", "flow_byts_s": "flow_bytes_s",
    "flow_pkts_s": "flow_packets_s", "fwd_iat_tot": "fwd_iat_total", "bwd_iat_tot": "bwd_iat_total",
    "fwd_header_len": "fwd_header_length", "bwd_header_len": "bwd_header_length",
    "fwd_pkts_s": "fwd_packets_s", "bwd_pkts_s": "bwd_packets_s",
    "pkt_len_min": "min_packet_length", "pkt_len_max": "max_packet_length",
    "pkt_len_mean": "packet_length_mean", "pkt_len_std": "packet_length_std",
    "pkt_len_var": "packet_length_variance", "fin_flag_cnt": "fin_flag_count",
    "syn_flag_cnt": "syn_flag_count", "rst_flag_cnt": "rst_flag_count",
    "psh_flag_cnt": "psh_flag_count", "ack_flag_cnt": "ack_flag_count",
    "urg_flag_cnt": "urg_flag_count", "cwe_flag_cnt": "cwe_flag_count",
    "ece_flag_cnt": "ece_flag_count", "pkt_size_avg": "average_packet_size",
    "fwd_seg_size_avg": "avg_fwd_segment_size", "bwd_seg_size_avg": "avg_bwd_segment_size",
    "fwd_byts_b_avg": "fwd_avg_bytes_bulk", "fwd_pkts_b_avg": "fwd_avg_packets_bulk",
    "fwd_blk_rate_avg": "fwd_avg_bulk_rate", "bwd_byts_b_avg": "bwd_avg_bytes_bulk",
    "bwd_pkts_b_avg": "bwd_avg_packets_bulk", "bwd_blk_rate_avg": "bwd_avg_bulk_rate",
    "subflow_fwd_pkts": "subflow_fwd_packets", "subflow_fwd_byts": "subflow_fwd_bytes",
    "subflow_bwd_pkts": "subflow_bwd_packets", "subflow_bwd_byts": "subflow_bwd_bytes",
    "init_fwd_win_byts": "init_win_bytes_forward", "init_bwd_win_byts": "init_win_bytes_backward",
    "fwd_act_data_pkts": "act_data_pkt_fwd", "fwd_seg_size_min": "min_seg_size_forward",
}  # fmt: skip
#: CIC-IDS2017 names (snake_case) -> flow names.
RENAME = {
    "flow_id": f"{META_PREFIX}flow_id",
    "source_ip": "src_ip",
    "source_port": "src_port",
    "destination_ip": "dst_ip",
    "destination_port": "dst_port",
    "protocol": "proto",
    "timestamp": "ts",
    "flow_duration": "duration_s",
    "total_fwd_packets": "src_pkts",
    "total_backward_packets": "dst_pkts",
    "total_length_of_fwd_packets": "src_bytes",
    "total_length_of_bwd_packets": "dst_bytes",
}
TEXT_COLUMNS = frozenset({f"{META_PREFIX}flow_id", "src_ip", "dst_ip", "ts", "label"})
#: IANA protocol numbers seen in flow exports.
PROTOCOL_NAMES = {0: "hopopt", 1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre",
                  50: "esp", 51: "ah", 58: "ipv6-icmp", 89: "ospf", 132: "sctp"}  # fmt: skip
_NULLS = ("", "NaN", "nan", "Infinity", "-Infinity", "+Infinity", "inf", "-inf", "Inf", "-Inf")
_TIME_FORMATS = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %I:%M:%S %p",
    "%d/%m/%Y %I:%M %p",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
)
_UNLABELED = frozenset({"needmanuallabel", "no label", "unlabeled"})
_SPACES = re.compile(r"\s+")


def flow_name(header_cell: str) -> str:
    """The flow-frame column name for one CICFlowMeter header cell (2017 or 2018 naming)."""
    name = snake_case(header_cell)
    name = ALIASES_2018.get(name, name)
    return RENAME.get(name, name)


def looks_like_cicflowmeter(cells: list[str]) -> bool:
    """True if a header line has CICFlowMeter's flow-duration and forward-packet columns."""
    names = {flow_name(c) for c in cells}
    return {"duration_s", "src_pkts", "dst_pkts"} <= names


def parse_timestamps(values: pd.Series) -> pd.Series:
    """Epoch seconds from CIC day-first dates; NaN for anything that is not such a date.

    Each distinct text is parsed once (flows share their timestamps by the thousand).
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = pd.Series(uniques, dtype="str").str.strip()
    seconds = np.full(len(text) + 1, np.nan)
    todo = text.str.contains("/", regex=False).fillna(False) | text.str.contains(
        "-", regex=False
    ).fillna(False)
    for fmt in _TIME_FORMATS:
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce", utc=True)
        good = parsed[parsed.notna()]
        if len(good):
            epoch = (good - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
            seconds[good.index.to_numpy()] = epoch.to_numpy(dtype="float64")
            todo[good.index] = False
    return pd.Series(seconds[codes], index=values.index, dtype="float64")


def clean_labels(values: pd.Series) -> pd.Series:
    """Labels with stray spaces collapsed and U+FFFD (a lost en dash) turned into '–'."""

    def clean(value: object) -> str | None:
        word = clean_word(value)
        return None if word is None else _SPACES.sub(" ", word.replace("\ufffd", "–"))

    return pd.Series(per_value(values, clean), index=values.index, dtype="str")


def to_flows(frame: pd.DataFrame) -> pd.DataFrame:
    """Source columns (already renamed) to flow columns."""
    out = frame
    if "duration_s" in out.columns:
        out["duration_s"] = out["duration_s"] / 1e6
    if "proto" in out.columns:
        numbers = pd.to_numeric(out["proto"], errors="coerce")
        names = numbers.map(PROTOCOL_NAMES).astype("object")
        other = (
            numbers.notna() & names.isna() & (numbers % 1 == 0) & (numbers.abs() < 1e9)
        ).to_numpy()
        names[other] = numbers[other].astype("int64").astype("str")
        out["proto"] = names.astype("str")
    for port in ("src_port", "dst_port"):
        if port in out.columns:
            out[port] = clean_ports(out[port])
    if "ts" in out.columns:
        out["ts"] = parse_timestamps(out["ts"])
    if "label" in out.columns:
        raw = clean_labels(out.pop("label"))
        lower = raw.str.lower()
        benign = lower.eq("benign").fillna(False).to_numpy(dtype=bool)
        known = (raw.notna() & ~lower.isin(_UNLABELED)).to_numpy(dtype=bool)
        label = np.where(benign, 0.0, 1.0)
        label[~known] = np.nan
        out["label"] = pd.Series(label, index=out.index).astype("Int8")
        out["attack_type"] = raw.where(~benign, "benign").where(known, None)
    return out


def iter_cicflowmeter(path: Path, *, limits: Limits, chunk_rows: int) -> Iterator[IngestChunk]:
    """Read a CICFlowMeter CSV (CIC-IDS2017 or CSE-CIC-IDS2018 naming) in chunks."""
    stats = IngestStats()
    with open_source(path, limits) as src:
        lines = LineBlocks(src, limits, stats, fallback_encoding="cp1252")
        _, line = lines.require_line()
        cells = header_cells(line, delimiter=",", limits=limits, source=path.name)
        if not looks_like_cicflowmeter(cells):
            raise IngestError(
                f"{path.name} is not a CICFlowMeter CSV: its header lacks 'Flow Duration', "
                f"'Total Fwd Packets' / 'Tot Fwd Pkts' or 'Total Backward Packets' / 'Tot Bwd Pkts'. "
                f"Header starts with {cells[:6]}."
            )
        names = unique_names([flow_name(c) for c in cells])
        layout = CsvLayout(
            names=tuple(names),
            numeric=frozenset(names) - TEXT_COLUMNS,
            null_values=_NULLS,
            header=tuple(cells),
        )
        assembler = ChunkAssembler(
            stats=stats, chunk_rows=chunk_rows, finish=to_flows, bytes_read=lambda: src.bytes_read
        )
        yield from stream_csv(lines, layout, stats, assembler)


__all__ = [
    "ALIASES_2018",
    "READER",
    "RENAME",
    "clean_labels",
    "flow_name",
    "iter_cicflowmeter",
    "looks_like_cicflowmeter",
    "parse_timestamps",
    "to_flows",
]
