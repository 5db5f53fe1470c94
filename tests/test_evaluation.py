"""Metrics of seclearn.evaluation: hand-checked values, agreement with scikit-learn, edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from seclearn.errors import EvaluationError
from seclearn.evaluation import DETECTION_FPRS, evaluate, evaluate_scores

# Ten rows computed by hand (threshold 0.5):
#   malicious scores 0.9 0.8 | 0.4 0.3   -> TP 2, FN 2
#   benign scores    0.7 0.6 | 0.2 0.1 0.1 0.05 -> FP 2, TN 4
HAND_Y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
HAND_S = np.array([0.9, 0.8, 0.4, 0.3, 0.7, 0.2, 0.1, 0.1, 0.05, 0.6])


def test_ten_row_example_matches_hand_computed_values():
    m = evaluate_scores(HAND_Y, HAND_S, 0.5)
    assert m["confusion_matrix"] == {"tp": 2, "fp": 2, "fn": 2, "tn": 4}
    assert m["precision"] == pytest.approx(0.5)
    assert m["recall"] == pytest.approx(0.5)
    assert m["f1"] == pytest.approx(0.5)
    assert m["accuracy"] == pytest.approx(0.6)
    assert m["fpr"] == pytest.approx(2 / 6)
    # 20 of the 24 (malicious, benign) pairs are ranked correctly.
    assert m["roc_auc"] == pytest.approx(20 / 24)
    # Malicious rows sit at ranks 1, 2, 5, 6: AP = (1/1 + 2/2 + 3/5 + 4/6) / 4.
    assert m["pr_auc"] == pytest.approx((1 + 1 + 3 / 5 + 4 / 6) / 4)
    # Squared errors: 0.01 0.04 0.36 0.49 | 0.49 0.04 0.01 0.01 0.0025 0.36.
    assert m["brier"] == pytest.approx(1.8125 / 10)
    # One row per bin except bin 1 (0.1, 0.1; both benign): gaps sum to 3.35.
    assert m["ece"] == pytest.approx(0.335)
    assert m["alerts"] == 4 and m["n_malicious"] == 4 and m["n_benign"] == 6


def test_metrics_agree_with_scikit_learn_on_random_data():
    rng = np.random.default_rng(7)
    y = (rng.random(3000) < 0.2).astype(int)
    s = np.clip(rng.normal(0.3 + 0.3 * y, 0.2), 0, 1)
    m = evaluate_scores(y, s, 0.45)
    d = s >= 0.45
    tn, fp, fn, tp = skm.confusion_matrix(y, d).ravel()
    assert m["confusion_matrix"] == {"tp": tp, "fp": fp, "fn": fn, "tn": tn}
    assert m["precision"] == pytest.approx(skm.precision_score(y, d))
    assert m["recall"] == pytest.approx(skm.recall_score(y, d))
    assert m["f1"] == pytest.approx(skm.f1_score(y, d))
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, d))
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, s))
    assert m["pr_auc"] == pytest.approx(skm.average_precision_score(y, s))
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y, s))


def test_detection_at_fpr_on_a_constructed_case():
    benign = np.arange(1000) / 2000  # 1000 distinct scores in [0, 0.4995]
    malicious = np.r_[
        np.full(40, 0.9),  # above every benign score: found at FPR 0
        np.full(30, 0.49925),  # above all but one benign score: needs FPR 0.1%
        np.full(20, 0.4946),  # above all but ten benign scores: needs FPR 1%
        np.full(10, 0.1),  # found only at a high FPR
    ]
    y = np.r_[np.zeros(1000, int), np.ones(100, int)]
    m = evaluate_scores(y, np.r_[benign, malicious], 0.8)
    assert m["detection_at_fpr"]["0.01"] == pytest.approx(0.9)
    assert m["detection_at_fpr"]["0.001"] == pytest.approx(0.7)
    detail = {d["target_fpr"]: d for d in m["detection_at_fpr_detail"]}
    assert detail[0.01]["achieved_fpr"] == pytest.approx(0.01)
    assert detail[0.001]["achieved_fpr"] == pytest.approx(0.001)
    # 0.01% FPR needs 10,000 benign rows; this test set has 1,000.
    assert m["detection_at_fpr"]["0.0001"] is None
    assert "10,000 benign rows" in detail[0.0001]["reason"] and "1,000" in detail[0.0001]["reason"]
    assert "detection_at_fpr@0.0001" in m["not_available"]
    assert "descriptive only" in m["notes"]["detection_at_fpr"]


def test_detection_at_fpr_is_not_available_with_too_few_benign_rows():
    m = evaluate_scores(HAND_Y, HAND_S, 0.5)
    assert all(m["detection_at_fpr"][f"{t:g}"] is None for t in DETECTION_FPRS)
    assert "100 benign rows" in m["not_available"]["detection_at_fpr@0.01"]


def test_ece_is_small_when_calibrated_and_large_when_not():
    rng = np.random.default_rng(0)
    p = rng.random(20_000)
    y = (rng.random(20_000) < p).astype(int)
    assert evaluate_scores(y, p, 0.5)["ece"] < 0.02
    overconfident = p**0.2  # mean gap to the true probability is about 1/1.2 - 1/2
    assert evaluate_scores(y, overconfident, 0.5)["ece"] > 0.25


def test_reliability_rows_cover_ten_equal_width_bins():
    m = evaluate_scores(HAND_Y, HAND_S, 0.5)
    rows = m["reliability"]
    assert [r["bin_lo"] for r in rows] == pytest.approx([i / 10 for i in range(10)])
    assert sum(r["count"] for r in rows) == 10
    assert rows[1]["count"] == 2 and rows[1]["mean_score"] == pytest.approx(0.1)
    assert rows[1]["fraction_malicious"] == 0.0


def test_per_attack_type_counts_detections_at_the_operating_point():
    at = ["dos", "dos", "scan", "scan", "benign", "benign", "benign", "benign", "benign", "benign"]
    m = evaluate_scores(HAND_Y, HAND_S, 0.5, attack_type=at)
    rows = {r["attack_type"]: r for r in m["per_attack_type"]}
    assert rows["dos"] == {
        "attack_type": "dos",
        "kind": "malicious",
        "count": 2,
        "detected": 2,
        "rate": 1.0,
        "rate_ci": [pytest.approx(0.3424, abs=1e-4), 1.0],  # Wilson, 2 of 2
        "mean_score": pytest.approx(0.85),
    }
    assert rows["scan"]["detected"] == 0 and rows["scan"]["rate"] == 0.0
    assert rows["benign"]["kind"] == "benign" and rows["benign"]["detected"] == 2
    assert m["per_attack_type"][-1]["attack_type"] == "benign"


def test_alerts_per_day_from_timestamps():
    ts = 1_700_000_000 + np.linspace(0, 2 * 86_400, 10)
    m = evaluate_scores(HAND_Y, HAND_S, 0.5, ts=ts)
    assert m["time"]["span_days"] == pytest.approx(2.0)
    volume = m["alert_volume"]
    assert volume["events_per_day_source"] == "test timestamps"
    assert volume["events_per_day"] == pytest.approx(5.0)
    assert volume["alerts_per_day"] == pytest.approx(2.0)  # 4 alerts / 2 days
    assert volume["false_alerts_per_day"] == pytest.approx(1.0)


def test_given_decisions_override_the_threshold_comparison():
    decision = np.zeros(10, bool)
    decision[0] = True
    m = evaluate_scores(HAND_Y, HAND_S, 0.5, decision=decision)
    assert m["confusion_matrix"] == {"tp": 1, "fp": 0, "fn": 3, "tn": 6}


def test_curves_are_downsampled_to_at_most_500_points():
    rng = np.random.default_rng(1)
    y = (rng.random(20_000) < 0.3).astype(int)
    s = rng.random(20_000)
    m = evaluate_scores(y, s, 0.5)
    assert 100 < len(m["roc_curve"]["fpr"]) <= 500
    assert len(m["pr_curve"]["precision"]) <= 500
    assert m["roc_curve"]["fpr"][0] == 0.0 and m["roc_curve"]["fpr"][-1] == 1.0


def test_bootstrap_intervals_bracket_the_estimate_and_are_seeded():
    rng = np.random.default_rng(3)
    y = (rng.random(2000) < 0.3).astype(int)
    s = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1)
    a = evaluate_scores(y, s, 0.5, n_bootstrap=50, random_state=1)
    b = evaluate_scores(y, s, 0.5, n_bootstrap=50, random_state=1)
    assert a["bootstrap"] == b["bootstrap"]
    for key in ("precision", "recall", "roc_auc"):
        lo, hi = a["bootstrap"]["intervals"][key]
        assert lo < a[key] < hi and hi - lo < 0.2


# --- one-class and invalid input --------------------------------------------------------


def test_benign_only_test_set_gives_na_for_metrics_that_need_malicious_rows():
    y = np.zeros(200, int)
    s = np.linspace(0, 1, 200)
    m = evaluate_scores(y, s, 0.9)
    assert m["fpr"] == pytest.approx(20 / 200)
    assert m["precision"] == 0.0
    for key in ("recall", "roc_auc", "pr_auc"):
        assert m[key] is None
        assert "no malicious rows" in m["not_available"][key]
    assert m["roc_curve"] is None and m["detection_at_fpr"]["0.01"] is None
    assert m["brier"] is not None and m["ece"] is not None


def test_malicious_only_test_set_gives_na_for_fpr_and_ranking_metrics():
    m = evaluate_scores(np.ones(5, int), np.array([0.1, 0.6, 0.7, 0.8, 0.9]), 0.5)
    assert m["recall"] == pytest.approx(0.8) and m["precision"] == 1.0
    assert m["fpr"] is None and m["roc_auc"] is None
    assert "no benign rows" in m["not_available"]["fpr"]


def test_no_alerts_makes_precision_not_available():
    m = evaluate_scores(HAND_Y, HAND_S, 0.95)
    assert (
        m["precision"] is None
        and m["not_available"]["precision"] == "no alerts at the operating point"
    )
    assert m["f1"] == 0.0 and m["recall"] == 0.0


def test_scores_outside_unit_interval_skip_calibration_metrics():
    m = evaluate_scores(HAND_Y, HAND_S * 10 - 3, 2.0)
    assert m["brier"] is None and m["ece"] is None
    assert "not [0, 1]" in m["not_available"]["ece"]
    assert m["roc_auc"] == pytest.approx(20 / 24)


@pytest.mark.parametrize(
    ("y", "s", "match"),
    [
        ([], [], "empty"),
        ([0, 1], [0.1], "must match"),
        ([0, 2], [0.1, 0.2], "only 0 and 1"),
        (pd.array([0, None], dtype="Int8"), [0.1, 0.2], "missing labels"),
        ([0, 1], [0.1, float("nan")], "NaN or infinite"),
        (["benign", "malicious"], [0.1, 0.2], "numeric 0/1 labels"),
    ],
)
def test_invalid_inputs_raise_evaluation_error(y, s, match):
    with pytest.raises(EvaluationError, match=match):
        evaluate_scores(y, s, 0.5)


# --- evaluate() with a pipeline --------------------------------------------------------


class FakePipeline:
    """Scores are the column x; the threshold was fixed at fit time, not on test data."""

    def __init__(self, threshold: float = 0.5) -> None:
        self.operating_point_ = {
            "policy": "target_fpr",
            "target_fpr": 0.01,
            "threshold": threshold,
            "chosen_on": "train",
        }
        self.scored_rows: list[int] = []

    def score(self, frame: pd.DataFrame, *, explain_top_k: int = 0) -> pd.DataFrame:
        self.scored_rows.append(len(frame))
        s = frame["x"].to_numpy(dtype="float64")
        return pd.DataFrame(
            {"score": s, "decision": s > self.operating_point_["threshold"]}, index=frame.index
        )

    def metadata(self) -> dict:
        return {"detector": {"name": "fake"}}


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": np.r_[HAND_S, [0.99, 0.01]],
            "label": pd.array([*HAND_Y.tolist(), None, None], dtype="Int8"),
            "attack_type": ["dos", "dos", "scan", "scan", *["benign"] * 6, "unknown", "unknown"],
            "ts": 1_700_000_000 + np.arange(12) * 3600.0,
        }
    )


def test_evaluate_uses_the_pipeline_threshold_and_drops_unlabeled_rows():
    pipeline = FakePipeline(threshold=0.5)
    result = evaluate(pipeline, _frame(), dataset_name="d", model_name="flows@1")
    assert pipeline.scored_rows == [10]
    assert result.n_rows == 12 and result.n_unlabeled == 2
    assert result.metrics["threshold"] == 0.5
    assert result.metrics["confusion_matrix"] == {"tp": 2, "fp": 2, "fn": 2, "tn": 4}
    assert result.operating_point["chosen_on"] == "train"
    assert result.model_metadata == {"detector": {"name": "fake"}}
    assert {r["attack_type"] for r in result.metrics["per_attack_type"]} == {
        "dos",
        "scan",
        "benign",
    }
    other = evaluate(FakePipeline(threshold=0.75), _frame())
    assert other.metrics["threshold"] == 0.75 and other.metrics["alerts"] == 2


def test_evaluate_refuses_frames_without_labels_and_pipelines_without_threshold():
    with pytest.raises(EvaluationError, match="no 'label' column"):
        evaluate(FakePipeline(), _frame().drop(columns="label"))
    unlabeled = _frame().assign(label=pd.array([None] * 12, dtype="Int8"))
    with pytest.raises(EvaluationError, match="unlabeled"):
        evaluate(FakePipeline(), unlabeled)
    pipeline = FakePipeline()
    pipeline.operating_point_ = {}
    with pytest.raises(EvaluationError, match="no operating point"):
        evaluate(pipeline, _frame())


def test_a_score_equal_to_the_threshold_is_not_an_alert():
    m = evaluate_scores([1, 0, 1], [0.5, 0.2, 0.7], 0.5)
    assert m["confusion_matrix"] == {"tp": 1, "fp": 0, "fn": 1, "tn": 1}
