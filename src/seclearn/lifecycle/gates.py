"""Promotion gates: what a challenger must show before it may replace the champion.

Every gate compares champion and challenger on the same frozen trusted holdout:

- ``detection``: detection at the champion's target FPR (read off each model's ROC
  on the holdout) no worse than the champion's minus ``detection_tolerance``;
- ``false_positive_rate``: the deployed operating point's FPR on holdout benign
  traffic no worse than the champion's plus ``fpr_tolerance``;
- ``calibration``: expected calibration error (probability scores), or the gap
  between the realised and the promised FPR (benign-quantile scores), no worse than
  the champion's plus ``calibration_tolerance``;
- ``robustness``: evasion rate under the adversarial attack at a fixed budget no
  worse than the champion's plus ``robustness_tolerance`` (skipped, and said so, when
  the threat model gives the attacker nothing to change in this model's data);
- ``poisoning_actor_share`` / ``poisoning_source_share``: no analyst account, and no
  imported label file, contributed more than ``max_actor_share`` /
  ``max_source_share`` of the labels new since the champion was trained (checked
  from ``min_labels_for_share`` new labels on);
- ``poisoning_family_recall``: no attack family of the holdout (with at least
  ``min_family_rows`` rows) lost more than ``family_recall_drop`` of its detection
  rate at the deployed operating point. Label flips that teach the model one family
  is benign show up here even when spread over many accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from seclearn.adversarial import robustness_figure
from seclearn.errors import ConfigError, ModelError


@dataclass(frozen=True)
class GatePolicy:
    """Tolerances of the promotion gates (see the module docstring)."""

    detection_tolerance: float = 0.02
    fpr_tolerance: float = 0.005
    calibration_tolerance: float = 0.02
    robustness_tolerance: float = 0.05
    robustness_budget: float = 0.2
    robustness_rows: int = 300
    max_actor_share: float = 0.5
    max_source_share: float = 0.5
    min_labels_for_share: int = 20
    family_recall_drop: float = 0.10
    min_family_rows: int = 20

    def __post_init__(self) -> None:
        for name in (
            "detection_tolerance",
            "fpr_tolerance",
            "calibration_tolerance",
            "robustness_tolerance",
            "family_recall_drop",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ConfigError(f"GatePolicy.{name} must be a number in [0, 1], got {value!r}.")
        for name in ("max_actor_share", "max_source_share"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
                raise ConfigError(f"GatePolicy.{name} must be a number in (0, 1], got {value!r}.")


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict, with the two figures compared and the limit applied."""

    name: str
    passed: bool
    champion: Any
    challenger: Any
    limit: Any
    detail: str


def share_summary(shares: pd.DataFrame) -> dict[str, Any]:
    """The share per analyst and per imported file, from :func:`~seclearn.lifecycle.feedback.label_shares`."""
    if shares.empty:
        return {"n": 0, "by_who": {}, "by_source": {}}
    who = shares[shares["kind"] == "who"]
    source = shares[shares["kind"] == "source"]
    return {
        "n": int(who["n"].sum()),
        "by_who": {
            str(k): round(float(v), 6) for k, v in zip(who["name"], who["share"], strict=True)
        },
        "by_source": {
            str(k): round(float(v), 6) for k, v in zip(source["name"], source["share"], strict=True)
        },
    }


def _compare(
    name: str, holdout: dict[str, Any], key: str, tol: float, higher_is_better: bool, what: str
) -> GateResult:
    champ, chall = holdout["champion"].get(key), holdout["challenger"].get(key)
    if champ is None or chall is None:
        return GateResult(
            name, False, champ, chall, tol, f"{what} is not measurable on the holdout"
        )
    limit = champ - tol if higher_is_better else champ + tol
    ok = chall >= limit if higher_is_better else chall <= limit
    sign = ">=" if higher_is_better else "<="
    return GateResult(
        name, ok, champ, chall, limit, f"{what}: challenger {chall:.4f} {sign} {limit:.4f} needed"
    )


