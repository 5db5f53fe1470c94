"""DetectionPipeline: fit, score, save and load as one unit; robustness; a hybrid catching a new family."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest

from seclearn.errors import FeatureMismatchError, ModelError, NotFittedError, ParameterError
from seclearn.models import ThresholdPolicy, make_detector
from seclearn.pipeline import CHOSEN_ON, DetectionPipeline, frame_fingerprint

FAMILIES = ("scan", "flood", "download")


def flows(seed: int, n_benign: int = 1500, attacks: dict[str, int] | None = None) -> pd.DataFrame:
    """Synthetic flows: web/dns benign traffic plus planted attack families.

    scan: zero-byte rejected probes of low ports; flood: many small packets in S0 state;
    download: huge, long transfers to a high port (nothing like scan or flood).
    """
    rng = np.random.default_rng(seed)
    attacks = {"scan": 120, "flood": 120} if attacks is None else attacks
    n = n_benign + sum(attacks.values())
    kind = np.repeat(["benign", *attacks], [n_benign, *attacks.values()])
    f = pd.DataFrame(
        {
            "ts": 1.7e9 + rng.uniform(0, 86_400, n),
            "src_ip": [f"10.0.0.{i % 40}" for i in range(n)],
            "dst_port": rng.choice([80, 443, 53], n, p=[0.3, 0.5, 0.2]),
            "proto": rng.choice(["tcp", "udp"], n, p=[0.85, 0.15]),
            "service": rng.choice(["http", "ssl", "dns"], n),
            "duration_s": rng.exponential(2.0, n),
            "src_bytes": rng.lognormal(6, 1, n).round(),
            "dst_bytes": rng.lognormal(8, 1.2, n).round(),
            "src_pkts": rng.poisson(8, n) + 1.0,
            "dst_pkts": rng.poisson(10, n) + 1.0,
            "conn_state": rng.choice(["SF", "S1", "RSTO"], n, p=[0.9, 0.07, 0.03]),
        }
    )
    scan, flood, down = kind == "scan", kind == "flood", kind == "download"
    f.loc[scan, ["src_bytes", "dst_bytes", "duration_s", "src_pkts"]] = [0.0, 0.0, 0.0, 1.0]
    f.loc[scan, "dst_port"] = rng.integers(1, 1024, scan.sum())
    f.loc[scan, "conn_state"] = "REJ"
    f.loc[flood, "src_pkts"] = rng.poisson(400, flood.sum()) + 100.0
    f.loc[flood, "src_bytes"] = f.loc[flood, "src_pkts"] * 60
    f.loc[flood, ["dst_bytes", "conn_state"]] = [0.0, "S0"]
    f.loc[down, "dst_bytes"] = rng.lognormal(16, 0.5, down.sum()).round()
    f.loc[down, "dst_pkts"] = rng.poisson(20_000, down.sum()) + 1.0
    f.loc[down, "duration_s"] = rng.uniform(300, 900, down.sum())
    f.loc[down, "dst_port"] = 8443
    f["dst_port"] = f["dst_port"].astype("Int64")
    for c in ("proto", "service", "conn_state", "src_ip"):
        f[c] = f[c].astype("str")
    f["label"] = pd.array((kind != "benign").astype(int), dtype="Int8")
    f["attack_type"] = pd.array(kind, dtype="str")
    return f.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def lgbm():
    return make_detector("lightgbm", n_estimators=40, n_jobs=1)


@pytest.fixture(scope="module")
def fitted() -> DetectionPipeline:
    return DetectionPipeline(detector=lgbm()).fit(flows(0))


def test_score_is_index_aligned_with_calibrated_scores_and_decisions(fitted):
    frame = flows(1).set_index(pd.Index([f"r{i}" for i in range(len(flows(1)))]))
    scored = fitted.score(frame)
    assert list(scored.columns) == ["score", "decision"] and scored.index.equals(frame.index)
    assert scored["score"].dtype == np.float64 and scored["decision"].dtype == bool
    assert scored["score"].between(0, 1).all()
    np.testing.assert_array_equal(scored["decision"], scored["score"] > fitted.threshold_)
    y = frame["label"].astype(int).to_numpy()
    assert scored["decision"][y == 1].mean() > 0.95 and scored["decision"][y == 0].mean() < 0.03


def test_score_features_equals_risk_score_on_the_featurized_matrix(fitted):
    frame = flows(2)
    X = fitted.transform_features(frame)
    assert X.dtype == np.float32 and X.shape == (len(frame), len(fitted.feature_names_))
    np.testing.assert_array_equal(fitted.score_features(X), fitted.risk_score(frame))
    raw = fitted.detector_.booster_.predict(X, raw_score=True)
    np.testing.assert_array_equal(fitted.score_features(X), fitted.calibrator_.transform(raw))


def test_operating_point_and_metadata_describe_how_the_model_was_made(fitted):
    op = fitted.operating_point_
    assert (
        op["policy"] == "target_fpr" and op["target_fpr"] == 0.01 and op["chosen_on"] == CHOSEN_ON
    )
    assert 0 <= op["oof_fpr"] <= 0.01 and op["oof_detection_rate"] > 0.9
    meta = fitted.metadata()
    orjson.dumps(meta)  # JSON-ready
    assert (
        meta["detector"]["name"] == "lightgbm" and meta["detector"]["params"]["n_estimators"] == 40
    )
    assert meta["featurizer"]["fingerprint"] == fitted.featurizer_.fingerprint()
    assert meta["training_data"]["fingerprint"] == frame_fingerprint(flows(0))
    assert meta["training_data"]["class_counts"] == {
        "benign": 1500,
        "malicious": 240,
        "unlabeled": 0,
    }
    assert meta["training_data"]["attack_type_counts"]["scan"] == 120
    assert meta["oof_metrics"]["roc_auc"] > 0.95 and set(
        meta["oof_metrics"]["detection_by_attack_type"]
    ) == {"scan", "flood"}
    assert meta["calibration"]["type"] == "probability" and fitted.n_train_ == 1740


def test_training_fingerprint_ignores_column_order_but_not_values():
    frame = flows(0)
    assert frame_fingerprint(frame[list(reversed(frame.columns))]) == frame_fingerprint(frame)
    changed = frame.copy()
    changed.loc[0, "src_bytes"] += 1
    assert frame_fingerprint(changed) != frame_fingerprint(frame)


def test_save_load_round_trip_scores_identically_from_safe_files(fitted, tmp_path: Path):
    files = fitted.save(tmp_path / "m")
    assert all(p.exists() for p in files)
    assert {p.suffix for p in files} <= {".json", ".txt", ".npz", ".skops"}
    again = DetectionPipeline.load(tmp_path / "m")
    frame = flows(3)
    pd.testing.assert_frame_equal(
        again.score(frame, explain_top_k=2), fitted.score(frame, explain_top_k=2)
    )
    assert again.operating_point_ == fitted.operating_point_
    assert again.metadata() == fitted.metadata()


def test_unseen_categories_and_missing_columns_still_score(fitted):
    frame = flows(4)
    frame["service"] = "gopher"
    frame["proto"] = "sctp"
    scores = fitted.risk_score(frame.drop(columns=["dst_bytes", "conn_state"]))
    assert np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()
    with pytest.raises(FeatureMismatchError, match="Expected some of"):
        fitted.score(pd.DataFrame({"bytes_in": [1.0]}))


def test_input_frame_is_not_mutated(fitted):
    frame = flows(5)
    before = frame.copy(deep=True)
    fitted.score(frame, explain_top_k=3)
    DetectionPipeline(detector=lgbm()).fit(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_hybrid_catches_an_attack_family_absent_from_training_better_than_supervised_alone():
    train = flows(0)  # benign, scan, flood
    test = flows(6, n_benign=3000, attacks={"scan": 100, "flood": 100, "download": 150})
    supervised = DetectionPipeline(detector=lgbm()).fit(train)
    hybrid = DetectionPipeline(
        detector=make_detector("hybrid", supervised=lgbm(), anomaly="ecod")
    ).fit(train)
    novel = (test["attack_type"] == "download").to_numpy()
    benign = (test["label"] == 0).to_numpy()
    sup, hyb = supervised.score(test), hybrid.score(test)
    assert (
        hyb["decision"][novel].mean()
        >= 0.9
        > supervised.score(test)["decision"][novel].mean() + 0.3
    )
    assert hyb["decision"][benign].mean() < 0.03  # still about the 1% target
    known = (test["label"] == 1).to_numpy() & ~novel
    assert hyb["decision"][known].mean() > 0.95 and sup["decision"][known].mean() > 0.95


def test_anomaly_pipeline_trains_on_unlabeled_flows():
    frame = flows(0).drop(columns=["label", "attack_type"])
    pipeline = DetectionPipeline(detector="ecod").fit(frame)
    assert pipeline.metadata()["calibration"]["type"] == "benign_quantile"
    assert pipeline.class_counts_ == {"benign": 0, "malicious": 0, "unlabeled": len(frame)}
    assert 0 < pipeline.oof_metrics_["unlabeled_alert_rate"] <= 0.011
    scored = pipeline.score(flows(7, attacks={"download": 50}))
    assert scored["decision"][-50:].mean() >= 0 and scored["score"].between(0, 1).all()


def test_anomaly_detectors_never_train_on_rows_labeled_malicious():
    frame = flows(0)
    pipeline = DetectionPipeline(detector="ecod").fit(frame)
    benign_only = DetectionPipeline(detector="ecod").fit(frame[frame["label"] == 0])
    test = flows(8)
    np.testing.assert_allclose(
        pipeline.detector_.risk_score(pipeline.transform_features(test)),
        benign_only.detector_.risk_score(benign_only.transform_features(test)),
    )
    assert pipeline.operating_point_["oof_detection_rate"] > 0.9


def test_supervised_pipeline_needs_both_classes():
    frame = flows(0, attacks={})
    with pytest.raises(ModelError, match="needs both benign"):
        DetectionPipeline(detector=lgbm()).fit(frame)


def test_parameters_are_validated_in_fit():
    with pytest.raises(
        ParameterError,
        match="The 'cv_folds' parameter of DetectionPipeline must be an int in "
        r"\[2, 20\]\. Got 1 instead\.",
    ):
        DetectionPipeline(cv_folds=1).fit(flows(0))
    with pytest.raises(
        ParameterError, match="'threshold' parameter of DetectionPipeline must be a ThresholdPolicy"
    ):
        DetectionPipeline(threshold=0.5).fit(flows(0))  # type: ignore[arg-type]


def test_custom_threshold_policy_and_featurizer_are_used():
    from seclearn.features import FlowFeaturizer

    pipeline = DetectionPipeline(
        detector=lgbm(),
        featurizer=FlowFeaturizer(encoding="onehot"),
        threshold=ThresholdPolicy(kind="fixed", probability=0.5),
    ).fit(flows(0))
    assert pipeline.threshold_ == 0.5 and "service=http" in pipeline.feature_names_


def test_methods_before_fit_say_how_to_fix():
    with pytest.raises(NotFittedError, match="Call fit"):
        DetectionPipeline().score(flows(0))
    with pytest.raises(NotFittedError):
        DetectionPipeline().metadata()
