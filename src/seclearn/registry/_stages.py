"""Stages of a model name: which version is the champion, the gate verdicts, the history.

Versions are immutable signed folders; a stage change never touches them. What moves
is ``<root>/models/<name>/stages.json``, signed like a manifest (``stages.sig``, an
HMAC-SHA256 with the registry key), written to a temporary file, fsynced and renamed
into place under an exclusive lock, so a crash leaves the old or the new file, never a
torn one, and two promotions cannot interleave. The file records:

- ``champion``: the version served by a bare name, with the sha256 of its manifest
  at promotion time (the manifest lists the sha256 of every file, so an equal manifest
  hash means the same bytes);
- ``gates``: per candidate version, whether its promotion gates passed and the sha256
  of the gate report;
- ``holdout``: the trusted holdout the gates are measured on, pinned by content
  fingerprint on first use;
- ``history``: every promotion and rollback, oldest first.

``rollback`` makes the champion before the current one champion again, after checking
that its manifest hash is still the one recorded when it was promoted, so it restores
the earlier model byte for byte or refuses. Without a ``stages.json`` (a name never
promoted) a bare name means the newest version, as before.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from seclearn.errors import IntegrityError, RegistryError
from seclearn.registry._signing import check_key, key_id, sign_bytes
from seclearn.registry._verify import MANIFEST_NAME, read_limited

STAGES_NAME = "stages.json"
STAGES_SIGNATURE = "stages.sig"
STAGES_FORMAT = 1
_MAX_STAGES_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class StageChange:
    """One promotion or rollback: ``version`` became champion, replacing ``previous``."""

    name: str
    action: str
    version: int
    previous: int | None
    manifest_sha256: str
    at: str
    by: str
    reason: str
    forced: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def manifest_sha256(version_dir: Path) -> str:
    """sha256 of a version's ``manifest.json`` bytes."""
    where = f"model folder {version_dir}"
    try:
        raw = read_limited(version_dir / MANIFEST_NAME, _MAX_STAGES_BYTES, where=where)
    except FileNotFoundError:
        raise RegistryError(f"{where}: no {MANIFEST_NAME}; it is not a saved model.") from None
    return hashlib.sha256(raw).hexdigest()


def empty_stages(name: str) -> dict[str, Any]:
    return {
        "format_version": STAGES_FORMAT,
        "name": name,
        "champion": None,
        "gates": {},
        "holdout": None,
        "history": [],
    }


def read_stages(model_dir: Path, key: bytes | None) -> dict[str, Any] | None:
    """The stages of a model name (None when it was never staged), signature checked.

    With ``key=None`` the file is read unverified (for listings); anything that decides
    what to serve passes the key, and a changed, unsigned or wrongly signed file raises
    :class:`IntegrityError`.
    """
    path = model_dir / STAGES_NAME
    sig_path = model_dir / STAGES_SIGNATURE
    if not path.exists() and not sig_path.exists():
        return None
    where = f"stages of model {model_dir.name} ({path})"
    if path.is_symlink() or sig_path.is_symlink():
        raise IntegrityError(f"{where}: a stages file is a symlink; restore it from a backup.")
    try:
        raw = read_limited(path, _MAX_STAGES_BYTES, where=where)
    except FileNotFoundError:
        raise IntegrityError(
            f"{where}: {STAGES_SIGNATURE} exists but {STAGES_NAME} is missing; restore it."
        ) from None
    if key is not None:
        check_key(key)
        try:
            line = read_limited(sig_path, 512, where=where).decode("ascii").strip()
        except (FileNotFoundError, UnicodeDecodeError):
            raise IntegrityError(
                f"{where}: {STAGES_SIGNATURE} is missing or unreadable, so nobody vouches for "
                "which version is champion. Restore both files from a backup."
            ) from None
        if not hmac.compare_digest(line, sign_bytes(raw, key)):
            signer = line.split(":")[1] if line.count(":") == 2 else "?"
            raise IntegrityError(
                f"{where}: the signature does not match (signed by key {signer}, checked with "
                f"key {key_id(key)}): the file was changed outside seclearn or another key "
                "signed it. Restore it from a backup, or re-promote with the right key."
            )
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise IntegrityError(f"{where}: not valid JSON ({exc}).") from None
    if not isinstance(doc, dict) or doc.get("format_version") != STAGES_FORMAT:
        raise IntegrityError(
            f"{where}: format {doc.get('format_version') if isinstance(doc, dict) else '?'!r} "
            f"is not {STAGES_FORMAT}."
        )
    if doc.get("name") != model_dir.name:
        raise IntegrityError(
            f"{where}: it describes model {doc.get('name')!r}, not {model_dir.name!r}: a stages "
            "file was copied between models. Restore it from a backup."
        )
    return doc


def write_stages(model_dir: Path, doc: dict[str, Any], key: bytes) -> None:
    """Sign and atomically replace the stages of a model name (call under :func:`locked`)."""
    check_key(key)
    raw = orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    for name, data in (
        (STAGES_SIGNATURE, (sign_bytes(raw, key) + "\n").encode("ascii")),
        (STAGES_NAME, raw),
    ):
        tmp = model_dir / f".{name}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, model_dir / name)
    fd = os.open(model_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def locked(model_dir: Path) -> Iterator[None]:
    """An exclusive lock on the stages of one model name (held across read-modify-write)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    with open(model_dir / ".stages.lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def champion_version(doc: dict[str, Any] | None) -> int | None:
    champ = (doc or {}).get("champion")
    return int(champ["version"]) if isinstance(champ, dict) else None


def previous_champion(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The champion the current one replaced when it was promoted, with its manifest hash.

    Rolling back twice goes back two promotions (v3 -> v2 -> v1), not back and forth:
    the target is read from the promotion that made the current champion champion,
    whether it is champion now through that promotion or through a rollback to it.
    """
    current = champion_version(doc)
    history = doc.get("history") or []
    promotions = [c for c in history if c.get("action") == "promote"]
    made = next((c for c in reversed(promotions) if c.get("version") == current), None)
    if current is None or made is None or made.get("previous") is None:
        return None
    target = int(made["previous"])
    index = promotions.index(made)
    record = next((c for c in reversed(promotions[:index]) if c.get("version") == target), None)
    if record is None:
        raise IntegrityError(
            f"stages of model {doc.get('name')}: version {target} is recorded as a former "
            "champion but no promotion of it is in the history. Restore the stages file."
        )
    return {"version": target, "manifest_sha256": record["manifest_sha256"]}


__all__ = [
    "STAGES_NAME",
    "STAGES_SIGNATURE",
    "StageChange",
    "champion_version",
    "empty_stages",
    "locked",
    "manifest_sha256",
    "previous_champion",
    "read_stages",
    "write_stages",
]
