"""Data-quality checks of a labelled table, and train/test overlap.

The report answers the questions to ask before training on a dataset: how many rows
are duplicates, how many feature-identical rows carry conflicting labels, which
columns are constant or empty, how much is missing, how the labels are balanced, and
(given a reference such as the training set) how many test rows the model has
already seen. See :mod:`seclearn.datasets.rowhash` for what counts as identical.

The checks run on chunks (:class:`QualityAccumulator`), so a dataset larger than
memory is checked with one pass and about 17 bytes of state per row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seclearn.datasets.rowhash import exact_columns, feature_columns, hash_rows
from seclearn.datasets.workspace import iter_dataset, read_manifest
from seclearn.errors import ConfigError

_NO_LABEL = np.int8(-1)


def _labels(frame: pd.DataFrame) -> np.ndarray:
    if "label" not in frame.columns:
        return np.full(len(frame), _NO_LABEL, dtype=np.int8)
    values = pd.to_numeric(frame["label"], errors="coerce")
    values = values.where(values.isin([0, 1]))
    return values.fillna(-1).to_numpy(dtype=np.int8)


def _label_counts(labels: np.ndarray) -> dict[str, int]:
    return {
        "benign": int((labels == 0).sum()),
        "malicious": int((labels == 1).sum()),
        "unlabeled": int((labels == _NO_LABEL).sum()),
    }


class QualityAccumulator:
    """Collects quality statistics over successive chunks of one table.

    ``columns`` is the full column list of the table; a chunk lacking one of them
    counts it as missing.
    """

    def __init__(self, columns: list[str]) -> None:
        self.columns = [str(c) for c in columns]
        self.exact_cols = exact_columns(self.columns)
        self.feature_cols = feature_columns(self.columns)
        self.rows = 0
        self.missing = dict.fromkeys(self.columns, 0)
        self._constant: dict[str, Any] = {}  # column -> its single value so far
        self._varied: set[str] = set()
        self._exact: list[np.ndarray] = []
        self._feature: list[np.ndarray] = []
        self._labels: list[np.ndarray] = []
        self.attack_types: dict[str, int] = {}

    def update(self, frame: pd.DataFrame) -> None:
        """Add the rows of ``frame``."""
        n = len(frame)
        if n == 0:
            return
        self.rows += n
        for col in self.columns:
            if col not in frame.columns:
                self.missing[col] += n
                continue
            values = frame[col]
            present = values.dropna()
            self.missing[col] += n - len(present)
            if col in self._varied or len(present) == 0:
                continue
            uniques = pd.unique(present)
            if len(uniques) > 1:
                self._varied.add(col)
            elif col not in self._constant:
                self._constant[col] = uniques[0]
            elif self._constant[col] != uniques[0]:
                self._varied.add(col)
        self._exact.append(hash_rows(frame, self.exact_cols))
        self._feature.append(hash_rows(frame, self.feature_cols))
        self._labels.append(_labels(frame))
        if "attack_type" in frame.columns:
            for key, count in frame["attack_type"].fillna("<missing>").value_counts().items():
                self.attack_types[str(key)] = self.attack_types.get(str(key), 0) + int(count)

    def labels(self) -> np.ndarray:
        """Label per row so far: 1, 0, or -1 for unlabeled."""
        return np.concatenate(self._labels) if self._labels else np.zeros(0, np.int8)

    def feature_hashes(self) -> np.ndarray:
        """Feature-identity hash per row so far."""
        return np.concatenate(self._feature) if self._feature else np.zeros(0, np.uint64)

    def report(self) -> dict[str, Any]:
        """The quality report of every row added so far."""
        n = self.rows
        exact = np.concatenate(self._exact) if self._exact else np.zeros(0, np.uint64)
        feature = self.feature_hashes()
        labels = self.labels()
        groups, conflict_rows = _conflicts(feature, labels)
        feature_dupes = n - len(np.unique(feature))
        exact_dupes = n - len(np.unique(exact))
        empty = [c for c in self.columns if self.missing[c] == n and n > 0]
        constant = [c for c in self.columns if c in self._constant and c not in self._varied]
        counts = _label_counts(labels)
        labelled = counts["benign"] + counts["malicious"]
        return {
            "rows": n,
            "columns": len(self.columns),
            "duplicates": {
                "exact_rows": exact_dupes,
                "exact_fraction": _frac(exact_dupes, n),
                "feature_identical_rows": feature_dupes,
                "feature_identical_fraction": _frac(feature_dupes, n),
                "conflicting_label_groups": groups,
                "conflicting_label_rows": conflict_rows,
                "feature_columns": self.feature_cols,
            },
            "constant_columns": constant,
            "empty_columns": empty,
            "missing_fraction": {c: _frac(self.missing[c], n) for c in self.columns},
            "labels": {**counts, "malicious_fraction": _frac(counts["malicious"], labelled)},
            "attack_types": dict(sorted(self.attack_types.items(), key=lambda kv: (-kv[1], kv[0]))),
        }


def _frac(count: int, total: int) -> float:
    return round(count / total, 6) if total else 0.0


def _conflicts(hashes: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """Groups of feature-identical rows holding both labels, and the rows in them."""
    if len(hashes) == 0:
        return 0, 0
    _, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    dup = counts[inverse] > 1
    if not dup.any():
        return 0, 0
    frame = pd.DataFrame({"h": hashes[dup], "y": labels[dup]})
    frame = frame[frame["y"] >= 0]
    per_group = frame.groupby("h")["y"].agg(["min", "max", "size"])
    bad = per_group[per_group["min"] != per_group["max"]]
    return len(bad), int(bad["size"].sum())


def overlap_report(
    reference_hashes: np.ndarray,
    hashes: np.ndarray,
    labels: np.ndarray,
    *,
    reference_name: str | None,
    columns: list[str],
) -> dict[str, Any]:
    """How many rows (hashes) also occur in the reference set: count, fraction, by label."""
    shared = np.isin(hashes, np.unique(reference_hashes)) if len(hashes) else np.zeros(0, bool)
    count = int(shared.sum())
    return {
        "reference": reference_name,
        "reference_rows": len(reference_hashes),
        "rows": len(hashes),
        "shared_rows": count,
        "shared_fraction": _frac(count, len(hashes)),
        "shared_distinct": len(np.unique(hashes[shared])),
        "shared_by_label": _label_counts(labels[shared]),
        "columns": columns,
    }


def quality_report(
    frame: pd.DataFrame,
    *,
    reference: pd.DataFrame | None = None,
    reference_name: str | None = None,
) -> dict[str, Any]:
    """Data-quality report of ``frame``: duplicates, conflicts, constant/empty columns,
    missing fractions, label balance, attack types.

    With ``reference`` (typically the training set, ``frame`` being the test set) the
    report adds ``overlap``: the rows of ``frame`` that are feature-identical to some
    row of ``reference``, compared on the feature columns both share.
    """
    acc = QualityAccumulator(list(frame.columns))
    acc.update(frame)
    report = acc.report()
    if reference is not None:
        common = sorted(
            set(feature_columns(frame.columns)) & set(feature_columns(reference.columns))
        )
        report["overlap"] = overlap_report(
            hash_rows(reference, common),
            hash_rows(frame, common),
            _labels(frame),
            reference_name=reference_name,
            columns=common,
        )
    return report


def compare_datasets(
    root: Path, train_name: str, test_name: str, *, chunk_rows: int = 200_000
) -> dict[str, Any]:
    """Overlap of two workspace datasets: test rows feature-identical to a train row.

    Both datasets are read chunk by chunk (their parts are hash-checked first).
    Feature columns are those both manifests share. The result has the keys of
    :func:`overlap_report`, with ``reference`` set to ``train_name`` and ``test`` to
    ``test_name``.
    """
    train_cols = [c["name"] for c in read_manifest(root, train_name)["columns"]]
    test_cols = [c["name"] for c in read_manifest(root, test_name)["columns"]]
    common = sorted(set(feature_columns(train_cols)) & set(feature_columns(test_cols)))
    if not common:
        raise ConfigError(
            f"Datasets {train_name!r} and {test_name!r} share no feature columns (train has "
            f"{feature_columns(train_cols)}, test has {feature_columns(test_cols)}); compare datasets "
            "of the same kind."
        )
    train_hashes = [
        hash_rows(chunk, common)
        for chunk in iter_dataset(root, train_name, columns=common, chunk_rows=chunk_rows)
    ]
    wanted = common + (["label"] if "label" in test_cols else [])
    test_hashes, test_labels = [], []
    for chunk in iter_dataset(root, test_name, columns=wanted, chunk_rows=chunk_rows):
        test_hashes.append(hash_rows(chunk, common))
        test_labels.append(_labels(chunk))
    report = overlap_report(
        np.concatenate(train_hashes) if train_hashes else np.zeros(0, np.uint64),
        np.concatenate(test_hashes) if test_hashes else np.zeros(0, np.uint64),
        np.concatenate(test_labels) if test_labels else np.zeros(0, np.int8),
        reference_name=train_name,
        columns=common,
    )
    report["test"] = test_name
    return report


__all__ = ["QualityAccumulator", "compare_datasets", "overlap_report", "quality_report"]
