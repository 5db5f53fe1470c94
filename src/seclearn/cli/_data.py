"""Commands that read data: ``ingest`` and ``datasets list|show|compare``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from seclearn.cli._app import (
    WorkspaceOpt,
    app,
    console,
    datasets_app,
    print_json,
    progress_bar,
    settings_for,
)


@app.command()
def ingest(
    files: Annotated[
        list[Path], typer.Argument(help="Input files (plain or .gz).", exists=True, dir_okay=False)
    ],
    name: Annotated[str, typer.Option("--name", "-n", help="Dataset name in the workspace.")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help="Input format; detected from the content when omitted."
        ),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="TOML column mapping for the generic 'table' format.")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace an existing dataset of the same name.")
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Read FILES into a curated dataset: Parquet, manifest with lineage, quality report."""
    from seclearn.datasets import create_dataset

    settings = settings_for(workspace)
    total = sum(f.stat().st_size for f in files)
    with progress_bar() as bar:
        task = bar.add_task("ingest", total=total)
        manifest = create_dataset(
            settings.workspace,
            name,
            files,
            format=fmt,
            mapping=mapping,
            overwrite=overwrite,
            limits=settings.limits,
            progress=lambda n: bar.update(task, advance=n),
        )
    totals = manifest.get("totals", {})
    console.print(
        f"dataset [bold]{name}[/]: {totals.get('accepted', 0):,} records accepted, "
        f"{totals.get('quarantined', 0):,} quarantined, {totals.get('rejected', 0):,} rejected"
    )
    labels = (manifest.get("label") or {}).get("counts") or {}
    if labels:
        console.print("labels: " + ", ".join(f"{k}={v:,}" for k, v in labels.items()))
    console.print(f"written to {settings.workspace / 'datasets' / name}")


@datasets_app.command("list")
def datasets_list(workspace: WorkspaceOpt = None) -> None:
    """List the datasets in the workspace."""
    from seclearn.datasets import list_datasets

    rows = list_datasets(settings_for(workspace).workspace)
    table = Table("name", "rows", "created", "labels")
    for r in rows:
        table.add_row(
            str(r.get("name")),
            f"{r.get('rows', 0):,}",
            str(r.get("created", "")),
            str(r.get("labels", "")),
        )
    console.print(table)


@datasets_app.command("show")
def datasets_show(name: str, workspace: WorkspaceOpt = None) -> None:
    """Print a dataset's manifest as JSON."""
    from seclearn.datasets import read_manifest

    print_json(read_manifest(settings_for(workspace).workspace, name))


@datasets_app.command("compare")
def datasets_compare(train: str, test: str, workspace: WorkspaceOpt = None) -> None:
    """Report rows that a train and a test dataset share (leakage across the split)."""
    from seclearn.datasets import compare_datasets

    print_json(compare_datasets(settings_for(workspace).workspace, train, test))
