"""Checks run on a model folder before any parser reads any of its files.

Order, for every load:

1. ``manifest.json`` and ``manifest.sig`` are read as bytes, size-limited, without
   following symlinks;
2. the HMAC of the raw manifest bytes is compared with the signature;
3. only then is the manifest parsed as JSON;
4. every name in ``files`` is a plain relative path (no ``..``, no absolute path, no
   backslash), the folder holds no symlink, no special file and no file the manifest
   does not list, and every listed file exists with the listed size and sha256.

When a ``copy_to`` folder is given, the bytes are copied there while they are hashed,
so that the pipeline later parses exactly the bytes that were checked, even if
somebody swaps a file in the registry between the check and the load.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from seclearn.errors import IntegrityError, ModelNotFoundError, RegistryError
from seclearn.registry._signing import MAX_SIGNATURE_BYTES, check_signature, parse_signature

MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
FORMAT_VERSION = 1
#: Largest ``manifest.json`` read.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
#: Most files a model folder may list.
MAX_FILES = 10_000
_CHUNK_BYTES = 1024 * 1024
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_RESERVED = {MANIFEST_NAME, SIGNATURE_NAME}


def read_limited(path: Path, max_bytes: int, *, where: str) -> bytes:
    """Read a regular file of at most ``max_bytes`` bytes, refusing symlinks."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        if path.is_symlink():
            raise IntegrityError(
                f"{where}: {path.name} is a symlink; a model folder must hold only regular files. "
                "Replace the link with the file it points to, or restore the model from a trusted copy."
            ) from None
        raise RegistryError(f"{where}: cannot read {path.name}: {exc.strerror}.") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise IntegrityError(f"{where}: {path.name} is not a regular file.")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise IntegrityError(
            f"{where}: {path.name} is larger than the limit of {max_bytes} bytes; "
            "a genuine model manifest is far smaller. Restore the model from a trusted copy."
        )
    return data


def check_relative_name(name: object, *, where: str) -> PurePosixPath:
    """Return ``name`` as a safe relative path, or raise :class:`IntegrityError`."""
    if not isinstance(name, str) or not name or len(name) > 1024:
        raise IntegrityError(f"{where}: the manifest lists a file with an invalid name {name!r}.")
    path = PurePosixPath(name)
    bad = (
        "\\" in name
        or "\x00" in name
        or path.is_absolute()
        or re.match(r"^[A-Za-z]:", name) is not None
        or any(part in {"", ".", ".."} for part in name.split("/"))
    )
    if bad:
        raise IntegrityError(
            f"{where}: the manifest lists the file name {name!r}, which escapes or is not a plain "
            "relative path (no '..', no absolute paths, no backslashes). Do not use this model."
        )
    if name in _RESERVED:
        raise IntegrityError(f"{where}: the manifest lists its own file {name!r} as a model file.")
    return path


def scan_files(folder: Path, *, where: str) -> dict[str, int]:
    """Every regular file under ``folder`` (POSIX relative name to size), refusing symlinks."""
    found: dict[str, int] = {}
    stack = [folder]
    while stack:
        current = stack.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                rel = Path(entry.path).relative_to(folder).as_posix()
                if entry.is_symlink():
                    raise IntegrityError(
                        f"{where}: {rel} is a symlink; a model folder must hold only regular files. "
                        "Remove the link or restore the model from a trusted copy."
                    )
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    found[rel] = entry.stat(follow_symlinks=False).st_size
                else:
                    raise IntegrityError(f"{where}: {rel} is not a regular file or folder.")
                if len(found) > MAX_FILES:
                    raise IntegrityError(f"{where}: the folder holds more than {MAX_FILES} files.")
    return found


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def read_signed_manifest(folder: Path, key: bytes, *, where: str) -> dict[str, Any]:
    """Steps 1-3: size-limited reads, HMAC check on raw bytes, then JSON parsing."""
    if folder.is_symlink():
        raise IntegrityError(f"{where}: the model folder is a symlink; pass the real folder.")
    if not folder.is_dir():
        raise ModelNotFoundError(
            f"{where}: expected a model folder, found none at {folder}. "
            "Check the path, or load by name ('name' or 'name@3') from the workspace registry."
        )
    try:
        raw = read_limited(folder / MANIFEST_NAME, MAX_MANIFEST_BYTES, where=where)
    except FileNotFoundError:
        raise IntegrityError(
            f"{where}: no {MANIFEST_NAME}: this is not a seclearn model folder, or it is incomplete. "
            "Save models with seclearn (`seclearn train`) and load the folder it reports."
        ) from None
    try:
        raw_sig = read_limited(folder / SIGNATURE_NAME, MAX_SIGNATURE_BYTES, where=where)
    except FileNotFoundError:
        raise IntegrityError(
            f"{where}: no {SIGNATURE_NAME}: this model was not signed, so it cannot be trusted. "
            "Re-train it with `seclearn train`, which signs what it saves; or, only if you know where "
            "it came from, sign it with `seclearn models sign PATH` using the key in SECLEARN_SIGNING_KEY."
        ) from None
    check_signature(raw, parse_signature(raw_sig, where=where), key, where=where)
    return parse_manifest(raw, where=where)


