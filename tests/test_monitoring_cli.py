"""`seclearn monitor` end to end on a tiny workspace: exit codes, reports, Prometheus gauges."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from seclearn.cli.main import app, main
from seclearn.config import load_settings
from seclearn.datasets import simulate_enterprise, write_zeek_conn
from seclearn.lifecycle import DEMO_START
from seclearn.lifecycle.monitor import monitor_model
from seclearn.registry import load_model, save_model

runner = CliRunner()


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[Path, Path]:
    """A workspace with ``flows@1`` trained on one simulated day, and logs to monitor.

    "same" is another draw of the simulator (seed 12) with the same settings. Successive
    days of one simulated network are not used: their attack campaigns differ (port
    scans on one day, DoS on the next), which is real drift and is flagged.
    """
    logs = tmp_path_factory.mktemp("logs")
    ws = tmp_path_factory.mktemp("ws")
    write_zeek_conn(
        simulate_enterprise(days=1, hosts=10, seed=11, start=DEMO_START), logs / "train.log"
    )
    write_zeek_conn(
        simulate_enterprise(days=1, hosts=10, seed=12, start=DEMO_START), logs / "same.log"
    )
    shifted = simulate_enterprise(days=1, hosts=10, seed=12, start=DEMO_START)
    shifted["dst_bytes"] = shifted["dst_bytes"] * 3
    write_zeek_conn(shifted, logs / "shifted.log")
    (logs / "bad.log").write_text("this is not a flow\n" * 50 + "\x00\x01 garbage\n")
    (logs / "empty.log").write_bytes(b"")
    header = (logs / "same.log").read_text().splitlines()[:8]  # a Zeek header, no records
    (logs / "header-only.log").write_text("\n".join(header) + "\n#close\n")
    result = runner.invoke(
        app, ["ingest", str(logs / "train.log"), "--name", "train", "-w", str(ws)]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app,
        ["train", "train", "--name", "flows", "--detector", "logistic_regression", "-w", str(ws)],
    )
    assert result.exit_code == 0, result.output
    return ws, logs


def _monitor(ws: Path, data: str, out: Path, *extra: str):
    args = ["monitor", "flows", data, "--out", str(out), "--prom", str(out / "m.prom")]
    return runner.invoke(app, [*args, *extra, "-w", str(ws)])


def test_same_distribution_exits_0_and_writes_reports(setup, tmp_path):
    ws, logs = setup
    result = _monitor(ws, str(logs / "same.log"), tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    print(
        f"\nsame settings, seed 12: status {report['status']}, windows {report['n_windows']}, "
        f"largest PSI {max(f['psi'] for f in report['windows'][0]['features']):.3f}"
    )
    assert result.exit_code == 0, result.output
    assert report["status"] == "ok" and report["drifted_features"] == []
    assert "<html" in (tmp_path / "report.html").read_text().lower()
    families = {
        f.name: f for f in text_string_to_metric_families((tmp_path / "m.prom").read_text())
    }
    assert families["seclearn_drift_detected"].samples[0].value == 0.0
    assert families["seclearn_monitor_healthy"].samples[0].labels["model"] == "flows@1"


def test_shifted_data_exits_1_and_the_gauges_name_the_feature(setup, tmp_path):
    ws, logs = setup
    result = _monitor(ws, str(logs / "shifted.log"), tmp_path)
    assert result.exit_code == 1, result.output
    assert "dst_bytes" in result.output
    families = {
        f.name: f for f in text_string_to_metric_families((tmp_path / "m.prom").read_text())
    }
    drifted = {
        s.labels["feature"] for s in families["seclearn_feature_drifted"].samples if s.value == 1
    }
    psi = {s.labels["feature"]: s.value for s in families["seclearn_feature_psi"].samples}
    print(f"\nshifted x3: drifted {sorted(drifted)}; dst_bytes PSI {psi['dst_bytes']:.3f}")
    assert "dst_bytes" in drifted and psi["dst_bytes"] > 0.2
    assert families["seclearn_drift_detected"].samples[0].value == 1.0


@pytest.mark.parametrize("name", ["bad.log", "empty.log", "header-only.log"])
def test_a_file_without_parseable_records_exits_3_monitor_unhealthy(setup, tmp_path, name):
    ws, logs = setup
    result = _monitor(ws, str(logs / name), tmp_path)
    assert result.exit_code == 3, result.output
    assert "monitor unhealthy" in result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "unhealthy" and report["unhealthy_reasons"]
    families = {
        f.name: f for f in text_string_to_metric_families((tmp_path / "m.prom").read_text())
    }
    assert families["seclearn_monitor_healthy"].samples[0].value == 0.0


def test_a_dataset_name_is_monitored_with_time_windows(setup, tmp_path):
    ws, _ = setup
    settings = load_settings(ws)
    result = monitor_model(settings, "flows@1", "train", window="6h", out_dir=tmp_path)
    assert len(result.report.windows) == 4 and result.report.healthy
    assert result.json_path.exists() and result.html_path.exists() and result.prom_path is None


def test_a_model_without_profile_is_refused_with_a_clear_message(
    setup, tmp_path, monkeypatch, capsys
):
    ws, logs = setup
    settings = load_settings(ws)
    pipeline, _ = load_model("flows@1", root=ws, key=settings.key())
    pipeline.profile_ = None  # what a model saved by an older seclearn looks like
    save_model(pipeline, "legacy", root=ws, key=settings.key())
    monkeypatch.setattr(
        "sys.argv", ["seclearn", "monitor", "legacy", str(logs / "same.log"), "-w", str(ws)]
    )
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "legacy@1 has no training reference profile" in err and "retrain" in err


def test_store_labels_are_joined_by_uid(tmp_path):
    import pandas as pd

    from seclearn.config import Settings
    from seclearn.lifecycle.monitor import store_labels
    from seclearn.store import StateStore, state_path

    settings = Settings(workspace=tmp_path)
    frame = pd.DataFrame({"uid": ["a", "b", "c", "d"]})
    assert store_labels(settings, frame) == (None, 0)  # no state.db: nothing, and none made
    assert not state_path(tmp_path).exists()
    with StateStore(state_path(tmp_path)) as store:
        store.record_label("b", 1, who="ana", source="triage", reason="")
        store.record_label("c", 1, who="ana", source="triage", reason="")
        store.record_label("c", 0, who="bo", source="triage", reason="second look")
    y, matched = store_labels(settings, frame)
    assert matched == 2 and y is not None
    assert np.isnan(y[0]) and y[1] == 1 and y[2] == 0 and np.isnan(y[3])


@pytest.mark.parametrize(("name", "code"), [("bad.log", 3), ("shifted.log", 1), ("same.log", 0)])
def test_the_process_exit_code_is_the_status(setup, tmp_path, monkeypatch, name, code):
    """Through main(), as the installed `seclearn` runs, not only through CliRunner."""
    ws, logs = setup
    argv = ["seclearn", "monitor", "flows", str(logs / name), "--out", str(tmp_path)]
    monkeypatch.setattr("sys.argv", [*argv, "-w", str(ws)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == code
