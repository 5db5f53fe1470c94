"""Commands on the workspace's state database: ``audit verify`` and ``deliver``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from seclearn.cli._app import WorkspaceOpt, app, console, settings_for

audit_app = typer.Typer(
    help="The hash-chained audit log in the workspace's state.db.", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(workspace: WorkspaceOpt = None) -> None:
    """Walk the audit log's hash chain; exit 2 naming the first changed, missing or moved entry."""
    from seclearn.store import state_path, verify_audit_log

    path = state_path(settings_for(workspace).workspace)
    count = verify_audit_log(path)
    console.print(f"{count:,} audit entries, chain OK ({escape(str(path))})", soft_wrap=True)


@app.command()
def deliver(
    sinks: Annotated[Path, typer.Option(help="TOML file of [sinks.NAME] tables.")],
    loop: Annotated[
        bool, typer.Option(help="Keep delivering every --interval seconds (Ctrl-C stops).")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between passes with --loop.")] = 5.0,
    lease_s: Annotated[
        float,
        typer.Option(help="Seconds an item is leased while sent; a crashed run's items wait this."),
    ] = 60.0,
    workspace: WorkspaceOpt = None,
) -> None:
    """Hand the alerts queued in the outbox to each sink: retries, backoff, idempotency keys."""
    import time

    from seclearn.lifecycle import deliver_pending, load_sinks
    from seclearn.store import StateStore, state_path

    config = load_sinks(sinks)
    with StateStore(state_path(settings_for(workspace).workspace), create=False) as store:
        while True:
            for name, report in deliver_pending(store, config, lease_s=lease_s).items():
                console.print(
                    f"{escape(name)}: {len(report.delivered)} delivered, {len(report.retried)} "
                    f"to retry, {len(report.gave_up)} given up"
                )
            if not loop:
                break
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                break
