"""Helpers shared by the real-data quality tests (``tests/test_quality_*.py``).

The public datasets live in ``../shared/data`` or ``$SECLEARN_DATA``; a test that needs
one is skipped, with the reason, when it is absent. UNSW-NB15 carries feature-identical
duplicate rows that leak across a random split, so every UNSW protocol here drops them
before splitting.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seclearn.config import shared_data_dir

UNSW_PARTITION = "unsw-nb15/UNSW_NB15_training-set.csv.gz"

#: Training rows per leave-one-category-out fit (a stratified sample of the training split),
#: so that 9 categories x several detectors stay within a CI budget.
LOCO_TRAIN_ROWS = 12_000


def data_path(relative: str) -> Path:
    """The path of a public dataset file; skips the test with a reason when it is absent."""
    root = shared_data_dir()
    if root is None:
        pytest.skip("public datasets not found: set SECLEARN_DATA or place them in ../shared/data")
    path = root / relative
    if not path.exists():
        pytest.skip(f"{relative} is not in {root}")
    return path


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """Every column but the labels and ``meta_`` columns."""
    return [
        c for c in frame.columns if c not in ("label", "attack_type") and not c.startswith("meta_")
    ]


def drop_feature_duplicates(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without rows whose features repeat an earlier row."""
    unique = frame.drop_duplicates(subset=feature_columns(frame), keep="first")
    return unique.reset_index(drop=True)


def dedupe_and_split(
    frame: pd.DataFrame, test_share: float = 0.3, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop feature duplicates, then split stratified by ``attack_type``."""
    unique = drop_feature_duplicates(frame)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(unique), dtype=bool)
    for _, index in unique.groupby("attack_type", observed=True).indices.items():
        chosen = rng.choice(index, round(test_share * len(index)), replace=False)
        test[chosen] = True
    return unique[~test].reset_index(drop=True), unique[test].reset_index(drop=True)


def stratified_sample(frame: pd.DataFrame, n_rows: int, seed: int = 0) -> pd.DataFrame:
    """About ``n_rows`` rows of ``frame``, the same share of every ``attack_type``."""
    share = min(1.0, n_rows / len(frame))
    parts = [
        g.sample(frac=share, random_state=seed)
        for _, g in frame.groupby("attack_type", observed=True)
    ]
    return pd.concat(parts).sort_index()
