"""Train a detection pipeline on a curated dataset and register it, signed; evaluate it.

With a split (``split="time:0.3,gap=1h"``, see :func:`seclearn.evaluation.make_split`)
:func:`train_model` fits on the train side only and records the split (spec, seed,
what it resolved, and a fingerprint of which rows went to which side) in the model's
signed lineage. :func:`evaluate_model` with the same split then scores the test side
only, and refuses whenever the rows it would score may include the model's training
rows: the same dataset without the recorded split, a different split of it, or a
dataset derived from it (or it from the dataset).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seclearn.adversarial import adversarial_training, monotone_detector, robustness_figure
from seclearn.datasets import exact_columns, feature_columns, hash_rows, load_dataset, read_manifest
from seclearn.errors import ConfigError, EvaluationError
from seclearn.evaluation import (
    EvaluationResult,
    RandomSplit,
    Split,
    SplitResult,
    assert_no_leak,
    evaluate,
    make_split,
    write_report,
)
from seclearn.models import DETECTORS, ThresholdPolicy
from seclearn.pipeline import DetectionPipeline
from seclearn.registry import ModelRef, load_model, save_model

_FINGERPRINT_VERSION = b"seclearn-split-rows-v1"


@dataclass(frozen=True)
class TrainResult:
    ref: ModelRef
    pipeline: DetectionPipeline
    dataset: str
    split: SplitResult | None = None


def split_frame(frame: pd.DataFrame, spec: str | Split, random_state: int = 0) -> SplitResult:
    """Cut ``frame`` by ``spec`` (a split or a string such as ``"group:src_ip:0.3"``).

    Computes the feature-identity row hashes a deduplicated random split needs (with
    :func:`seclearn.datasets.hash_rows`), checks the result with
    :func:`~seclearn.evaluation.assert_no_leak` before anything uses it, and sets
    ``row_fingerprint``: a sha256 over the full-row hashes of each side in order, so
    that the same cut of the same rows always gives the same fingerprint and any other
    cut, or changed rows, a different one. ``random_state`` seeds the split unless the
    spec names a ``seed=``.
    """
    split = make_split(spec, random_state=random_state) if isinstance(spec, str) else spec
    if not isinstance(split, Split):
        raise ConfigError(
            f"split must be a split spec string (e.g. 'time:0.3,gap=1h') or a split object; "
            f"got {type(spec).__name__}."
        )
    hashes = None
    if isinstance(split, RandomSplit) and split.dedupe:
        hashes = hash_rows(frame, feature_columns(frame.columns))
    result = split.split(frame, row_hashes=hashes)
    assert_no_leak(frame, result, row_hashes=hashes)
    return dataclasses.replace(result, row_fingerprint=split_fingerprint(frame, result))


def split_fingerprint(frame: pd.DataFrame, result: SplitResult) -> str:
    """sha256 (hex) of which rows (by content, in order) each side of ``result`` holds."""
    rows = hash_rows(frame, exact_columns(frame.columns))
    digest = hashlib.sha256(_FINGERPRINT_VERSION)
    digest.update(np.int64(len(frame)).tobytes())
    for name, side in (
        ("train", result.train),
        ("train_unlabeled", result.train_unlabeled),
        ("test", result.test),
    ):
        positions = np.asarray(side, dtype=np.int64)
        digest.update(name.encode() + np.int64(len(positions)).tobytes())
        digest.update(np.ascontiguousarray(rows[positions]).tobytes())
    return digest.hexdigest()


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
    split: str | Split | None = None,
    harden: str | None = None,
    harden_budget: float = 1.0,
) -> TrainResult:
    """Fit a pipeline on workspace dataset ``dataset`` and save it as a new version of ``name``.

    The operating point is chosen on out-of-fold predictions of the training data
    (``target_fpr`` of benign traffic); nothing else is looked at. With ``split`` only
    the train side is used (rows of a time split whose labels had not arrived are kept
    unlabeled, as production would see them), and the split is recorded in the lineage.

    ``harden`` trains against the default threat model (see :mod:`seclearn.adversarial`):
    ``"monotone"`` (LightGBM only) constrains the score to never fall when the attacker
    grows what they control, and drops the features they can move both ways;
    ``"adversarial"`` attacks the model's own malicious training rows at
    ``harden_budget`` and refits with the evasions added, three rounds. Both use
    training rows only, and the lineage records what was done.
    """
    if detector not in DETECTORS:
        raise ConfigError(
            f"Unknown detector {detector!r}. Known detectors: {', '.join(sorted(DETECTORS))}."
        )
    if harden not in (None, "monotone", "adversarial"):
        raise ConfigError(f"harden must be 'monotone', 'adversarial' or None, got {harden!r}.")
    if harden == "monotone" and detector != "lightgbm":
        raise ConfigError(
            f"harden='monotone' constrains LightGBM's trees; it needs detector 'lightgbm', not "
            f"{detector!r}. Use harden='adversarial' for other detectors."
        )
    manifest = read_manifest(root, dataset)
    frame = load_dataset(root, dataset)
    result = split_frame(frame, split, random_state) if split is not None else None
    training = result.train_frame(frame, unlabeled="mask") if result is not None else frame
    policy = ThresholdPolicy(kind="target_fpr", target_fpr=target_fpr)
    hardening: dict[str, Any] | None = None
    if harden == "monotone":
        hard, featurizer, directions = monotone_detector(training, random_state=random_state)
        pipeline = DetectionPipeline(
            featurizer=featurizer,
            detector=hard,
            threshold=policy,
            cv_folds=cv_folds,
            random_state=random_state,
        ).fit(training)
        hardening = {
            "kind": "monotone",
            "grows_only": sorted(n for n, d in directions.items() if d == 1),
            "shrinks_only": sorted(n for n, d in directions.items() if d == -1),
            "dropped": sorted(n for n, d in directions.items() if d is None),
        }
    else:

        def make() -> DetectionPipeline:
            return DetectionPipeline(
                detector=detector, threshold=policy, cv_folds=cv_folds, random_state=random_state
            )

        if harden == "adversarial":
            pipeline, added = adversarial_training(
                training, make, budget=harden_budget, rounds=3, random_state=random_state
            )
            hardening = {
                "kind": "adversarial",
                "budget": harden_budget,
                "rounds": 3,
                "adversarial_rows_added": added,
            }
        else:
            pipeline = make().fit(training)
    lineage: dict[str, Any] = {
        "name": dataset,
        "content_fingerprint": manifest.get("content_fingerprint"),
        "rows": len(frame),
        "rows_trained_on": len(training),
        "sources": [s.get("sha256") for s in manifest.get("sources", [])],
        "derived_from": _parents(manifest),
        "split": result.describe() if result is not None else None,
    }
    extra = {"hardening": hardening} if hardening else None
    ref = save_model(pipeline, name, root=root, key=key, dataset=lineage, extra=extra)
    return TrainResult(ref=ref, pipeline=pipeline, dataset=dataset, split=result)


def evaluate_model(
    root: Path,
    model: str,
    dataset: str,
    *,
    key: bytes,
    out_dir: Path | None = None,
    split: str | Split | None = None,
    random_state: int = 0,
    robustness_budget: float | None = None,
) -> tuple[EvaluationResult, Path, Path]:
    """Evaluate a registered model on a workspace dataset; write JSON and HTML reports.

    With ``split`` only the test side is scored and the report says which split was
    used. With ``robustness_budget`` the evasion attacks of :mod:`seclearn.adversarial`
    run on the same rows at that budget and the card gains its robustness section.
    Raises :class:`EvaluationError` when the scored rows may hold the model's
    training rows (see the module docstring); without ``split`` a model trained on all
    of ``dataset`` is evaluated on it as before (its figures are then training figures).
    """
    pipeline, manifest = load_model(model, root=root, key=key)
    data_manifest = read_manifest(root, dataset)
    frame = load_dataset(root, dataset)
    result = split_frame(frame, split, random_state) if split is not None else None
    model_label = f"{manifest['name']}@{manifest['version']}"
    check_not_training_rows(manifest, dataset, data_manifest, result)
    rows = result.test_frame(frame) if result is not None else frame
    evaluation = evaluate(
        pipeline,
        rows,
        dataset_name=dataset,
        model_name=model_label,
        split=result.describe() if result is not None else None,
    )
    if robustness_budget is not None:
        figure = robustness_figure(
            pipeline, rows, budget=robustness_budget, random_state=random_state
        )
        evaluation = dataclasses.replace(evaluation, robustness=figure)
    suffix = f"-{result.split.kind}-test" if result is not None else ""
    out = out_dir or (
        root / "reports" / f"{manifest['name']}-v{manifest['version']}-on-{dataset}{suffix}"
    )
    json_path, html_path = write_report(evaluation, out)
    return evaluation, json_path, html_path


def check_not_training_rows(
    model_manifest: dict[str, Any],
    dataset: str,
    dataset_manifest: dict[str, Any],
    result: SplitResult | None,
) -> None:
    """Raise :class:`EvaluationError` when evaluating may score the model's training rows.

    ``result`` is the split of ``dataset`` to evaluate on (None: all rows). The model's
    signed lineage says what it was trained on: the same dataset (by name or content
    fingerprint) is allowed only with a split whose row fingerprint equals the recorded
    one (without a split only when the model was trained on all of it, as before); a
    dataset derived from the training data, or the data the training set was derived
    from, is refused outright.
    """
    lineage = model_manifest.get("dataset") or {}
    label = f"{model_manifest.get('name')}@{model_manifest.get('version')}"
    trained_on = lineage.get("name")
    trained_fp = lineage.get("content_fingerprint")
    fingerprint = dataset_manifest.get("content_fingerprint")
    recorded = lineage.get("split") or None
    child = trained_fp is not None and trained_fp in _parents(dataset_manifest)
    parent = fingerprint is not None and fingerprint in (lineage.get("derived_from") or [])
    if child or parent:
        relation = "was derived from it" if child else "is what it was derived from"
        raise EvaluationError(
            f"Model {label} was trained on dataset {trained_on!r}, and {dataset!r} {relation}, so "
            f"{dataset!r} may hold training rows. Evaluate on a dataset that shares no rows with "
            "the training data, such as the other side of the split that made it."
        )
    same = trained_on == dataset or (trained_fp is not None and trained_fp == fingerprint)
    if not same:
        return
    if result is None:
        if recorded:
            raise EvaluationError(
                f"Model {label} was trained on the train side of dataset {dataset!r} "
                f"({recorded.get('summary')}); evaluating it on all of {dataset!r} would score its "
                f"training rows. Re-run with --split '{recorded.get('spec')}'."
            )
        return
    if not recorded:
        raise EvaluationError(
            f"Model {label} was trained on all rows of dataset {dataset!r}, so every test side of "
            f"a split of it holds training rows. Retrain with `seclearn train {dataset} --split "
            f"'{result.split.spec()}'`, or evaluate on another dataset."
        )
    if recorded.get("row_fingerprint") != result.row_fingerprint:
        raise EvaluationError(
            f"Model {label} was trained on the train side of split '{recorded.get('spec')}' of "
            f"dataset {dataset!r}, but split '{result.split.spec()}' cuts its rows differently "
            "(or the dataset changed since training), so its test side may hold training rows. "
            f"Re-run with --split '{recorded.get('spec')}'."
        )


def _parents(manifest: dict[str, Any]) -> list[str]:
    """Content fingerprints of the datasets ``manifest``'s dataset was derived from."""
    lineage = manifest.get("lineage") or {}
    return [
        str(p["content_fingerprint"])
        for p in lineage.get("derived_from") or []
        if isinstance(p, dict) and p.get("content_fingerprint")
    ]


__all__ = [
    "TrainResult",
    "check_not_training_rows",
    "evaluate_model",
    "split_fingerprint",
    "split_frame",
    "train_model",
]
