"""Creating a dataset from input files: ingest, hash, write parts, manifest, quality."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from seclearn import ingest
from seclearn.config import Limits
from seclearn.datasets._writer import DatasetBuilder
from seclearn.datasets.workspace import validate_name
from seclearn.errors import ConfigError, IngestError

if TYPE_CHECKING:
    from seclearn.ingest import TableMapping

_HASH_BLOCK_BYTES = 1024 * 1024


def _hash_source(path: Path) -> tuple[str, int]:
    """sha256 and size of a file, read in 1 MiB blocks (one extra pass over the file)."""
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "rb") as fh:
            while block := fh.read(_HASH_BLOCK_BYTES):
                digest.update(block)
                size += len(block)
    except OSError as exc:
        raise IngestError(
            f"Input file {str(path)!r} cannot be read: {exc.strerror}. Check the path."
        ) from None
    return digest.hexdigest(), size


def _mapping_record(mapping: Path | str | dict | TableMapping | None) -> Any:
    """The mapping as JSON for the lineage: a file's path and sha256, or the mapping itself."""
    if mapping is None:
        return None
    if isinstance(mapping, Path | str):
        return {"file": str(Path(mapping).resolve()), "sha256": _hash_source(Path(mapping))[0]}
    if dataclasses.is_dataclass(mapping) and not isinstance(mapping, type):
        return dataclasses.asdict(mapping)
    return orjson.loads(orjson.dumps(mapping, default=str))


def _stat(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except OSError as exc:
        raise IngestError(
            f"Input file {str(path)!r} cannot be read: {exc.strerror}. Check the path."
        ) from None
    return info.st_size, info.st_mtime_ns


def create_dataset(
    root: Path,
    name: str,
    files: Sequence[Path],
    *,
    format: str | None = None,
    mapping: Path | str | dict | TableMapping | None = None,
    limits: Limits = Limits(),
    overwrite: bool = False,
    chunk_rows: int = 200_000,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Ingest ``files`` into the workspace ``root`` as dataset ``name``; return its manifest.

    Each file is read by :func:`seclearn.ingest.iter_flows` (``format`` None detects
    it per file; ``mapping`` renames source columns; ``limits`` bounds every parser)
    and written chunk by chunk, so memory holds about one chunk of ``chunk_rows``
    rows. Every quarantined record is kept in ``quarantine.jsonl``. The manifest
    records, per file, its size, sha256, format, reader and counts; the totals; the
    columns and dtypes; class and attack-type counts; the time range; a content
    fingerprint over the parquet parts; and lineage ``{"operation": "ingest"}``.
    ``quality.json`` holds :func:`quality_report` of the rows.

    ``progress``, if given, is called after each chunk with the number of rows
    written so far. An existing dataset of the same name is refused unless
    ``overwrite``; the new folder replaces it only once complete.
    """
    validate_name(name)
    if chunk_rows < 1:
        raise ConfigError(f"chunk_rows must be a positive integer, got {chunk_rows}.")
    paths = [Path(f) for f in files]
    if not paths:
        raise ConfigError("create_dataset needs at least one input file; got an empty list.")
    sources: list[dict[str, Any]] = []
    totals = {"files": len(paths), "accepted": 0, "quarantined": 0, "rejected": 0, "size_bytes": 0}
    written = 0
    with DatasetBuilder(root, name, overwrite=overwrite, chunk_rows=chunk_rows) as builder:
        for path in paths:
            before = _stat(path)
            sha256, size = _hash_source(path)
            fmt = format or ("table" if mapping is not None else ingest.detect_format(path))
            reader, reader_version = ingest.reader_info(fmt)
            stats = ingest.IngestStats()
            for chunk in ingest.iter_flows(
                path, format=fmt, mapping=mapping, limits=limits, chunk_rows=chunk_rows
            ):
                builder.add(chunk.frame)
                builder.add_quarantine(str(path.resolve()), chunk.stats.quarantine)
                stats.merge(chunk.stats)
                written += len(chunk.frame)
                if progress is not None:
                    progress(written)
            after = _stat(path)
            if after != before:
                raise IngestError(
                    f"{str(path)!r} changed while it was being read (size or modification time). "
                    "Copy the file somewhere stable (or wait until it is no longer written) and retry."
                )
            sources.append(
                {
                    "path": str(path.resolve()),
                    "size_bytes": size,
                    "sha256": sha256,
                    "format": fmt,
                    "reader": reader,
                    "reader_version": reader_version,
                    "accepted": stats.accepted,
                    "quarantined": stats.quarantined,
                    "rejected": stats.rejected,
                    "rejected_reasons": dict(stats.rejected_reasons),
                }
            )
            for key in ("accepted", "quarantined", "rejected"):
                totals[key] += getattr(stats, key)
            totals["size_bytes"] += size
        lineage = {
            "derived_from": [{"source": s["path"], "sha256": s["sha256"]} for s in sources],
            "operation": "ingest",
            "parameters": {
                "format": format,
                "mapping": _mapping_record(mapping),
                "chunk_rows": chunk_rows,
            },
        }
        return builder.commit(sources=sources, lineage=lineage, totals=totals)


__all__ = ["create_dataset"]
