"""``seclearn monitor``: drift of features, scores, alert rate and performance."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from seclearn.cli._app import WorkspaceOpt, app, console, settings_for


@app.command()
def monitor(
    model: Annotated[str, typer.Argument(help="NAME, NAME@VERSION or a model folder.")],
    data: Annotated[str, typer.Argument(help="A workspace dataset name or a flow file.")],
    window: Annotated[
        str,
        typer.Option(help="Window: a duration ('1h', '1d', '30m') or a row count ('rows:5000')."),
    ] = "1d",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Folder for report.json and report.html (default: in reports/)."
        ),
    ] = None,
    prom: Annotated[
        Path | None, typer.Option("--prom", help="Also write Prometheus gauges to this file.")
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="Input file format; detected if omitted.")
    ] = None,
    min_psi: Annotated[
        float, typer.Option(help="Smallest PSI that counts as drift (with a significant test).")
    ] = 0.1,
    q: Annotated[float, typer.Option(help="False-discovery rate of the per-window tests.")] = 0.01,
    min_rows: Annotated[int, typer.Option(help="Fewer rows than this: window unhealthy.")] = 200,
    workspace: WorkspaceOpt = None,
) -> None:
    """Compare DATA with MODEL's training reference; exit 0 no drift, 1 drift, 3 unhealthy."""
    from seclearn.lifecycle.monitor import monitor_model

    settings = settings_for(workspace)
    result = monitor_model(
        settings,
        model,
        data,
        window=window,
        out_dir=out,
        prom_path=prom,
        input_format=fmt,
        q=q,
        min_psi=min_psi,
        min_rows=min_rows,
    )
    r = result.report
    colour = {"ok": "green", "drift": "red", "unhealthy": "yellow"}[r.status]
    label = "monitor unhealthy" if r.status == "unhealthy" else r.status
    console.print(
        f"[{colour}]{label}[/]: {escape(result.model)} on {r.n_rows:,} rows in "
        f"{len(r.windows)} windows of {escape(r.window)}",
        highlight=False,
    )
    for reason in r.unhealthy_reasons[:5]:
        console.print(f"  unhealthy: {escape(reason)}", highlight=False)
    if r.drifted_features:
        names = r.drifted_features
        more = f" and {len(names) - 10} more" if len(names) > 10 else ""
        console.print(f"  drifted features: {escape(', '.join(names[:10]))}{more}")
    n = len(r.windows)
    for what, flagged in (
        ("scores", sum(w.score_drift for w in r.windows)),
        ("alert rate", sum(w.alert_rate_change for w in r.windows)),
    ):
        if flagged:
            console.print(f"  {what} moved in {flagged} of {n} windows")
    for c in r.change_points:
        if c.degraded:
            console.print(
                f"  performance drift ({c.stream}): error {c.error_before:.3f} -> "
                f"{c.error_after:.3f} at window {c.window}"
            )
    console.print(f"report: {result.html_path}", highlight=False)
    if result.prom_path is not None:
        console.print(f"gauges: {result.prom_path}", highlight=False)
    # SystemExit, not typer.Exit: main() runs the app with standalone_mode=False, where
    # click would turn typer.Exit into a return value and the process would exit 0
    raise SystemExit(result.exit_code)
