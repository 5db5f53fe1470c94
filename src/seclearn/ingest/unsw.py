"""UNSW-NB15: the partition CSVs and the raw Argus/Bro layout.

Two formats share this module:

* ``unsw-nb15`` – the training/testing partition CSVs (header, UTF-8 BOM, ``id`` first,
  ``attack_cat`` and ``label`` last);
* ``unsw-nb15-raw`` – the raw ``UNSW-NB15_1..4.csv`` layout, headerless with 49 columns
  (srcip, sport, ... attack_cat, Label), or with a header in the raw names (as in
  samples of those files, where ``'ct_src_ ltm'`` is spelt with a space).

Raw feature names are renamed to the partition's names where they mean the same
(``Sintpkt`` -> ``sinpkt``, ``smeansz`` -> ``smean``, ``res_bdy_len`` ->
``response_body_len``, ...), so that a model fitted on one reads the other. ``Stime``
becomes ``ts`` and ``Ltime`` ``meta_ltime``; ``id`` becomes ``meta_id``. attack_cat
values are stripped (`` Fuzzers `` -> ``Fuzzers``), ``Backdoors`` becomes ``Backdoor``,
and rows with label 0 get attack_type ``'benign'``. Labels may be 0/1 or
``Benign``/``Malicious``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from seclearn.config import Limits
from seclearn.errors import IngestError
from seclearn.ingest._chunks import ChunkAssembler
from seclearn.ingest._columns import clean_ports, header_cells, snake_case, unique_names
from seclearn.ingest._csv import CsvLayout, stream_csv
from seclearn.ingest._labels import attack_types, binary_label, normalised_text
from seclearn.ingest._lines import LineBlocks
from seclearn.ingest._records import IngestChunk, IngestStats
from seclearn.ingest._source import open_source
from seclearn.schema import META_PREFIX

READER = ("seclearn.ingest.unsw", "1")

#: The 49 columns of the headerless raw files, in order (names as UNSW publishes them).
RAW_COLUMNS = (
    "srcip", "sport", "dstip", "dsport", "proto", "state", "dur", "sbytes", "dbytes", "sttl",
    "dttl", "sloss", "dloss", "service", "Sload", "Dload", "Spkts", "Dpkts", "swin", "dwin",
    "stcpb", "dtcpb", "smeansz", "dmeansz", "trans_depth", "res_bdy_len", "Sjit", "Djit",
    "Stime", "Ltime", "Sintpkt", "Dintpkt", "tcprtt", "synack", "ackdat", "is_sm_ips_ports",
    "ct_state_ttl", "ct_flw_http_mthd", "is_ftp_login", "ct_ftp_cmd", "ct_srv_src",
    "ct_srv_dst", "ct_dst_ltm", "ct_src_ltm", "ct_src_dport_ltm", "ct_dst_sport_ltm",
    "ct_dst_src_ltm", "attack_cat", "Label",
)  # fmt: skip

#: snake_case source name -> flow name (canonical fields, partition names, meta columns).
RENAME = {
    "id": f"{META_PREFIX}id",
    "srcip": "src_ip",
    "sport": "src_port",
    "dstip": "dst_ip",
    "dsport": "dst_port",
    "state": "conn_state",
    "dur": "duration_s",
    "sbytes": "src_bytes",
    "dbytes": "dst_bytes",
    "spkts": "src_pkts",
    "dpkts": "dst_pkts",
    "smeansz": "smean",
    "dmeansz": "dmean",
    "res_bdy_len": "response_body_len",
    "sintpkt": "sinpkt",
    "dintpkt": "dinpkt",
    "stime": "ts",
    "ltime": f"{META_PREFIX}ltime",
    "attack_cat": "attack_type",
}
TEXT_COLUMNS = frozenset(
    {
        "src_ip",
        "src_port",
        "dst_ip",
        "dst_port",
        "proto",
        "service",
        "conn_state",
        "attack_type",
        "label",
    }
)
#: Header names that mark the partition files and the raw layout.
PARTITION_MARKERS = frozenset({"dur", "proto", "state", "spkts", "dpkts", "sbytes", "dbytes"})
RAW_MARKERS = frozenset({"stime", "sintpkt", "smeansz", "sbytes"})
_CATEGORY_FIXES = {"backdoors": "Backdoor", "normal": "Normal"}
_NULLS = ("", " ", "-")


def header_kind(cells: list[str]) -> str | None:
    """``'unsw-nb15'`` or ``'unsw-nb15-raw'`` for a UNSW header line, else None."""
    names = {snake_case(c) for c in cells}
    if names >= RAW_MARKERS:
        return "unsw-nb15-raw"
    if names >= PARTITION_MARKERS:
        return "unsw-nb15"
    return None


def looks_like_raw_line(fields: list[bytes]) -> bool:
    """True for a headerless raw UNSW-NB15 line: 49 fields, IPv4 first and third."""

    def ip(value: bytes) -> bool:
        parts = value.strip().split(b".")
        return (len(parts) == 4 and all(p.isdigit() for p in parts)) or b":" in value

    return len(fields) == len(RAW_COLUMNS) and ip(fields[0]) and ip(fields[2])


def to_flows(frame: pd.DataFrame) -> pd.DataFrame:
    """Source columns (already renamed) to flow columns."""
    out = frame
    for port in ("src_port", "dst_port"):
        if port in out.columns:
            out[port] = clean_ports(out[port])
    for name in ("proto", "service", "conn_state"):
        if name in out.columns:
            text = normalised_text(out[name])
            out[name] = text if name == "conn_state" else text.str.lower()
    category = None
    if "attack_type" in out.columns:
        category = normalised_text(out.pop("attack_type"))
        fixed = category.str.lower().map(_CATEGORY_FIXES)
        category = fixed.where(fixed.notna(), category)
    if "label" in out.columns:
        label = binary_label(out.pop("label"))
    else:
        label = pd.Series(pd.NA, index=out.index, dtype="Int8")
    if category is not None:  # a row without a label but with a category
        from_cat = binary_label(category, benign=frozenset({"normal"}), malicious=None)
        label = label.fillna(from_cat)
        category = category.where(category.str.lower() != "normal", None)
    out["label"] = label.astype("Int8")
    out["attack_type"] = attack_types(out["label"], category)
    return out


def _layout(names: list[str], header: tuple[str, ...] | None) -> CsvLayout:
    renamed = unique_names([RENAME.get(snake_case(n), snake_case(n)) for n in names])
    return CsvLayout(
        names=tuple(renamed),
        numeric=frozenset(renamed) - TEXT_COLUMNS,
        null_values=_NULLS,
        header=header,
    )


def iter_unsw(path: Path, *, limits: Limits, chunk_rows: int, raw: bool) -> Iterator[IngestChunk]:
    """Read a UNSW-NB15 partition file (``raw=False``) or a raw-layout file (``raw=True``)."""
    stats = IngestStats()
    fmt = "unsw-nb15-raw" if raw else "unsw-nb15"
    with open_source(path, limits) as src:
        lines = LineBlocks(src, limits, stats)
        head = lines.peek_lines(1)
        if not head:
            raise IngestError(
                f"{path.name} is empty (no non-blank line); there is nothing to read."
            )
        if raw and looks_like_raw_line(head[0].split(b",")):
            layout = _layout(list(RAW_COLUMNS), None)
        else:
            _, line = lines.require_line()
            cells = header_cells(line, delimiter=",", limits=limits, source=path.name)
            kind = header_kind(cells)
            if kind is None:
                raise IngestError(
                    f"{path.name} is not a {fmt} file: its first line {line[:120]!r} is neither a "
                    f"UNSW-NB15 header nor a 49-field raw record. Check the file or name its format."
                )
            layout = _layout(cells, tuple(cells))
        assembler = ChunkAssembler(
            stats=stats, chunk_rows=chunk_rows, finish=to_flows, bytes_read=lambda: src.bytes_read
        )
        yield from stream_csv(lines, layout, stats, assembler)


__all__ = [
    "RAW_COLUMNS",
    "READER",
    "RENAME",
    "header_kind",
    "iter_unsw",
    "looks_like_raw_line",
    "to_flows",
]
