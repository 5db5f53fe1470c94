"""Turning a dataset's label columns into ``label`` (1/0/NA) and ``attack_type``.

Label columns hold few distinct values, so the work is done once per distinct value
(:func:`per_value`) and spread back to the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

#: Label words that mean benign / malicious in the datasets seclearn reads (lower case).
BENIGN_WORDS = frozenset({"0", "benign", "normal", "false", "clean"})
MALICIOUS_WORDS = frozenset({"1", "malicious", "attack", "true"})


def per_value(values: pd.Series, fn: Callable[[Any], Any]) -> np.ndarray:
    """``fn`` applied to each distinct value (and once to None for missing), per row."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    for i, value in enumerate(uniques):
        mapped[i] = fn(value)
    mapped[-1] = fn(None)
    return mapped[codes]


def clean_word(value: Any) -> str | None:
    """A label cell as stripped text; None when empty or ``-``."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    return None if text in ("", "-") else text


def normalised_text(values: pd.Series) -> pd.Series:
    """Strings, stripped, with empty and ``-`` as missing."""
    return pd.Series(per_value(values, clean_word), index=values.index, dtype="str")


def binary_label(
    values: pd.Series,
    *,
    benign: frozenset[str] = BENIGN_WORDS,
    malicious: frozenset[str] | None = MALICIOUS_WORDS,
) -> pd.Series:
    """Int8 labels: 0 for ``benign`` words, 1 for ``malicious`` ones, NA otherwise.

    Matching ignores case and surrounding space. With ``malicious=None`` every non-empty
    value that is not benign counts as malicious. Numbers 0/1 (also ``1.0``) are accepted.
    """

    def decide(value: Any) -> float:
        word = clean_word(value)
        if word is None:
            return np.nan
        word = word.lower()
        if word.endswith(".0") and word[:-2].isdigit():
            word = word[:-2]
        if word in benign:
            return 0.0
        if malicious is None or word in malicious:
            return 1.0
        return np.nan

    numbers = per_value(values, decide).astype("float64")
    return pd.Series(numbers, index=values.index).astype("Int8")


def attack_types(
    label: pd.Series, detail: pd.Series | None, *, default: str = "malicious"
) -> pd.Series:
    """``'benign'`` where label is 0, ``detail`` (or ``default``) where 1, missing where NA."""
    lab = label.to_numpy(dtype="float64", na_value=np.nan)
    if detail is None:
        names = np.full(len(lab), default, dtype=object)
    else:
        names = per_value(detail, lambda v: clean_word(v) or default)
    out = np.full(len(lab), None, dtype=object)
    malicious, benign = lab == 1, lab == 0
    out[malicious] = names[malicious]
    out[benign] = "benign"
    return pd.Series(out, index=label.index, dtype="str")


__all__ = [
    "BENIGN_WORDS",
    "MALICIOUS_WORDS",
    "attack_types",
    "binary_label",
    "clean_word",
    "normalised_text",
    "per_value",
]
