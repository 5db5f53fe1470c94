"""Write an :class:`EvaluationResult` as JSON and as a self-contained HTML model card.

The card covers intended use, training data and lineage, the split, the operating
point, metrics with 95% intervals, alert volume and budgets, per-family detection,
time to detect campaigns, decay over time, calibration, score distributions, global
feature importance and generated known limitations (:mod:`._card`). The HTML embeds
its plots as base64 PNG and its CSS inline, loads nothing from the network, and
escapes every text value (jinja2 autoescape). The JSON holds the result plus the
card's generated text under ``model_card``.
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
from seclearn.evaluation._bootstrap import DETECTION_KEY
from seclearn.evaluation._card import model_card
from seclearn.evaluation._evaluate import EvaluationResult
from seclearn.evaluation._plots import render_plots

_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
#: (metrics key, label, meaning); detection at 1% FPR is read from its own dict.
_HEADLINE = (
    ("recall", "detection rate (recall)", "share of malicious rows alerted on"),
    ("precision", "precision", "share of alerts that are malicious"),
    ("fpr", "false-positive rate", "share of benign rows alerted on"),
    ("f1", "F1", "harmonic mean of precision and recall"),
    ("roc_auc", "ROC-AUC", "ranking quality over all thresholds"),
    ("pr_auc", "PR-AUC (average precision)", "ranking quality focused on the malicious class"),
    (
        DETECTION_KEY,
        "detection at 1% FPR",
        "recall at the test-curve point with FPR <= 1% (descriptive)",
    ),
    ("brier", "Brier score", "mean squared error of scores as probabilities (lower is better)"),
    ("ece", "ECE", "expected calibration error, 10 equal-width bins (lower is better)"),
    ("accuracy", "accuracy", "share of rows decided correctly (dominated by benign rows)"),
    ("alert_rate", "alert rate", "share of rows alerted on"),
)
#: Plots per card section, with their captions.
_PLOT_REASON_KEYS: dict[str, str] = {
    "roc": "roc_curve",
    "pr": "pr_curve",
    "reliability": "reliability",
    "attack_types": "per_attack_type",
    "periods": "periods",
    "budget": "alert_budget",
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
    data["model_card"] = model_card(data)
    json_path = out_dir / f"{stem}.json"
    html_path = out_dir / f"{stem}.html"
    _write_atomically(json_path, _dump(data))
    _write_atomically(html_path, render_html(result).encode("utf-8"))
    return json_path, html_path


def render_html(result: EvaluationResult) -> str:
    """The HTML model card of ``result`` as a string."""
    data = result.to_dict()
    metrics = data["metrics"]
    not_available: dict[str, str] = metrics.get("not_available") or {}
    intervals = (metrics.get("bootstrap") or {}).get("intervals") or {}
    headline = [
        {
            "label": label,
            "value": _headline_value(metrics, key),
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
        card=model_card(data),
        model_label=data.get("model_name") or "unnamed model",
        dataset_label=data.get("dataset_name") or "unnamed dataset",
        detector=detector,
        op=data.get("operating_point") or {},
        op_rows=list((data.get("operating_point") or {}).items()),
        headline=headline,
        has_ci=bool(intervals),
        boot=metrics.get("bootstrap") or {},
        importance=data.get("feature_importance") or {},
        plots=render_plots(metrics, data.get("feature_importance")),
        not_available_reason=lambda key: not_available.get(_PLOT_REASON_KEYS.get(key) or key, ""),
        metadata_json=json.dumps(metadata, indent=2, sort_keys=True, default=str),
    )


def _headline_value(metrics: dict[str, Any], key: str) -> Any:
    if key == DETECTION_KEY:
        return (metrics.get("detection_at_fpr") or {}).get(key.split("@", 1)[1])
    return metrics.get(key)


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
    env.filters["dur"] = format_duration
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


def format_duration(value: Any) -> str:
    """Seconds as a short human duration (45 s, 12 min, 3.5 h, 2.0 days)."""
    if value is None:
        return "n/a"
    seconds = float(value)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"


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


__all__ = ["format_duration", "format_number", "format_percent", "render_html", "write_report"]
