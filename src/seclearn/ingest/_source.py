"""Opening an input file: size limits, transparent gzip, byte-order marks.

:func:`open_source` returns a :class:`Source` whose :meth:`Source.read` gives the file's
decompressed bytes in bounded pieces, counting them against
``limits.max_decompressed_bytes`` while it streams, so that a gzip bomb stops at the limit
instead of filling memory.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import BinaryIO

from seclearn.config import Limits
from seclearn.errors import EncodingError, FormatDetectionError, IngestError, LimitExceededError

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
#: Magic numbers of containers seclearn does not open, with the advice to give.
_UNSUPPORTED_MAGIC = {
    b"PK\x03\x04": "a zip archive",
    b"BZh": "a bzip2 file",
    b"\xfd7zXZ\x00": "an xz file",
    b"\x28\xb5\x2f\xfd": "a zstd file",
    b"7z\xbc\xaf\x27\x1c": "a 7-zip archive",
}
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
#: Bytes the first read asks for, enough to see any magic number or byte-order mark.
_HEAD_PROBE_BYTES = 8


def check_path(path: Path, limits: Limits) -> int:
    """Return the file's size on disk; raise :class:`IngestError` if it cannot be read."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise IngestError(f"Input file {str(path)!r} does not exist. Check the path.") from None
    except OSError as exc:
        raise IngestError(f"Input file {str(path)!r} cannot be read: {exc.strerror}.") from None
    if not path.is_file():
        raise IngestError(f"Input {str(path)!r} is not a regular file. Pass a file, not a folder.")
    if info.st_size > limits.max_file_bytes:
        raise LimitExceededError(
            f"{path.name} is {info.st_size:,} bytes, over the limit of {limits.max_file_bytes:,} "
            f"bytes (limits.max_file_bytes). Split the file or raise the limit."
        )
    if info.st_size == 0:
        raise IngestError(f"{path.name} is empty (0 bytes); there is nothing to read.")
    return info.st_size


class Source:
    """A file's decompressed content as a stream of bytes, read in bounded pieces."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self.bytes_read = 0
        self.compressed = False
        check_path(path, limits)
        self._raw: BinaryIO = path.open("rb")
        self._stream: BinaryIO = self._raw
        self._pending = b""
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        magic = self._raw.read(_HEAD_PROBE_BYTES)
        self._raw.seek(0)
        if magic.startswith(GZIP_MAGIC):
            self.compressed = True
            self._stream = gzip.GzipFile(fileobj=self._raw, mode="rb")  # type: ignore[assignment]
            magic = self._read_stream(_HEAD_PROBE_BYTES)
            self._pending = magic
        for prefix, what in _UNSUPPORTED_MAGIC.items():
            if magic.startswith(prefix):
                raise FormatDetectionError(
                    f"{self.path.name} is {what}, which seclearn does not open. Extract or "
                    f"decompress it first (plain and .gz files are read directly)."
                )
        if magic.startswith(UTF8_BOM):
            self._skip_bom()
        elif any(magic.startswith(bom) for bom in _UTF16_32_BOMS):
            raise EncodingError(
                f"{self.path.name} starts with a UTF-16/UTF-32 byte-order mark; seclearn reads "
                f"UTF-8 text. Convert it first, e.g. `iconv -f UTF-16 -t UTF-8 in > out`."
            )
        if not magic:
            raise IngestError(
                f"{self.path.name} is empty once decompressed; there is nothing to read."
            )

    def _skip_bom(self) -> None:
        if self._pending:
            self._pending = self._pending[len(UTF8_BOM) :]
        else:
            self._raw.read(len(UTF8_BOM))

    def _read_stream(self, size: int) -> bytes:
        try:
            data = self._stream.read(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise IngestError(
                f"{self.path.name} is a corrupt or truncated gzip file ({exc}). "
                f"Re-download it or check it with `gzip -t`."
            ) from None
        if self.compressed:
            self.bytes_read += len(data)
            if self.bytes_read > self.limits.max_decompressed_bytes:
                raise LimitExceededError(
                    f"{self.path.name} decompresses to more than "
                    f"{self.limits.max_decompressed_bytes:,} bytes (limits.max_decompressed_bytes); "
                    f"it may be a decompression bomb. Raise the limit if the file is trusted."
                )
        else:
            self.bytes_read += len(data)
        return data

    def read(self, size: int) -> bytes:
        """Up to ``size`` decompressed bytes; ``b""`` at the end of the file."""
        if self._pending:
            data, self._pending = self._pending[:size], self._pending[size:]
            return data
        return self._read_stream(size)

    def close(self) -> None:
        if self._stream is not self._raw:
            self._stream.close()
        self._raw.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(path: Path, limits: Limits) -> Source:
    """Open ``path`` for streaming (plain or gzip), enforcing the size limits."""
    try:
        return Source(path, limits)
    except OSError as exc:
        raise IngestError(f"Input file {str(path)!r} cannot be read: {exc.strerror}.") from None


def read_head(path: Path, limits: Limits, size: int = 64 * 1024) -> bytes:
    """The first ``size`` decompressed bytes of ``path`` (byte-order mark removed)."""
    with open_source(path, limits) as src:
        parts = []
        remaining = size
        while remaining > 0:
            data = src.read(remaining)
            if not data:
                break
            parts.append(data)
            remaining -= len(data)
        return b"".join(parts)


__all__ = ["Source", "check_path", "open_source", "read_head"]
