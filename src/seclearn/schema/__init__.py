"""Canonical record schemas per domain, and frame validation."""

from seclearn.schema._base import (
    Field,
    RecordSchema,
    coerce_column,
    empty_frame,
    numeric_columns,
    validate_frame,
)
from seclearn.schema.flow import FLOW_SCHEMA, IDENTITY_FIELDS, LABEL_FIELDS, META_PREFIX

SCHEMAS: dict[str, RecordSchema] = {FLOW_SCHEMA.name: FLOW_SCHEMA}

__all__ = [
    "FLOW_SCHEMA",
    "Field",
    "IDENTITY_FIELDS",
    "LABEL_FIELDS",
    "META_PREFIX",
    "RecordSchema",
    "SCHEMAS",
    "coerce_column",
    "empty_frame",
    "numeric_columns",
    "validate_frame",
]
