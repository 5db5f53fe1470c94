"""The closed loop on a drifting simulated network: monitor, feedback, retrain, gate, promote.

One champion is trained on two pre-drift days. The network then drifts (new benign
services, a new attack family, an evolving beacon). The tests show that the loop
detects the drift, learns from honest analyst labels and recovers detection of the
new family, that a poisoning attempt of the same size is refused by the gates, that
a repeated run does nothing, and that rollback restores the earlier champion.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seclearn.config import load_settings
from seclearn.datasets import create_dataset, load_dataset, simulate_enterprise, write_zeek_conn
from seclearn.errors import ConfigError, EvaluationError, RegistryError
from seclearn.lifecycle.demo import DEMO_START
from seclearn.lifecycle.demo_loop import (
    N_LABELS,
    NEW_FAMILY,
    POISONED_FAMILY,
    build_drift_workspace,
)
from seclearn.lifecycle.retrain import retrain_model, rollback_model
from seclearn.lifecycle.run import run_lifecycle
from seclearn.registry import champion, load_model, models_dir
from seclearn.store import StateStore, state_path
from test_registry_stages import _tree


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A workspace with the champion, the trusted holdout and the drifted recent days."""
    ws = tmp_path_factory.mktemp("loop") / "ws"
    ws.mkdir()
    build_drift_workspace(load_settings(workspace=ws))
    return ws


