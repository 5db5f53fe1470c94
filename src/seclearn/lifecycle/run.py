"""``seclearn lifecycle run``: monitor, decide, retrain, gate, promote, in one idempotent step.

One run of :func:`run_lifecycle` for model ``name``:

1. takes the name's lifecycle lock (a second run started meanwhile, e.g. by a slow
   cron tick, fails at once instead of racing the first);
2. computes the run's inputs key: the champion (version and manifest hash), the
   recent and holdout datasets (content fingerprints), the analyst labels (count and
   newest) and the settings. When the last completed run had the same key, nothing
   changed and nothing is done, so running it every few minutes is safe;
3. monitors the recent dataset against the champion's training reference;
4. decides: an unhealthy monitor stops the run (exit 3, never "no drift"); drift of
   features, scores, alert rate or performance, or at least ``min_new_labels`` new
   analyst labels, call for a challenger; drift with no new labels asks for labels
   (the review queue) instead, as retraining on the same data would change nothing;
5. retrains, gates and, when every gate passes, promotes (see
   :mod:`seclearn.lifecycle.retrain`).

With ``dry_run`` the monitor report is written but no model is saved, signed,
promoted or logged and the inputs key is not recorded. Exit codes: 0 nothing to do,
no action needed, or promoted; 1 a decision needs a person (challenger refused by a
gate, or drift with no labels to learn from); 3 the monitor is unhealthy.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from seclearn.config import Settings
from seclearn.datasets import read_manifest
from seclearn.errors import ConfigError
from seclearn.lifecycle.feedback import feedback_labels
from seclearn.lifecycle.gates import GatePolicy
from seclearn.lifecycle.monitor import monitor_model
from seclearn.lifecycle.retrain import RetrainResult, created_epoch, retrain_model
from seclearn.monitoring import DEFAULT_WINDOW
from seclearn.registry import load_model, manifest_sha256
from seclearn.store import StateStore, state_path

#: How each outcome ends the process (cron mails on non-zero).
EXIT_CODES = {
    "nothing_to_do": 0,
    "no_action": 0,
    "promoted": 0,
    "dry_run": 0,
    "refused": 1,
    "needs_labels": 1,
    "unhealthy": 3,
}


@dataclass
class LifecycleRun:
    """What one lifecycle step saw, decided and did."""

    name: str
    status: str
    champion_before: int
    champion_after: int
    inputs_key: str
    monitor: dict[str, Any] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    new_labels: int = 0
    retrain: RetrainResult | None = None
    dry_run: bool = False
    at: str = ""

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "retrain"}
        out["retrain"] = self.retrain.to_dict() if self.retrain else None
        out["exit_code"] = self.exit_code
        return out

    def summary(self) -> list[str]:
        """The one-screen summary ``seclearn lifecycle run`` prints."""
        lines = [
            f"lifecycle run of {self.name} at {self.at}{' (dry run)' if self.dry_run else ''}",
            f"champion: {self.name}@{self.champion_before}",
        ]
        if self.status == "nothing_to_do":
            lines.append(
                f"inputs unchanged since the last run: nothing to do ({'; '.join(self.reasons)})"
            )
            return lines
        m = self.monitor
        lines.append(
            f"monitor: {m.get('status')} over {m.get('windows')} windows, {m.get('rows', 0):,} rows"
            + (
                f"; features moved: {', '.join(m['drifted_features'][:8])}"
                if m.get("drifted_features")
                else ""
            )
        )
        for why in m.get("unhealthy_reasons") or []:
            lines.append(f"  unhealthy: {why}")
        lines.append(f"new analyst labels since the champion: {self.new_labels}")
        lines.append(
            "decision: " + ("; ".join(self.reasons) if self.reasons else "no action needed")
        )
        if self.retrain is not None:
            r = self.retrain
            version = r.challenger.version if r.challenger else "(not saved: dry run)"
            lines.append(
                f"challenger: {self.name}@{version} trained on {r.training['rows']:,} rows"
            )
            for g in r.gates:
                lines.append(f"  [{'pass' if g.passed else 'FAIL'}] {g.name}: {g.detail}")
            lines.extend(f"  note: {note}" for note in r.notes)
            rec = r.figures.get("recent", {})
            if rec.get("challenger", {}).get("n"):
                lines.append(
                    "recent labelled events: detection "
                    f"{_pct(rec['champion'].get('detection_rate'))} -> "
                    f"{_pct(rec['challenger'].get('detection_rate'))}, FPR "
                    f"{_pct(rec['champion'].get('fpr'))} -> {_pct(rec['challenger'].get('fpr'))}"
                )
        outcome = {
            "promoted": f"promoted {self.name}@{self.champion_after}",
            "refused": "challenger refused by the gates: the champion stays",
            "needs_labels": "drift without new labels: label the review queue (seclearn review)",
            "unhealthy": "monitor unhealthy: fix the data feed before trusting any verdict",
            "no_action": "champion kept",
            "dry_run": "dry run: nothing saved, promoted or logged",
        }[self.status]
        lines.append(f"outcome: {outcome} (exit {self.exit_code})")
        return lines


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1%}"


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"Another lifecycle run holds {path}; wait for it to finish (runs are "
                "serialised per model so two cron ticks cannot race)."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _inputs_key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _write_state(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        fh.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def run_lifecycle(
    settings: Settings,
    name: str,
    *,
    recent: str,
    holdout: str,
    dry_run: bool = False,
    min_new_labels: int = 50,
    policy: GatePolicy | None = None,
    actor: str = "seclearn-lifecycle",
    window: str | None = None,
) -> LifecycleRun:
    """One lifecycle step for model ``name`` (see the module docstring)."""
    if (
        isinstance(min_new_labels, bool)
        or not isinstance(min_new_labels, int)
        or min_new_labels < 1
    ):
        raise ConfigError(f"min_new_labels must be a positive integer, got {min_new_labels!r}.")
    policy = policy or GatePolicy()
    root, key = settings.workspace, settings.key()
    folder = root / "lifecycle"
    with _lock(folder / f"{name}.lock"):
        _champion, manifest = load_model(name, root=root, key=key)
        version = int(manifest["version"])
        store_file = state_path(root)
        labels = None
        if store_file.exists():
            with StateStore(store_file) as store:
                labels = feedback_labels(store)
        created = created_epoch(manifest) or 0.0
        new = 0 if labels is None else int((labels["created_at"] > created).sum())
        key_parts = {
            "champion": version,
            "manifest": manifest_sha256(root / "models" / name / str(version)),
            "recent": read_manifest(root, recent).get("content_fingerprint"),
            "holdout": read_manifest(root, holdout).get("content_fingerprint"),
            "labels": None
            if labels is None
            else [len(labels), float(labels["created_at"].max() or 0)],
            "policy": asdict(policy),
            "min_new_labels": min_new_labels,
            "window": window,
        }
        inputs = _inputs_key(key_parts)
        state_file = folder / f"{name}.json"
        now = datetime.now(UTC).isoformat(timespec="seconds")
        run = LifecycleRun(
            name, "no_action", version, version, inputs, new_labels=new, dry_run=dry_run, at=now
        )
        if state_file.exists() and not dry_run:
            last = orjson.loads(state_file.read_bytes())
            if last.get("inputs_key") == inputs:
                run.status = "nothing_to_do"
                run.reasons = [f"last run at {last.get('at')} ended {last.get('status')!r}"]
                return run

        report = monitor_model(settings, name, recent, window=window or DEFAULT_WINDOW).report
        run.monitor = {
            "status": report.status,
            "windows": len(report.windows),
            "rows": report.n_rows,
            "drifted_features": report.drifted_features,
            "performance_drift": report.performance_drift,
            "unhealthy_reasons": report.unhealthy_reasons,
        }
        if report.status == "unhealthy":
            run.status = "unhealthy"
        else:
            if report.drifted_features:
                run.reasons.append(f"{len(report.drifted_features)} features drifted")
            scores = [w for w in report.windows if getattr(w, "score_drift", False)]
            if scores:
                run.reasons.append(f"score distribution drifted in {len(scores)} windows")
            rates = [w for w in report.windows if getattr(w, "alert_rate_change", False)]
            if rates:
                run.reasons.append(f"alert rate changed in {len(rates)} windows")
            if report.performance_drift:
                run.reasons.append("precision or recall changed on analyst labels")
            if new >= min_new_labels:
                run.reasons.append(f"{new} new analyst labels (>= {min_new_labels})")
            if run.reasons and new == 0:
                run.status = "needs_labels"
            elif run.reasons:
                run.retrain = retrain_model(
                    settings,
                    name,
                    holdout=holdout,
                    recent=recent,
                    policy=policy,
                    actor=actor,
                    promote_if_passed=True,
                    dry_run=dry_run,
                )
                if dry_run:
                    run.status = "dry_run"
                elif run.retrain.promoted and run.retrain.challenger is not None:
                    run.status, run.champion_after = "promoted", run.retrain.challenger.version
                else:
                    run.status = "refused"
        if not dry_run:
            doc = run.to_dict()
            # the promotion changed the champion: the next run's key must name the new one
            if run.status == "promoted":
                key_parts["champion"] = run.champion_after
                key_parts["manifest"] = manifest_sha256(
                    root / "models" / name / str(run.champion_after)
                )
                doc["inputs_key"] = _inputs_key(key_parts)
            _write_state(state_file, doc)
        return run


__all__ = ["EXIT_CODES", "LifecycleRun", "run_lifecycle"]
