"""Active learning: the events whose labels would teach a detector most.

:func:`review_queue` picks ``k`` events of a frame for analysts to label: uncertainty
sampling (the events whose calibrated score is closest to the operating threshold) made
diverse by clustering (the most uncertain events of each cluster in turn), skipping
events that already have a label. :func:`review_model` runs it for a registered model
on a dataset or file and can store the queue for the triage page.

Why this choice. A label teaches a detector most where the detector is unsure *at the
point where it decides*: an event far above or below the threshold gets the same
decision whatever its label says, while one near the threshold can move the decision
boundary (uncertainty sampling, Lewis & Gale 1994; Settles, *Active Learning
Literature Survey*, 2009). Pure uncertainty sampling, however, tends to return k near
copies of one confusing pattern (the same scanner, the same beacon), and a batch of
near copies teaches little more than one of them. Clustering the most uncertain
candidates and taking them round-robin across clusters spreads the batch over
different kinds of ambiguity (the "diverse mini-batch" idea of Zhdanov 2019), at the
price of taking some slightly less uncertain events.

Known limits.

* The uncertainty is the model's own: it cannot see what the model is confidently
  wrong about (an attack scored far below the threshold stays out of the queue); mix
  in random samples or hunt-driven labels to find those unknown unknowns.
* It is measured in logit distance to the threshold of *calibrated* scores. An
  isotonic calibration is a step function, so many events share a score and tie;
  ties are broken by the raw detector score's distance to where the decision flips,
  then by row order, deterministically.
* The candidate pool (``candidates`` most uncertain events) bounds how far from the
  threshold an item may be; clusters are k-means (MiniBatchKMeans) on standardised
  features of that pool only, so they are "kinds of ambiguity", not campaigns.
* A queue is a snapshot of one model on one frame; after labelling and retraining,
  build a new one. An adversary who can inject traffic near the threshold can steer
  what analysts look at; label shares per actor (:func:`seclearn.lifecycle.feedback.label_shares`)
  and the retraining gates are the guard for the labels that result.

>>> import numpy as np, pandas as pd
>>> from seclearn.pipeline import DetectionPipeline
>>> rng = np.random.default_rng(0)
>>> n = 800
>>> scan = rng.random(n) < 0.2
>>> flows = pd.DataFrame({"dst_bytes": np.where(scan, rng.lognormal(3, 2, n), rng.lognormal(8, 1, n)),
...                       "conn_state": np.where(scan, "REJ", rng.choice(["SF", "S1"], n)),
...                       "uid": [f"C{i}" for i in range(n)], "label": scan.astype(int)})
>>> pipe = DetectionPipeline(detector="logistic_regression").fit(flows)
>>> queue = review_queue(pipe, flows, k=5, exclude={"C0"})
>>> len(queue), list(queue["rank"]), "C0" in set(queue["uid"])
(5, [1, 2, 3, 4, 5], False)
>>> bool(queue["uncertainty"].max() <= np.median(review_uncertainty(pipe.risk_score(flows), pipe.threshold_)))
True
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import MiniBatchKMeans

from seclearn.config import Limits
from seclearn.datasets import load_dataset
from seclearn.errors import ConfigError
from seclearn.ingest import read_flows
from seclearn.registry import load_model
from seclearn.store import StateStore, replace_review_queue

#: Columns shown with each item (when the frame has them).
KEY_COLUMNS = ("uid", "ts", "src_ip", "src_port", "dst_ip", "dst_port", "proto", "service")
#: Columns that describe the truth, never shown to the analyst in ``raw_event``.
HIDDEN_COLUMNS = frozenset({"label", "attack_type"})
ITEM_COLUMNS = ("score", "threshold", "uncertainty", "cluster", "rank", "reason", "raw_event")
QUEUE_COLUMNS = (*KEY_COLUMNS, *ITEM_COLUMNS)
_EPS = 1e-6
_MAX_K = 10_000


def review_uncertainty(scores: Any, threshold: float) -> np.ndarray:
    """``|logit(score) - logit(threshold)|``, scores clipped to ``[1e-6, 1 - 1e-6]``: 0 is
    "on the threshold", larger is "surer". The logit scale stretches the ends, so 0.999
    vs 0.99 counts as a real difference in certainty, unlike 0.5 vs 0.509."""
    s = np.clip(np.asarray(scores, dtype=np.float64), _EPS, 1 - _EPS)
    t = float(np.clip(threshold, _EPS, 1 - _EPS))
    return np.abs(np.log(s / (1 - s)) - np.log(t / (1 - t)))


def _standardised(X: np.ndarray) -> np.ndarray:
    """Columns to mean 0, standard deviation 1; missing values and constant columns to 0."""
    finite = np.asarray(X, dtype=np.float64).copy()
    finite[~np.isfinite(finite)] = np.nan
    with warnings.catch_warnings():  # all-NaN columns give NaN statistics, set to 0 below
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(finite, axis=0)
        std = np.nanstd(finite, axis=0)
    std = np.where(np.isfinite(std) & (std > 0), std, 1.0)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    return np.nan_to_num((finite - mean) / std, nan=0.0)


def _clusters(X: np.ndarray, n_clusters: int, random_state: int) -> np.ndarray:
    """k-means labels of standardised rows; 0 for all when there are too few distinct rows."""
    Z = _standardised(X)
    distinct = len(np.unique(Z.round(9), axis=0)) if len(Z) else 0
    n = min(n_clusters, distinct)
    if n <= 1:
        return np.zeros(len(Z), dtype=np.int64)
    km = MiniBatchKMeans(
        n_clusters=n, random_state=random_state, n_init=3, batch_size=max(256, 4 * n)
    )
    return km.fit_predict(Z).astype(np.int64)


def _raw_distance(raw: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Distance of each raw detector score to the raw score where the decision flips here.

    A step calibration (isotonic) gives many events the same calibrated score; among
    them, the one whose raw score is closest to the flip point is the most uncertain.
    The flip point is the midpoint of the highest raw score at or below the threshold and
    the lowest one above it, in this frame.
    """
    finite = np.isfinite(raw)
    below, above = raw[finite & (scores <= threshold)], raw[finite & (scores > threshold)]
    if len(below) and len(above):
        flip = (float(below.max()) + float(above.min())) / 2
    elif len(below) or len(above):
        flip = float(below.max()) if len(below) else float(above.min())
    else:
        return np.zeros(len(raw))
    return np.where(finite, np.abs(raw - flip), np.inf)


