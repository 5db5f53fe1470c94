"""Streaming scoring: alerts from a live log or from standard input, as flows arrive.

:func:`follow` yields batches of complete lines from a file that is still being written
(``tail -F``): it waits for new data, keeps a partial last line until its newline
arrives, and notices rotation (the path now names a new file, or the file shrank),
reading what is left of the old file before it opens the new one from its start.
:func:`read_batches` does the same for a pipe or standard input. :func:`watch` parses
each batch with :class:`~seclearn.ingest.stream.LineStreamParser`, scores it with the
pipeline (time-window context carried from batch to batch, so scores equal those of
``seclearn score`` on the whole file) and hands every alert to ``emit`` at once.

Memory is bounded by the batch size and the context horizon; a line longer than
``limits.max_line_bytes`` is dropped as it streams (never buffered whole) and counted
as quarantined.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import pandas as pd

from seclearn.config import Limits
from seclearn.errors import ConfigError, IngestError
from seclearn.features import ContextHistory
from seclearn.ingest import IngestStats
from seclearn.ingest.stream import LineStreamParser
from seclearn.pipeline import DetectionPipeline
from seclearn.scoring.batch import _json_default, _scored_frame, _with_context

#: Bytes read from the input per system call.
READ_BYTES = 1 << 20


@dataclass(frozen=True)
class Batch:
    """Complete lines read since the previous batch; ``rotated``: a new file starts here."""

    lines: list[bytes]
    rotated: bool = False
    overlong: int = 0


@dataclass
class WatchSummary:
    """What a watch run read, scored and alerted on."""

    batches: int = 0
    records: int = 0
    alerts: int = 0
    rotations: int = 0
    ingest: IngestStats = field(default_factory=IngestStats)

    def to_dict(self) -> dict[str, Any]:
        return {
            "batches": self.batches,
            "records": self.records,
            "alerts": self.alerts,
            "rotations": self.rotations,
            "ingest": self.ingest.to_dict(),
        }


class _Lines:
    """Splits bytes into complete lines, dropping (and counting) any over ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._partial = b""
        self._skipping = False  # inside an over-long line: drop until its newline
        self.overlong = 0

    def feed(self, data: bytes) -> list[bytes]:
        lines: list[bytes] = []
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                break
            piece = data[start : end + 1]
            start = end + 1
            if self._skipping:
                self._skipping = False
                continue
            line = self._partial + piece
            self._partial = b""
            if len(line) - 1 > self.max_bytes:
                self.overlong += 1
            else:
                lines.append(line)
        rest = data[start:]
        if not self._skipping:
            self._partial += rest
            if len(self._partial) > self.max_bytes:
                self._partial, self._skipping = b"", True
                self.overlong += 1
        return lines

    def take_overlong(self) -> int:
        count, self.overlong = self.overlong, 0
        return count

    def finish(self) -> list[bytes]:
        """The unterminated last line, if any (the writer will not finish it)."""
        rest, self._partial, self._skipping = self._partial, b"", False
        return [rest] if rest.strip() else []


def read_batches(
    stream: BinaryIO,
    *,
    max_batch_lines: int = 5000,
    flush_s: float = 1.0,
    limits: Limits | None = None,
) -> Iterator[Batch]:
    """Batches of complete lines from a pipe, a socket or standard input, until end of input.

    A batch is handed out when it holds ``max_batch_lines`` lines or when ``flush_s``
    seconds pass without new input, so an alert never waits for the next flow.
    """
    splitter = _Lines((limits or Limits()).max_line_bytes)
    fd = stream.fileno()
    pending: list[bytes] = []
    while True:
        ready, _, _ = select.select([fd], [], [], flush_s)
        if not ready:
            if pending or splitter.overlong:
                yield Batch(pending, overlong=splitter.take_overlong())
                pending = []
            continue
        data = os.read(fd, READ_BYTES)
        if not data:
            break
        pending.extend(splitter.feed(data))
        while len(pending) >= max_batch_lines:
            yield Batch(pending[:max_batch_lines], overlong=splitter.take_overlong())
            pending = pending[max_batch_lines:]
    pending.extend(splitter.finish())
    if pending or splitter.overlong:
        yield Batch(pending, overlong=splitter.take_overlong())


