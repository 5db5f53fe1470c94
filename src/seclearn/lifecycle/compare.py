"""Compare detectors on one split of one dataset: a leaderboard that is fair by construction.

Every detector is fitted on the same train side with the same operating-point rule
(the default :class:`~seclearn.models.ThresholdPolicy`: a target false-positive rate
on out-of-fold scores of benign *training* rows) and evaluated on the same test side,
which the split guarantees shares no row, time, entity or family with training
(:func:`~seclearn.evaluation.check_no_leak` is run before anything is fitted).
Nothing is registered: a comparison is a measurement, not a release.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from seclearn.datasets import load_dataset, read_manifest
from seclearn.errors import ConfigError, EvaluationError
from seclearn.evaluation import (
    Leaderboard,
    Split,
    SplitResult,
    build_leaderboard,
    evaluate_scores,
    leaderboard_entry,
    write_leaderboard,
)
from seclearn.lifecycle.train import split_frame
from seclearn.models import DETECTORS, Detector, ThresholdPolicy
from seclearn.pipeline import DetectionPipeline

DetectorSpec = str | Detector


@dataclass(frozen=True)
class CompareResult:
    """A comparison's leaderboard and, when written, its JSON and HTML files."""

    leaderboard: Leaderboard
    json_path: Path | None = None
    html_path: Path | None = None


def compare_frame(
    frame: pd.DataFrame,
    detectors: Sequence[DetectorSpec],
    *,
    split: str | Split | SplitResult,
    target_fpr: float = 0.01,
    cv_folds: int = 3,
    random_state: int = 0,
    dataset_name: str | None = None,
    say: Callable[[str], None] | None = None,
) -> Leaderboard:
    """Fit each detector on the train side of ``frame`` and measure it on the test side.

    ``detectors`` are registered names (``"lightgbm"``) or detector instances (to set
    parameters); ``split`` a spec string, a split, or an already computed
    :class:`SplitResult` of ``frame``. Each detector's threshold is chosen by
    ``ThresholdPolicy(target_fpr=target_fpr)`` on its own out-of-fold training scores.
    ``fit_s`` times the whole fit (cross-validation, calibration, threshold, refit);
    ``score_rows_per_s`` times ``pipeline.score`` on the labeled test rows.

    Raises :class:`~seclearn.errors.EvaluationError`, before anything is fitted, when the
    labeled test rows do not hold both classes (no ranking metric is defined on them).
    """
    named = _named(detectors)
    result = split if isinstance(split, SplitResult) else split_frame(frame, split, random_state)
    training = result.train_frame(frame, unlabeled="mask")
    test = result.test_frame(frame)
    if "label" not in test.columns or not test["label"].notna().any():
        raise EvaluationError(
            f"The test side of split {result.split.spec()!r} holds no labeled rows "
            f"({len(test):,} rows); a comparison needs labels (1 malicious, 0 benign)."
        )
    test = test.loc[test["label"].notna().to_numpy()]
    n_malicious = int((test["label"] == 1).sum())
    if n_malicious == 0 or n_malicious == len(test):
        raise EvaluationError(
            f"The test side of split {result.split.spec()!r} holds only one class "
            f"({len(test) - n_malicious:,} benign, {n_malicious:,} malicious labeled rows); "
            "a comparison needs both to rank detectors. Choose a split whose test side holds "
            "attacks and benign traffic (for example a larger test fraction, or 'random:0.3')."
        )
    rule = ThresholdPolicy(kind="target_fpr", target_fpr=target_fpr)
    entries = []
    for label, detector in named:
        if say is not None:
            say(f"fitting {label} on {len(training):,} training rows ...")
        pipeline = DetectionPipeline(
            detector=detector, threshold=rule, cv_folds=cv_folds, random_state=random_state
        )
        start = time.perf_counter()
        pipeline.fit(training)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        scored = pipeline.score(test)
        score_s = time.perf_counter() - start
        metrics = evaluate_scores(
            test["label"].reset_index(drop=True),
            scored["score"].reset_index(drop=True),
            float(pipeline.threshold_),
            attack_type=test["attack_type"].reset_index(drop=True)
            if "attack_type" in test.columns
            else None,
            ts=test["ts"].reset_index(drop=True) if "ts" in test.columns else None,
            decision=scored["decision"].reset_index(drop=True),
        )
        meta = pipeline.metadata()
        entries.append(
            leaderboard_entry(
                label,
                metrics,
                fit_s=fit_s,
                score_s=score_s,
                n_train=len(training),
                operating_point=pipeline.operating_point_,
                detector=meta.get("detector"),
            )
        )
    return build_leaderboard(
        entries,
        split=result.describe(),
        operating_rule={
            **rule.describe(),
            "chosen_on": "out-of-fold scores of benign training rows (train side only)",
            "cv_folds": cv_folds,
            "random_state": random_state,
        },
        dataset_name=dataset_name,
    )


