""":class:`SQLiteOutbox`: the :class:`~seclearn.store.Outbox` protocol on the state database.

An item is due when it is unacknowledged, its ``due_at`` has come, and it holds no
live lease. ``claim`` leases due items until ``now + lease_s``; ``ack`` marks an item
delivered for good; ``fail`` counts the attempt, records the error, drops the lease
and makes the item due again at ``retry_at``. An item whose deliverer crashed is due
again once its lease has expired. ``OutboxItem.attempts`` is the number of failed
attempts recorded so far (0 on the first delivery).
"""

from __future__ import annotations

import math
import sqlite3
import time
from pathlib import Path

from seclearn.errors import ConfigError
from seclearn.store._checks import record_id
from seclearn.store._db import Clock, Database, canonical_json
from seclearn.store._errors import RecordNotFoundError
from seclearn.store.outbox_protocol import OutboxItem
from seclearn.store.records import Alert

_MAX_ERROR_CHARS = 2000


def outbox_key(alert_id: int, sink: str) -> str:
    """The idempotency key of an alert's outbox item for one sink: ``alert-<id>-<sink>``."""
    return f"alert-{alert_id}-{sink}"


def alert_payload(alert: Alert, sink: str) -> bytes:
    """The default outbox payload: ``{"type": "alert", "alert": {...}}`` as canonical JSON."""
    return canonical_json({"type": "alert", "alert": alert.to_dict()}).encode()


def _check_name(what: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"The outbox {what} must be a non-empty string, got {value!r}.")
    return value


def enqueue_in(
    conn: sqlite3.Connection, *, sink: str, key: str, payload: bytes, now: float
) -> bool:
    """Queue one item inside the caller's open write transaction; False if (sink, key) exists."""
    _check_name("sink", sink)
    _check_name("key", key)
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise ConfigError(f"An outbox payload must be bytes, got {type(payload).__name__}.")
    cur = conn.execute(
        "INSERT INTO outbox (sink, key, payload, attempts, due_at, created_at) "
        "VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (sink, key) DO NOTHING",
        (sink, key, bytes(payload), now, now),
    )
    return cur.rowcount == 1


class SQLiteOutbox:
    """Durable per-sink queue in ``state.db`` with leases, retries and idempotency keys.

    Open it on a path (``SQLiteOutbox(state_path(workspace))``) or take
    :attr:`seclearn.store.StateStore.outbox`, which shares the store's connections.
    """

    def __init__(
        self, path: str | Path, *, clock: Clock = time.time, busy_timeout_s: float = 10.0
    ) -> None:
        self._db = Database(path, clock=clock, busy_timeout_s=busy_timeout_s)

    @classmethod
    def _on(cls, db: Database) -> SQLiteOutbox:
        outbox = cls.__new__(cls)
        outbox._db = db
        return outbox

    def close(self) -> None:
        self._db.close()

    def enqueue(self, *, sink: str, key: str, payload: bytes) -> bool:
        """Queue ``payload`` for ``sink``; False (and nothing queued) when ``key`` is already there."""
        with self._db.write() as conn:
            return enqueue_in(
                conn, sink=sink, key=key, payload=payload, now=float(self._db.clock())
            )

    def claim(self, *, sink: str, limit: int, now: float, lease_s: float) -> list[OutboxItem]:
        """Up to ``limit`` due, unacknowledged items of ``sink``, leased until ``now + lease_s``."""
        _check_name("sink", sink)
        if not isinstance(limit, int) or limit < 1:
            raise ConfigError(f"claim's limit must be a positive integer, got {limit!r}.")
        if not (isinstance(lease_s, int | float) and math.isfinite(lease_s) and lease_s > 0):
            raise ConfigError(f"claim's lease_s must be a positive number, got {lease_s!r}.")
        with self._db.write() as conn:
            rows = conn.execute(
                "SELECT id, sink, key, payload, attempts FROM outbox "
                "WHERE sink = ? AND acked_at IS NULL AND due_at <= ? "
                "AND (leased_until IS NULL OR leased_until <= ?) "
                "ORDER BY due_at, id LIMIT ?",
                (sink, now, now, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE outbox SET leased_until = ? WHERE id = ?",
                [(now + lease_s, r["id"]) for r in rows],
            )
        return [
            OutboxItem(
                id=r["id"],
                sink=r["sink"],
                key=r["key"],
                payload=r["payload"],
                attempts=r["attempts"],
            )
            for r in rows
        ]

    def ack(self, item_id: int) -> None:
        """Mark an item delivered; it is never claimed again (acking twice is harmless)."""
        item_id = record_id("item_id", item_id)
        with self._db.write() as conn:
            self._require(conn, item_id)
            conn.execute(
                "UPDATE outbox SET acked_at = ?, leased_until = NULL "
                "WHERE id = ? AND acked_at IS NULL",
                (float(self._db.clock()), item_id),
            )

    def fail(self, item_id: int, *, error: str, retry_at: float) -> None:
        """Record a failed attempt; the item is due again at ``retry_at`` (no-op once acked)."""
        if not (isinstance(retry_at, int | float) and math.isfinite(retry_at)):
            raise ConfigError(
                f"fail's retry_at must be a finite time in seconds, got {retry_at!r}."
            )
        item_id = record_id("item_id", item_id)
        with self._db.write() as conn:
            self._require(conn, item_id)
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, due_at = ?, "
                "leased_until = NULL WHERE id = ? AND acked_at IS NULL",
                (str(error)[:_MAX_ERROR_CHARS], float(retry_at), item_id),
            )

    def pending(self, sink: str | None = None) -> int:
        """How many items (of ``sink``, or of every sink) are not yet acknowledged."""
        with self._db.read() as conn:
            if sink is None:
                row = conn.execute("SELECT COUNT(*) FROM outbox WHERE acked_at IS NULL").fetchone()
            else:
                row = conn.execute(
                    "SELECT COUNT(*) FROM outbox WHERE acked_at IS NULL AND sink = ?", (sink,)
                ).fetchone()
        return int(row[0])

    @staticmethod
    def _require(conn: sqlite3.Connection, item_id: int) -> None:
        if conn.execute("SELECT 1 FROM outbox WHERE id = ?", (item_id,)).fetchone() is None:
            raise RecordNotFoundError(
                f"There is no outbox item {item_id!r}; pass the id of an item returned by claim()."
            )
