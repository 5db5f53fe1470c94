"""Training-data poisoning, and its effect on detection at the operating point.

Each function returns a poisoned *copy* of a training frame (the input is not modified):

* :func:`flip_labels` -- ``random``: a share of labeled rows get the other label;
  ``targeted``: a share of the malicious rows of one attack family become benign (an
  attacker who wants that family missed);
* :func:`plant_backdoor` -- copies of malicious rows with a trigger written into
  attacker-controlled columns, labeled benign, so that at test time the trigger hides
  an attack;
* :func:`poison_feedback` -- the analyst feedback loop: attacker flows that raised
  alerts come back labeled benign (dismissed as false positives, or through a fooled or
  compromised triage channel) and are added to the retraining set.

:func:`poisoning_effect` fits the same pipeline on clean and poisoned data and reports
detection and FPR at each model's own operating point (chosen on its training data) on
a clean test frame, overall and on the rows the attacker cares about.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from seclearn.errors import EvaluationError
from seclearn.pipeline import DetectionPipeline


def _labels(frame: pd.DataFrame) -> np.ndarray:
    if "label" not in frame.columns:
        raise EvaluationError("Poisoning needs a labeled frame (a 'label' column, 1 = malicious).")
    return frame["label"].astype("float64").to_numpy()


def flip_labels(
    frame: pd.DataFrame,
    *,
    rate: float,
    mode: str = "random",
    attack_type: str | None = None,
    random_state: int = 0,
) -> pd.DataFrame:
    """A copy of ``frame`` with labels flipped (see the module docstring); ``rate`` in [0, 1]."""
    if not 0 <= rate <= 1 or mode not in ("random", "targeted"):
        raise EvaluationError(
            f"flip_labels needs rate in [0, 1] and mode 'random' or 'targeted'; got {rate!r}, {mode!r}."
        )
    rng = np.random.default_rng(random_state)
    y = _labels(frame)
    if mode == "random":
        pool = np.flatnonzero(~np.isnan(y))
    else:
        if attack_type is None or "attack_type" not in frame.columns:
            raise EvaluationError(
                "Targeted label flips need attack_type= and an 'attack_type' column."
            )
        pool = np.flatnonzero(
            (y == 1) & (frame["attack_type"].to_numpy(dtype=object) == attack_type)
        )
    chosen = rng.choice(pool, round(rate * len(pool)), replace=False)
    out = frame.copy()
    flipped = y.copy()
    flipped[chosen] = 1 - flipped[chosen]
    out["label"] = pd.array(np.where(np.isnan(flipped), pd.NA, flipped), dtype=frame["label"].dtype)
    if "attack_type" in out.columns:
        names = out["attack_type"].astype(object).to_numpy().copy()
        names[chosen] = np.where(flipped[chosen] == 0, "benign", "flipped")
        out["attack_type"] = pd.array(names, dtype=frame["attack_type"].dtype)
    return out


def with_trigger(frame: pd.DataFrame, trigger: dict[str, float]) -> pd.DataFrame:
    """A copy of ``frame`` with each ``trigger`` column set to its value."""
    out = frame.copy()
    for column, value in trigger.items():
        out[column] = value
    return out


def plant_backdoor(
    frame: pd.DataFrame,
    trigger: dict[str, float],
    *,
    rate: float,
    random_state: int = 0,
) -> pd.DataFrame:
    """``frame`` plus ``rate`` x (malicious rows) copies of malicious rows with ``trigger``, labeled benign."""
    rng = np.random.default_rng(random_state)
    malicious = np.flatnonzero(_labels(frame) == 1)
    chosen = rng.choice(malicious, round(rate * len(malicious)), replace=True)
    planted = with_trigger(frame.iloc[chosen], trigger)
    planted["label"] = 0
    if "attack_type" in planted.columns:
        planted["attack_type"] = "benign"
    out = pd.concat([frame, planted], ignore_index=True)
    out["label"] = out["label"].astype(frame["label"].dtype)
    return out


def poison_feedback(
    train: pd.DataFrame,
    alerts: pd.DataFrame,
    *,
    share: float = 1.0,
    random_state: int = 0,
) -> pd.DataFrame:
    """``train`` plus a share of the attacker's alerted flows ``alerts``, fed back as benign."""
    rng = np.random.default_rng(random_state)
    chosen = rng.choice(len(alerts), round(share * len(alerts)), replace=False)
    fed = alerts.iloc[np.sort(chosen)].copy()
    fed["label"] = 0
    if "attack_type" in fed.columns:
        fed["attack_type"] = "benign"
    out = pd.concat([train, fed[[c for c in train.columns if c in fed.columns]]], ignore_index=True)
    out["label"] = out["label"].astype(train["label"].dtype)
    return out


def _rates(pipeline: DetectionPipeline, frame: pd.DataFrame) -> dict[str, float | None]:
    alert = pipeline.score(frame)["decision"].to_numpy()
    y = _labels(frame)
    return {
        "detection": float(alert[y == 1].mean()) if (y == 1).any() else None,
        "fpr": float(alert[y == 0].mean()) if (y == 0).any() else None,
    }


def poisoning_effect(
    make_pipeline: Callable[[], DetectionPipeline],
    clean_train: pd.DataFrame,
    poisoned_train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    target: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Detection and FPR on ``test`` (and detection on ``target`` rows) for clean vs poisoned fits."""
    out: dict[str, Any] = {}
    for name, train in (("clean", clean_train), ("poisoned", poisoned_train)):
        pipe = make_pipeline().fit(train)
        row = _rates(pipe, test)
        if target is not None:
            row["target_detection"] = _rates(pipe, target)["detection"]
        out[name] = row
    out["detection_change"] = out["poisoned"]["detection"] - out["clean"]["detection"]
    if target is not None:
        out["target_detection_change"] = (
            out["poisoned"]["target_detection"] - out["clean"]["target_detection"]
        )
    return out


__all__ = [
    "flip_labels",
    "plant_backdoor",
    "poison_feedback",
    "poisoning_effect",
    "with_trigger",
]
