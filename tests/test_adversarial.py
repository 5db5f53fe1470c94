"""Threat model, evasion attacks, metrics and hardening on synthetic flows.

The property tests check every adversarial example of both attacks against the threat
model; the evasion tests fail if an attack finds nothing on a model that is evadable by
construction (malicious flows are small and fast, so padding and delays hide them).
"""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seclearn.adversarial import (
    BlackBoxAttack,
    ThreatModel,
    TreeAttack,
    attack_metrics,
    flip_labels,
    plant_backdoor,
    poison_feedback,
    poisoning_effect,
    robustness_figure,
    run_attack,
    split_thresholds,
)
from seclearn.adversarial.hardening import (
    MonotoneLightGBMDetector,
    adversarial_training,
    feature_directions,
    monotone_pipeline,
)
from seclearn.errors import ConfigError, ModelError
from seclearn.models import make_detector
from seclearn.pipeline import DetectionPipeline

LGBM = {"n_estimators": 60, "learning_rate": 0.1, "n_jobs": 1}


def flows(seed: int, n: int = 1500) -> pd.DataFrame:
    """Malicious flows send fewer bytes and last shorter than benign ones (overlapping).

    The responder's bytes and the connection state also differ: a robust model has
    something the attacker does not control to go on.
    """
    rng = np.random.default_rng(seed)
    mal = rng.random(n) < 0.3
    src_pkts = rng.integers(1, 30, n).astype(float)
    src_bytes = np.where(mal, rng.integers(40, 600, n), rng.integers(300, 6000, n)).astype(float)
    duration = np.where(mal, rng.exponential(0.2, n), rng.exponential(3.0, n))
    return pd.DataFrame(
        {
            "duration_s": duration,
            "proto": rng.choice(["tcp", "udp"], n),
            "conn_state": np.where(
                mal,
                rng.choice(["SF", "S0", "REJ"], n, p=[0.4, 0.4, 0.2]),
                rng.choice(["SF", "S0"], n, p=[0.9, 0.1]),
            ),
            "src_bytes": src_bytes,
            "dst_bytes": np.round(rng.lognormal(np.where(mal, 4.5, 6.5), 1.0, n)),  # not controlled
            "src_pkts": src_pkts,
            "dst_pkts": rng.integers(0, 30, n).astype(float),
            "smean": np.round(src_bytes / src_pkts),  # a relation column, as in UNSW-NB15
            "label": mal.astype(int),
            "attack_type": np.where(mal, "exfil", "benign"),
        }
    )


@cache
def lightgbm_pipeline() -> DetectionPipeline:
    return DetectionPipeline(detector=make_detector("lightgbm", **LGBM)).fit(flows(0))


@cache
def logistic_pipeline() -> DetectionPipeline:
    return DetectionPipeline(detector="logistic_regression").fit(flows(0))


@cache
def attacked_frame() -> pd.DataFrame:
    frame = flows(1, 600)
    return frame[frame["label"] == 1].reset_index(drop=True)


# ------------------------------------------------------------------ threat model
def test_default_threat_model_gives_grow_only_control_of_originator_bytes_packets_duration():
    threat = ThreatModel.default_for(lightgbm_pipeline())
    assert threat.controlled == ["duration_s", "src_bytes", "src_pkts"]
    for name in threat.controlled:
        assert threat.columns[name].direction == "increase"
        assert threat.columns[name].lower == 0.0 and threat.columns[name].upper is not None
    assert threat.columns["src_bytes"].integer and not threat.columns["duration_s"].integer
    assert not threat.columns["dst_bytes"].controlled and not threat.columns["proto"].controlled
    assert threat.columns["proto"].categorical and set(threat.columns["proto"].domain) == {
        "tcp",
        "udp",
    }
    assert [r.target for r in threat.relations] == ["smean"]


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_threat_model_file_overrides_columns(tmp_path, suffix):
    path = tmp_path / f"threat{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps({"columns": {"dst_bytes": {"controlled": True, "scale": 10.0}}}))
    else:
        path.write_text("[columns.dst_bytes]\ncontrolled = true\nscale = 10.0\n")
    threat = ThreatModel.from_file(path, lightgbm_pipeline())
    assert "dst_bytes" in threat.controlled and threat.columns["dst_bytes"].scale == 10.0
    assert threat.columns["dst_bytes"].direction == "any"


