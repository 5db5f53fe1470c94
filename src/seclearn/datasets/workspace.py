"""Datasets in a workspace: where they live, their manifests, and reading them back.

A workspace is a folder (``.seclearn`` by default, always passed in explicitly).
Each dataset is ``<root>/datasets/<name>/`` holding::

    data/part-00000.parquet ...   the rows, one schema across all parts
    manifest.json                 sources, hashes, counts, columns, lineage
    quality.json                  the data-quality report (see ``quality_report``)
    quarantine.jsonl              every record ingest quarantined: file, line, reason, raw

Reading a dataset first checks the sha256 of every part against the manifest, so a
modified or truncated file is refused instead of silently loaded.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pyarrow.parquet as pq

from seclearn.errors import ConfigError, DatasetNotFoundError, WorkspaceError

#: What a dataset name may look like: lower case letters, digits, '.', '_' and '-',
#: starting with a letter or digit, at most 64 characters.
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MANIFEST_FILE = "manifest.json"
QUALITY_FILE = "quality.json"
QUARANTINE_FILE = "quarantine.jsonl"
DATA_DIR = "data"
#: Version of the manifest layout; bumped when keys change meaning.
MANIFEST_FORMAT_VERSION = 1
_REQUIRED_KEYS = ("name", "format_version", "created_at", "columns", "parts", "content_fingerprint")
_HASH_BLOCK_BYTES = 1024 * 1024


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid dataset name, else raise :class:`ConfigError`."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or ".." in name:
        raise ConfigError(
            f"Invalid dataset name {name!r}: expected 1-64 characters of lower-case letters, digits, "
            "'.', '_' or '-', starting with a letter or digit, and no '..' (for example 'zeek-2024-03'). "
            "Rename it to match."
        )
    return name


def datasets_dir(root: Path) -> Path:
    """The folder holding every dataset of the workspace ``root``."""
    return Path(root) / "datasets"


def dataset_path(root: Path, name: str) -> Path:
    """The folder of dataset ``name`` in workspace ``root`` (it need not exist)."""
    return datasets_dir(root) / validate_name(name)


def existing_names(root: Path) -> list[str]:
    """Names of the datasets in ``root`` that have a manifest file, sorted."""
    folder = datasets_dir(root)
    if not folder.is_dir():
        return []
    return sorted(
        p.name
        for p in folder.iterdir()
        if NAME_PATTERN.fullmatch(p.name) and (p / MANIFEST_FILE).is_file()
    )


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_HASH_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def _require_dataset(root: Path, name: str) -> Path:
    path = dataset_path(root, name)
    if not (path / MANIFEST_FILE).is_file():
        names = existing_names(root)
        listing = ", ".join(names) if names else "none"
        raise DatasetNotFoundError(
            f"No dataset named {name!r} in workspace {Path(root)}. Existing datasets: {listing}. "
            "Create it with create_dataset (CLI: `seclearn ingest FILES... --name NAME`)."
        )
    return path


def read_manifest(root: Path, name: str) -> dict[str, Any]:
    """The parsed ``manifest.json`` of dataset ``name``.

    Raises :class:`DatasetNotFoundError` if there is no such dataset and
    :class:`WorkspaceError` if the manifest is not valid JSON or lacks required keys.
    """
    path = _require_dataset(root, name) / MANIFEST_FILE
    try:
        manifest = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise WorkspaceError(
            f"The manifest {path} is not valid JSON ({exc}); the dataset is damaged. "
            "Recreate it with create_dataset(..., overwrite=True)."
        ) from None
    if not isinstance(manifest, dict):
        raise WorkspaceError(
            f"The manifest {path} must hold a JSON object, got {type(manifest).__name__}; "
            "recreate the dataset with overwrite=True."
        )
    missing = [k for k in _REQUIRED_KEYS if k not in manifest]
    if missing:
        raise WorkspaceError(
            f"The manifest {path} lacks keys {missing}; it was damaged or written by another tool. "
            "Recreate the dataset with overwrite=True."
        )
    if manifest["name"] != name:
        raise WorkspaceError(
            f"The manifest {path} names dataset {manifest['name']!r}, expected {name!r}: the folder "
            "was renamed by hand. Rename it back or recreate the dataset."
        )
    return manifest


def verify_dataset(root: Path, name: str) -> dict[str, Any]:
    """Check every part file against the manifest's sizes and sha256; return the manifest.

    Raises :class:`WorkspaceError` naming the first part that is missing or altered.
    """
    manifest = read_manifest(root, name)
    folder = dataset_path(root, name)
    content = hashlib.sha256()
    for part in manifest["parts"]:
        path = _part_file(folder, part)
        if not path.is_file():
            raise WorkspaceError(
                f"Dataset {name!r} lists part {part['path']!r}, which is missing from {folder}. "
                "The dataset is damaged: recreate it with overwrite=True."
            )
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while block := fh.read(_HASH_BLOCK_BYTES):
                digest.update(block)
                content.update(block)
        if digest.hexdigest() != part["sha256"]:
            raise WorkspaceError(
                f"Part {part['path']!r} of dataset {name!r} does not match its manifest hash "
                f"(expected sha256 {part['sha256'][:16]}..., got {digest.hexdigest()[:16]}...): the file "
                "was modified after the dataset was written. Recreate the dataset with overwrite=True."
            )
    if content.hexdigest() != manifest["content_fingerprint"]:
        raise WorkspaceError(
            f"The content fingerprint of dataset {name!r} does not match its manifest: parts were "
            "reordered or the manifest was edited. Recreate the dataset with overwrite=True."
        )
    return manifest


def _part_file(folder: Path, part: dict[str, Any]) -> Path:
    rel = str(part.get("path", ""))
    if not re.fullmatch(rf"{DATA_DIR}/part-\d{{5}}\.parquet", rel):
        raise WorkspaceError(
            f"The manifest of {folder.name!r} lists part path {rel!r}; expected 'data/part-NNNNN.parquet'. "
            "The manifest was edited; recreate the dataset."
        )
    return folder / rel


def _check_columns(manifest: dict[str, Any], columns: list[str] | None) -> list[str] | None:
    if columns is None:
        return None
    known = [c["name"] for c in manifest["columns"]]
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise ConfigError(
            f"Columns {unknown} are not in dataset {manifest['name']!r}; its columns are {known}."
        )
    return list(columns)


def _with_dtypes(frame: pd.DataFrame, manifest: dict[str, Any]) -> pd.DataFrame:
    dtypes = {c["name"]: c["dtype"] for c in manifest["columns"]}
    for col in frame.columns:
        want = dtypes.get(str(col))
        if want is not None and str(frame[col].dtype) != want:
            frame[col] = frame[col].astype(want)
    return frame


def load_dataset(
    root: Path, name: str, *, columns: list[str] | None = None, verify: bool = True
) -> pd.DataFrame:
    """All rows of dataset ``name`` as one frame (``columns`` to read only some).

    With ``verify`` (the default) every part's sha256 is checked first.
    """
    manifest = verify_dataset(root, name) if verify else read_manifest(root, name)
    cols = _check_columns(manifest, columns)
    folder = dataset_path(root, name)
    frames = [
        pq.read_table(_part_file(folder, p), columns=cols).to_pandas() for p in manifest["parts"]
    ]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return _with_dtypes(frame, manifest)


def iter_dataset(
    root: Path,
    name: str,
    *,
    columns: list[str] | None = None,
    chunk_rows: int = 200_000,
    verify: bool = True,
) -> Iterator[pd.DataFrame]:
    """Yield the rows of dataset ``name`` in order, in frames of at most ``chunk_rows`` rows.

    Memory stays bounded by one chunk. With ``verify`` every part is hashed before
    the first chunk is yielded.
    """
    if chunk_rows < 1:
        raise ConfigError(f"chunk_rows must be a positive integer, got {chunk_rows}.")
    manifest = verify_dataset(root, name) if verify else read_manifest(root, name)
    cols = _check_columns(manifest, columns)
    folder = dataset_path(root, name)
    for part in manifest["parts"]:
        with pq.ParquetFile(_part_file(folder, part)) as pf:
            for batch in pf.iter_batches(batch_size=chunk_rows, columns=cols):
                frame = batch.to_pandas()
                if len(frame):
                    yield _with_dtypes(frame, manifest)


def list_datasets(root: Path) -> list[dict[str, Any]]:
    """One summary per dataset: name, rows, created, labels (class counts), operation.

    A dataset whose manifest cannot be read is listed with an ``error`` entry instead
    of failing the whole listing. Part hashes are not checked here.
    """
    out: list[dict[str, Any]] = []
    for name in existing_names(root):
        try:
            m = read_manifest(root, name)
        except WorkspaceError as exc:
            out.append(
                {"name": name, "rows": None, "created": None, "labels": None, "error": str(exc)}
            )
            continue
        out.append(
            {
                "name": name,
                "rows": m.get("totals", {}).get("rows"),
                "created": m.get("created_at"),
                "labels": m.get("label", {}).get("counts"),
                "operation": m.get("lineage", {}).get("operation"),
            }
        )
    return out


def write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON (sorted keys are not forced: order is meaningful)."""
    path.write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))


__all__ = [
    "NAME_PATTERN",
    "dataset_path",
    "iter_dataset",
    "list_datasets",
    "load_dataset",
    "read_manifest",
    "validate_name",
    "verify_dataset",
]
