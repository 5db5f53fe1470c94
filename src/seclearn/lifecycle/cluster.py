"""Group the events of a dataset, or a model's alerts on it, into candidate campaigns.

:func:`cluster_dataset` featurizes a workspace dataset with a fresh
:class:`~seclearn.features.FlowFeaturizer` (one-hot categories, log counts: distances
need comparable columns, unlike the tree models' ordinal codes), fitted on *all* of
the dataset's rows so that time-window context features see every flow, then keeps
either every row or, with a registered model, only the rows the model alerts on, and
clusters them with :class:`~seclearn.models.clustering.CampaignClusterer`. Labels
(``label``, ``attack_type``) are never features; ``attack_type``, when present, is
only used afterwards to say how pure each cluster is.

It writes ``clusters.json`` (the report of
:func:`~seclearn.models.clustering.describe_clusters` plus where the rows came from),
``clusters.html`` (one self-contained page: inline CSS, no scripts, every value
escaped) and ``assignments.parquet`` (one row per clustered record: its row number in
the dataset, its cluster, its identity fields and, with a model, its score).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import orjson
import pandas as pd

from seclearn.datasets import load_dataset
from seclearn.errors import ConfigError, ModelError, ParameterError
from seclearn.evaluation._report import format_duration, format_number, format_percent
from seclearn.features import FlowFeaturizer, validate_params
from seclearn.models.cluster_report import describe_clusters
from seclearn.models.clustering import NOISE, CampaignClusterer
from seclearn.registry import load_model

#: Identity fields copied into assignments.parquet when the dataset has them.
ASSIGNMENT_FIELDS = ("ts", "uid", "src_ip", "src_port", "dst_ip", "dst_port", "proto", "service")


@dataclass(frozen=True)
class ClusterResult:
    """What :func:`cluster_dataset` found and wrote.

    ``rows`` are the positions (0-based) in the dataset of the clustered records and
    ``labels`` their cluster ids (-1 = noise), aligned with ``rows``.
    """

    report: dict[str, Any]
    rows: np.ndarray
    labels: np.ndarray
    json_path: Path
    html_path: Path
    assignments_path: Path

    @property
    def paths(self) -> tuple[Path, Path, Path]:
        """The HTML report, the JSON report and the assignments, in that order."""
        return self.html_path, self.json_path, self.assignments_path


def cluster_dataset(
    root: Path,
    dataset: str,
    *,
    model: str | None = None,
    key: bytes | None = None,
    alerts_only: bool = True,
    method: str = "hdbscan",
    min_cluster_size: int | None = None,
    n_clusters: int | None = None,
    max_fit_rows: int = 20_000,
    n_exemplars: int = 3,
    out_dir: Path | None = None,
    random_state: int = 0,
) -> ClusterResult:
    """Cluster the events of workspace dataset ``dataset`` (or ``model``'s alerts on it).

    ``model`` is a registry ref (``NAME``, ``NAME@VERSION`` or a folder) verified with
    ``key``; with ``alerts_only`` (the default) only the rows it alerts on at its stored
    operating point are clustered ("group alerts into campaigns"), otherwise every row
    is, and each cluster also reports the share of its rows that are alerts and their
    mean score. ``method``, ``min_cluster_size``, ``n_clusters`` (k for k-means, None =
    chosen by silhouette) and ``max_fit_rows`` go to the clusterer. Reports go to
    ``out_dir`` (default ``<root>/reports/clusters-<dataset>[-<model>]-<method>``).
    Bad parameters raise :class:`~seclearn.errors.ParameterError` before anything is read;
    an unknown dataset or model raises the workspace's or registry's not-found error.
    """
    clusterer = CampaignClusterer(
        method=method,
        min_cluster_size=min_cluster_size,
        n_clusters=n_clusters,
        max_fit_rows=max_fit_rows,
        random_state=random_state,
    )
    # refuse bad parameters before the dataset and the model are read
    validate_params("CampaignClusterer", clusterer.get_params(), clusterer._parameter_constraints)
    if isinstance(n_exemplars, bool) or not isinstance(n_exemplars, int) or n_exemplars < 0:
        raise ParameterError(
            "The 'n_exemplars' parameter of cluster_dataset must be an int in [0, inf). "
            f"Got {n_exemplars!r} instead."
        )
    frame = load_dataset(root, dataset)
    if frame.empty:
        raise ModelError(f"Dataset {dataset!r} has no rows; there is nothing to cluster.")
    source: dict[str, Any] = {"dataset": dataset, "dataset_rows": len(frame), "model": None}
    scored: pd.DataFrame | None = None
    if model is not None:
        if key is None:
            raise ConfigError("cluster_dataset: a model is given but no signing key to verify it.")
        pipeline, manifest = load_model(model, root=root, key=key)
        scored = pipeline.score(frame)
        alerts = scored["decision"].to_numpy(dtype=bool)
        source.update(
            model=f"{manifest['name']}@{manifest['version']}",
            alerts=int(alerts.sum()),
            alerts_only=alerts_only,
            threshold=float(pipeline.threshold_),
        )
        if alerts_only and not alerts.any():
            raise ModelError(
                f"Model {source['model']} raises no alerts on dataset {dataset!r}; there is nothing "
                "to cluster. Cluster every event instead (alerts_only=False, CLI --all-events)."
            )
    featurizer = FlowFeaturizer(encoding="onehot", log_counts=True)
    X = featurizer.fit_transform(frame)
    if scored is not None and alerts_only:
        rows = np.flatnonzero(scored["decision"].to_numpy(dtype=bool))
    else:
        rows = np.arange(len(frame))
    picked = frame.iloc[rows].reset_index(drop=True)
    clusterer.fit(X[rows])
    labels = clusterer.labels_
    report = describe_clusters(
        clusterer,
        X[rows],
        frame=picked,
        feature_names=featurizer.feature_names_out_,
        display=featurizer.display_value,
        n_exemplars=n_exemplars,
    )
    for c in report["clusters"]:
        if "span_s" in c:
            c["span"] = format_duration(c["span_s"])
        for e in c["exemplars"]:
            e["row"] = int(rows[e["row"]])  # dataset row, not position among clustered rows
    if scored is not None and not alerts_only:
        _add_alert_shares(report, labels, scored)
    source["rows_clustered"] = len(rows)
    report = {"source": source, **report}
    out = out_dir or root / "reports" / _default_stem(dataset, source.get("model"), method)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "clusters.json", out / "clusters.html"
    _write(json_path, orjson.dumps(report, option=orjson.OPT_INDENT_2, default=str))
    _write(html_path, render_cluster_html(report).encode("utf-8"))
    assignments_path = out / "assignments.parquet"
    table = pd.DataFrame({"row": rows, "cluster": labels})
    for field in ASSIGNMENT_FIELDS:
        if field in picked.columns:
            table[field] = picked[field].to_numpy()
    if scored is not None:
        table["score"] = scored["score"].to_numpy()[rows]
    table.to_parquet(assignments_path, index=False)
    return ClusterResult(report, rows, labels, json_path, html_path, assignments_path)


def _add_alert_shares(report: dict[str, Any], labels: np.ndarray, scored: pd.DataFrame) -> None:
    alerts = scored["decision"].to_numpy(dtype=bool)
    scores = scored["score"].to_numpy(dtype=np.float64)
    for c in report["clusters"]:
        members = labels == c["id"]
        c["alert_share"] = float(alerts[members].mean())
        c["mean_score"] = float(scores[members].mean())
    noise = labels == NOISE
    if noise.any():
        report["noise"]["alert_share"] = float(alerts[noise].mean())


def _default_stem(dataset: str, model: str | None, method: str) -> str:
    parts = ["clusters", dataset, *([model.replace("@", "-v")] if model else []), method]
    return "-".join(p.replace(os.sep, "_") for p in parts)


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def render_cluster_html(report: dict[str, Any]) -> str:
    """One self-contained HTML page of a cluster report (autoescaped, no scripts)."""
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"clusters.html": _TEMPLATE}),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = format_number
    env.filters["pct"] = format_percent
    env.filters["cell"] = _cell
    fields: list[str] = []
    for c in report["clusters"]:
        for e in c["exemplars"]:
            fields += [k for k in e if k not in fields and k != "ts"]
    return env.get_template("clusters.html").render(r=report, fields=fields)


def _cell(value: Any) -> str:
    """A record field as the report prints it: whole numbers (ports, bytes) without decimals."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return format_number(value)


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Campaign clusters: {{ r.source.dataset }}</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; color: #222; margin: 0; background: #f6f7f9; }
  main { max-width: 1100px; margin: 0 auto; padding: 24px; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  h2 { font-size: 17px; margin: 20px 0 8px; border-bottom: 1px solid #dde; }
  section { background: #fff; border: 1px solid #e3e5ea; border-radius: 6px;
            padding: 4px 18px 14px; margin-bottom: 16px; overflow-x: auto; }
  table { border-collapse: collapse; margin: 8px 0; }
  th, td { padding: 3px 10px; text-align: left; border-bottom: 1px solid #eee; }
  th { background: #f0f2f5; font-weight: 600; }
  .sub { color: #666; }
</style>
</head>
<body>
<main>
<h1>Campaign clusters</h1>
<p class="sub">Dataset <strong>{{ r.source.dataset }}</strong>
{% if r.source.model %}, {{ "alerts of" if r.source.alerts_only else "all events, scored by" }}
model <strong>{{ r.source.model }}</strong>{% endif %}; method {{ r.method }}.</p>
<section>
<h2>Summary</h2>
<table>
  <tr><th>rows in dataset</th><td>{{ r.source.dataset_rows | num }}</td></tr>
  {% if r.source.model %}<tr><th>alerts</th><td>{{ r.source.alerts | num }}</td></tr>{% endif %}
  <tr><th>rows clustered</th><td>{{ r.rows | num }} (model fitted on {{ r.fit_rows | num }})</td></tr>
  <tr><th>clusters</th><td>{{ r.n_clusters | num }}</td></tr>
  <tr><th>noise (in no cluster)</th><td>{{ r.noise.count | num }} ({{ r.noise.share | pct }})</td></tr>
</table>
{% if r.purity and r.purity.rows %}
<h2>Agreement with attack_type (not used for clustering)</h2>
<table>
  <tr><th>weighted purity (clustered rows)</th><td>{{ r.purity.weighted_purity | num }}</td></tr>
  <tr><th>purity counting noise as impure</th><td>{{ r.purity.purity_all_rows | num }}</td></tr>
  <tr><th>baseline: share of the most common type</th><td>{{ r.purity.majority_share | num }}</td></tr>
  <tr><th>adjusted Rand index (clustered rows)</th><td>{{ r.purity.adjusted_rand | num }}</td></tr>
</table>
{% endif %}
</section>
{% for c in r.clusters %}
<section>
<h2>Cluster {{ c.id }}: {{ c.size | num }} rows ({{ c.share | pct }})</h2>
<p>
{% if c.first_ts is defined %}From {{ c.first_ts }} to {{ c.last_ts }} ({{ c.span }}). {% endif %}
{% if c.majority is defined %}Mostly {{ c.majority }} (purity {{ c.purity | pct }}). {% endif %}
{% if c.alert_share is defined %}Alerts: {{ c.alert_share | pct }}, mean score {{ c.mean_score | num }}.{% endif %}
</p>
<table>
  <tr><th>feature that sets it apart</th><th>in cluster</th><th>all rows</th><th>difference</th></tr>
  {% for f in c.distinguishing %}
  <tr><td>{{ f.feature }}{% if f.kind == "share" %} (share of rows){% else %} (median){% endif %}</td>
      <td>{{ f.cluster | num }}</td><td>{{ f.overall | num }}</td><td>{{ f.difference | num }}</td></tr>
  {% endfor %}
</table>
<table>
  <tr>{% for k in fields %}<th>{{ k }}</th>{% endfor %}</tr>
  {% for e in c.exemplars %}
  <tr>{% for k in fields %}<td>{{ e.get(k) | cell }}</td>{% endfor %}</tr>
  {% endfor %}
</table>
</section>
{% endfor %}
<section>
<h2>Noise: {{ r.noise.count | num }} rows</h2>
<p>Rows too far from every cluster to join one{% if r.noise.majority is defined %};
most common type {{ r.noise.majority }} ({{ r.noise.purity | pct }}){% endif %}.</p>
</section>
</main>
</body>
</html>
"""

__all__ = ["ClusterResult", "cluster_dataset", "render_cluster_html"]
