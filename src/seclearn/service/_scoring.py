"""Posted events to scored rows: parse with the stream parser, score, record alerts."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import pandas as pd

from seclearn.config import Limits
from seclearn.ingest.stream import LineStreamParser
from seclearn.service._catalog import ServedModel
from seclearn.store import StateStore, severity_for

#: Events per parser call: the parser keeps the reasons of up to 1,000 quarantined
#: records per call, so every quarantined event keeps its reason.
_PARSE_CHUNK = 1000


def parse_events(
    events: Sequence[dict[str, Any]], limits: Limits
) -> tuple[pd.DataFrame, list[int], list[dict[str, Any]]]:
    """The flow frame of ``events``, the event index of each row, and the quarantined ones."""
    frames: list[pd.DataFrame] = []
    rows: list[int] = []
    quarantined: list[dict[str, Any]] = []
    for start in range(0, len(events), _PARSE_CHUNK):
        part = events[start : start + _PARSE_CHUNK]
        chunk = LineStreamParser("zeek-json", limits=limits, source="request").parse(
            [orjson.dumps(e) for e in part]
        )
        bad = {q.line - 1: q.reason for q in chunk.stats.quarantine}
        quarantined.extend({"index": start + i, "reason": r} for i, r in sorted(bad.items()))
        kept = [start + i for i in range(len(part)) if i not in bad]
        if len(chunk.frame):
            frames.append(chunk.frame)
            rows.extend(kept[: len(chunk.frame)])
    frame = (
        pd.concat(frames, ignore_index=True) if len(frames) > 1 else (frames or [pd.DataFrame()])[0]
    )
    return frame.reset_index(drop=True), rows, quarantined


def _plain(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY, default=str))


def _entity(frame: pd.DataFrame, i: int) -> str:
    value = frame["src_ip"].iloc[i] if "src_ip" in frame.columns else None
    return str(value) if isinstance(value, str) and value else "unknown"


def _event_time(frame: pd.DataFrame, i: int, now: Callable[[], float]) -> float:
    value = frame["ts"].iloc[i] if "ts" in frame.columns else None
    try:
        t = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return now()
    return t if math.isfinite(t) else now()


def score_events(
    model: ServedModel,
    events: Sequence[dict[str, Any]],
    *,
    store: StateStore,
    limits: Limits,
    explain_top_k: int,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Score ``events`` with ``model``; record each positive decision as an alert."""
    frame, rows, quarantined = parse_events(events, limits)
    results: list[dict[str, Any]] = []
    if len(frame):
        scored = model.pipeline.score(frame, explain_top_k=explain_top_k)
        threshold = float(model.pipeline.threshold_)
        for i, index in enumerate(rows):
            score = float(scored["score"].iloc[i])
            decision = bool(scored["decision"].iloc[i])
            top = _plain(scored["top_features"].iloc[i]) if "top_features" in scored else []
            reason = str(scored["reason"].iloc[i]) if "reason" in scored else ""
            row: dict[str, Any] = {
                "index": index,
                "score": score,
                "decision": decision,
                "severity": severity_for(score),
                "top_features": top,
                "reason": reason,
                "alert_id": None,
            }
            if decision:
                alert = store.record_alert(
                    detector=model.name,
                    detector_version=model.version,
                    entity=_entity(frame, i),
                    event_time=_event_time(frame, i, now),
                    score=min(max(score, 0.0), 1.0),
                    threshold=threshold,
                    top_features=top,
                    reason=reason,
                    raw_event=events[index],
                )
                row["alert_id"] = alert.id
                row["severity"] = alert.severity
            results.append(row)
    return {
        "ok": True,
        "model": {"name": model.name, "version": model.version},
        "scored": len(results),
        "alerts": sum(1 for r in results if r["alert_id"] is not None),
        "results": results,
        "quarantined": quarantined,
    }
