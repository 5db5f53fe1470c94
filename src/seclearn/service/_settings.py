"""Service settings: workspace, signing key, bearer tokens with scopes, limits, models.

Built at the edge, like :class:`seclearn.config.Settings`: :func:`load_service_settings`
reads the environment when called, never at import time.

``SECLEARN_TOKENS`` holds the bearer tokens, ``;``-separated, each
``NAME:SECRET:SCOPE[,SCOPE...]`` (the secret may itself contain ``:``; at least 16
characters), for example ``alice:3f9c...e1:score,triage;ops:88ab...07:admin``.
Scopes are ``score``, ``triage`` and ``admin`` (admin implies the others). With no
tokens every route but ``GET /healthz`` refuses every request: closed by default.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from seclearn.config import Settings, load_settings
from seclearn.errors import ConfigError

#: Environment variables that :func:`load_service_settings` reads (besides those of
#: :func:`seclearn.config.load_settings`).
ENV_TOKENS = "SECLEARN_TOKENS"
ENV_MODELS = "SECLEARN_MODELS"
ENV_RATE = "SECLEARN_RATE_PER_MINUTE"

#: Scopes a token may hold; ``admin`` implies every other.
SCOPES: tuple[str, ...] = ("admin", "score", "triage")

_MIN_SECRET_CHARS = 16


@dataclass(frozen=True)
class Token:
    """A named bearer token and its scopes. Only a digest of the secret is kept."""

    name: str
    digest: bytes = field(repr=False)
    scopes: frozenset[str]

    @classmethod
    def from_secret(cls, name: str, secret: str, scopes: set[str] | frozenset[str]) -> Token:
        if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ConfigError(
                f"A token name must be letters, digits, '-', '_' or '.', got {name!r}."
            )
        if len(secret) < _MIN_SECRET_CHARS:
            raise ConfigError(
                f"The secret of token {name!r} must be at least {_MIN_SECRET_CHARS} characters, "
                f"got {len(secret)}. Generate one with `openssl rand -hex 32`."
            )
        bad = sorted(set(scopes) - set(SCOPES))
        if bad or not scopes:
            raise ConfigError(
                f"Token {name!r} needs one or more scopes among {', '.join(SCOPES)}, "
                f"got {','.join(sorted(scopes)) or 'none'}."
            )
        return cls(name=name, digest=digest(secret), scopes=frozenset(scopes))

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


def digest(secret: str) -> bytes:
    """The SHA-256 of a secret: equal-length values for ``hmac.compare_digest``."""
    return hashlib.sha256(secret.encode("utf-8", errors="surrogatepass")).digest()


@dataclass(frozen=True)
class ServiceLimits:
    """Hard limits on every request, enforced before its body is parsed."""

    max_body_bytes: int = 1024 * 1024
    max_events: int = 10_000
    max_json_depth: int = 32
    rate_per_minute: int = 600

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_events", "max_json_depth", "rate_per_minute"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"ServiceLimits.{name} must be a positive integer, got {value!r}."
                )


@dataclass(frozen=True)
class ServiceSettings:
    """What :func:`seclearn.service.create_app` needs.

    ``models`` names the registry models served; empty means every model in the
    registry. Each is served at its newest version (the champion, until the registry
    has a champion stage), loaded on first use and kept until restart.
    """

    base: Settings = field(default_factory=Settings)
    tokens: tuple[Token, ...] = ()
    limits: ServiceLimits = field(default_factory=ServiceLimits)
    models: tuple[str, ...] = ()
    explain_top_k: int = 3

    def __post_init__(self) -> None:
        names = [t.name for t in self.tokens]
        if len(set(names)) != len(names):
            raise ConfigError(f"Token names must be unique, got {', '.join(sorted(names))}.")

    @property
    def workspace(self) -> Path:
        return self.base.workspace


def parse_tokens(text: str) -> tuple[Token, ...]:
    """Tokens from ``NAME:SECRET:SCOPES;...`` (see the module docstring)."""
    tokens: list[Token] = []
    for n, item in enumerate(p.strip() for p in text.split(";")):
        if not item:
            continue
        name, _, rest = item.partition(":")
        secret, _, scopes = rest.rpartition(":")
        if not name or not secret or not scopes:
            raise ConfigError(
                f"Entry {n + 1} of {ENV_TOKENS} must be NAME:SECRET:SCOPE[,SCOPE...] "
                f"(the secret is not shown here); it names {name!r}."
            )
        tokens.append(
            Token.from_secret(name, secret, {s.strip() for s in scopes.split(",") if s.strip()})
        )
    return tuple(tokens)


def load_service_settings(
    workspace: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> ServiceSettings:
    """Service settings from arguments first, then the environment, then defaults."""
    env = dict(os.environ if environ is None else environ)
    base = load_settings(workspace, env)
    rate = env.get(ENV_RATE)
    try:
        limits = ServiceLimits(rate_per_minute=int(rate)) if rate else ServiceLimits()
    except ValueError as exc:
        raise ConfigError(f"{ENV_RATE} must be a positive integer, got {rate!r}.") from exc
    models = tuple(m.strip() for m in env.get(ENV_MODELS, "").split(",") if m.strip())
    return ServiceSettings(
        base=base, tokens=parse_tokens(env.get(ENV_TOKENS, "")), limits=limits, models=models
    )
