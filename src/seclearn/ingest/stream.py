"""Live logs: batches of raw lines, as they arrive, to flow frames.

:class:`LineStreamParser` is the streaming counterpart of the file readers: it keeps what
a log declared so far (a Zeek TSV log's ``#fields``/``#types`` header) from one batch to
the next, so a follower can hand it whatever complete lines have appeared since the last
poll. The same limits and the same quarantine rules as for files apply: a line longer
than ``limits.max_line_bytes`` or not UTF-8 is quarantined with its reason; a record
that does not parse is quarantined and the rest of the batch goes on.

Formats: ``zeek-tsv`` (a live conn.log, header included) and ``zeek-json`` (JSON lines,
Zeek's dotted or nested names, or the flow schema's own names; one naming per log).

>>> parser = LineStreamParser("zeek-json")
>>> chunk = parser.parse([b'{"ts": 1700000000.5, "id.orig_h": "10.0.0.5", "id.orig_p": 51000,'
...                       b' "id.resp_h": "10.0.0.9", "id.resp_p": 22, "proto": "tcp"}'])
>>> chunk.frame.loc[0, "dst_port"], chunk.stats.accepted
(np.float64(22.0), 1)
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from seclearn.config import Limits
from seclearn.errors import ConfigError
from seclearn.ingest import zeek, zeek_json
from seclearn.ingest._chunks import ChunkAssembler
from seclearn.ingest._csv import CsvLayout, parse_block
from seclearn.ingest._lines import Block, is_blank
from seclearn.ingest._records import IngestChunk, IngestStats

#: Formats a live stream can be in.
STREAM_FORMATS = ("zeek-tsv", "zeek-json")

#: Rows per chunk inside one batch: a batch is always emitted whole.
_NO_SPLIT = 1 << 62


class LineStreamParser:
    """Parse batches of complete lines of one live log into flow frames.

    Call :meth:`parse` with the lines that arrived (with or without their ``\\n``);
    call :meth:`reset` when the log was rotated, so that a new file's header starts
    afresh. Counts of every batch are in the returned chunk's ``stats``; ``total`` adds
    them up over the parser's life.
    """

    def __init__(
        self, format: str = "zeek-tsv", *, limits: Limits | None = None, source: str = "stream"
    ) -> None:
        if format not in STREAM_FORMATS:
            raise ConfigError(
                f"Cannot stream format {format!r}. Streaming supports: "
                f"{', '.join(STREAM_FORMATS)}; score other formats as files with `seclearn score`."
            )
        self.format = format
        self.limits = limits or Limits()
        self.source = source
        self.total = IngestStats()
        self._line = 0
        self.reset()

    def reset(self) -> None:
        """Forget the header seen so far (the log was rotated or truncated)."""
        self._header = zeek._Header()
        self._layout: CsvLayout | None = None

    def parse(self, lines: Sequence[bytes]) -> IngestChunk:
        """The flows of ``lines`` (one chunk, possibly empty) and this batch's counts."""
        stats = IngestStats()
        finish = (
            (lambda frame: zeek.to_flows(frame, empty_value=self._header.empty_field))
            if self.format == "zeek-tsv"
            else zeek.to_flows
        )
        assembler = ChunkAssembler(
            stats=stats, chunk_rows=_NO_SPLIT, finish=finish, bytes_read=lambda: stats.bytes_read
        )
        chunks: list[IngestChunk] = []
        pending: list[bytes] = []
        first = self._line + 1
        for raw in lines:
            self._line += 1
            stats.bytes_read += len(raw)
            line = raw.rstrip(b"\r\n")
            if is_blank(line):
                continue
            if len(line) > self.limits.max_line_bytes:
                stats.add_quarantined(
                    self._line,
                    f"line of {len(line):,} bytes is longer than limits.max_line_bytes "
                    f"({self.limits.max_line_bytes:,})",
                    line[:200],
                )
                continue
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                stats.add_quarantined(self._line, f"not UTF-8 text ({exc.reason})", line[:200])
                continue
            if self.format == "zeek-tsv" and line.startswith(b"#"):
                self._add(assembler, pending, first, stats)
                pending, first = [], self._line + 1
                if self._header.apply(line.decode("utf-8"), self.limits, self.source):
                    chunks.extend(assembler.flush())
                    self._layout = None
                continue
            if not pending:
                first = self._line
            pending.append(line)
        self._add(assembler, pending, first, stats)
        chunks.extend(assembler.close(pd.DataFrame()))
        self.total.merge(stats)
        return _one(chunks, stats)

    def _add(
        self, assembler: ChunkAssembler, pending: list[bytes], first: int, stats: IngestStats
    ) -> None:
        if not pending:
            return
        block = Block(b"\n".join(pending) + b"\n", first)
        if self.format == "zeek-json":
            list(assembler.add(zeek_json.parse_block(block, self.limits, stats)))
            return
        if self._layout is None:
            self._layout = self._header.layout(self.source)
        list(assembler.add(parse_block(block, self._layout, stats)))


def _one(chunks: list[IngestChunk], stats: IngestStats) -> IngestChunk:
    """One chunk of all rows of a batch (a header change mid-batch makes several)."""
    frames = [c.frame for c in chunks if len(c.frame)]
    if not frames:
        frame = chunks[0].frame if chunks else pd.DataFrame()
    elif len(frames) == 1:
        frame = frames[0]
    else:
        frame = pd.concat(frames, ignore_index=True)
    return IngestChunk(frame, stats)


__all__ = ["STREAM_FORMATS", "LineStreamParser"]
