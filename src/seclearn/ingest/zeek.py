"""Zeek conn logs: the native TSV format and Zeek's columns written as CSV.

``zeek-tsv`` reads Zeek's ASCII logs: ``#separator``, ``#set_separator``,
``#empty_field``, ``#unset_field``, ``#fields`` and ``#types`` header lines (they may
appear again mid-file, as when rotated logs are concatenated), data lines, ``#close``.
The unset value (``-``) becomes missing, the empty value (``(empty)``) an empty string.
IoT-23's ``conn.log.labeled`` separates its last three fields by three spaces instead of
a tab (``tunnel_parents   label   detailed-label``), in the ``#fields`` line and in the
data; such files are read as if the spaces were tabs.

``zeek-csv`` reads the same columns from a CSV with a header (as in the IoT-23 CSV
exports, where ``-`` was replaced by empty values).

Field mapping (both, and :mod:`seclearn.ingest.zeek_json`): ``id.orig_h`` -> src_ip,
``id.orig_p`` -> src_port, ``id.resp_h`` -> dst_ip, ``id.resp_p`` -> dst_port,
``duration`` -> duration_s, ``orig_bytes`` / ``resp_bytes`` -> src_bytes / dst_bytes,
``orig_pkts`` / ``resp_pkts`` -> src_pkts / dst_pkts; ``uid`` and the other fields are kept
under snake_case names. ``label`` (Malicious/Benign in any case, or 1/0) becomes the label;
``detailed-label`` (or ``detailed_label``) the attack_type of malicious rows
(``'malicious'`` when it is empty), and benign rows get ``'benign'``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from seclearn.config import Limits
from seclearn.errors import IngestError, LimitExceededError
from seclearn.ingest._chunks import ChunkAssembler
from seclearn.ingest._columns import clean_ports, header_cells, snake_case, unique_names
from seclearn.ingest._csv import CsvLayout, parse_block, stream_csv
from seclearn.ingest._labels import attack_types, binary_label
from seclearn.ingest._lines import Block, LineBlocks
from seclearn.ingest._records import IngestChunk, IngestStats
from seclearn.ingest._source import open_source

READER_TSV = ("seclearn.ingest.zeek:tsv", "1")
READER_CSV = ("seclearn.ingest.zeek:csv", "1")

RENAME = {
    "id.orig_h": "src_ip",
    "id.orig_p": "src_port",
    "id.resp_h": "dst_ip",
    "id.resp_p": "dst_port",
    "duration": "duration_s",
    "orig_bytes": "src_bytes",
    "resp_bytes": "dst_bytes",
    "orig_pkts": "src_pkts",
    "resp_pkts": "dst_pkts",
}
#: conn.log fields that hold numbers (used when a file does not declare #types).
NUMERIC_FIELDS = frozenset(
    {"ts", "id.orig_p", "id.resp_p", "duration", "orig_bytes", "resp_bytes", "missed_bytes",
     "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "ip_proto"}
)  # fmt: skip
BOOL_FIELDS = frozenset({"local_orig", "local_resp"})
NUMERIC_TYPES = frozenset({"time", "interval", "double", "count", "int", "port"})
LABEL_FIELDS = ("label", "detailed-label", "detailed_label")
_TRUE = ("T", "t", "true", "True", "TRUE", True)
_FALSE = ("F", "f", "false", "False", "FALSE", False)
_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")
_IOT23_GAP = "   "


def flow_name(zeek_field: str) -> str:
    """The flow-frame column name for a Zeek field name."""
    return RENAME.get(zeek_field, snake_case(zeek_field))


def to_bool(values: pd.Series) -> pd.Series:
    """Zeek booleans (``T``/``F``, also true/false) as pandas' nullable boolean."""
    if values.dtype == object:
        values = values.map(lambda v: v if isinstance(v, bool) else None if v is None else str(v))
    true = values.isin(_TRUE).to_numpy(dtype=bool)
    false = values.isin(_FALSE).to_numpy(dtype=bool)
    return pd.Series(pd.arrays.BooleanArray(true, ~(true | false)), index=values.index)


def looks_like_zeek_header(cells: list[str]) -> bool:
    """True if a CSV header has Zeek's connection-endpoint fields."""
    return {"id.orig_h", "id.resp_h"} <= {c.strip() for c in cells}


def to_flows(frame: pd.DataFrame, *, empty_value: str = "(empty)") -> pd.DataFrame:
    """Zeek fields (as parsed) to flow columns."""
    label_raw = frame["label"] if "label" in frame.columns else None
    detail = None
    for name in ("detailed-label", "detailed_label"):
        if name in frame.columns:
            detail = frame[name]
    out = frame.drop(columns=[c for c in LABEL_FIELDS if c in frame.columns])
    out.columns = unique_names([flow_name(str(c)) for c in out.columns])
    for name in out.columns:
        col = out[name]
        if name in BOOL_FIELDS and not pd.api.types.is_bool_dtype(col):
            out[name] = to_bool(col)
        elif pd.api.types.is_string_dtype(col) or col.dtype == object:
            is_empty = col.eq(empty_value).fillna(False)
            if bool(is_empty.any()):
                out[name] = col.mask(is_empty, "")
    for port in ("src_port", "dst_port"):
        if port in out.columns:
            out[port] = clean_ports(out[port])
    if label_raw is not None:
        label = binary_label(label_raw)
        out["label"] = label
        out["attack_type"] = attack_types(label, detail)
    return out


