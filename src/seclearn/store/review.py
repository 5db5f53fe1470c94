"""The active-learning review queue in the state database, for the triage page.

A queue belongs to one model: the events whose labels would teach that model most,
chosen by :func:`seclearn.lifecycle.review.review_queue`. :func:`replace_review_queue`
swaps a model's whole queue in one transaction (with its audit entry), so the triage
page never shows half of an old queue and half of a new one. :func:`label_review_item`
records an analyst's label for an open item (``source="review"``, the analyst as
``who``), marks the item labelled and appends the audit entries, all in one
transaction: either the label exists and the item left the open queue, or neither.

>>> import tempfile, pathlib
>>> from seclearn.store import StateStore
>>> with tempfile.TemporaryDirectory() as tmp, StateStore(pathlib.Path(tmp) / "s.db") as db:
...     n = replace_review_queue(db, "flows", [{"event_ref": "C1", "score": 0.4,
...         "threshold": 0.5, "uncertainty": 0.4, "cluster": 0, "rank": 1}])
...     item = review_items(db)[0]
...     label = label_review_item(db, item.id, 1, who="ana")
...     (n, label.source, label.who, review_items(db))
(1, 'review', 'ana', [])
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from seclearn.errors import ConfigError, StoreError
from seclearn.store import _checks as check
from seclearn.store._audit import append_entry
from seclearn.store._db import select_page
from seclearn.store._errors import RecordNotFoundError
from seclearn.store.records import Label
from seclearn.store.state import StateStore

#: Review item statuses: open until an analyst labels it.
REVIEW_STATUSES: tuple[str, ...] = ("open", "labelled")
#: The most items one queue may hold.
MAX_REVIEW_ITEMS = 10_000


@dataclass(frozen=True)
class ReviewItem:
    """One event waiting for (or given) an analyst's label."""

    id: int
    model: str
    event_ref: str
    score: float
    threshold: float
    uncertainty: float
    cluster: int
    rank: int
    reason: str
    raw_event: Any
    status: str
    label_id: int | None
    created_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ReviewItem:
        values = {k: row[k] for k in row.keys()}  # noqa: SIM118  # Row has no iterator of keys
        values["raw_event"] = json.loads(values["raw_event"])
        return cls(**values)


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ConfigError(f"{name} must be an integer, got {value!r}.")
    return int(value)


def _item(store: StateStore, model: str, raw: Mapping[str, Any]) -> tuple[Any, ...]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"each review item must be a dict, got {type(raw).__name__}.")
    ref = check.text("event_ref", raw.get("event_ref"))
    score = check.number("score", raw.get("score"), low=0.0, high=1.0)
    threshold = check.number("threshold", raw.get("threshold"))
    uncertainty = check.number("uncertainty", raw.get("uncertainty"))
    if uncertainty < 0 or not math.isfinite(uncertainty):
        raise ConfigError(f"uncertainty must be a number >= 0, got {uncertainty!r}.")
    cluster = _count("cluster", raw.get("cluster", 0))
    rank = _count("rank", raw.get("rank"))
    reason = check.text("reason", raw.get("reason", ""), empty_ok=True)
    event = store._raw_event(raw.get("raw_event"))
    return (model, ref, score, threshold, uncertainty, cluster, rank, reason, event)


def replace_review_queue(
    store: StateStore, model: str, items: Iterable[Mapping[str, Any]], *, actor: str = "seclearn"
) -> int:
    """Replace ``model``'s whole review queue (open and labelled items) by ``items``.

    Each item is a dict with ``event_ref``, ``score`` (in [0, 1]), ``threshold``,
    ``uncertainty`` (>= 0), ``rank`` and optionally ``cluster``, ``reason`` and
    ``raw_event`` (a dict, truncated like an alert's). One transaction: the old queue is
    deleted, the new one inserted, and a ``review.replace`` audit entry appended. Labels
    already given stay in the labels table. Returns the number of items stored.
    """
    model = check.text("model", model)
    actor = check.text("actor", actor)
    rows = [_item(store, model, raw) for raw in items]
    if len(rows) > MAX_REVIEW_ITEMS:
        raise ConfigError(
            f"A review queue holds at most {MAX_REVIEW_ITEMS:,} items, got {len(rows):,}; "
            "ask for fewer (k)."
        )
    refs = [r[1] for r in rows]
    if len(set(refs)) != len(refs):
        raise ConfigError("review items must name distinct event_refs; the queue repeats one.")
    with store._db.write() as conn:
        now = store._now()
        dropped = conn.execute("DELETE FROM review_queue WHERE model = ?", (model,)).rowcount
        conn.executemany(
            "INSERT INTO review_queue (model, event_ref, score, threshold, uncertainty, cluster, "
            "rank, reason, raw_event, status, label_id, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', NULL, ?, ?)",
            [(*r, now, now) for r in rows],
        )
        append_entry(
            conn,
            ts=now,
            action="review.replace",
            subject=f"review:{model}",
            actor=actor,
            detail={"items": len(rows), "replaced": dropped},
        )
    return len(rows)


