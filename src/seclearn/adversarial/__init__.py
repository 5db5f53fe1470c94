"""Adversarial robustness: threat models, evasion attacks, metrics and hardening.

Attacks move only the raw flow columns the :class:`ThreatModel` gives the attacker and
re-featurize through the pipeline, so every adversarial example is a valid flow record.
See ``docs/adversarial.md``.
"""

from seclearn.adversarial.evasion import AttackResult, BlackBoxAttack
from seclearn.adversarial.feature_space import feature_space_violations
from seclearn.adversarial.hardening import (
    adversarial_training,
    feature_directions,
    monotone_detector,
    monotone_pipeline,
)
from seclearn.adversarial.metrics import (
    attack_metrics,
    attack_rows,
    robustness_figure,
    run_attack,
)
from seclearn.adversarial.poisoning import (
    flip_labels,
    plant_backdoor,
    poison_feedback,
    poisoning_effect,
)
from seclearn.adversarial.threat import ColumnConstraint, Relation, ThreatModel
from seclearn.adversarial.trees import TreeAttack, split_thresholds
from seclearn.models import MonotoneLightGBMDetector

__all__ = [
    "AttackResult",
    "BlackBoxAttack",
    "ColumnConstraint",
    "MonotoneLightGBMDetector",
    "Relation",
    "ThreatModel",
    "TreeAttack",
    "adversarial_training",
    "attack_metrics",
    "attack_rows",
    "feature_directions",
    "feature_space_violations",
    "flip_labels",
    "monotone_detector",
    "monotone_pipeline",
    "plant_backdoor",
    "poison_feedback",
    "poisoning_effect",
    "robustness_figure",
    "run_attack",
    "split_thresholds",
]
