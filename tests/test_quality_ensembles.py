"""Ensembles and semi-supervised detectors against plain LightGBM on unseen UNSW-NB15 categories.

Quality bar (from the issue): UNSW-NB15, leave-one-category-out at 1% FPR: the best
ensemble or semi-supervised detector beats plain LightGBM on unseen categories on
average; every category's figure is reported.

Protocol: that of ``test_unsw_nb15_leave_one_attack_category_out`` in
``test_quality_flows.py``: the partition file, feature-duplicates dropped, a 70/30 split
stratified by attack_cat, a stratified sample of LOCO_TRAIN_ROWS training rows; each
attack category in turn is left out of training, and the figure is the detection rate of
that category in the test split at the pipeline's 1%-FPR operating point (threshold on
out-of-fold training scores), with the FPR on the benign test rows. "Plain LightGBM" is
the same modest LightGBM (100 trees, learning rate 0.1) that every candidate uses as its
supervised member.

How the detector was chosen, without the test split: the same leave-one-category-out
protocol was run inside the training split only - the training split cut again 70/30
(stratified by attack_cat, seed 1), a stratified sample of 12,000 rows of the larger part
to train on, its other part (11,327 rows: 7,182 benign, 9 to 1,496 per category) to
validate on. The rule: the highest mean validation detection over the 9 categories among
candidates whose validation FPR stayed <= 0.03 in every fit. Validation figures (mean
detection of the held-out category / highest FPR):

====================================================  =========  =======
candidate                                             detection  max FPR
====================================================  =========  =======
anomaly_features(lightgbm, anomaly=(ecod,))   CHOSEN  0.7387     0.0085
lightgbm (the baseline)                               0.7373     0.0091
stacking(lightgbm, ecod)                              0.7344     0.0096
hybrid(lightgbm, ecod), anomaly_weight auto           0.7314     0.0089
hybrid(lightgbm, ecod), anomaly_weight 0.1            0.7314     0.0089
anomaly_features(lightgbm, anomaly=(iforest,))        0.7269     0.0089
soft_voting(lightgbm, ecod), weights 3:1              0.7264     0.0088
stacking(lightgbm, hbos)                              0.7262     0.0078
stacking(lightgbm, isolation_forest)                  0.7260     0.0077
soft_voting(lightgbm, random_forest)                  0.7240     0.0078
hybrid(lightgbm, ecod), anomaly_weight 0.2            0.7177     0.0091
bagging(lightgbm), 5 members                          0.6622     0.0068
soft_voting(lightgbm, logistic_regression)            0.6536     0.0089
soft_voting(lightgbm, isolation_forest)               0.5467     0.0092
soft_voting(lightgbm, ecod)                           0.4453     0.0099
anomaly_features(lightgbm, anomaly=(ecod, hbos))      0.8504     0.0785  (FPR: excluded)
====================================================  =========  =======

Members other than LightGBM at their defaults, except isolation_forest (100 trees,
n_jobs=1). The excluded one's benign FPR of 6-8% in every fit, against a 1% target on its
out-of-fold training scores, points at AnomalyAugmentedDetector giving malicious training
rows anomaly scores from the model fitted on all reference rows and benign rows scores from
fold models, so that the column tells which model scored a row, hence its label (on 8,000
training rows the calibrated HBOS column of benign rows has mean 0.500 from fold models,
0.527 from the full model, 0.529 on benign test rows).

VALIDATION below holds these figures; a test checks that CHOSEN is what the rule picks.
The margin of the chosen detector on validation is small (0.0014): the choice is the
rule's, not a clear winner's. A second inner cut (seed 2) gave the same order:
anomaly_features 0.7077, lightgbm 0.7049 (max FPR 0.0088 / 0.0091).

Test split, measured once with that choice (detection of the held-out category, lightgbm /
chosen; FPR on benign test rows in parentheses):

==============  ======  =================  =================
category        n_test  lightgbm           anomaly_features
==============  ======  =================  =================
Analysis            94  1.0000 (0.0059)    0.9894 (0.0069)
Backdoor            21  0.9048 (0.0067)    0.9048 (0.0059)
DoS                394  0.9036 (0.0076)    0.8985 (0.0064)
Exploits          2138  0.8695 (0.0068)    0.8648 (0.0071)
Fuzzers           1318  0.2473 (0.0096)    0.2542 (0.0090)
Generic           1092  0.6538 (0.0062)    0.7610 (0.0069)
Reconnaissance     741  0.5762 (0.0065)    0.5466 (0.0068)
Shellcode          113  0.7522 (0.0063)    0.7345 (0.0058)
Worms               13  1.0000 (0.0058)    0.9231 (0.0056)
mean                    0.7675 (0.0069)    0.7641 (0.0067)
==============  ======  =================  =================

SHORTFALL: the target (the chosen detector's mean above LightGBM's) is not met on the test
split: 0.7641 against 0.7675. Generic gains 0.107, but Worms (13 rows: one missed flow is
0.077) and Reconnaissance lose more. The choice was not revisited after seeing these
figures, which would have chosen on the test split; the assertion is a floor just under
the measured mean, so that a regression fails, and the target stays in its comment.

Run: ``.venv/bin/python -m pytest -p no:cacheprovider -m realdata tests/test_quality_ensembles.py -s``
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from realdata import (
    LOCO_TRAIN_ROWS,
    UNSW_PARTITION,
    data_path,
    dedupe_and_split,
    stratified_sample,
)
from seclearn.ingest import read_flows
from seclearn.models import Detector, make_detector
from seclearn.pipeline import DetectionPipeline

pytestmark = pytest.mark.realdata

#: Highest FPR on benign test rows that any leave-one-category-out fit may have.
MAX_FPR = 0.03
#: Validation inside the training split (see the module docstring): (mean detection, max FPR).
VALIDATION: dict[str, tuple[float, float]] = {
    "anomaly_features(ecod)": (0.7387, 0.0085),
    "lightgbm": (0.7373, 0.0091),
    "stacking(ecod)": (0.7344, 0.0096),
    "hybrid(auto)": (0.7314, 0.0089),
    "hybrid(0.1)": (0.7314, 0.0089),
    "anomaly_features(isolation_forest)": (0.7269, 0.0089),
    "soft_voting(ecod, 3:1)": (0.7264, 0.0088),
    "stacking(hbos)": (0.7262, 0.0078),
    "stacking(isolation_forest)": (0.7260, 0.0077),
    "soft_voting(random_forest)": (0.7240, 0.0078),
    "hybrid(0.2)": (0.7177, 0.0091),
    "bagging(5)": (0.6622, 0.0068),
    "soft_voting(logistic_regression)": (0.6536, 0.0089),
    "soft_voting(isolation_forest)": (0.5467, 0.0092),
    "soft_voting(ecod)": (0.4453, 0.0099),
    "anomaly_features(ecod, hbos)": (0.8504, 0.0785),
}
CHOSEN = "anomaly_features(ecod)"


def lightgbm() -> Detector:
    """Plain LightGBM, and every candidate's supervised member."""
    return make_detector("lightgbm", n_estimators=100, learning_rate=0.1, n_jobs=1)


