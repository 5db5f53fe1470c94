"""Report plots drawn from the metrics dict (never from raw rows), as base64 PNG.

Figures are built with :class:`matplotlib.figure.Figure` and the Agg canvas directly,
so no global pyplot state or backend switch is involved. Every plot reads
pre-aggregated data (curves of at most 500 points, 50-bin histograms), so the cost
does not grow with the number of test rows.
"""

from __future__ import annotations

import base64
import io
from typing import Any

_BENIGN = "#4477aa"
_MALICIOUS = "#cc3311"
_NEUTRAL = "#777777"
_MAX_BARS = 30


def render_plots(metrics: dict[str, Any]) -> dict[str, str | None]:
    """Base64 PNGs keyed roc, pr, reliability, histogram, attack_types (None when n/a)."""
    return {
        "roc": _roc(metrics),
        "pr": _pr(metrics),
        "reliability": _reliability(metrics),
        "histogram": _histogram(metrics),
        "attack_types": _attack_types(metrics),
    }


def _figure(width_in: float = 5.2, height_in: float = 3.6) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=90)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.14, top=0.9, wspace=0.3)
    return fig


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _operating_point(ax: Any, x: float | None, y: float | None) -> None:
    if x is not None and y is not None:
        ax.plot([x], [y], "o", color=_MALICIOUS, label="operating point")


def _roc(metrics: dict[str, Any]) -> str | None:
    curve = metrics.get("roc_curve")
    if not curve:
        return None
    fig = _figure(8.0, 3.6)
    lin, log = fig.subplots(1, 2)
    fpr, tpr = curve["fpr"], curve["tpr"]
    for ax in (lin, log):
        ax.plot(fpr, tpr, color=_BENIGN, label=f"ROC (AUC {metrics['roc_auc']:.4f})")
        _operating_point(ax, metrics.get("fpr"), metrics.get("recall"))
        ax.set_xlabel("false-positive rate")
        ax.set_ylabel("detection rate (TPR)")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    lin.plot([0, 1], [0, 1], ls="--", color=_NEUTRAL, lw=0.8)
    lin.set_title("ROC")
    lin.legend(loc="lower right", fontsize=8)
    floor = 1.0 / max(int(metrics.get("n_benign") or 1), 1)
    log.set_xscale("log")
    log.set_xlim(max(floor, 1e-6), 1)
    log.set_title("ROC, log FPR (low-FPR region)")
    return _png(fig)


def _pr(metrics: dict[str, Any]) -> str | None:
    curve = metrics.get("pr_curve")
    if not curve:
        return None
    fig = _figure()
    ax = fig.subplots()
    ax.plot(
        curve["recall"], curve["precision"], color=_BENIGN, label=f"PR (AP {metrics['pr_auc']:.4f})"
    )
    ax.axhline(metrics["prevalence"], ls="--", color=_NEUTRAL, lw=0.8, label="prevalence (chance)")
    _operating_point(ax, metrics.get("recall"), metrics.get("precision"))
    ax.set_xlabel("recall (detection rate)")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("Precision-recall")
    return _png(fig)


def _reliability(metrics: dict[str, Any]) -> str | None:
    rows = metrics.get("reliability")
    if not rows:
        return None
    fig = _figure()
    ax = fig.subplots()
    filled = [r for r in rows if r["count"]]
    ax.plot([0, 1], [0, 1], ls="--", color=_NEUTRAL, lw=0.8, label="perfect calibration")
    ax.plot(
        [r["mean_score"] for r in filled],
        [r["fraction_malicious"] for r in filled],
        "o-",
        color=_MALICIOUS,
        label=f"model (ECE {metrics['ece']:.4f})",
    )
    ax.set_xlabel("mean score in bin")
    ax.set_ylabel("fraction malicious in bin")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(f"Reliability ({len(rows)} equal-width bins)")
    return _png(fig)


def _histogram(metrics: dict[str, Any]) -> str | None:
    hist = metrics.get("score_histogram")
    if not hist:
        return None
    fig = _figure()
    ax = fig.subplots()
    edges = hist["edges"]
    for counts, color, label in (
        (hist["benign"], _BENIGN, "benign"),
        (hist["malicious"], _MALICIOUS, "malicious"),
    ):
        if sum(counts):
            ax.stairs(counts, edges, color=color, label=label, fill=False, lw=1.5)
    ax.axvline(
        metrics["threshold"],
        color="black",
        ls="--",
        lw=1,
        label=f"threshold {metrics['threshold']:.4f}",
    )
    ax.set_yscale("symlog", linthresh=1)
    ax.set_xlabel("score")
    ax.set_ylabel("rows (symlog)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Score distribution by class")
    return _png(fig)


def _attack_types(metrics: dict[str, Any]) -> str | None:
    rows = [r for r in metrics.get("per_attack_type") or [] if r["kind"] != "benign"][:_MAX_BARS]
    if not rows:
        return None
    fig = _figure(5.2, 1.2 + 0.28 * len(rows))
    fig.subplots_adjust(
        left=0.35, bottom=0.6 / (1.2 + 0.28 * len(rows)), top=1 - 0.45 / (1.2 + 0.28 * len(rows))
    )
    ax = fig.subplots()
    names = [r["attack_type"][:40].replace("$", r"\$") for r in rows][
        ::-1
    ]  # "$" would start mathtext
    rates = [r["rate"] for r in rows][::-1]
    ax.barh(names, rates, color=_MALICIOUS)
    ax.set_xlim(0, 1)
    ax.set_xlabel("detected at the operating point")
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Detection per attack type")
    return _png(fig)


__all__ = ["render_plots"]
