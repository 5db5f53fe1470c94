"""The monitoring step: a registered model against recent data, with JSON, HTML and Prometheus output.

:func:`monitor_model` loads the signed model, reads the data (a workspace dataset or a
flow file in any format :func:`seclearn.ingest.iter_flows` reads), joins analyst labels
from the workspace's state store by ``uid`` when there is one, runs
:class:`seclearn.monitoring.DriftMonitor` and writes ``report.json`` and
``report.html`` (and a Prometheus textfile when asked). Data that cannot be read at all,
or holds no parseable record, gives an *unhealthy* report, never an exception or "ok".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from seclearn.config import Settings
from seclearn.datasets import dataset_path, load_dataset
from seclearn.errors import ConfigError, IngestError, ModelError
from seclearn.ingest import IngestStats, iter_flows
from seclearn.monitoring import (
    DEFAULT_WINDOW,
    DriftMonitor,
    MonitorReport,
    parse_window,
    render_html,
    write_prometheus,
)
from seclearn.registry import load_model
from seclearn.store import StateStore, state_path


@dataclass(frozen=True)
class MonitorResult:
    """What :func:`monitor_model` wrote, and the report itself."""

    report: MonitorReport
    model: str
    out_dir: Path
    json_path: Path
    html_path: Path
    prom_path: Path | None

    @property
    def status(self) -> str:
        return self.report.status

    @property
    def exit_code(self) -> int:
        return self.report.exit_code


def _is_dataset(root: Path, data: str | Path) -> bool:
    if isinstance(data, Path) or Path(data).exists():
        return False
    try:
        return (dataset_path(root, str(data)) / "manifest.json").is_file()
    except ConfigError:
        return False


def read_monitor_data(
    settings: Settings, data: str | Path, *, input_format: str | None = None
) -> tuple[pd.DataFrame, list[str], dict[str, Any]]:
    """The frame to monitor, run-level problems found while reading it, and what was read.

    ``data`` is a workspace dataset name, or a flow file path. A file that cannot be read
    (no reader recognises it, a limit was hit) gives an empty frame and the reason; so
    does a file whose every record was quarantined.
    """
    root = settings.workspace
    if _is_dataset(root, data):
        frame = load_dataset(root, str(data))
        return frame, [], {"source": "dataset", "name": str(data), "rows": len(frame)}
    path = Path(data)
    if not path.is_file():
        raise ConfigError(
            f"DATA {str(data)!r} is neither a dataset in workspace {root} nor a file. Give a "
            "dataset name (`seclearn datasets list`) or the path of a flow file."
        )
    stats = IngestStats()
    frames: list[pd.DataFrame] = []
    reasons: list[str] = []
    try:
        for chunk in iter_flows(
            path, format=input_format, limits=settings.limits, chunk_rows=settings.chunk_rows
        ):
            stats.merge(chunk.stats)
            if len(chunk.frame):
                frames.append(chunk.frame)
    except IngestError as exc:
        reasons.append(f"could not read {path.name}: {exc}")
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if not reasons and len(frame) == 0:
        reasons.append(
            f"{path.name} holds no parseable record ({stats.quarantined} quarantined, "
            f"{stats.rejected} rejected)"
        )
    ingest = {k: v for k, v in stats.to_dict().items() if k != "quarantine"}
    info: dict[str, Any] = {"source": "file", "path": str(path), "ingest": ingest}
    return frame, reasons, info


def store_labels(settings: Settings, frame: pd.DataFrame) -> tuple[np.ndarray | None, int]:
    """Analyst labels from the workspace's state store, aligned with ``frame`` by ``uid``.

    Returns (labels with NaN where unknown, or None; number of rows matched). The last
    label recorded for an event counts.
    """
    path = state_path(settings.workspace)
    if not path.exists() or "uid" not in frame.columns or len(frame) == 0:
        return None, 0
    with StateStore(path) as store:
        latest = {label.event_ref: label.label for label in store.labels()}
    if not latest:
        return None, 0
    values = frame["uid"].astype("string").map(latest)
    y = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    matched = int((~np.isnan(y)).sum())
    return (y if matched else None), matched


def monitor_model(
    settings: Settings,
    model_ref: str | Path,
    data: str | Path,
    *,
    window: str = DEFAULT_WINDOW,
    out_dir: Path | None = None,
    prom_path: Path | None = None,
    input_format: str | None = None,
    q: float = 0.01,
    min_psi: float = 0.1,
    min_rows: int = 200,
    use_store: bool = True,
    now: datetime | None = None,
) -> MonitorResult:
    """Monitor registered model ``model_ref`` on ``data``; write the reports; return them.

    ``out_dir`` defaults to ``<workspace>/reports/monitor/<name>@<version>/<UTC time>/``.
    Raises :class:`ModelError` when the model has no reference profile, and the
    registry's errors when it cannot be loaded; problems with the data make the report
    unhealthy instead.
    """
    parse_window(window)  # a bad spec fails before anything is loaded
    monitor = DriftMonitor(window=window, q=q, min_psi=min_psi, min_rows=min_rows)
    pipeline, manifest = load_model(model_ref, root=settings.workspace, key=settings.key())
    label = f"{manifest['name']}@{manifest['version']}"
    if getattr(pipeline, "profile_", None) is None:
        raise ModelError(
            f"model {label} has no training reference profile (trained by an older seclearn); "
            f"retrain it (`seclearn train ... --name {manifest['name']}`) to monitor it."
        )
    frame, reasons, info = read_monitor_data(settings, data, input_format=input_format)
    labels, matched = store_labels(settings, frame) if use_store else (None, 0)
    info["store_labels_matched"] = matched
    report = monitor.check(pipeline, frame, labels=labels, model=label, reasons=reasons, data=info)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    out = out_dir or settings.workspace / "reports" / "monitor" / label / stamp
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "report.json", out / "report.html"
    doc = {**report.to_dict(), "generated_at": stamp}
    json_path.write_bytes(
        orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
    )
    html_path.write_text(render_html(report), encoding="utf-8")
    written = write_prometheus(report, prom_path) if prom_path is not None else None
    return MonitorResult(report, label, out, json_path, html_path, written)


__all__ = ["MonitorResult", "monitor_model", "read_monitor_data", "store_labels"]
