"""Judging feature-space adversarial examples (from tools that do not know the threat model).

Generic attacks (for example the Adversarial Robustness Toolbox's HopSkipJump) move the
feature matrix directly. :func:`feature_space_violations` says, per row, whether such a
move could come from any flow record the threat model allows: a feature that the
attacker cannot move must be unchanged, a feature that can only grow must not shrink
(and vice versa), integer features must stay whole, and a feature must stay inside the
range seen in training. It is a necessary condition only: a row that passes may still
have no valid flow record behind it (derived features must also agree with each other).
"""

from __future__ import annotations

import numpy as np

from seclearn.adversarial.hardening import feature_directions
from seclearn.adversarial.threat import ThreatModel
from seclearn.features import FlowFeaturizer


def feature_space_violations(
    featurizer: FlowFeaturizer,
    threat: ThreatModel,
    X: np.ndarray,
    X_adv: np.ndarray,
    *,
    atol: float = 1e-6,
) -> np.ndarray:
    """Per row, the number of features whose move no allowed flow record could make."""
    directions = feature_directions(featurizer, threat)
    X, X_adv = np.asarray(X, dtype=np.float64), np.asarray(X_adv, dtype=np.float64)
    delta = np.where(np.isnan(X) & np.isnan(X_adv), 0.0, X_adv - X)
    delta = np.where(np.isnan(delta), np.inf, delta)  # appeared or vanished: a change
    bad = np.zeros(X.shape, dtype=bool)
    for j, spec in enumerate(featurizer.feature_specs_):
        d = directions[spec.name]
        moved = np.abs(delta[:, j]) > atol
        if d == 0:
            bad[:, j] |= moved
        elif d == 1:
            bad[:, j] |= delta[:, j] < -atol
        elif d == -1:
            bad[:, j] |= delta[:, j] > atol
        value = X_adv[:, j]
        if spec.integer and spec.transform in ("identity", "ordinal"):
            bad[:, j] |= moved & (np.abs(value - np.round(value)) > atol)
        if spec.min_seen is not None and spec.max_seen is not None:
            bad[:, j] |= moved & ((value < spec.min_seen - atol) | (value > spec.max_seen + atol))
    return bad.sum(axis=1)


__all__ = ["feature_space_violations"]