def compare_detectors(
    root: Path,
    dataset: str,
    detectors: Sequence[DetectorSpec],
    *,
    split: str | Split,
    target_fpr: float = 0.01,
    cv_folds: int = 3,
    random_state: int = 0,
    out_dir: Path | None = None,
    say: Callable[[str], None] | None = None,
) -> CompareResult:
    """:func:`compare_frame` on workspace dataset ``dataset``; write the leaderboard.

    Files go to ``out_dir`` (default ``<root>/reports/compare-<dataset>``):
    ``leaderboard.json`` and a self-contained ``leaderboard.html``.
    """
    _named(detectors)  # refuse unknown names before reading any data
    manifest = read_manifest(root, dataset)
    frame = load_dataset(root, dataset)
    board = compare_frame(
        frame,
        detectors,
        split=split,
        target_fpr=target_fpr,
        cv_folds=cv_folds,
        random_state=random_state,
        dataset_name=dataset,
        say=say,
    )
    board = _with_lineage(board, manifest)
    out = out_dir or (Path(root) / "reports" / f"compare-{dataset}")
    json_path, html_path = write_leaderboard(board, out)
    return CompareResult(leaderboard=board, json_path=json_path, html_path=html_path)


def _named(detectors: Sequence[DetectorSpec]) -> list[tuple[str, DetectorSpec]]:
    """(label, detector) pairs; labels are the detector names, made unique with ``#2``."""
    if isinstance(detectors, str) or not detectors:
        raise ConfigError(
            f"detectors must be a non-empty list of detector names or instances; got {detectors!r}. "
            f"Known detectors: {', '.join(sorted(DETECTORS))}."
        )
    out: list[tuple[str, DetectorSpec]] = []
    seen: dict[str, int] = {}
    for detector in detectors:
        if isinstance(detector, str):
            if detector not in DETECTORS:
                raise ConfigError(
                    f"Unknown detector {detector!r}. Known detectors: {', '.join(sorted(DETECTORS))}."
                )
            name = detector
        elif isinstance(detector, Detector):
            name = str(getattr(detector, "name", type(detector).__name__))
        else:
            raise ConfigError(
                f"A detector must be a registered name or a Detector instance; got "
                f"{type(detector).__name__}."
            )
        seen[name] = seen.get(name, 0) + 1
        out.append((name if seen[name] == 1 else f"{name}#{seen[name]}", detector))
    return out


def _with_lineage(board: Leaderboard, manifest: dict[str, Any]) -> Leaderboard:
    """The leaderboard with the dataset's content fingerprint in its split description."""
    split = {
        **(board.split or {}),
        "dataset_content_fingerprint": manifest.get("content_fingerprint"),
    }
    return dataclasses.replace(board, split=split)


__all__ = ["CompareResult", "DetectorSpec", "compare_detectors", "compare_frame"]
