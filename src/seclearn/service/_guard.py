"""What every request passes before a route sees it: auth, rate, body size and depth."""

from __future__ import annotations

import hmac
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from seclearn.service._settings import Token, digest

Clock = Callable[[], float]


class ApiError(Exception):
    """An error the API reports as ``{"ok": false, "error": message, "status": ...}``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="seclearn"'}


def authenticate(tokens: tuple[Token, ...], header: str | None) -> Token:
    """The token named by an ``Authorization: Bearer`` header; ApiError 401 otherwise.

    Every configured token is compared (with ``hmac.compare_digest`` on digests), so the
    time taken does not depend on which one matched.
    """
    scheme, _, secret = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "missing bearer token", _CHALLENGE)
    presented = digest(secret.strip())
    found: Token | None = None
    for token in tokens:
        if hmac.compare_digest(token.digest, presented):
            found = token
    if found is None:
        raise ApiError(401, "invalid bearer token", _CHALLENGE)
    return found


class RateLimiter:
    """A token bucket per token name: ``per_minute`` requests, refilled continuously."""

    def __init__(self, per_minute: int, clock: Clock = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate_per_s = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Spend one request of ``key``'s budget; ApiError 429 with Retry-After when empty."""
        with self._lock:
            now = self.clock()
            level, then = self._buckets.get(key, (self.capacity, now))
            level = min(self.capacity, level + max(0.0, now - then) * self.rate_per_s)
            if level < 1.0:
                self._buckets[key] = (level, now)
                wait_s = max(1, math.ceil((1.0 - level) / self.rate_per_s))
                raise ApiError(429, "rate limit exceeded", {"Retry-After": str(wait_s)})
            self._buckets[key] = (level - 1.0, now)


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused with 413 once it passes ``max_bytes`` (declared or not)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ApiError(400, "invalid Content-Length header")
        if int(declared) > max_bytes:
            raise ApiError(413, f"request body larger than {max_bytes} bytes")
    parts: list[bytes] = []
    size = 0
    async for part in request.stream():
        size += len(part)
        if size > max_bytes:
            raise ApiError(413, f"request body larger than {max_bytes} bytes")
        parts.append(part)
    return b"".join(parts)


_STRUCTURE = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def check_depth(body: bytes, max_depth: int) -> None:
    """ApiError 422 if JSON ``body`` nests deeper than ``max_depth``; scans, never recurses.

    Strings are skipped whole, so brackets inside them do not count. Malformed JSON is
    left for the parser to report.
    """
    depth = 0
    for match in _STRUCTURE.finditer(body):
        char = match.group()[:1]
        if char in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                raise ApiError(422, f"JSON nested deeper than {max_depth} levels")
        elif char in (b"]", b"}"):
            depth -= 1


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name (never its secret) and scopes."""

    name: str
    scopes: frozenset[str]
