"""What the state store returns: alerts, verdicts and labels, as frozen dataclasses."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

#: Analyst verdicts and the training label each implies (1 = malicious). A benign true
#: positive is activity that really happened and really matched, but is authorised (a
#: pentest, an admin's scan), so it is labelled benign for retraining.
VERDICT_LABELS: dict[str, int] = {
    "true_positive": 1,
    "false_positive": 0,
    "benign_true_positive": 0,
}

#: Alert statuses: open until an analyst records a verdict.
STATUSES: tuple[str, ...] = ("open", "closed")


@dataclass(frozen=True)
class Alert:
    """One alert; ``count`` events of one detector on one entity, deduplicated."""

    id: int
    incident_id: int
    detector: str
    detector_version: str
    entity: str
    event_ref: str
    first_seen: float
    last_seen: float
    count: int
    score: float
    threshold: float
    severity: str
    status: str
    verdict: str | None
    top_features: list[dict[str, Any]]
    reason: str
    raw_event: Any
    created_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Alert:
        return cls(
            id=row["id"],
            incident_id=row["incident_id"],
            detector=row["detector"],
            detector_version=row["detector_version"],
            entity=row["entity"],
            event_ref=row["event_ref"],
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
            count=row["count"],
            score=row["score"],
            threshold=row["threshold"],
            severity=row["severity"],
            status=row["status"],
            verdict=row["verdict"],
            top_features=json.loads(row["top_features"]),
            reason=row["reason"],
            raw_event=json.loads(row["raw_event"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields (what the outbox hands to sinks)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Verdict:
    """An analyst's verdict on an alert; ``previous`` is the verdict it replaced."""

    id: int
    alert_id: int
    verdict: str
    previous: str | None
    analyst: str
    note: str
    created_at: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Verdict:
        return cls(**{k: row[k] for k in row.keys()})  # noqa: SIM118  # Row has no iterator of keys


@dataclass(frozen=True)
class Label:
    """A training label with its provenance; ``previous`` is the label it replaced."""

    id: int
    event_ref: str
    label: int
    previous: int | None
    who: str
    source: str
    reason: str
    alert_id: int | None
    created_at: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Label:
        return cls(**{k: row[k] for k in row.keys()})  # noqa: SIM118
