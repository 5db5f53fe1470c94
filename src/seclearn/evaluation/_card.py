"""What a model card says beyond the metrics: use, lineage, split, operating point, limits.

:func:`model_card` reads only the JSON-ready dict of an
:class:`~seclearn.evaluation.EvaluationResult`, so a card can be rebuilt from a saved
``report.json``. Known limitations are generated from the numbers, never written by
hand: families detected less than :data:`LOW_DETECTION`, one-class test sets,
calibration error above :data:`ECE_BOUND`, intervals wider than
:data:`WIDE_INTERVAL` or families smaller than :data:`SMALL_FAMILY`, a test FPR well
above the target, a detection rate that decays over time, and caveats of the split.
"""

from __future__ import annotations

from typing import Any

#: A malicious family detected below this rate at the operating point is a limitation.
LOW_DETECTION = 0.5
#: Expected calibration error above which scores should not be read as probabilities.
ECE_BOUND = 0.05
#: A 95% interval wider than this (in rate units) makes a headline figure uncertain.
WIDE_INTERVAL = 0.10
#: Families with fewer test rows than this get an explicit small-sample warning.
SMALL_FAMILY = 30
#: Test FPR above this multiple of the target FPR is reported.
FPR_EXCESS = 2.0
#: Detection falling by more than this over the test period is reported as decay.
DECAY_OVER_TEST = 0.05

_SPLIT_CAVEATS = {
    "random": (
        "Random split: rows of the same hosts, days and attack campaigns sit on both sides, "
        "so these figures are optimistic for new attacks, new hosts and later traffic."
    ),
    "group": (
        "Grouped split: no group value is on both sides, but train and test overlap in time, "
        "so drift over time is not measured."
    ),
    "family": (
        "Leave-one-family-out split: the test set holds an attack family unseen in training "
        "(plus benign rows); it measures generalisation to that new family only."
    ),
}


def model_card(data: dict[str, Any]) -> dict[str, Any]:
    """Intended use, training data and lineage, split, operating point and limitations."""
    return {
        "intended_use": intended_use(data),
        "training_data": training_data(data),
        "split_text": split_text(data.get("split")),
        "operating_point": operating_point_text(data.get("operating_point") or {}),
        "limitations": known_limitations(data),
    }


def intended_use(data: dict[str, Any]) -> dict[str, Any]:
    """What the model is for and not for, from its metadata (or the user's own text)."""
    meta = data.get("model_metadata") or {}
    schema = (meta.get("schema") or {}).get("name") or "tabular"
    detector = meta.get("detector") or {}
    meaning = (meta.get("calibration") or {}).get("meaning")
    threshold = (data.get("operating_point") or {}).get("threshold")
    purpose = data.get("intended_use") or (
        f"Flags {schema} records that look malicious so that security analysts can triage "
        f"them; it ranks and alerts, it does not block."
    )
    facts = []
    if detector.get("name"):
        facts.append(f"Detector: {detector['name']} ({detector.get('kind', 'unknown kind')}).")
    if meaning:
        facts.append(f"The score is the {meaning}.")
    if threshold is not None:
        facts.append(f"An alert is raised when the score is above {threshold:.6g}.")
    return {
        "purpose": purpose,
        "facts": facts,
        "out_of_scope": [
            "Automatic blocking or account lockout without analyst review.",
            "Traffic from networks, sensors or periods unlike the training data (check drift first).",
            "Attack families absent from training: see the per-family table and limitations.",
        ],
    }


def training_data(data: dict[str, Any]) -> dict[str, Any]:
    """Training rows, classes and families, and the dataset lineage of the registry."""
    meta = data.get("model_metadata") or {}
    train = meta.get("training_data") or {}
    registry = data.get("registry") or {}
    lineage = registry.get("dataset") or {}
    families = train.get("attack_type_counts") or {}
    return {
        "n_rows": train.get("n_rows"),
        "class_counts": train.get("class_counts") or {},
        "n_families": len([f for f in families if f != "benign"]),
        "families": families,
        "fingerprint": train.get("fingerprint"),
        "dataset": lineage.get("name"),
        "dataset_fingerprint": lineage.get("content_fingerprint"),
        "dataset_rows": lineage.get("rows"),
        "sources": [s for s in lineage.get("sources") or [] if s],
        "model_version": registry.get("version"),
        "stage": registry.get("stage"),
        "registered_at": registry.get("created_at"),
        "oof_metrics": meta.get("oof_metrics") or {},
    }


def split_text(split: dict[str, Any] | None) -> str:
    """One sentence on which rows were evaluated."""
    if not split:
        return "No split: the dataset as given (it may overlap the model's training data)."
    summary = split.get("summary") or split.get("kind") or "unnamed split"
    counts = []
    if split.get("n_train") is not None:
        counts.append(f"{split['n_train']:,} training rows")
    if split.get("n_test") is not None:
        counts.append(f"{split['n_test']:,} test rows")
    tail = f" ({', '.join(counts)})" if counts else ""
    return f"Evaluated on the test side of split {summary}{tail}."


def operating_point_text(op: dict[str, Any]) -> str:
    """How the threshold was chosen, in one sentence."""
    policy = op.get("policy")
    chosen = op.get("chosen_on") or "training data"
    if policy == "target_fpr":
        how = f"the score above which {op.get('target_fpr', 0):.3%} of benign rows fall"
    elif policy == "alert_budget":
        how = (
            f"an alert budget of {op.get('alerts_per_day', 0):g} alerts per day out of "
            f"{op.get('events_per_day', 0):g} events"
        )
    elif policy == "probability":
        how = f"a fixed probability of {op.get('probability', 0):g}"
    else:
        how = "a stored threshold"
    return f"Threshold chosen as {how}, on {chosen}; the test set was not used to choose it."