def review_items(
    store: StateStore,
    *,
    model: str | None = None,
    status: str | None = "open",
    limit: int = 100,
    offset: int = 0,
) -> list[ReviewItem]:
    """Review items (open ones by default; ``status=None`` for all), by model, then rank."""
    where: list[tuple[str, list[object]]] = []
    if status is not None:
        if status not in REVIEW_STATUSES:
            raise ConfigError(
                f"status must be one of {', '.join(REVIEW_STATUSES)} (or None), got {status!r}."
            )
        where.append(("status = ?", [status]))
    if model is not None:
        where.append(("model = ?", [check.text("model", model)]))
    limit, offset = check.page(limit, offset, max_limit=MAX_REVIEW_ITEMS)
    with store._db.read() as conn:
        rows = select_page(
            conn, "review_queue", where, order_by="model, rank, id", limit=limit, offset=offset
        )
    return [ReviewItem.from_row(r) for r in rows]


def _get(conn: sqlite3.Connection, store: StateStore, item_id: int) -> ReviewItem:
    row = conn.execute("SELECT * FROM review_queue WHERE id = ?", (item_id,)).fetchone()
    if row is None:
        raise RecordNotFoundError(
            f"There is no review item {item_id!r} in {store.path}; the queue may have been "
            "replaced. Reload the review page."
        )
    return ReviewItem.from_row(row)


def get_review_item(store: StateStore, item_id: int) -> ReviewItem:
    """The review item with this id; RecordNotFoundError when there is none."""
    item_id = check.record_id("item_id", item_id)
    with store._db.read() as conn:
        return _get(conn, store, item_id)


def label_review_item(
    store: StateStore, item_id: int, label: int, *, who: str, reason: str = ""
) -> Label:
    """Label an open review item: record the label, mark the item labelled, in one transaction.

    The label has ``source="review"``, ``who`` as its author and a reason naming the
    item and model (then ``reason``, if given); its ``previous`` is the event's label
    before. An item that is already labelled raises :class:`~seclearn.errors.StoreError`
    (two analysts answered the same item; the first answer stands), an unknown id
    :class:`~seclearn.errors.RecordNotFoundError`.
    """
    if isinstance(label, bool) or label not in (0, 1):
        raise ConfigError(f"label must be 0 (benign) or 1 (malicious), got {label!r}.")
    item_id = check.record_id("item_id", item_id)
    who = check.text("who", who)
    reason = check.text("reason", reason, empty_ok=True)
    with store._db.write() as conn:
        now = store._now()
        item = _get(conn, store, item_id)
        if item.status != "open":
            raise StoreError(
                f"Review item {item_id} was already labelled; reload the review page to see "
                "the open items."
            )
        why = f"review item {item.id} of {item.model} (rank {item.rank})"
        stored = store._label(
            conn,
            item.event_ref,
            int(label),
            who,
            "review",
            why + (f": {reason}" if reason else ""),
            None,
            now,
        )
        conn.execute(
            "UPDATE review_queue SET status = 'labelled', label_id = ?, updated_at = ? "
            "WHERE id = ?",
            (stored.id, now, item.id),
        )
        append_entry(
            conn,
            ts=now,
            action="review.label",
            subject=f"review:{item.model}",
            actor=who,
            detail={"item": item.id, "event_ref": item.event_ref, "label_id": stored.id},
        )
        return stored
