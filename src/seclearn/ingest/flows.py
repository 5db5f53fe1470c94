"""The entry points: :func:`iter_flows`, :func:`read_flows`, :func:`reader_info`.

Every file is read in bounded memory (:func:`iter_flows` never holds more than one
chunk of ``chunk_rows`` flows plus one block of input); :func:`read_flows` concatenates
the chunks. A file that cannot be read at all raises an
:class:`~seclearn.errors.IngestError` subclass; a bad record is quarantined and the rest
of the file goes on. An empty file (0 bytes, or nothing but blank lines) raises
:class:`~seclearn.errors.IngestError` ("... is empty"); a file with a header and no
records gives an empty frame with zero counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pandas as pd

from seclearn.config import Limits
from seclearn.errors import ConfigError, IngestError
from seclearn.ingest import cicflowmeter, nsl_kdd, table, unsw, zeek, zeek_json
from seclearn.ingest._records import IngestChunk, IngestResult, IngestStats
from seclearn.ingest.detect import FORMATS, detect_format
from seclearn.ingest.mapping import TableMapping, load_mapping, mapping_from_dict
from seclearn.schema import FLOW_SCHEMA, empty_frame, validate_frame

Reader = Callable[..., Iterator[IngestChunk]]

_READERS: dict[str, tuple[Reader, tuple[str, str]]] = {
    "nsl-kdd": (nsl_kdd.iter_nsl_kdd, nsl_kdd.READER),
    "unsw-nb15": (partial(unsw.iter_unsw, raw=False), unsw.READER),
    "unsw-nb15-raw": (partial(unsw.iter_unsw, raw=True), unsw.READER),
    "cicflowmeter": (cicflowmeter.iter_cicflowmeter, cicflowmeter.READER),
    "zeek-tsv": (zeek.iter_zeek_tsv, zeek.READER_TSV),
    "zeek-json": (zeek_json.iter_zeek_json, zeek_json.READER),
    "zeek-csv": (zeek.iter_zeek_csv, zeek.READER_CSV),
    "table": (table.iter_table, table.READER),
}
assert tuple(_READERS) == FORMATS


def _check_format(format: str) -> str:
    if format not in _READERS:
        raise ConfigError(
            f"Unknown input format {format!r}. Allowed formats: {', '.join(FORMATS)}; "
            f"or leave the format out to detect it from the content."
        )
    return format


def reader_info(format: str) -> tuple[str, str]:
    """``(reader name, reader version)`` of the reader for ``format``, for manifests."""
    return _READERS[_check_format(format)][1]


def _mapping(mapping: Path | str | dict | TableMapping) -> TableMapping:
    if isinstance(mapping, TableMapping):
        return mapping
    if isinstance(mapping, dict):
        return mapping_from_dict(mapping)
    return load_mapping(mapping)


def _resolve(
    path: Path, format: str | None, mapping: Path | str | dict | TableMapping | None, limits: Limits
) -> tuple[str, TableMapping | None]:
    if format is not None:
        _check_format(format)
    if mapping is not None:
        if format not in (None, "table"):
            raise ConfigError(
                f"A column mapping is only used with format 'table', not {format!r}. "
                f"Drop the mapping or use format='table'."
            )
        return "table", _mapping(mapping)
    if format == "table":
        raise ConfigError(
            "Format 'table' needs a column mapping (mapping=path/to/mapping.toml, or --mapping); "
            "see seclearn.ingest.mapping for its keys."
        )
    return format or detect_format(path, limits=limits), None


def _guarded(chunks: Iterator[IngestChunk], path: Path) -> Iterator[IngestChunk]:
    """Let only :class:`IngestError` out of a reader."""
    try:
        yield from chunks
    except IngestError:
        raise
    except Exception as exc:  # a reader bug must still surface as a declared error
        raise IngestError(
            f"Could not read {path.name}: unexpected {type(exc).__name__}: {str(exc)[:200]}. "
            f"This is a bug in seclearn's reader; please report it with the file's first lines."
        ) from exc


def iter_flows(
    path: str | Path,
    *,
    format: str | None = None,
    mapping: Path | str | dict | TableMapping | None = None,
    limits: Limits = Limits(),
    chunk_rows: int = 200_000,
) -> Iterator[IngestChunk]:
    """Read flows from ``path`` in chunks of at most ``chunk_rows`` rows.

    ``format`` is one of :data:`FORMATS`, or None to detect it from the content; ``mapping``
    (a TOML file, a dict or a :class:`TableMapping`) implies format ``'table'``. Each chunk's
    frame is valid under :data:`~seclearn.schema.FLOW_SCHEMA`; the chunks' stats add up to
    the file's. Argument errors and format detection happen at the call; reading happens as
    the chunks are consumed.
    """
    if not isinstance(chunk_rows, int) or isinstance(chunk_rows, bool) or chunk_rows < 1:
        raise ConfigError(f"chunk_rows must be a positive integer, got {chunk_rows!r}.")
    if not isinstance(limits, Limits):
        raise ConfigError(f"limits must be a seclearn.config.Limits, got {type(limits).__name__}.")
    path = Path(path)
    fmt, table_mapping = _resolve(path, format, mapping, limits)
    read = _READERS[fmt][0]
    if table_mapping is not None:
        chunks = read(path, mapping=table_mapping, limits=limits, chunk_rows=chunk_rows)
    else:
        chunks = read(path, limits=limits, chunk_rows=chunk_rows)
    return _guarded(chunks, path)


def read_flows(
    path: str | Path,
    *,
    format: str | None = None,
    mapping: Path | str | dict | TableMapping | None = None,
    limits: Limits = Limits(),
) -> IngestResult:
    """Read a whole file into one flow frame (see :func:`iter_flows`)."""
    path = Path(path)
    fmt, table_mapping = _resolve(path, format, mapping, limits)
    stats = IngestStats()
    frames: list[pd.DataFrame] = []
    for chunk in iter_flows(path, format=fmt, mapping=table_mapping, limits=limits):
        stats.merge(chunk.stats)
        if len(chunk.frame) or not frames:
            frames.append(chunk.frame)
    if not frames:
        frame = empty_frame(FLOW_SCHEMA)
    elif len(frames) == 1:
        frame = frames[0]
    else:
        frames = [f for f in frames if len(f)] or frames[:1]
        frame = pd.concat(frames, ignore_index=True)
        if any(not f.dtypes.equals(frames[0].dtypes) for f in frames[1:]):
            frame = validate_frame(frame, FLOW_SCHEMA)
    name, version = reader_info(fmt)
    return IngestResult(frame, stats, fmt, name, version, path)


__all__ = ["FORMATS", "iter_flows", "read_flows", "reader_info"]
