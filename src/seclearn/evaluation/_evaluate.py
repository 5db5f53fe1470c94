"""Evaluate a fitted pipeline on a labeled frame at its stored operating point."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

import seclearn
from seclearn.errors import EvaluationError
from seclearn.evaluation._metrics import evaluate_scores


@dataclass(frozen=True)
class EvaluationResult:
    """What :func:`evaluate` measured, ready for :func:`write_report`.

    ``metrics`` is the dict of :func:`evaluate_scores`; ``operating_point`` is the
    pipeline's stored one (threshold chosen on training data); ``n_rows`` counts every
    row given, ``n_unlabeled`` the rows dropped because their label was missing.
    """

    metrics: dict[str, Any]
    operating_point: dict[str, Any]
    model_name: str | None = None
    dataset_name: str | None = None
    n_rows: int = 0
    n_unlabeled: int = 0
    model_metadata: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    seclearn_version: str = seclearn.__version__

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of everything in the result."""
        return asdict(self)


def evaluate(
    pipeline: Any,
    frame: pd.DataFrame,
    *,
    dataset_name: str | None = None,
    model_name: str | None = None,
    n_bootstrap: int = 0,
    random_state: int = 0,
) -> EvaluationResult:
    """Score the labeled rows of ``frame`` and measure them at the pipeline's operating point.

    The threshold is ``pipeline.operating_point_["threshold"]`` (chosen on training data),
    never derived from ``frame``; decisions are the pipeline's own ``decision`` column.
    Rows whose ``label`` is missing are dropped and counted in ``n_unlabeled``.
    ``attack_type`` and ``ts`` columns, when present, give per-type detection and
    alerts per day.
    """
    if "label" not in frame.columns:
        raise EvaluationError(
            "The frame has no 'label' column; evaluation needs labels (1 malicious, 0 benign). "
            "Evaluate a labeled dataset, or label it first."
        )
    operating_point = getattr(pipeline, "operating_point_", None)
    if not isinstance(operating_point, dict) or "threshold" not in operating_point:
        raise EvaluationError(
            "The pipeline has no operating point (operating_point_['threshold']); "
            "fit it, or load a registered model, before evaluating."
        )
    labeled_mask = frame["label"].notna().to_numpy()
    n_unlabeled = int((~labeled_mask).sum())
    if not labeled_mask.any():
        raise EvaluationError(
            f"All {len(frame):,} rows are unlabeled; evaluation needs labeled rows (label 0 or 1)."
        )
    labeled = frame.loc[labeled_mask]
    scored = pipeline.score(labeled)
    for column in ("score", "decision"):
        if column not in scored.columns:
            raise EvaluationError(
                f"pipeline.score() returned no {column!r} column; got {list(scored.columns)}."
            )
    if len(scored) != len(labeled):
        raise EvaluationError(
            f"pipeline.score() returned {len(scored)} rows for {len(labeled)} inputs."
        )
    metrics = evaluate_scores(
        labeled["label"].reset_index(drop=True),
        scored["score"].reset_index(drop=True),
        float(operating_point["threshold"]),
        attack_type=labeled["attack_type"].reset_index(drop=True)
        if "attack_type" in labeled
        else None,
        ts=labeled["ts"].reset_index(drop=True) if "ts" in labeled else None,
        decision=scored["decision"].reset_index(drop=True),
        n_bootstrap=n_bootstrap,
        random_state=random_state,
    )
    metadata = pipeline.metadata() if hasattr(pipeline, "metadata") else {}
    return EvaluationResult(
        metrics=metrics,
        operating_point=dict(operating_point),
        model_name=model_name,
        dataset_name=dataset_name,
        n_rows=len(frame),
        n_unlabeled=n_unlabeled,
        model_metadata=metadata if isinstance(metadata, dict) else {},
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )


__all__ = ["EvaluationResult", "evaluate"]
