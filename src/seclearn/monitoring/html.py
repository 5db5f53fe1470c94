"""A self-contained HTML page of a :class:`MonitorReport`, with plots as base64 PNG.

Plots are drawn from the report's aggregates (one value per window and feature, the
20-bin score histograms) with :class:`matplotlib.figure.Figure` and no pyplot state.
Every data-derived string is escaped by jinja2's autoescaping.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jinja2
import numpy as np

from seclearn.features.profile import SCORE_BINS
from seclearn.monitoring.report import MonitorReport
from seclearn.plotting import figure as _figure
from seclearn.plotting import png_base64 as _png
from seclearn.plotting import style_axes as _axes

_REF = "#4477aa"
_CUR = "#ee7733"
_BAD = "#cc3311"
_NEUTRAL = "#777777"
#: Features drawn in the PSI plot: every drifted one, then the largest PSI, up to this many.
MAX_PLOTTED_FEATURES = 8

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>seclearn monitor: {{ r.model }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1100px;color:#222}
h1{font-size:1.4rem} h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.85rem} td,th{border:1px solid #ccc;padding:.2rem .5rem}
th{background:#f3f3f3} .ok{color:#227733} .drift{color:#cc3311} .unhealthy{color:#aa7700}
.status{font-size:1.3rem;font-weight:bold} img{max-width:100%}
</style></head><body>
<h1>Drift monitor: {{ r.model }}</h1>
<p class="status {{ d.status }}">status: {{ d.status }} (exit code {{ d.exit_code }})</p>
<p>{{ d.n_rows }} rows in {{ d.n_windows }} windows of {{ d.window }};
reference: {{ d.reference.n_rows }} training rows, alert rate
{{ "%.4f"|format(d.reference.alert_rate) }} at threshold {{ "%.4f"|format(d.reference.threshold) }}.</p>
{% if d.unhealthy_reasons %}<h2>Why the monitor is unhealthy</h2><ul>
{% for reason in d.unhealthy_reasons[:50] %}<li>{{ reason }}</li>{% endfor %}</ul>{% endif %}
<h2>Drifted features</h2>
<p>{% if d.drifted_features %}{{ d.drifted_features|join(", ") }}{% else %}none{% endif %}</p>
<p>A feature is flagged when its p-value is significant after Benjamini-Hochberg at
q = {{ d.settings.q }} <em>and</em> its PSI is at least {{ d.settings.min_psi }}.</p>
{% for name, png in plots.items() if png %}<img alt="{{ name }}" src="data:image/png;base64,{{ png }}">
{% endfor %}
<h2>Windows</h2>
<table><tr><th>#</th><th>start</th><th>rows</th><th>healthy</th><th>drifted features</th>
<th>score PSI</th><th>alert rate</th><th>ratio</th><th>precision</th><th>recall</th><th>notes</th></tr>
{% for w in d.windows %}<tr><td>{{ w.index }}</td><td>{{ when(w.start) }}</td><td>{{ w.n_rows }}</td>
<td>{{ "yes" if w.healthy else "no" }}</td><td>{{ w.drifted_features|join(", ") }}</td>
<td>{{ num(w.score.psi) }}{% if w.score.drift %} (drift){% endif %}</td>
<td>{{ num(w.alert_rate.rate) }}</td><td>{{ num(w.alert_rate.ratio) }}{% if w.alert_rate.change %} (change){% endif %}</td>
<td>{{ num(w.performance.get("precision")) }}</td><td>{{ num(w.performance.get("recall")) }}</td>
<td>{{ w.reasons|join("; ") }}</td></tr>
{% endfor %}</table>
{% if d.change_points %}<h2>Performance change points (ADWIN)</h2>
<table><tr><th>stream</th><th>window</th><th>ts</th><th>error before</th><th>error after</th><th>degraded</th></tr>
{% for c in d.change_points %}<tr><td>{{ c.stream }}</td><td>{{ c.window }}</td><td>{{ when(c.ts) }}</td>
<td>{{ num(c.error_before) }}</td><td>{{ num(c.error_after) }}</td><td>{{ c.degraded }}</td></tr>{% endfor %}
</table>{% endif %}
{% if latest %}<h2>Features in the latest healthy window ({{ latest.index }})</h2>
<table><tr><th>feature</th><th>PSI</th><th>test</th><th>statistic</th><th>p-value</th><th>missing</th><th>flagged</th></tr>
{% for f in latest.features %}<tr><td>{{ f.name }}</td><td>{{ num(f.psi) }}</td><td>{{ f.test }}</td>
<td>{{ num(f.statistic) }}</td><td>{{ sci(f.p_value) }}</td><td>{{ num(f.missing) }}</td>
<td>{{ "drift" if f.drifted else ("significant" if f.significant else "") }}</td></tr>{% endfor %}
</table>{% endif %}
<p><small>settings: {{ d.settings }}</small></p>
</body></html>
"""


