"""Commands that run models on data: ``score``, ``watch`` and the end-to-end ``demo``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from seclearn.cli._app import (
    WorkspaceOpt,
    app,
    console,
    err,
    progress_bar,
    render_metrics,
    settings_for,
)
from seclearn.config import Settings


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

    settings = settings_for(workspace)
    pipeline, manifest = load_model(model, root=settings.workspace, key=settings.key())
    total = sum(f.stat().st_size for f in files)
    with progress_bar() as bar:
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
def watch(
    model: Annotated[str, typer.Argument(help="NAME, NAME@VERSION or a model folder.")],
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Follow this live log (rotation included); default: stdin."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="zeek-tsv (conn.log) or zeek-json (JSON lines).")
    ] = "zeek-tsv",
    from_start: Annotated[
        bool, typer.Option(help="With --file: score what the file already holds first.")
    ] = True,
    all_records: Annotated[
        bool, typer.Option("--all", help="Emit every scored record, not only alerts.")
    ] = False,
    poll: Annotated[float, typer.Option(help="Seconds between checks for new data.")] = 0.5,
    idle_exit: Annotated[
        float | None,
        typer.Option(help="With --file: stop after this many seconds without new data."),
    ] = None,
    top_k: Annotated[int, typer.Option(help="Contributing features per alert.")] = 3,
    store: Annotated[
        bool, typer.Option(help="Also record alerts (deduplicated) in the workspace's state.db.")
    ] = False,
    sinks: Annotated[
        Path | None,
        typer.Option(help="With --store: queue each new alert for these sinks (TOML file)."),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Score a live log or stdin as flows arrive; print each alert as a JSON line at once."""
    import orjson

    from seclearn.lifecycle import load_sinks, record_alerts
    from seclearn.registry import load_model
    from seclearn.scoring import WatchSummary, follow, read_batches
    from seclearn.scoring import watch as watch_batches
    from seclearn.store import StateStore, state_path

    settings = settings_for(workspace)
    pipeline, manifest = load_model(model, root=settings.workspace, key=settings.key())
    if sinks is not None and not store:
        raise typer.BadParameter("--sinks queues alerts in the state store: add --store.")
    sink_config = load_sinks(sinks) if sinks is not None else {}
    state = StateStore(state_path(settings.workspace)) if store else None
    out = sys.stdout.buffer

    def emit(record: dict) -> None:
        if state is not None and record.get("decision"):  # committed before it is printed
            stored = record_alerts(
                state,
                [record],
                detector=str(manifest["name"]),
                version=manifest["version"],
                threshold=float(pipeline.threshold_),
                sinks=sink_config,
            )
            record = {**record, "alert_id": stored[0].id, "alert_count": stored[0].count}
        out.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        out.flush()

    batches = (
        follow(
            file, from_start=from_start, poll_s=poll, idle_exit_s=idle_exit, limits=settings.limits
        )
        if file is not None
        else read_batches(sys.stdin.buffer, flush_s=poll, limits=settings.limits)
    )
    summary = WatchSummary()
    try:
        watch_batches(
            pipeline,
            batches,
            emit,
            format=fmt,
            limits=settings.limits,
            all_records=all_records,
            top_k=top_k,
            summary=summary,
        )
    except KeyboardInterrupt:
        err.print("stopped")
    finally:
        if state is not None:
            state.close()
    d = summary.to_dict()
    err.print(
        f"{d['records']:,} records scored with {manifest['name']}@{manifest['version']} in "
        f"{d['batches']:,} batches: {d['alerts']:,} alerts; "
        f"{d['ingest']['quarantined']:,} quarantined; {d['rotations']} rotations"
    )


@app.command()
def demo(
    workspace: WorkspaceOpt = None,
    detector: Annotated[str, typer.Option(help="Detector to train.")] = "hybrid",
    loop: Annotated[
        bool,
        typer.Option(help="Then let a smaller network drift and run the lifecycle loop on it."),
    ] = True,
) -> None:
    """Simulate an enterprise network, then ingest, train, evaluate and score, end to end;
    then drift, monitor, feedback, retrain, gate and promote."""
    from seclearn.lifecycle import run_demo

    settings = settings_for(workspace)
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
    render_metrics(r.evaluation.metrics)
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
    if loop:
        _demo_loop(settings)


def _demo_loop(settings: Settings) -> None:
    from seclearn.lifecycle.demo_loop import NEW_FAMILY, run_loop_demo

    r = run_loop_demo(settings, say=lambda s: err.print(f"[dim]{s}[/]"))
    run, m = r.run, r.run.monitor
    console.print(
        f"monitor: {m['status']}; {len(m['drifted_features'])} features moved "
        f"(e.g. {', '.join(m['drifted_features'][:4])})"
    )
    if run.retrain is not None:
        failed = [g.name for g in run.retrain.gates if not g.passed]
        console.print(
            f"retrain on {run.new_labels} analyst labels -> challenger flows@"
            f"{run.retrain.challenger.version if run.retrain.challenger else '?'}: "
            + (f"gates failed: {', '.join(failed)}" if failed else "all 7 gates passed")
            + (
                f"; promoted, champion flows@{run.champion_after}"
                if run.status == "promoted"
                else ""
            )
        )
    console.print(
        f"{NEW_FAMILY} detection on unlabelled drifted flows: {r.before[0]:.1%} -> {r.after[0]:.1%}; "
        f"benign FPR {r.before[1]:.2%} -> {r.after[1]:.2%}"
    )
    refused = r.refused.retrain
    failed = [g.name for g in refused.gates if not g.passed] if refused else []
    console.print(
        f"poisoning attempt (one account relabels a known attack benign): {r.refused.status}"
        + (f" by {', '.join(failed)}" if failed else "")
    )
    console.print(f"lifecycle workspace: {r.workspace}")