def chosen() -> Detector:
    return make_detector("anomaly_features", supervised=lightgbm(), anomaly=("ecod",))


def test_the_chosen_detector_is_the_one_the_validation_rule_picks():
    allowed = {name: v for name, v in VALIDATION.items() if v[1] <= MAX_FPR}
    ensembles = {name: v for name, v in allowed.items() if name != "lightgbm"}
    assert max(ensembles, key=lambda name: ensembles[name][0]) == CHOSEN


@pytest.fixture(scope="module")
def unsw() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = read_flows(data_path(UNSW_PARTITION)).frame
    return dedupe_and_split(frame)


@pytest.fixture(scope="module")
def loco(unsw) -> pd.DataFrame:
    """Per held-out category: its test rows, and detection and FPR of both detectors."""
    train, test = unsw
    train = stratified_sample(train, LOCO_TRAIN_ROWS)
    benign = test[test["label"] == 0]
    rows: list[dict[str, Any]] = []
    for category in sorted(set(train["attack_type"]) - {"benign"}):
        held = test[test["attack_type"] == category]
        row: dict[str, Any] = {"category": category, "n_test": len(held)}
        for name, detector in (("lightgbm", lightgbm()), ("chosen", chosen())):
            pipeline = DetectionPipeline(detector=detector).fit(
                train[train["attack_type"] != category]
            )
            row[f"{name}_detection"] = float(pipeline.score(held)["decision"].mean())
            row[f"{name}_fpr"] = float(pipeline.score(benign)["decision"].mean())
        rows.append(row)
    table = pd.DataFrame(rows).set_index("category")
    print(
        f"\nUNSW-NB15 leave-one-attack_cat-out, test split: lightgbm vs {CHOSEN} "
        "(detection of the held-out category at the 1%-FPR point; FPR on benign test rows)"
    )
    print(table.round(4).to_string())
    print("mean:", table.mean(numeric_only=True).round(4).to_dict())
    return table


def test_every_category_is_reported(loco):
    assert len(loco) == 9 and (loco["n_test"] > 0).all()
    assert loco.notna().all().all()


def test_false_positive_rates_stay_within_bounds(loco):
    assert (loco["lightgbm_fpr"] <= MAX_FPR).all(), loco["lightgbm_fpr"]
    assert (loco["chosen_fpr"] <= MAX_FPR).all(), loco["chosen_fpr"]


#: SHORTFALL floor: just under the chosen detector's measured mean (0.7641); see the docstring.
CHOSEN_MEAN_FLOOR = 0.76


def test_the_chosen_detector_on_unseen_categories_against_lightgbm(loco):
    means = loco[["lightgbm_detection", "chosen_detection"]].mean()
    # SHORTFALL: target means["chosen_detection"] > means["lightgbm_detection"] (measured
    # 0.7641 against 0.7675); the floor keeps the measured level from regressing.
    assert means["chosen_detection"] >= CHOSEN_MEAN_FLOOR, means.to_dict()
