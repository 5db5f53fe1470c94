"""Telling a file's format from its content (never from its name alone).

Only the first 64 KiB of the decompressed content are looked at: Zeek's ``#fields``
header, a JSON object with Zeek's keys, a CSV header with CICFlowMeter's, Zeek's or
UNSW-NB15's column names, or a headerless line shaped like NSL-KDD or raw UNSW-NB15.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from seclearn.config import Limits
from seclearn.errors import FormatDetectionError, IngestError
from seclearn.ingest._columns import header_cells
from seclearn.ingest._source import read_head
from seclearn.ingest.cicflowmeter import looks_like_cicflowmeter
from seclearn.ingest.nsl_kdd import looks_like_nsl_kdd
from seclearn.ingest.unsw import header_kind, looks_like_raw_line
from seclearn.ingest.zeek import looks_like_zeek_header

#: Every format name a reader exists for.
FORMATS: tuple[str, ...] = (
    "nsl-kdd",
    "unsw-nb15",
    "unsw-nb15-raw",
    "cicflowmeter",
    "zeek-tsv",
    "zeek-json",
    "zeek-csv",
    "table",
)
HEAD_BYTES = 64 * 1024


def _advice(name: str, why: str) -> FormatDetectionError:
    known = ", ".join(f for f in FORMATS if f != "table")
    return FormatDetectionError(
        f"Could not tell the format of {name} from its content: {why}. Known formats: {known}. "
        f"Name one with format='...' (on the command line: --format NAME); any other CSV, Parquet "
        f"or JSON-lines table can be read with a column mapping (--format table --mapping FILE.toml)."
    )


def _zeek_json_keys(line: bytes) -> bool:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(value, dict):
        return False
    keys = set(value)
    nested = value.get("id")
    return (
        "id.orig_h" in keys
        or (isinstance(nested, dict) and "orig_h" in nested)
        or {"ts", "uid"} <= keys
    )


def detect_bytes(head: bytes, *, name: str = "the input", limits: Limits = Limits()) -> str:
    """The format of content that starts with ``head`` (decompressed, BOM removed)."""
    if head.startswith(b"PAR1"):
        raise _advice(name, "it is a Parquet file, which needs a column mapping")
    if b"\x00" in head:
        raise _advice(name, "it holds NUL bytes, so it is binary rather than text")
    lines = head.split(b"\n")
    if len(head) >= HEAD_BYTES:
        lines = lines[:-1]  # possibly cut
    lines = [ln.rstrip(b"\r") for ln in lines if ln.strip()]
    if not lines:
        raise IngestError(f"{name} is empty (no non-blank line); there is nothing to read.")
    first = lines[0]
    if first.startswith(b"#"):
        if any(ln.startswith((b"#fields", b"#separator")) for ln in lines[:20]):
            return "zeek-tsv"
        raise _advice(name, "it starts with '#' comment lines but has no Zeek '#fields' header")
    if first.lstrip().startswith(b"{"):
        if _zeek_json_keys(first):
            return "zeek-json"
        raise _advice(
            name, "it is JSON, but its first record lacks Zeek's 'ts'/'uid'/'id.orig_h' keys"
        )
    cells = header_cells(first[:HEAD_BYTES], delimiter=",", limits=limits, source=name)
    if looks_like_zeek_header(cells):
        return "zeek-csv"
    if looks_like_cicflowmeter(cells):
        return "cicflowmeter"
    kind = header_kind(cells)
    if kind is not None:
        return kind
    fields = first.split(b",")
    if looks_like_nsl_kdd(fields):
        return "nsl-kdd"
    if looks_like_raw_line(fields):
        return "unsw-nb15-raw"
    preview = first[:80].decode("utf-8", errors="replace")
    raise _advice(name, f"its first line ({preview!r}) matches none of them")


def detect_format(path: str | Path, *, limits: Limits = Limits()) -> str:
    """The format of the file at ``path``, from the first 64 KiB of its (decompressed) content.

    Raises :class:`~seclearn.errors.FormatDetectionError` naming the known formats and how
    to name one explicitly when the content matches none of them.
    """
    path = Path(path)
    return detect_bytes(read_head(path, limits, HEAD_BYTES), name=path.name, limits=limits)


__all__ = ["FORMATS", "HEAD_BYTES", "detect_bytes", "detect_format"]
