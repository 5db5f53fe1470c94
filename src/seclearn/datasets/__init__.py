"""Curated datasets in a workspace: manifests with lineage and hashes, quality checks,
leakage-free splits, and the built-in enterprise-network simulator.

>>> from seclearn.datasets import quality_report, simulate_enterprise
>>> frame = simulate_enterprise(days=1, hosts=8, seed=3)
>>> report = quality_report(frame)
>>> report["labels"]["malicious"] == int((frame["label"] == 1).sum()) > 0
True
"""

from seclearn.datasets.create import create_dataset
from seclearn.datasets.quality import compare_datasets, quality_report
from seclearn.datasets.rowhash import exact_columns, feature_columns, hash_rows
from seclearn.datasets.simulator import (
    ATTACK_TYPES,
    DEFAULT_START,
    DRIFT_ATTACK_TYPES,
    DriftScenario,
    simulate_enterprise,
)
from seclearn.datasets.split import split_dataset
from seclearn.datasets.workspace import (
    NAME_PATTERN,
    dataset_path,
    iter_dataset,
    list_datasets,
    load_dataset,
    read_manifest,
    validate_name,
    verify_dataset,
)
from seclearn.datasets.zeek import ZEEK_FIELDS, ZEEK_TYPES, write_zeek_conn

__all__ = [
    "ATTACK_TYPES",
    "DEFAULT_START",
    "DRIFT_ATTACK_TYPES",
    "DriftScenario",
    "NAME_PATTERN",
    "ZEEK_FIELDS",
    "ZEEK_TYPES",
    "compare_datasets",
    "create_dataset",
    "dataset_path",
    "exact_columns",
    "feature_columns",
    "hash_rows",
    "iter_dataset",
    "list_datasets",
    "load_dataset",
    "quality_report",
    "read_manifest",
    "simulate_enterprise",
    "split_dataset",
    "validate_name",
    "verify_dataset",
    "write_zeek_conn",
]
