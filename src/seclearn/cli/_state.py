"""Commands on the workspace's state database: ``audit verify``."""

from __future__ import annotations

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
