"""The ``seclearn`` command line.

Each command parses its options, calls one library function and renders the result.
Errors from the library (``SeclearnError``) become one line on stderr and exit code 2;
no modelling logic lives here.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.markup import escape
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
from seclearn.errors import SeclearnError

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


def _settings(workspace: Path | None) -> Settings:
    return load_settings(workspace)


def _print_json(data: object) -> None:
    sys.stdout.write(
        orjson.dumps(
            data, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY, default=str
        ).decode()
        + "\n"
    )


def _progress() -> Progress:
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

    settings = _settings(workspace)
    total = sum(f.stat().st_size for f in files)
    with _progress() as bar:
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

    rows = list_datasets(_settings(workspace).workspace)
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

    _print_json(read_manifest(_settings(workspace).workspace, name))


@datasets_app.command("compare")
def datasets_compare(train: str, test: str, workspace: WorkspaceOpt = None) -> None:
    """Report rows that a train and a test dataset share (leakage across the split)."""
    from seclearn.datasets import compare_datasets

    _print_json(compare_datasets(_settings(workspace).workspace, train, test))


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
    workspace: WorkspaceOpt = None,
) -> None:
    """Fit a detector on DATASET (its train side with --split) and register it as NAME."""
    from seclearn.lifecycle import train_model

    settings = _settings(workspace)
    result = train_model(
        settings.workspace,
        dataset,
        name,
        key=settings.key(),
        detector=detector,
        target_fpr=target_fpr,
        random_state=settings.random_state,
        split=split,
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
    """List registered models and their versions."""
    from seclearn.registry import list_models

    table = Table("name", "version", "created", "detector", "threshold")
    for m in list_models(_settings(workspace).workspace):
        table.add_row(
            str(m.get("name")),
            str(m.get("version")),
            str(m.get("created_at", "")),
            str(m.get("detector", "")),
            str(m.get("threshold", "")),
        )
    console.print(table)


@models_app.command("show")
def models_show(
    ref: Annotated[str, typer.Argument(help="NAME, NAME@VERSION or a model folder.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Print a model's manifest and whether its signature verifies."""
    from seclearn.registry import show_model

    settings = _settings(workspace)
    _print_json(show_model(ref, root=settings.workspace, key=settings.key()))


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

    settings = _settings(workspace)
    console.print(f"signed: {sign_model(path, key=settings.key(), overwrite=overwrite)}")