def _num(v: Any) -> str:
    return "n/a" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v))


def _sci(v: Any) -> str:
    return "n/a" if v is None else f"{v:.3g}"


def _when(v: Any) -> str:
    if v is None:
        return "n/a"
    if v > 1e8:  # an epoch timestamp, not a row position
        return datetime.fromtimestamp(float(v), UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"row {int(v)}"


def _psi_plot(report: MonitorReport) -> str | None:
    healthy = [w for w in report.windows if w.healthy and w.features]
    if not healthy:
        return None
    top: dict[str, float] = {}
    for w in healthy:
        for f in w.features:
            top[f.name] = max(top.get(f.name, 0.0), f.psi)
    drifted = report.drifted_features
    rest = sorted((n for n in top if n not in drifted), key=lambda n: -top[n])
    names = (drifted + rest)[:MAX_PLOTTED_FEATURES]
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    for name in names:
        xs = [w.index for w in healthy]
        ys = [next(f.psi for f in w.features if f.name == name) for w in healthy]
        ax.plot(xs, ys, marker="o", markersize=3, label=name, lw=2 if name in drifted else 1)
    ax.axhline(report.settings["min_psi"], color=_BAD, ls="--", lw=1, label="min_psi")
    _axes(ax, "Feature PSI per window", "window", "PSI")
    ax.legend(fontsize=7)
    return _png(fig)


def _score_plot(report: MonitorReport) -> str | None:
    ref = report.reference.get("score_proportions")
    latest = report.latest_healthy()
    if not ref or latest is None or not latest.score_histogram:
        return None
    ref = [max(v, 1e-5) for v in ref]  # log scale: empty bins drawn at the floor
    latest_scores = [max(v, 1e-5) for v in latest.score_histogram]
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    centers = (np.arange(SCORE_BINS) + 0.5) / SCORE_BINS
    width = 0.4 / SCORE_BINS
    ax.bar(centers - width / 2, ref, width=width, color=_REF, label="training (out-of-fold)")
    ax.bar(centers + width / 2, latest_scores, width=width, color=_CUR, label="latest window")
    ax.axvline(report.reference["threshold"], color=_NEUTRAL, ls="--", lw=1, label="threshold")
    ax.set_yscale("log")
    _axes(ax, "Calibrated score distribution", "score", "share of rows")
    ax.legend(fontsize=7)
    return _png(fig)


def _alert_plot(report: MonitorReport) -> str | None:
    healthy = [w for w in report.windows if w.healthy and w.alert_rate is not None]
    if not healthy:
        return None
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([w.index for w in healthy], [w.alert_rate for w in healthy], marker="o", color=_CUR)
    for w in healthy:
        if w.alert_rate_change:
            ax.plot([w.index], [w.alert_rate], marker="o", color=_BAD, markersize=8)
    ax.axhline(report.reference["alert_rate"], color=_REF, ls="--", lw=1, label="reference")
    _axes(ax, "Alert rate per window", "window", "alert rate")
    ax.legend(fontsize=7)
    return _png(fig)


def _performance_plot(report: MonitorReport) -> str | None:
    rows = [w for w in report.windows if w.performance]
    if not rows:
        return None
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    for key, color in (("precision", _REF), ("recall", _CUR)):
        pts = [(w.index, w.performance.get(key)) for w in rows]
        pts = [(x, y) for x, y in pts if y is not None]
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o", color=color, label=key)
    for c in report.change_points:
        ax.axvline(c.window, color=_BAD if c.degraded else _NEUTRAL, ls=":", lw=1)
    ax.set_ylim(-0.02, 1.02)
    _axes(ax, "Performance on labeled events", "window", "")
    ax.legend(fontsize=7)
    return _png(fig)


def render_html(report: MonitorReport) -> str:
    """The report as one self-contained HTML page."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    d = report.to_dict()
    latest = next((w for w in reversed(d["windows"]) if w["healthy"]), None)
    plots = {
        "feature PSI": _psi_plot(report),
        "scores": _score_plot(report),
        "alert rate": _alert_plot(report),
        "performance": _performance_plot(report),
    }
    return env.from_string(_TEMPLATE).render(
        r=report, d=d, plots=plots, latest=latest, num=_num, sci=_sci, when=_when
    )


__all__ = ["render_html"]
