"""The model card: a real pipeline evaluated on a time split, lineage, importance, limitations."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from seclearn.datasets import simulate_enterprise
from seclearn.errors import EvaluationError, ModelError
from seclearn.evaluation import (
    EvaluationResult,
    evaluate,
    evaluate_scores,
    render_html,
    write_report,
)
from seclearn.evaluation._card import ECE_BOUND, known_limitations, split_text
from seclearn.models import make_detector
from seclearn.pipeline import DetectionPipeline

MANIFEST = {
    "name": "flows",
    "version": 4,
    "stage": "candidate",
    "created_at": "2024-03-09T00:00:00+00:00",
    "dataset": {
        "name": "sim-2d",
        "content_fingerprint": "f" * 64,
        "rows": 1,
        "sources": ["a" * 64],
    },
    "files": {"pipeline.json": {"sha256": "b" * 64}},
}


@pytest.fixture(scope="module")
def fitted():
    frame = simulate_enterprise(days=2, hosts=8, seed=3).sort_values("ts").reset_index(drop=True)
    cut = float(frame["ts"].quantile(0.5))
    train, test = frame[frame["ts"] < cut], frame[frame["ts"] >= cut]
    detector = make_detector("lightgbm", n_estimators=30, n_jobs=1)
    pipeline = DetectionPipeline(detector=detector, cv_folds=2).fit(train)
    split = {
        "kind": "time",
        "summary": "time-ordered: train before the cutoff, test from it",
        "train_end_ts": float(train["ts"].max()),
        "n_train": len(train),
        "n_test": len(test),
    }
    return pipeline, test, split


@pytest.fixture(scope="module")
def result(fitted):
    pipeline, test, split = fitted
    return evaluate(
        pipeline,
        test,
        dataset_name="sim-2d",
        model_name="flows@4",
        split=split,
        model_manifest=MANIFEST,
    )


class _Balance(HTMLParser):
    """Checks that every non-void element is closed in order."""

    VOID = frozenset({"meta", "img", "br", "hr", "input", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()


def test_pipeline_global_importance_is_mean_absolute_treeshap_on_the_given_rows(fitted):
    pipeline, test, _ = fitted
    got = pipeline.global_importance(test, max_rows=300, random_state=1)
    assert got["method"] == "treeshap" and got["n_rows"] == 300
    rows = np.sort(np.random.default_rng(1).choice(len(test), 300, replace=False))
    X = pipeline.transform_features(test.iloc[rows])
    contrib = pipeline.detector_.booster_.predict(X, pred_contrib=True)[:, :-1]
    expected = dict(zip(pipeline.feature_names_, np.abs(contrib).mean(axis=0), strict=True))
    for f in got["features"]:
        assert f["mean_abs_contribution"] == pytest.approx(expected[f["feature"]], rel=1e-9)
    values = [f["mean_abs_contribution"] for f in got["features"]]
    assert values == sorted(values, reverse=True)
    assert sum(f["share"] for f in got["features"]) == pytest.approx(1.0)
    with pytest.raises(ModelError, match="max_rows"):
        pipeline.global_importance(test, max_rows=0)


def test_evaluate_records_split_lineage_importance_and_default_intervals(result, fitted):
    _, test, split = fitted
    assert result.split == split
    assert result.registry["dataset"]["name"] == "sim-2d" and "files" not in result.registry
    assert result.metrics["bootstrap"]["n_bootstrap"] == 200
    assert result.feature_importance["n_rows"] == 2000
    assert result.metrics["periods"]["time_since"] == "the end of training"
    assert result.metrics["campaigns"]["grouped_by"] == ["attack_type", "src_ip"]
    assert result.metrics["alert_budget"]["mode"] == "per day"
    assert result.metrics["n"] == len(test)


def test_model_card_html_is_well_formed_and_shows_every_section(result, tmp_path):
    json_path, html_path = write_report(result, tmp_path)
    html = html_path.read_text()
    checker = _Balance()
    checker.feed(html)
    assert checker.errors == [] and checker.stack == []
    for heading in (
        "Intended use",
        "Training data and lineage",
        "Evaluation data and split",
        "Operating point",
        "Metrics at the operating point",
        "Alert volume and analyst budget",
        "Detection per attack family",
        "campaigns and decay",
        "Calibration and score distributions",
        "Global feature importance",
        "Known limitations",
    ):
        assert heading in html, heading
    assert "Evaluated on the test side of split time-ordered" in html
    assert "sim-2d" in html and "f" * 64 in html
    assert html.count("data:image/png;base64,") >= 8
    assert "http://" not in html and "https://" not in html
    card = json.loads(json_path.read_text())["model_card"]
    assert card["limitations"] == known_limitations(json.loads(json_path.read_text()))
    assert card["split_text"].startswith("Evaluated on the test side of split")


def test_limitations_are_generated_from_the_numbers():
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.3).astype(int)
    s = np.where(y == 1, 0.4, 0.05) + rng.uniform(0, 0.09, 400)  # malicious just under 0.5
    kinds = np.where(y == 1, rng.choice(["scan", "rare"], 400, p=[0.95, 0.05]), "benign")
    metrics = evaluate_scores(y, s, 0.5, attack_type=kinds, n_bootstrap=50)
    data = EvaluationResult(metrics=metrics, operating_point={"threshold": 0.5}).to_dict()
    text = " ".join(known_limitations(data))
    assert "Low detection of scan" in text and "Low detection of rare" in text
    assert f"> {ECE_BOUND}" in text  # scores of 0.4-0.49 for rows that are all malicious
    assert "No split was recorded" in text
    benign_only = evaluate_scores(np.zeros(50, int), rng.random(50), 0.5)
    one_class = known_limitations(EvaluationResult(benign_only, {"threshold": 0.5}).to_dict())
    assert one_class[0].startswith("The test set has no malicious rows")
    assert "No timestamps" in one_class[-1]


def test_split_text_names_the_split_or_says_there_was_none():
    assert (
        split_text(None)
        == "No split: the dataset as given (it may overlap the model's training data)."
    )
    assert split_text({"kind": "group", "summary": "grouped by src_ip", "n_test": 5}) == (
        "Evaluated on the test side of split grouped by src_ip (5 test rows)."
    )


def test_evaluate_works_with_a_duck_typed_pipeline_without_importance():
    class Scores:
        operating_point_: ClassVar[dict[str, float]] = {"threshold": 0.5}

        def score(self, frame):
            return pd.DataFrame(
                {"score": frame["x"], "decision": frame["x"] > 0.5}, index=frame.index
            )

    frame = pd.DataFrame({"x": [0.9, 0.1, 0.7, 0.2], "label": pd.array([1, 0, 1, 0], dtype="Int8")})
    result = evaluate(Scores(), frame, n_bootstrap=10)
    assert result.feature_importance is None and result.split is None
    assert "No split: the dataset as given" in render_html(result)
    with pytest.raises(EvaluationError, match="split must be a dict"):
        evaluate(Scores(), frame, split="time")
