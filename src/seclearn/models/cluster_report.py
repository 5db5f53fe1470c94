"""What sets each campaign cluster apart: the report of a fitted :class:`CampaignClusterer`.

:func:`describe_clusters` gives, per cluster, its size, time span, exemplar records,
distinguishing features and, where labels exist, its label purity;
:func:`purity_scores` measures how well clusters match known categories.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from seclearn.errors import ModelError
from seclearn.models.clustering import (
    EXEMPLAR_FIELDS,
    MEDOID_ROWS,
    NOISE,
    CampaignClusterer,
)

#: Rows (overall, and per cluster) sampled for medians and shares in the report.
REFERENCE_ROWS = 50_000


def purity_scores(clusters: Any, truth: Any) -> dict[str, Any]:
    """How well clusters match known categories (``truth``, e.g. attack_type per row).

    Rows with a missing category are ignored. ``weighted_purity`` is the share of
    clustered (non-noise) rows that carry their cluster's majority category;
    ``purity_all_rows`` counts noise rows as impure; ``majority_share`` is the
    baseline that one cluster holding everything would reach; ``adjusted_rand`` is the
    adjusted Rand index on clustered rows (0 = chance, 1 = identical partitions), and
    ``adjusted_rand_with_noise`` treats noise as one more cluster.
    """
    clusters = np.asarray(clusters, dtype=np.int64)
    cats = pd.Series(np.asarray(truth, dtype=object))
    if clusters.ndim != 1 or len(clusters) != len(cats):
        raise ModelError(
            f"purity_scores: need one category per cluster label; got {clusters.shape} labels "
            f"and {len(cats)} categories."
        )
    known = cats.notna().to_numpy()
    clusters, cats = clusters[known], cats[known].astype(str).to_numpy()
    if not len(cats):
        return {"rows": 0}
    member = clusters != NOISE
    table = pd.crosstab(clusters[member], cats[member]) if member.any() else pd.DataFrame()
    majority = int(table.max(axis=1).sum()) if member.any() else 0
    ari = adjusted_rand_score(cats[member], clusters[member]) if member.sum() > 1 else None
    return {
        "rows": len(cats),
        "categories": len(np.unique(cats)),
        "majority_share": float(pd.Series(cats).value_counts(normalize=True).iloc[0]),
        "coverage": float(member.mean()),
        "weighted_purity": majority / int(member.sum()) if member.any() else None,
        "purity_all_rows": majority / len(cats),
        "adjusted_rand": None if ari is None else float(ari),
        "adjusted_rand_with_noise": float(adjusted_rand_score(cats, clusters)),
    }


def describe_clusters(
    clusterer: CampaignClusterer,
    X: Any,
    *,
    labels: Any = None,
    frame: pd.DataFrame | None = None,
    feature_names: Sequence[str] | None = None,
    display: Callable[[int, float], Any] | None = None,
    truth: Any = None,
    n_exemplars: int = 3,
    n_features: int = 5,
) -> dict[str, Any]:
    """A JSON-ready report of the clusters of ``X`` (``labels`` default: ``clusterer.labels_``).

    Per cluster, largest first: size and share; first/last ``ts`` when ``frame`` has it;
    ``exemplars``, the ``n_exemplars`` rows nearest the cluster's medoid (the member with
    the least total distance to the others, found on up to ``MEDOID_ROWS`` members), with
    their record fields from ``frame``; ``distinguishing``, the ``n_features`` features
    whose cluster median differs most from the median of all rows, in robust-scaled
    units (IQRs), with both values (``display(index, value)``, e.g.
    ``FlowFeaturizer.display_value``, turns them back into readable units); for 0/1
    category columns the share of rows is compared instead; and, when ``truth`` (or
    ``frame["attack_type"]``) is given, the category counts and majority share. Noise
    rows are counted apart under ``noise``; ``purity`` holds :func:`purity_scores`.
    """
    X = clusterer._check_input(X)
    labels = np.asarray(clusterer.labels_ if labels is None else labels, dtype=np.int64)
    if labels.shape != (len(X),):
        raise ModelError(
            f"describe_clusters: need one label per row ({len(X)}); got {labels.shape}."
        )
    if frame is not None and len(frame) != len(X):
        raise ModelError(f"describe_clusters: frame has {len(frame)} rows, X has {len(X)}.")
    names = (
        list(feature_names) if feature_names is not None else [f"x{j}" for j in range(X.shape[1])]
    )
    if truth is None and frame is not None and "attack_type" in frame.columns:
        truth = frame["attack_type"].to_numpy(dtype=object)
    truth_arr = None if truth is None else pd.Series(np.asarray(truth, dtype=object))
    rng = np.random.default_rng(clusterer.random_state)
    ref = _sample(np.arange(len(X)), REFERENCE_ROWS, rng)
    # all rows' scaled medians, raw medians and indicator shares, to compare each cluster with
    overall = (
        np.median(clusterer._scale(X[ref]), axis=0),
        _nanmedian(X[ref]),
        _shares(X[ref], clusterer.indicator_),
    )
    clusters = []
    for c in np.unique(labels[labels != NOISE]):
        rows = np.flatnonzero(labels == c)
        entry: dict[str, Any] = {"id": int(c), "size": len(rows), "share": len(rows) / len(X)}
        entry.update(_time_span(frame, rows))
        entry["exemplars"] = _exemplars(clusterer, X, rows, frame, n_exemplars, rng)
        part = _sample(rows, REFERENCE_ROWS, rng)
        entry["distinguishing"] = _distinguishing(
            clusterer, X[part], overall, names, display, n_features
        )
        if truth_arr is not None:
            entry.update(_label_summary(truth_arr.iloc[rows]))
        clusters.append(entry)
    clusters.sort(key=lambda e: (-e["size"], e["id"]))
    noise = np.flatnonzero(labels == NOISE)
    noise_entry: dict[str, Any] = {"count": len(noise), "share": len(noise) / len(X)}
    if truth_arr is not None and len(noise):
        noise_entry.update(_label_summary(truth_arr.iloc[noise]))
    return {
        "method": clusterer.method,
        "rows": len(X),
        "fit_rows": len(getattr(clusterer, "sample_indices_", ref)),
        "n_clusters": len(clusters),
        "noise": noise_entry,
        "clusters": clusters,
        "purity": None if truth_arr is None else purity_scores(labels, truth_arr),
        "settings": {
            "params": clusterer.get_params(deep=False),
            "min_cluster_size": getattr(clusterer, "min_cluster_size_", None),
            "explained_variance": clusterer.explained_variance_,
            "k_scores": {str(k): v for k, v in clusterer.k_scores_.items()},
        },
    }


def _sample(rows: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    return rows if len(rows) <= limit else np.sort(rng.choice(rows, limit, replace=False))


def _shares(X: np.ndarray, indicator: np.ndarray) -> np.ndarray:
    """Share of rows equal to 1 in each 0/1 indicator column (0 for other columns)."""
    return np.where(indicator, (X == 1).mean(axis=0), 0.0)


def _nanmedian(X: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        all_nan = np.isnan(X).all(axis=0) if len(X) else np.ones(X.shape[1], dtype=bool)
        return np.where(all_nan, np.nan, np.nanmedian(np.where(all_nan, 0.0, X), axis=0))


def _time_span(frame: pd.DataFrame | None, rows: np.ndarray) -> dict[str, Any]:
    if frame is None or "ts" not in frame.columns:
        return {}
    ts = pd.to_numeric(frame["ts"].iloc[rows], errors="coerce").dropna()
    if ts.empty:
        return {}
    first, last = float(ts.min()), float(ts.max())
    return {"first_ts": _iso(first), "last_ts": _iso(last), "span_s": last - first}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds")


def _exemplars(
    clusterer: CampaignClusterer,
    X: np.ndarray,
    rows: np.ndarray,
    frame: pd.DataFrame | None,
    n: int,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    Z = clusterer.embed(X[rows])
    sub = _sample(np.arange(len(rows)), MEDOID_ROWS, rng)
    gram = Z[sub] @ Z[sub].T
    sq = np.diag(gram)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * gram, 0.0))
    medoid = Z[sub[int(dist.sum(axis=1).argmin())]]
    to_medoid = np.linalg.norm(Z - medoid, axis=1)
    out = []
    for i in np.argsort(to_medoid, kind="stable")[:n]:
        record: dict[str, Any] = {"row": int(rows[i]), "distance": float(to_medoid[i])}
        if frame is not None:
            for field in EXEMPLAR_FIELDS:
                if field in frame.columns:
                    record[field] = _plain(frame[field].iloc[rows[i]])
            if "ts" in record and isinstance(record["ts"], float):
                record["time"] = _iso(record["ts"])
        out.append(record)
    return out


def _distinguishing(
    clusterer: CampaignClusterer,
    Xc: np.ndarray,
    overall: tuple[np.ndarray, np.ndarray, np.ndarray],
    names: list[str],
    display: Callable[[int, float], Any] | None,
    top: int,
) -> list[dict[str, Any]]:
    indicator = clusterer.indicator_
    ref_scaled_median, ref_raw_median, share_all = overall
    diff = np.median(clusterer._scale(Xc), axis=0) - ref_scaled_median
    share = _shares(Xc, indicator)
    diff = np.where(indicator, share - share_all, diff)
    raw = _nanmedian(Xc)
    out = []
    for j in np.argsort(-np.abs(diff), kind="stable")[:top]:
        if not diff[j]:
            break
        if indicator[j]:
            entry = {"kind": "share", "cluster": float(share[j]), "overall": float(share_all[j])}
        else:
            show = display or (lambda _j, v: None if math.isnan(v) else float(v))
            entry = {
                "kind": "median",
                "cluster": _plain(show(int(j), float(raw[j]))),
                "overall": _plain(show(int(j), float(ref_raw_median[j]))),
            }
        out.append({"feature": names[j], "difference": float(diff[j]), **entry})
    return out


def _label_summary(values: pd.Series) -> dict[str, Any]:
    counts = values.dropna().astype(str).value_counts()
    if counts.empty:
        return {}
    return {
        "majority": str(counts.index[0]),
        "purity": float(counts.iloc[0] / counts.sum()),
        "label_counts": {str(k): int(v) for k, v in counts.head(8).items()},
    }


def _plain(value: Any) -> Any:
    """A JSON-ready scalar: numpy to Python, missing to None, anything else to str."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
        return None if isinstance(value, float) and math.isnan(value) else value
    if isinstance(value, str | bool | int | float):
        return value
    return str(value)


__all__ = ["REFERENCE_ROWS", "describe_clusters", "purity_scores"]
