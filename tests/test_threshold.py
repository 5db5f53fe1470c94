"""Threshold policies: chosen on out-of-fold training predictions, holding their rate on fresh data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seclearn.errors import NotFittedError, ParameterError
from seclearn.models import ThresholdPolicy, make_detector
from seclearn.pipeline import CHOSEN_ON, DetectionPipeline


def _overlapping(seed: int, n_benign: int, n_attack: int) -> pd.DataFrame:
    """Benign and malicious rows whose features overlap, so that scores of benign rows spread out."""
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n_benign), np.ones(n_attack)]
    data = {f"f{i}": rng.normal(1.2 * y * (i < 2), 1.0) for i in range(4)}
    data["proto"] = pd.array(rng.choice(["tcp", "udp"], len(y)), dtype="str")
    data["label"] = pd.array(y.astype(int), dtype="Int8")
    data["attack_type"] = pd.array(np.where(y == 1, "x", "benign"), dtype="str")
    return pd.DataFrame(data)


@pytest.fixture(scope="module")
def forest_pipeline() -> DetectionPipeline:
    detector = make_detector("random_forest", n_estimators=40, min_samples_leaf=1, n_jobs=1)
    return DetectionPipeline(detector=detector, cv_folds=3).fit(_overlapping(0, 4000, 1000))


def test_target_fpr_is_met_on_fresh_benign_data_from_the_same_distribution(forest_pipeline):
    fresh = _overlapping(1, 20_000, 0)
    fpr = float(forest_pipeline.score(fresh)["decision"].mean())
    assert 0.005 <= fpr <= 0.018
    op = forest_pipeline.operating_point_
    assert (
        op["policy"] == "target_fpr" and op["target_fpr"] == 0.01 and op["chosen_on"] == CHOSEN_ON
    )
    assert op["oof_fpr"] <= 0.01 and op["threshold"] == forest_pipeline.threshold_


def test_a_threshold_chosen_on_in_sample_scores_would_miss_the_target(forest_pipeline):
    # The forest memorises its training rows: in-sample benign scores are far lower than
    # those of new rows, so a threshold taken from them alerts on many fresh benign rows.
    train = _overlapping(0, 4000, 1000)
    in_sample = forest_pipeline.risk_score(train[train.label == 0])
    naive = ThresholdPolicy().fit(in_sample).threshold_
    fresh = forest_pipeline.risk_score(_overlapping(1, 20_000, 0))
    assert np.mean(fresh > naive) > 0.03 > np.mean(fresh > forest_pipeline.threshold_)


def test_anomaly_pipeline_threshold_holds_its_rate_on_fresh_benign_data():
    pipeline = DetectionPipeline(
        detector=make_detector("isolation_forest", n_estimators=50, n_jobs=1)
    )
    pipeline.fit(_overlapping(0, 4000, 300))
    assert 0.98 < pipeline.threshold_ < 1.0  # benign-quantile scale
    fpr = float(pipeline.score(_overlapping(2, 20_000, 0))["decision"].mean())
    assert 0.005 <= fpr <= 0.018


def test_alert_budget_turns_alerts_per_day_into_a_benign_alert_rate():
    pipeline = DetectionPipeline(
        detector=make_detector("lightgbm", n_estimators=30, n_jobs=1),
        threshold=ThresholdPolicy(kind="alert_budget", alerts_per_day=100, events_per_day=20_000),
    )
    pipeline.fit(_overlapping(0, 4000, 1000))
    assert pipeline.operating_point_["alerts_per_day"] == 100
    rate = float(pipeline.score(_overlapping(3, 20_000, 0))["decision"].mean())
    assert 0.001 <= rate <= 0.011


def test_fixed_probability_is_used_as_is_and_decisions_are_strictly_above_it():
    policy = ThresholdPolicy(kind="fixed", probability=0.7).fit()
    assert policy.threshold_ == 0.7
    np.testing.assert_array_equal(policy.decide(np.array([0.69, 0.7, 0.71])), [False, False, True])
    assert policy.describe() == {"policy": "fixed", "probability": 0.7, "threshold": 0.7}


def test_target_fpr_leaves_at_most_that_share_of_reference_scores_above():
    scores = np.random.default_rng(0).random(10_000)
    for target in (0.001, 0.01, 0.2):
        policy = ThresholdPolicy(target_fpr=target).fit(scores)
        assert target - 0.001 <= policy.decide(scores).mean() <= target


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"target_fpr": 0.9},
            "The 'target_fpr' parameter of ThresholdPolicy must be a float in (0, 0.5]. Got 0.9 instead.",
        ),
        (
            {"target_fpr": 0},
            "The 'target_fpr' parameter of ThresholdPolicy must be a float in (0, 0.5]. Got 0 instead.",
        ),
        (
            {"kind": "top_k"},
            "The 'kind' parameter of ThresholdPolicy must be a str among {'target_fpr', 'alert_budget', "
            "'fixed'}. Got 'top_k' instead.",
        ),
        (
            {"kind": "fixed", "probability": 1.5},
            "The 'probability' parameter of ThresholdPolicy must be a float in "
            "[0, 1] or None. Got 1.5 instead.",
        ),
        (
            {"kind": "fixed"},
            "ThresholdPolicy(kind='fixed') needs 'probability', a float in [0, 1]. Got None instead.",
        ),
        (
            {"kind": "alert_budget", "alerts_per_day": 10},
            "needs both 'alerts_per_day' and 'events_per_day'",
        ),
        (
            {"kind": "alert_budget", "alerts_per_day": 10, "events_per_day": 5},
            "The 'alerts_per_day' parameter of ThresholdPolicy must not exceed 'events_per_day' (5). Got 10 instead.",
        ),
    ],
)
def test_parameter_errors_name_the_parameter_the_allowed_values_and_the_value(params, message):
    with pytest.raises(ParameterError) as info:
        ThresholdPolicy(**params).fit(np.linspace(0, 1, 100))
    assert message in str(info.value)


def test_deciding_before_fit_says_how_to_fix():
    with pytest.raises(NotFittedError, match="Call fit"):
        ThresholdPolicy().decide(np.array([0.5]))
