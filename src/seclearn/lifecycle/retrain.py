"""Retrain a challenger from curated data plus analyst labels, and gate its promotion.

:func:`retrain_model` builds the challenger with the champion's own settings
(detector, featurizer, calibration, operating-point policy, seed) from

- the champion's curated training data (the same train side of the same split when
  its lineage records one), with any analyst label on one of its events taking
  precedence over the dataset's label, and
- the labelled events of a recent dataset: only events with a label in the state
  store (verdicts, review, imported files); a recent dataset's own label column is
  never trusted. The labelled recent events are cut by time: the earlier part trains,
  the later part (``recent_eval_fraction``) is the "recent" evaluation set.

Champion and challenger are then scored on the same frozen trusted holdout (a
workspace dataset pinned by content fingerprint in the model's signed stages, and
checked to share no events with either training set) and on the recent evaluation
events, and the gates of :class:`GatePolicy` decide. The verdict is signed into the
stages file, the challenger is saved as a candidate version, and the run is
appended to the audit log; with ``promote=True`` a passing challenger becomes
champion.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sklearn.base import clone

from seclearn.config import Settings
from seclearn.datasets import load_dataset, read_manifest
from seclearn.errors import ConfigError, EvaluationError
from seclearn.evaluation import evaluate_scores
from seclearn.lifecycle.feedback import FEEDBACK_COLUMNS, feedback_labels, label_shares
from seclearn.lifecycle.gates import GatePolicy, GateResult, run_gates, share_summary
from seclearn.lifecycle.train import check_not_training_rows, split_frame
from seclearn.pipeline import DetectionPipeline
from seclearn.registry import (
    ModelRef,
    StageChange,
    load_model,
    pin_holdout,
    promote,
    record_gates,
    rollback,
    save_model,
)
from seclearn.registry import champion as champion_of
from seclearn.store import StateStore, state_path

#: The label a feedback row gets in ``attack_type`` (its family is not known).
FEEDBACK_FAMILY = "feedback"


@dataclass
class RetrainResult:
    """What a retraining did: the challenger, both models' figures and the gate verdict."""

    name: str
    champion_version: int
    challenger: ModelRef | None
    passed: bool
    promoted: bool
    gates: list[GateResult]
    figures: dict[str, Any]
    training: dict[str, Any]
    labels: dict[str, Any]
    report_path: Path | None = None
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "champion_version": self.champion_version,
            "challenger_version": self.challenger.version if self.challenger else None,
            "passed": self.passed,
            "promoted": self.promoted,
            "dry_run": self.dry_run,
            "gates": [asdict(g) for g in self.gates],
            "figures": self.figures,
            "training": self.training,
            "labels": self.labels,
            "notes": self.notes,
        }


def _training_side(root: Path, manifest: dict[str, Any]) -> tuple[str, pd.DataFrame]:
    lineage = manifest.get("dataset") or {}
    name = lineage.get("name")
    if not name:
        raise ConfigError(
            f"Model {manifest.get('name')}@{manifest.get('version')} records no training dataset "
            "in its lineage; pass --dataset with the curated dataset to retrain on."
        )
    frame = load_dataset(root, name)
    recorded = lineage.get("split")
    if recorded:
        result = split_frame(frame, str(recorded["spec"]), int(recorded.get("seed") or 0))
        if result.row_fingerprint != recorded.get("row_fingerprint"):
            raise EvaluationError(
                f"Dataset {name!r} changed since {manifest.get('name')}@{manifest.get('version')} "
                f"was trained on it: split '{recorded['spec']}' no longer cuts the same rows. "
                "Retrain from a dataset that did not change, or pass --dataset."
            )
        frame = result.train_frame(frame, unlabeled="mask")
    return name, frame


