"""Per-record top features with a one-sentence reason, and global importance.

A record's explanation is a list of ``{"feature", "value", "contribution"}`` dicts,
strongest first (by absolute contribution): ``value`` is the human-readable input value
(categories by name, counts un-logged), ``contribution`` the signed push on the
detector's raw score (positive = toward malicious) relative to typical benign traffic.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from seclearn.errors import NotFittedError
from seclearn.explain.attribution import feature_contributions
from seclearn.models import Detector


class DisplaysValues(Protocol):
    """A fitted featurizer that can show its output values as input values."""

    feature_names_out_: list[str]

    def display_value(self, index: int, value: float) -> Any: ...


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _phrase(item: dict[str, Any], typical: Any) -> str:
    feature, value = item["feature"], item["value"]
    if "=" in feature and isinstance(value, bool):  # one-hot column "service=http"
        column, _, category = feature.partition("=")
        return feature if value else f"{column}≠{category}"
    if value is None:
        return f"{feature} missing"
    text = f"{feature}={_fmt(value)}"
    if typical is not None and not isinstance(typical, bool) and _fmt(typical) != _fmt(value):
        text += f" (benign median {_fmt(typical)})"
    return text


def reason_sentence(
    items: list[dict[str, Any]],
    *,
    score: float,
    threshold: float,
    decision: bool,
    supervised: bool,
    typical: dict[str, Any] | None = None,
) -> str:
    """One sentence saying why a record scored as it did, from its top features.

    >>> reason_sentence([{"feature": "dst_port_class", "value": "22/ssh", "contribution": 1.2},
    ...                  {"feature": "count", "value": 417, "contribution": 0.8}],
    ...                 score=0.97, threshold=0.9, decision=True, supervised=False, typical={"count": 2})
    'Alert (score 0.970 > threshold 0.900): dst_port_class=22/ssh and count=417 (benign median 2) are unusual for benign traffic.'
    """
    typical = typical or {}
    lead = (
        f"Alert (score {score:.3f} > threshold {threshold:.3f})"
        if decision
        else f"No alert (score {score:.3f} ≤ threshold {threshold:.3f})"
    )
    pushing = [it for it in items if it["contribution"] > 0]
    if not pushing:
        return f"{lead}: no feature stands out from typical benign traffic."
    phrases = [_phrase(it, typical.get(it["feature"])) for it in pushing]
    joined = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
    verb = "is" if len(phrases) == 1 else "are"
    tail = "typical of attacks in the training data" if supervised else "unusual for benign traffic"
    return f"{lead}: {joined} {verb} {tail}."


def explain_matrix(
    detector: Detector,
    featurizer: DisplaysValues,
    X: np.ndarray,
    *,
    reference: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    top_k: int = 3,
) -> tuple[list[list[dict[str, Any]]], list[str]]:
    """Top-``top_k`` features and a reason for every row of the featurized matrix ``X``."""
    contrib, supervised = feature_contributions(detector, X, reference)
    names = featurizer.feature_names_out_
    k = max(0, min(int(top_k), X.shape[1]))
    order = np.argsort(-np.abs(contrib), axis=1, kind="stable")[:, :k]
    typical_cache: dict[int, Any] = {}
    tops: list[list[dict[str, Any]]] = []
    reasons: list[str] = []
    for i in range(len(X)):
        items = []
        typical = {}
        for j in order[i]:
            j = int(j)
            items.append(
                {
                    "feature": names[j],
                    "value": featurizer.display_value(j, float(X[i, j])),
                    "contribution": round(float(contrib[i, j]), 6),
                }
            )
            if j not in typical_cache:
                typical_cache[j] = featurizer.display_value(j, float(reference[j]))
            typical[names[j]] = typical_cache[j]
        tops.append(items)
        reasons.append(
            reason_sentence(
                items,
                score=float(scores[i]),
                threshold=float(threshold),
                decision=bool(scores[i] > threshold),
                supervised=bool(supervised[i]),
                typical=typical,
            )
        )
    return tops, reasons


def explain_records(pipeline: Any, frame: Any, top_k: int = 3) -> list[list[dict[str, Any]]]:
    """Top contributing features of every record of ``frame`` under a fitted pipeline."""
    scored = pipeline.score(frame, explain_top_k=top_k)
    return list(scored["top_features"]) if top_k > 0 else [[] for _ in range(len(scored))]


def global_importance(pipeline: Any) -> list[tuple[str, float]]:
    """Features by mean absolute contribution on a sample of training rows, largest first.

    Importances are normalised to sum to 1; they are computed when the pipeline is
    fitted and saved with it.
    """
    importance = getattr(pipeline, "global_importance_", None)
    if importance is None:
        raise NotFittedError(
            "This pipeline is not fitted yet (no global importance). Call fit(frame) first."
        )
    return sorted(((str(f), float(v)) for f, v in importance), key=lambda t: (-t[1], t[0]))


__all__ = ["explain_matrix", "explain_records", "global_importance", "reason_sentence"]