def _round_robin(
    uncertainty: np.ndarray, tie_break: np.ndarray, labels: np.ndarray, k: int
) -> list[int]:
    """Positions taken by turns from each cluster, most uncertain first within a cluster;
    clusters take their turns in the order of their most uncertain member."""
    queues: list[list[int]] = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        order = members[np.lexsort((members, tie_break[members], uncertainty[members]))]
        queues.append(order.tolist())
    queues.sort(key=lambda q: (uncertainty[q[0]], tie_break[q[0]], q[0]))
    chosen: list[int] = []
    depth = 0
    while len(chosen) < k:
        took = False
        for q in queues:
            if depth < len(q):
                chosen.append(q[depth])
                took = True
                if len(chosen) == k:
                    break
        if not took:
            break
        depth += 1
    return chosen


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def review_queue(
    pipeline: Any,
    frame: pd.DataFrame,
    *,
    k: int = 20,
    exclude: set[str] | None = None,
    n_clusters: int | None = None,
    candidates: int | None = None,
    random_state: int = 0,
) -> pd.DataFrame:
    """The ``k`` events of ``frame`` whose labels would teach ``pipeline`` most.

    ``pipeline`` is a fitted :class:`~seclearn.pipeline.DetectionPipeline`; ``frame``
    holds flows with a ``uid`` (the event reference labels use). Events whose uid is in
    ``exclude`` (e.g. already labelled) or missing are skipped, repeated uids count
    once. The ``candidates`` (default ``max(10 * k, 200)``) events with the smallest
    :func:`review_uncertainty` are clustered into ``n_clusters`` (default about
    ``sqrt(k)``, at least 2) groups by MiniBatchKMeans on their standardised features,
    and picked round-robin across clusters, most uncertain first. Deterministic for a
    given ``random_state``. Fewer than ``k`` rows come back when fewer are eligible.

    Returns one row per item, ordered by ``rank`` (1 = first to review), indexed like
    ``frame``: the :data:`KEY_COLUMNS` the frame has, ``score``, ``threshold``,
    ``uncertainty``, ``cluster``, ``rank``, ``reason`` and ``raw_event`` (the event's
    fields as a dict, without ``label`` and ``attack_type``). See the module docstring
    for why and for the limits.
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= _MAX_K:
        raise ConfigError(f"k must be an integer in [1, {_MAX_K}], got {k!r}.")
    for name, value in (("n_clusters", n_clusters), ("candidates", candidates)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise ConfigError(f"{name} must be a positive integer or None, got {value!r}.")
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"frame must be a DataFrame of flows, got {type(frame).__name__}.")
    if "uid" not in frame.columns:
        raise ConfigError(
            "The frame has no uid column: review items are labelled by event reference (the "
            "flow's Zeek uid). Read flows that carry a uid (zeek conn.log, the simulator)."
        )
    threshold = float(pipeline.threshold_)
    columns = [c for c in KEY_COLUMNS if c in frame.columns]
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in (*columns, *ITEM_COLUMNS)})
    X = pipeline.transform_features(frame)
    raw = np.asarray(pipeline.detector_.risk_score(X), dtype=np.float64)
    scores = np.asarray(pipeline.calibrator_.transform(raw), dtype=np.float64)
    uncertainty = review_uncertainty(scores, threshold)
    tie_break = _raw_distance(raw, scores, threshold)
    uids = frame["uid"]
    valid = uids.notna().to_numpy() & (uids.astype(str).str.len() > 0).to_numpy()
    if exclude:
        valid &= ~uids.astype(str).isin(set(exclude)).to_numpy()
    valid &= ~uids.astype(str).duplicated(keep="first").to_numpy()
    eligible = np.flatnonzero(valid)
    pool_size = min(len(eligible), candidates or max(10 * k, 200))
    ranked = uncertainty.round(9)  # equal up to rounding is a tie, for the raw tie-break
    order = eligible[np.lexsort((eligible, tie_break[eligible], ranked[eligible]))]
    order = order[:pool_size]
    wanted = n_clusters or max(2, round(float(np.sqrt(k))))
    labels = (
        _clusters(X[order], wanted, random_state) if len(order) else np.zeros(0, dtype=np.int64)
    )
    picked = _round_robin(ranked[order], tie_break[order], labels, k) if len(order) else []
    rows = order[picked]
    clusters = labels[picked]
    n_found = len(np.unique(clusters))
    shown = frame.iloc[rows]
    out = shown[columns].copy()
    out["score"] = scores[rows]
    out["threshold"] = threshold
    out["uncertainty"] = uncertainty[rows]
    out["cluster"] = clusters.astype(np.int64)
    out["rank"] = np.arange(1, len(rows) + 1, dtype=np.int64)
    side = np.where(scores[rows] > threshold, "above", "at or below")
    out["reason"] = [
        f"score {s:.3f} {w} threshold {threshold:.3f} (logit distance {u:.2f}); "
        f"cluster {c} of {n_found} in the {pool_size} most uncertain"
        for s, w, u, c in zip(scores[rows], side, uncertainty[rows], clusters, strict=True)
    ]
    raw_cols = [c for c in frame.columns if c not in HIDDEN_COLUMNS]
    out["raw_event"] = [
        {c: _plain(v) for c, v in zip(raw_cols, values, strict=True)}
        for values in shown[raw_cols].itertuples(index=False, name=None)
    ]
    return out


def queue_items(queue: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a :func:`review_queue` frame as items for
    :func:`~seclearn.store.replace_review_queue` (``uid`` becomes ``event_ref``)."""
    items: list[dict[str, Any]] = []
    for row in queue.to_dict("records"):
        raw = row.get("raw_event")
        items.append(
            {
                "event_ref": str(row["uid"]),
                "score": float(row["score"]),
                "threshold": float(row["threshold"]),
                "uncertainty": float(row["uncertainty"]),
                "cluster": int(row["cluster"]),
                "rank": int(row["rank"]),
                "reason": str(row.get("reason", "")),
                "raw_event": dict(raw) if isinstance(raw, Mapping) else None,
            }
        )
    return items


