"""The registry and evaluation with the real DetectionPipeline: save, verify, load, evaluate, report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from seclearn.errors import IntegrityError
from seclearn.evaluation import evaluate, write_report
from seclearn.models import make_detector
from seclearn.pipeline import DetectionPipeline
from seclearn.registry import (
    MANIFEST_NAME,
    list_models,
    load_model,
    save_model,
    show_model,
    verify_model,
)

KEY = b"integration-key-0123456789abcdef"


def _flows(n: int, seed: int) -> pd.DataFrame:
    """Small synthetic flows: scans hit many low ports with no reply, DoS sends large payloads."""
    rng = np.random.default_rng(seed)
    malicious = rng.random(n) < 0.25
    attack = np.where(malicious, rng.choice(["scan", "dos"], n), "benign")
    scan = attack == "scan"
    noisy = rng.random(n) < 0.1  # some attacks look benign, so that metrics are not all perfect
    return pd.DataFrame(
        {
            "ts": 1.7e9 + np.sort(rng.random(n)) * 86_400,
            "proto": pd.array(np.where(scan, "tcp", rng.choice(["tcp", "udp"], n)), dtype="str"),
            "dst_port": pd.array(
                np.where(scan, rng.integers(1, 1024, n), rng.choice([53, 80, 443], n)),
                dtype="Int64",
            ),
            "duration_s": np.where(
                malicious & ~noisy, rng.exponential(0.05, n), rng.exponential(5.0, n)
            ),
            "src_bytes": np.where(attack == "dos", rng.lognormal(10, 1, n), rng.lognormal(6, 1, n)),
            "dst_bytes": np.where(malicious & ~noisy, 0.0, rng.lognormal(8, 1, n)),
            "src_pkts": rng.integers(1, 50, n).astype(float),
            "dst_pkts": np.where(malicious & ~noisy, 0.0, rng.integers(1, 50, n)).astype(float),
            "label": pd.array(malicious.astype(int), dtype="Int8"),
            "attack_type": pd.array(attack, dtype="str"),
        }
    )


@pytest.fixture(scope="module")
def fitted() -> DetectionPipeline:
    detector = make_detector("lightgbm", n_estimators=20)
    return DetectionPipeline(detector=detector, cv_folds=2, random_state=0).fit(_flows(800, seed=0))


def test_real_pipeline_round_trips_through_the_signed_registry(workspace, fitted):
    ref = save_model(fitted, "flows", root=workspace, key=KEY, dataset={"name": "synthetic"})
    manifest = verify_model(ref.path, KEY)
    assert manifest["pipeline"]["detector"]["name"] == fitted.metadata()["detector"]["name"]
    assert manifest["operating_point"]["threshold"] == pytest.approx(
        fitted.operating_point_["threshold"]
    )
    assert manifest["files"], "the pipeline's files are listed"
    assert not any(name.endswith((".pkl", ".pickle", ".joblib")) for name in manifest["files"])
    loaded, _ = load_model("flows", root=workspace, key=KEY)
    test = _flows(300, seed=1)
    np.testing.assert_allclose(loaded.risk_score(test), fitted.risk_score(test))
    pd.testing.assert_frame_equal(loaded.score(test), fitted.score(test))
    assert list_models(workspace, key=KEY)[0]["signature"] == "valid"


def test_tampered_real_model_file_is_refused(workspace, fitted):
    ref = save_model(fitted, "flows", root=workspace, key=KEY)
    names = json.loads((ref.path / MANIFEST_NAME).read_text())["files"]
    victim = ref.path / sorted(names)[0]
    victim.write_bytes(victim.read_bytes() + b" ")
    with pytest.raises(IntegrityError, match=f"{sorted(names)[0]} was modified after signing"):
        load_model("flows", root=workspace, key=KEY)
    assert show_model("flows", root=workspace, key=KEY)["signature"] == "invalid"


def test_evaluate_real_pipeline_at_its_stored_operating_point(tmp_path, fitted):
    test = _flows(400, seed=2)
    result = evaluate(fitted, test, dataset_name="synthetic-test", model_name="flows@1")
    m = result.metrics
    assert m["threshold"] == pytest.approx(fitted.operating_point_["threshold"])
    decisions = fitted.score(test)["decision"].to_numpy()
    assert m["alerts"] == int(decisions.sum())
    assert m["n"] == 400 and 0.5 < m["roc_auc"] <= 1.0
    assert {r["attack_type"] for r in m["per_attack_type"]} == {"scan", "dos", "benign"}
    json_path, html_path = write_report(result, tmp_path)
    assert json.loads(json_path.read_text())["metrics"]["n"] == 400
    html = html_path.read_text()
    assert "https://" not in html and "flows@1" in html
