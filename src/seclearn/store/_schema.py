"""The state database's tables, as forward-only migrations.

Each migration is a version number and the statements that take the previous version
to it. Versions are applied in order, each in its own transaction, and recorded in
``schema_migrations``; a database with a version above :data:`SCHEMA_VERSION` is
refused, because this code cannot know what the newer tables mean.
"""

from __future__ import annotations

_V1 = (
    """
    CREATE TABLE incidents (
        id INTEGER PRIMARY KEY,
        entity TEXT NOT NULL,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL,
        created_at REAL NOT NULL
    )
    """,
    "CREATE INDEX incidents_entity ON incidents (entity, last_seen)",
    """
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL REFERENCES incidents (id),
        detector TEXT NOT NULL,
        detector_version TEXT NOT NULL,
        entity TEXT NOT NULL,
        event_ref TEXT NOT NULL,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL,
        count INTEGER NOT NULL CHECK (count >= 1),
        score REAL NOT NULL CHECK (score >= 0 AND score <= 1),
        threshold REAL NOT NULL,
        severity TEXT NOT NULL,
        severity_rank INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
        verdict TEXT,
        top_features TEXT NOT NULL,
        reason TEXT NOT NULL,
        raw_event TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    )
    """,
    "CREATE INDEX alerts_dedup ON alerts (entity, detector, status, last_seen)",
    "CREATE INDEX alerts_order ON alerts (severity_rank DESC, score DESC, id)",
    """
    CREATE TABLE verdicts (
        id INTEGER PRIMARY KEY,
        alert_id INTEGER NOT NULL REFERENCES alerts (id),
        verdict TEXT NOT NULL
            CHECK (verdict IN ('true_positive', 'false_positive', 'benign_true_positive')),
        previous TEXT,
        analyst TEXT NOT NULL,
        note TEXT NOT NULL,
        created_at REAL NOT NULL
    )
    """,
    "CREATE INDEX verdicts_alert ON verdicts (alert_id, id)",
    """
    CREATE TABLE labels (
        id INTEGER PRIMARY KEY,
        event_ref TEXT NOT NULL,
        label INTEGER NOT NULL CHECK (label IN (0, 1)),
        previous INTEGER CHECK (previous IN (0, 1)),
        who TEXT NOT NULL,
        source TEXT NOT NULL,
        reason TEXT NOT NULL,
        alert_id INTEGER REFERENCES alerts (id),
        created_at REAL NOT NULL
    )
    """,
    "CREATE INDEX labels_event ON labels (event_ref, id)",
    """
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        actor TEXT NOT NULL,
        detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        sink TEXT NOT NULL,
        key TEXT NOT NULL,
        payload BLOB NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at REAL NOT NULL,
        leased_until REAL,
        acked_at REAL,
        last_error TEXT,
        created_at REAL NOT NULL,
        UNIQUE (sink, key)
    )
    """,
    "CREATE INDEX outbox_due ON outbox (sink, acked_at, due_at)",
)

#: Version 2: the active-learning review queue (see :mod:`seclearn.store.review`).
_V2 = (
    """
    CREATE TABLE review_queue (
        id INTEGER PRIMARY KEY,
        model TEXT NOT NULL,
        event_ref TEXT NOT NULL,
        score REAL NOT NULL,
        threshold REAL NOT NULL,
        uncertainty REAL NOT NULL,
        cluster INTEGER NOT NULL,
        rank INTEGER NOT NULL,
        reason TEXT NOT NULL,
        raw_event TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'labelled')),
        label_id INTEGER REFERENCES labels (id),
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        UNIQUE (model, event_ref)
    )
    """,
    "CREATE INDEX review_queue_open ON review_queue (status, model, rank)",
)

#: (version, statements) pairs, oldest first.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = ((1, _V1), (2, _V2))

#: The newest schema version this code knows.
SCHEMA_VERSION = MIGRATIONS[-1][0]
