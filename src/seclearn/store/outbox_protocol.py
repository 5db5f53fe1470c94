"""The outbox contract between the state store and the alert sinks.

An alert bound for an incident-response tool is first written to the outbox, in the
same transaction as the alert itself; a delivery loop then claims due items, hands
each to its sink, and acknowledges it only after the sink accepted it. A crashed
deliverer's claims expire after their lease and are claimed again, so every item
reaches its sink at least once; the idempotency ``key`` travels with the payload so
that the receiver (or the sink) can drop repeats, which makes delivery exactly once
after dedup. :class:`seclearn.store.SQLiteOutbox` implements this protocol on the
state database; tests may use any object that satisfies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class OutboxItem:
    """One payload waiting for one sink."""

    id: int
    sink: str
    key: str
    payload: bytes
    attempts: int


@runtime_checkable
class Outbox(Protocol):
    """Durable queue of payloads per sink, with leases, retries and idempotency keys."""

    def enqueue(self, *, sink: str, key: str, payload: bytes) -> bool:
        """Queue ``payload`` for ``sink``; False (and nothing queued) when ``key`` is already there."""
        ...

    def claim(self, *, sink: str, limit: int, now: float, lease_s: float) -> list[OutboxItem]:
        """Up to ``limit`` due, unacknowledged items of ``sink``, leased until ``now + lease_s``."""
        ...

    def ack(self, item_id: int) -> None:
        """Mark an item delivered; it is never claimed again."""
        ...

    def fail(self, item_id: int, *, error: str, retry_at: float) -> None:
        """Record a failed attempt; the item is due again at ``retry_at``."""
        ...


__all__ = ["Outbox", "OutboxItem"]
