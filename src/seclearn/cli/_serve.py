"""``seclearn serve``: the scoring and triage HTTP API under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from seclearn.cli._app import WorkspaceOpt, app, err


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8080,
    workspace: WorkspaceOpt = None,
) -> None:
    """Serve the scoring and triage API (tokens from $SECLEARN_TOKENS; see docs/cli.md)."""
    import logging

    import uvicorn

    from seclearn.service import create_app, load_service_settings

    settings = load_service_settings(workspace)
    if not settings.tokens:
        err.print(
            "[yellow]warning:[/] SECLEARN_TOKENS is empty: every route but /healthz will refuse."
        )
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s %(message)s")
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        server_header=False,
    )
