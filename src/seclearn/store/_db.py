"""Connections to the state database: pragmas, migrations, transactions, clean errors.

One :class:`Database` per file and process; each thread gets its own connection. Writes
run inside ``BEGIN IMMEDIATE`` so that a writer takes the database's write lock before
it reads what it is about to change, and waits (up to the busy timeout) for other
threads and processes instead of failing; a write returns only after its ``COMMIT``
returned, which with ``synchronous=FULL`` in WAL mode means the change is on disk.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from seclearn.errors import ConfigError, StoreError
from seclearn.store._errors import SchemaVersionError
from seclearn.store._schema import MIGRATIONS, SCHEMA_VERSION

Clock = Callable[[], float]

#: The state database's file name inside a workspace.
STATE_DB_NAME = "state.db"


def state_path(workspace: str | Path) -> Path:
    """The state database of a workspace: ``<workspace>/state.db``."""
    return Path(workspace) / STATE_DB_NAME


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _finite(value: Any) -> Any:
    """Replace NaN and infinities (which JSON cannot hold) by None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 text, NaN stored as null."""
    plain = json.loads(json.dumps(value, default=_json_default))
    return json.dumps(
        _finite(plain), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def select_page(
    conn: sqlite3.Connection,
    table: str,
    where: Sequence[tuple[str, Sequence[object]]],
    *,
    order_by: str,
    limit: int,
    offset: int,
) -> list[sqlite3.Row]:
    """One page of ``table``'s rows matching every ``(clause, values)`` filter of ``where``.

    ``table``, the clauses and ``order_by`` are the caller's constants; only ``values``
    (one per ``?`` of its clause), ``limit`` and ``offset`` are bound parameters.
    """
    sql = f"SELECT * FROM {table}"
    if where:
        sql += " WHERE " + " AND ".join(clause for clause, _ in where)
    sql += f" ORDER BY {order_by} LIMIT ? OFFSET ?"
    params = [v for _, values in where for v in values]
    return conn.execute(sql, [*params, limit, offset]).fetchall()


def _store_error(exc: sqlite3.Error, path: Path, busy_timeout_s: float) -> StoreError:
    """A message about ``exc`` for a user: what went wrong and what to do, no SQL text."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StoreError(
            f"The state database {path} stayed locked by another writer for more than "
            f"{busy_timeout_s:g} s. Retry, or give the store a longer busy_timeout_s."
        )
    if "not a database" in text or "encrypted" in text or "malformed" in text:
        return StoreError(
            f"{path} is not a readable SQLite database (the file is another kind of file or "
            "is damaged). Move it aside (or restore it from a backup) and try again."
        )
    if "readonly" in text or "read-only" in text:
        return StoreError(f"The state database {path} is read-only; check its permissions.")
    if "disk" in text or "full" in text:
        return StoreError(f"The state database {path} could not be written: the disk is full.")
    if isinstance(exc, sqlite3.IntegrityError):
        return StoreError(
            f"The state database {path} refused a write that breaks one of its constraints "
            "(for example a reference to a row that does not exist)."
        )
    return StoreError(
        f"The state database {path} failed ({type(exc).__name__}). Run "
        "`seclearn audit verify` and check the file, or restore it from a backup."
    )


class Database:
    """The state database file: per-thread connections, migrations, transactions."""

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Clock = time.time,
        busy_timeout_s: float = 10.0,
        create: bool = True,
    ) -> None:
        if not (isinstance(busy_timeout_s, int | float) and busy_timeout_s >= 0):
            raise ConfigError(f"busy_timeout_s must be a number >= 0, got {busy_timeout_s!r}.")
        self.path = Path(path)
        self.clock = clock
        self.busy_timeout_s = float(busy_timeout_s)
        if self.path.is_dir():
            raise StoreError(
                f"{self.path} is a folder; pass the state database's file path, "
                f"for example {state_path(self.path)}."
            )
        if not self.path.exists():
            if not create:
                raise StoreError(
                    f"There is no state database at {self.path}: nothing has been recorded in "
                    "this workspace yet. Check --workspace (or $SECLEARN_WORKSPACE)."
                )
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._closed = False
        with self._errors():
            self._migrate(self.connection())

    # -- connections ---------------------------------------------------------------

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened and configured on first use."""
        if self._closed:
            raise StoreError(f"The state store for {self.path} was closed; open a new one.")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # Only this thread uses the connection; close() may close it from another.
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
            try:
                conn.row_factory = sqlite3.Row
                conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreError(
                        f"The state database {self.path} cannot use write-ahead logging (it "
                        f"reports journal mode {mode!r}); put it on a local disk."
                    )
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("PRAGMA foreign_keys = ON")
            except BaseException:
                conn.close()
                raise
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection this object opened (in any thread); call it when no thread
        is in the middle of a store call."""
        with self._lock:
            self._closed = True
            for conn in self._connections:
                conn.close()
            self._connections.clear()

    # -- transactions --------------------------------------------------------------

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path, self.busy_timeout_s) from exc

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back on an error."""
        with self._errors():
            conn = self.connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads (each statement sees one committed state)."""
        with self._errors():
            yield self.connection()

    # -- schema ----------------------------------------------------------------------

    def schema_version(self, conn: sqlite3.Connection) -> int:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "schema_migrations" not in tables:
            if tables:
                raise StoreError(
                    f"{self.path} is a SQLite database but not a seclearn state database "
                    "(it has other tables). Point the store at another file."
                )
            return 0
        row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        if self.schema_version(conn) == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")  # another process may be migrating too
        try:
            current = self.schema_version(conn)
            if current > SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"The state database {self.path} has schema version {current}, newer than "
                    f"the {SCHEMA_VERSION} this seclearn knows. Upgrade seclearn to the version "
                    "that wrote it; older code never rewrites a newer database."
                )
            if current == 0:
                conn.execute(
                    "CREATE TABLE schema_migrations ("
                    "version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
                )
            for version, statements in MIGRATIONS:
                if version <= current:
                    continue
                for statement in statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    (version, float(self.clock())),
                )
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
