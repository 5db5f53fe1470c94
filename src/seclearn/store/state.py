""":class:`StateStore`: alerts, verdicts, labels with provenance, the audit log, the outbox.

Every change is one SQLite transaction that also appends its audit entry (and, for a
new alert, its outbox items); a method returns only after that transaction committed.

Alerts are deduplicated: an event of the same detector on the same entity whose time
is within ``dedup_window_s`` of an open alert's first-to-last-seen span increments that
alert's ``count``, extends ``last_seen`` and keeps the highest score (with that event's
explanation) instead of creating a new alert. A new alert joins the incident of the
same entity whose span is within ``incident_window_s`` of its time, else opens one.
Times are event times, in seconds since the epoch.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from seclearn.errors import ConfigError
from seclearn.store import _checks as check
from seclearn.store._audit import AuditEntry, append_entry, read_entries, verify_chain
from seclearn.store._db import Clock, Database, canonical_json, select_page
from seclearn.store._errors import RecordNotFoundError
from seclearn.store.outbox import SQLiteOutbox, alert_payload, enqueue_in, outbox_key
from seclearn.store.records import STATUSES, VERDICT_LABELS, Alert, Label, Verdict
from seclearn.store.severity import SEVERITIES, SeverityBands, check_criticality, severity_for

_MAX_PAGE = 10_000


class StateStore:
    """The workspace's state database (``<workspace>/state.db``; see :func:`state_path`)."""

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Clock = time.time,
        dedup_window_s: float = 900.0,
        incident_window_s: float = 3600.0,
        asset_criticality: Mapping[str, str] | None = None,
        severity_bands: SeverityBands | None = None,
        max_event_bytes: int = 64 * 1024,
        busy_timeout_s: float = 10.0,
        create: bool = True,
    ) -> None:
        self.dedup_window_s = check.window("dedup_window_s", dedup_window_s)
        self.incident_window_s = check.window("incident_window_s", incident_window_s)
        self.asset_criticality = check_criticality(asset_criticality)
        self.severity_bands = severity_bands or SeverityBands()
        if (
            isinstance(max_event_bytes, bool)
            or not isinstance(max_event_bytes, int)
            or max_event_bytes < 1024
        ):
            raise ConfigError(
                f"max_event_bytes must be an integer >= 1024, got {max_event_bytes!r}."
            )
        self.max_event_bytes = max_event_bytes
        self._db = Database(path, clock=clock, busy_timeout_s=busy_timeout_s, create=create)
        self.outbox = SQLiteOutbox._on(self._db)

    @property
    def path(self) -> Path:
        return self._db.path

    def close(self) -> None:
        """Close the store's connections (those of every thread)."""
        self._db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _now(self) -> float:
        return float(self._db.clock())

    # -- alerts ----------------------------------------------------------------------

    def record_alert(
        self,
        *,
        detector: str,
        detector_version: str | int,
        entity: str,
        event_time: float | datetime,
        score: float,
        threshold: float,
        top_features: Sequence[Mapping[str, Any]] = (),
        reason: str = "",
        raw_event: Mapping[str, Any] | None = None,
        event_ref: str | None = None,
        sinks: Sequence[str] = (),
        render: Callable[[Alert, str], bytes] | None = None,
    ) -> Alert:
        """Record one scored event as a new alert, or as a repeat of an open one.

        Returns the alert as stored: ``count == 1`` means it was created by this call.
        A new alert is queued in the outbox for each of ``sinks`` in the same
        transaction, under the key ``alert-<id>-<sink>``, with the payload
        ``render(alert, sink)`` (default: :func:`alert_payload`), which runs inside the
        transaction (keep it quick); if it raises, nothing is recorded. ``event_ref`` names the event for labels (default
        ``detector/entity@event_time``).
        """
        detector = check.text("detector", detector)
        version = check.text("detector_version", str(detector_version))
        entity = check.text("entity", entity)
        t = check.when("event_time", event_time)
        score = check.number("score", score, low=0.0, high=1.0)
        threshold = check.number("threshold", threshold)
        reason = check.text("reason", reason, empty_ok=True)
        if isinstance(top_features, str | bytes) or not all(
            isinstance(f, Mapping) for f in top_features
        ):
            raise ConfigError(
                "top_features must be a list of dicts ({'feature', 'value', 'contribution'})."
            )
        features = canonical_json([dict(f) for f in top_features])
        raw = self._raw_event(raw_event)
        ref = (
            check.text("event_ref", event_ref)
            if event_ref is not None
            else f"{detector}/{entity}@{t:.6f}"
        )
        sink_names = list(dict.fromkeys(check.text("sink name", s) for s in sinks))
        severity = severity_for(
            score,
            criticality=self.asset_criticality.get(entity, "normal"),
            bands=self.severity_bands,
        )
        with self._db.write() as conn:
            now = self._now()
            actor = f"{detector}@{version}"
            row = conn.execute(
                "SELECT * FROM alerts WHERE entity = ? AND detector = ? AND status = 'open' "
                "AND last_seen >= ? AND first_seen <= ? ORDER BY last_seen DESC, id DESC LIMIT 1",
                (entity, detector, t - self.dedup_window_s, t + self.dedup_window_s),
            ).fetchone()
            if row is not None:
                return self._repeat(conn, row, t, score, features, reason, raw, now, actor)
            incident_id = self._incident_for(conn, entity, t, now)
            cur = conn.execute(
                "INSERT INTO alerts (incident_id, detector, detector_version, entity, event_ref, "
                "first_seen, last_seen, count, score, threshold, severity, severity_rank, status, "
                "top_features, reason, raw_event, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)",
                (incident_id, detector, version, entity, ref, t, t, score, threshold, severity,
                 SEVERITIES.index(severity), features, reason, raw, now, now),
            )  # fmt: skip
            alert = self._alert(conn, int(cur.lastrowid or 0))
            append_entry(
                conn,
                ts=now,
                action="alert.create",
                subject=f"alert:{alert.id}",
                actor=actor,
                detail={
                    "detector": detector,
                    "detector_version": version,
                    "entity": entity,
                    "event_ref": ref,
                    "event_time": t,
                    "score": score,
                    "threshold": threshold,
                    "severity": severity,
                    "incident_id": incident_id,
                    "sinks": sink_names,
                },
            )
            for sink in sink_names:
                payload = (render or alert_payload)(alert, sink)
                key = outbox_key(alert.id, sink)
                enqueue_in(conn, sink=sink, key=key, payload=payload, now=now)
            return alert

    def _raw_event(self, raw_event: Mapping[str, Any] | None) -> str:
        if raw_event is not None and not isinstance(raw_event, Mapping):
            raise ConfigError(
                f"raw_event must be a dict (or None), got {type(raw_event).__name__}."
            )
        text = canonical_json(dict(raw_event or {}))
        size = len(text.encode())
        if size <= self.max_event_bytes:
            return text
        head = text.encode()[: self.max_event_bytes - 256].decode("utf-8", errors="ignore")
        return canonical_json({"truncated": True, "size_bytes": size, "prefix": head})

    def _incident_for(self, conn: sqlite3.Connection, entity: str, t: float, now: float) -> int:
        w = self.incident_window_s
        row = conn.execute(
            "SELECT id FROM incidents WHERE entity = ? AND last_seen >= ? AND first_seen <= ? "
            "ORDER BY last_seen DESC, id DESC LIMIT 1",
            (entity, t - w, t + w),
        ).fetchone()
        if row is None:
            cur = conn.execute(
                "INSERT INTO incidents (entity, first_seen, last_seen, created_at) VALUES (?, ?, ?, ?)",
                (entity, t, t, now),
            )
            return int(cur.lastrowid or 0)
        conn.execute(
            "UPDATE incidents SET first_seen = MIN(first_seen, ?), last_seen = MAX(last_seen, ?) "
            "WHERE id = ?",
            (t, t, row["id"]),
        )
        return int(row["id"])

    def _repeat(
        self,
        conn: sqlite3.Connection,
        row: sqlite3.Row,
        t: float,
        score: float,
        features: str,
        reason: str,
        raw: str,
        now: float,
        actor: str,
    ) -> Alert:
        top = max(score, float(row["score"]))
        severity = severity_for(
            top,
            criticality=self.asset_criticality.get(row["entity"], "normal"),
            bands=self.severity_bands,
        )
        if score <= row["score"]:  # keep the explanation of the highest-scoring event
            features, reason, raw = row["top_features"], row["reason"], row["raw_event"]
        conn.execute(
            "UPDATE alerts SET count = count + 1, first_seen = MIN(first_seen, ?), "
            "last_seen = MAX(last_seen, ?), score = ?, severity = ?, severity_rank = ?, "
            "top_features = ?, reason = ?, raw_event = ?, updated_at = ? WHERE id = ?",
            (
                t,
                t,
                top,
                severity,
                SEVERITIES.index(severity),
                features,
                reason,
                raw,
                now,
                row["id"],
            ),
        )
        conn.execute(
            "UPDATE incidents SET first_seen = MIN(first_seen, ?), last_seen = MAX(last_seen, ?) "
            "WHERE id = ?",
            (t, t, row["incident_id"]),
        )
        alert = self._alert(conn, int(row["id"]))
        append_entry(
            conn,
            ts=now,
            action="alert.dedup",
            subject=f"alert:{alert.id}",
            actor=actor,
            detail={"count": alert.count, "event_time": t, "score": score, "max_score": top},
        )
        return alert

    def _alert(self, conn: sqlite3.Connection, alert_id: int) -> Alert:
        row = conn.execute("SELECT * FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        if row is None:
            raise RecordNotFoundError(
                f"There is no alert {alert_id!r} in {self.path}; list alerts to find valid ids."
            )
        return Alert.from_row(row)

    def get_alert(self, alert_id: int) -> Alert:
        """The alert with this id; RecordNotFoundError when there is none."""
        alert_id = check.record_id("alert_id", alert_id)
        with self._db.read() as conn:
            return self._alert(conn, alert_id)

    def list_alerts(
        self,
        *,
        status: str | None = None,
        severity: str | Sequence[str] | None = None,
        min_score: float | None = None,
        entity: str | None = None,
        detector: str | None = None,
        incident_id: int | None = None,
        since: float | datetime | None = None,
        until: float | datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Alert]:
        """Alerts matching every given filter, most severe first, then highest score, then id.

        ``since``/``until`` keep alerts seen in ``[since, until)`` (their first-to-last-seen
        span overlaps it). The id tie-break makes ``limit``/``offset`` pages stable.
        """
        where: list[tuple[str, Sequence[object]]] = []
        if status is not None:
            if status not in STATUSES:
                raise ConfigError(f"status must be one of {', '.join(STATUSES)}, got {status!r}.")
            where.append(("status = ?", [status]))
        if severity is not None:
            wanted = [severity] if isinstance(severity, str) else list(severity)
            bad = [s for s in wanted if s not in SEVERITIES]
            if bad or not wanted:
                raise ConfigError(
                    f"severity must be among {', '.join(SEVERITIES)}, got {severity!r}."
                )
            where.append((f"severity IN ({', '.join('?' * len(wanted))})", wanted))
        if min_score is not None:
            min_score = check.number("min_score", min_score, low=0.0, high=1.0)
            where.append(("score >= ?", [min_score]))
        for column, value in (("entity", entity), ("detector", detector)):
            if value is not None:
                where.append((f"{column} = ?", [check.text(column, value)]))
        if incident_id is not None:
            where.append(("incident_id = ?", [check.record_id("incident_id", incident_id)]))
        if since is not None:
            where.append(("last_seen >= ?", [check.when("since", since)]))
        if until is not None:
            where.append(("first_seen < ?", [check.when("until", until)]))
        limit, offset = check.page(limit, offset, max_limit=_MAX_PAGE)
        with self._db.read() as conn:
            rows = select_page(
                conn,
                "alerts",
                where,
                order_by="severity_rank DESC, score DESC, id",
                limit=limit,
                offset=offset,
            )
        return [Alert.from_row(r) for r in rows]

    # -- verdicts and labels -----------------------------------------------------------

    def record_verdict(
        self, alert_id: int, verdict: str, *, analyst: str, note: str = ""
    ) -> Verdict:
        """Record an analyst's verdict on an alert (closing it) and the label it implies.

        Earlier verdicts are kept; the new one names the verdict it replaced.
        """
        if verdict not in VERDICT_LABELS:
            raise ConfigError(
                f"verdict must be one of {', '.join(VERDICT_LABELS)}, got {verdict!r}."
            )
        alert_id = check.record_id("alert_id", alert_id)
        analyst = check.text("analyst", analyst)
        note = check.text("note", note, empty_ok=True)
        with self._db.write() as conn:
            now = self._now()
            alert = self._alert(conn, alert_id)
            cur = conn.execute(
                "INSERT INTO verdicts (alert_id, verdict, previous, analyst, note, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (alert.id, verdict, alert.verdict, analyst, note, now),
            )
            conn.execute(
                "UPDATE alerts SET verdict = ?, status = 'closed', updated_at = ? WHERE id = ?",
                (verdict, now, alert.id),
            )
            append_entry(
                conn,
                ts=now,
                action="verdict",
                subject=f"alert:{alert.id}",
                actor=analyst,
                detail={"verdict": verdict, "previous": alert.verdict, "note": note},
            )
            why = f"verdict {verdict} on alert {alert.id}" + (f": {note}" if note else "")
            self._label(
                conn,
                alert.event_ref,
                VERDICT_LABELS[verdict],
                analyst,
                "verdict",
                why,
                alert.id,
                now,
            )
            row = conn.execute("SELECT * FROM verdicts WHERE id = ?", (cur.lastrowid,)).fetchone()
            return Verdict.from_row(row)

    def verdicts(self, alert_id: int) -> list[Verdict]:
        """Every verdict recorded on an alert, oldest first."""
        alert_id = check.record_id("alert_id", alert_id)
        with self._db.read() as conn:
            self._alert(conn, alert_id)
            rows = conn.execute(
                "SELECT * FROM verdicts WHERE alert_id = ? ORDER BY id", (alert_id,)
            ).fetchall()
        return [Verdict.from_row(r) for r in rows]

    def record_label(
        self, event_ref: str, label: int, *, who: str, source: str, reason: str
    ) -> Label:
        """Record a training label (1 = malicious) for an event, e.g. imported from a file."""
        if isinstance(label, bool) or label not in (0, 1):
            raise ConfigError(f"label must be 0 (benign) or 1 (malicious), got {label!r}.")
        args = (check.text("event_ref", event_ref), int(label), check.text("who", who))
        source, reason = check.text("source", source), check.text("reason", reason, empty_ok=True)
        with self._db.write() as conn:
            return self._label(conn, *args, source, reason, None, self._now())

    def _label(
        self,
        conn: sqlite3.Connection,
        event_ref: str,
        label: int,
        who: str,
        source: str,
        reason: str,
        alert_id: int | None,
        now: float,
    ) -> Label:
        last = conn.execute(
            "SELECT label FROM labels WHERE event_ref = ? ORDER BY id DESC LIMIT 1", (event_ref,)
        ).fetchone()
        previous = None if last is None else int(last[0])
        cur = conn.execute(
            "INSERT INTO labels (event_ref, label, previous, who, source, reason, alert_id, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (event_ref, label, previous, who, source, reason, alert_id, now),
        )
        append_entry(
            conn,
            ts=now,
            action="label",
            subject=f"event:{event_ref}",
            actor=who,
            detail={"label": label, "previous": previous, "source": source, "reason": reason},
        )
        row = conn.execute("SELECT * FROM labels WHERE id = ?", (cur.lastrowid,)).fetchone()
        return Label.from_row(row)

    def labels(self, event_ref: str | None = None) -> list[Label]:
        """Every label (of one event, or of all), oldest first; the last one of an event counts."""
        with self._db.read() as conn:
            if event_ref is None:
                rows = conn.execute("SELECT * FROM labels ORDER BY id").fetchall()
            else:
                rows = conn.execute(
                    "SELECT * FROM labels WHERE event_ref = ? ORDER BY id", (event_ref,)
                ).fetchall()
        return [Label.from_row(r) for r in rows]

    # -- audit -------------------------------------------------------------------------

    def record_model_change(
        self,
        *,
        model: str,
        version: str | int,
        action: str,
        actor: str,
        detail: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Append a model change (e.g. ``action="promote"``, ``"rollback"``) to the audit log."""
        model, version_text = check.text("model", model), check.text("version", str(version))
        action, actor = check.text("action", action), check.text("actor", actor)
        if detail is not None and not isinstance(detail, Mapping):
            raise ConfigError(f"detail must be a dict (or None), got {type(detail).__name__}.")
        with self._db.write() as conn:
            return append_entry(
                conn,
                ts=self._now(),
                action=f"model.{action}",
                subject=f"model:{model}@{version_text}",
                actor=actor,
                detail=dict(detail or {}),
            )

    def audit_entries(self, *, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
        """A page of the audit log, oldest first."""
        limit, offset = check.page(limit, offset, max_limit=_MAX_PAGE)
        with self._db.read() as conn:
            return read_entries(conn, limit=limit, offset=offset)

    def verify_audit(self) -> int:
        """Check the whole audit chain; the number of entries, or AuditChainError at the first bad one."""
        with self._db.read() as conn:
            conn.execute("BEGIN")  # one snapshot for the whole walk
            try:
                return verify_chain(conn)
            finally:
                conn.execute("COMMIT")


def verify_audit_log(path: str | Path) -> int:
    """Verify the audit chain of the state database at ``path`` (which must exist)."""
    with StateStore(path, create=False) as store:
        return store.verify_audit()
