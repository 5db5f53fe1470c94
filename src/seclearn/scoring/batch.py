"""Batch scoring of files with a registered model, in bounded memory.

Files are read chunk by chunk through :func:`seclearn.ingest.iter_flows`; each chunk is
scored and written before the next is read, so memory depends on ``chunk_rows``, not on
the size of the input. When the model uses time-window context features, the flows of
the last context horizon (one hour by default) are carried from chunk to chunk, and from
file to file in the order given, so that chunked scoring of time-ordered input gives the
same scores as scoring it whole (:class:`seclearn.features.ContextHistory`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from seclearn.config import Limits
from seclearn.errors import ConfigError
from seclearn.features import ContextHistory
from seclearn.ingest import IngestStats, iter_flows
from seclearn.pipeline import DetectionPipeline

#: Record fields copied from the input to every scored record, when present.
PASSTHROUGH = ("ts", "uid", "src_ip", "src_port", "dst_ip", "dst_port", "proto", "service")
OutputFormat = Literal["jsonl", "parquet"]
ExplainMode = Literal["alerts", "all", "none"]


@dataclass
class ScoringSummary:
    """What a scoring run read and wrote."""

    files: list[str] = field(default_factory=list)
    records: int = 0
    alerts: int = 0
    ingest: IngestStats = field(default_factory=IngestStats)
    output: str = ""

    def to_dict(self) -> dict:
        return {
            "files": self.files,
            "records": self.records,
            "alerts": self.alerts,
            "alert_rate": self.alerts / self.records if self.records else 0.0,
            "ingest": self.ingest.to_dict(),
            "output": self.output,
        }


class _JsonlWriter:
    def __init__(self, path: Path) -> None:
        self._fh = path.open("wb")

    def write(self, frame: pd.DataFrame) -> None:
        records = frame.to_dict(orient="records")
        self._fh.write(
            b"".join(
                orjson.dumps(
                    r,
                    default=_json_default,
                    option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_SERIALIZE_NUMPY,
                )
                for r in records
            )
        )

    def close(self) -> None:
        self._fh.close()


class _ParquetWriter:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._writer: pq.ParquetWriter | None = None

    def write(self, frame: pd.DataFrame) -> None:
        if "top_features" in frame.columns:
            frame = frame.assign(
                top_features=[
                    orjson.dumps(v).decode() if v is not None else None
                    for v in frame["top_features"]
                ]
            )
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is None:
            self._schema = table.schema
            self._writer = pq.ParquetWriter(self._path, table.schema)
        self._writer.write_table(table.cast(self._schema))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        else:  # no records: still leave a valid, empty file
            pq.write_table(pa.table({"score": pa.array([], pa.float64())}), self._path)


def _json_default(value: object) -> object:
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError


def _scored_frame(
    pipeline: DetectionPipeline, chunk: pd.DataFrame, explain: ExplainMode, top_k: int
) -> pd.DataFrame:
    keep = [c for c in PASSTHROUGH if c in chunk.columns]
    if explain == "all":
        scored = pipeline.score(chunk, explain_top_k=top_k)
    else:
        scored = pipeline.score(chunk)
        if explain == "alerts" and scored["decision"].any():
            alerts = pipeline.score(chunk.loc[scored["decision"].to_numpy()], explain_top_k=top_k)
            scored["top_features"] = None
            scored["reason"] = None
            scored.loc[alerts.index, "top_features"] = pd.Series(
                alerts["top_features"].tolist(), index=alerts.index, dtype=object
            )
            scored.loc[alerts.index, "reason"] = alerts["reason"]
    out = chunk[keep].copy()
    for column in scored.columns:
        out[column] = (
            scored[column].to_numpy() if column in ("score", "decision") else scored[column]
        )
    if "ts" in out.columns:
        out["ts"] = out["ts"].astype("float64")
    return out


def _with_context(history: ContextHistory | None, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its context features, computed with the flows carried over before it."""
    if history is None:
        return frame
    context = history.add(frame)
    return pd.concat([frame.drop(columns=list(context.columns), errors="ignore"), context], axis=1)


def score_files(
    pipeline: DetectionPipeline,
    files: Iterable[Path],
    out: Path,
    *,
    input_format: str | None = None,
    output_format: OutputFormat | None = None,
    explain: ExplainMode = "alerts",
    top_k: int = 3,
    limits: Limits | None = None,
    chunk_rows: int = 200_000,
    progress: Callable[[int], None] | None = None,
) -> ScoringSummary:
    """Score every record of ``files`` with ``pipeline`` and write them to ``out``.

    ``output_format`` defaults to the suffix of ``out`` (``.parquet`` or ``.jsonl``).
    ``explain`` chooses which records carry top contributing features and a reason:
    only alerts (default; explanations cost more than scores), all, or none.
    ``progress`` is called with the number of input bytes consumed by each chunk.
    Context features (when the model has them) see the flows of the previous chunks and
    files within their windows: give files of one sensor in time order.
    """
    fmt = output_format or ("parquet" if out.suffix == ".parquet" else "jsonl")
    if fmt not in ("jsonl", "parquet"):
        raise ConfigError(f"Output format must be 'jsonl' or 'parquet', got {fmt!r}.")
    if explain not in ("alerts", "all", "none"):
        raise ConfigError(f"explain must be 'alerts', 'all' or 'none', got {explain!r}.")
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = ScoringSummary(output=str(out))
    writer = _ParquetWriter(out) if fmt == "parquet" else _JsonlWriter(out)
    uses_context = bool(getattr(pipeline.featurizer_, "context_columns_", None))
    history = ContextHistory() if uses_context else None
    try:
        for path in files:
            summary.files.append(str(path))
            for chunk in iter_flows(
                Path(path), format=input_format, limits=limits or Limits(), chunk_rows=chunk_rows
            ):
                summary.ingest.merge(chunk.stats)
                if len(chunk.frame):
                    frame = _with_context(history, chunk.frame)
                    scored = _scored_frame(pipeline, frame, explain, top_k)
                    summary.records += len(scored)
                    summary.alerts += int(scored["decision"].sum())
                    writer.write(scored)
                if progress is not None:
                    progress(chunk.stats.bytes_read)
    finally:
        writer.close()
    return summary


__all__ = ["PASSTHROUGH", "ScoringSummary", "score_files"]
