"""The workspace's state database: alerts, verdicts, labels, audit log, outbox, review queue.

Open it with ``StateStore(state_path(workspace))``. See :mod:`seclearn.store.state`
for dedup and incident grouping, :mod:`seclearn.store.severity` for the severity
bands, and :mod:`seclearn.store.outbox_protocol` for the outbox contract.
"""

from seclearn.store._audit import AuditEntry
from seclearn.store._db import STATE_DB_NAME, canonical_json, state_path
from seclearn.store._errors import RecordNotFoundError, SchemaVersionError
from seclearn.store._schema import SCHEMA_VERSION
from seclearn.store.outbox import SQLiteOutbox, alert_payload, outbox_key
from seclearn.store.outbox_protocol import Outbox, OutboxItem
from seclearn.store.records import STATUSES, VERDICT_LABELS, Alert, Label, Verdict
from seclearn.store.review import (
    MAX_REVIEW_ITEMS,
    REVIEW_STATUSES,
    ReviewItem,
    get_review_item,
    label_review_item,
    replace_review_queue,
    review_items,
)
from seclearn.store.severity import CRITICALITIES, SEVERITIES, SeverityBands, severity_for
from seclearn.store.state import StateStore, verify_audit_log

__all__ = [
    "Alert",
    "AuditEntry",
    "CRITICALITIES",
    "Label",
    "MAX_REVIEW_ITEMS",
    "Outbox",
    "OutboxItem",
    "REVIEW_STATUSES",
    "RecordNotFoundError",
    "ReviewItem",
    "SCHEMA_VERSION",
    "SEVERITIES",
    "SQLiteOutbox",
    "STATE_DB_NAME",
    "STATUSES",
    "SchemaVersionError",
    "SeverityBands",
    "StateStore",
    "VERDICT_LABELS",
    "Verdict",
    "alert_payload",
    "canonical_json",
    "get_review_item",
    "label_review_item",
    "outbox_key",
    "replace_review_queue",
    "review_items",
    "severity_for",
    "state_path",
    "verify_audit_log",
]