def _share_gate(
    name: str, shares: dict[str, float], n: int, limit: float, min_n: int
) -> GateResult:
    if not shares:
        return GateResult(
            name, True, None, 0.0, limit, f"none of the {n} new labels came from an imported file"
        )
    top = max(shares.items(), key=lambda kv: kv[1])
    if n < min_n:
        return GateResult(
            name, True, None, top[1], limit, f"{n} new labels, fewer than {min_n}: share not judged"
        )
    ok = top[1] <= limit
    return GateResult(
        name,
        ok,
        None,
        top[1],
        limit,
        f"largest share {top[1]:.0%} from {top[0]!r} of {n} new labels (limit {limit:.0%})",
    )


def _family_gate(holdout: dict[str, Any], policy: GatePolicy) -> GateResult:
    champ = holdout["champion"].get("per_family") or {}
    chall = holdout["challenger"].get("per_family") or {}
    drops = {}
    for family, c in champ.items():
        if c["count"] < policy.min_family_rows or family not in chall:
            continue
        drops[family] = float(c["rate"]) - float(chall[family]["rate"])
    if not drops:
        return GateResult(
            "poisoning_family_recall",
            True,
            None,
            None,
            policy.family_recall_drop,
            "no family of the holdout has enough rows to judge",
        )
    family, drop = max(drops.items(), key=lambda kv: kv[1])
    ok = drop <= policy.family_recall_drop
    return GateResult(
        "poisoning_family_recall",
        ok,
        champ[family]["rate"],
        chall[family]["rate"],
        policy.family_recall_drop,
        f"largest drop in detection of one holdout family: {family!r} by {drop:+.3f} "
        f"(limit {policy.family_recall_drop:.3f})",
    )


def _robustness_gate(
    policy: GatePolicy, champion: Any, challenger: Any, holdout: pd.DataFrame
) -> GateResult:
    # the whole holdout goes in: context features are computed over all of its traffic,
    # and the attack picks (a seeded sample of) its detected malicious rows itself
    try:
        figs = [
            robustness_figure(
                model,
                holdout,
                budget=policy.robustness_budget,
                max_rows=policy.robustness_rows,
                random_state=0,
            )
            for model in (champion, challenger)
        ]
    except ModelError as exc:
        return GateResult(
            "robustness",
            True,
            None,
            None,
            policy.robustness_tolerance,
            f"skipped: the attack cannot run on this model ({exc})",
        )
    champ, chall = (float(f["evasion_rate"]) for f in figs)
    limit = champ + policy.robustness_tolerance
    return GateResult(
        "robustness",
        chall <= limit,
        champ,
        chall,
        limit,
        f"evasion rate at budget {policy.robustness_budget} ({figs[0].get('attack')}, "
        f"{figs[1].get('n_attacks')} attacked rows): challenger {chall:.4f} <= {limit:.4f} needed",
    )


def run_gates(
    policy: GatePolicy,
    figures: dict[str, Any],
    shares: dict[str, Any],
    champion: Any,
    challenger: Any,
    holdout: pd.DataFrame,
) -> list[GateResult]:
    """Every gate, in a fixed order; the challenger passes when all of them pass."""
    h = figures["holdout"]
    return [
        _compare(
            "detection",
            h,
            "detection_at_target_fpr",
            policy.detection_tolerance,
            True,
            "detection at the target FPR on the trusted holdout",
        ),
        _compare(
            "false_positive_rate",
            h,
            "fpr",
            policy.fpr_tolerance,
            False,
            "FPR of the deployed operating point on holdout benign traffic",
        ),
        _compare(
            "calibration",
            h,
            "calibration_error",
            policy.calibration_tolerance,
            False,
            "calibration error on the holdout",
        ),
        _robustness_gate(policy, champion, challenger, holdout),
        _share_gate(
            "poisoning_actor_share",
            shares.get("by_who", {}),
            shares.get("n", 0),
            policy.max_actor_share,
            policy.min_labels_for_share,
        ),
        _share_gate(
            "poisoning_source_share",
            {k: v for k, v in shares.get("by_source", {}).items() if k.startswith("import:")},
            shares.get("n", 0),
            policy.max_source_share,
            policy.min_labels_for_share,
        ),
        _family_gate(h, policy),
    ]


__all__ = ["GatePolicy", "GateResult", "run_gates", "share_summary"]
