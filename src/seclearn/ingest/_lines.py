"""Cutting a byte stream into blocks of whole lines, under the line-length limit.

Parsers downstream (pyarrow's CSV reader, the JSON-lines loop) only ever see blocks of
complete lines, each line at most ``limits.max_line_bytes`` long and valid UTF-8. A
longer line is never held in memory whole: it is skipped piece by piece and
quarantined with its first bytes. A line that is not UTF-8 is re-decoded with the
reader's fallback encoding (CICFlowMeter files written on Windows use cp1252) or, when
the reader has none, quarantined.

Lines that are removed this way are replaced by an empty line, so that the physical line
numbers of everything after them stay right.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from seclearn.config import Limits
from seclearn.errors import IngestError, LimitExceededError
from seclearn.ingest._records import RAW_PREVIEW_CHARS, IngestStats
from seclearn.ingest._source import Source

#: Bytes read from the source at a time.
DEFAULT_BLOCK_BYTES = 8 * 1024 * 1024
_PEEK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Block:
    """Complete lines (each ending in ``\\n``) and the physical number of the first one."""

    data: bytes
    first_line: int


def is_blank(line: bytes) -> bool:
    """A line with nothing but white space is not a record."""
    return not line.strip()


class LineBlocks:
    """Blocks of whole, bounded, UTF-8 lines read from a :class:`Source`.

    ``stats`` receives the quarantined over-long and undecodable lines.
    ``fallback_encoding`` (e.g. ``"cp1252"``) decodes lines that are not UTF-8 instead of
    quarantining them.
    """

    def __init__(
        self,
        source: Source,
        limits: Limits,
        stats: IngestStats,
        *,
        block_bytes: int | None = None,
        fallback_encoding: str | None = None,
        comment_prefix: bytes | None = None,
    ) -> None:
        self.source = source
        self.limits = limits
        self.stats = stats
        self.block_bytes = max(block_bytes or DEFAULT_BLOCK_BYTES, 64 * 1024)
        self.fallback_encoding = fallback_encoding
        self.comment_prefix = comment_prefix
        self._buf = b""
        self._line = 1  # physical line number of the first line in _buf
        self._eof = False

    @property
    def name(self) -> str:
        return self.source.path.name

    def _read(self, size: int | None = None) -> bytes:
        if self._eof:
            return b""
        chunk = self.source.read(size or self.block_bytes)
        if not chunk:
            self._eof = True
        return chunk

    def peek_lines(self, count: int) -> list[bytes]:
        """Up to ``count`` first non-blank lines (without line ends), not consumed."""
        while len(self._buf) < _PEEK_BYTES and not self._eof:
            self._buf += self._read(_PEEK_BYTES - len(self._buf))
        text = self._buf[:_PEEK_BYTES]
        lines = text.split(b"\n")
        if not (self._eof and len(self._buf) <= _PEEK_BYTES):
            lines = lines[:-1]  # the last one may be cut
        out = [ln.rstrip(b"\r") for ln in lines if not is_blank(ln)]
        return out[:count]

    def take_line(self) -> tuple[int, bytes] | None:
        """Consume and return the first non-blank line and its number; None at the end."""
        limit = self.limits.max_line_bytes
        while True:
            nl = self._buf.find(b"\n")
            while nl < 0 and not self._eof and len(self._buf) <= limit:
                start = len(self._buf)
                self._buf += self._read(_PEEK_BYTES)
                nl = self._buf.find(b"\n", start)
            if (nl < 0 and len(self._buf) > limit) or nl > limit:
                raise LimitExceededError(
                    f"Line {self._line} of {self.name} (its header) is longer than "
                    f"limits.max_line_bytes ({limit:,} bytes). Check that this is a text file of "
                    f"the named format, or raise the limit."
                )
            if nl < 0:
                line, self._buf = self._buf, b""
            else:
                line, self._buf = self._buf[:nl], self._buf[nl + 1 :]
            number = self._line
            self._line += 1
            if not is_blank(line):
                return number, line.rstrip(b"\r")
            if not self._buf and self._eof:
                return None

    def require_line(self) -> tuple[int, bytes]:
        """Like :meth:`take_line`, raising :class:`IngestError` when the file has no line."""
        got = self.take_line()
        if got is None:
            raise IngestError(
                f"{self.name} is empty (no non-blank line); there is nothing to read."
            )
        return got

    def __iter__(self) -> Iterator[Block]:
        rest: bytes | memoryview
        while True:
            chunk = self._read()
            data = self._buf + chunk if self._buf else chunk
            self._buf = b""
            if self._eof:
                if not data:
                    return
                if not data.endswith(b"\n"):
                    data += b"\n"
                complete, rest = data, b""
            else:
                end = data.rfind(b"\n") + 1
                complete, rest = data[:end], memoryview(data)[end:]
            del chunk, data  # hold at most one block, plus the line being cut
            if complete:
                first = self._line
                self._line += complete.count(b"\n")
                block = Block(self._clean(complete, first), first)
                del complete
                yield block
                del block
            if len(rest) > self.limits.max_line_bytes:
                head, length = bytes(rest[: RAW_PREVIEW_CHARS * 4]), len(rest)
                del rest
                self._skip_overlong(head, length)
            else:
                self._buf = bytes(rest)
                del rest
            if self._eof and not self._buf:
                return

    # -- over-long lines ------------------------------------------------------------------
    def _overlong_reason(self, length: int | None) -> str:
        size = f"{length:,} bytes" if length is not None else "unknown length"
        return (
            f"line longer than limits.max_line_bytes ({self.limits.max_line_bytes:,} bytes; "
            f"this one: {size})"
        )

    def _is_comment(self, line: bytes) -> bool:
        return self.comment_prefix is not None and line.startswith(self.comment_prefix)

    def _refuse_overlong_comment(self, head: bytes, number: int) -> None:
        if self._is_comment(head):
            raise LimitExceededError(
                f"Header line {number} of {self.name} is longer than limits.max_line_bytes "
                f"({self.limits.max_line_bytes:,} bytes). Check the file, or raise the limit."
            )

    def _skip_overlong(self, head: bytes, length: int) -> None:
        """Discard the rest of a line that has grown past the limit, without keeping it.

        ``head`` is the line's first bytes and ``length`` how many of its bytes were read.
        """
        number = self._line
        self._refuse_overlong_comment(head, number)
        while True:
            chunk = self._read()
            if not chunk:
                self._buf = b""
                break
            nl = chunk.find(b"\n")
            if nl < 0:
                length += len(chunk)
                continue
            length += nl
            self._buf = chunk[nl + 1 :]
            self._line += 1
            break
        self.stats.add_quarantined(number, self._overlong_reason(length), head)

    def _clean(self, data: bytes, first: int) -> bytes:
        limit = self.limits.max_line_bytes
        if len(data) > limit + 1:
            data = self._drop_overlong(data, first, limit)
        if b"\r" in data:
            data = self._fix_carriage_returns(data, first)
        if not data.isascii():
            data = self._fix_encoding(data, first)
        return data

    def _drop_overlong(self, data: bytes, first: int, limit: int) -> bytes:
        pieces: list[bytes] = []
        keep_from = pos = 0
        size = len(data)
        while size - pos > limit + 1:
            nl = data.rfind(b"\n", pos, pos + limit + 1)
            if nl >= 0:
                pos = nl + 1
                continue
            end = data.find(b"\n", pos)
            number = first + data.count(b"\n", 0, pos)
            self._refuse_overlong_comment(data[pos : pos + 1], number)
            self.stats.add_quarantined(
                number, self._overlong_reason(end - pos), data[pos : pos + RAW_PREVIEW_CHARS * 4]
            )
            pieces.append(data[keep_from:pos])
            keep_from = end  # keep the newline: the line becomes empty
            pos = end + 1
        if not pieces:
            return data
        pieces.append(data[keep_from:])
        return b"".join(pieces)

    def _fix_carriage_returns(self, data: bytes, first: int) -> bytes:
        """Keep CRLF line ends (the parsers accept them); quarantine lines with a bare CR."""
        if data.count(b"\r") == data.count(b"\r\n"):
            return data
        lines = data.split(b"\n")
        for i, line in enumerate(lines):
            body = line[:-1] if line.endswith(b"\r") else line
            if b"\r" in body and not self._is_comment(line):
                if not is_blank(line):
                    self.stats.add_quarantined(
                        first + i, "carriage return (CR) inside a line", line
                    )
                lines[i] = b""
        return b"\n".join(lines)

    # -- encodings ------------------------------------------------------------------------
    def _fix_encoding(self, data: bytes, first: int) -> bytes:
        try:
            data.decode("utf-8")
            return data
        except UnicodeDecodeError:
            pass
        lines = data.split(b"\n")
        for i, line in enumerate(lines):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                if self._is_comment(line):  # a header line, not a record: keep what is readable
                    lines[i] = line.decode("utf-8", errors="replace").encode("utf-8")
                elif self.fallback_encoding is not None:
                    text = line.decode(self.fallback_encoding, errors="replace")
                    lines[i] = text.encode("utf-8")
                else:
                    if not is_blank(line):
                        self.stats.add_quarantined(
                            first + i, "undecodable bytes (not UTF-8 text)", line
                        )
                    lines[i] = b""
        return b"\n".join(lines)


__all__ = ["DEFAULT_BLOCK_BYTES", "Block", "LineBlocks", "is_blank"]
