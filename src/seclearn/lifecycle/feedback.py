"""Feedback becomes training labels: imported label files, verdicts, review answers.

Every label lives in the state store's ``labels`` table with its provenance (who,
when, source, reason, the value it replaced) and an audit entry. This module reads
label files into it (:func:`import_labels`), turns the label history into one current
label per event (:func:`feedback_labels`, what retraining joins to flows on ``uid``),
and summarises who and which source contributed new labels (:func:`label_shares`,
what a poisoning gate looks at).

Sources: ``verdict`` (an analyst's verdict on an alert), ``review`` (an answer in the
active-learning review queue), ``import:<file name>`` (a label file), or whatever a
caller of :meth:`~seclearn.store.StateStore.record_label` names.

>>> import tempfile, pathlib
>>> from seclearn.store import StateStore
>>> with tempfile.TemporaryDirectory() as tmp:
...     folder = pathlib.Path(tmp)
...     _ = (folder / "labels.csv").write_text("uid,label,reason\\nC1,malicious,scan\\nC2,2,\\n")
...     with StateStore(folder / "state.db") as db:
...         result = import_labels(db, folder / "labels.csv", who="ana")
...         current = feedback_labels(db)
>>> result.rows, result.accepted, result.quarantined, result.quarantine[0].line
(2, 1, 1, 3)
>>> current[["event_ref", "label", "who", "source"]].to_dict("records")
[{'event_ref': 'C1', 'label': 1, 'who': 'ana', 'source': 'import:labels.csv'}]
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from seclearn.errors import ConfigError, EncodingError, IngestError, LimitExceededError
from seclearn.ingest import QuarantinedRecord
from seclearn.store import Label, StateStore

#: Default limits of a label file: its size and the length of one line.
MAX_LABEL_FILE_BYTES = 64 * 1024 * 1024
MAX_LABEL_LINE_BYTES = 64 * 1024
#: The longest event reference, who and attack type (characters); reasons may use 2,000.
MAX_REF_CHARS = 512
MAX_REASON_CHARS = 2000
#: Quarantined rows kept in an :class:`ImportResult` (the count keeps counting).
MAX_QUARANTINE_KEPT = 1000

_LABEL_WORDS = {"1": 1, "0": 0, "malicious": 1, "benign": 0}
_FIELDS = ("event_ref", "uid", "label", "who", "reason", "attack_type")
_ATTACK_PREFIX = re.compile(r"^attack_type=([^;]*)(?:; |$)")
FEEDBACK_COLUMNS = (
    "event_ref",
    "label",
    "who",
    "source",
    "reason",
    "attack_type",
    "created_at",
    "previous",
    "n_changes",
    "n_labels",
    "alert_id",
)


@dataclass
class ImportResult:
    """What one label file gave: ``rows == accepted + quarantined``.

    ``accepted`` rows are valid; of them, ``recorded`` made a new label and
    ``unchanged`` were skipped because the event's current label already had the same
    value from the same ``who`` (a re-import records nothing twice). ``changed`` counts
    recorded labels that replaced a different value.
    """

    path: Path
    source: str
    rows: int = 0
    accepted: int = 0
    recorded: int = 0
    unchanged: int = 0
    changed: int = 0
    quarantined: int = 0
    quarantine: list[QuarantinedRecord] = field(default_factory=list)
    quarantine_path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "source": self.source,
            "rows": self.rows,
            "accepted": self.accepted,
            "recorded": self.recorded,
            "unchanged": self.unchanged,
            "changed": self.changed,
            "quarantined": self.quarantined,
            "quarantine": [
                {"line": q.line, "reason": q.reason, "raw": q.raw} for q in self.quarantine
            ],
            "quarantine_path": None if self.quarantine_path is None else str(self.quarantine_path),
        }


def _preview(raw: str) -> str:
    text = raw[:200]
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)[:200]


def _short_text(name: str, value: object, limit: int, *, required: bool) -> str:
    """A stripped, printable string of at most ``limit`` characters; ValueError says why not."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        value = ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{name} must be text, got {type(value).__name__}")
    text = str(value).strip()
    if required and not text:
        raise ValueError(f"{name} is empty")
    if len(text) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")
    if not text.isprintable():
        raise ValueError(f"{name} holds control characters")
    return text