def test_threat_model_override_with_unknown_field_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown fields"):
        ThreatModel.default_for(lightgbm_pipeline()).with_overrides(
            {"columns": {"src_bytes": {"grows": True}}}
        )


def _tamper(frame: pd.DataFrame, column: str, values) -> pd.DataFrame:
    out = frame.copy()
    out[column] = values
    return out


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: _tamper(f, "src_bytes", f["src_bytes"] - 1), "decreased"),
        (lambda f: _tamper(f, "dst_bytes", f["dst_bytes"] + 1), "uncontrolled column changed"),
        (lambda f: _tamper(f, "proto", "icmp"), "uncontrolled column changed"),
        (lambda f: _tamper(f, "src_pkts", f["src_pkts"] + 0.5), "not an integer"),
        (lambda f: _tamper(f, "src_bytes", f["src_bytes"] + 1e12), "above upper bound"),
        (lambda f: _tamper(f, "src_bytes", f["src_bytes"] * 1.5), "relation"),
        (lambda f: _tamper(f, "smean", f["smean"] + 7), "relation"),
    ],
)
def test_check_reports_each_kind_of_violation(edit, message):
    threat = ThreatModel.default_for(lightgbm_pipeline())
    frame = attacked_frame()
    assert threat.check(frame, frame) == []
    problems = threat.check(frame, edit(frame))
    assert any(message in p for p in problems), problems


def test_check_reports_cost_above_the_budget():
    threat = ThreatModel.default_for(lightgbm_pipeline())
    frame = attacked_frame()
    moved = threat.apply(frame, {"duration_s": frame["duration_s"].to_numpy() * 3 + 1})
    assert threat.check(frame, moved) == []
    assert any("budget" in p for p in threat.check(frame, moved, budget=0.5))


# ---------------------------------------------------------------------- attacks
@pytest.mark.parametrize(
    ("attack", "pipeline"),
    [
        ("trees", lightgbm_pipeline),
        ("blackbox", lightgbm_pipeline),
        ("blackbox", logistic_pipeline),
    ],
)
def test_attack_evades_an_evadable_model_and_respects_the_threat_model(attack, pipeline):
    pipe = pipeline()
    threat = ThreatModel.default_for(pipe)
    result = run_attack(pipe, attacked_frame(), attack=attack, budget=2.0, threat=threat)
    metrics = attack_metrics(result)
    print(f"\n{attack} on {type(pipe.detector_).__name__}: {metrics}")
    assert metrics["n_attacks"] >= 50
    assert metrics["evasion_rate"] >= 0.3, metrics  # the model is evadable by construction
    assert 0 < metrics["median_cost"] <= 2.0
    assert metrics["robust_detection_rate"] < metrics["clean_detection_rate"]
    assert threat.check(result.original, result.adversarial, budget=2.0) == []
    # what the attack reports is what the pipeline says about the adversarial records
    rescored = pipe.risk_score(result.adversarial)
    np.testing.assert_allclose(rescored, result.score_after)
    assert np.array_equal(rescored > pipe.threshold_, result.detected_after)


def test_larger_budget_never_evades_less():
    pipe = lightgbm_pipeline()
    rates = [
        attack_metrics(run_attack(pipe, attacked_frame(), attack="both", budget=b))["evasion_rate"]
        for b in (0.0, 0.5, 3.0)
    ]
    assert rates[0] == 0.0 and rates[0] <= rates[1] <= rates[2] and rates[2] > 0.3, rates


def test_split_thresholds_reads_every_feature_the_trees_use():
    pipe = lightgbm_pipeline()
    thresholds = split_thresholds(pipe.detector_.booster_)
    src_bytes = pipe.feature_names_.index("src_bytes")
    assert src_bytes in thresholds and np.all(np.diff(thresholds[src_bytes]) > 0)