# -- TSV --------------------------------------------------------------------------------------
@dataclass
class _Header:
    """What the ``#`` lines of a Zeek log have declared so far."""

    separator: str = "\t"
    empty_field: str = "(empty)"
    unset_field: str = "-"
    fields: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    spaced: bool = False  # IoT-23: three spaces stand for the separator

    def apply(self, line: str, limits: Limits, source: str) -> bool:
        """Take one ``#`` line into account; True if the column layout changed."""
        if line.startswith("#separator"):
            value = _ESCAPE.sub(
                lambda m: chr(int(m.group(1), 16)), line[len("#separator") :].strip()
            )
            if len(value) != 1:
                raise IngestError(
                    f"{source}: Zeek #separator must be one character, got {value!r}. "
                    f"Only single-character separators (normally a tab) are supported."
                )
            self.separator = value
            return True
        key, _, rest = line.partition(self.separator)
        if key in ("#fields", "#types"):
            cells = rest.split(self.separator)
            if any(_IOT23_GAP in c for c in cells):
                self.spaced = True
                cells = [
                    part.strip() for c in cells for part in c.split(_IOT23_GAP) if part.strip()
                ]
            if len(cells) > limits.max_fields:
                raise LimitExceededError(
                    f"{source}: the Zeek {key} line lists {len(cells):,} fields, more than "
                    f"limits.max_fields ({limits.max_fields:,})."
                )
            if key == "#fields":
                self.fields, self.types = cells, []
            else:
                self.types = cells
            return True
        if key == "#empty_field":
            self.empty_field = rest
        elif key == "#unset_field":
            self.unset_field = rest
            return True
        return False

    def layout(self, source: str) -> CsvLayout:
        if not self.fields:
            raise IngestError(
                f"{source} has data lines before any '#fields' line: it is not a Zeek TSV log "
                f"(or its header was cut off). Restore the header or name another format."
            )
        if len(self.types) == len(self.fields):
            numeric = {
                f for f, t in zip(self.fields, self.types, strict=True) if t in NUMERIC_TYPES
            }
        else:
            numeric = set(NUMERIC_FIELDS) & set(self.fields)
        names = unique_names(self.fields)
        return CsvLayout(
            names=tuple(names),
            numeric=frozenset(n for n, f in zip(names, self.fields, strict=True) if f in numeric),
            delimiter=self.separator,
            null_values=(self.unset_field, ""),
        )


def _segments(block: Block) -> Iterator[tuple[str, Block]]:
    """Split a block into ``("directive", line)`` and ``("data", lines)`` pieces, in order."""
    data = block.data
    if not data.startswith(b"#") and b"\n#" not in data:
        yield "data", block
        return
    pos, number = 0, block.first_line
    while pos < len(data):
        if data.startswith(b"#", pos):
            end = data.find(b"\n", pos)
            yield "directive", Block(data[pos:end].rstrip(b"\r"), number)
            number += 1
            pos = end + 1
        else:
            nxt = data.find(b"\n#", pos)
            end = len(data) if nxt < 0 else nxt + 1
            yield "data", Block(data[pos:end] if pos or end < len(data) else data, number)
            if nxt >= 0:
                number += data.count(b"\n", pos, end)
            pos = end


def iter_zeek_tsv(path: Path, *, limits: Limits, chunk_rows: int) -> Iterator[IngestChunk]:
    """Read a Zeek TSV log (conn.log, plain or IoT-23 labeled) in chunks."""
    stats = IngestStats()
    header = _Header()
    with open_source(path, limits) as src:
        lines = LineBlocks(src, limits, stats, comment_prefix=b"#")
        if not lines.peek_lines(1):
            raise IngestError(
                f"{path.name} is empty (no non-blank line); there is nothing to read."
            )
        assembler = ChunkAssembler(
            stats=stats,
            chunk_rows=chunk_rows,
            finish=lambda frame: to_flows(frame, empty_value=header.empty_field),
            bytes_read=lambda: src.bytes_read,
        )
        layout: CsvLayout | None = None
        for block in lines:
            for kind, part in _segments(block):
                if kind == "directive":
                    text = part.data.decode("utf-8", errors="replace")
                    if header.apply(text, limits, path.name) and layout is not None:
                        yield from assembler.flush()
                        layout = None
                    continue
                if layout is None:
                    layout = header.layout(path.name)
                if header.spaced:
                    part = Block(
                        part.data.replace(_IOT23_GAP.encode(), header.separator.encode()),
                        part.first_line,
                    )
                yield from assembler.add(parse_block(part, layout, stats))
        final = (
            layout if layout is not None else (header.layout(path.name) if header.fields else None)
        )
        empty = final.empty_table() if final is not None else pd.DataFrame()
        yield from assembler.close(empty)


def iter_zeek_csv(path: Path, *, limits: Limits, chunk_rows: int) -> Iterator[IngestChunk]:
    """Read Zeek conn fields from a CSV with a header line, in chunks."""
    stats = IngestStats()
    with open_source(path, limits) as src:
        lines = LineBlocks(src, limits, stats)
        _, line = lines.require_line()
        cells = header_cells(line, delimiter=",", limits=limits, source=path.name)
        if not looks_like_zeek_header(cells):
            raise IngestError(
                f"{path.name} is not a Zeek CSV: its header lacks 'id.orig_h' and 'id.resp_h'. "
                f"Header starts with {cells[:6]}."
            )
        names = unique_names(cells)
        layout = CsvLayout(
            names=tuple(names),
            numeric=frozenset(n for n in names if n in NUMERIC_FIELDS),
            quoting=True,
            null_values=("", "-"),
            header=tuple(cells),
        )
        assembler = ChunkAssembler(
            stats=stats, chunk_rows=chunk_rows, finish=to_flows, bytes_read=lambda: src.bytes_read
        )
        yield from stream_csv(lines, layout, stats, assembler)


__all__ = [
    "READER_CSV",
    "READER_TSV",
    "RENAME",
    "flow_name",
    "iter_zeek_csv",
    "iter_zeek_tsv",
    "looks_like_zeek_header",
    "to_flows",
]
