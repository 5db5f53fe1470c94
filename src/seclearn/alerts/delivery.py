"""The delivery loop: outbox items to a sink, at least once, with backoff and give-up.

:func:`deliver` makes one pass for one sink: it claims up to ``batch`` due items under
a lease, sends each, acknowledges it only after the sink accepted it, and otherwise
records the failure so that the item is due again after an exponential backoff with
seeded jitter. A deliverer that dies between ``send`` and ``ack`` loses nothing: its
lease expires and the next pass sends the item again, with the same idempotency key,
so a receiver that drops repeats sees each alert exactly once.

Giving up. After ``max_attempts`` failed attempts, or at once on a
:class:`~seclearn.alerts.sinks.PermanentDeliveryError`, the item is *not*
acknowledged: its failure is recorded with an error that starts with
:data:`GAVE_UP_PREFIX` and a ``retry_at`` of :data:`GIVE_UP_AT` (the last second of
year 9999), so it is never due again but stays in the outbox, counted as pending,
with its reason, for an operator to inspect and re-queue. Each pass also lists the
items it gave up on in :attr:`DeliveryReport.gave_up`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from seclearn.alerts.sinks import PermanentDeliveryError, Sink
from seclearn.errors import ConfigError, DeliveryError
from seclearn.store.outbox_protocol import Outbox, OutboxItem

#: ``retry_at`` of an item given up on: 9999-12-31T23:59:59Z, finite so any store holds it.
GIVE_UP_AT = 253_402_300_799.0
#: Start of the recorded error of an item given up on.
GAVE_UP_PREFIX = "gave up: "


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with seeded, per-item jitter.

    Failed attempt ``n`` (1-based) waits ``min(max_s, base_s * factor**(n-1) * (1 + jitter*u))``
    seconds, where ``u`` in [0, 1) is drawn from a hash of ``(random_state, key, n)``:
    the same for the same item and attempt (so runs are reproducible) but different
    across items (so retries of a burst spread out). With ``jitter < factor - 1`` the
    delay grows strictly with ``n`` until it reaches ``max_s``.

    >>> b = Backoff(base_s=1.0, factor=2.0, jitter=0.5, max_s=60.0)
    >>> [round(b.delay_s(n, "k"), 2) for n in (1, 2, 3, 10)]
    [1.16, 2.38, 4.77, 60.0]
    """

    base_s: float = 1.0
    factor: float = 2.0
    max_s: float = 3600.0
    jitter: float = 0.5
    random_state: int = 0

    def __post_init__(self) -> None:
        if not self.base_s > 0:
            raise ConfigError(f"Backoff base_s must be positive, got {self.base_s!r}.")
        if not self.factor >= 1:
            raise ConfigError(f"Backoff factor must be at least 1, got {self.factor!r}.")
        if not self.max_s >= self.base_s:
            raise ConfigError(
                f"Backoff max_s must be at least base_s ({self.base_s}), got {self.max_s!r}."
            )
        if not 0 <= self.jitter <= 1:
            raise ConfigError(f"Backoff jitter must be in [0, 1], got {self.jitter!r}.")

    def delay_s(self, attempt: int, key: str) -> float:
        """Seconds to wait after failed attempt number ``attempt`` of item ``key``."""
        digest = hashlib.sha256(f"{self.random_state}\0{key}\0{attempt}".encode()).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64
        exponent = min(max(attempt - 1, 0), 1024)
        try:
            raw = self.base_s * self.factor**exponent
        except OverflowError:
            raw = self.max_s
        return min(self.max_s, raw * (1.0 + self.jitter * u))


@dataclass
class DeliveryReport:
    """What one :func:`deliver` pass did, by idempotency key."""

    delivered: list[str] = field(default_factory=list)
    retried: list[tuple[str, float]] = field(default_factory=list)
    gave_up: list[tuple[str, str]] = field(default_factory=list)
    lease_expired: list[str] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        """How many items the pass claimed."""
        return len(self.delivered) + len(self.retried) + len(self.gave_up) + len(self.lease_expired)


def _check(batch: int, lease_s: float, max_attempts: int) -> None:
    if not (isinstance(batch, int) and batch >= 1):
        raise ConfigError(f"deliver's batch must be a positive integer, got {batch!r}.")
    if not lease_s > 0:
        raise ConfigError(f"deliver's lease_s must be positive, got {lease_s!r}.")
    if not (isinstance(max_attempts, int) and max_attempts >= 1):
        raise ConfigError(
            f"deliver's max_attempts must be a positive integer, got {max_attempts!r}."
        )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:500] or type(exc).__name__


def deliver(
    outbox: Outbox,
    sink_name: str,
    sink: Sink,
    *,
    clock: Callable[[], float] = time.time,
    batch: int = 100,
    lease_s: float = 60.0,
    max_attempts: int = 8,
    backoff: Backoff | None = None,
) -> DeliveryReport:
    """One delivery pass of ``sink_name``'s due outbox items to ``sink``.

    Claims up to ``batch`` items leased for ``lease_s`` seconds and sends them in
    order. Success acknowledges the item. A retryable ``DeliveryError`` records the
    failure with ``retry_at = clock() + backoff.delay_s(attempt, key)``; the attempt
    that makes ``max_attempts`` failures, or any ``PermanentDeliveryError``, gives up
    (see the module docstring). If the lease runs out mid-batch the pass stops and
    leaves the rest unsent (another deliverer may already hold them). Exceptions other
    than ``DeliveryError`` (a misconfigured sink, a bug) propagate; their items become
    due again when the lease expires.
    """
    _check(batch, lease_s, max_attempts)
    backoff = Backoff() if backoff is None else backoff
    report = DeliveryReport()
    claimed_at = clock()
    items: list[OutboxItem] = outbox.claim(
        sink=sink_name, limit=batch, now=claimed_at, lease_s=lease_s
    )
    for index, item in enumerate(items):
        if clock() >= claimed_at + lease_s:
            report.lease_expired += [it.key for it in items[index:]]
            break
        attempt = item.attempts + 1
        try:
            sink.send(item.key, item.payload)
        except DeliveryError as exc:
            reason = _one_line(exc)
            permanent = isinstance(exc, PermanentDeliveryError)
            if permanent or attempt >= max_attempts:
                why = "permanent error" if permanent else f"{attempt} failed attempts"
                error = f"{GAVE_UP_PREFIX}{why}: {reason}"
                outbox.fail(item.id, error=error, retry_at=GIVE_UP_AT)
                report.gave_up.append((item.key, error))
            else:
                retry_at = clock() + backoff.delay_s(attempt, item.key)
                outbox.fail(item.id, error=f"attempt {attempt}: {reason}", retry_at=retry_at)
                report.retried.append((item.key, retry_at))
            continue
        outbox.ack(item.id)
        report.delivered.append(item.key)
    return report
