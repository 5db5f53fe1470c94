"""The end-to-end demo: simulate a network, ingest, train, evaluate, score.

Everything runs offline on data the simulator makes. Training sees days 1-3 of an
enterprise network; evaluation and scoring see days 4-5, a later period with fresh
attack campaigns, so the figures are for a time-ordered split, not a random one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from seclearn.config import Settings
from seclearn.datasets import compare_datasets, create_dataset, simulate_enterprise, write_zeek_conn
from seclearn.evaluation import EvaluationResult
from seclearn.lifecycle.train import evaluate_model, train_model
from seclearn.registry import ModelRef, load_model
from seclearn.scoring import ScoringSummary, score_files

DEMO_START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday


@dataclass
class DemoResult:
    train_manifest: dict
    test_manifest: dict
    overlap: dict
    model: ModelRef
    evaluation: EvaluationResult
    report_html: Path
    report_json: Path
    scoring: ScoringSummary


def run_demo(
    settings: Settings,
    *,
    train_days: int = 3,
    test_days: int = 2,
    detector: str = "hybrid",
    seed: int = 0,
    say: Callable[[str], None] = print,
) -> DemoResult:
    """Run the whole lifecycle on simulated flows inside ``settings.workspace``."""
    root = settings.workspace
    raw = root / "demo"
    raw.mkdir(parents=True, exist_ok=True)

    say(f"simulating {train_days + test_days} days of enterprise flows ...")
    train_flows = simulate_enterprise(days=train_days, seed=seed, start=DEMO_START)
    test_flows = simulate_enterprise(
        days=test_days, seed=seed + 1, start=DEMO_START + timedelta(days=train_days)
    )
    train_log, test_log = raw / "train.conn.log", raw / "test.conn.log"
    write_zeek_conn(train_flows, train_log)
    write_zeek_conn(test_flows, test_log)

    say("ingesting Zeek conn logs into the workspace ...")
    train_manifest = create_dataset(root, "demo-train", [train_log], overwrite=True)
    test_manifest = create_dataset(root, "demo-test", [test_log], overwrite=True)
    overlap = compare_datasets(root, "demo-train", "demo-test")

    say(
        f"training a {detector} detector (operating point: 1% FPR on out-of-fold training data) ..."
    )
    trained = train_model(
        root,
        "demo-train",
        "demo-flows",
        key=settings.key(),
        detector=detector,
        random_state=settings.random_state,
    )

    say("evaluating on the later days ...")
    result, json_path, html_path = evaluate_model(
        root, str(trained.ref.path), "demo-test", key=settings.key()
    )

    say("scoring the later days' conn.log as a batch ...")
    pipeline, _ = load_model(str(trained.ref.path), root=root, key=settings.key())
    scoring = score_files(pipeline, [test_log], root / "demo" / "scores.jsonl")
    return DemoResult(
        train_manifest=train_manifest,
        test_manifest=test_manifest,
        overlap=overlap,
        model=trained.ref,
        evaluation=result,
        report_html=html_path,
        report_json=json_path,
        scoring=scoring,
    )


__all__ = ["DEMO_START", "DemoResult", "run_demo"]
