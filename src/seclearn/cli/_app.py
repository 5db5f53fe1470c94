"""The ``seclearn`` application object, its shared options and rendering helpers.

Command modules (``_data``, ``_models``, ``_score``) register their
commands on :data:`app` when :mod:`seclearn.cli.main` imports them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from seclearn import __version__
from seclearn.config import Settings, load_settings

app = typer.Typer(
    name="seclearn",
    help="Machine learning for security telemetry: ingest, train, evaluate and score detectors.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
datasets_app = typer.Typer(help="Curated datasets in the workspace.", no_args_is_help=True)
models_app = typer.Typer(help="Signed models in the workspace registry.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")
app.add_typer(models_app, name="models")

console = Console()
err = Console(stderr=True)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace", "-w", help="Workspace folder (default: $SECLEARN_WORKSPACE or ./.seclearn)."
    ),
]


SplitOpt = Annotated[
    str | None,
    typer.Option(
        "--split",
        help="Leak-proof split, e.g. 'time:0.3,gap=1h', 'random:0.3', 'group:src_ip:0.3', "
        "'family:dos' (see docs/cli.md).",
    ),
]


def settings_for(workspace: Path | None) -> Settings:
    return load_settings(workspace)


def print_json(data: object) -> None:
    sys.stdout.write(
        orjson.dumps(
            data, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY, default=str
        ).decode()
        + "\n"
    )


def progress_bar() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        console.print(f"seclearn {__version__}")
        raise typer.Exit()


def format_value(value: object) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def render_metrics(metrics: dict) -> None:
    keys = ["accuracy", "precision", "recall", "f1", "fpr", "roc_auc", "pr_auc", "brier", "ece"]
    table = Table("metric", "value", title="at the operating point (chosen on training data)")
    for k in keys:
        if k in metrics:
            table.add_row(k, format_value(metrics[k]))
    for k, v in (metrics.get("detection_at_fpr") or {}).items():
        table.add_row(f"detection @ FPR {k}", format_value(v))
    console.print(table)
