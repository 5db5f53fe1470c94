"""Detection with 5% of the labels on NSL-KDD KDDTest+, against 100% of the labels.

The issue's bar: with 5% of the labels, the best semi-supervised detector keeps at least
95% of the fully supervised ROC-AUC on KDDTest+.

Training rows: KDDTrain+_20Percent, 5% of the labels kept (stratified by label, seed 0;
the other rows stay in the training frame with the label missing). The reference is
LightGBM fitted on every label of the same rows. Both go through DetectionPipeline.

How the detector was chosen, on training data only (``bench/bench_labels.py
--validate``; KDDTest+ was not read): KDDTrain+_20Percent was split four ways - a random
70/30 split, then each attack category (DoS, Probe, R2L+U2R) left out of the fitted part
and held out with 30% of the benign rows, since KDDTest+ holds many attacks unseen in
training. With 5% of the fitted part's labels kept, the mean held-out ROC-AUC was:
pu_learning 0.9570 (defaults; 0.9926 of LightGBM with 100% labels, 0.9641),
pu_learning background_ratio=20 0.9475, anomaly_features 0.9419 (ecod+hbos 0.9411),
self_training 0.9353 (threshold 0.99: 0.9353, max_new_share 0.25: 0.9370), LightGBM
on the labeled rows alone 0.9355. So the test uses ``pu_learning`` with its defaults
(9 members, background_ratio 5) over LightGBM with 200 trees, single-threaded as
validated; the confirmed-benign labels are used as benign by every member.

Measured once on KDDTest+ with that choice: LightGBM with 100% of the labels 0.9696,
pu_learning with 5% 0.9466, ratio 0.9762 (target 0.95 met). About 55 s on 2 shared cores.
``bench/bench_labels.py``, run after the choice, puts LightGBM on the 5% labeled rows alone
(0.9555) and anomaly_features (0.9525) above pu_learning on KDDTest+; the choice was not
revisited, since that would be choosing on the test set.

Run: ``PYTHONPATH=src .venv/bin/pytest -m realdata tests/test_quality_labels.py -s``
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from realdata import data_path
from seclearn.ingest import read_flows
from seclearn.models import Detector, make_detector
from seclearn.pipeline import DetectionPipeline

pytestmark = pytest.mark.realdata

LABEL_SHARE = 0.05
#: The issue's target: ROC-AUC with 5% of the labels over ROC-AUC with all of them.
TARGET_RATIO = 0.95


def _keep_labels(frame: pd.DataFrame, share: float, seed: int = 0) -> pd.DataFrame:
    """``frame`` with ``share`` of each class's labels kept at random, the others missing."""
    rng = np.random.default_rng(seed)
    label = frame["label"].astype("Float64")
    values = label.to_numpy(dtype=float, na_value=np.nan)
    keep = np.zeros(len(frame), dtype=bool)
    for value in (0, 1):
        rows = np.flatnonzero(values == value)
        keep[rng.choice(rows, max(2, round(share * len(rows))), replace=False)] = True
    out = frame.copy()
    out["label"] = label.where(keep, pd.NA)
    return out


def _lightgbm() -> Detector:
    return make_detector("lightgbm", n_estimators=200, n_jobs=1)


def _roc_auc(pipeline: DetectionPipeline, test: pd.DataFrame) -> float:
    return float(roc_auc_score(test["label"].astype(int), pipeline.risk_score(test)))


def test_five_percent_of_labels_keep_95_percent_of_the_supervised_roc_auc():
    train = read_flows(data_path("nsl-kdd/KDDTrain+_20Percent.txt.gz")).frame
    test = read_flows(data_path("nsl-kdd/KDDTest+.txt.gz")).frame
    partly = _keep_labels(train, LABEL_SHARE)
    n_labeled = int(partly["label"].notna().sum())
    assert n_labeled == pytest.approx(LABEL_SHARE * len(train), rel=0.01)
    assert len(partly) == len(train)  # the unlabeled rows are present

    supervised = DetectionPipeline(detector=_lightgbm()).fit(train)
    semi = DetectionPipeline(detector=make_detector("pu_learning", base=_lightgbm())).fit(partly)
    full_auc, semi_auc = _roc_auc(supervised, test), _roc_auc(semi, test)
    ratio = semi_auc / full_auc
    print(
        f"\nNSL-KDD KDDTest+ ROC-AUC: lightgbm with 100% of labels {full_auc:.4f}; "
        f"pu_learning with {LABEL_SHARE:.0%} ({n_labeled:,} of {len(train):,}) {semi_auc:.4f}; "
        f"ratio {ratio:.4f} (target {TARGET_RATIO})"
    )
    assert ratio >= TARGET_RATIO, (full_auc, semi_auc, ratio)
