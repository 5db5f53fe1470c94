"""Column names and the few value conventions every flow reader shares.

Readers name extra columns in snake_case (``Flow Bytes/s`` -> ``flow_bytes_s``),
make duplicate names unique, read header lines under the field-count limit, and turn
port columns into integers in 0..65535 (anything else becomes missing).
"""

from __future__ import annotations

import csv
import re

import numpy as np
import pandas as pd

from seclearn.config import Limits
from seclearn.errors import LimitExceededError

_NON_WORD = re.compile(r"[^0-9a-zA-Z]+")
MAX_PORT = 65535


def snake_case(name: str) -> str:
    """``' Flow Bytes/s'`` -> ``'flow_bytes_s'``; ``'ct_src_ ltm'`` -> ``'ct_src_ltm'``."""
    text = _NON_WORD.sub("_", name.strip()).strip("_").lower()
    return re.sub("_+", "_", text) or "column"


def unique_names(names: list[str]) -> list[str]:
    """Make names unique by suffixing repeats: ``a, a, a`` -> ``a, a_1, a_2``."""
    seen: dict[str, int] = {}
    out = []
    taken = set(names)
    for name in names:
        if name not in seen:
            seen[name] = 0
            out.append(name)
            continue
        k = seen[name]
        while True:
            k += 1
            candidate = f"{name}_{k}"
            if candidate not in taken:
                break
        seen[name] = k
        taken.add(candidate)
        out.append(candidate)
    return out


def header_cells(line: bytes, *, delimiter: str, limits: Limits, source: str) -> list[str]:
    """The cells of a header line (quotes removed, white space stripped), within the limit."""
    text = line.decode("utf-8", errors="replace")
    if text.count(delimiter) + 1 > limits.max_fields:
        raise LimitExceededError(
            f"The header of {source} has {text.count(delimiter) + 1:,} fields, more than "
            f"limits.max_fields ({limits.max_fields:,}). Check the delimiter, or raise the limit."
        )
    try:
        cells = next(csv.reader([text], delimiter=delimiter), [])
    except csv.Error:  # a stray CR or NUL: fall back to a plain split
        cells = text.split(delimiter)
    return [c.strip().strip("'\"").strip() for c in cells]


def clean_ports(values: pd.Series) -> pd.Series:
    """Ports as Int64 (``'0x000b'`` hex accepted); anything that is not a port is missing."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype("float64")
    else:
        text = values.astype("str").str.strip()
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
        hexed = text.str.lower().str.startswith("0x").fillna(False).to_numpy(dtype=bool)
        if hexed.any():
            numbers[hexed] = [_hex_or_nan(v) for v in text[hexed]]
    ok = (numbers >= 0) & (numbers <= MAX_PORT) & (numbers % 1 == 0)
    return numbers.where(ok, np.nan).astype("Int64")


def _hex_or_nan(text: str) -> float:
    try:
        return float(int(text, 16))
    except ValueError:
        return float("nan")


def drop_if_present(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """``frame`` without those of ``names`` it has."""
    present = [n for n in names if n in frame.columns]
    return frame.drop(columns=present) if present else frame


__all__ = [
    "MAX_PORT",
    "clean_ports",
    "drop_if_present",
    "header_cells",
    "snake_case",
    "unique_names",
]
