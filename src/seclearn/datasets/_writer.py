"""Writing a dataset folder: parquet parts with one schema, then an atomic rename.

:class:`PartWriter` appends frames to ``data/part-NNNNN.parquet`` with
``pyarrow.parquet.ParquetWriter`` (one row group per frame), so memory holds one chunk
at a time. Chunks may disagree on dtypes (an integer column that later holds a
fraction, a column that appears only in some files): the writer widens its target
dtypes as it goes and, when it closes, rewrites the few parts written under an older
target, one at a time, so that every part ends with the same schema.

:class:`DatasetBuilder` builds the whole folder under a hidden temporary name beside
its final place and renames it into place only when everything is written, so that a
crash never leaves a half-written dataset under a real name.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from seclearn import __version__
from seclearn.datasets.quality import QualityAccumulator
from seclearn.datasets.workspace import (
    DATA_DIR,
    MANIFEST_FILE,
    MANIFEST_FORMAT_VERSION,
    QUALITY_FILE,
    QUARANTINE_FILE,
    dataset_path,
    datasets_dir,
    sha256_file,
    write_json,
)
from seclearn.errors import WorkspaceError
from seclearn.schema import FLOW_SCHEMA, RecordSchema, empty_frame

_INT_DTYPES = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
_HASH_BLOCK_BYTES = 1024 * 1024


def _family(dtype: str) -> str:
    low = dtype.lower()
    if low in {"bool", "boolean"}:
        return "bool"
    if low in _INT_DTYPES:
        return "int"
    if low.startswith("float"):
        return "float"
    return "str"


def common_dtype(a: str, b: str) -> str:
    """The narrowest dtype that holds values of both ``a`` and ``b`` (pandas names)."""
    if a == b:
        return a
    fa, fb = _family(a), _family(b)
    if "str" in (fa, fb):
        return "str"
    if fa == fb == "bool":
        return "boolean"
    if "float" in (fa, fb):
        return "float64"
    return "Int64"  # int with int or bool: nullable so that missing values survive


def _cast(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    out = {}
    n = len(frame)
    for col, dtype in dtypes.items():
        if col not in frame.columns:
            out[col] = pd.Series([None] * n, dtype=dtype if dtype != "str" else "str")
            continue
        values = frame[col].reset_index(drop=True)
        if str(values.dtype) != dtype:
            if dtype == "str":
                values = values.astype("str").where(values.notna(), None).astype("str")
            else:
                values = values.astype(dtype)
        out[col] = values
    return pd.DataFrame(out)


@dataclass
class _Part:
    path: Path
    dtypes: dict[str, str]
    rows: int = 0


class PartWriter:
    """Appends frames to parquet parts in ``folder`` (``rows_per_part`` rows at most per part)."""

    def __init__(self, folder: Path, *, rows_per_part: int = 1_000_000) -> None:
        self.folder = folder
        self.rows_per_part = rows_per_part
        self.dtypes: dict[str, str] = {}
        self.parts: list[_Part] = []
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, frame: pd.DataFrame) -> None:
        """Append ``frame`` (any index; it is not stored)."""
        widened = dict(self.dtypes)
        for col in frame.columns:
            have = str(frame[col].dtype)
            widened[str(col)] = (
                common_dtype(widened[str(col)], have) if str(col) in widened else have
            )
        if widened != self.dtypes:
            self.dtypes = widened
            self._close_writer()
        if len(frame) == 0:
            return
        table = pa.Table.from_pandas(_cast(frame, self.dtypes), preserve_index=False)
        current = self.parts[-1] if self.parts else None
        if self._writer is None or current is None or current.rows >= self.rows_per_part:
            self._close_writer()
            current = _Part(self.folder / f"part-{len(self.parts):05d}.parquet", dict(self.dtypes))
            self.parts.append(current)
            self._schema = table.schema
            self._writer = pq.ParquetWriter(current.path, table.schema)
        self._writer.write_table(table.cast(self._schema))
        current.rows += len(frame)

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def close(self, empty_schema: RecordSchema = FLOW_SCHEMA) -> list[dict[str, Any]]:
        """Finish writing; return ``[{path, rows, size_bytes, sha256}]`` in order."""
        self._close_writer()
        if not self.dtypes:
            self.dtypes = {c: str(t) for c, t in empty_frame(empty_schema).dtypes.items()}
        if not self.parts:
            path = self.folder / "part-00000.parquet"
            pq.write_table(
                pa.Table.from_pandas(_cast(pd.DataFrame(), self.dtypes), preserve_index=False), path
            )
            self.parts.append(_Part(path, dict(self.dtypes)))
        for part in self.parts:
            if part.dtypes != self.dtypes:  # written before a later chunk widened a dtype
                frame = _cast(pq.read_table(part.path).to_pandas(), self.dtypes)
                tmp = part.path.with_suffix(".rewrite")
                pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
                os.replace(tmp, part.path)
                part.dtypes = dict(self.dtypes)
        out = []
        for part in self.parts:
            out.append(
                {
                    "path": f"{DATA_DIR}/{part.path.name}",
                    "rows": part.rows,
                    "size_bytes": part.path.stat().st_size,
                    "sha256": sha256_file(part.path),
                }
            )
        return out


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


def utc_now() -> str:
    """The current time as ISO 8601 UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class DatasetBuilder:
    """Builds one dataset folder under a temporary name; :meth:`commit` renames it into place.

    Use as a context manager: leaving the block with an exception removes the
    temporary folder. ``overwrite=False`` refuses a name that already exists.
    """

    def __init__(
        self, root: Path, name: str, *, overwrite: bool = False, chunk_rows: int = 200_000
    ) -> None:
        self.root = Path(root)
        self.name = name
        self.final = dataset_path(root, name)
        self.overwrite = overwrite
        if self.final.exists() and not overwrite:
            raise WorkspaceError(
                f"Dataset {name!r} already exists in {self.root}. Choose another name, or pass "
                "overwrite=True (CLI: --overwrite) to replace it."
            )
        datasets_dir(root).mkdir(parents=True, exist_ok=True)
        self.tmp = datasets_dir(root) / f".tmp-{name}-{uuid.uuid4().hex[:12]}"
        (self.tmp / DATA_DIR).mkdir(parents=True)
        self.parts = PartWriter(self.tmp / DATA_DIR, rows_per_part=max(chunk_rows, 1))
        self.chunk_rows = chunk_rows
        self._quarantine = open(self.tmp / QUARANTINE_FILE, "wb")  # noqa: SIM115 (closed in commit/abort)
        self.quarantined_written = 0

    def __enter__(self) -> DatasetBuilder:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.abort()

    def add(self, frame: pd.DataFrame) -> None:
        """Append rows."""
        self.parts.write(frame)

    def add_quarantine(self, file: str, records: list[Any]) -> None:
        """Append quarantined records (objects with ``line``, ``reason``, ``raw``) of ``file``."""
        for rec in records:
            line = {"file": file, "line": rec.line, "reason": rec.reason, "raw": rec.raw}
            self._quarantine.write(orjson.dumps(line) + b"\n")
            self.quarantined_written += 1

    def commit(
        self, *, sources: list[dict[str, Any]], lineage: dict[str, Any], totals: dict[str, Any]
    ) -> dict[str, Any]:
        """Close the parts, summarise them, write manifest and quality report, rename into place."""
        self._quarantine.close()
        parts = self.parts.close()
        columns = list(self.parts.dtypes)
        quality = QualityAccumulator(columns)
        ts_min, ts_max = np.inf, -np.inf
        content = hashlib.sha256()
        for part in parts:
            path = self.tmp / part["path"]
            with open(path, "rb") as fh:
                while block := fh.read(_HASH_BLOCK_BYTES):
                    content.update(block)
            with pq.ParquetFile(path) as pf:
                for batch in pf.iter_batches(batch_size=self.chunk_rows):
                    frame = batch.to_pandas()
                    quality.update(frame)
                    if "ts" in frame.columns and frame["ts"].notna().any():
                        ts = pd.to_numeric(frame["ts"], errors="coerce")
                        ts_min, ts_max = min(ts_min, float(ts.min())), max(ts_max, float(ts.max()))
        report = quality.report()
        manifest = {
            "format_version": MANIFEST_FORMAT_VERSION,
            "name": self.name,
            "created_at": utc_now(),
            "seclearn_version": __version__,
            "schema": {
                "name": FLOW_SCHEMA.name,
                "version": FLOW_SCHEMA.version,
                "fingerprint": FLOW_SCHEMA.fingerprint(),
            },
            "sources": sources,
            "totals": {**totals, "rows": report["rows"]},
            "columns": [{"name": c, "dtype": d} for c, d in self.parts.dtypes.items()],
            "label": {
                "column": "label" if "label" in columns else None,
                "counts": {k: report["labels"][k] for k in ("benign", "malicious", "unlabeled")},
            },
            "attack_types": report["attack_types"],
            "time_range": {"start": _iso(ts_min), "end": _iso(ts_max)}
            if np.isfinite(ts_min)
            else None,
            "parts": parts,
            "content_fingerprint": content.hexdigest(),
            "lineage": lineage,
        }
        write_json(self.tmp / QUALITY_FILE, {"dataset": self.name, **report})
        write_json(self.tmp / MANIFEST_FILE, manifest)
        self._rename_into_place()
        return manifest

    def _rename_into_place(self) -> None:
        old = None
        if self.final.exists():
            if not self.overwrite:
                self.abort()
                raise WorkspaceError(
                    f"Dataset {self.name!r} was created by someone else while this one was being "
                    "written; nothing was changed. Retry with another name or overwrite=True."
                )
            old = self.final.with_name(f".old-{self.name}-{uuid.uuid4().hex[:12]}")
            os.replace(self.final, old)
        os.replace(self.tmp, self.final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        """Drop everything written so far."""
        if not self._quarantine.closed:
            self._quarantine.close()
        self.parts._close_writer()
        shutil.rmtree(self.tmp, ignore_errors=True)


__all__ = ["DatasetBuilder", "PartWriter", "common_dtype", "utc_now"]
