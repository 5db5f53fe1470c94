"""Feedback commands: ``seclearn review`` and ``seclearn labels import``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from seclearn.cli._app import WorkspaceOpt, app, console, settings_for

labels_app = typer.Typer(
    help="Training labels with provenance in the workspace's state.db.", no_args_is_help=True
)
app.add_typer(labels_app, name="labels")


@app.command()
def review(
    model: Annotated[str, typer.Argument(help="NAME, NAME@VERSION or a model folder.")],
    data: Annotated[str, typer.Argument(help="Dataset name in the workspace, or a flow file.")],
    k: Annotated[int, typer.Option("--k", "-k", help="Number of events to review.")] = 20,
    store: Annotated[
        bool,
        typer.Option(help="Replace the model's review queue in state.db (the triage page)."),
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """List the events of DATA whose labels would teach MODEL most (near its threshold, diverse)."""
    from seclearn.lifecycle.review import review_model
    from seclearn.store import StateStore, state_path

    settings = settings_for(workspace)
    path = state_path(settings.workspace)
    state = StateStore(path) if store or path.exists() else None
    try:
        result = review_model(
            settings.workspace,
            model,
            data,
            key=settings.key(),
            k=k,
            store=state,
            save=store,
            limits=settings.limits,
            random_state=settings.random_state,
        )
    finally:
        if state is not None:
            state.close()
    q = result.queue
    table = Table("rank", "uid", "src -> dst", "score", "threshold", "uncertainty", "cluster")
    table.columns[1].overflow = table.columns[2].overflow = "fold"  # never cut a uid or an IP
    for row in q.to_dict("records"):
        dst = f"{row.get('dst_ip', '')}:{row.get('dst_port', '')}"
        table.add_row(
            str(row["rank"]),
            escape(str(row["uid"])),
            escape(f"{row.get('src_ip', '')} -> {dst}"),
            f"{row['score']:.4f}",
            f"{row['threshold']:.4f}",
            f"{row['uncertainty']:.3f}",
            str(row["cluster"]),
        )
    console.print(table)
    console.print(
        f"{len(q):,} of {result.n_scored:,} events chosen for review by "
        f"{escape(result.model)}@{result.version} ({result.n_excluded:,} already labelled, "
        f"skipped); {q['cluster'].nunique() if len(q) else 0} clusters"
    )
    if result.stored is not None:
        console.print(f"review queue of {escape(result.model)} replaced: {result.stored} items")


@labels_app.command("import")
def labels_import(
    file: Annotated[
        Path, typer.Argument(help="CSV or JSON-lines label file.", exists=True, dir_okay=False)
    ],
    who: Annotated[
        str | None, typer.Option(help="Who gave the labels (when a row has no who column).")
    ] = None,
    quarantine: Annotated[
        Path | None,
        typer.Option(help="Where bad rows go (default: FILE.quarantine.jsonl, when any)."),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Record the labels of FILE (event_ref or uid, label; who, reason, attack_type)."""
    from seclearn.lifecycle.feedback import import_labels
    from seclearn.store import StateStore, state_path

    target = quarantine or file.with_name(file.name + ".quarantine.jsonl")
    with StateStore(state_path(settings_for(workspace).workspace)) as store:
        r = import_labels(store, file, who=who, quarantine_to=target)
    console.print(
        f"{r.rows:,} rows: {r.accepted:,} accepted ({r.recorded:,} recorded, {r.changed:,} of "
        f"them changed a label; {r.unchanged:,} unchanged), {r.quarantined:,} quarantined; "
        f"source {escape(r.source)}",
        soft_wrap=True,
    )
    for q in r.quarantine[:5]:
        console.print(f"  line {q.line}: {escape(q.reason)}", soft_wrap=True)
    if r.quarantine_path is not None:
        console.print(f"quarantined rows: {escape(str(r.quarantine_path))}", soft_wrap=True)
