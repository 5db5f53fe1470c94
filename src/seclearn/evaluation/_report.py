"""Write an :class:`EvaluationResult` as JSON and as one self-contained HTML file.

The HTML embeds its plots as base64 PNG and its CSS inline, loads nothing from the
network, and escapes every text value (jinja2 autoescape).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import jinja2
import orjson

from seclearn.errors import EvaluationError
from seclearn.evaluation._evaluate import EvaluationResult
from seclearn.evaluation._plots import render_plots

_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_HEADLINE = (
    ("accuracy", "accuracy", "share of rows decided correctly"),
    ("precision", "precision", "share of alerts that are malicious"),
    ("recall", "recall (detection rate)", "share of malicious rows alerted on"),
    ("f1", "F1", "harmonic mean of precision and recall"),
    ("fpr", "false-positive rate", "share of benign rows alerted on"),
    ("alert_rate", "alert rate", "share of rows alerted on"),
    ("roc_auc", "ROC-AUC", "ranking quality over all thresholds"),
    ("pr_auc", "PR-AUC (average precision)", "ranking quality focused on the malicious class"),
    ("brier", "Brier score", "mean squared error of scores as probabilities (lower is better)"),
    ("ece", "ECE", "expected calibration error, 10 equal-width bins (lower is better)"),
)
_PLOTS = (
    ("roc", "ROC curve"),
    ("pr", "Precision-recall curve"),
    ("histogram", "Score histograms"),
    ("reliability", "Reliability diagram"),
    ("attack_types", "Detection per attack type"),
)
_PLOT_REASON_KEYS: dict[str, str] = {
    "roc": "roc_curve",
    "pr": "pr_curve",
    "reliability": "reliability",
    "attack_types": "per_attack_type",
}


def write_report(
    result: EvaluationResult, out_dir: Path, *, stem: str = "report"
) -> tuple[Path, Path]:
    """Write ``<out_dir>/<stem>.json`` and ``<out_dir>/<stem>.html``; return both paths."""
    if _STEM.fullmatch(stem) is None:
        raise EvaluationError(
            f"Invalid report stem {stem!r}: expected letters, digits, '.', '_' or '-' (for example 'report')."
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = result.to_dict()
    json_path = out_dir / f"{stem}.json"
    html_path = out_dir / f"{stem}.html"
    _write_atomically(json_path, _dump(data))
    _write_atomically(html_path, render_html(result).encode("utf-8"))
    return json_path, html_path


def render_html(result: EvaluationResult) -> str:
    """The HTML report of ``result`` as a string."""
    data = result.to_dict()
    metrics = data["metrics"]
    not_available: dict[str, str] = metrics.get("not_available") or {}
    intervals = (metrics.get("bootstrap") or {}).get("intervals") or {}
    headline = [
        {
            "label": label,
            "value": metrics.get(key),
            "ci": intervals.get(key),
            "meaning": meaning,
            "reason": not_available.get(key, ""),
        }
        for key, label, meaning in _HEADLINE
    ]
    metadata = data.get("model_metadata") or {}
    detector = metadata.get("detector")
    if isinstance(detector, dict):
        detector = detector.get("name") or detector.get("kind")
    template = _environment().get_template("report.html.j2")
    return template.render(
        r=data,
        m=metrics,
        model_label=data.get("model_name") or "unnamed model",
        dataset_label=data.get("dataset_name") or "unnamed dataset",
        detector=detector,
        op_rows=list((data.get("operating_point") or {}).items()),
        headline=headline,
        has_ci=bool(intervals),
        plots=render_plots(metrics),
        plot_titles=_PLOTS,
        not_available_reason=lambda key: not_available.get(_PLOT_REASON_KEYS.get(key) or key, ""),
        metadata_json=json.dumps(metadata, indent=2, sort_keys=True, default=str),
    )


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("seclearn.evaluation", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = format_number
    env.filters["pct"] = format_percent
    return env


def format_number(value: Any) -> str:
    """How the report prints a value: floats with 4 decimals, integers with separators, None as n/a."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def format_percent(value: Any) -> str:
    """A fraction as a percentage, with enough digits for small rates (0.01% not 0.00%)."""
    if value is None:
        return "n/a"
    return f"{float(value) * 100:.{2 if float(value) >= 0.001 else 3}f}%"


def _dump(data: dict[str, Any]) -> bytes:
    return orjson.dumps(
        data,
        default=str,
        option=orjson.OPT_INDENT_2
        | orjson.OPT_SERIALIZE_NUMPY
        | orjson.OPT_NON_STR_KEYS
        | orjson.OPT_APPEND_NEWLINE,
    )


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


__all__ = ["format_number", "format_percent", "render_html", "write_report"]
