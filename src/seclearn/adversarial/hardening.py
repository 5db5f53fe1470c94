"""Hardening against the threat model: monotone trees, dropped fragile features, adversarial training.

* **Monotone constraints.** Under a grow-only threat model every feature either cannot
  move, can only grow, can only shrink, or can move both ways (``bytes / packets`` when
  the attacker adds both). :func:`feature_directions` works this out from the feature
  specs and relations; :class:`MonotoneLightGBMDetector` makes the score non-decreasing
  along the attacker's direction of every one-way feature (LightGBM
  ``monotone_constraints``) and drops the two-way ones (they become missing), so that no
  move the threat model allows can lower the score. The calibrator is monotone too.
* **Adversarial training.** :func:`adversarial_training` attacks a model fitted on the
  training data, appends the successful adversarial training rows (label 1) and refits.

Everything is chosen on training data only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from seclearn.adversarial.metrics import attack_rows, run_attack
from seclearn.adversarial.threat import ThreatModel
from seclearn.features import FlowFeaturizer
from seclearn.models.monotone import MonotoneLightGBMDetector
from seclearn.pipeline import DetectionPipeline

#: Sign of d feature / d input for the pipeline's own derived features.
DERIVED_SIGNS: dict[str, dict[str, int]] = {
    "src_bytes_per_pkt": {"src_bytes": 1, "src_pkts": -1},
    "dst_bytes_per_pkt": {"dst_bytes": 1, "dst_pkts": -1},
    "src_byte_share": {"src_bytes": 1, "dst_bytes": -1},
    "pkts_per_s": {"src_pkts": 1, "dst_pkts": 1, "duration_s": -1},
    "bytes_per_s": {"src_bytes": 1, "dst_bytes": 1, "duration_s": -1},
}
_STEP = {"increase": 1, "decrease": -1}


def feature_directions(featurizer: FlowFeaturizer, threat: ThreatModel) -> dict[str, int | None]:
    """Per output feature: +1 can only grow, -1 can only shrink, 0 fixed, None both ways."""
    signs = dict(DERIVED_SIGNS)
    for rel in threat.relations:
        signs[rel.target] = {s: int(np.sign(p)) for srcs, _, p in rel.terms for s in srcs if p != 0}
    out: dict[str, int | None] = {}
    for spec in featurizer.feature_specs_:
        partial = signs.get(spec.name, {s: 1 for s in spec.sources})
        moves: set[int] = set()
        for source, sign in partial.items():
            c = threat.columns.get(source)
            if c is None or not c.controlled:
                continue
            if c.categorical or c.direction == "any" or spec.kind in ("categorical", "context"):
                moves |= {1, -1}
            else:
                moves.add(sign * _STEP[c.direction])
        out[spec.name] = 0 if not moves else (moves.pop() if len(moves) == 1 else None)
    return out


def monotone_detector(
    train: pd.DataFrame, *, threat_overrides: dict[str, Any] | None = None, **params: Any
) -> tuple[MonotoneLightGBMDetector, FlowFeaturizer, dict[str, int | None]]:
    """A monotone detector for the default threat model of a featurizer fitted on ``train``."""
    featurizer = FlowFeaturizer(encoding="ordinal", log_counts=False)
    fitted = FlowFeaturizer(encoding="ordinal", log_counts=False).fit(train)
    threat = ThreatModel.default_for(fitted)
    if threat_overrides:
        threat = threat.with_overrides(threat_overrides)
    directions = feature_directions(fitted, threat)
    names = fitted.feature_names_out_
    monotone = tuple(int(directions[n] or 0) for n in names)
    drop = tuple(j for j, n in enumerate(names) if directions[n] is None)
    return MonotoneLightGBMDetector(monotone=monotone, drop=drop, **params), featurizer, directions


def monotone_pipeline(
    train: pd.DataFrame,
    *,
    threat_overrides: dict[str, Any] | None = None,
    random_state: int = 0,
    **params: Any,
) -> DetectionPipeline:
    """A LightGBM pipeline hardened by monotone constraints and dropped two-way features."""
    detector, featurizer, _ = monotone_detector(
        train, threat_overrides=threat_overrides, random_state=random_state, **params
    )
    return DetectionPipeline(
        featurizer=featurizer, detector=detector, random_state=random_state
    ).fit(train)


def adversarial_training(
    train: pd.DataFrame,
    make_pipeline: Callable[[], DetectionPipeline],
    *,
    budget: float = 1.0,
    attack: str = "both",
    rounds: int = 2,
    max_rows: int = 2000,
    random_state: int = 0,
) -> tuple[DetectionPipeline, int]:
    """Fit; then ``rounds`` times attack the malicious training rows, add the evasions (label 1), refit.

    Returns the last pipeline and the number of adversarial rows added. Uses training rows
    only; context columns (if any) are recomputed for the combined frame.
    """
    pipeline = make_pipeline().fit(train)
    combined, n_added = train, 0
    for round_ in range(rounds):
        rows = attack_rows(train, max_rows, random_state + round_)
        result = run_attack(
            pipeline, rows, attack=attack, budget=budget, random_state=random_state + round_
        )
        added = result.adversarial[result.evaded]
        if len(added) == 0:
            break
        added = added[[c for c in train.columns if c in added.columns]].copy()
        added["label"] = 1
        combined = pd.concat([combined, added], ignore_index=True)
        combined["label"] = combined["label"].astype(train["label"].dtype)
        n_added += len(added)
        pipeline = make_pipeline().fit(combined)
    return pipeline, n_added


__all__ = [
    "DERIVED_SIGNS",
    "adversarial_training",
    "feature_directions",
    "monotone_detector",
    "monotone_pipeline",
]
