"""The column mapping of the generic ``table`` reader, from a small TOML file.

Example::

    format = "csv"                  # csv | parquet | jsonl
    delimiter = ","                 # optional, csv only (one character)
    [columns]                       # flow field = source column
    src_ip = "SourceAddress"
    ts = "EventTime"
    [label]                         # optional
    column = "Verdict"
    benign_values = ["clean", "ok"] # default: benign, normal, 0
    malicious_values = ["bad"]      # optional; default: anything else that is not empty
    attack_type_column = "Family"   # optional
    [time]                          # optional
    format = "%Y-%m-%d %H:%M:%S"    # strftime format; default: epoch numbers or ISO-8601
    unit = "s"                      # unit of epoch numbers: s | ms | us | ns

Any mistake raises :class:`~seclearn.errors.ConfigError` naming the key, what is allowed
and what was found.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seclearn.errors import ConfigError
from seclearn.schema import FLOW_SCHEMA

TABLE_FORMATS = ("csv", "jsonl", "parquet")
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
#: Flow fields a [columns] entry may name (label fields are configured under [label]).
MAPPABLE_FIELDS = tuple(n for n in FLOW_SCHEMA.names if n not in ("label", "attack_type"))
_TOP_KEYS = ("columns", "delimiter", "format", "label", "time")
_LABEL_KEYS = ("attack_type_column", "benign_values", "column", "malicious_values")
_TIME_KEYS = ("format", "unit")
_MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class LabelMapping:
    """Which source column holds the verdict, and which of its values mean benign."""

    column: str
    benign_values: tuple[str, ...] = ("benign", "normal", "0")
    malicious_values: tuple[str, ...] | None = None
    attack_type_column: str | None = None


@dataclass(frozen=True)
class TableMapping:
    """How the columns of a generic CSV / Parquet / JSON-lines table become flow fields."""

    format: str
    columns: dict[str, str] = field(default_factory=dict)
    label: LabelMapping | None = None
    time_format: str | None = None
    time_unit: str = "s"
    delimiter: str = ","
    source: str = "<dict>"

    def source_columns(self) -> list[str]:
        """Every source column the mapping names."""
        names = list(self.columns.values())
        if self.label is not None:
            names.append(self.label.column)
            if self.label.attack_type_column:
                names.append(self.label.attack_type_column)
        return names


def _fail(where: str, key: str, allowed: str, got: Any) -> ConfigError:
    shown = repr(got) if not isinstance(got, dict) else f"a table with keys {sorted(got)}"
    return ConfigError(f"Table mapping {where}: key {key!r} must be {allowed}; got {shown[:120]}.")


def _check_keys(where: str, section: str, table: dict, allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(
                f"Table mapping {where}: unknown key {section}{key!r}. Allowed keys: {', '.join(allowed)}."
            )


def _string(where: str, key: str, value: Any, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise _fail(where, key, "a non-empty string", value)
    return value


def _strings(where: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise _fail(where, key, "a list of strings", value)
    return tuple(str(v).strip().lower() for v in value)


def mapping_from_dict(data: dict[str, Any], *, source: str = "<dict>") -> TableMapping:
    """Validate a mapping given as a dict (the parsed TOML)."""
    where = f"({source})"
    if not isinstance(data, dict):
        raise ConfigError(
            f"Table mapping {where} must be a table of keys, got {type(data).__name__}."
        )
    _check_keys(where, "", data, _TOP_KEYS)
    fmt = data.get("format")
    if fmt not in TABLE_FORMATS:
        raise _fail(where, "format", f"one of {', '.join(TABLE_FORMATS)}", fmt)
    delimiter = data.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '\r\n"':
        raise _fail(
            where, "delimiter", "a single character other than a quote or line end", delimiter
        )
    columns = data.get("columns", {})
    if not isinstance(columns, dict):
        raise _fail(where, "columns", "a table of flow field = source column", columns)
    for key, value in columns.items():
        if key not in MAPPABLE_FIELDS:
            raise ConfigError(
                f"Table mapping {where}: unknown flow field 'columns.{key}'. Allowed: "
                f"{', '.join(MAPPABLE_FIELDS)} (set label and attack_type under [label])."
            )
        _string(where, f"columns.{key}", value)
    label = None
    if "label" in data:
        section = data["label"]
        if not isinstance(section, dict):
            raise _fail(where, "label", "a table with at least 'column'", section)
        _check_keys(where, "label.", section, _LABEL_KEYS)
        label = LabelMapping(
            column=str(_string(where, "label.column", section.get("column"))),
            benign_values=_strings(where, "label.benign_values", section["benign_values"])
            if "benign_values" in section
            else LabelMapping.benign_values,
            malicious_values=_strings(where, "label.malicious_values", section["malicious_values"])
            if "malicious_values" in section
            else None,
            attack_type_column=_string(
                where, "label.attack_type_column", section.get("attack_type_column"), optional=True
            ),
        )
    time = data.get("time", {})
    if not isinstance(time, dict):
        raise _fail(where, "time", "a table with 'format' and/or 'unit'", time)
    _check_keys(where, "time.", time, _TIME_KEYS)
    time_format = _string(where, "time.format", time.get("format"), optional=True)
    unit = time.get("unit", "s")
    if unit not in TIME_UNITS:
        raise _fail(where, "time.unit", f"one of {', '.join(TIME_UNITS)}", unit)
    mapping = TableMapping(
        format=fmt,
        columns=dict(columns),
        label=label,
        time_format=time_format,
        time_unit=unit,
        delimiter=delimiter,
        source=source,
    )
    names = mapping.source_columns()
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(
            f"Table mapping {where}: source column(s) {dupes} are mapped more than once; "
            f"map each source column to one flow field."
        )
    return mapping


def load_mapping(path: str | Path) -> TableMapping:
    """Read and validate a table mapping from a TOML file."""
    path = Path(path)
    try:
        if path.stat().st_size > _MAX_CONFIG_BYTES:
            raise ConfigError(f"Table mapping {path} is larger than 1 MiB; is it the right file?")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Table mapping file {str(path)!r} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Table mapping file {str(path)!r} cannot be read: {exc}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Table mapping {path} is not valid TOML: {exc}.") from None
    return mapping_from_dict(data, source=str(path))


__all__ = [
    "MAPPABLE_FIELDS",
    "TABLE_FORMATS",
    "LabelMapping",
    "TableMapping",
    "load_mapping",
    "mapping_from_dict",
]