def _label_value(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(f"label must be 1/0 or malicious/benign, got {value!r}")
    if isinstance(value, int) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in _LABEL_WORDS:
        return _LABEL_WORDS[value.strip().lower()]
    shown = value if not isinstance(value, str) else value[:40]
    raise ValueError(f"label must be 1/0 or malicious/benign, got {shown!r}")


def _row(record: dict[str, Any], default_who: str | None) -> tuple[str, int, str, str]:
    """(event_ref, label, who, reason) of one row; ValueError naming what is wrong."""
    ref_value = record.get("event_ref")
    if ref_value is None or ref_value == "":
        ref_value = record.get("uid")
    ref = _short_text("event_ref (or uid)", ref_value, MAX_REF_CHARS, required=True)
    if "label" not in record:
        raise ValueError("label is missing")
    label = _label_value(record.get("label"))
    who = _short_text("who", record.get("who"), MAX_REF_CHARS, required=False)
    who = who or (default_who or "")
    if not who:
        raise ValueError("who is missing: give the row a who, or import with who=NAME")
    reason = _short_text("reason", record.get("reason"), MAX_REASON_CHARS, required=False)
    attack = _short_text("attack_type", record.get("attack_type"), MAX_REF_CHARS, required=False)
    if ";" in attack:
        raise ValueError("attack_type must not contain ';'")
    parts = [f"attack_type={attack}"] if attack else []
    if default_who and who != default_who:
        parts.append(f"imported by {default_who}")
    if reason:
        parts.append(reason)
    return ref, label, who, "; ".join(parts)


def _lines(path: Path, max_bytes: int, max_line_bytes: int) -> list[bytes]:
    if not path.is_file():
        raise IngestError(f"There is no label file at {path}; check the path.")
    size = path.stat().st_size
    if size > max_bytes:
        raise LimitExceededError(
            f"The label file {path} has {size:,} bytes, more than the limit of {max_bytes:,} bytes. "
            "Split it into smaller files, or raise max_bytes."
        )
    data = path.read_bytes()[: max_bytes + 1]
    if len(data) > max_bytes:
        raise LimitExceededError(
            f"The label file {path} grew past the limit of {max_bytes:,} bytes while read."
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.split(b"\n")


def _decode(line: bytes) -> str:
    text = line.decode("utf-8")  # UnicodeDecodeError is quarantined by the caller
    return text[:-1] if text.endswith("\r") else text


def _is_jsonl(path: Path, lines: list[bytes]) -> bool:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return True
    if suffix in (".csv", ".tsv", ".txt"):
        return False
    first = next((ln.strip() for ln in lines if ln.strip()), b"")
    return first.startswith(b"{")


def _records(
    path: Path, lines: list[bytes], max_line_bytes: int
) -> list[tuple[int, str, dict[str, Any] | str]]:
    """(line number, raw text, record or the reason it is bad) per non-blank line."""
    jsonl = _is_jsonl(path, lines)
    header: list[str] | None = None
    out: list[tuple[int, str, dict[str, Any] | str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if len(line) > max_line_bytes:
            if not jsonl and header is None:
                raise LimitExceededError(
                    f"The header line of {path} is longer than {max_line_bytes:,} bytes; "
                    "is this a label file?"
                )
            raw = line[:200].decode("utf-8", errors="replace")
            out.append((number, raw, f"line is longer than {max_line_bytes:,} bytes"))
            continue
        try:
            text = _decode(line)
        except UnicodeDecodeError:
            if not jsonl and header is None:
                raise EncodingError(f"The header line of {path} is not UTF-8 text.") from None
            out.append((number, line.decode("utf-8", errors="replace"), "line is not UTF-8"))
            continue
        if jsonl:
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError:
                out.append((number, text, "not valid JSON"))
                continue
            if not isinstance(value, dict):
                out.append((number, text, "not a JSON object"))
                continue
            out.append((number, text, value))
            continue
        fields = next(csv.reader([text]))
        if header is None:
            header = [f.strip().lower() for f in fields]
            if "label" not in header or not ({"event_ref", "uid"} & set(header)):
                raise IngestError(
                    f"The header of {path} must name an event_ref (or uid) column and a label "
                    f"column; it names {', '.join(header[:10]) or 'nothing'}."
                )
            continue
        if len(fields) != len(header):
            out.append(
                (number, text, f"wrong field count: expected {len(header)}, got {len(fields)}")
            )
            continue
        out.append((number, text, dict(zip(header, fields, strict=True))))
    if not jsonl and header is None:
        raise IngestError(f"The label file {path} is empty (no header line).")
    return out


def import_labels(
    store: StateStore,
    path: str | Path,
    *,
    who: str | None,
    source: str | None = None,
    max_bytes: int = MAX_LABEL_FILE_BYTES,
    max_line_bytes: int = MAX_LABEL_LINE_BYTES,
    quarantine_to: str | Path | None = None,
) -> ImportResult:
    """Record the labels of a CSV or JSON-lines file, each with its provenance.

    Fields: ``event_ref`` (or ``uid``, the flow's Zeek uid), ``label`` (``1``/``0`` or
    ``malicious``/``benign``), and optionally ``who``, ``reason``, ``attack_type``;
    other fields are ignored. A ``.jsonl``/``.ndjson``/``.json`` file holds one object
    per line; a ``.csv`` file has a header line (one record per physical line: quoted
    newlines are not supported). Other suffixes are sniffed: JSON lines when the first
    non-blank line starts with ``{``.

    Each label is recorded with ``store.record_label`` under ``source`` (default
    ``import:<file name>``), ``who`` = the row's ``who`` or else this ``who``, and a
    reason of ``attack_type=<type>; imported by <who>; <reason>`` (the parts that
    apply). Every non-blank line after the header is a row; a bad row (missing or
    invalid field, wrong field count, over-long or non-UTF-8 line, a second label for the
    same event in this file that contradicts the first) is quarantined with its line
    number and reason, and the rest of the file goes on: ``rows == accepted +
    quarantined``. With ``quarantine_to`` the quarantined rows are also written there as
    JSON lines ``{"file", "line", "reason", "raw"}``.

    Idempotent: a row whose event's current label already has the same value and the
    same ``who`` records nothing (counted as ``unchanged``), so importing the same file
    twice adds no label. A row that differs from the current label (a correction in the
    file, or a re-import after someone else changed the label) is recorded, and the
    label keeps the replaced value as ``previous``. Each label is its own transaction:
    an import that stopped half-way is completed by importing the file again.

    A file over ``max_bytes`` raises LimitExceededError before anything is recorded, as
    does a CSV header line over ``max_line_bytes``; a header without event_ref/uid and
    label columns raises IngestError.
    """
    path = Path(path)
    for name, value in (("max_bytes", max_bytes), ("max_line_bytes", max_line_bytes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}.")
    if who is not None:
        who = _short_text_or_config("who", who)
    source = source if source is not None else f"import:{path.name}"
    source = _short_text_or_config("source", source)
    records = _records(path, _lines(path, max_bytes, max_line_bytes), max_line_bytes)
    result = ImportResult(path=path, source=source)
    current = {lab.event_ref: lab for lab in store.labels()}  # the last one of each event wins
    seen: dict[str, tuple[int, int]] = {}  # event_ref -> (label, line) earlier in this file

    def quarantine(number: int, reason: str, raw: str) -> None:
        result.quarantined += 1
        if len(result.quarantine) < MAX_QUARANTINE_KEPT:
            result.quarantine.append(QuarantinedRecord(number, reason, _preview(raw)))

    for number, raw, record in records:
        result.rows += 1
        if isinstance(record, str):
            quarantine(number, record, raw)
            continue
        try:
            ref, label, row_who, reason = _row(record, who)
        except ValueError as exc:
            quarantine(number, str(exc), raw)
            continue
        if ref in seen and seen[ref][0] != label:
            quarantine(
                number, f"contradicts the label of {ref} on line {seen[ref][1]} of this file", raw
            )
            continue
        seen.setdefault(ref, (label, number))
        result.accepted += 1
        last = current.get(ref)
        if last is not None and last.label == label and last.who == row_who:
            result.unchanged += 1
            continue
        stored = store.record_label(ref, label, who=row_who, source=source, reason=reason)
        current[ref] = stored
        result.recorded += 1
        result.changed += int(stored.previous is not None and stored.previous != label)
    if quarantine_to is not None and result.quarantined:
        target = Path(quarantine_to)
        with target.open("wb") as out:
            for q in result.quarantine:
                row = {"file": path.name, "line": q.line, "reason": q.reason, "raw": q.raw}
                out.write(orjson.dumps(row) + b"\n")
        result.quarantine_path = target
    return result


def _short_text_or_config(name: str, value: object) -> str:
    try:
        return _short_text(name, value, MAX_REF_CHARS, required=True)
    except ValueError as exc:
        raise ConfigError(f"{exc}; give a short, printable {name}.") from None


def _label_frame(labels: list[Label]) -> pd.DataFrame:
    columns = ["id", "event_ref", "label", "previous", "who", "source", "reason", "alert_id"]
    frame = pd.DataFrame(
        [(lab.id, lab.event_ref, lab.label, lab.previous, lab.who, lab.source, lab.reason,
          lab.alert_id, lab.created_at) for lab in labels],
        columns=[*columns, "created_at"],
    )  # fmt: skip
    return frame


def feedback_labels(store: StateStore) -> pd.DataFrame:
    """The training labels: one row per labelled event, its current label and provenance.

    Columns (in :data:`FEEDBACK_COLUMNS` order): ``event_ref``; ``label`` (1 =
    malicious), ``who``, ``source``, ``reason`` and ``created_at`` (epoch seconds) of
    the event's last label, which wins; ``attack_type`` when that label's reason starts
    with ``attack_type=...`` (as imported labels do), else missing; ``previous``, the
    value that label replaced (missing for a first label); ``n_changes``, how many of
    the event's labels changed its value; ``n_labels``, how many were recorded;
    ``alert_id`` for a verdict's label. Sorted by ``event_ref``. Retraining joins it to
    flows on ``uid == event_ref``.
    """
    frame = _label_frame(store.labels())
    if frame.empty:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in FEEDBACK_COLUMNS})
        return out.astype(
            {"label": "int64", "created_at": "float64", "n_changes": "int64", "n_labels": "int64"}
        )
    frame = frame.sort_values("id", kind="stable")
    changed = frame["previous"].notna() & (frame["previous"] != frame["label"])
    per_event = frame.assign(changed=changed.astype("int64")).groupby("event_ref", sort=True)
    last = per_event.tail(1).set_index("event_ref").sort_index()
    out = pd.DataFrame(
        {
            "event_ref": last.index.astype(str),
            "label": last["label"].astype("int64").to_numpy(),
            "who": last["who"].to_numpy(dtype=object),
            "source": last["source"].to_numpy(dtype=object),
            "reason": last["reason"].to_numpy(dtype=object),
            "attack_type": [
                m.group(1) if (m := _ATTACK_PREFIX.match(r)) else None for r in last["reason"]
            ],
            "created_at": last["created_at"].astype("float64").to_numpy(),
            "previous": pd.array(last["previous"].to_numpy(), dtype="Int64"),
            "n_changes": per_event["changed"].sum().sort_index().to_numpy(dtype=np.int64),
            "n_labels": per_event.size().sort_index().to_numpy(dtype=np.int64),
            "alert_id": pd.array(last["alert_id"].to_numpy(), dtype="Int64"),
        }
    )
    return out.reset_index(drop=True)


def label_shares(
    labels: pd.DataFrame | StateStore, *, since: float | datetime | None = None
) -> pd.DataFrame:
    """Who and which source gave the labels created since ``since``, as shares.

    ``labels`` is a :class:`~seclearn.store.StateStore` (every label event counts, so
    one actor relabelling the same event many times is seen) or a frame with ``who``,
    ``source``, ``label`` and ``created_at`` columns (e.g. :func:`feedback_labels`:
    current labels only). Returns one row per (``kind``, ``name``) with ``kind`` in
    ``who``/``source``: ``n`` labels, ``share`` of all labels since ``since`` (shares of
    one kind sum to 1), ``n_malicious``, ``share_malicious``, and ``n_changed`` (labels
    that replaced a different value, when ``previous`` is known). Sorted by kind, then
    by ``n`` descending, then name. A poisoning gate can refuse a retrain when one
    ``who`` gave more than a set share of the new labels, or flipped many.
    """
    if isinstance(labels, StateStore):
        frame = _label_frame(labels.labels())
    elif isinstance(labels, pd.DataFrame):
        missing = {"who", "source", "label", "created_at"} - set(labels.columns)
        if missing:
            raise ConfigError(
                f"label_shares needs who, source, label and created_at columns; "
                f"{', '.join(sorted(missing))} missing. Pass feedback_labels(store) or the store."
            )
        frame = labels
    else:
        raise ConfigError(
            f"label_shares takes a StateStore or a DataFrame, got {type(labels).__name__}."
        )
    if since is not None:
        if isinstance(since, datetime):
            if since.tzinfo is None:
                raise ConfigError(f"since must carry a time zone (or be epoch seconds): {since!r}")
            since = since.timestamp()
        frame = frame[frame["created_at"].astype("float64") >= float(since)]
    columns = ["kind", "name", "n", "share", "n_malicious", "share_malicious", "n_changed"]
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    label = frame["label"].astype("int64")
    if "previous" in frame.columns:
        previous = pd.to_numeric(frame["previous"], errors="coerce")
        changed = (previous.notna() & (previous != label)).astype("int64")
    else:
        changed = pd.Series(0, index=frame.index, dtype="int64")
    parts = []
    for kind in ("who", "source"):
        grouped = pd.DataFrame(
            {"name": frame[kind].astype(str), "malicious": label, "changed": changed}
        ).groupby("name", sort=True)
        part = pd.DataFrame(
            {
                "n": grouped.size(),
                "n_malicious": grouped["malicious"].sum(),
                "n_changed": grouped["changed"].sum(),
            }
        ).reset_index()
        part.insert(0, "kind", kind)
        part["share"] = part["n"] / len(frame)
        part["share_malicious"] = part["n_malicious"] / part["n"]
        parts.append(part.sort_values(["n", "name"], ascending=[False, True], kind="stable"))
    out = pd.concat(parts, ignore_index=True)[columns]
    return out.astype({"n": "int64", "n_malicious": "int64", "n_changed": "int64"})
