"""Zeek logs written as JSON lines (``LogAscii::use_json=T``).

One JSON object per line. ``ts`` is epoch seconds (a number) or an ISO-8601 string
(``JSON::TS_ISO8601``); a string without a zone is taken as UTC. Nested objects
(``{"id": {"orig_h": ...}}``) are flattened to Zeek's dotted names; lists (``tunnel_parents``)
become comma-joined strings. A line that is not a JSON object, carries no conn field at all, nests deeper than
``limits.max_json_depth``, has more than ``limits.max_fields`` keys, or carries a
non-number where conn.log has a number is quarantined with its reason. Fields are then
mapped exactly as in :mod:`seclearn.ingest.zeek`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from seclearn.config import Limits
from seclearn.errors import IngestError
from seclearn.ingest._chunks import ChunkAssembler
from seclearn.ingest._lines import Block, LineBlocks, is_blank
from seclearn.ingest._records import IngestChunk, IngestStats
from seclearn.ingest._source import open_source
from seclearn.ingest.zeek import NUMERIC_FIELDS, flow_name, to_flows
from seclearn.schema import FLOW_SCHEMA, LABEL_FIELDS

READER = ("seclearn.ingest.zeek_json", "2")

#: A record must carry at least one of these (after name mapping) to be a flow at all:
#: ``{}`` would otherwise become a row of missing values, scored and alerted on.
FLOW_FIELDS = frozenset(f.name for f in FLOW_SCHEMA.fields if f.name not in LABEL_FIELDS)


class BadRecord(ValueError):
    """A JSON record that cannot be used; the message is the quarantine reason."""


def _depth(value: Any, limit: int, level: int = 1) -> int:
    if level > limit:
        raise BadRecord(f"nested deeper than limits.max_json_depth ({limit})")
    if isinstance(value, dict):
        return max((_depth(v, limit, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, limit, level + 1) for v in value), default=level)
    return level


def flatten(record: dict, limits: Limits) -> dict[str, Any]:
    """One flat dict: nested objects joined with dots, lists of scalars joined with commas."""
    out: dict[str, Any] = {}
    stack: list[tuple[str, dict, int]] = [("", record, 1)]
    while stack:
        prefix, obj, level = stack.pop()
        if level > limits.max_json_depth:
            raise BadRecord(f"nested deeper than limits.max_json_depth ({limits.max_json_depth})")
        for key, value in obj.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                stack.append((f"{name}.", value, level + 1))
            elif isinstance(value, list):
                _depth(value, limits.max_json_depth, level + 1)
                if all(not isinstance(v, dict | list) for v in value):
                    out[name] = ",".join(str(v) for v in value)
                else:
                    out[name] = orjson.dumps(value).decode()
            else:
                out[name] = value
        if len(out) > limits.max_fields:
            raise BadRecord(f"more than limits.max_fields ({limits.max_fields}) fields")
    return out


def epoch_seconds(value: Any) -> float | None:
    """Epoch seconds from a number or an ISO-8601 string (UTC when no zone is given)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadRecord(f"ts {value!r} is not a time")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise BadRecord(f"ts {text[:40]!r} is neither epoch seconds nor ISO-8601") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    raise BadRecord(f"ts of type {type(value).__name__} is not a time")


def _number(name: str, value: Any) -> float | None:
    if value is None or (isinstance(value, float | int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text in ("", "-"):
            return None
        try:
            return float(text)
        except ValueError:
            pass
    raise BadRecord(f"field {name!r}: {str(value)[:40]!r} is not a number")


def parse_record(line: bytes, limits: Limits) -> dict[str, Any]:
    """One Zeek JSON line as a flat dict with numeric fields checked; raises BadRecord."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise BadRecord(f"invalid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadRecord(f"a JSON {type(value).__name__}, not an object")
    record = flatten(value, limits)
    if not any(flow_name(key) in FLOW_FIELDS for key in record):
        raise BadRecord(
            "no flow field (expected at least one of ts, addresses, ports, proto, service, "
            "duration, bytes, packets or conn_state, in Zeek or flow-schema names)"
        )
    if "ts" in record:
        record["ts"] = epoch_seconds(record["ts"])
    for name in NUMERIC_FIELDS & record.keys():
        if name != "ts":
            record[name] = _number(name, record[name])
    return record


def parse_block(block: Block, limits: Limits, stats: IngestStats) -> pd.DataFrame:
    """The records of one block of JSON lines; bad lines go to ``stats``."""
    records = []
    for i, line in enumerate(block.data.split(b"\n")):
        if is_blank(line):
            continue
        try:
            records.append(parse_record(line, limits))
        except BadRecord as exc:
            stats.add_quarantined(block.first_line + i, str(exc), line)
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    for name in NUMERIC_FIELDS & set(frame.columns):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    return frame


def iter_zeek_json(path: Path, *, limits: Limits, chunk_rows: int) -> Iterator[IngestChunk]:
    """Read a Zeek JSON-lines log in chunks."""
    stats = IngestStats()
    with open_source(path, limits) as src:
        lines = LineBlocks(src, limits, stats)
        if not lines.peek_lines(1):
            raise IngestError(
                f"{path.name} is empty (no non-blank line); there is nothing to read."
            )
        assembler = ChunkAssembler(
            stats=stats, chunk_rows=chunk_rows, finish=to_flows, bytes_read=lambda: src.bytes_read
        )
        for block in lines:
            yield from assembler.add(parse_block(block, limits, stats))
        yield from assembler.close(pd.DataFrame())


__all__ = ["READER", "epoch_seconds", "flatten", "iter_zeek_json", "parse_record"]
