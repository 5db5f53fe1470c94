"""Commands that make and judge models: ``train``, ``models ...``, ``evaluate``, ``compare``,
and ``cluster`` (events or alerts grouped into candidate campaigns)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from seclearn.cli._app import (
    SplitOpt,
    WorkspaceOpt,
    app,
    console,
    err,
    format_value,
    models_app,
    print_json,
    render_metrics,
    settings_for,
)


@app.command()
def train(
    dataset: Annotated[str, typer.Argument(help="Training dataset name in the workspace.")],
    name: Annotated[str, typer.Option("--name", "-n", help="Model name in the registry.")],
    detector: Annotated[
        str,
        typer.Option(
            help="Detector: lightgbm, random_forest, logistic_regression, isolation_forest, ecod, hbos, hybrid."
        ),
    ] = "lightgbm",
    target_fpr: Annotated[
        float,
        typer.Option(
            help="Operating point: false-positive rate on benign training traffic (out-of-fold)."
        ),
    ] = 0.01,
    split: SplitOpt = None,
    harden: Annotated[
        str | None,
        typer.Option(
            help="Train against evasion: 'monotone' (LightGBM: the score never falls as the "
            "attacker grows what they control) or 'adversarial' (refit on its own evasions)."
        ),
    ] = None,
    harden_budget: Annotated[
        float, typer.Option(help="Attack budget of --harden adversarial (relative change).")
    ] = 1.0,
    workspace: WorkspaceOpt = None,
) -> None:
    """Fit a detector on DATASET (its train side with --split) and register it as NAME."""
    from seclearn.lifecycle import train_model

    settings = settings_for(workspace)
    result = train_model(
        settings.workspace,
        dataset,
        name,
        key=settings.key(),
        detector=detector,
        target_fpr=target_fpr,
        random_state=settings.random_state,
        split=split,
        harden=harden,
        harden_budget=harden_budget,
    )
    if result.split is not None:
        d = result.split.describe()
        console.print(f"split [bold]{escape(d['spec'])}[/]: {escape(d['summary'])}")
        console.print(
            f"trained on {d['n_train']:,} rows; {d['n_test']:,} test rows held out "
            f"(evaluate with --split '{escape(d['spec'])}')"
        )
    op = result.pipeline.operating_point_
    console.print(
        f"model [bold]{result.ref.name}@{result.ref.version}[/] written to {result.ref.path}"
    )
    console.print(
        f"operating point: threshold {op['threshold']:.4f} for {op.get('policy')} "
        f"{op.get('target_fpr', '')} (chosen on {op.get('chosen_on')})"
    )


@models_app.command("list")
def models_list(workspace: WorkspaceOpt = None) -> None:
    """List registered models, their versions and stages (champion, candidate, retired)."""
    from seclearn.registry import list_models

    table = Table("name", "version", "stage", "created", "detector", "threshold")
    for m in list_models(settings_for(workspace).workspace):
        threshold = m.get("threshold")
        table.add_row(
            str(m.get("name")),
            str(m.get("version")),
            str(m.get("stage") or ""),
            str(m.get("created_at", "")),
            str(m.get("detector", "")),
            f"{threshold:.6g}" if isinstance(threshold, float) else str(threshold or ""),
        )
    console.print(table)


@models_app.command("show")
def models_show(
    ref: Annotated[str, typer.Argument(help="NAME, NAME@VERSION or a model folder.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Print a model's manifest and whether its signature verifies."""
    from seclearn.registry import show_model

    settings = settings_for(workspace)
    print_json(show_model(ref, root=settings.workspace, key=settings.key()))


