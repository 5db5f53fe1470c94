"""The `seclearn` command end to end on simulated Zeek logs, through a real subprocess-free runner."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from seclearn.cli.main import app, main
from seclearn.datasets import simulate_enterprise, write_zeek_conn
from seclearn.lifecycle import DEMO_START

runner = CliRunner()


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("logs")
    train, test = folder / "train.conn.log", folder / "test.conn.log"
    write_zeek_conn(simulate_enterprise(days=1, hosts=30, seed=11, start=DEMO_START), train)
    write_zeek_conn(simulate_enterprise(days=1, hosts=30, seed=12, start=DEMO_START), test)
    return train, test


@pytest.fixture(scope="module")
def trained(logs, tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("ws")
    train, test = logs
    for name, path in (("train", train), ("test", test)):
        result = runner.invoke(app, ["ingest", str(path), "--name", name, "-w", str(ws)])
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["train", "train", "--name", "flows", "-w", str(ws)])
    assert result.exit_code == 0, result.output
    assert "flows@1" in result.output
    return ws


def test_ingest_reports_counts_and_writes_a_manifest(trained):
    manifest = json.loads((trained / "datasets" / "train" / "manifest.json").read_text())
    assert manifest["totals"]["accepted"] > 1000
    assert manifest["totals"]["quarantined"] == 0


def test_models_list_and_show_describe_the_signed_model(trained):
    listed = runner.invoke(app, ["models", "list", "-w", str(trained)])
    assert listed.exit_code == 0 and "flows" in listed.output
    shown = runner.invoke(app, ["models", "show", "flows@1", "-w", str(trained)])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["name"] == "flows" and "valid" in json.dumps(data)


def test_evaluate_writes_json_and_html_reports(trained, tmp_path):
    result = runner.invoke(
        app, ["evaluate", "flows", "test", "--out", str(tmp_path), "-w", str(trained)]
    )
    assert result.exit_code == 0, result.output
    html = next(tmp_path.glob("*.html")).read_text()
    report = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert "<html" in html.lower()
    assert 0.5 < report["metrics"]["roc_auc"] <= 1.0


def test_score_writes_one_record_per_flow_with_explained_alerts(trained, logs, tmp_path):
    out = tmp_path / "scores.jsonl"
    result = runner.invoke(
        app, ["score", "flows", str(logs[1]), "--out", str(out), "-w", str(trained)]
    )
    assert result.exit_code == 0, result.output
    records = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    manifest = json.loads((trained / "datasets" / "test" / "manifest.json").read_text())
    assert len(records) == manifest["totals"]["accepted"]
    alerts = [r for r in records if r["decision"]]
    assert alerts, "the simulated attacks raised no alert"
    assert all(0.0 <= r["score"] <= 1.0 for r in records)
    assert all(r["top_features"] and r["reason"] for r in alerts)


def test_a_tampered_model_is_refused_with_one_clean_line(
    trained, logs, tmp_path, monkeypatch, capsys
):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained / "models" / "flows" / "1", copy)
    victim = next(
        p
        for p in sorted(copy.rglob("*"))
        if p.is_file() and p.name not in ("manifest.json", "manifest.sig")
    )
    victim.write_bytes(victim.read_bytes() + b" ")
    monkeypatch.setattr(
        "sys.argv",
        [
            "seclearn",
            "score",
            str(copy),
            str(logs[1]),
            "--out",
            str(tmp_path / "x.jsonl"),
            "-w",
            str(trained),
        ],
    )
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err
    assert not (tmp_path / "x.jsonl").exists()


def test_unknown_dataset_gives_a_clear_error(trained, monkeypatch, capsys):
    monkeypatch.setattr(
        "sys.argv", ["seclearn", "train", "nope", "--name", "m", "-w", str(trained)]
    )
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert "nope" in capsys.readouterr().err
