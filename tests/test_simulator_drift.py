"""The simulator's drift scenario: unchanged output without it, the drifted traffic, its effect on a model."""

from __future__ import annotations

import doctest
import hashlib

import numpy as np
import pandas as pd
import pytest

from seclearn.datasets import (
    ATTACK_TYPES,
    DEFAULT_START,
    DRIFT_ATTACK_TYPES,
    DriftScenario,
    _sim_drift,
    simulate_enterprise,
    simulator,
)
from seclearn.datasets._sim_drift import BACKUP_PORT, BACKUP_SERVER
from seclearn.errors import ConfigError
from seclearn.models import make_detector
from seclearn.pipeline import DetectionPipeline
from seclearn.schema import FLOW_SCHEMA, validate_frame

DAYS, HOSTS, SEED, START_DAY = 4, 20, 3, 2
LEAN = {"days": DAYS, "hosts": HOSTS, "seed": SEED}

#: sha256 of frames made by the simulator before drift existed (see _frame_hash).
HASHES_BEFORE_DRIFT = [
    (
        {"days": 2, "hosts": 12, "seed": 7},
        "017b061294468af6657689830d182f133a4137a0fadb2e3d9078875b6b273a6b",
    ),
    (LEAN, "b1495f14e0c3fb6bb366c48fc09735ef768a0ae06dbbeb23369b9b2945554726"),
    (
        {"days": 3, "hosts": 15, "seed": 11, "attacks": ("dos", "c2_beacon")},
        "b5983c0d9f6611921f8fccc3bd805b7e7960e9c999835f75b6cef5f5e50e69ee",
    ),
]