def test_tree_attack_refuses_a_model_without_trees():
    threat = ThreatModel.default_for(logistic_pipeline())
    with pytest.raises(ModelError, match="LightGBM"):
        TreeAttack(threat).run(logistic_pipeline(), attacked_frame())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    budget=st.floats(0.0, 5.0),
    seed=st.integers(0, 10_000),
    override=st.sampled_from(["none", "dst_bytes_any", "duration_shrink", "tight_upper"]),
    attack=st.sampled_from(["trees", "blackbox", "blackbox_logistic"]),
)
def test_every_adversarial_example_satisfies_the_threat_model(budget, seed, override, attack):
    pipe = logistic_pipeline() if attack == "blackbox_logistic" else lightgbm_pipeline()
    threat = ThreatModel.default_for(pipe)
    overrides = {
        "none": {},
        "dst_bytes_any": {"dst_bytes": {"controlled": True}},  # two-sided, integer
        "duration_shrink": {"duration_s": {"direction": "decrease"}},  # shrink-only float
        "tight_upper": {"src_bytes": {"upper": 700.0}},  # a bound below many originals
    }[override]
    threat = threat.with_overrides({"columns": overrides})
    frame = flows(seed, 200)
    cls = TreeAttack if attack == "trees" else BlackBoxAttack
    kwargs = {"n_steps": 3} if attack == "trees" else {"n_generations": 3}
    result = cls(threat, budget=budget, random_state=seed, **kwargs).run(pipe, frame)
    assert threat.check(result.original, result.adversarial, budget=budget) == []
    assert np.all(result.cost <= budget + 1e-9)


def test_robustness_figure_is_deterministic_and_complete():
    pipe = lightgbm_pipeline()
    frame = flows(2, 800)
    first = robustness_figure(pipe, frame, budget=1.0, random_state=0)
    again = robustness_figure(pipe, frame, budget=1.0, random_state=0)
    assert first == again
    for key in (
        "attack",
        "budget",
        "n_attacks",
        "evasion_rate",
        "robust_detection_rate",
        "clean_detection_rate",
        "median_cost",
    ):
        assert key in first
    assert (
        first["attack"] == "trees+blackbox"
        and first["violations"] == 0
        and first["evasion_rate"] > 0
    )


# -------------------------------------------------------------------- hardening
def test_feature_directions_follow_the_grow_only_threat_model():
    pipe = lightgbm_pipeline()
    directions = feature_directions(pipe.featurizer_, ThreatModel.default_for(pipe))
    assert directions["src_bytes"] == 1 and directions["duration_s"] == 1
    assert directions["src_byte_share"] == 1  # grows with src_bytes, dst_bytes fixed
    assert directions["dst_bytes"] == 0 and directions["proto"] == 0
    assert directions["smean"] is None and directions["bytes_per_s"] is None  # two-way


def test_monotone_hardening_removes_grow_only_evasion():
    plain = lightgbm_pipeline()
    hard = monotone_pipeline(flows(0), **LGBM)
    assert isinstance(hard.detector_, MonotoneLightGBMDetector)
    figures = {}
    for name, pipe in (("plain", plain), ("monotone", hard)):
        figures[name] = attack_metrics(
            run_attack(pipe, attacked_frame(), attack="both", budget=2.0)
        )
    print("\n", figures)
    assert figures["plain"]["evasion_rate"] >= 0.3
    assert figures["monotone"]["clean_detection_rate"] >= 0.3  # still a detector (measured 0.40)
    assert figures["monotone"]["evasion_rate"] <= 0.5 * figures["plain"]["evasion_rate"]
    assert figures["monotone"]["evasion_rate"] == 0.0  # provable: no allowed move lowers the score


