"""Datasets built from the public files in ../shared/data (skipped when they are absent).

Expected figures come from each folder's SOURCE.md.
"""

from __future__ import annotations

import hashlib

import orjson
import pytest

from seclearn.datasets import compare_datasets, create_dataset, dataset_path, split_dataset

pytestmark = pytest.mark.realdata


def test_nsl_kdd_test21_dataset_has_the_documented_counts(workspace, data_file):
    path = data_file("nsl-kdd/KDDTest-21.txt.gz")
    manifest = create_dataset(workspace, "kdd-test21", [path])
    (source,) = manifest["sources"]
    assert source["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert source["accepted"] == 11_850 and source["quarantined"] == 0 and source["rejected"] == 0
    assert manifest["label"]["counts"] == {"benign": 2_152, "malicious": 9_698, "unlabeled": 0}
    assert manifest["time_range"] is None  # NSL-KDD has no timestamps
    quality = orjson.loads((dataset_path(workspace, "kdd-test21") / "quality.json").read_bytes())
    assert quality["duplicates"]["exact_rows"] == 0
    assert quality["duplicates"]["feature_identical_rows"] == 55  # "feature-only duplicates: 55"


def test_unsw_partition_halves_leak_duplicates_unless_deduplicated(workspace, data_file):
    path = data_file("unsw-nb15/UNSW_NB15_training-set.csv.gz")
    manifest = create_dataset(workspace, "unsw", [path])
    assert manifest["totals"]["rows"] == 82_332
    assert manifest["label"]["counts"] == {"benign": 37_000, "malicious": 45_332, "unlabeled": 0}
    quality = orjson.loads((dataset_path(workspace, "unsw") / "quality.json").read_bytes())
    assert (
        quality["duplicates"]["exact_rows"] == 26_387
    )  # "duplicates of another row once id is dropped"

    split_dataset(workspace, "unsw", ("unsw-a", "unsw-b"), test_fraction=0.5, dedupe=False)
    leaky = compare_datasets(workspace, "unsw-a", "unsw-b")
    assert leaky["shared_rows"] > 5_000  # a random split puts copies of many rows on both sides

    split_dataset(workspace, "unsw", ("unsw-train", "unsw-test"), test_fraction=0.5)
    clean = compare_datasets(workspace, "unsw-train", "unsw-test")
    assert clean["shared_rows"] == 0