def _frame_hash(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    digest.update(repr(list(zip(frame.columns, map(str, frame.dtypes), strict=True))).encode())
    return digest.hexdigest()


def _day(frame: pd.DataFrame) -> np.ndarray:
    return ((frame["ts"].to_numpy() - DEFAULT_START.timestamp()) // 86400).astype(int)


@pytest.fixture(scope="module")
def plain() -> pd.DataFrame:
    return simulate_enterprise(**LEAN)


@pytest.fixture(scope="module")
def drifted() -> pd.DataFrame:
    return simulate_enterprise(**LEAN, drift=DriftScenario(start_day=START_DAY))


@pytest.mark.parametrize(("kwargs", "expected"), HASHES_BEFORE_DRIFT[:1] + HASHES_BEFORE_DRIFT[2:])
def test_without_drift_the_output_is_byte_identical_to_before(kwargs, expected):
    assert _frame_hash(simulate_enterprise(**kwargs, drift=None)) == expected


def test_lean_frame_without_drift_is_byte_identical_to_before(plain):
    assert _frame_hash(plain) == HASHES_BEFORE_DRIFT[1][1]


def test_a_scenario_with_every_part_off_changes_nothing(plain):
    quiet = DriftScenario(start_day=1, new_services=False, new_attack=None, gradual_rate=0.0)
    assert _frame_hash(simulate_enterprise(**LEAN, drift=quiet)) == _frame_hash(plain)


def test_days_before_start_day_are_those_of_the_simulation_without_drift(plain, drifted):
    before = drifted[_day(drifted) < START_DAY].reset_index(drop=True)
    pd.testing.assert_frame_equal(before, plain[_day(plain) < START_DAY].reset_index(drop=True))
    assert len(drifted[_day(drifted) >= START_DAY]) > len(plain[_day(plain) >= START_DAY])


def test_drifted_frame_is_deterministic_schema_valid_sorted_with_unique_uids(drifted):
    again = simulate_enterprise(**LEAN, drift=DriftScenario(start_day=START_DAY))
    pd.testing.assert_frame_equal(drifted, again)
    validate_frame(drifted, FLOW_SCHEMA, coerce=False)
    assert drifted["ts"].is_monotonic_increasing and drifted["uid"].is_unique
    assert drifted["ts"].max() < DEFAULT_START.timestamp() + DAYS * 86400


def test_new_attack_family_appears_from_start_day_in_hundreds_of_flows_a_day(drifted):
    assert set(DRIFT_ATTACK_TYPES).isdisjoint(ATTACK_TYPES)
    assert ATTACK_TYPES == ("port_scan", "ssh_bruteforce", "dos", "c2_beacon", "exfiltration")
    tunnel = drifted[drifted["attack_type"] == "dns_tunnel"]
    assert (tunnel["label"] == 1).all()
    days = _day(tunnel)
    assert days.min() == START_DAY
    assert (np.bincount(days, minlength=DAYS)[START_DAY:] >= 300).all()
    assert set(tunnel["proto"]) == {"udp"} and set(tunnel["dst_port"]) == {53}
    assert tunnel["src_ip"].str.startswith("10.0.1.").any()  # the compromised workstations
    assert tunnel["src_ip"].nunique() >= 3  # several hosts (and the DC forwarding for some)
    benign_dns = drifted[(drifted["service"] == "dns") & (drifted["label"] == 0)]
    assert tunnel["src_bytes"].median() > 3 * benign_dns["src_bytes"].median()


def test_new_benign_services_appear_from_start_day_with_label_0(plain, drifted):
    backup = drifted[(drifted["dst_ip"] == BACKUP_SERVER) & (drifted["dst_port"] == BACKUP_PORT)]
    assert len(backup) > 0 and (backup["label"] == 0).all()
    assert _day(backup).min() == START_DAY
    assert BACKUP_PORT not in set(plain["dst_port"])
    uploads = _benign_workstation_uploads(drifted)  # tens of megabytes to the internet
    assert len(uploads) >= 10 and _day(uploads).min() == START_DAY
    assert len(_benign_workstation_uploads(plain)) == 0


def _benign_workstation_uploads(frame: pd.DataFrame) -> pd.DataFrame:
    workstation = frame["src_ip"].str.startswith("10.0.1.")
    external = ~frame["local_resp"].astype(bool)
    return frame[workstation & external & (frame["src_bytes"] > 1e7) & (frame["label"] == 0)]


def test_c2_beacon_evolves_towards_https_browsing_day_by_day():
    scenario = DriftScenario(start_day=1, new_services=False, new_attack=None, gradual_rate=0.5)
    frame = simulate_enterprise(days=3, hosts=10, seed=5, attacks=("c2_beacon",), drift=scenario)
    plain = simulate_enterprise(days=3, hosts=10, seed=5, attacks=("c2_beacon",))
    old = plain[plain["attack_type"] == "c2_beacon"]
    c2 = frame[frame["attack_type"] == "c2_beacon"]
    evolved = c2[~c2["ts"].isin(set(old["ts"]))]
    assert set(_day(evolved)) == {1, 2}
    spread = [float(np.log(evolved.loc[_day(evolved) == d, "src_bytes"]).std()) for d in (1, 2)]
    assert float(np.log(old["src_bytes"]).std()) < spread[0] < spread[1]


@pytest.mark.parametrize(
    ("drift", "word"),
    [
        ("dns_tunnel", "DriftScenario"),
        (DriftScenario(start_day=-1), "start_day"),
        (DriftScenario(start_day=DAYS), "start_day"),
        (DriftScenario(start_day=1.0), "start_day"),  # type: ignore[arg-type]
        (DriftScenario(start_day=1, new_services="yes"), "new_services"),  # type: ignore[arg-type]
        (DriftScenario(start_day=1, new_attack="port_scan"), "new_attack"),
        (DriftScenario(start_day=1, gradual_rate=1.5), "gradual_rate"),
        (DriftScenario(start_day=1, gradual_rate=True), "gradual_rate"),
    ],
)
def test_invalid_scenarios_are_refused_with_the_parameter_named(drift, word):
    with pytest.raises(ConfigError, match=word):
        simulate_enterprise(days=DAYS, hosts=4, drift=drift)


@pytest.mark.parametrize("module", [_sim_drift, simulator])
def test_docstring_examples_hold(module):
    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted > 0


def _lightgbm() -> DetectionPipeline:
    # one thread: the test machine is shared; the model is the default LightGBM otherwise
    return DetectionPipeline(detector=make_detector("lightgbm", n_jobs=1))


def _rates(pipe: DetectionPipeline, frame: pd.DataFrame) -> dict[str, float]:
    decision = pipe.score(frame)["decision"].to_numpy()
    kind = frame["attack_type"].to_numpy()
    return {name: float(decision[kind == name].mean()) for name in np.unique(kind)}


def test_drift_hurts_a_model_trained_before_it_and_retraining_recovers(plain, drifted):
    """Champion on days 0-1; drifted days 2-3; challenger adds the labelled day 2."""
    day = _day(drifted)
    champion = _lightgbm().fit(drifted[day < START_DAY])
    on_drift = {d: _rates(champion, drifted[day == d]) for d in (2, 3)}
    plain_later = plain[_day(plain) >= START_DAY]
    fpr_without_drift = _rates(champion, plain_later)["benign"]
    fpr_with_drift = _rates(champion, drifted[day >= START_DAY])["benign"]
    challenger = _lightgbm().fit(drifted[day <= START_DAY])
    after = _rates(challenger, drifted[day == 3])
    print(
        f"\nchampion (days 0-1), threshold {champion.threshold_:.4f}:"
        f" dns_tunnel detection day 2 {on_drift[2]['dns_tunnel']:.3f},"
        f" day 3 {on_drift[3]['dns_tunnel']:.3f};"
        f" benign FPR on days 2-3 without drift {fpr_without_drift:.4f}, with drift {fpr_with_drift:.4f}"
        f"\nchallenger (days 0-2 labelled): dns_tunnel detection day 3 {after['dns_tunnel']:.3f},"
        f" benign FPR day 3 {after['benign']:.4f} (champion {on_drift[3]['benign']:.4f})"
    )
    assert on_drift[2]["dns_tunnel"] < 0.5 and on_drift[3]["dns_tunnel"] < 0.5
    assert fpr_with_drift > 1.5 * fpr_without_drift
    assert after["dns_tunnel"] > 0.9
    assert after["benign"] < on_drift[3]["benign"]