def test_adversarial_training_lowers_evasion():
    def make() -> DetectionPipeline:
        return DetectionPipeline(detector=make_detector("lightgbm", **LGBM))

    hard, n_added = adversarial_training(flows(0), make, budget=2.0, rounds=2)
    assert n_added > 0
    plain = attack_metrics(
        run_attack(lightgbm_pipeline(), attacked_frame(), attack="both", budget=2.0)
    )
    after = attack_metrics(run_attack(hard, attacked_frame(), attack="both", budget=2.0))
    print("\nadversarial training:", plain["evasion_rate"], "->", after["evasion_rate"])
    assert after["evasion_rate"] < plain["evasion_rate"]


# -------------------------------------------------------------------- poisoning
def _make() -> DetectionPipeline:
    return DetectionPipeline(detector=make_detector("lightgbm", **LGBM))


def test_random_and_targeted_label_flips_change_only_what_they_say():
    train = flows(0)
    flipped = flip_labels(train, rate=0.1, random_state=0)
    assert (flipped["label"] != train["label"]).mean() == pytest.approx(0.1, abs=0.002)
    targeted = flip_labels(train, rate=0.5, mode="targeted", attack_type="exfil")
    changed = targeted["label"] != train["label"]
    assert (train.loc[changed, "label"] == 1).all()
    assert changed.sum() == round(0.5 * (train["label"] == 1).sum())
    assert train["label"].sum() == (flows(0)["label"]).sum()  # input not modified


def test_targeted_flips_and_feedback_poisoning_lower_detection_at_the_operating_point():
    train, test = flows(0), flows(1, 800)
    targeted = poisoning_effect(
        _make, train, flip_labels(train, rate=0.7, mode="targeted", attack_type="exfil"), test
    )
    alerts = flows(5, 1500)
    alerts = alerts[alerts["label"] == 1]
    feedback = poisoning_effect(_make, train, poison_feedback(train, alerts), test)
    print("\ntargeted flips:", targeted, "\nfeedback loop:", feedback)
    assert targeted["detection_change"] < -0.05
    assert feedback["detection_change"] < -0.05


def test_backdoor_trigger_hides_triggered_attacks_but_not_clean_ones():
    train, test = flows(0), flows(1, 800)
    trigger = {"src_pkts": 97.0}  # an attacker-controlled, rarely seen packet count
    poisoned = plant_backdoor(train, trigger, rate=0.3)
    malicious = test[test["label"] == 1]
    effect = poisoning_effect(
        _make, train, poisoned, test, target=plant_backdoor_target(malicious, trigger)
    )
    print("\nbackdoor:", effect)
    assert effect["target_detection_change"] < -0.3  # triggered attacks now evade
    assert abs(effect["detection_change"]) < 0.05  # clean detection barely moves


def plant_backdoor_target(malicious: pd.DataFrame, trigger: dict[str, float]) -> pd.DataFrame:
    from seclearn.adversarial.poisoning import with_trigger

    return with_trigger(malicious, trigger)


def test_feature_space_violations_flag_moves_no_flow_record_could_make():
    from seclearn.adversarial import feature_space_violations

    pipe = lightgbm_pipeline()
    threat = ThreatModel.default_for(pipe)
    X = pipe.transform_features(attacked_frame())
    assert not feature_space_violations(pipe.featurizer_, threat, X, X).any()
    names = pipe.feature_names_
    grown, fixed, shrunk = X.copy(), X.copy(), X.copy()
    grown[:, names.index("src_bytes")] += 1  # the attacker may pad
    fixed[:, names.index("dst_bytes")] += 1  # the responder's bytes are not theirs
    shrunk[:, names.index("duration_s")] *= 0.5  # grow-only
    assert not feature_space_violations(pipe.featurizer_, threat, X, grown).any()
    assert feature_space_violations(pipe.featurizer_, threat, X, fixed).all()
    moved = X[:, names.index("duration_s")] > 0
    assert np.array_equal(feature_space_violations(pipe.featurizer_, threat, X, shrunk) > 0, moved)
    # what the threat-model attacks produce passes the feature-space check too
    result = run_attack(pipe, attacked_frame(), attack="both", budget=1.0)
    X_adv = pipe.transform_features(result.adversarial)
    assert not feature_space_violations(pipe.featurizer_, threat, X, X_adv).any()
