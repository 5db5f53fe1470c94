"""``seclearn attack`` end to end on simulated Zeek logs (context features held fixed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seclearn.cli.main import app
from seclearn.datasets import simulate_enterprise, write_zeek_conn
from seclearn.lifecycle import DEMO_START

runner = CliRunner()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("ws")
    logs = tmp_path_factory.mktemp("logs")
    for name, seed in (("train", 21), ("test", 22)):
        path = logs / f"{name}.conn.log"
        write_zeek_conn(simulate_enterprise(days=1, hosts=12, seed=seed, start=DEMO_START), path)
        result = runner.invoke(app, ["ingest", str(path), "--name", name, "-w", str(ws)])
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["train", "train", "--name", "flows", "-w", str(ws)])
    assert result.exit_code == 0, result.output
    return ws


def test_attack_writes_robustness_json_and_html_with_no_violations(workspace, tmp_path):
    out = tmp_path / "robust"
    result = runner.invoke(
        app,
        [
            "attack",
            "flows",
            "test",
            "--budget",
            "1.0",
            "--max-rows",
            "300",
            "--out",
            str(out),
            "-w",
            str(workspace),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "robustness.json").read_text())
    assert set(doc["attacks"]) == {"trees", "blackbox"}
    figure = doc["figure"]
    print("\n", figure)
    for key in (
        "attack",
        "budget",
        "n_attacks",
        "evasion_rate",
        "robust_detection_rate",
        "clean_detection_rate",
        "median_cost",
    ):
        assert key in figure
    assert figure["violations"] == 0 and doc["violations"] == []
    assert figure["attack"] == "trees+blackbox" and figure["budget"] == 1.0
    assert figure["robust_detection_rate"] <= figure["clean_detection_rate"]
    assert "src_bytes" in doc["threat_model"]["columns"]
    page = (out / "robustness.html").read_text()
    assert "Robustness: flows@1 on test" in page and "evasion rate" in page


def test_attack_with_a_threat_file_and_an_unknown_attack(workspace, tmp_path):
    threat = tmp_path / "threat.json"
    threat.write_text(json.dumps({"columns": {"src_bytes": {"controlled": False}}}))
    result = runner.invoke(
        app,
        [
            "attack",
            "flows",
            "test",
            "--attack",
            "blackbox",
            "--threat",
            str(threat),
            "--max-rows",
            "200",
            "--out",
            str(tmp_path / "o"),
            "-w",
            str(workspace),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "o" / "robustness.json").read_text())
    assert not doc["threat_model"]["columns"]["src_bytes"]["controlled"]
    assert list(doc["attacks"]) == ["blackbox"]
    bad = runner.invoke(app, ["attack", "flows", "test", "--attack", "fgsm", "-w", str(workspace)])
    assert bad.exit_code != 0
