"""Building the ``manifest.json`` of a saved model."""

from __future__ import annotations

import datetime as dt
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

import seclearn
from seclearn.registry._verify import FORMAT_VERSION

#: Libraries whose versions every manifest records (a model may not load under others).
TRACKED_LIBRARIES = ("numpy", "pandas", "scikit-learn", "lightgbm", "pyod", "skops")
#: Stage a freshly saved model starts in.
INITIAL_STAGE = "candidate"


def library_versions() -> dict[str, str | None]:
    """Installed versions of :data:`TRACKED_LIBRARIES` (None when not installed)."""
    versions: dict[str, str | None] = {}
    for name in TRACKED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _default(value: Any) -> Any:
    """JSON fallback for values orjson does not know (paths, sets, numpy/pandas scalars)."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    if hasattr(value, "item"):  # numpy / pandas scalars not covered by OPT_SERIALIZE_NUMPY
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot store a {type(value).__name__} in a model manifest")


def dump_json(obj: Any) -> bytes:
    """Deterministic, human-readable JSON bytes (sorted keys, 2-space indent, NaN as null)."""
    return orjson.dumps(
        obj,
        default=_default,
        option=orjson.OPT_INDENT_2
        | orjson.OPT_SORT_KEYS
        | orjson.OPT_SERIALIZE_NUMPY
        | orjson.OPT_NON_STR_KEYS
        | orjson.OPT_APPEND_NEWLINE,
    )


def build_manifest(
    *,
    name: str,
    version: int,
    pipeline_metadata: dict[str, Any],
    operating_point: dict[str, Any] | None,
    files: dict[str, dict[str, Any]],
    metrics: dict[str, Any] | None,
    dataset: dict[str, Any] | None,
    extra: dict[str, Any] | None,
    created_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The manifest of one model version; see ``registry`` package docs for the fields."""
    when = created_at or dt.datetime.now(dt.UTC)
    return {
        "format_version": FORMAT_VERSION,
        "name": name,
        "version": version,
        "created_at": when.isoformat(timespec="seconds"),
        "stage": INITIAL_STAGE,
        "seclearn_version": seclearn.__version__,
        "python_version": platform.python_version(),
        "libraries": library_versions(),
        "pipeline": pipeline_metadata,
        "operating_point": operating_point,
        "metrics": metrics or {},
        "dataset": dataset or {},
        "extra": extra or {},
        "files": files,
    }


__all__ = ["INITIAL_STAGE", "TRACKED_LIBRARIES", "build_manifest", "dump_json", "library_versions"]
