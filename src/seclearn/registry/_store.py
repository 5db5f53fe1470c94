"""The model registry on disk: ``<workspace>/models/<name>/<version>/``, signed.

Every function takes ``root``, the workspace folder; models live in its ``models``
sub-folder (:func:`models_dir`). Versions are 1, 2, 3 ... per name; a save never
overwrites an existing version.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seclearn.errors import IntegrityError, ModelNotFoundError, RegistryError
from seclearn.registry._manifest import build_manifest, dump_json
from seclearn.registry._signing import check_key, sign_bytes
from seclearn.registry._stages import champion_version, manifest_sha256, read_stages
from seclearn.registry._verify import (
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    SIGNATURE_NAME,
    check_files,
    check_relative_name,
    parse_manifest,
    read_limited,
    read_signed_manifest,
    scan_files,
    sha256_file,
)

#: Allowed model names: lower-case letters, digits, '.', '_', '-'; 1 to 64 characters.
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_VERSION_DIR = re.compile(r"[1-9][0-9]{0,8}")
_REF = re.compile(r"(?P<name>[^@]+?)(?:@(?P<version>[0-9]+|latest|champion))?")
_MAX_SAVE_ATTEMPTS = 1000

Loader = Callable[[Path], Any]


@dataclass(frozen=True)
class ModelRef:
    """Where a saved model lives: its name, its version number and its folder."""

    name: str
    version: int
    path: Path

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


def models_dir(root: Path) -> Path:
    """The registry folder of the workspace ``root``: ``<root>/models``."""
    return Path(root) / "models"


def check_name(name: object) -> str:
    """Return ``name`` if it is a valid model name, else raise :class:`RegistryError`."""
    if not isinstance(name, str) or NAME_PATTERN.fullmatch(name) is None:
        raise RegistryError(
            f"Invalid model name {name!r}: expected 1-64 characters of lower-case letters, digits, "
            "'.', '_' or '-', starting with a letter or digit (for example 'flows-lgbm'). "
            "Choose a name that matches."
        )
    return name


def save_model(
    pipeline: Any,
    name: str,
    *,
    root: Path,
    key: bytes,
    metrics: dict[str, Any] | None = None,
    dataset: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> ModelRef:
    """Save a fitted pipeline as the next version of ``name``, signed with ``key``.

    The pipeline writes its files into a temporary folder beside the final one; the
    manifest (sha256 and size of every file) is written and signed there, and the
    folder is renamed into place. Concurrent saves get distinct versions because a
    rename onto an existing, non-empty version folder fails and is retried with the
    next number.
    """
    check_name(name)
    check_key(key)
    model_dir = models_dir(root) / name
    model_dir.mkdir(parents=True, exist_ok=True)
    tmp = model_dir / f".tmp-{secrets.token_hex(8)}"
    tmp.mkdir()
    where = f"saving model {name}"
    try:
        pipeline.save(tmp)
        present = scan_files(tmp, where=where)
        for reserved in (MANIFEST_NAME, SIGNATURE_NAME):
            if reserved in present:
                raise RegistryError(
                    f"{where}: the pipeline wrote {reserved}, a name the registry reserves."
                )
        files = {}
        for rel, size in sorted(present.items()):
            check_relative_name(rel, where=where)
            _fsync_file(tmp / rel)
            files[rel] = {"sha256": sha256_file(tmp / rel), "size_bytes": size}
        pipeline_metadata = pipeline.metadata()
        operating_point = getattr(pipeline, "operating_point_", None)
        for _ in range(_MAX_SAVE_ATTEMPTS):
            version = _next_version(model_dir)
            manifest = build_manifest(
                name=name,
                version=version,
                pipeline_metadata=pipeline_metadata,
                operating_point=operating_point,
                files=files,
                metrics=metrics,
                dataset=dataset,
                extra=extra,
            )
            raw = dump_json(manifest)
            _write_durably(tmp / MANIFEST_NAME, raw)
            _write_durably(tmp / SIGNATURE_NAME, (sign_bytes(raw, key) + "\n").encode("ascii"))
            final = model_dir / str(version)
            try:
                os.rename(tmp, final)
            except OSError as exc:
                if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                    continue  # another process took this version first
                raise
            _fsync_dir(model_dir)
            return ModelRef(name=name, version=version, path=final)
        raise RegistryError(
            f"{where}: could not claim a version folder after {_MAX_SAVE_ATTEMPTS} attempts."
        )
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def verify_model(path: Path, key: bytes) -> dict[str, Any]:
    """Check a model folder's signature and every file hash; return the manifest.

    Raises :class:`IntegrityError` naming what is wrong (unsigned, wrong key, manifest
    modified, file modified, missing or added, symlink, path escape).
    """
    folder = Path(path)
    where = f"model folder {folder}"
    manifest = read_signed_manifest(folder, key, where=where)
    check_files(folder, manifest, where=where)
    return manifest


def load_model(
    ref: str | Path, *, root: Path, key: bytes, loader: Loader | None = None
) -> tuple[Any, dict[str, Any]]:
    """Verify and load a model: ``"name"`` (the champion, else the newest), ``"name@3"``,
    ``"name@latest"``, ``"name@champion"``, or a folder path.

    A ref is taken as a folder path when it is a :class:`~pathlib.Path` or contains a
    path separator (write ``./folder`` for a folder in the current directory). The
    signature and every file are checked first; the verified bytes are copied into a
    private staging folder and only that copy is handed to ``loader`` (default:
    ``DetectionPipeline.load``). When loading by name, the signed manifest must name
    the same model and version as the folder it sits in, so an old version copied
    over a newer one is refused.
    """
    check_key(key)
    folder, expected = _resolve(ref, Path(root), key)
    where = f"model {expected[0]}@{expected[1]}" if expected else f"model folder {folder}"
    manifest = read_signed_manifest(folder, key, where=where)
    if expected and (manifest.get("name"), manifest.get("version")) != expected:
        raise IntegrityError(
            f"{where}: the signed manifest describes {manifest.get('name')}@{manifest.get('version')}, "
            "not the model in this folder: a model folder was copied or renamed. Restore the registry "
            "from a trusted copy."
        )
    with tempfile.TemporaryDirectory(prefix="seclearn-verified-") as staging:
        check_files(folder, manifest, where=where, copy_to=Path(staging))
        pipeline = (loader or _load_detection_pipeline)(Path(staging))
    return pipeline, manifest


def sign_model(path: Path, *, key: bytes, overwrite: bool = False) -> Path:
    """Sign an unsigned model folder whose files match its manifest; return the signature path.

    Signing vouches for the model: do it only for a folder whose origin you trust.
    ``overwrite=True`` re-signs an already signed model (for example after a key change).
    """
    check_key(key)
    folder = Path(path)
    where = f"model folder {folder}"
    sig = folder / SIGNATURE_NAME
    if (sig.exists() or sig.is_symlink()) and not overwrite:
        raise RegistryError(
            f"{where} is already signed; pass overwrite=True to sign it again with this key."
        )
    try:
        raw = read_limited(folder / MANIFEST_NAME, MAX_MANIFEST_BYTES, where=where)
    except FileNotFoundError:
        raise RegistryError(
            f"{where}: no {MANIFEST_NAME}; only seclearn model folders can be signed."
        ) from None
    manifest = parse_manifest(raw, where=where)
    if sig.is_symlink():
        sig.unlink()
    check_files(folder, manifest, where=where)
    _write_durably(sig, (sign_bytes(raw, key) + "\n").encode("ascii"))
    return sig


def show_model(ref: str | Path, *, root: Path, key: bytes | None = None) -> dict[str, Any]:
    """Describe one model: its manifest fields plus ``path``, ``signature`` and ``problem``.

    ``signature`` is ``"valid"`` (signature and every file hash checked), ``"invalid"``
    (``problem`` says why) or ``"unchecked"`` when no key was given; in the last two
    cases the manifest fields shown are unverified and must not be trusted.
    """
    folder, _ = _resolve(ref, Path(root), key)
    info = _describe(folder, key)
    return {
        **(info["manifest"] or {}),
        "path": info["path"],
        "signature": info["signature"],
        "problem": info["problem"],
    }


def list_models(root: Path, *, key: bytes | None = None) -> list[dict[str, Any]]:
    """One row per saved model version, sorted by name then version.

    Each row has name, version, path, created_at, stage, detector, threshold,
    signature (``valid``/``invalid``/``unchecked``) and problem.
    """
    registry = models_dir(root)
    rows: list[dict[str, Any]] = []
    for name, versions in _known(registry).items():
        try:
            staged = read_stages(registry / name, key)
        except IntegrityError:
            staged = None
        champ = champion_version(staged)
        former = {c.get("version") for c in (staged or {}).get("history", [])}
        for version in versions:
            info = _describe(registry / name / str(version), key)
            manifest = info["manifest"] or {}
            pipeline = manifest.get("pipeline") or {}
            detector = pipeline.get("detector") if isinstance(pipeline, dict) else None
            if isinstance(detector, dict):
                detector = detector.get("name") or detector.get("kind")
            op = manifest.get("operating_point") or {}
            rows.append(
                {
                    "name": name,
                    "version": version,
                    "path": info["path"],
                    "created_at": manifest.get("created_at"),
                    "stage": "champion"
                    if version == champ
                    else "retired"
                    if version in former
                    else manifest.get("stage"),
                    "detector": detector,
                    "threshold": op.get("threshold") if isinstance(op, dict) else None,
                    "signature": info["signature"],
                    "problem": info["problem"],
                }
            )
    return rows


def _describe(folder: Path, key: bytes | None) -> dict[str, Any]:
    where = f"model folder {folder}"
    manifest: dict[str, Any] | None = None
    problem: str | None = None
    if key is not None:
        try:
            manifest = verify_model(folder, key)
            return {
                "path": str(folder),
                "signature": "valid",
                "problem": None,
                "manifest": manifest,
            }
        except IntegrityError as exc:
            status, problem = "invalid", str(exc)
    else:
        status = "unchecked"
    try:
        manifest = parse_manifest(
            read_limited(folder / MANIFEST_NAME, MAX_MANIFEST_BYTES, where=where), where=where
        )
    except (FileNotFoundError, RegistryError) as exc:
        problem = problem or (
            f"{where}: no {MANIFEST_NAME}" if isinstance(exc, FileNotFoundError) else str(exc)
        )
    return {"path": str(folder), "signature": status, "problem": problem, "manifest": manifest}


def _resolve(
    ref: str | Path, root: Path, key: bytes | None = None
) -> tuple[Path, tuple[str, int] | None]:
    """The folder of a ref, and the (name, version) it must hold when given by name.

    A bare name is the champion when one was promoted (its stages file is verified
    when ``key`` is given, and the champion's manifest must still be the promoted
    one), else the newest version.
    """
    if isinstance(ref, Path) or "/" in ref or "\\" in ref or os.sep in ref:
        return Path(ref), None
    match = _REF.fullmatch(ref)
    if match is None:
        raise RegistryError(
            f"Invalid model reference {ref!r}: expected 'name', 'name@3', 'name@latest', "
            "'name@champion' or a folder path."
        )
    name = check_name(match.group("name"))
    registry = models_dir(root)
    known = _known(registry)
    if name not in known:
        listing = ", ".join(f"{n} (versions {_span(v)})" for n, v in known.items()) or "none"
        raise ModelNotFoundError(
            f"No model named {name!r} in the registry {registry}. Known models: {listing}. "
            "Train one with `seclearn train`, or check the workspace (--workspace / SECLEARN_WORKSPACE)."
        )
    wanted = match.group("version")
    if wanted in (None, "champion"):
        doc = read_stages(registry / name, key)
        champ = champion_version(doc)
        if champ is None and wanted == "champion":
            raise ModelNotFoundError(
                f"Model {name!r} has no champion yet; promote one with `seclearn promote`."
            )
        if champ is not None:
            folder = registry / name / str(champ)
            recorded = (doc or {}).get("champion", {}).get("manifest_sha256")
            if key is not None and folder.is_dir() and manifest_sha256(folder) != recorded:
                raise IntegrityError(
                    f"Champion {name}@{champ}: its manifest is not the one promoted; the "
                    "folder was replaced. Restore it from a backup, or promote again."
                )
            return folder, (name, champ)
    version = known[name][-1] if wanted in (None, "latest", "champion") else int(wanted)
    if version not in known[name]:
        raise ModelNotFoundError(
            f"Model {name!r} has no version {version}; it has versions {_span(known[name])}. "
            f"Use one of them, or '{name}' for the champion (the latest when none is promoted)."
        )
    return registry / name / str(version), (name, version)


def _known(registry: Path) -> dict[str, list[int]]:
    """Model names to their sorted version numbers (version folders only, no temp folders)."""
    if not registry.is_dir():
        return {}
    known: dict[str, list[int]] = {}
    for entry in sorted(registry.iterdir()):
        if entry.is_symlink() or not entry.is_dir() or NAME_PATTERN.fullmatch(entry.name) is None:
            continue
        versions = _versions(entry)
        if versions:
            known[entry.name] = versions
    return known


def _versions(model_dir: Path) -> list[int]:
    return sorted(
        int(p.name) for p in model_dir.iterdir() if _VERSION_DIR.fullmatch(p.name) and p.is_dir()
    )


def _next_version(model_dir: Path) -> int:
    versions = _versions(model_dir)
    return versions[-1] + 1 if versions else 1


def _span(versions: list[int]) -> str:
    return (
        ", ".join(str(v) for v in versions)
        if len(versions) <= 6
        else f"{versions[0]}..{versions[-1]}"
    )


def _load_detection_pipeline(folder: Path) -> Any:
    from seclearn.pipeline import DetectionPipeline  # imported late: registry sits above pipeline

    return DetectionPipeline.load(folder)


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse directory fsync; the rename is still atomic
    finally:
        os.close(fd)


__all__ = [
    "NAME_PATTERN",
    "ModelRef",
    "check_name",
    "list_models",
    "load_model",
    "models_dir",
    "save_model",
    "show_model",
    "sign_model",
    "verify_model",
]
