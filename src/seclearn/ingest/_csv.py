"""Parsing blocks of delimited lines with pyarrow, record by record accountable.

The fast path hands a whole block to ``pyarrow.csv.read_csv`` with every column's type
fixed in advance (numbers as float64, everything else as strings); rows with the wrong
number of fields are caught by pyarrow's ``invalid_row_handler`` and quarantined. When
pyarrow refuses the block (a value that is not a number, a repeated header line), the
slow path parses it again as text, finds the guilty rows, rejects or quarantines them
one by one, and converts the rest. If even that fails, the block is halved until the
offending line is isolated and quarantined.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from seclearn.ingest._chunks import ChunkAssembler
from seclearn.ingest._lines import Block, LineBlocks, is_blank
from seclearn.ingest._records import IngestChunk, IngestStats

#: Reason counted in ``rejected_reasons`` for a header line repeated inside the data.
REPEATED_HEADER = "repeated header line"
#: Arrow type of text columns (large_string converts to pandas' ``str`` dtype without a copy).
TEXT = pa.large_string()
#: pyarrow's internal block size on the fast path. A row longer than this makes pyarrow
#: refuse the block, which then goes through the careful pass in one piece.
FAST_BLOCK_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class CsvLayout:
    """How to parse the data lines of one delimited file.

    ``names`` are the (unique) column names given to the parser, in file order;
    ``numeric`` columns are parsed as float64 and a value in them that is not a number
    (nor one of ``null_values``) quarantines its row; other columns are text.
    ``header`` holds the header line's cells (stripped): data rows equal to it are
    rejected as repeated headers.
    """

    names: tuple[str, ...]
    numeric: frozenset[str] = frozenset()
    delimiter: str = ","
    quoting: bool = False
    null_values: tuple[str, ...] = ("",)
    header: tuple[str, ...] | None = None
    schema: pa.Schema = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fields = [pa.field(n, pa.float64() if n in self.numeric else TEXT) for n in self.names]
        object.__setattr__(self, "schema", pa.schema(fields))

    def empty_table(self) -> pa.Table:
        return self.schema.empty_table()


@dataclass
class _InvalidRows:
    """Rows pyarrow skipped for their field count, in file order."""

    rows: list[tuple[str, int, int]] = field(default_factory=list)

    def __call__(self, row: pacsv.InvalidRow) -> str:
        self.rows.append((row.text, row.expected_columns, row.actual_columns))
        return "skip"


class _BadBlock(Exception):
    """pyarrow refused a block (a value of the wrong type, a broken quote)."""


def _read(data: bytes, layout: CsvLayout, invalid: _InvalidRows, *, as_text: bool) -> pa.Table:
    if as_text:  # the careful pass: one parser block, UTF-8 checked again
        types = dict.fromkeys(layout.names, TEXT)
        block_size = len(data) + 64
    else:  # the fast pass: the lines are known to be UTF-8; cache-sized parser blocks
        types = {f.name: f.type for f in layout.schema}
        block_size = min(len(data) + 64, FAST_BLOCK_BYTES)
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(
                use_threads=False, column_names=list(layout.names), block_size=block_size
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=layout.delimiter,
                quote_char='"' if layout.quoting else False,
                newlines_in_values=False,
                ignore_empty_lines=True,
                invalid_row_handler=invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                null_values=list(layout.null_values),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                check_utf8=as_text,
            ),
        )
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise _BadBlock(str(exc)) from None
    if layout.quoting and (
        any("\n" in text for text, _, _ in invalid.rows) or _has_newline_in_values(table, layout)
    ):
        raise _BadBlock("unterminated quoted value")
    return table


def _has_newline_in_values(table: pa.Table, layout: CsvLayout) -> bool:
    for name in layout.names:
        col = table.column(name)
        if pa.types.is_large_string(col.type) and pc.any(pc.match_substring(col, "\n")).as_py():
            return True
    return False


def _blank(text: str) -> bool:
    return is_blank(text.encode("utf-8", errors="surrogateescape"))


def _locate(block: Block, invalid: _InvalidRows) -> tuple[list[int], list[int], list[bytes]]:
    """Physical line numbers of the invalid rows and of the parsed rows, and the lines."""
    lines = block.data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    wanted = [text.encode("utf-8", errors="surrogateescape") for text, _, _ in invalid.rows]
    invalid_lines: list[int] = []
    row_lines: list[int] = []
    k = 0
    for i, line in enumerate(lines):
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line:
            continue
        number = block.first_line + i
        if k < len(wanted) and line == wanted[k]:
            invalid_lines.append(number)
            k += 1
        else:
            row_lines.append(number)
    invalid_lines.extend([block.first_line] * (len(wanted) - k))
    return invalid_lines, row_lines, lines


def _quarantine_invalid(block: Block, invalid: _InvalidRows, stats: IngestStats) -> None:
    numbers, _, _ = _locate(block, invalid)
    for (text, expected, actual), number in zip(invalid.rows, numbers, strict=True):
        if _blank(text):
            continue  # a line of white space is not a record
        stats.add_quarantined(number, f"wrong field count: expected {expected}, got {actual}", text)


def parse_block(block: Block, layout: CsvLayout, stats: IngestStats) -> pa.Table:
    """Parse ``block`` into a table with ``layout.schema``; bad rows go to ``stats``."""
    if not block.data or block.data.isspace():
        return layout.empty_table()
    block = _guard_bom(block)
    invalid = _InvalidRows()
    try:
        table = _read(block.data, layout, invalid, as_text=False)
    except _BadBlock:
        return _parse_slow(block, layout, stats)
    if invalid.rows:
        _quarantine_invalid(block, invalid, stats)
    return table


def _guard_bom(block: Block) -> Block:
    """pyarrow drops a byte-order mark at the start of its input; keep it a visible value."""
    if block.data.startswith(b"\xef\xbb\xbf"):
        return Block(b"\n" + block.data, block.first_line - 1)
    return block


def _split(block: Block) -> tuple[Block, Block] | None:
    """Two halves of a block at a line boundary; None if it holds a single line."""
    data = block.data
    cut = data.find(b"\n", len(data) // 2)
    if cut < 0 or cut + 1 >= len(data):
        cut = data.rfind(b"\n", 0, len(data) - 1)
    if cut < 0:
        return None
    head, tail = data[: cut + 1], data[cut + 1 :]
    return Block(head, block.first_line), Block(tail, block.first_line + head.count(b"\n"))


def _parse_slow(block: Block, layout: CsvLayout, stats: IngestStats) -> pa.Table:
    tables = []
    pending = [block]
    while pending:
        part = pending.pop()
        if not part.data or part.data.isspace():
            continue
        part = _guard_bom(part)
        invalid = _InvalidRows()
        try:
            text = _read(part.data, layout, invalid, as_text=True)
        except _BadBlock as exc:
            halves = _split(part)
            if halves is None:
                stats.add_quarantined(
                    part.first_line, f"unparseable record: {exc}", part.data.rstrip(b"\n")
                )
            else:
                pending.extend(reversed(halves))
            continue
        tables.append(_check_values(part, text, invalid, layout, stats))
    if not tables:
        return layout.empty_table()
    return pa.concat_tables(tables)


def _check_values(
    block: Block, text: pa.Table, invalid: _InvalidRows, layout: CsvLayout, stats: IngestStats
) -> pa.Table:
    """Reject repeated headers, quarantine rows with non-numbers, convert the rest."""
    invalid_lines, row_lines, lines = _locate(block, invalid)
    for (raw, expected, actual), number in zip(invalid.rows, invalid_lines, strict=True):
        if not _blank(raw):
            stats.add_quarantined(
                number, f"wrong field count: expected {expected}, got {actual}", raw
            )
    frame = text.to_pandas()
    n = len(frame)
    if len(row_lines) != n:  # cannot happen with one record per line; keep counts right anyway
        row_lines = [block.first_line] * n
    drop = np.zeros(n, dtype=bool)
    if layout.header is not None and len(layout.header) == len(layout.names):
        is_header = np.ones(n, dtype=bool)
        for name, cell in zip(layout.names, layout.header, strict=True):
            is_header &= (frame[name].str.strip() == cell).fillna(False).to_numpy(dtype=bool)
        stats.add_rejected(REPEATED_HEADER, int(is_header.sum()))
        drop |= is_header
    for name in layout.names:
        if name not in layout.numeric:
            continue
        values = frame[name]
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        suspect = np.flatnonzero(numbers.isna().to_numpy() & values.notna().to_numpy() & ~drop)
        for idx in suspect:
            raw = str(values.iat[idx])
            try:
                numbers.iat[idx] = float(raw.strip().replace("_", "!"))
            except ValueError:
                drop[idx] = True
                first = block.first_line
                line = lines[row_lines[idx] - first] if row_lines[idx] - first < len(lines) else b""
                stats.add_quarantined(
                    row_lines[idx], f"column {name!r}: {raw[:40]!r} is not a number", line
                )
        frame[name] = numbers
    if drop.any():
        frame = frame.loc[~drop]
    return pa.Table.from_pandas(frame, schema=layout.schema, preserve_index=False)


def stream_csv(
    lines: LineBlocks, layout: CsvLayout, stats: IngestStats, assembler: ChunkAssembler
) -> Iterator[IngestChunk]:
    """Parse every block of ``lines`` with ``layout`` and hand out the chunks."""
    for block in lines:
        yield from assembler.add(parse_block(block, layout, stats))
    yield from assembler.close(layout.empty_table())


__all__ = ["REPEATED_HEADER", "CsvLayout", "parse_block", "stream_csv"]
