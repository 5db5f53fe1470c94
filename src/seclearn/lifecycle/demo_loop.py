"""The demo's second act: the network drifts and the lifecycle loop closes.

A smaller simulated network is watched by a LightGBM champion trained on two quiet
days. Two drifted days follow: a cloud sync and a backup service appear, malware
starts a DNS tunnel (a family never seen in training), and a beacon evolves. One
``lifecycle run`` monitors them, finds the drift, learns from the labels analysts
gave (verdicts plus a hunt that found the tunnel), gates the challenger on a frozen
trusted holdout and promotes it. A second attempt, in which one analyst account
relabels a known attack family as benign, is refused by the poisoning gates.

Everything lives in its own folder, ``<workspace>/demo-loop``, made afresh each time.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from seclearn.config import Settings
from seclearn.datasets import (
    DriftScenario,
    create_dataset,
    load_dataset,
    simulate_enterprise,
    write_zeek_conn,
)
from seclearn.lifecycle.demo import DEMO_START
from seclearn.lifecycle.run import LifecycleRun, run_lifecycle
from seclearn.lifecycle.train import train_model
from seclearn.registry import load_model
from seclearn.store import StateStore, state_path

HOSTS = 12
PRE_DAYS = 2
DRIFT_DAYS = 2
N_LABELS = 900
NEW_FAMILY = "dns_tunnel"
POISONED_FAMILY = "ssh_bruteforce"


@dataclass
class LoopDemoResult:
    workspace: Path
    run: LifecycleRun
    refused: LifecycleRun
    #: (detection of the new family, FPR on benign) on drifted events nobody labelled
    before: tuple[float, float]
    after: tuple[float, float]


def _dataset(root: Path, name: str, frame: pd.DataFrame) -> None:
    path = root / "raw" / f"{name}.conn.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_zeek_conn(frame, path)
    create_dataset(root, name, [path])


def _label(store: StateStore, rows: pd.DataFrame, labels: np.ndarray, who: list[str]) -> None:
    for i, (uid, label) in enumerate(zip(rows["uid"], labels, strict=True)):
        store.record_label(
            str(uid), int(label), who=who[i % len(who)], source="verdict", reason="demo triage"
        )


def _rates(settings: Settings, version: int, rows: pd.DataFrame) -> tuple[float, float]:
    pipe, _ = load_model(f"flows@{version}", root=settings.workspace, key=settings.key())
    decision = pipe.score(rows)["decision"].to_numpy()
    new = (rows["attack_type"] == NEW_FAMILY).to_numpy()
    benign = (rows["label"] == 0).to_numpy()
    return float(decision[new].mean()), float(decision[benign].mean())


def build_drift_workspace(settings: Settings, *, seed: int = 0) -> pd.DataFrame:
    """Datasets ``curated`` (quiet days), ``recent`` (drifted days) and ``trusted`` (a
    holdout collected apart), and model ``flows`` trained on ``curated``; returns ``recent``."""
    root = settings.workspace
    world = simulate_enterprise(
        days=PRE_DAYS + DRIFT_DAYS,
        hosts=HOSTS,
        seed=seed,
        start=DEMO_START,
        drift=DriftScenario(start_day=PRE_DAYS),
    )
    cut = (DEMO_START + timedelta(days=PRE_DAYS)).timestamp()
    _dataset(root, "curated", world[world["ts"] < cut])
    recent = world[world["ts"] >= cut]
    _dataset(root, "recent", recent)
    holdout = simulate_enterprise(days=1, hosts=HOSTS, seed=seed + 11, start=DEMO_START)
    _dataset(root, "trusted", holdout)
    train_model(root, "curated", "flows", key=settings.key(), random_state=settings.random_state)
    return recent


def run_loop_demo(
    settings: Settings, *, seed: int = 0, say: Callable[[str], None] = print
) -> LoopDemoResult:
    """Drift, monitor, feedback, retrain, gate, promote; then a refused poisoning attempt."""
    root = settings.workspace / "demo-loop"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    loop = dataclasses.replace(settings, workspace=root, signing_key=settings.key())
    say("the network drifts: simulating 2 quiet and 2 drifted days of a smaller network ...")
    recent = build_drift_workspace(loop, seed=seed)

    rng = np.random.default_rng(seed)
    tunnel = np.flatnonzero((recent["attack_type"] == NEW_FAMILY).to_numpy())
    others = np.setdiff1d(np.arange(len(recent)), tunnel)
    n_tunnel = min(len(tunnel), N_LABELS // 3)
    picked = np.sort(
        np.concatenate(
            [
                rng.choice(tunnel, n_tunnel, replace=False),
                rng.choice(others, N_LABELS - n_tunnel, replace=False),
            ]
        )
    )
    labelled = recent.iloc[picked]
    poisoned_root = settings.workspace / "demo-loop-poisoned"
    shutil.rmtree(poisoned_root, ignore_errors=True)
    shutil.copytree(root, poisoned_root)

    say(
        f"analysts label {N_LABELS} drifted events (verdicts, and a hunt that found the tunnel) ..."
    )
    with StateStore(state_path(root)) as store:
        _label(store, labelled, labelled["label"].to_numpy(), ["ana", "bo", "chen"])
    say("seclearn lifecycle run: monitor, decide, retrain, gate, promote ...")
    run = run_lifecycle(loop, "flows", recent="recent", holdout="trusted", window="1d")

    unseen = recent.drop(recent.index[picked])
    before = _rates(loop, run.champion_before, unseen)
    after = _rates(loop, run.champion_after, unseen)

    say("a poisoning attempt of the same size: one account relabels a known attack as benign ...")
    poisoned = dataclasses.replace(loop, workspace=poisoned_root)
    curated = load_dataset(root, "curated")
    curated = curated[curated["attack_type"] == POISONED_FAMILY]
    honest = labelled.iloc[: N_LABELS // 3]
    flipped = curated.iloc[: N_LABELS - len(honest)]
    with StateStore(state_path(poisoned_root)) as store:
        _label(store, honest, honest["label"].to_numpy(), ["ana", "bo", "chen"])
        _label(store, flipped, np.zeros(len(flipped), dtype=int), ["mallory"])
    refused = run_lifecycle(poisoned, "flows", recent="recent", holdout="trusted", window="1d")
    return LoopDemoResult(root, run, refused, before, after)


__all__ = [
    "HOSTS",
    "NEW_FAMILY",
    "N_LABELS",
    "POISONED_FAMILY",
    "LoopDemoResult",
    "build_drift_workspace",
    "run_loop_demo",
]
