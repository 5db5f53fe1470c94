"""Robustness metrics of an attack, and the one-number figure retraining gates compare.

* **evasion rate at a budget**: of the malicious rows the model detects before the
  attack, the share the attack turns into non-alerts within the budget;
* **robust detection rate** at the operating point: the share of all malicious rows
  still detected after the attack (rows missed before stay missed);
* **median cost** of the successful evasions (the threat model's relative move).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from seclearn.adversarial.evasion import AttackResult, BlackBoxAttack, scoring_frame
from seclearn.adversarial.threat import ThreatModel
from seclearn.adversarial.trees import TreeAttack
from seclearn.errors import EvaluationError
from seclearn.pipeline import DetectionPipeline

#: Rows attacked by :func:`robustness_figure` unless told otherwise.
DEFAULT_MAX_ROWS = 2000


def attack_metrics(result: AttackResult) -> dict[str, Any]:
    """The metrics of one attack run over malicious rows (see the module docstring)."""
    before, after = result.detected_before, result.detected_after
    evaded = result.evaded
    n = len(before)
    n_detected = int(before.sum())
    costs = result.cost[evaded]
    return {
        "attack": result.attack,
        "budget": float(result.budget),
        "n_rows": n,
        "n_attacks": n_detected,
        "n_evaded": int(evaded.sum()),
        "evasion_rate": float(evaded.sum() / n_detected) if n_detected else 0.0,
        "clean_detection_rate": float(before.mean()) if n else 0.0,
        "robust_detection_rate": float(after.mean()) if n else 0.0,
        "median_cost": float(np.median(costs)) if len(costs) else None,
        "n_queries": int(result.n_queries),
    }


def combine(results: list[AttackResult]) -> AttackResult:
    """The strongest of several attacks per row: a row is evaded if any attack evaded it."""
    first = results[0]
    adversarial = first.adversarial.copy()
    after, cost, score = first.detected_after.copy(), first.cost.copy(), first.score_after.copy()
    for r in results[1:]:
        take = (after & ~r.detected_after) | (~after & ~r.detected_after & (r.cost < cost))
        adversarial.loc[take] = r.adversarial.loc[take]
        after[take], cost[take], score[take] = False, r.cost[take], r.score_after[take]
    return AttackResult(
        attack="+".join(r.attack for r in results),
        budget=first.budget,
        original=first.original,
        adversarial=adversarial,
        score_before=first.score_before,
        score_after=score,
        detected_before=first.detected_before,
        detected_after=after,
        cost=cost,
        n_queries=sum(r.n_queries for r in results),
    )


def attack_rows(frame: pd.DataFrame, max_rows: int, random_state: int) -> pd.DataFrame:
    """The malicious rows of ``frame``, at most ``max_rows`` of them, chosen with a fixed seed."""
    if "label" not in frame.columns:
        raise EvaluationError(
            "A robustness figure needs labeled flows (a 'label' column, 1 = malicious); got "
            f"columns {list(frame.columns)[:20]}."
        )
    malicious = frame[frame["label"].astype("float64").fillna(0).to_numpy() == 1]
    if len(malicious) == 0:
        raise EvaluationError("The frame holds no malicious rows (label 1) to attack.")
    if len(malicious) > max_rows:
        rng = np.random.default_rng(random_state)
        malicious = malicious.iloc[np.sort(rng.choice(len(malicious), max_rows, replace=False))]
    return malicious.reset_index(drop=True)


def run_attack(
    pipeline: DetectionPipeline,
    rows: pd.DataFrame,
    *,
    attack: str = "auto",
    budget: float = 1.0,
    threat: ThreatModel | None = None,
    random_state: int = 0,
) -> AttackResult:
    """Run ``attack`` on ``rows``: ``trees``, ``blackbox``, or ``both``/``auto``.

    ``both`` and ``auto`` run the tree attack (LightGBM detectors only) and the black-box
    attack and keep the stronger per row; for other detectors they run the black-box one,
    so that every model faces at least the same black-box attack.
    """
    threat = threat or ThreatModel.default_for(pipeline)
    is_trees = getattr(pipeline.detector_, "booster_", None) is not None
    if attack == "auto":
        attack = "both" if is_trees else "blackbox"
    if attack == "both" and not is_trees:
        attack = "blackbox"
    if attack not in ("trees", "blackbox", "both"):
        raise EvaluationError(
            f"attack must be one of trees, blackbox, both or auto; got {attack!r}."
        )
    runs = []
    if attack in ("trees", "both"):
        runs.append(
            TreeAttack(threat, budget=budget, random_state=random_state).run(pipeline, rows)
        )
    if attack in ("blackbox", "both"):
        runs.append(
            BlackBoxAttack(threat, budget=budget, random_state=random_state).run(pipeline, rows)
        )
    return runs[0] if len(runs) == 1 else combine(runs)


def robustness_figure(
    pipeline: DetectionPipeline,
    frame: pd.DataFrame,
    *,
    budget: float = 1.0,
    random_state: int = 0,
    attack: str = "auto",
    max_rows: int = DEFAULT_MAX_ROWS,
    threat: ThreatModel | None = None,
) -> dict[str, Any]:
    """Evasion rate, robust and clean detection rate and median cost of one attack at ``budget``.

    Attacks the malicious rows of ``frame`` (at most ``max_rows``, a seeded sample) with
    the threat model of ``pipeline`` (``ThreatModel.default_for``) unless ``threat`` is
    given; ``attack="auto"`` runs the tree and the black-box attack on LightGBM models
    (the per-row stronger counts) and the black-box attack on others. Pass the whole
    traffic, benign rows included: context features are computed on it before the
    malicious rows are sampled. Deterministic for a given ``random_state``; call it on
    champion and challenger with the same frame and budget to compare them.
    """
    rows = attack_rows(scoring_frame(pipeline, frame), max_rows, random_state)
    threat = threat or ThreatModel.default_for(pipeline)
    result = run_attack(
        pipeline, rows, attack=attack, budget=budget, threat=threat, random_state=random_state
    )
    figure = attack_metrics(result)
    figure["violations"] = len(threat.check(result.original, result.adversarial, budget=budget))
    return figure


__all__ = [
    "DEFAULT_MAX_ROWS",
    "attack_metrics",
    "attack_rows",
    "combine",
    "robustness_figure",
    "run_attack",
]
