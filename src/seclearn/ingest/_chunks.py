"""Gathering parsed pieces into frames of at most ``chunk_rows`` flows.

Readers feed pyarrow tables (or pandas frames) of any size; :class:`ChunkAssembler`
cuts them into chunks of ``chunk_rows`` rows, turns each into a schema-valid flow frame
with the reader's ``finish`` function, and attaches the counts gathered since the
previous chunk, so that the stats of all chunks add up to the file's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeAlias

import pandas as pd
import pyarrow as pa

from seclearn.ingest._records import IngestChunk, IngestStats
from seclearn.schema import FLOW_SCHEMA, empty_frame, validate_frame

Part: TypeAlias = pa.Table | pd.DataFrame


@dataclass(frozen=True)
class _Mark:
    """Where the running counts stood when the previous chunk was handed out."""

    accepted: int
    quarantined: int
    rejected: int
    bytes_read: int
    kept: int
    reasons: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, stats: IngestStats) -> _Mark:
        return cls(
            stats.accepted,
            stats.quarantined,
            stats.rejected,
            stats.bytes_read,
            len(stats.quarantine),
            tuple(stats.rejected_reasons.items()),
        )

    def since(self, stats: IngestStats) -> IngestStats:
        before = dict(self.reasons)
        reasons = {
            k: v - before.get(k, 0)
            for k, v in stats.rejected_reasons.items()
            if v != before.get(k, 0)
        }
        return IngestStats(
            accepted=stats.accepted - self.accepted,
            quarantined=stats.quarantined - self.quarantined,
            rejected=stats.rejected - self.rejected,
            bytes_read=stats.bytes_read - self.bytes_read,
            quarantine=list(stats.quarantine[self.kept :]),
            rejected_reasons=reasons,
        )


def _concat(parts: list[Part]) -> Part:
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], pa.Table):
        return pa.concat_tables(parts)
    return pd.concat(parts, ignore_index=True)


def _slice(part: Part, start: int, stop: int) -> Part:
    if isinstance(part, pa.Table):
        return part.slice(start, stop - start)
    return part.iloc[start:stop]


class ChunkAssembler:
    """Turns a stream of parsed pieces into :class:`IngestChunk` objects.

    ``finish`` maps a frame in the source's own columns to flow columns (it must not
    drop rows); ``bytes_read`` reports the decompressed bytes read so far.
    """

    def __init__(
        self,
        *,
        stats: IngestStats,
        chunk_rows: int,
        finish: Callable[[pd.DataFrame], pd.DataFrame],
        bytes_read: Callable[[], int],
    ) -> None:
        self.stats = stats
        self.chunk_rows = chunk_rows
        self.finish = finish
        self.bytes_read = bytes_read
        self._parts: list[Part] = []
        self._rows = 0
        self._mark = _Mark.of(stats)
        self._emitted = False

    def add(self, part: Part) -> Iterator[IngestChunk]:
        """Take a parsed piece; yield every full chunk it completes."""
        if len(part):
            self._parts.append(part)
            self._rows += len(part)
        if self._rows < self.chunk_rows:
            return
        whole = _concat(self._parts)
        full = self._rows - self._rows % self.chunk_rows
        rest = _slice(whole, full, self._rows)
        self._parts, self._rows = ([rest] if len(rest) else []), len(rest)
        for start in range(0, full, self.chunk_rows):
            yield self._emit(_slice(whole, start, start + self.chunk_rows))

    def flush(self) -> Iterator[IngestChunk]:
        """Yield the rows held so far as a (short) chunk, e.g. before the columns change."""
        if self._rows:
            whole = _concat(self._parts)
            self._parts, self._rows = [], 0
            yield self._emit(whole)

    def close(self, empty: Part) -> Iterator[IngestChunk]:
        """Yield what is left; ``empty`` (zero rows, source columns) shapes an empty frame.

        A final chunk is yielded when rows are left, when counts changed since the last
        chunk, or when no chunk was yielded at all (so every file gives at least one).
        """
        self.stats.bytes_read = self.bytes_read()
        if self._rows:
            yield from self.flush()
        elif not self._emitted or _Mark.of(self.stats) != self._mark:
            yield self._emit(empty)

    def _emit(self, part: Part) -> IngestChunk:
        frame = part.to_pandas(split_blocks=True) if isinstance(part, pa.Table) else part
        frame = self.finish(frame.reset_index(drop=True))
        if not len(frame.columns):
            frame = empty_frame(FLOW_SCHEMA)
        for name, dtype in (("label", "Int8"), ("attack_type", "str")):
            if name not in frame.columns:  # unlabeled input: the truth is unknown, not absent
                frame[name] = pd.Series(
                    pd.NA if dtype == "Int8" else None, index=frame.index, dtype=dtype
                )
        frame = validate_frame(frame, FLOW_SCHEMA)
        self.stats.accepted += len(frame)
        self.stats.bytes_read = self.bytes_read()
        chunk = IngestChunk(frame, self._mark.since(self.stats))
        self._mark = _Mark.of(self.stats)
        self._emitted = True
        return chunk


__all__ = ["ChunkAssembler"]