@dataclass
class ReviewResult:
    """A review queue built for one model: the items, what was scored, what was stored."""

    model: str
    version: int | str
    queue: pd.DataFrame
    n_scored: int
    n_excluded: int
    stored: int | None  # items written to the state store, None when not stored


def _read_data(root: Path, data: str | Path, limits: Limits) -> pd.DataFrame:
    path = Path(data)
    if path.is_file():
        return read_flows(path, limits=limits).frame
    return load_dataset(root, str(data))


def review_model(
    root: Path,
    model: str,
    data: str | Path,
    *,
    key: bytes,
    k: int = 20,
    store: StateStore | None = None,
    save: bool = False,
    limits: Limits | None = None,
    random_state: int = 0,
) -> ReviewResult:
    """Build the review queue of registered ``model`` on ``data`` (a dataset name or a file).

    With ``store`` the events already labelled in it are excluded; with ``save`` too the
    model's queue in the store is replaced by this one (for the triage page).
    """
    if save and store is None:
        raise ConfigError("save=True needs a store to save the review queue in.")
    pipeline, manifest = load_model(model, root=root, key=key)
    frame = _read_data(root, data, limits or Limits())
    labelled = {lab.event_ref for lab in store.labels()} if store is not None else set()
    excluded = int(frame["uid"].astype(str).isin(labelled).sum()) if "uid" in frame else 0
    queue = review_queue(pipeline, frame, k=k, exclude=labelled, random_state=random_state)
    name = str(manifest["name"])
    stored = replace_review_queue(store, name, queue_items(queue)) if save and store else None
    return ReviewResult(
        model=name,
        version=manifest["version"],
        queue=queue,
        n_scored=len(frame),
        n_excluded=excluded,
        stored=stored,
    )
