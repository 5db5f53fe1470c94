"""Row hashes that say when two records are the same, across chunks and datasets.

Two notions matter for curation:

* **exact duplicates**: identical in every column except metadata (``meta_*``) and
  record identifiers (``uid``, ``flow_id``, ``record_id``), which differ by design;
* **feature-identical rows**: identical in every column a model could use, that is
  ignoring metadata, identity/time fields (:data:`~seclearn.schema.IDENTITY_FIELDS`)
  and label fields. Such rows on both sides of a train/test split inflate test scores.

Columns are normalised before hashing so that dtype differences between chunks or
datasets do not hide equal values: every numeric or boolean column is compared as
float64 (1 == 1.0 == True), -0.0 equals 0.0, and missing values equal each other.
Hashes are 64-bit (``pandas.util.hash_pandas_object`` per column, combined in sorted
column order); a collision among 10^8 rows has a probability of about 3e-4.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from seclearn.schema import IDENTITY_FIELDS, LABEL_FIELDS, META_PREFIX

#: Columns that identify one record and so never make two rows differ.
RECORD_ID_FIELDS = ("uid", "flow_id", "record_id")
_MULT = np.uint64(0x100000001B3)
_MISSING_SALT = np.uint64(0x9E3779B97F4A7C15)


def exact_columns(columns: Iterable[str]) -> list[str]:
    """Columns compared for exact duplicates: all but ``meta_*`` and record ids, sorted."""
    return sorted(
        str(c)
        for c in columns
        if not str(c).startswith(META_PREFIX) and str(c) not in RECORD_ID_FIELDS
    )


def feature_columns(columns: Iterable[str]) -> list[str]:
    """Columns a model could use: all but ``meta_*``, identity/time and label fields, sorted."""
    skip = set(IDENTITY_FIELDS) | set(LABEL_FIELDS) | set(RECORD_ID_FIELDS)
    return sorted(
        str(c) for c in columns if not str(c).startswith(META_PREFIX) and str(c) not in skip
    )


def _column_hash(values: pd.Series) -> np.ndarray:
    """uint64 hash per value, equal for equal values whatever the column's dtype."""
    missing = values.isna().to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        numeric = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy(na_value=np.nan)
        clean = np.where(missing, 0.0, numeric) + 0.0  # + 0.0 turns -0.0 into 0.0
        hashed = pd.util.hash_pandas_object(pd.Series(clean), index=False).to_numpy(np.uint64)
    else:
        text = values.astype("str").where(~missing, "")
        hashed = pd.util.hash_pandas_object(text, index=False, categorize=False).to_numpy(np.uint64)
    return np.where(missing, _MISSING_SALT, hashed)


def hash_rows(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One uint64 per row over ``columns`` (in the order given; pass a sorted list).

    Columns absent from ``frame`` hash as missing, so that a frame lacking an
    all-missing column hashes like one that has it.
    """
    n = len(frame)
    out = np.full(n, np.uint64(len(columns)), dtype=np.uint64)
    for col in columns:
        if col in frame.columns:
            h = _column_hash(frame[col])
        else:
            h = np.full(n, _MISSING_SALT, dtype=np.uint64)
        out = (out * _MULT) ^ h  # uint64 arithmetic wraps, as intended
    return out


__all__ = ["RECORD_ID_FIELDS", "exact_columns", "feature_columns", "hash_rows"]