@app.command()
def evaluate(
    model: Annotated[str, typer.Argument(help="NAME, NAME@VERSION or a model folder.")],
    dataset: Annotated[str, typer.Argument(help="Dataset name in the workspace.")],
    out: Annotated[
        Path | None, typer.Option(help="Report folder (default: workspace/reports/...).")
    ] = None,
    split: SplitOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Evaluate MODEL on DATASET (its test side with --split); write JSON and HTML reports."""
    from seclearn.lifecycle import evaluate_model

    settings = _settings(workspace)
    result, json_path, html_path = evaluate_model(
        settings.workspace,
        model,
        dataset,
        key=settings.key(),
        out_dir=out,
        split=split,
        random_state=settings.random_state,
    )
    described = result.split
    if described:
        console.print(
            f"split {escape(str(described.get('spec')))}: {escape(str(described.get('summary')))}"
        )
    _render_metrics(result.metrics)
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


def _fmt(value: object) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _render_metrics(metrics: dict) -> None:
    keys = ["accuracy", "precision", "recall", "f1", "fpr", "roc_auc", "pr_auc", "brier", "ece"]
    table = Table("metric", "value", title="at the operating point (chosen on training data)")
    for k in keys:
        if k in metrics:
            table.add_row(k, _fmt(metrics[k]))
    for k, v in (metrics.get("detection_at_fpr") or {}).items():
        table.add_row(f"detection @ FPR {k}", _fmt(v))
    console.print(table)


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

    settings = _settings(workspace)
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
        table.add_row(title, *(_fmt(e[key]) for e in entries))
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
def score(
    model: Annotated[str, typer.Argument(help="NAME, NAME@VERSION or a model folder.")],
    files: Annotated[
        list[Path], typer.Argument(help="Input files to score.", exists=True, dir_okay=False)
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file: .jsonl or .parquet.")],
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="Input format; detected when omitted.")
    ] = None,
    explain: Annotated[
        str, typer.Option(help="Which records get top features and a reason: alerts, all, none.")
    ] = "alerts",
    top_k: Annotated[
        int, typer.Option(help="Number of contributing features per explained record.")
    ] = 3,
    workspace: WorkspaceOpt = None,
) -> None:
    """Score FILES with MODEL in bounded memory; write score, decision and explanations."""
    from seclearn.registry import load_model
    from seclearn.scoring import score_files

    settings = _settings(workspace)
    pipeline, manifest = load_model(model, root=settings.workspace, key=settings.key())
    total = sum(f.stat().st_size for f in files)
    with _progress() as bar:
        task = bar.add_task("score", total=total)
        summary = score_files(
            pipeline,
            files,
            out,
            input_format=fmt,
            explain=explain,  # type: ignore[arg-type]  # score_files validates it
            top_k=top_k,
            limits=settings.limits,
            chunk_rows=settings.chunk_rows,
            progress=lambda n: bar.update(task, advance=n),
        )
    d = summary.to_dict()
    console.print(
        f"{d['records']:,} records scored with {manifest['name']}@{manifest['version']}: "
        f"{d['alerts']:,} alerts ({d['alert_rate']:.2%}); "
        f"{d['ingest']['quarantined']:,} quarantined; written to {out}"
    )


@app.command()
def demo(
    workspace: WorkspaceOpt = None,
    detector: Annotated[str, typer.Option(help="Detector to train.")] = "hybrid",
) -> None:
    """Simulate an enterprise network, then ingest, train, evaluate and score, end to end."""
    from seclearn.lifecycle import run_demo

    settings = _settings(workspace)
    r = run_demo(settings, detector=detector, say=lambda s: err.print(f"[dim]{s}[/]"))
    tr, te = r.train_manifest["totals"], r.test_manifest["totals"]
    trc, tec = r.train_manifest["label"]["counts"], r.test_manifest["label"]["counts"]
    console.print(
        f"train: {tr['accepted']:,} flows ({trc['malicious']:,} malicious), "
        f"test: {te['accepted']:,} flows ({tec['malicious']:,} malicious)"
    )
    console.print(
        f"model: {r.model.name}@{r.model.version} ({detector}), signed, at {r.model.path}"
    )
    _render_metrics(r.evaluation.metrics)
    per_type = r.evaluation.metrics.get("per_attack_type") or []
    if per_type:
        table = Table(
            "attack type",
            "flows",
            "detected",
            "rate",
            title="detection per attack type (test days)",
        )
        for row in per_type:
            if row.get("attack_type") == "benign":
                continue
            table.add_row(
                str(row["attack_type"]),
                f"{row['count']:,}",
                f"{row['detected']:,}",
                f"{row['rate']:.3f}",
            )
        console.print(table)
    s = r.scoring.to_dict()
    console.print(
        f"scored {s['records']:,} flows -> {s['alerts']:,} alerts, written to {s['output']}"
    )
    console.print(f"report: {r.report_html}")


def main() -> None:
    """Entry point: run the app, turning seclearn errors into one clean line."""
    try:
        app(standalone_mode=False)
    except SeclearnError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors arrive here with standalone_mode=False
        if isinstance(exc, _usage_errors()):
            exc.show()  # type: ignore[attr-defined]  # every ClickException has show/exit_code
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        raise


def _usage_errors() -> tuple[type[Exception], ...]:
    """Click's usage-error base class: from click, or the copy that typer >= 0.26 vendors."""
    found: list[type[Exception]] = []
    try:
        from click import ClickException

        found.append(ClickException)
    except ImportError:
        pass
    try:
        from typer._click.exceptions import ClickException as VendoredClickException

        found.append(VendoredClickException)
    except ImportError:
        pass
    return tuple(found)


if __name__ == "__main__":
    main()
