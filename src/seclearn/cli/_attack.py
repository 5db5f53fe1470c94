"""``seclearn attack``: adversarial evaluation of a model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from seclearn.cli._app import SplitOpt, WorkspaceOpt, app, console, format_value, settings_for


@app.command()
def attack(
    model: Annotated[str, typer.Argument(help="NAME, NAME@VERSION or a model folder.")],
    dataset: Annotated[str, typer.Argument(help="Dataset name in the workspace (labeled).")],
    budget: Annotated[
        float,
        typer.Option(
            help="Largest move of a controlled column, relative to (its value + one unit)."
        ),
    ] = 1.0,
    attack: Annotated[
        str, typer.Option("--attack", help="trees (LightGBM only), blackbox, or both.")
    ] = "both",
    max_rows: Annotated[
        int, typer.Option(help="Malicious rows attacked (a seeded sample).")
    ] = 2000,
    threat: Annotated[
        Path | None, typer.Option(help="JSON or TOML file overriding the default threat model.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Report folder (default: workspace/reports/...).")
    ] = None,
    split: SplitOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Attack MODEL on the malicious rows of DATASET; write robustness JSON and HTML."""
    from seclearn.lifecycle.attack import attack_model

    settings = settings_for(workspace)
    result = attack_model(
        settings,
        model,
        dataset,
        budget=budget,
        attack=attack,
        max_rows=max_rows,
        threat_file=threat,
        split=split,
        out_dir=out,
    )
    table = Table(title=f"{escape(result.model)} on {escape(result.dataset)}, budget {budget:g}")
    keys = ("evasion_rate", "clean_detection_rate", "robust_detection_rate", "median_cost")
    table.add_column("attack")
    for key in ("n_attacks", *keys):
        table.add_column(key.replace("_", " "), justify="right")
    for row in [*result.attacks.values(), result.figure]:
        table.add_row(escape(row["attack"]), *(format_value(row[k]) for k in ("n_attacks", *keys)))
    console.print(table)
    console.print(f"threat-model violations: {len(result.violations)}")
    console.print(f"report: {result.html_path}\njson:   {result.json_path}")
