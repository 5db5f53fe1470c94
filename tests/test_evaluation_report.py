"""The JSON and HTML evaluation reports: parseable, self-contained, escaped, complete."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from seclearn.errors import EvaluationError
from seclearn.evaluation import EvaluationResult, evaluate_scores, write_report
from seclearn.evaluation._report import format_number

OPERATING_POINT = {
    "policy": "target_fpr",
    "target_fpr": 0.01,
    "threshold": 0.5,
    "chosen_on": "out-of-fold training",
}


def _result(
    y, s, *, attack_type=None, model_name="flows@3", dataset_name="nsl-kdd-test"
) -> EvaluationResult:
    metrics = evaluate_scores(y, s, 0.5, attack_type=attack_type, n_bootstrap=20)
    return EvaluationResult(
        metrics=metrics,
        operating_point=OPERATING_POINT,
        model_name=model_name,
        dataset_name=dataset_name,
        n_rows=len(y),
        model_metadata={"detector": {"name": "lightgbm"}},
        created_at="2024-01-01T00:00:00+00:00",
    )


@pytest.fixture
def two_class():
    rng = np.random.default_rng(5)
    y = (rng.random(3000) < 0.2).astype(int)
    s = np.clip(rng.normal(0.3 + 0.35 * y, 0.15), 0, 1)
    attack = np.where(y == 1, rng.choice(["dos", "scan"], 3000), "benign")
    return _result(y, s, attack_type=attack)


def test_report_json_parses_and_holds_the_metrics(tmp_path, two_class):
    json_path, html_path = write_report(two_class, tmp_path / "out")
    assert json_path.name == "report.json" and html_path.name == "report.html"
    data = json.loads(json_path.read_text())
    assert data["model_name"] == "flows@3"
    assert data["operating_point"]["threshold"] == 0.5
    assert data["metrics"]["roc_auc"] == pytest.approx(two_class.metrics["roc_auc"])
    assert data["metrics"]["confusion_matrix"] == two_class.metrics["confusion_matrix"]


def test_html_report_is_self_contained_and_shows_the_headline_numbers(tmp_path, two_class):
    _, html_path = write_report(two_class, tmp_path, stem="flows-v3")
    html = html_path.read_text()
    assert "http://" not in html and "https://" not in html
    for attr in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert attr.startswith("data:image/png;base64,"), attr
    # ROC, PR, histogram, reliability, attack types, alert budget (no ts: no decay plot)
    assert len(re.findall(r"<img ", html)) == 6
    m = two_class.metrics
    for key in (
        "precision",
        "recall",
        "f1",
        "accuracy",
        "fpr",
        "roc_auc",
        "pr_auc",
        "brier",
        "ece",
    ):
        assert format_number(m[key]) in html, key
    assert f"TP {m['confusion_matrix']['tp']:,}" in html
    assert "flows@3" in html and "nsl-kdd-test" in html and "out-of-fold training" in html
    assert "test-set curve points" in html and "descriptive only" in html
    assert "95% bootstrap interval" in html


def test_html_report_escapes_text_from_data(tmp_path):
    y = np.array([1, 1, 0, 0, 0])
    s = np.array([0.9, 0.2, 0.1, 0.6, 0.3])
    attack = ["<script>alert(1)</script>", "$x$", "benign", "benign", "benign"]
    result = _result(y, s, attack_type=attack, model_name="<b>m</b>", dataset_name="d&d")
    _, html_path = write_report(result, tmp_path)
    html = html_path.read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>m</b>" not in html and "&lt;b&gt;m&lt;/b&gt;" in html
    assert "d&amp;d" in html


def test_one_class_report_marks_missing_metrics_as_not_available(tmp_path):
    result = _result(np.zeros(50, int), np.linspace(0, 1, 50))
    json_path, html_path = write_report(result, tmp_path)
    html = html_path.read_text()
    assert "no malicious rows" in html and "n/a" in html
    assert len(re.findall(r"<img ", html)) == 2  # histogram and reliability only
    assert json.loads(json_path.read_text())["metrics"]["roc_auc"] is None


@pytest.mark.parametrize("stem", ["../x", "a/b", "", ".hidden"])
def test_report_stem_must_be_a_plain_file_name(tmp_path, two_class, stem):
    with pytest.raises(EvaluationError, match="Invalid report stem"):
        write_report(two_class, tmp_path, stem=stem)
