"""HMAC-SHA256 signatures over a model's ``manifest.json``.

The signature file ``manifest.sig`` holds one ASCII line::

    hmac-sha256:<key id>:<64 hex digits>

where the key id is the first 8 hex digits of ``sha256(key)``. The key id is not a
secret and proves nothing; it only lets a wrong-key error say which key signed the
model. The signature itself is compared with :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from seclearn.config import ENV_SIGNING_KEY
from seclearn.errors import IntegrityError, RegistryError

SIGNATURE_ALGORITHM = "hmac-sha256"
#: Largest ``manifest.sig`` read; a valid one is 85 bytes.
MAX_SIGNATURE_BYTES = 512
_SIGNATURE_LINE = re.compile(r"hmac-sha256:([0-9a-f]{8}):([0-9a-f]{64})")
_MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class Signature:
    """A parsed ``manifest.sig``: who signed (key id) and the HMAC digest in hex."""

    key_id: str
    digest_hex: str


def check_key(key: bytes) -> None:
    """Refuse keys that are not bytes or too short to be a secret."""
    if not isinstance(key, bytes | bytearray):
        raise RegistryError(
            f"The signing key must be bytes, got {type(key).__name__}. "
            f"Pass Settings.key(), or set {ENV_SIGNING_KEY}."
        )
    if len(key) < _MIN_KEY_BYTES:
        raise RegistryError(
            f"The signing key must be at least {_MIN_KEY_BYTES} bytes, got {len(key)}. "
            f"Set {ENV_SIGNING_KEY} to a longer secret (for example `openssl rand -hex 32`)."
        )


def key_id(key: bytes) -> str:
    """The public identifier of a key: the first 8 hex digits of its sha256."""
    return hashlib.sha256(bytes(key)).hexdigest()[:8]


def sign_bytes(data: bytes, key: bytes) -> str:
    """The ``manifest.sig`` line (without newline) for ``data``."""
    check_key(key)
    digest = hmac.new(bytes(key), data, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_ALGORITHM}:{key_id(key)}:{digest}"


def parse_signature(raw: bytes, *, where: str) -> Signature:
    """Parse the bytes of a ``manifest.sig``; anything but the one expected line is refused."""
    text = raw.decode("ascii", errors="replace").strip()
    match = _SIGNATURE_LINE.fullmatch(text)
    if match is None:
        raise IntegrityError(
            f"{where}: manifest.sig is malformed: expected one line "
            f"'hmac-sha256:<8 hex key id>:<64 hex digest>', got {len(raw)} bytes that do not match. "
            "The signature file was damaged or replaced; restore the model from a trusted copy or re-train it."
        )
    return Signature(key_id=match.group(1), digest_hex=match.group(2))


def check_signature(data: bytes, signature: Signature, key: bytes, *, where: str) -> None:
    """Raise :class:`IntegrityError` unless ``signature`` is the HMAC of ``data`` under ``key``."""
    check_key(key)
    expected = hmac.new(bytes(key), data, hashlib.sha256).hexdigest()
    if hmac.compare_digest(expected, signature.digest_hex):
        return
    configured = key_id(key)
    if signature.key_id != configured:
        raise IntegrityError(
            f"{where}: the model was signed with key id {signature.key_id}, the configured key is "
            f"{configured}: set {ENV_SIGNING_KEY} to the key used at training."
        )
    raise IntegrityError(
        f"{where}: manifest.json does not match its signature (key id {configured}): the manifest "
        "was modified after signing. Do not use this model; restore it from a trusted copy or re-train it."
    )


__all__ = [
    "MAX_SIGNATURE_BYTES",
    "SIGNATURE_ALGORITHM",
    "Signature",
    "check_key",
    "check_signature",
    "key_id",
    "parse_signature",
    "sign_bytes",
]