#: Evasion rate above which the card lists robustness as a limitation.
EVASION_BOUND = 0.1


def known_limitations(data: dict[str, Any]) -> list[str]:
    """Limitations that the evaluated numbers show, most important first."""
    m = data.get("metrics") or {}
    out: list[str] = []
    if not m.get("n_malicious"):
        out.append("The test set has no malicious rows: detection, ROC-AUC and PR-AUC are unknown.")
    if not m.get("n_benign"):
        out.append(
            "The test set has no benign rows: false-positive rate and alert volume are unknown."
        )
    out.extend(_split_limitations(data.get("split"), m))
    out.extend(_family_limitations(m.get("per_attack_type") or []))
    ece = m.get("ece")
    if ece is not None and ece > ECE_BOUND:
        out.append(
            f"Scores are not well calibrated on this data (ECE {ece:.3f} > {ECE_BOUND}): read them "
            "as a ranking, not as probabilities."
        )
    out.extend(_fpr_limitations(m, data.get("operating_point") or {}))
    out.extend(_interval_limitations(m))
    out.extend(_time_limitations(m))
    robust = data.get("robustness") or {}
    if (robust.get("evasion_rate") or 0) > EVASION_BOUND:
        out.append(
            f"An attacker who controls what the threat model allows evades "
            f"{robust['evasion_rate']:.0%} of detected attacks at budget {robust.get('budget')}: "
            "consider a hardened model (seclearn train --harden monotone)."
        )
    if data.get("n_unlabeled"):
        out.append(
            f"{data['n_unlabeled']:,} unlabeled rows were left out; if labels are missing "
            "more often for some traffic, the figures are biased."
        )
    return out


def _split_limitations(split: dict[str, Any] | None, m: dict[str, Any]) -> list[str]:
    out = []
    if not split:
        out.append(
            "No split was recorded: if this data overlaps the training data, every figure "
            "is optimistic. Evaluate on a held-out split."
        )
    elif split.get("kind") in _SPLIT_CAVEATS:
        out.append(_SPLIT_CAVEATS[split["kind"]])
    volume = m.get("alert_volume") or {}
    if (
        volume.get("events_per_day_source") == "test timestamps"
        and split
        and split.get("kind") != "time"
    ):
        out.append(
            "Events per day were measured from the test rows' timestamps, but this split "
            "keeps only part of each day's traffic: pass events_per_day for true alert volumes."
        )
    return out


def _family_limitations(rows: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in rows:
        if r["kind"] == "benign":
            continue
        ci = r.get("rate_ci")
        ci_text = f"; 95% interval {ci[0]:.0%}-{ci[1]:.0%}" if ci else ""
        if r["rate"] < LOW_DETECTION:
            out.append(
                f"Low detection of {r['attack_type']}: {r['rate']:.1%} of {r['count']:,} rows "
                f"alerted at the operating point{ci_text}."
            )
        elif r["count"] < SMALL_FAMILY:
            out.append(
                f"Only {r['count']:,} test rows of {r['attack_type']}: its detection rate "
                f"({r['rate']:.0%}{ci_text}) is uncertain."
            )
    return out


def _fpr_limitations(m: dict[str, Any], op: dict[str, Any]) -> list[str]:
    fpr, target = m.get("fpr"), op.get("target_fpr")
    if fpr is not None and target and fpr > FPR_EXCESS * target:
        return [
            f"The false-positive rate on this data ({fpr:.2%}) is more than {FPR_EXCESS:g}x the "
            f"target of {target:.2%} chosen on training data: benign traffic has shifted."
        ]
    return []


def _interval_limitations(m: dict[str, Any]) -> list[str]:
    intervals = (m.get("bootstrap") or {}).get("intervals") or {}
    wide = [
        f"{key} {ci[0]:.3f}-{ci[1]:.3f}"
        for key in ("recall", "precision", "roc_auc", "pr_auc")
        if (ci := intervals.get(key)) and ci[1] - ci[0] > WIDE_INTERVAL
    ]
    if wide:
        return [
            f"Small sample: some 95% intervals are wider than {WIDE_INTERVAL:g} ({'; '.join(wide)}); "
            "more labeled test data would narrow them."
        ]
    if not intervals:
        return ["No bootstrap intervals were computed: figures are given without uncertainty."]
    return []


def _time_limitations(m: dict[str, Any]) -> list[str]:
    out = []
    periods = m.get("periods") or {}
    slope = periods.get("detection_slope_per_day")
    days = periods.get("span_days") or 0.0
    if slope is not None and slope * days < -DECAY_OVER_TEST:
        out.append(
            f"Detection falls over the test period: the fitted trend loses {-slope * days:.0%} "
            f"over {days:.1f} days ({slope:+.3f} per day since {periods.get('time_since')}, "
            f"{periods.get('n_periods')} periods). Part of it can be a change in the mix of "
            "attack families rather than decay: compare the per-period table with the "
            "per-family one before retraining."
        )
    campaigns = m.get("campaigns") or {}
    missed = campaigns.get("n_campaigns", 0) - campaigns.get("n_detected", 0)
    if missed > 0:
        out.append(
            f"{missed:,} of {campaigns['n_campaigns']:,} attack campaigns raised no alert at all."
        )
    if m.get("time") is None:
        out.append("No timestamps: alert volumes, campaigns and decay over time were not measured.")
    return out


__all__ = [
    "DECAY_OVER_TEST",
    "ECE_BOUND",
    "LOW_DETECTION",
    "SMALL_FAMILY",
    "WIDE_INTERVAL",
    "known_limitations",
    "model_card",
]