def _copy(base: Path, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(base, ws)
    return ws


def _honest(ws: Path, n: int) -> pd.DataFrame:
    """Three analysts label ``n`` recent events with their true labels, verdict-style."""
    recent = load_dataset(ws, "recent")
    rng = np.random.default_rng(0)
    tunnel = recent.index[recent["attack_type"] == NEW_FAMILY]
    rest = recent.index.difference(tunnel)
    n_tunnel = min(len(tunnel), n // 3)
    picked = np.concatenate(
        [rng.choice(tunnel, n_tunnel, replace=False), rng.choice(rest, n - n_tunnel, replace=False)]
    )
    rows = recent.loc[np.sort(picked)]
    with StateStore(state_path(ws)) as store:
        for i, (uid, label) in enumerate(zip(rows["uid"], rows["label"], strict=True)):
            store.record_label(
                str(uid), int(label), who=f"analyst{i % 3}", source="verdict", reason="triage"
            )
    return rows


def _poison(ws: Path, n: int, accounts: int) -> None:
    """Label ``n`` events of one attack family in the curated data benign, from ``accounts``."""
    curated = load_dataset(ws, "curated")
    family = curated[curated["attack_type"] == POISONED_FAMILY]
    assert len(family) >= n, len(family)
    with StateStore(state_path(ws)) as store:
        for i, uid in enumerate(family["uid"].iloc[:n]):
            store.record_label(
                str(uid), 0, who=f"mallory{i % accounts}", source="verdict", reason="noise"
            )


def test_the_loop_detects_drift_learns_from_honest_labels_and_recovers(base, tmp_path):
    ws = _copy(base, tmp_path)
    settings = load_settings(workspace=ws)
    _honest(ws, N_LABELS)
    run = run_lifecycle(settings, "flows", recent="recent", holdout="trusted", window="1d")
    print("\n" + "\n".join(run.summary()))
    assert run.monitor["status"] == "drift", run.monitor
    assert run.status == "promoted", [g for g in run.retrain.gates if not g.passed]
    assert champion("flows", root=ws, key=settings.key()) == run.champion_after == 2

    # recovery, measured on recent events nobody labelled, of the new family
    recent = load_dataset(ws, "recent")
    with StateStore(state_path(ws)) as store:
        labelled = {lab.event_ref for lab in store.labels()}
    unseen = recent[~recent["uid"].astype(str).isin(labelled)]
    tunnel = unseen[unseen["attack_type"] == NEW_FAMILY]
    benign = unseen[unseen["label"] == 0]
    rates = {}
    for version in (1, 2):
        pipe, _ = load_model(f"flows@{version}", root=ws, key=settings.key())
        rates[version] = (
            float(pipe.score(tunnel)["decision"].mean()),
            float(pipe.score(benign)["decision"].mean()),
        )
    print(f"{NEW_FAMILY} detection / benign FPR on unlabelled drifted events: {rates}")
    assert rates[2][0] >= rates[1][0] + 0.3, rates
    assert rates[2][0] >= 0.8, rates
    assert rates[2][1] <= max(rates[1][1], 0.02), rates

    # the holdout is frozen: another one is refused unless re-pinned deliberately
    other = simulate_enterprise(days=1, hosts=4, seed=12, start=DEMO_START)
    path = ws / "raw" / "other.conn.log"
    write_zeek_conn(other, path)
    create_dataset(ws, "other", [path])
    with pytest.raises(RegistryError, match="pinned"):
        retrain_model(settings, "flows", holdout="other", recent="recent")

    # a second run with the same inputs does nothing
    again = run_lifecycle(settings, "flows", recent="recent", holdout="trusted", window="1d")
    assert again.status == "nothing_to_do" and again.exit_code == 0

    # rollback restores the first champion byte for byte, and is audited
    before = _tree(models_dir(ws) / "flows" / "1")
    rollback_model(settings, "flows", actor="oncall", reason="test")
    assert champion("flows", root=ws, key=settings.key()) == 1
    assert _tree(models_dir(ws) / "flows" / "1") == before
    with StateStore(state_path(ws)) as store:
        actions = [e.action for e in store.audit_entries(limit=10_000)]
        store.verify_audit()
    assert {"model.retrain", "model.promote", "model.rollback"} <= set(actions)


@pytest.mark.parametrize("accounts", [1, 3])
def test_a_poisoning_attempt_of_the_same_size_is_refused(base, tmp_path, accounts):
    ws = _copy(base, tmp_path)
    settings = load_settings(workspace=ws)
    # the same number of labels as the honest update: a third honest, two thirds poisoned
    _honest(ws, N_LABELS // 3)
    _poison(ws, N_LABELS - N_LABELS // 3, accounts)
    run = run_lifecycle(settings, "flows", recent="recent", holdout="trusted", window="1d")
    print("\n" + "\n".join(run.summary()))
    failed = {g.name for g in run.retrain.gates if not g.passed}
    assert run.status == "refused" and run.exit_code == 1
    assert "poisoning_family_recall" in failed, failed
    assert ("poisoning_actor_share" in failed) == (accounts == 1), failed
    assert champion("flows", root=ws, key=settings.key()) == 1
    _, manifest = load_model("flows", root=ws, key=settings.key())
    assert manifest["version"] == 1


def test_a_holdout_sharing_events_with_the_retraining_data_is_refused(base, tmp_path):
    ws = _copy(base, tmp_path)
    settings = load_settings(workspace=ws)
    rows = _honest(ws, 300)
    path = ws / "raw" / "leaky.conn.log"
    write_zeek_conn(rows, path)
    create_dataset(ws, "leaky", [path])
    with pytest.raises(EvaluationError, match=r"shares \d+ events"):
        retrain_model(settings, "flows", holdout="leaky", recent="recent")
    with pytest.raises(EvaluationError, match=r"shares \d+ events"):
        retrain_model(settings, "flows", holdout="curated")
    benign = rows[rows["label"] == 0]
    path = ws / "raw" / "benign.conn.log"
    write_zeek_conn(benign, path)
    create_dataset(ws, "benign-only", [path])
    with pytest.raises(ConfigError, match="benign and malicious"):
        retrain_model(settings, "flows", holdout="benign-only")
    assert sorted(p.name for p in (models_dir(ws) / "flows").iterdir() if p.is_dir()) == ["1"]


def test_a_dry_run_changes_nothing(base, tmp_path):
    ws = _copy(base, tmp_path)
    settings = load_settings(workspace=ws)
    _honest(ws, N_LABELS)
    with StateStore(state_path(ws)) as store:
        audit_before = len(store.audit_entries(limit=10_000))
    run = run_lifecycle(
        settings, "flows", recent="recent", holdout="trusted", window="1d", dry_run=True
    )
    assert run.status == "dry_run" and run.retrain is not None and run.retrain.challenger is None
    assert sorted(p.name for p in (models_dir(ws) / "flows").iterdir() if p.is_dir()) == ["1"]
    assert not (ws / "lifecycle" / "flows.json").exists()
    with StateStore(state_path(ws)) as store:
        assert len(store.audit_entries(limit=10_000)) == audit_before


def _cli(ws: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "seclearn.cli", *args, "-w", str(ws)],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_commands_exit_with_codes_cron_can_act_on(base, tmp_path):
    ws = _copy(base, tmp_path)
    _honest(ws, N_LABELS // 3)
    _poison(ws, N_LABELS - N_LABELS // 3, 1)
    args = ("lifecycle", "run", "flows", "--recent", "recent", "--holdout", "trusted")
    refused = _cli(ws, *args, "--window", "1d")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "FAIL] poisoning_actor_share" in refused.stdout
    assert "challenger refused" in refused.stdout
    again = _cli(ws, *args, "--window", "1d")
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout
    assert "'refused'" in again.stdout

    denied = _cli(ws, "promote", "flows", "2")
    assert denied.returncode == 2 and "gates failed" in denied.stderr, denied.stderr
    no_reason = _cli(ws, "promote", "flows", "2", "--force")
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr
    forced = _cli(ws, "promote", "flows", "2", "--force", "--reason", "drill", "--actor", "eve")
    assert forced.returncode == 0 and "(forced)" in forced.stdout, forced.stdout + forced.stderr
    assert _cli(ws, "rollback", "flows", "--reason", "drill over").returncode == 0
    assert champion("flows", root=ws, key=load_settings(workspace=ws).key()) == 1
    listing = _cli(ws, "models", "list")
    assert listing.returncode == 0 and "champion" in listing.stdout, listing.stdout
    audit = _cli(ws, "audit", "verify")
    assert audit.returncode == 0, audit.stderr
    with StateStore(state_path(ws)) as store:
        forced_entries = [
            e for e in store.audit_entries(limit=10_000) if e.action == "model.promote"
        ]
    assert any(e.actor == "eve" and e.detail.get("forced") for e in forced_entries)
