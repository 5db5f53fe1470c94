"""Train a detection pipeline on a curated dataset and register it, signed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seclearn.datasets import load_dataset, read_manifest
from seclearn.errors import ConfigError
from seclearn.evaluation import EvaluationResult, evaluate, write_report
from seclearn.models import DETECTORS, ThresholdPolicy
from seclearn.pipeline import DetectionPipeline
from seclearn.registry import ModelRef, load_model, save_model


@dataclass(frozen=True)
class TrainResult:
    ref: ModelRef
    pipeline: DetectionPipeline
    dataset: str


def train_model(
    root: Path,
    dataset: str,
    name: str,
    *,
    key: bytes,
    detector: str = "lightgbm",
    target_fpr: float = 0.01,
    cv_folds: int = 3,
    random_state: int = 0,
) -> TrainResult:
    """Fit a pipeline on workspace dataset ``dataset`` and save it as a new version of ``name``.

    The operating point is chosen on out-of-fold predictions of the training data
    (``target_fpr`` of benign traffic); nothing else is looked at.
    """
    if detector not in DETECTORS:
        raise ConfigError(
            f"Unknown detector {detector!r}. Known detectors: {', '.join(sorted(DETECTORS))}."
        )
    manifest = read_manifest(root, dataset)
    frame = load_dataset(root, dataset)
    pipeline = DetectionPipeline(
        detector=detector,
        threshold=ThresholdPolicy(kind="target_fpr", target_fpr=target_fpr),
        cv_folds=cv_folds,
        random_state=random_state,
    ).fit(frame)
    lineage = {
        "name": dataset,
        "content_fingerprint": manifest.get("content_fingerprint"),
        "rows": len(frame),
        "sources": [s.get("sha256") for s in manifest.get("sources", [])],
    }
    ref = save_model(pipeline, name, root=root, key=key, dataset=lineage)
    return TrainResult(ref=ref, pipeline=pipeline, dataset=dataset)


def evaluate_model(
    root: Path, model: str, dataset: str, *, key: bytes, out_dir: Path | None = None
) -> tuple[EvaluationResult, Path, Path]:
    """Evaluate a registered model on a workspace dataset; write JSON and HTML reports."""
    pipeline, manifest = load_model(model, root=root, key=key)
    frame = load_dataset(root, dataset)
    model_label = f"{manifest['name']}@{manifest['version']}"
    result = evaluate(pipeline, frame, dataset_name=dataset, model_name=model_label)
    out = out_dir or (root / "reports" / f"{manifest['name']}-v{manifest['version']}-on-{dataset}")
    json_path, html_path = write_report(result, out)
    return result, json_path, html_path


__all__ = ["TrainResult", "evaluate_model", "train_model"]
