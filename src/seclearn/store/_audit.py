"""The hash-chained audit log.

Every entry's ``hash`` is ``sha256(prev_hash || canonical JSON of the entry)``, where the
entry is its sequence number, time, action, subject, actor and detail, and the first
entry's ``prev_hash`` is 64 zeros. ``audit_head`` holds the last entry's sequence number
and hash, so that removing entries from the end is detected too. An entry is appended
in the same transaction as the change it records.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from seclearn.errors import AuditChainError
from seclearn.store._db import canonical_json

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the audit log."""

    seq: int
    ts: float
    action: str
    subject: str
    actor: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


def entry_hash(
    prev_hash: str, *, seq: int, ts: float, action: str, subject: str, actor: str, detail: Any
) -> str:
    """The hash of one entry chained to the one before it."""
    body = canonical_json(
        {
            "seq": seq,
            "ts": ts,
            "action": action,
            "subject": subject,
            "actor": actor,
            "detail": detail,
        }
    )
    return hashlib.sha256(prev_hash.encode("ascii") + body.encode("utf-8")).hexdigest()


def append_entry(
    conn: sqlite3.Connection,
    *,
    ts: float,
    action: str,
    subject: str,
    actor: str,
    detail: Mapping[str, Any],
) -> AuditEntry:
    """Append one entry; the caller's write transaction must be open."""
    ts = float(ts)  # stored as REAL: hash exactly what will be read back
    head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    seq, prev = (int(head[0]) + 1, str(head[1])) if head else (1, GENESIS_HASH)
    plain = json.loads(canonical_json(dict(detail)))
    digest = entry_hash(
        prev, seq=seq, ts=ts, action=action, subject=subject, actor=actor, detail=plain
    )
    conn.execute(
        "INSERT INTO audit_log (seq, ts, action, subject, actor, detail, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, ts, action, subject, actor, canonical_json(plain), prev, digest),
    )
    conn.execute(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        (seq, digest),
    )
    return AuditEntry(seq, ts, action, subject, actor, plain, prev, digest)


def read_entries(conn: sqlite3.Connection, *, limit: int, offset: int) -> list[AuditEntry]:
    """A page of entries, oldest first."""
    rows = conn.execute(
        "SELECT seq, ts, action, subject, actor, detail, prev_hash, hash FROM audit_log "
        "ORDER BY seq LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()
    return [
        AuditEntry(seq, ts, action, subject, actor, json.loads(detail), prev_hash, digest)
        for seq, ts, action, subject, actor, detail, prev_hash, digest in rows
    ]


def _broken(seq: int, what: str) -> AuditChainError:
    return AuditChainError(
        f"The audit log does not verify at entry {seq}: {what}. The state database was "
        "modified outside seclearn; restore state.db from a backup and investigate who "
        "changed it."
    )


def verify_chain(conn: sqlite3.Connection) -> int:
    """Walk the whole chain; the number of entries, or AuditChainError at the first bad one."""
    prev, expected = GENESIS_HASH, 1
    rows = conn.execute(
        "SELECT seq, ts, action, subject, actor, detail, prev_hash, hash "
        "FROM audit_log ORDER BY seq"
    )
    for seq, ts, action, subject, actor, detail, prev_hash, digest in rows:
        if seq != expected:
            missing = f"{expected}" if seq == expected + 1 else f"{expected} to {seq - 1}"
            raise _broken(expected, f"entry {missing} is missing (the log jumps to {seq})")
        if prev_hash != prev:
            raise _broken(
                seq, "it does not follow the entry before it (entries were removed or reordered)"
            )
        try:
            parsed = json.loads(detail)
        except (TypeError, ValueError):
            raise _broken(seq, "its detail is not valid JSON (the entry was changed)") from None
        recomputed = entry_hash(
            prev, seq=seq, ts=ts, action=action, subject=subject, actor=actor, detail=parsed
        )
        if recomputed != digest:
            raise _broken(
                seq, f"its content ({action} {subject}) does not match its hash (it was changed)"
            )
        prev, expected = digest, seq + 1
    head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    last = expected - 1
    if head is None:
        if last:
            raise _broken(last, "the log's head record is missing")
        return 0
    if int(head[0]) != last or str(head[1]) != prev:
        if int(head[0]) > last:
            raise _broken(last + 1, f"entries {last + 1} to {head[0]} were removed from the end")
        raise _broken(last, "it does not match the log's head record")
    return last
