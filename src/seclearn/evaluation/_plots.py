"""Model-card plots drawn from the metrics dict (never from raw rows), as base64 PNG.

Figures are built with :class:`matplotlib.figure.Figure` and the Agg canvas directly,
so no global pyplot state or backend switch is involved. Every plot reads
pre-aggregated data (curves of at most 500 points, 50-bin histograms, one value per
family, period or feature), so the cost does not grow with the number of test rows.
Each plot marks the operating point where it has one.
"""

from __future__ import annotations

from typing import Any

from seclearn.plotting import figure as _figure
from seclearn.plotting import png_base64 as _png
from seclearn.plotting import style_axes as _axes

_BENIGN = "#4477aa"
_MALICIOUS = "#cc3311"
_ACCENT = "#ee7733"
_NEUTRAL = "#777777"
_MAX_BARS = 30
_MAX_FEATURES = 15


def render_plots(
    metrics: dict[str, Any], importance: dict[str, Any] | None = None
) -> dict[str, str | None]:
    """Base64 PNGs keyed by plot name (None when the data for a plot is not available)."""
    return {
        "roc": _roc(metrics),
        "pr": _pr(metrics),
        "histogram": _histogram(metrics),
        "reliability": _reliability(metrics),
        "attack_types": _attack_types(metrics),
        "periods": _periods(metrics),
        "budget": _budget(metrics),
        "importance": _importance(importance),
    }


def _text(value: str) -> str:
    """Data text safe for matplotlib ("$" would start mathtext)."""
    return value.replace("$", r"\$")


def _operating_point(
    ax: Any, x: float | None, y: float | None, threshold: float, note: str
) -> None:
    if x is None or y is None:
        return
    ax.plot(
        [x],
        [y],
        "o",
        color=_MALICIOUS,
        ms=7,
        zorder=5,
        label=f"operating point (t={threshold:.3g})",
    )
    right = x > 0.6 * (ax.get_xlim()[1] if ax.get_xscale() == "linear" else 1.0)
    ax.annotate(
        note.format(x=x, y=y),
        (x, y),
        textcoords="offset points",
        xytext=(-8, -14) if right else (8, -12),
        ha="right" if right else "left",
        fontsize=8,
        color=_MALICIOUS,
    )


def _roc(metrics: dict[str, Any]) -> str | None:
    curve = metrics.get("roc_curve")
    if not curve:
        return None
    fig = _figure(9.0, 3.7)
    fig.subplots_adjust(left=0.08)
    lin, log = fig.subplots(1, 2)
    fpr, tpr = curve["fpr"], curve["tpr"]
    for ax, title in ((lin, "ROC curve"), (log, "ROC, log false-positive rate")):
        ax.plot(fpr, tpr, color=_BENIGN, lw=2, label=f"model (AUC {metrics['roc_auc']:.3f})")
        _operating_point(
            ax,
            metrics.get("fpr"),
            metrics.get("recall"),
            metrics["threshold"],
            "recall {y:.2f} at FPR {x:.2%}",
        )
        _axes(ax, title, "false-positive rate", "detection rate (recall)")
        ax.set_ylim(0, 1.02)
    lin.plot([0, 1], [0, 1], ls="--", color=_NEUTRAL, lw=0.8, label="chance")
    lin.legend(loc="lower right", fontsize=8, frameon=False)
    floor = 1.0 / max(int(metrics.get("n_benign") or 1), 1)
    log.set_xscale("log")
    log.set_xlim(max(floor, 1e-6), 1)
    log.axvline(0.01, color=_NEUTRAL, ls=":", lw=1)
    log.text(0.0105, 0.04, "1% FPR", fontsize=8, color=_NEUTRAL)
    return _png(fig)


