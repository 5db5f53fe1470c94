"""Typed settings, built once at the edge (CLI, service) and passed down explicitly.

Nothing here reads the environment at import time: :func:`load_settings` does, when
called.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from seclearn.errors import ConfigError

#: Environment variables that :func:`load_settings` reads.
ENV_WORKSPACE = "SECLEARN_WORKSPACE"
ENV_SIGNING_KEY = "SECLEARN_SIGNING_KEY"
ENV_DATA = "SECLEARN_DATA"

_MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class Limits:
    """Hard limits every parser of untrusted input enforces."""

    max_file_bytes: int = 64 * 1024**3
    max_line_bytes: int = 1024 * 1024
    max_fields: int = 4096
    max_decompressed_bytes: int = 256 * 1024**3
    max_json_depth: int = 32


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about its surroundings."""

    workspace: Path = Path(".seclearn")
    signing_key: bytes | None = field(default=None, repr=False)
    limits: Limits = field(default_factory=Limits)
    chunk_rows: int = 200_000
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.signing_key is not None and len(self.signing_key) < _MIN_KEY_BYTES:
            raise ConfigError(
                f"The signing key must be at least {_MIN_KEY_BYTES} bytes, got {len(self.signing_key)}. "
                f"Set {ENV_SIGNING_KEY} to a longer secret (for example `openssl rand -hex 32`)."
            )
        if self.chunk_rows < 1:
            raise ConfigError(f"chunk_rows must be a positive integer, got {self.chunk_rows}.")

    def key(self) -> bytes:
        """The model-signing key: from settings, else the workspace's key file (created once).

        A workspace key file is convenient on one machine; in production set
        ``SECLEARN_SIGNING_KEY`` so that the key never sits beside the models it signs.
        """
        if self.signing_key is not None:
            return self.signing_key
        path = self.workspace / "signing.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        text = path.read_text().strip()
        if len(text) < 2 * _MIN_KEY_BYTES:
            raise ConfigError(
                f"The key file {path} holds fewer than {_MIN_KEY_BYTES} bytes of key. Delete it to "
                f"create a new one (models signed with the old key will then be refused), or set {ENV_SIGNING_KEY}."
            )
        return text.encode()


def load_settings(
    workspace: str | Path | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Build :class:`Settings` from arguments first, then the environment, then defaults."""
    env = os.environ if environ is None else environ
    ws = Path(workspace) if workspace is not None else Path(env.get(ENV_WORKSPACE, ".seclearn"))
    raw_key = env.get(ENV_SIGNING_KEY)
    return Settings(workspace=ws, signing_key=raw_key.encode() if raw_key else None)


def shared_data_dir(environ: dict[str, str] | None = None) -> Path | None:
    """The folder of public datasets: ``$SECLEARN_DATA`` or ``../shared/data``; None if absent."""
    env = os.environ if environ is None else environ
    candidates = [Path(env[ENV_DATA])] if env.get(ENV_DATA) else []
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "data")
    candidates.append(Path.cwd().parent / "shared" / "data")
    for c in candidates:
        if c.is_dir():
            return c
    return None


__all__ = [
    "ENV_DATA",
    "ENV_SIGNING_KEY",
    "ENV_WORKSPACE",
    "Limits",
    "Settings",
    "load_settings",
    "shared_data_dir",
]
