"""Generic tables (CSV with a header, Parquet, JSON lines) read through a column mapping.

The :class:`~seclearn.ingest.mapping.TableMapping` names which source column holds each
flow field; every other column is kept under its snake_case name. For CSV, which columns
hold numbers is decided on the first block of the file (a column whose values there are
all numbers is numeric), and columns mapped to numeric flow fields (bytes, packets,
duration) are always numeric; a value in a numeric column that is not a number quarantines
its row. Times that do not parse (with the mapping's ``[time] format``, or as
epoch numbers / ISO-8601 without one) leave ``ts`` missing rather than dropping the row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from seclearn.config import Limits
from seclearn.errors import IngestError, LimitExceededError
from seclearn.ingest._chunks import ChunkAssembler
from seclearn.ingest._columns import clean_ports, header_cells, snake_case, unique_names
from seclearn.ingest._csv import CsvLayout, parse_block
from seclearn.ingest._labels import attack_types, binary_label
from seclearn.ingest._lines import LineBlocks
from seclearn.ingest._records import IngestChunk, IngestStats
from seclearn.ingest._source import check_path, open_source
from seclearn.ingest.mapping import TIME_UNITS, TableMapping
from seclearn.ingest.zeek_json import BadRecord, flatten
from seclearn.schema import FLOW_SCHEMA

READER = ("seclearn.ingest.table", "1")
_NULLS = ("", "-", "NA", "N/A", "n/a", "null", "NULL", "None", "NaN", "nan")


def _text(values: pd.Series) -> pd.Series:
    return values.astype("str").where(values.notna(), None).astype("str")


def epoch_from(values: pd.Series, mapping: TableMapping) -> pd.Series:
    """Epoch seconds (UTC) from a time column; NaN where it does not parse."""
    if mapping.time_format is None:
        numbers = (
            pd.to_numeric(values, errors="coerce").astype("float64") * TIME_UNITS[mapping.time_unit]
        )
        if pd.api.types.is_numeric_dtype(values) or numbers.notna().sum() >= values.notna().sum():
            return numbers
        parsed = pd.to_datetime(_text(values), format="ISO8601", errors="coerce", utc=True)
    else:
        parsed = pd.to_datetime(
            _text(values), format=mapping.time_format, errors="coerce", utc=True
        )
    seconds = (parsed - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    return seconds.astype("float64")


class TableFlows:
    """The ``finish`` step of the table reader: source columns to flow columns."""

    def __init__(self, mapping: TableMapping) -> None:
        self.mapping = mapping

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        m = self.mapping
        renamed = {source: flow for flow, source in m.columns.items()}
        label_cols = [m.label.column, m.label.attack_type_column] if m.label else []
        kept = [c for c in frame.columns if c not in label_cols]
        out = frame[kept]
        mapped = [renamed[c] for c in kept if c in renamed]
        others = [snake_case(str(c)) for c in kept if c not in renamed]
        names = unique_names(mapped + others)
        it_mapped, it_other = iter(names[: len(mapped)]), iter(names[len(mapped) :])
        out.columns = [next(it_mapped) if c in renamed else next(it_other) for c in kept]
        if "ts" in m.columns and "ts" in out.columns:
            out["ts"] = epoch_from(out["ts"], m)
        for port in ("src_port", "dst_port"):
            if port in out.columns:
                out[port] = clean_ports(out[port])
        for name in ("proto", "service"):
            if name in out.columns:
                out[name] = _text(out[name]).str.strip().str.lower()
        if m.label is not None and m.label.column in frame.columns:
            benign = frozenset(m.label.benign_values)
            malicious = frozenset(m.label.malicious_values) if m.label.malicious_values else None
            label = binary_label(frame[m.label.column], benign=benign, malicious=malicious)
            detail = frame.get(m.label.attack_type_column) if m.label.attack_type_column else None
            out["label"] = label
            out["attack_type"] = attack_types(label, detail)
        return out


def _check_columns(present: list[str], mapping: TableMapping, source: str) -> None:
    missing = [c for c in mapping.source_columns() if c not in present]
    if missing:
        raise IngestError(
            f"{source} lacks the column(s) {missing} named in the mapping {mapping.source}. "
            f"Its columns are {present[:30]}. Fix the mapping or the file."
        )


def _infer_numeric(frame: pd.DataFrame, forced_text: set[str]) -> frozenset[str]:
    numeric = set()
    for name in frame.columns:
        if name in forced_text:
            continue
        values = frame[name]
        present = int(values.notna().sum())
        if present and int(pd.to_numeric(values, errors="coerce").notna().sum()) == present:
            numeric.add(name)
    return frozenset(numeric)


def _iter_csv(
    path: Path, mapping: TableMapping, limits: Limits, chunk_rows: int
) -> Iterator[IngestChunk]:
    stats = IngestStats()
    with open_source(path, limits) as src:
        lines = LineBlocks(src, limits, stats)
        _, line = lines.require_line()
        cells = header_cells(line, delimiter=mapping.delimiter, limits=limits, source=path.name)
        _check_columns(cells, mapping, path.name)
        names = tuple(unique_names(cells))
        text_layout = CsvLayout(
            names=names, delimiter=mapping.delimiter, quoting=True, null_values=_NULLS
        )
        assembler = ChunkAssembler(
            stats=stats,
            chunk_rows=chunk_rows,
            finish=TableFlows(mapping),
            bytes_read=lambda: src.bytes_read,
        )
        layout = None
        forced_text = set(mapping.source_columns()) - {mapping.columns.get("ts", "")}
        if mapping.time_format:
            forced_text.add(mapping.columns.get("ts", ""))
        forced_numeric = {
            source
            for flow, source in mapping.columns.items()
            if flow != "ts" and FLOW_SCHEMA.field(flow).kind == "float"
        }
        for block in lines:
            if layout is None:
                sample = parse_block(block, text_layout, IngestStats()).to_pandas()
                layout = CsvLayout(
                    names=names,
                    numeric=_infer_numeric(sample, forced_text) | forced_numeric,
                    delimiter=mapping.delimiter,
                    quoting=True,
                    null_values=_NULLS,
                    header=tuple(cells),
                )
            yield from assembler.add(parse_block(block, layout, stats))
        yield from assembler.close((layout or text_layout).empty_table())


def _iter_jsonl(
    path: Path, mapping: TableMapping, limits: Limits, chunk_rows: int
) -> Iterator[IngestChunk]:
    stats = IngestStats()
    with open_source(path, limits) as src:
        lines = LineBlocks(src, limits, stats)
        assembler = ChunkAssembler(
            stats=stats,
            chunk_rows=chunk_rows,
            finish=TableFlows(mapping),
            bytes_read=lambda: src.bytes_read,
        )
        for block in lines:
            records = []
            for i, raw in enumerate(block.data.split(b"\n")):
                if not raw.strip():
                    continue
                try:
                    value = orjson.loads(raw)
                    if not isinstance(value, dict):
                        raise BadRecord(f"a JSON {type(value).__name__}, not an object")
                    records.append(flatten(value, limits))
                except orjson.JSONDecodeError as exc:
                    stats.add_quarantined(block.first_line + i, f"invalid JSON: {exc}", raw)
                except BadRecord as exc:
                    stats.add_quarantined(block.first_line + i, str(exc), raw)
            if records:
                yield from assembler.add(pd.DataFrame.from_records(records))
        yield from assembler.close(pd.DataFrame(columns=mapping.source_columns()))


def _iter_parquet(
    path: Path, mapping: TableMapping, limits: Limits, chunk_rows: int
) -> Iterator[IngestChunk]:
    size = check_path(path, limits)
    stats = IngestStats()
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise IngestError(f"{path.name} is not a readable Parquet file: {exc}") from None
    schema = parquet.schema_arrow
    if len(schema.names) > limits.max_fields:
        raise LimitExceededError(
            f"{path.name} has {len(schema.names):,} columns, more than limits.max_fields ({limits.max_fields:,})."
        )
    _check_columns(list(schema.names), mapping, path.name)
    done = 0

    def bytes_read() -> int:
        return size if done else 0

    assembler = ChunkAssembler(
        stats=stats, chunk_rows=chunk_rows, finish=TableFlows(mapping), bytes_read=bytes_read
    )
    try:
        batches = parquet.iter_batches(batch_size=chunk_rows)
        for batch in batches:
            yield from assembler.add(pa.Table.from_batches([batch]))
    except (pa.ArrowException, OSError) as exc:
        raise IngestError(f"{path.name}: the Parquet data cannot be decoded: {exc}") from None
    done = 1
    yield from assembler.close(schema.empty_table())


def iter_table(
    path: Path, *, mapping: TableMapping, limits: Limits, chunk_rows: int
) -> Iterator[IngestChunk]:
    """Read a generic CSV / Parquet / JSON-lines table through ``mapping``, in chunks."""
    readers = {"csv": _iter_csv, "jsonl": _iter_jsonl, "parquet": _iter_parquet}
    return readers[mapping.format](path, mapping, limits, chunk_rows)


__all__ = ["READER", "TableFlows", "epoch_from", "iter_table"]