def _pr(metrics: dict[str, Any]) -> str | None:
    curve = metrics.get("pr_curve")
    if not curve:
        return None
    fig = _figure()
    ax = fig.subplots()
    ax.plot(
        curve["recall"],
        curve["precision"],
        color=_BENIGN,
        lw=2,
        label=f"model (AP {metrics['pr_auc']:.3f})",
    )
    ax.axhline(metrics["prevalence"], ls="--", color=_NEUTRAL, lw=0.8, label="chance (prevalence)")
    _operating_point(
        ax,
        metrics.get("recall"),
        metrics.get("precision"),
        metrics["threshold"],
        "precision {y:.2f}, recall {x:.2f}",
    )
    _axes(ax, "Precision-recall curve", "recall (detection rate)", "precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    return _png(fig)


def _reliability(metrics: dict[str, Any]) -> str | None:
    rows = metrics.get("reliability")
    if not rows:
        return None
    fig = _figure()
    ax = fig.subplots()
    filled = [r for r in rows if r["count"]]
    total = sum(r["count"] for r in filled) or 1
    ax.plot([0, 1], [0, 1], ls="--", color=_NEUTRAL, lw=0.8, label="perfectly calibrated")
    ax.plot(
        [r["mean_score"] for r in filled],
        [r["fraction_malicious"] for r in filled],
        "-",
        color=_MALICIOUS,
        lw=1.2,
    )
    ax.scatter(
        [r["mean_score"] for r in filled],
        [r["fraction_malicious"] for r in filled],
        s=[20 + 200 * r["count"] / total for r in filled],
        color=_MALICIOUS,
        zorder=4,
        label=f"model (ECE {metrics['ece']:.3f}); dot size = rows",
    )
    ax.axvline(metrics["threshold"], color="black", ls=":", lw=1, label="threshold")
    _axes(
        ax,
        f"Calibration ({len(rows)} equal-width bins)",
        "mean score in bin",
        "fraction malicious in bin",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
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
            ax.stairs(counts, edges, color=color, fill=True, alpha=0.25)
            ax.stairs(counts, edges, color=color, lw=1.5, label=f"{label} ({sum(counts):,} rows)")
    ax.axvline(
        metrics["threshold"],
        color="black",
        ls="--",
        lw=1.2,
        label=f"threshold {metrics['threshold']:.3g}",
    )
    ax.set_yscale("symlog", linthresh=1)
    _axes(ax, "Score distribution by class", "score", "rows (log scale)")
    ax.legend(fontsize=8, frameon=False, loc="upper center")
    return _png(fig)


def _attack_types(metrics: dict[str, Any]) -> str | None:
    rows = [r for r in metrics.get("per_attack_type") or [] if r["kind"] != "benign"][:_MAX_BARS]
    if not rows:
        return None
    rows = sorted(rows, key=lambda r: r["rate"])
    height = 1.3 + 0.32 * len(rows)
    fig = _figure(6.4, height)
    fig.subplots_adjust(left=0.3, right=0.84, bottom=0.55 / height, top=1 - 0.45 / height)
    ax = fig.subplots()
    names = [_text(r["attack_type"][:32]) for r in rows]
    rates = [r["rate"] for r in rows]
    # A Wilson bound at a rate of 0 or 1 can miss the point by a rounding error;
    # matplotlib refuses negative error bars, so clip at the point.
    lows = [max(0.0, r["rate"] - (r.get("rate_ci") or [r["rate"]] * 2)[0]) for r in rows]
    highs = [max(0.0, (r.get("rate_ci") or [r["rate"]] * 2)[1] - r["rate"]) for r in rows]
    colors = [_MALICIOUS if r["rate"] >= 0.5 else _ACCENT for r in rows]
    ax.barh(names, rates, color=colors, alpha=0.85, xerr=[lows, highs], ecolor="#333333", capsize=3)
    for i, r in enumerate(rows):
        ax.text(
            1.02,
            i,
            f"{r['rate']:.0%} of {r['count']:,}",
            va="center",
            fontsize=8,
            transform=ax.get_yaxis_transform(),
        )
    ax.set_xlim(0, 1)
    _axes(
        ax,
        "Detection per attack family (95% interval)",
        "share of rows alerted at the operating point",
        "",
    )
    ax.grid(axis="y", visible=False)
    return _png(fig)


def _periods(metrics: dict[str, Any]) -> str | None:
    periods = metrics.get("periods") or {}
    rows = periods.get("periods") or []
    if len(rows) < 2:
        return None
    import numpy as np

    fig = _figure(9.0, 4.3)
    fig.subplots_adjust(left=0.08, right=0.92, bottom=0.3)
    ax = fig.subplots()
    x = np.array([r["days_since_reference"] for r in rows])
    for key, color, label, weight in (
        ("detection", _MALICIOUS, "detection rate", "n_malicious"),
        ("roc_auc", _BENIGN, "ROC-AUC", "n"),
    ):
        pts = [(xi, r[key]) for xi, r in zip(x, rows, strict=True) if r[key] is not None]
        if not pts:
            continue
        ax.plot(*zip(*pts, strict=True), "o-", color=color, ms=3, lw=1.2, label=label)
        slope = periods.get(f"{key}_slope_per_day")
        if slope is not None:
            w = np.array([r[weight] for r in rows if r[key] is not None], dtype=float)
            xs = np.array([p[0] for p in pts])
            ys = np.array([p[1] for p in pts])
            mid_x, mid_y = np.average(xs, weights=w), np.average(ys, weights=w)
            ax.plot(
                [xs.min(), xs.max()],
                [mid_y + slope * (xs.min() - mid_x), mid_y + slope * (xs.max() - mid_x)],
                ls="--",
                color=color,
                lw=1,
                label=f"{label} trend {slope:+.3f} / day",
            )
    ax.set_ylim(0, 1.05)
    _axes(
        ax,
        f"Performance over time ({periods['n_periods']} periods of {_duration(periods['period_s'])})",
        f"days since {periods['time_since']}",
        "rate",
    )
    twin = ax.twinx()
    fpr = [(xi, r["fpr"]) for xi, r in zip(x, rows, strict=True) if r["fpr"] is not None]
    if fpr:
        twin.plot(
            *zip(*fpr, strict=True),
            "s-",
            color=_NEUTRAL,
            ms=2.5,
            lw=1,
            alpha=0.8,
            label="false-positive rate (right axis)",
        )
        twin.set_ylabel("false-positive rate", fontsize=9)
        twin.tick_params(labelsize=8)
        twin.set_ylim(0, max(max(v for _, v in fpr) * 1.3, 1e-3))
        twin.spines["top"].set_visible(False)
    lines, labels = ax.get_legend_handles_labels()
    more, more_labels = twin.get_legend_handles_labels()
    ax.legend(
        lines + more, labels + more_labels, fontsize=8, frameon=False, loc="lower left", ncol=2
    )
    return _png(fig)


def _duration(seconds: float) -> str:
    if seconds % 86_400 == 0:
        days = int(seconds // 86_400)
        return f"{days} day{'s' if days > 1 else ''}"
    if seconds % 3600 == 0:
        hours = int(seconds // 3600)
        return f"{hours} hour{'s' if hours > 1 else ''}"
    return f"{seconds:,.0f} s"


def _budget(metrics: dict[str, Any]) -> str | None:
    budget = metrics.get("alert_budget") or {}
    rows = [r for r in budget.get("budgets") or [] if r["precision"] is not None]
    if not rows or not metrics.get("n_malicious"):
        return None
    fig = _figure()
    ax = fig.subplots()
    ks = [r["k_per_day"] for r in rows]
    ax.plot(ks, [r["precision"] for r in rows], "o-", color=_BENIGN, lw=2, label="precision")
    if all(r["recall"] is not None for r in rows):
        ax.plot(ks, [r["recall"] for r in rows], "s-", color=_MALICIOUS, lw=2, label="recall")
    if metrics.get("precision") is not None:
        ax.axhline(
            metrics["precision"],
            color=_BENIGN,
            ls=":",
            lw=1,
            label="precision at the operating point",
        )
    ax.set_xscale("log")
    ax.set_ylim(0, 1.05)
    _axes(ax, "What an analyst team sees", "alerts reviewed per day (top-k scores)", "share")
    ax.legend(fontsize=8, frameon=False)
    return _png(fig)


def _importance(importance: dict[str, Any] | None) -> str | None:
    features = (importance or {}).get("features") or []
    features = [f for f in features if f["mean_abs_contribution"] > 0][:_MAX_FEATURES]
    if not features:
        return None
    features = features[::-1]
    height = 1.3 + 0.28 * len(features)
    fig = _figure(6.4, height)
    fig.subplots_adjust(left=0.34, right=0.95, bottom=0.6 / height, top=1 - 0.45 / height)
    ax = fig.subplots()
    ax.barh(
        [_text(f["feature"][:36]) for f in features],
        [f["mean_abs_contribution"] for f in features],
        color=_BENIGN,
    )
    assert importance is not None
    _axes(
        ax,
        f"Global feature importance ({importance.get('method')}, {importance.get('n_rows', 0):,} rows)",
        "mean |contribution| to the raw score",
        "",
    )
    ax.grid(axis="y", visible=False)
    return _png(fig)


__all__ = ["render_plots"]