def follow(
    path: Path,
    *,
    from_start: bool = True,
    poll_s: float = 0.5,
    idle_exit_s: float | None = None,
    max_batch_lines: int = 5000,
    limits: Limits | None = None,
    stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Batch]:
    """Batches of new complete lines of ``path`` as it grows, across rotations.

    Ends when ``stop()`` turns true, or after ``idle_exit_s`` seconds without new data
    (``None``: never). ``from_start=False`` skips what the file already holds.
    """
    if poll_s <= 0:
        raise ConfigError(f"poll_s must be a positive number of seconds, got {poll_s!r}.")
    path = Path(path)
    max_line = (limits or Limits()).max_line_bytes
    fh, inode = _open(path)
    if not from_start:
        fh.seek(0, os.SEEK_END)
    splitter = _Lines(max_line)
    rotated, idle_s = False, 0.0
    try:
        while not stop():
            data = fh.read(READ_BYTES)
            if data:
                idle_s = 0.0
                lines = splitter.feed(data)
                for i in range(0, len(lines), max_batch_lines):
                    yield Batch(lines[i : i + max_batch_lines], rotated, splitter.take_overlong())
                    rotated = False
                continue
            if _replaced(path, inode, fh.tell()):
                last = splitter.finish()
                if last:
                    yield Batch(last, rotated, splitter.take_overlong())
                fh.close()
                try:
                    fh, inode = _open(path)
                except IngestError:  # rotated away, its successor not created yet
                    fh, inode = _wait_for(path, poll_s, sleep, stop)
                rotated = True
                continue
            if idle_exit_s is not None and idle_s >= idle_exit_s:
                break
            sleep(poll_s)
            idle_s += poll_s
        last = splitter.finish()
        if last:
            yield Batch(last, rotated, splitter.take_overlong())
    finally:
        fh.close()


def _open(path: Path) -> tuple[BinaryIO, int]:
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        raise IngestError(f"{path} does not exist; nothing to follow yet.") from None
    except OSError as exc:
        raise IngestError(f"Cannot open {path} to follow it: {exc.strerror}.") from None
    return fh, os.fstat(fh.fileno()).st_ino


def _replaced(path: Path, inode: int, position: int) -> bool:
    """The path names another file now (rotation), or the file shrank (truncation)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return True
    return st.st_ino != inode or st.st_size < position


def _wait_for(
    path: Path, poll_s: float, sleep: Callable[[float], None], stop: Callable[[], bool]
) -> tuple[BinaryIO, int]:
    while not stop():
        sleep(poll_s)
        if path.exists():
            return _open(path)
    raise IngestError(f"{path} was rotated away and no new file appeared before the stop.")


def watch(
    pipeline: DetectionPipeline,
    batches: Iterable[Batch],
    emit: Callable[[dict[str, Any]], None],
    *,
    format: str = "zeek-tsv",
    limits: Limits | None = None,
    all_records: bool = False,
    top_k: int = 3,
    summary: WatchSummary | None = None,
) -> WatchSummary:
    """Score each batch as it arrives and ``emit`` every alert (or every record) at once.

    ``summary`` (a new one by default) is updated batch by batch, so a caller that is
    interrupted still knows what was done.

    Emitted records are the scored rows of ``seclearn score``: the flow's identity
    fields, ``score``, ``decision`` and, for alerts, ``top_features`` and ``reason``.
    """
    parser = LineStreamParser(format, limits=limits)
    uses_context = bool(getattr(pipeline.featurizer_, "context_columns_", None))
    history = ContextHistory() if uses_context else None
    summary = summary if summary is not None else WatchSummary()
    for batch in batches:
        if batch.rotated:
            parser.reset()
            summary.rotations += 1
        chunk = parser.parse(batch.lines)
        for _ in range(batch.overlong):
            chunk.stats.add_quarantined(0, "line longer than limits.max_line_bytes", b"")
        summary.ingest.merge(chunk.stats)
        summary.batches += 1
        if not len(chunk.frame):
            continue
        scored = _scored_frame(pipeline, _with_context(history, chunk.frame), "alerts", top_k)
        summary.records += len(scored)
        alerts = scored["decision"].to_numpy()
        summary.alerts += int(alerts.sum())
        rows = scored if all_records else scored[alerts]
        for record in _records(rows):
            emit(record)
    return summary


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Plain-JSON dicts of scored rows (numpy and pandas scalars converted)."""
    return [
        orjson.loads(orjson.dumps(r, default=_json_default, option=orjson.OPT_SERIALIZE_NUMPY))
        for r in frame.to_dict(orient="records")
    ]


__all__ = ["Batch", "WatchSummary", "follow", "read_batches", "watch"]
