"""``seclearn attack``: evasion attacks on a registered model; robustness JSON and HTML.

:func:`attack_model` loads a signed model and a workspace dataset (its test side with a
split, refusing training rows exactly as ``evaluate`` does), attacks its malicious rows
under the model's threat model (the default from its feature specs, or a JSON/TOML file
of overrides), checks every adversarial example against that threat model, and writes
``robustness.json`` and ``robustness.html``, the robustness section of the model card,
next to the evaluation reports (the signed model folder is never written to). The
headline ``figure`` is what :func:`seclearn.adversarial.robustness_figure` returns, the
number retraining gates compare.
"""

from __future__ import annotations

import html
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from seclearn.adversarial import ThreatModel, attack_metrics, attack_rows
from seclearn.adversarial.evasion import BlackBoxAttack, scoring_frame
from seclearn.adversarial.metrics import DEFAULT_MAX_ROWS, combine
from seclearn.adversarial.trees import TreeAttack
from seclearn.config import Settings
from seclearn.datasets import load_dataset, read_manifest
from seclearn.errors import EvaluationError
from seclearn.evaluation import Split
from seclearn.lifecycle.train import check_not_training_rows, split_frame
from seclearn.registry import load_model

ATTACKS = ("trees", "blackbox", "both")


@dataclass(frozen=True)
class AttackResult:
    """What ``seclearn attack`` measured and where it wrote it."""

    model: str
    dataset: str
    figure: dict[str, Any]  # the headline robustness figure (strongest attack per row)
    attacks: dict[str, dict[str, Any]]  # per attack run
    violations: list[str]  # threat-model violations of any adversarial example (none expected)
    json_path: Path
    html_path: Path


def attack_model(
    settings: Settings,
    model: str,
    dataset: str,
    *,
    budget: float = 1.0,
    attack: str = "both",
    max_rows: int = DEFAULT_MAX_ROWS,
    threat_file: Path | None = None,
    split: str | Split | None = None,
    out_dir: Path | None = None,
) -> AttackResult:
    """Attack ``model`` on the malicious rows of ``dataset``; write robustness JSON and HTML.

    ``attack``: ``trees`` (LightGBM models only), ``blackbox``, or ``both`` (each, and the
    per-row stronger of the two as the headline; ``trees`` is skipped for other models).
    """
    if attack not in ATTACKS:
        raise EvaluationError(f"attack must be one of {', '.join(ATTACKS)}; got {attack!r}.")
    if not budget >= 0:
        raise EvaluationError(f"budget must be a number >= 0; got {budget!r}.")
    root = settings.workspace
    pipeline, manifest = load_model(model, root=root, key=settings.key())
    frame = load_dataset(root, dataset)
    result = split_frame(frame, split, settings.random_state) if split is not None else None
    check_not_training_rows(manifest, dataset, read_manifest(root, dataset), result)
    frame = result.test_frame(frame) if result is not None else frame
    threat = (
        ThreatModel.from_file(threat_file, pipeline)
        if threat_file is not None
        else ThreatModel.default_for(pipeline)
    )
    rows = attack_rows(scoring_frame(pipeline, frame), max_rows, settings.random_state)
    has_trees = getattr(pipeline.detector_, "booster_", None) is not None
    names = [a for a in ("trees", "blackbox") if attack in (a, "both")]
    if attack == "both" and not has_trees:
        names = ["blackbox"]
    runs = []
    for name in names:
        cls = TreeAttack if name == "trees" else BlackBoxAttack
        runs.append(
            cls(threat, budget=budget, random_state=settings.random_state).run(pipeline, rows)
        )
    headline = runs[0] if len(runs) == 1 else combine(runs)
    violations = [
        f"{r.attack}: {p}"
        for r in [*runs, headline]
        for p in threat.check(r.original, r.adversarial, budget=budget)
    ]
    attacks = {r.attack: attack_metrics(r) for r in runs}
    figure = {**attack_metrics(headline), "violations": len(violations)}
    label = f"{manifest['name']}@{manifest['version']}"
    doc = {
        "model": label,
        "dataset": dataset,
        "split": result.describe() if result is not None else None,
        "operating_point": pipeline.operating_point_,
        "figure": figure,
        "attacks": attacks,
        "violations": violations,
        "threat_model": threat.to_dict(),
    }
    out = out_dir or (
        root / "reports" / f"{manifest['name']}-v{manifest['version']}-attack-on-{dataset}"
    )
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "robustness.json", out / "robustness.html"
    _write(json_path, orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    _write(html_path, robustness_html(doc).encode())
    return AttackResult(label, dataset, figure, attacks, violations, json_path, html_path)


def _write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}"
    return html.escape(str(value))


def robustness_html(doc: dict[str, Any]) -> str:
    """The robustness section of the model card, as a self-contained HTML page."""
    fig = doc["figure"]
    keys = (
        "n_attacks",
        "evasion_rate",
        "clean_detection_rate",
        "robust_detection_rate",
        "median_cost",
        "n_queries",
    )
    head = "".join(f"<th>{k.replace('_', ' ')}</th>" for k in ("attack", *keys))
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(m.get(k))}</td>" for k in ("attack", *keys)) + "</tr>"
        for m in [*doc["attacks"].values(), fig]
    )
    controlled = [
        f"{html.escape(n)} ({html.escape(c['direction'])}, "
        f"{'integer, ' if c['integer'] else ''}&le; {_fmt(c['upper'])})"
        for n, c in doc["threat_model"]["columns"].items()
        if c["controlled"]
    ]
    relations = [html.escape(r["target"]) for r in doc["threat_model"]["relations"]]
    op = doc.get("operating_point") or {}
    problems = "".join(f"<li>{html.escape(p)}</li>" for p in doc["violations"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Robustness: {html.escape(doc["model"])} on {html.escape(doc["dataset"])}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}}</style>
</head><body>
<h2>Robustness: {html.escape(doc["model"])} on {html.escape(doc["dataset"])}</h2>
<p>Evasion attacks at budget <strong>{_fmt(fig["budget"])}</strong> (each controlled column
moves by at most budget &times; (its value + one unit)) on {fig["n_rows"]} malicious rows,
at the operating point (threshold {_fmt(op.get("threshold"))}, chosen on
{html.escape(str(op.get("chosen_on", "training data")))}). Evasion rate: share of the
detected malicious rows the attack turns into non-alerts; robust detection rate: share of
all malicious rows still detected after the attack.</p>
<table><tr>{head}</tr>{body}</table>
<h3>Threat model</h3>
<p>The attacker controls: {", ".join(controlled) or "nothing"}; every other column is held
fixed. Columns moved with their sources (relations): {", ".join(relations) or "none"}.
Context features computed from other flows are held at their values in the original traffic.</p>
<p>Adversarial examples that break the threat model: <strong>{len(doc["violations"])}</strong>
(every example is checked).</p>
{f"<ul>{problems}</ul>" if problems else ""}
</body></html>
"""


__all__ = ["ATTACKS", "AttackResult", "attack_model", "robustness_html"]