def parse_manifest(raw: bytes, *, where: str) -> dict[str, Any]:
    """Parse manifest bytes and check the fields the registry relies on."""
    try:
        manifest = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise IntegrityError(f"{where}: {MANIFEST_NAME} is not valid JSON ({exc}).") from None
    if not isinstance(manifest, dict):
        raise IntegrityError(f"{where}: {MANIFEST_NAME} must hold a JSON object.")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise RegistryError(
            f"{where}: manifest format_version {version!r} is not supported by this seclearn "
            f"(expected {FORMAT_VERSION}). Use the seclearn version that wrote the model, or re-train it."
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or len(files) > MAX_FILES:
        raise IntegrityError(
            f"{where}: the manifest's 'files' must map at most {MAX_FILES} names to hashes."
        )
    for name, entry in files.items():
        check_relative_name(name, where=where)
        ok = (
            isinstance(entry, dict)
            and isinstance(entry.get("sha256"), str)
            and _SHA256_HEX.fullmatch(entry["sha256"]) is not None
            and type(entry.get("size_bytes")) is int
            and entry["size_bytes"] >= 0
        )
        if not ok:
            raise IntegrityError(
                f"{where}: the manifest entry for {name!r} must be {{'sha256': 64 hex, 'size_bytes': int >= 0}}."
            )
    return manifest


def check_files(
    folder: Path, manifest: dict[str, Any], *, where: str, copy_to: Path | None = None
) -> None:
    """Step 4: the folder holds exactly the listed files, with the listed sizes and hashes."""
    listed: dict[str, dict[str, Any]] = manifest["files"]
    present = scan_files(folder, where=where)
    for name in _RESERVED:
        present.pop(name, None)
    extra = sorted(set(present) - set(listed))
    if extra:
        shown = ", ".join(extra[:5]) + (" ..." if len(extra) > 5 else "")
        raise IntegrityError(
            f"{where}: found {len(extra)} file(s) the signed manifest does not list: {shown}. "
            "Something was added to the model folder after signing; remove it or restore the model."
        )
    for name in sorted(listed):
        entry = listed[name]
        if name not in present:
            raise IntegrityError(
                f"{where}: the file {name} listed in the manifest is missing. Restore the model from a trusted copy."
            )
        if present[name] != entry["size_bytes"]:
            raise IntegrityError(
                f"{where}: the file {name} was modified after signing: expected {entry['size_bytes']} bytes, "
                f"found {present[name]}. Do not use this model; restore it or re-train it."
            )
        actual = _hash_and_copy(folder, name, entry["size_bytes"], copy_to, where=where)
        if not hmac.compare_digest(actual, entry["sha256"]):
            raise IntegrityError(
                f"{where}: the file {name} was modified after signing: its sha256 is {actual[:12]}..., "
                f"the manifest says {entry['sha256'][:12]}.... Do not use this model; restore it or re-train it."
            )


def _hash_and_copy(
    folder: Path, name: str, size_bytes: int, copy_to: Path | None, *, where: str
) -> str:
    """Hash at most ``size_bytes + 1`` bytes of a file, copying them to ``copy_to`` if given."""
    path = folder / name
    digest = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:  # replaced by a symlink or removed since the folder was scanned
        raise IntegrityError(
            f"{where}: cannot open {name} as a regular file ({exc.strerror})."
        ) from None
    out = None
    if copy_to is not None:
        target = copy_to / name
        target.parent.mkdir(parents=True, exist_ok=True)
        out = open(target, "xb")  # noqa: SIM115 - closed below
    try:
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise IntegrityError(f"{where}: {name} is not a regular file.")
            remaining = size_bytes + 1
            while remaining > 0 and (chunk := fh.read(min(_CHUNK_BYTES, remaining))):
                remaining -= len(chunk)
                digest.update(chunk)
                if out is not None:
                    out.write(chunk)
    finally:
        if out is not None:
            out.close()
    return digest.hexdigest()


__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "MAX_FILES",
    "MAX_MANIFEST_BYTES",
    "SIGNATURE_NAME",
    "check_files",
    "check_relative_name",
    "parse_manifest",
    "read_limited",
    "read_signed_manifest",
    "scan_files",
    "sha256_file",
]
