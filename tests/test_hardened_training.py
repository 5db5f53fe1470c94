"""Hardened models are trained, signed, saved and served like any other, and stay hardened."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seclearn.adversarial import robustness_figure
from seclearn.config import load_settings
from seclearn.datasets import create_dataset, simulate_enterprise, write_zeek_conn
from seclearn.errors import ConfigError
from seclearn.lifecycle.demo import DEMO_START
from seclearn.lifecycle.train import train_model
from seclearn.models import MonotoneLightGBMDetector
from seclearn.registry import load_model, show_model


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("hard") / "ws"
    ws.mkdir()
    for name, seed in (("train", 0), ("test", 1)):
        frame = simulate_enterprise(days=1, hosts=8, seed=seed, start=DEMO_START)
        path = ws / f"{name}.conn.log"
        write_zeek_conn(frame, path)
        create_dataset(ws, name, [path])
    return ws


def test_a_monotone_model_round_trips_through_the_registry_and_resists_the_attack(workspace):
    key = load_settings(workspace=workspace).key()
    plain = train_model(workspace, "train", "plain", key=key)
    hard = train_model(workspace, "train", "hard", key=key, harden="monotone")
    loaded, _ = load_model("hard", root=workspace, key=key)
    assert isinstance(loaded.detector_, MonotoneLightGBMDetector)
    assert loaded.detector_.monotone == hard.pipeline.detector_.monotone
    assert any(loaded.detector_.monotone) and loaded.detector_.drop
    hardening = show_model("hard", root=workspace, key=key)["extra"]["hardening"]
    assert hardening["kind"] == "monotone" and "src_bytes" in hardening["grows_only"]

    from seclearn.datasets import load_dataset

    test = load_dataset(workspace, "test")
    np.testing.assert_allclose(loaded.risk_score(test), hard.pipeline.risk_score(test), atol=1e-12)
    # the attacker grows what they control: the hardened score never falls, row by row
    grown = test.copy()
    grown["src_bytes"] = grown["src_bytes"] * 3 + 1000
    grown["src_pkts"] = grown["src_pkts"] + 5
    grown["duration_s"] = grown["duration_s"] * 2 + 1
    fell = {
        name: float(np.mean(model.risk_score(grown) < model.risk_score(test) - 1e-9))
        for name, model in (("plain", plain.pipeline), ("hard", loaded))
    }
    print(f"share of rows whose score fell when the attacker grew bytes, packets, time: {fell}")
    assert fell["hard"] == 0.0
    figure = robustness_figure(loaded, test, budget=1.0, max_rows=300)
    assert figure["violations"] == 0 and figure["evasion_rate"] == 0.0


def test_adversarial_training_is_recorded_and_monotone_needs_lightgbm(workspace):
    key = load_settings(workspace=workspace).key()
    with pytest.raises(ConfigError, match="needs detector 'lightgbm'"):
        train_model(workspace, "train", "x", key=key, detector="random_forest", harden="monotone")
    with pytest.raises(ConfigError, match="harden must be"):
        train_model(workspace, "train", "x", key=key, harden="magic")
    trained = train_model(workspace, "train", "adv", key=key, harden="adversarial")
    hardening = show_model("adv", root=workspace, key=key)["extra"]["hardening"]
    assert hardening["kind"] == "adversarial" and hardening["rounds"] == 3
    assert hardening["adversarial_rows_added"] >= 0
    assert trained.pipeline.n_train_ >= 1


def test_the_model_card_gains_a_robustness_section_and_a_limitation(workspace):
    import json

    from seclearn.lifecycle.train import evaluate_model

    key = load_settings(workspace=workspace).key()
    train_model(workspace, "train", "card", key=key)
    result, json_path, html_path = evaluate_model(
        workspace, "card", "test", key=key, robustness_budget=3.0
    )
    robust = result.robustness
    assert robust is not None and robust["budget"] == 3.0 and robust["violations"] == 0
    html = html_path.read_text()
    assert "Robustness to evasion" in html and "evasion rate" in html
    saved = json.loads(json_path.read_text())
    assert saved["robustness"]["evasion_rate"] == robust["evasion_rate"]
    flagged = any("evades" in item for item in saved["model_card"]["limitations"])
    assert flagged == (robust["evasion_rate"] > 0.1), (robust, saved["model_card"]["limitations"])
    _, _, plain_html = evaluate_model(workspace, "card", "test", key=key)
    assert "Not measured" in plain_html.read_text()
