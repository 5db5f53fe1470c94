"""The store's error classes, drawn in the tree of :mod:`seclearn.errors`."""

from __future__ import annotations

from seclearn.errors import RecordNotFoundError, SchemaVersionError

__all__ = ["RecordNotFoundError", "SchemaVersionError"]
