"""Promotion, rollback, gate verdicts and the pinned holdout of a model name.

Each function verifies what it relies on (the version's signature and files, the
stages file's signature) and changes ``stages.json`` under the name's lock. They do
not write the audit log: the registry sits below the state store, so the lifecycle
step that calls them records each change there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seclearn.errors import IntegrityError, ModelNotFoundError, RegistryError
from seclearn.registry._stages import (
    StageChange,
    _now,
    champion_version,
    empty_stages,
    locked,
    manifest_sha256,
    previous_champion,
    read_stages,
    write_stages,
)
from seclearn.registry._store import _known, check_name, models_dir, verify_model


def _model_dir(name: str, root: Path) -> tuple[Path, list[int]]:
    check_name(name)
    known = _known(models_dir(root))
    if name not in known:
        raise ModelNotFoundError(
            f"No model named {name!r} in the registry {models_dir(root)}; train one first."
        )
    return models_dir(root) / name, known[name]


def stages(name: str, *, root: Path, key: bytes) -> dict[str, Any]:
    """The verified stages of ``name`` (an empty record when it was never promoted)."""
    model_dir, _ = _model_dir(name, root)
    return read_stages(model_dir, key) or empty_stages(name)


def champion(name: str, *, root: Path, key: bytes) -> int | None:
    """The champion version of ``name``, or None when none was promoted yet."""
    return champion_version(stages(name, root=root, key=key))


def record_gates(
    name: str, version: int, *, root: Path, key: bytes, passed: bool, report: dict[str, Any]
) -> None:
    """Record whether ``version`` passed its promotion gates (``report`` is a short summary)."""
    model_dir, versions = _model_dir(name, root)
    if version not in versions:
        raise ModelNotFoundError(f"Model {name!r} has no version {version}.")
    with locked(model_dir):
        doc = read_stages(model_dir, key) or empty_stages(name)
        doc["gates"][str(version)] = {"passed": bool(passed), "at": _now(), **report}
        write_stages(model_dir, doc, key)


def pin_holdout(
    name: str, holdout: dict[str, Any], *, root: Path, key: bytes, repin: bool = False
) -> dict[str, Any]:
    """Pin the trusted holdout of ``name`` on first use; refuse a changed one afterwards.

    ``holdout`` holds at least ``name`` and ``content_fingerprint``. A frozen holdout
    is what makes champion and challenger comparable across retrainings: if its rows
    changed, earlier verdicts no longer mean what they said. ``repin=True`` accepts a
    new holdout deliberately (the caller records who and why in the audit log).
    """
    model_dir, _ = _model_dir(name, root)
    with locked(model_dir):
        doc = read_stages(model_dir, key) or empty_stages(name)
        pinned = doc.get("holdout")
        same = pinned is not None and (
            pinned.get("content_fingerprint") == holdout.get("content_fingerprint")
        )
        if pinned is not None and not same and not repin:
            raise RegistryError(
                f"Model {name!r}'s trusted holdout is pinned to dataset {pinned.get('name')!r} "
                f"(content {str(pinned.get('content_fingerprint'))[:12]}), but "
                f"{holdout.get('name')!r} has content "
                f"{str(holdout.get('content_fingerprint'))[:12]}. A frozen holdout must not "
                "change between retrainings; use the pinned one, or re-pin deliberately "
                "(--repin-holdout)."
            )
        if pinned is None or not same:
            doc["holdout"] = {**holdout, "pinned_at": _now()}
            write_stages(model_dir, doc, key)
        return dict(doc["holdout"])


def promote(
    name: str,
    version: int,
    *,
    root: Path,
    key: bytes,
    by: str,
    reason: str = "",
    force: bool = False,
) -> StageChange:
    """Make ``version`` the champion of ``name``.

    Refused unless the version's gates passed (``record_gates``), or ``force=True``
    (the change is then marked forced). The version's signature and every file are
    verified first, and the hash of its manifest is recorded for rollback.
    """
    model_dir, versions = _model_dir(name, root)
    if version not in versions:
        raise ModelNotFoundError(
            f"Model {name!r} has no version {version}; it has versions {versions}."
        )
    if not isinstance(by, str) or not by.strip():
        raise RegistryError("promote: 'by' must name who promotes (an analyst or a job).")
    version_dir = model_dir / str(version)
    verify_model(version_dir, key)
    with locked(model_dir):
        doc = read_stages(model_dir, key) or empty_stages(name)
        current = champion_version(doc)
        if current == version:
            raise RegistryError(f"{name}@{version} is already the champion; nothing to promote.")
        gate = doc["gates"].get(str(version))
        if not force and not (gate and gate.get("passed")):
            why = (
                "its promotion gates failed"
                if gate
                else "no gate verdict is recorded for it (run `seclearn retrain`)"
            )
            raise RegistryError(
                f"Refusing to promote {name}@{version}: {why}. Promote anyway only with "
                "--force and a --reason, which the audit log records."
            )
        change = StageChange(
            name=name,
            action="promote",
            version=version,
            previous=current,
            manifest_sha256=manifest_sha256(version_dir),
            at=_now(),
            by=by,
            reason=reason,
            forced=bool(force and not (gate and gate.get("passed"))),
        )
        doc["champion"] = {
            "version": version,
            "manifest_sha256": change.manifest_sha256,
            "since": change.at,
        }
        doc["history"].append(change.to_dict())
        write_stages(model_dir, doc, key)
        return change


def rollback(name: str, *, root: Path, key: bytes, by: str, reason: str = "") -> StageChange:
    """Make the champion that the current one replaced champion again, byte for byte.

    Refuses when there is no earlier champion, or when its folder no longer verifies
    or its manifest is not the one recorded at its promotion.
    """
    model_dir, versions = _model_dir(name, root)
    if not isinstance(by, str) or not by.strip():
        raise RegistryError("rollback: 'by' must name who rolls back (an analyst or a job).")
    with locked(model_dir):
        doc = read_stages(model_dir, key) or empty_stages(name)
        current = champion_version(doc)
        target = previous_champion(doc)
        if current is None or target is None:
            raise RegistryError(
                f"Model {name!r} has no earlier champion to roll back to"
                + (f" (champion {current} was the first promoted)." if current else ".")
            )
        version = int(target["version"])
        version_dir = model_dir / str(version)
        if version not in versions:
            raise IntegrityError(
                f"Cannot roll {name} back to version {version}: its folder is gone. Restore it "
                "from a backup."
            )
        verify_model(version_dir, key)
        digest = manifest_sha256(version_dir)
        if digest != target["manifest_sha256"]:
            raise IntegrityError(
                f"Cannot roll {name} back to version {version}: its manifest changed since it "
                "was champion (it was re-signed or replaced), so it is not the same model."
            )
        change = StageChange(
            name=name,
            action="rollback",
            version=version,
            previous=current,
            manifest_sha256=digest,
            at=_now(),
            by=by,
            reason=reason,
        )
        doc["champion"] = {"version": version, "manifest_sha256": digest, "since": change.at}
        doc["history"].append(change.to_dict())
        write_stages(model_dir, doc, key)
        return change


__all__ = ["champion", "pin_holdout", "promote", "record_gates", "rollback", "stages"]