def _apply_labels(frame: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Analyst labels on the frame's events take precedence; returns the frame and how many changed."""
    if "uid" not in frame.columns or labels.empty:
        return frame, 0
    by_ref = labels.set_index("event_ref")["label"]
    found = frame["uid"].astype(str).map(by_ref)
    hit = found.notna().to_numpy()
    if not hit.any():
        return frame, 0
    out = frame.copy()
    new = found[hit].astype(np.int8).to_numpy()
    old = out["label"].to_numpy() if "label" in out.columns else np.full(len(out), np.nan)
    changed = int(np.sum(~(old[hit] == new)))
    out.loc[hit, "label"] = new
    if "attack_type" in out.columns:
        was_benign = out.loc[hit, "attack_type"].astype(str) == "benign"
        fam = np.where(
            new == 1, np.where(was_benign, FEEDBACK_FAMILY, out.loc[hit, "attack_type"]), "benign"
        )
        out.loc[hit, "attack_type"] = fam
    return out, changed


def _recent_labelled(
    frame: pd.DataFrame, labels: pd.DataFrame, eval_fraction: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The recent events that have an analyst label, cut by time into train and evaluation."""
    if "uid" not in frame.columns:
        raise ConfigError(
            "The recent dataset has no 'uid' column, so analyst labels (which name events by "
            "uid) cannot be matched to its rows. Ingest Zeek conn logs, which carry uids."
        )
    by_ref = labels.set_index("event_ref")["label"] if not labels.empty else pd.Series(dtype=float)
    found = frame["uid"].astype(str).map(by_ref)
    rows = frame.loc[found.notna().to_numpy()].copy()
    rows["label"] = found[found.notna()].astype(np.int8).to_numpy()
    rows["attack_type"] = np.where(rows["label"] == 1, FEEDBACK_FAMILY, "benign")
    rows = rows.sort_values("ts", kind="stable").reset_index(drop=True)
    n_eval = round(len(rows) * eval_fraction)
    return rows.iloc[: len(rows) - n_eval], rows.iloc[len(rows) - n_eval :]


def model_figures(
    pipeline: DetectionPipeline, frame: pd.DataFrame, target_fpr: float
) -> dict[str, Any]:
    """Detection at the target FPR, the deployed operating point, calibration, per family."""
    if frame.empty or "label" not in frame.columns:
        return {"n": 0}
    y = frame["label"].to_numpy()
    known = ~pd.isna(y)
    rows = frame.loc[known]
    y = rows["label"].to_numpy(dtype=np.int64)
    scores = pipeline.risk_score(rows)
    m = evaluate_scores(
        y,
        scores,
        pipeline.threshold_,
        attack_type=rows["attack_type"] if "attack_type" in rows.columns else None,
    )
    at: dict[str, Any] = next(
        (d for d in m.get("detection_at_fpr_detail") or [] if d.get("target_fpr") == target_fpr),
        {},
    )
    deployed_fpr = m.get("fpr")
    calibration = (
        m.get("ece")
        if pipeline.calibration_ == "probability"
        else (None if deployed_fpr is None else abs(deployed_fpr - target_fpr))
    )
    families = {
        r["attack_type"]: {"count": r["count"], "rate": r["rate"]}
        for r in m.get("per_attack_type") or []
        if r.get("kind") == "malicious"
    }
    return {
        "n": len(y),
        "n_malicious": int(y.sum()),
        "detection_at_target_fpr": at.get("detection_rate"),
        "target_fpr": target_fpr,
        "detection_rate": m.get("recall"),
        "fpr": deployed_fpr,
        "precision": m.get("precision"),
        "roc_auc": m.get("roc_auc"),
        "calibration_error": calibration,
        "calibration_measure": "ece"
        if pipeline.calibration_ == "probability"
        else "abs(fpr - target_fpr)",
        "per_family": families,
    }


def _check_disjoint(holdout: pd.DataFrame, *trained: pd.DataFrame) -> None:
    if "uid" not in holdout.columns:
        return
    ids = set(holdout["uid"].astype(str))
    shared = sum(int(t["uid"].astype(str).isin(ids).sum()) for t in trained if "uid" in t.columns)
    if shared:
        raise EvaluationError(
            f"The trusted holdout shares {shared} events (by uid) with the retraining data; a "
            "holdout the challenger trained on proves nothing. Remove those events from the "
            "holdout or from the labels, or use a holdout collected apart."
        )


def retrain_model(
    settings: Settings,
    name: str,
    *,
    holdout: str,
    recent: str | None = None,
    dataset: str | None = None,
    policy: GatePolicy | None = None,
    actor: str = "seclearn",
    promote_if_passed: bool = False,
    repin_holdout: bool = False,
    dry_run: bool = False,
    recent_eval_fraction: float = 0.3,
) -> RetrainResult:
    """Build a challenger for model ``name``'s champion, evaluate both, and gate it.

    ``holdout`` is the trusted holdout dataset; ``recent`` a dataset of recent events
    whose analyst labels (in the workspace's state store) are learned from; ``dataset``
    overrides the curated training dataset recorded in the champion's lineage. With
    ``dry_run`` nothing is saved, signed, promoted or logged.
    """
    policy = policy or GatePolicy()
    if not 0.0 <= recent_eval_fraction < 1.0:
        raise ConfigError(f"recent_eval_fraction must be in [0, 1), got {recent_eval_fraction!r}.")
    root, key = settings.workspace, settings.key()
    champion, manifest = load_model(name, root=root, key=key)
    version = int(manifest["version"])
    label = f"{name}@{version}"
    notes: list[str] = []

    store_file = state_path(root)
    store = StateStore(store_file) if store_file.exists() or not dry_run else None
    try:
        labels = (
            feedback_labels(store)
            if store is not None
            else pd.DataFrame(columns=list(FEEDBACK_COLUMNS))
        )
        champion_created = created_epoch(manifest)
        # every label event since the champion counts, so relabelling one event many times shows
        shares = share_summary(
            label_shares(store, since=champion_created) if store is not None else pd.DataFrame()
        )

        if dataset is not None:
            curated_name, curated = dataset, load_dataset(root, dataset)
        else:
            curated_name, curated = _training_side(root, manifest)
        curated, relabelled = _apply_labels(curated, labels)
        recent_train = recent_eval = curated.iloc[:0]
        if recent is not None:
            recent_frame = load_dataset(root, recent)
            recent_train, recent_eval = _recent_labelled(recent_frame, labels, recent_eval_fraction)
        training = pd.concat([curated, recent_train], ignore_index=True, sort=False)
        known = set(curated["uid"].astype(str)) if "uid" in curated.columns else set()
        if recent is not None and "uid" in recent_frame.columns:
            known |= set(recent_frame["uid"].astype(str))
        unmatched = int((~labels["event_ref"].astype(str).isin(known)).sum())
        if unmatched:
            notes.append(
                f"{unmatched} labelled events are in neither the curated nor the recent dataset "
                "and were not learned from; pass the dataset that holds them as --recent."
            )

        holdout_manifest = read_manifest(root, holdout)
        check_not_training_rows(manifest, holdout, holdout_manifest, None)
        holdout_frame = load_dataset(root, holdout)
        y_holdout = holdout_frame["label"] if "label" in holdout_frame.columns else pd.Series()
        if not ((y_holdout == 0).any() and (y_holdout == 1).any()):
            raise ConfigError(
                f"The trusted holdout {holdout!r} must hold labelled benign and malicious events; "
                f"it has {int((y_holdout == 0).sum())} benign and {int((y_holdout == 1).sum())} "
                "malicious. Gates compare detection and false positives, which need both."
            )
        _check_disjoint(holdout_frame, training, recent_eval)
        pin = {"name": holdout, "content_fingerprint": holdout_manifest.get("content_fingerprint")}
        if not dry_run:
            pin_holdout(name, pin, root=root, key=key, repin=repin_holdout)

        challenger = clone(champion).fit(training)
        target_fpr = float(champion.operating_point_.get("target_fpr") or 0.01)
        figures = {
            "holdout": {
                "champion": model_figures(champion, holdout_frame, target_fpr),
                "challenger": model_figures(challenger, holdout_frame, target_fpr),
            },
            "recent": {
                "champion": model_figures(champion, recent_eval, target_fpr),
                "challenger": model_figures(challenger, recent_eval, target_fpr),
            },
        }
        gates = run_gates(policy, figures, shares, champion, challenger, holdout_frame)
        passed = all(g.passed for g in gates)
        training_info = {
            "curated_dataset": curated_name,
            "curated_rows": len(curated),
            "curated_relabelled": relabelled,
            "recent_dataset": recent,
            "recent_train_rows": len(recent_train),
            "recent_eval_rows": len(recent_eval),
            "labels_not_found": unmatched,
            "rows": len(training),
            "holdout": pin,
        }
        labels_info = {"events_labelled": len(labels), "new_since_champion": shares["n"], **shares}
        result = RetrainResult(
            name=name,
            champion_version=version,
            challenger=None,
            passed=passed,
            promoted=False,
            gates=gates,
            figures=figures,
            training=training_info,
            labels=labels_info,
            dry_run=dry_run,
            notes=notes,
        )
        if dry_run:
            return result
        assert store is not None
        if champion_of(name, root=root, key=key) is None:
            # the challenged version becomes champion explicitly first: otherwise saving the
            # challenger would make it the newest version, which a bare name then serves
            _audited_promote(
                store,
                name,
                version,
                root=root,
                key=key,
                actor=actor,
                reason="the version served before its first challenger becomes champion",
                force=True,
            )
        ref = save_model(
            challenger,
            name,
            root=root,
            key=key,
            dataset={
                "name": curated_name,
                "content_fingerprint": read_manifest(root, curated_name).get("content_fingerprint"),
                "rows": len(training),
                "rows_trained_on": len(training),
                "split": None,
                "retrained_from": label,
                "recent": recent,
                "feedback_labels": len(labels),
            },
            extra={"challenger_of": version},
        )
        result.challenger = ref
        report = result.to_dict()
        raw = orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
        out = root / "reports" / "retrain" / f"{name}@{ref.version}"
        out.mkdir(parents=True, exist_ok=True)
        (out / "gates.json").write_bytes(raw)
        result.report_path = out / "gates.json"
        summary = {
            "report_sha256": hashlib.sha256(raw).hexdigest(),
            "champion": version,
            "failed": [g.name for g in gates if not g.passed],
        }
        record_gates(name, ref.version, root=root, key=key, passed=passed, report=summary)
        store.record_model_change(
            model=name,
            version=ref.version,
            action="retrain",
            actor=actor,
            detail={"passed": passed, **summary, "training": training_info},
        )
        if passed and promote_if_passed:
            _audited_promote(
                store,
                name,
                ref.version,
                root=root,
                key=key,
                actor=actor,
                reason="gates passed",
                detail={"gates": summary},
            )
            result.promoted = True
        return result
    finally:
        if store is not None:
            store.close()


def created_epoch(manifest: dict[str, Any]) -> float | None:
    """When a model was saved (its manifest's ``created_at``), in epoch seconds."""
    created = manifest.get("created_at")
    if not created:
        return None
    return pd.Timestamp(created).timestamp()


def _audited_promote(
    store: StateStore,
    name: str,
    version: int,
    *,
    root: Path,
    key: bytes,
    actor: str,
    reason: str,
    force: bool = False,
    detail: dict[str, Any] | None = None,
) -> StageChange:
    """Promote in the registry, then append the change to the audit log."""
    change = promote(name, version, root=root, key=key, by=actor, reason=reason, force=force)
    store.record_model_change(
        model=name,
        version=version,
        action="promote",
        actor=actor,
        detail={**change.to_dict(), **(detail or {})},
    )
    return change


def promote_model(
    settings: Settings,
    name: str,
    version: int,
    *,
    actor: str,
    reason: str = "",
    force: bool = False,
) -> dict[str, Any]:
    """Promote ``name@version`` (gates must have passed unless ``force``) and audit it."""
    root, key = settings.workspace, settings.key()
    if force and not reason.strip():
        raise ConfigError("A forced promotion needs a --reason; the audit log records it.")
    with StateStore(state_path(root)) as store:
        change = _audited_promote(
            store, name, version, root=root, key=key, actor=actor, reason=reason, force=force
        )
    return change.to_dict()


def rollback_model(
    settings: Settings, name: str, *, actor: str, reason: str = ""
) -> dict[str, Any]:
    """Restore the previous champion of ``name`` byte for byte, and audit it."""
    root, key = settings.workspace, settings.key()
    change = rollback(name, root=root, key=key, by=actor, reason=reason)
    with StateStore(state_path(root)) as store:
        store.record_model_change(
            model=name,
            version=change.version,
            action="rollback",
            actor=actor,
            detail=change.to_dict(),
        )
    return change.to_dict()


__all__ = [
    "FEEDBACK_FAMILY",
    "RetrainResult",
    "created_epoch",
    "model_figures",
    "promote_model",
    "retrain_model",
    "rollback_model",
]
