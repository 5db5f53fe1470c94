"""Splitting a dataset into train and test datasets without leakage between them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seclearn.datasets._writer import DatasetBuilder
from seclearn.datasets.rowhash import feature_columns, hash_rows
from seclearn.datasets.workspace import dataset_path, iter_dataset, validate_name, verify_dataset
from seclearn.errors import ConfigError, WorkspaceError


def _assign(strata: np.ndarray, test_fraction: float, random_state: int) -> np.ndarray:
    """True for the rows that go to test: ``round(test_fraction * n)`` of each stratum."""
    rng = np.random.default_rng(random_state)
    is_test = np.zeros(len(strata), dtype=bool)
    for value in np.unique(strata):
        members = np.flatnonzero(strata == value)
        take = round(test_fraction * len(members))
        is_test[rng.permutation(members)[:take]] = True
    return is_test


def split_dataset(
    root: Path,
    name: str,
    into: tuple[str, str],
    *,
    test_fraction: float = 0.3,
    dedupe: bool = True,
    random_state: int = 0,
    overwrite: bool = False,
    chunk_rows: int = 200_000,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split dataset ``name`` into the datasets ``into = (train_name, test_name)``.

    With ``dedupe`` (the default) only the first of each group of feature-identical
    rows is kept (see :mod:`seclearn.datasets.rowhash`), so that no row of the test
    set also appears, feature for feature, in the training set. The rest are split at
    random, stratified by ``attack_type`` (or ``label`` when absent, with unlabeled
    rows a stratum of their own): ``round(test_fraction * n)`` rows of each stratum
    go to test. Each manifest records lineage: derived from the parent (with its
    content fingerprint), operation ``"split"``, and the parameters.

    Without ``dedupe`` duplicates may land on both sides; :func:`compare_datasets`
    measures how many. The data are read twice, one chunk at a time.
    Returns the two manifests (train, test).
    """
    if not isinstance(into, tuple | list) or len(into) != 2:
        raise ConfigError(f"into must be a pair (train_name, test_name), got {into!r}.")
    train_name, test_name = (validate_name(n) for n in into)
    if len({name, train_name, test_name}) != 3:
        raise ConfigError(
            f"The split outputs must have names different from each other and from the parent "
            f"{name!r}; got into={tuple(into)!r}."
        )
    if not isinstance(test_fraction, float | int) or not 0 < test_fraction < 1:
        raise ConfigError(f"test_fraction must be a number in (0, 1), got {test_fraction!r}.")
    for out in (train_name, test_name):
        if dataset_path(root, out).exists() and not overwrite:
            raise WorkspaceError(
                f"Dataset {out!r} already exists in {Path(root)}; choose other names or pass overwrite=True."
            )
    parent = verify_dataset(root, name)
    columns = [c["name"] for c in parent["columns"]]
    features = feature_columns(columns)
    stratify = (
        "attack_type" if "attack_type" in columns else ("label" if "label" in columns else None)
    )

    hashes, strata = [], []
    read_cols = features + ([stratify] if stratify else [])
    for chunk in iter_dataset(root, name, columns=read_cols, chunk_rows=chunk_rows, verify=False):
        hashes.append(hash_rows(chunk, features))
        strata.append(
            chunk[stratify].astype("str").fillna("<missing>").to_numpy(dtype=object)
            if stratify
            else np.zeros(len(chunk), dtype=object)
        )
    all_hashes = np.concatenate(hashes) if hashes else np.zeros(0, np.uint64)
    all_strata = np.concatenate(strata) if strata else np.zeros(0, dtype=object)
    keep = np.ones(len(all_hashes), dtype=bool)
    if dedupe:
        keep[:] = False
        keep[np.unique(all_hashes, return_index=True)[1]] = True
    is_test = np.zeros(len(all_hashes), dtype=bool)
    is_test[keep] = _assign(all_strata[keep].astype(str), float(test_fraction), random_state)
    is_train = keep & ~is_test

    params = {
        "test_fraction": float(test_fraction),
        "dedupe": dedupe,
        "random_state": random_state,
        "stratify": stratify,
        "rows_in": len(all_hashes),
        "duplicates_dropped": int((~keep).sum()),
        "feature_columns": features,
    }
    derived = [{"dataset": name, "content_fingerprint": parent["content_fingerprint"]}]
    with (
        DatasetBuilder(root, train_name, overwrite=overwrite, chunk_rows=chunk_rows) as train,
        DatasetBuilder(root, test_name, overwrite=overwrite, chunk_rows=chunk_rows) as test,
    ):
        offset = 0
        for chunk in iter_dataset(root, name, chunk_rows=chunk_rows, verify=False):
            rows = slice(offset, offset + len(chunk))
            train.add(chunk[is_train[rows]])
            test.add(chunk[is_test[rows]])
            offset += len(chunk)
        if offset != len(all_hashes):
            raise WorkspaceError(
                f"Dataset {name!r} changed while it was being split ({len(all_hashes)} rows, then "
                f"{offset}); retry when nothing else writes it."
            )
        manifests = []
        for builder, side in ((train, "train"), (test, "test")):
            lineage = {
                "derived_from": derived,
                "operation": "split",
                "parameters": {**params, "side": side},
            }
            manifests.append(builder.commit(sources=[], lineage=lineage, totals={}))
    return manifests[0], manifests[1]


__all__ = ["split_dataset"]