@models_app.command("sign")
def models_sign(
    path: Annotated[
        Path,
        typer.Argument(help="A model folder with a manifest.json.", exists=True, file_okay=False),
    ],
    overwrite: Annotated[bool, typer.Option(help="Replace an existing signature.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Sign a model folder's manifest with the configured key (for models built elsewhere)."""
    from seclearn.registry import sign_model

    settings = settings_for(workspace)
    console.print(f"signed: {sign_model(path, key=settings.key(), overwrite=overwrite)}")


@app.command()
def evaluate(
    model: Annotated[str, typer.Argument(help="NAME, NAME@VERSION or a model folder.")],
    dataset: Annotated[str, typer.Argument(help="Dataset name in the workspace.")],
    out: Annotated[
        Path | None, typer.Option(help="Report folder (default: workspace/reports/...).")
    ] = None,
    split: SplitOpt = None,
    robustness_budget: Annotated[
        float | None,
        typer.Option(
            help="Also attack the detected malicious rows at this budget (relative change of "
            "what the attacker controls) and add a robustness section to the card."
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Evaluate MODEL on DATASET (its test side with --split); write JSON and HTML reports."""
    from seclearn.lifecycle import evaluate_model

    settings = settings_for(workspace)
    result, json_path, html_path = evaluate_model(
        settings.workspace,
        model,
        dataset,
        key=settings.key(),
        out_dir=out,
        split=split,
        robustness_budget=robustness_budget,
        random_state=settings.random_state,
    )
    described = result.split
    if described:
        console.print(
            f"split {escape(str(described.get('spec')))}: {escape(str(described.get('summary')))}"
        )
    render_metrics(result.metrics)
    console.print(f"report: {html_path}\njson:   {json_path}")


_LEADERBOARD_ROWS = (
    ("roc_auc", "ROC-AUC"),
    ("pr_auc", "PR-AUC (ranked by)"),
    ("detection_at_1pct_fpr", "detection @ 1% FPR"),
    ("detection_at_0.1pct_fpr", "detection @ 0.1% FPR"),
    ("precision", "precision"),
    ("recall", "recall"),
    ("fpr", "FPR"),
    ("brier", "Brier"),
    ("ece", "ECE"),
)


@app.command()
def compare(
    dataset: Annotated[str, typer.Argument(help="Dataset name in the workspace.")],
    detectors: Annotated[
        list[str],
        typer.Option(
            "--detector", "-d", help="A detector to compare; repeat for each (at least one)."
        ),
    ],
    split: Annotated[
        str,
        typer.Option(
            "--split",
            help="Leak-proof split, e.g. 'time:0.3,gap=1h', 'random:0.3', 'group:src_ip:0.3', "
            "'family:dos'.",
        ),
    ],
    target_fpr: Annotated[
        float,
        typer.Option(
            help="Operating-point rule for every detector: this FPR on benign training rows (out-of-fold)."
        ),
    ] = 0.01,
    out: Annotated[
        Path | None,
        typer.Option(help="Leaderboard folder (default: workspace/reports/compare-DATASET)."),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Train each detector on the train side of DATASET, rank them on the test side."""
    from seclearn.lifecycle import compare_detectors

    settings = settings_for(workspace)
    result = compare_detectors(
        settings.workspace,
        dataset,
        detectors,
        split=split,
        target_fpr=target_fpr,
        random_state=settings.random_state,
        out_dir=out,
        say=lambda s: err.print(f"[dim]{escape(s)}[/]"),
    )
    board = result.leaderboard
    described = board.split or {}
    console.print(
        f"split {escape(str(described.get('spec')))}: {escape(str(described.get('summary')))}"
    )
    entries = board.entries
    table = Table(
        "metric",
        *(f"{i}. {escape(e['name'])}" for i, e in enumerate(entries, 1)),
        title=f"test side; each detector at its threshold for {target_fpr:g} FPR on training data",
    )
    for key, title in _LEADERBOARD_ROWS:
        table.add_row(title, *(format_value(e[key]) for e in entries))
    table.add_row("fit seconds", *(f"{e['fit_s']:.2f}" for e in entries))
    table.add_row(
        "score rows/s",
        *(
            "n/a" if e["score_rows_per_s"] is None else f"{e['score_rows_per_s']:,.0f}"
            for e in entries
        ),
    )
    console.print(table)
    console.print(f"leaderboard: {result.html_path}\njson:        {result.json_path}")


@app.command()
def cluster(
    dataset: Annotated[str, typer.Argument(help="Dataset name in the workspace.")],
    model: Annotated[str | None, typer.Option(help="Cluster this model's alerts.")] = None,
    all_events: Annotated[bool, typer.Option(help="With --model: all events, not alerts.")] = False,
    method: Annotated[str, typer.Option(help="hdbscan or kmeans.")] = "hdbscan",
    min_cluster_size: Annotated[int | None, typer.Option(help="HDBSCAN: least size.")] = None,
    clusters: Annotated[
        int | None, typer.Option("--clusters", "-k", help="k for k-means (default: silhouette).")
    ] = None,
    max_fit_rows: Annotated[int, typer.Option(help="Rows fitted; the rest assigned.")] = 20_000,
    exemplars: Annotated[int, typer.Option(help="Exemplar records per cluster.")] = 3,
    out: Annotated[Path | None, typer.Option(help="Report folder (default: reports/).")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Group the events of DATASET (or a model's alerts on it) into candidate campaigns."""
    from seclearn.lifecycle import cluster_dataset

    settings = settings_for(workspace)
    result = cluster_dataset(
        settings.workspace,
        dataset,
        model=model,
        key=settings.key() if model else None,
        alerts_only=not all_events,
        method=method,
        min_cluster_size=min_cluster_size,
        n_clusters=clusters,
        max_fit_rows=max_fit_rows,
        n_exemplars=exemplars,
        out_dir=out,
        random_state=settings.random_state,
    )
    r, purity = result.report, result.report["purity"] or {}
    what = f"alerts of {r['source']['model']}" if model and not all_events else "events"
    console.print(
        f"{r['rows']:,} {escape(what)} clustered with {r['method']}: {r['n_clusters']} clusters, "
        f"{r['noise']['count']:,} noise ({r['noise']['share']:.1%})"
    )
    if purity.get("rows"):
        console.print(
            f"purity by attack_type (not used to cluster): {format_value(purity['weighted_purity'])}; "
            f"baseline, share of the most common type: {purity['majority_share']:.4f}"
        )
    table = Table("id", "size", "first seen, span", "majority (purity)")
    table.add_column("sets it apart: in cluster vs all rows", overflow="fold")
    for c in r["clusters"]:
        span = f"{c['first_ts'][:16]}\n{c['span']}".replace("T", " ") if "span" in c else "n/a"
        apart = "\n".join(_feature_text(f) for f in c["distinguishing"][:3])
        major = f"{c['majority']} ({c['purity']:.2f})" if "majority" in c else "n/a"
        table.add_row(str(c["id"]), f"{c['size']:,}", span, escape(major), escape(apart))
    console.print(table)
    for name, path in zip(("report", "json", "rows"), result.paths, strict=True):
        console.print(f"{name + ':':<8}{path}")


def _feature_text(f: dict) -> str:
    """A cluster's distinguishing feature: its median (or share of rows) in it vs in all rows."""
    if f["kind"] == "share":
        return f"{f['feature']}: {f['cluster']:.0%} vs {f['overall']:.0%} of rows"
    shown = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in (f["cluster"], f["overall"])]
    return f"{f['feature']}: {shown[0]} vs {shown[1]}"
