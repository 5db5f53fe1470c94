"""Lifecycle commands: ``retrain``, ``promote``, ``rollback`` and ``lifecycle run``."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.markup import escape

from seclearn.cli._app import WorkspaceOpt, app, console, settings_for

if TYPE_CHECKING:
    from seclearn.lifecycle.gates import GatePolicy

lifecycle_app = typer.Typer(
    help="The monitor-retrain-gate-promote loop, one idempotent step at a time.",
    no_args_is_help=True,
)
app.add_typer(lifecycle_app, name="lifecycle")

ActorOpt = Annotated[
    str | None,
    typer.Option(help="Who acts, for the audit log (default: the login name)."),
]
HoldoutOpt = Annotated[str, typer.Option(help="The trusted holdout dataset, pinned on first use.")]


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _policy(tolerance: float, max_actor_share: float) -> GatePolicy:
    from seclearn.lifecycle.gates import GatePolicy

    return GatePolicy(detection_tolerance=tolerance, max_actor_share=max_actor_share)


ToleranceOpt = Annotated[
    float,
    typer.Option(help="Largest drop in holdout detection at the target FPR a challenger may show."),
]
ShareOpt = Annotated[
    float,
    typer.Option(help="Largest share of the new labels one analyst account may contribute."),
]


@app.command()
def retrain(
    name: Annotated[str, typer.Argument(help="The model name; its champion is challenged.")],
    holdout: HoldoutOpt,
    recent: Annotated[
        str | None,
        typer.Option(help="Dataset of recent events whose analyst labels are learned from."),
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(help="Curated training dataset (default: the champion's, from its lineage)."),
    ] = None,
    promote: Annotated[
        bool, typer.Option(help="Promote the challenger when every gate passes.")
    ] = False,
    tolerance: ToleranceOpt = 0.02,
    max_actor_share: ShareOpt = 0.5,
    repin_holdout: Annotated[
        bool, typer.Option(help="Accept a changed holdout deliberately (audited).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option(help="Train and gate, but save, sign, promote and log nothing.")
    ] = False,
    actor: ActorOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Train a challenger on curated data plus analyst labels; gate it against the champion."""
    from seclearn.lifecycle.retrain import retrain_model

    result = retrain_model(
        settings_for(workspace),
        name,
        holdout=holdout,
        recent=recent,
        dataset=dataset,
        policy=_policy(tolerance, max_actor_share),
        actor=_actor(actor),
        promote_if_passed=promote,
        repin_holdout=repin_holdout,
        dry_run=dry_run,
    )
    who = f"{name}@{result.challenger.version}" if result.challenger else "challenger (dry run)"
    console.print(
        f"{escape(who)} vs champion {escape(name)}@{result.champion_version} on holdout "
        f"{escape(holdout)} ({result.training['rows']:,} training rows)"
    )
    for g in result.gates:
        mark = "[green]pass[/]" if g.passed else "[red]FAIL[/]"
        console.print(f"  {mark} {escape(g.name)}: {escape(g.detail)}", soft_wrap=True)
    for note in result.notes:
        console.print(f"  [yellow]note:[/] {escape(note)}", soft_wrap=True)
    verdict = "gates passed" if result.passed else "gates failed"
    tail = "; promoted" if result.promoted else ""
    console.print(
        f"{verdict}{tail}" + (f"; report {result.report_path}" if result.report_path else "")
    )
    if not result.passed:
        raise typer.Exit(1)


@app.command("promote")
def promote_cmd(
    name: Annotated[str, typer.Argument(help="The model name.")],
    version: Annotated[int, typer.Argument(help="The version to make champion.")],
    force: Annotated[
        bool, typer.Option(help="Promote although its gates failed or never ran (needs --reason).")
    ] = False,
    reason: Annotated[str, typer.Option(help="Why, for the audit log.")] = "",
    actor: ActorOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Make a version the champion: refused unless its gates passed, recorded in the audit log."""
    from seclearn.lifecycle.retrain import promote_model

    change = promote_model(
        settings_for(workspace), name, version, actor=_actor(actor), reason=reason, force=force
    )
    was = change["previous"]
    console.print(
        f"{escape(name)}@{version} is the champion"
        + (f" (was {was})" if was is not None else "")
        + (" [yellow](forced)[/]" if change["forced"] else "")
    )


@app.command()
def rollback(
    name: Annotated[str, typer.Argument(help="The model name.")],
    reason: Annotated[str, typer.Option(help="Why, for the audit log.")] = "",
    actor: ActorOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Restore the champion the current one replaced, byte for byte; recorded in the audit log."""
    from seclearn.lifecycle.retrain import rollback_model

    change = rollback_model(settings_for(workspace), name, actor=_actor(actor), reason=reason)
    console.print(
        f"{escape(name)}@{change['version']} is the champion again (was {change['previous']}); "
        f"manifest sha256 {change['manifest_sha256'][:16]}... as when it was promoted"
    )


@lifecycle_app.command("run")
def lifecycle_run(
    name: Annotated[str, typer.Argument(help="The model name.")],
    recent: Annotated[
        str, typer.Option(help="Dataset of recent events to monitor and learn from.")
    ],
    holdout: HoldoutOpt,
    dry_run: Annotated[
        bool, typer.Option(help="Monitor, decide, train and gate; save, promote and log nothing.")
    ] = False,
    min_new_labels: Annotated[
        int, typer.Option(help="New analyst labels that call for retraining without drift.")
    ] = 50,
    window: Annotated[
        str | None, typer.Option(help="Monitor window: '1h', '1d' or 'rows:5000'.")
    ] = None,
    tolerance: ToleranceOpt = 0.02,
    max_actor_share: ShareOpt = 0.5,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the run as JSON instead of the summary.")
    ] = False,
    actor: ActorOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Monitor, decide, retrain, gate and promote in one idempotent, cron-friendly step.

    Exit 0: nothing to do, no action needed, or promoted; 1: a person must decide
    (challenger refused, or drift without labels); 3: monitor unhealthy.
    """
    from seclearn.lifecycle.run import run_lifecycle

    run = run_lifecycle(
        settings_for(workspace),
        name,
        recent=recent,
        holdout=holdout,
        dry_run=dry_run,
        min_new_labels=min_new_labels,
        policy=_policy(tolerance, max_actor_share),
        actor=_actor(actor) if actor else "seclearn-lifecycle",
        window=window,
    )
    if json_out:
        typer.echo(orjson.dumps(run.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY).decode())
    else:
        for line in run.summary():
            console.print(escape(line), soft_wrap=True, highlight=False)
    if run.exit_code:
        raise typer.Exit(run.exit_code)
