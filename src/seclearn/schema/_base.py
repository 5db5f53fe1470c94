"""Record schemas as data, and frame validation against them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from seclearn.errors import SchemaError

Kind = Literal["float", "int", "str", "bool", "label"]

#: pandas dtype each field kind is stored as in a validated frame.
_DTYPES: dict[str, str] = {
    "float": "float64",
    "int": "Int64",  # nullable integer: ports and counts may be missing
    "str": "str",
    "bool": "boolean",
    "label": "Int8",  # 1 = malicious, 0 = benign, <NA> = unlabeled
}


@dataclass(frozen=True)
class Field:
    """One canonical field of a record schema."""

    name: str
    kind: Kind
    description: str
    unit: str = ""
    required: bool = False


@dataclass(frozen=True)
class RecordSchema:
    """A canonical record schema: named, typed fields; extra columns are allowed.

    Extra columns (dataset-specific features such as NSL-KDD's ``serror_rate``) pass
    through validation unchanged if numeric, and as strings otherwise.
    """

    name: str
    version: str
    fields: tuple[Field, ...]
    label_fields: tuple[str, ...] = ("label", "attack_type")
    entity_fields: tuple[str, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def dtype(self, name: str) -> str:
        return _DTYPES[self.field(name).kind]

    def fingerprint(self) -> str:
        """A short hash of names and kinds: changes whenever the schema's meaning does."""
        text = (
            self.name
            + "|"
            + self.version
            + "|"
            + ";".join(f"{f.name}:{f.kind}" for f in self.fields)
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def coerce_column(values: pd.Series, kind: Kind) -> pd.Series:
    """Convert a column to the dtype of ``kind``; unparseable numbers become missing."""
    if kind == "float":
        return pd.to_numeric(values, errors="coerce").astype("float64")
    if kind == "int":
        numeric = pd.to_numeric(values, errors="coerce")
        frac = numeric.notna() & (numeric % 1 != 0)
        numeric = numeric.mask(frac)
        return numeric.round().astype("Int64")
    if kind == "label":
        numeric = pd.to_numeric(values, errors="coerce")
        numeric = numeric.where(numeric.isin([0, 1]))
        return numeric.astype("Int8")
    if kind == "bool":
        if pd.api.types.is_bool_dtype(values):
            return values.astype("boolean")
        text = values.astype("str").str.strip().str.lower()
        mapped = text.map(
            {"t": True, "true": True, "1": True, "f": False, "false": False, "0": False}
        )
        return mapped.astype("boolean")
    out = values.astype("str")
    return out.where(values.notna(), None).astype("str")


def validate_frame(
    frame: pd.DataFrame, schema: RecordSchema, *, coerce: bool = True
) -> pd.DataFrame:
    """Check ``frame`` against ``schema`` and return a frame with canonical dtypes.

    Canonical fields are converted to their declared dtype (when ``coerce``); missing
    optional fields are fine; a missing required field, a duplicated column or a column
    that cannot hold the declared type raises :class:`SchemaError` naming the field.
    Extra columns pass through: numeric ones unchanged, others as strings.
    """
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            f"Expected a pandas DataFrame for schema {schema.name!r}, got {type(frame).__name__}."
        )
    dupes = frame.columns[frame.columns.duplicated()].tolist()
    if dupes:
        raise SchemaError(
            f"Duplicate column names {dupes} in a {schema.name!r} frame; rename or drop them."
        )
    missing = [f.name for f in schema.fields if f.required and f.name not in frame.columns]
    if missing:
        raise SchemaError(
            f"The {schema.name!r} schema requires fields {missing}, which are absent. "
            f"Present columns: {list(frame.columns)[:20]}. Map your columns to these names."
        )
    out = {}
    for name in frame.columns:
        col = frame[name]
        try:
            f = schema.field(str(name))
        except KeyError:
            if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
                out[name] = col
            else:
                out[name] = col.astype("str").where(col.notna(), None).astype("str")
            continue
        expected = _DTYPES[f.kind]
        if str(col.dtype) == expected:
            out[name] = col
        elif coerce:
            out[name] = coerce_column(col, f.kind)
        else:
            raise SchemaError(
                f"Field {name!r} of schema {schema.name!r} must have dtype {expected}, "
                f"got {col.dtype}. Pass coerce=True or convert the column."
            )
    return pd.DataFrame(out, index=frame.index)


def empty_frame(schema: RecordSchema, extra: dict[str, str] | None = None) -> pd.DataFrame:
    """A zero-row frame with every canonical field at its dtype."""
    cols = {f.name: pd.Series([], dtype=_DTYPES[f.kind]) for f in schema.fields}
    for name, dtype in (extra or {}).items():
        cols[name] = pd.Series([], dtype=dtype)
    return pd.DataFrame(cols)


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    return [
        c
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]


__all__ = [
    "Field",
    "RecordSchema",
    "coerce_column",
    "empty_frame",
    "numeric_columns",
    "validate_frame",
]
