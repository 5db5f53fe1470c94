"""Evaluate a fitted pipeline on a labeled frame at its stored operating point."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

import seclearn
from seclearn.errors import EvaluationError
from seclearn.evaluation._bootstrap import DEFAULT_N_BOOTSTRAP
from seclearn.evaluation._budget import DEFAULT_ALERT_BUDGETS
from seclearn.evaluation._metrics import evaluate_scores
from seclearn.evaluation._time import CAMPAIGN_GAP_S

#: Rows sampled from the evaluated frame for global feature importance.
IMPORTANCE_ROWS = 2000
#: Manifest fields of a registered model that the model card shows.
_MANIFEST_FIELDS = (
    "name",
    "version",
    "stage",
    "created_at",
    "seclearn_version",
    "dataset",
    "libraries",
)


@dataclass(frozen=True)
class EvaluationResult:
    """What :func:`evaluate` measured, ready for :func:`write_report`.

    ``metrics`` is the dict of :func:`evaluate_scores`; ``operating_point`` is the
    pipeline's stored one (threshold chosen on training data); ``n_rows`` counts every
    row given, ``n_unlabeled`` the rows dropped because their label was missing.
    ``split`` describes how the evaluated rows were held out (``SplitResult.describe()``),
    None when the dataset was evaluated as given. ``feature_importance`` is the
    pipeline's ``global_importance`` on a sample of the evaluated rows; ``registry``
    the registered model's manifest fields (version, stage, dataset lineage);
    ``intended_use`` overrides the model card's generated intended-use text;
    ``robustness`` is a robustness figure (``seclearn.adversarial.robustness_figure``)
    measured on the same rows, shown as its own card section when given.
    """

    metrics: dict[str, Any]
    operating_point: dict[str, Any]
    model_name: str | None = None
    dataset_name: str | None = None
    n_rows: int = 0
    n_unlabeled: int = 0
    model_metadata: dict[str, Any] = field(default_factory=dict)
    split: dict[str, Any] | None = None
    feature_importance: dict[str, Any] | None = None
    registry: dict[str, Any] | None = None
    intended_use: str | None = None
    robustness: dict[str, Any] | None = None
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
    n_bootstrap: int = DEFAULT_N_BOOTSTRAP,
    random_state: int = 0,
    split: dict[str, Any] | None = None,
    model_manifest: dict[str, Any] | None = None,
    events_per_day: float | None = None,
    alert_budgets: tuple[int, ...] | list[int] = DEFAULT_ALERT_BUDGETS,
    campaign_gap_s: float = CAMPAIGN_GAP_S,
    period_s: float | None = None,
    importance_rows: int = IMPORTANCE_ROWS,
    intended_use: str | None = None,
) -> EvaluationResult:
    """Score the labeled rows of ``frame`` and measure them at the pipeline's operating point.

    The threshold is ``pipeline.operating_point_["threshold"]`` (chosen on training data),
    never derived from ``frame``; decisions are the pipeline's own ``decision`` column.
    Rows whose ``label`` is missing are dropped and counted in ``n_unlabeled``.
    ``attack_type``, ``ts`` and ``src_ip`` columns, when present, give per-family
    detection, alerts per day, per-day alert budgets, campaigns and time periods.

    ``split`` (``SplitResult.describe()``) is shown in the model card; its
    ``train_end_ts``, when present, is the origin of the decay slope. ``model_manifest``
    (from ``seclearn.registry.load_model``) adds version, stage and dataset lineage.
    ``events_per_day`` defaults to the test timestamps, then to the operating point's
    own (alert-budget policies store it). ``importance_rows=0`` skips feature importance.
    The pipeline is used duck-typed: ``score``, ``operating_point_`` and, optionally,
    ``metadata()`` and ``global_importance(frame, max_rows=..., random_state=...)``.
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
    if split is not None and not isinstance(split, dict):
        raise EvaluationError(
            f"split must be a dict (SplitResult.describe()) or None, got {type(split).__name__}."
        )
    labeled_mask = frame["label"].notna().to_numpy()
    n_unlabeled = int((~labeled_mask).sum())
    if not labeled_mask.any():
        raise EvaluationError(
            f"All {len(frame):,} rows are unlabeled; evaluation needs labeled rows (label 0 or 1)."
        )
    labeled = frame.loc[labeled_mask]
    scored = pipeline.score(labeled)
    for needed in ("score", "decision"):
        if needed not in scored.columns:
            raise EvaluationError(
                f"pipeline.score() returned no {needed!r} column; got {list(scored.columns)}."
            )
    if len(scored) != len(labeled):
        raise EvaluationError(
            f"pipeline.score() returned {len(scored)} rows for {len(labeled)} inputs."
        )

    def column(name: str) -> pd.Series | None:
        return labeled[name].reset_index(drop=True) if name in labeled.columns else None

    if events_per_day is None and "ts" not in labeled.columns:
        events_per_day = operating_point.get("events_per_day")
    metrics = evaluate_scores(
        labeled["label"].reset_index(drop=True),
        scored["score"].reset_index(drop=True),
        float(operating_point["threshold"]),
        attack_type=column("attack_type"),
        ts=column("ts"),
        src_ip=column("src_ip"),
        decision=scored["decision"].reset_index(drop=True),
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        events_per_day=events_per_day,
        alert_budgets=alert_budgets,
        campaign_gap_s=campaign_gap_s,
        period_s=period_s,
        train_end_ts=_train_end(split),
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
        split=dict(split) if split is not None else None,
        feature_importance=_importance(pipeline, labeled, importance_rows, random_state),
        registry={k: model_manifest.get(k) for k in _MANIFEST_FIELDS} if model_manifest else None,
        intended_use=intended_use,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )


def _train_end(split: dict[str, Any] | None) -> float | None:
    """End of the training period, when the split is time-ordered."""
    value = (split or {}).get("train_end_ts")
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _importance(
    pipeline: Any, frame: pd.DataFrame, max_rows: int, random_state: int
) -> dict[str, Any] | None:
    """The pipeline's importance on a sample of the evaluated rows; None when it has none."""
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 0:
        raise EvaluationError(f"importance_rows must be an integer >= 0, got {max_rows!r}.")
    method = getattr(pipeline, "global_importance", None)
    if max_rows == 0 or not callable(method):
        return None
    result = method(frame, max_rows=max_rows, random_state=random_state)
    return dict(result) if isinstance(result, dict) else None


__all__ = ["IMPORTANCE_ROWS", "EvaluationResult", "evaluate"]
