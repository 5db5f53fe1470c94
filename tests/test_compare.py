"""`compare`: several detectors on one split, one operating-point rule, one leaderboard."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from seclearn.cli.main import app, main
from seclearn.datasets import simulate_enterprise, write_zeek_conn
from seclearn.errors import ConfigError, EvaluationError
from seclearn.evaluation import (
    LEADERBOARD_COLUMNS,
    build_leaderboard,
    render_leaderboard_html,
    write_leaderboard,
)
from seclearn.evaluation._leaderboard import RANK_BY
from seclearn.lifecycle import DEMO_START, compare_detectors, compare_frame, split_frame
from seclearn.models import Detector, make_detector
from seclearn.pipeline import DetectionPipeline

runner = CliRunner()
SPLIT = "random:0.3"


def detectors() -> list[Detector]:
    """Three small detectors of different kinds; two are the same class (named apart)."""
    return [
        make_detector("lightgbm", n_estimators=30, n_jobs=1),
        make_detector("logistic_regression"),
        make_detector("isolation_forest", n_estimators=30, n_jobs=1),
        make_detector("lightgbm", n_estimators=5, num_leaves=4, n_jobs=1),
    ]


class RecordingPipeline(DetectionPipeline):
    """A DetectionPipeline that records which rows each call fitted on and scored."""

    calls: ClassVar[list[tuple[str, str, pd.Index]]] = []

    def fit(self, frame: pd.DataFrame, y: object = None) -> RecordingPipeline:
        RecordingPipeline.calls.append(("fit", type(self.detector).__name__, frame.index))
        return super().fit(frame, y)  # type: ignore[return-value]

    def score(self, frame: pd.DataFrame, *, explain_top_k: int = 0) -> pd.DataFrame:
        RecordingPipeline.calls.append(("score", type(self.detector).__name__, frame.index))
        return super().score(frame, explain_top_k=explain_top_k)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return simulate_enterprise(days=1, hosts=8, seed=3, start=DEMO_START)


@pytest.fixture(scope="module")
def cut(frame):
    return split_frame(frame, SPLIT)


@pytest.fixture(scope="module")
def compared(frame, cut):
    """The leaderboard of ``detectors()`` on ``cut``, with every fit and score recorded."""
    RecordingPipeline.calls = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("seclearn.lifecycle.compare.DetectionPipeline", RecordingPipeline)
        board = compare_frame(frame, detectors(), split=cut, dataset_name="sim")
    return board, list(RecordingPipeline.calls)


def test_every_detector_fits_on_the_same_train_side_and_scores_the_same_test_side(
    frame, cut, compared
):
    board, calls = compared
    fits = [index for what, _, index in calls if what == "fit"]
    scores = [index for what, _, index in calls if what == "score"]
    assert len(fits) == len(scores) == len(detectors()) == len(board.entries)
    train_index = frame.index[cut.train]
    test_index = frame.index[cut.test]
    assert all(index.equals(train_index) for index in fits)
    assert all(index.equals(test_index) for index in scores)
    assert not set(train_index) & set(test_index)
    assert {e["n_train"] for e in board.entries} == {len(cut.train)}
    assert {e["n_test"] for e in board.entries} == {len(cut.test)}
    names = [e["name"] for e in board.entries]
    assert sorted(names) == sorted(
        ["lightgbm", "lightgbm#2", "logistic_regression", "isolation_forest"]
    )


def test_operating_points_come_from_training_data_and_ignore_test_labels(frame, cut, compared):
    board, _ = compared
    for entry in board.entries:
        op = entry["operating_point"]
        assert op["policy"] == "target_fpr" and op["target_fpr"] == 0.01
        assert entry["threshold"] == op["threshold"]
        assert op["oof_fpr"] <= 0.02, entry["name"]  # measured on benign training rows
    # the same split with the test side's labels shuffled: every threshold stays put
    shuffled = frame.copy()
    rng = np.random.default_rng(0)
    test_rows = np.asarray(cut.test)
    columns = [shuffled.columns.get_loc("label"), shuffled.columns.get_loc("attack_type")]
    shuffled.iloc[test_rows, columns] = shuffled.iloc[
        rng.permutation(test_rows), columns
    ].to_numpy()
    assert not shuffled["label"].equals(frame["label"])
    again = compare_frame(shuffled, detectors()[:2], split=cut)
    before = {e["name"]: e for e in board.entries}
    for entry in again.entries:
        assert entry["threshold"] == before[entry["name"]]["threshold"], entry["name"]
        # while the test figures do move: the shuffled labels are scored
        assert entry["pr_auc"] < before[entry["name"]]["pr_auc"], entry["name"]


def test_the_rule_and_the_split_are_recorded(cut, compared):
    board, _ = compared
    assert board.split == cut.describe()
    assert board.operating_rule["target_fpr"] == 0.01
    assert "train" in board.operating_rule["chosen_on"]
    assert board.dataset_name == "sim"


def test_entries_are_ranked_by_the_documented_metric(compared):
    board, _ = compared
    values = [e[RANK_BY] for e in board.entries]
    assert all(v is not None for v in values)
    assert values == sorted(values, reverse=True)
    assert RANK_BY in board.notes["ranking"]


def test_ranking_puts_missing_values_last_and_breaks_ties_by_name():
    def entry(name: str, value: float | None) -> dict:
        return {"name": name, RANK_BY: value}

    board = build_leaderboard(
        [entry("c", 0.5), entry("b", None), entry("a", 0.5), entry("d", 0.9), entry("e", np.nan)],
        split=None,
        operating_rule={},
    )
    assert [e["name"] for e in board.entries] == ["d", "a", "c", "b", "e"]
    with pytest.raises(EvaluationError):
        build_leaderboard([], split=None, operating_rule={})


def test_leaderboard_json_has_every_column_and_the_split(cut, compared, tmp_path):
    board, _ = compared
    json_path, html_path = write_leaderboard(board, tmp_path)
    data = json.loads(json_path.read_text())
    assert data["split"] == json.loads(json.dumps(cut.describe()))
    assert data["split"]["spec"].startswith("random:0.3")
    assert data["operating_rule"]["target_fpr"] == 0.01
    assert [e["name"] for e in data["entries"]] == [e["name"] for e in board.entries]
    for entry in data["entries"]:
        for key, _, _ in LEADERBOARD_COLUMNS:
            assert key in entry, key
            assert entry[key] is not None, (entry["name"], key)
        assert {"threshold", "operating_point", "n_train", "n_test", "metrics"} <= set(entry)
    assert html_path.exists()


def _no_external_resources(html: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.IGNORECASE)
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert "@import" not in html and "url(" not in html


def test_html_is_self_contained_and_names_every_detector(compared):
    board, _ = compared
    html = render_leaderboard_html(board)
    _no_external_resources(html)
    assert html.count('src="data:image/png;base64,') == 1  # the overlaid ROC curves
    for entry in board.entries:
        assert f"<td>{entry['name']}" in html
    assert board.split is not None and board.split["summary"].split(" (")[0] in html


def test_html_escapes_text_that_comes_from_data():
    evil = '<script>alert("x")</script>'
    metrics = {
        "n": 10,
        "per_attack_type": [
            {"attack_type": evil, "kind": "malicious", "count": 3, "rate": 0.5},
            {"attack_type": "benign", "kind": "benign", "count": 7, "rate": 0.0},
        ],
    }
    entry = {
        "name": "<img src=x onerror=alert(1)>",
        "detector": {"kind": "<b>kind</b>"},
        **{key: 0.5 for key, _, _ in LEADERBOARD_COLUMNS},
        "threshold": 0.5,
        "metrics": metrics,
    }
    board = build_leaderboard(
        [entry],
        split={"kind": "group", "summary": f"grouped by {evil}", "n_train": 1, "n_test": 1},
        operating_rule={"policy": "target_fpr", "note": evil},
        dataset_name="<i>dataset</i>",
    )
    html = render_leaderboard_html(board)
    _no_external_resources(html)
    assert "<img" not in html and "<b>kind" not in html and "<i>dataset" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html and "&lt;i&gt;dataset" in html


class NeverFitted(DetectionPipeline):
    def fit(self, frame: pd.DataFrame, y: object = None) -> NeverFitted:
        raise AssertionError("a detector was fitted before the test side was checked")


def test_a_one_class_test_side_is_refused_before_anything_is_fitted(frame, monkeypatch):
    # attacks only in the first half of the day: a time split's test side is all benign
    late = frame["ts"] > frame["ts"].quantile(0.5)
    benign_late = frame.loc[~(late & (frame["label"] == 1))].reset_index(drop=True)
    monkeypatch.setattr("seclearn.lifecycle.compare.DetectionPipeline", NeverFitted)
    with pytest.raises(EvaluationError, match="only one class") as info:
        compare_frame(benign_late, ["logistic_regression"], split="time:0.3")
    assert "0 malicious" in str(info.value)


def test_unknown_detectors_and_bad_split_specs_are_declared_errors(frame, tmp_path):
    with pytest.raises(ConfigError, match=r"Unknown detector 'nope'.*lightgbm"):
        compare_frame(frame, ["lightgbm", "nope"], split=SPLIT)
    with pytest.raises(ConfigError, match="non-empty list"):
        compare_frame(frame, [], split=SPLIT)
    with pytest.raises(ConfigError, match="non-empty list"):
        compare_frame(frame, "lightgbm", split=SPLIT)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="registered name or a Detector"):
        compare_frame(frame, [42], split=SPLIT)  # type: ignore[list-item]
    with pytest.raises(ConfigError, match=re.escape("Invalid split 'sideways:0.3'")):
        compare_frame(frame, ["lightgbm"], split="sideways:0.3")
    with pytest.raises(ConfigError, match=re.escape("not in (0, 1)")):
        compare_frame(frame, ["lightgbm"], split="random:1.5")
    # an unknown detector is refused before the workspace is even read
    with pytest.raises(ConfigError, match="Unknown detector"):
        compare_detectors(tmp_path, "missing", ["nope"], split=SPLIT)


# ---------------------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("compare-ws")
    log = folder / "flows.conn.log"
    write_zeek_conn(simulate_enterprise(days=1, hosts=8, seed=5, start=DEMO_START), log)
    result = runner.invoke(app, ["ingest", str(log), "--name", "flows", "-w", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def test_cli_compare_prints_a_table_and_writes_the_leaderboard(workspace, tmp_path):
    out = tmp_path / "board"
    result = runner.invoke(
        app,
        [
            "compare",
            "flows",
            "-d",
            "logistic_regression",
            "-d",
            "ecod",
            "--split",
            SPLIT,
            "--out",
            str(out),
            "-w",
            str(workspace),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "logistic_regression" in result.output and "ecod" in result.output
    assert "PR-AUC" in result.output and "leaderboard:" in result.output
    data = json.loads((out / "leaderboard.json").read_text())
    assert data["dataset_name"] == "flows"
    assert {e["name"] for e in data["entries"]} == {"logistic_regression", "ecod"}
    assert data["split"]["spec"].startswith("random:0.3")
    assert data["split"]["dataset_content_fingerprint"]
    html = (out / "leaderboard.html").read_text()
    assert "<html" in html and "logistic_regression" in html
    _no_external_resources(html)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-d", "nope", "--split", SPLIT], "Unknown detector 'nope'"),
        (["-d", "lightgbm", "--split", "sideways"], "Invalid split 'sideways'"),
    ],
)
def test_cli_compare_bad_input_is_one_clean_line(workspace, monkeypatch, capsys, args, needle):
    monkeypatch.setattr("sys.argv", ["seclearn", "compare", "flows", *args, "-w", str(workspace)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and needle in err and "Traceback" not in err
