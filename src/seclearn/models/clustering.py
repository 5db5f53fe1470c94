"""Campaign clustering: group alerts or events whose features look alike.

:class:`CampaignClusterer` clusters featurized rows (a :class:`~seclearn.features.FlowFeaturizer`
matrix, best with ``encoding="onehot", log_counts=True``) with HDBSCAN or k-means, and
:func:`describe_clusters` turns the result into a per-cluster report an analyst can read:
size, time span, exemplar records, the features that set each cluster apart and, when
labels exist, how pure each cluster is by attack type.

Why these steps:

* **Robust scaling.** Each column is centred on its median and divided by its
  interquartile range (the standard deviation when the IQR is 0, 1 when the column is
  constant), then clipped to +-``CLIP`` so that one heavy-tailed column cannot own the
  distance. 0/1 indicator columns (one-hot categories) are left as they are: a
  differing category then weighs about as much as one IQR of a numeric feature.
  Missing values sit at the median (0 after scaling).
* **PCA to ``n_components`` dimensions.** HDBSCAN's density estimate and its tree
  searches degrade in high dimension (about 100 columns for UNSW-NB15 with one-hot
  categories); a linear projection keeps most of the variance and makes the fit several
  times faster. Both methods work in the same projected space, so they are comparable.
* **Bounded cost.** The model is fitted on a uniform random sample of at most
  ``max_fit_rows`` rows; every other row is then *assigned*: k-means by its nearest
  centroid; HDBSCAN by its nearest clustered member of the fit sample, kept only when
  the mutual-reachability distance ``max(d(x, p), core(x), core(p))`` (core = distance
  to the ``min_samples``-th neighbour in the fit sample) is at most ``noise_factor``
  times the cluster's radius, the largest core distance among its members, i.e. the
  sparsest density at which HDBSCAN still admitted a point into it. Farther rows are
  noise (label ``-1``), like HDBSCAN's own noise.
* **Choosing k without labels.** With ``n_clusters=None`` k-means tries k = 2 ..
  ``max_clusters`` on a sample of ``silhouette_rows`` rows and keeps the k with the
  highest silhouette coefficient on that sample.
* **Single-threaded fits.** On at most ``max_fit_rows`` rows a thread pool costs more
  than it saves: on a loaded 2-core machine OpenMP's waiting threads made one k-means
  fit on 4,000 rows 40 times slower (4 s instead of 0.1 s), so the fit runs with one thread.

Everything random (the fit sample, PCA's solver, k-means' seeds) follows ``random_state``.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.vstack([rng.normal(c, 0.3, size=(60, 4)) for c in (0.0, 5.0, 10.0)])
>>> km = CampaignClusterer(method="kmeans", random_state=0).fit(X)
>>> km.n_clusters_, sorted(np.bincount(km.labels_).tolist())
(3, [60, 60, 60])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import orjson
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.cluster import HDBSCAN, KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits

from seclearn.errors import ModelError, NotFittedError
from seclearn.features import Interval, NoneOK, Options, validate_params
from seclearn.models.base import as_matrix, read_json

NOISE = -1
#: Scaled values are clipped to +-CLIP (in IQRs) so one heavy-tailed column cannot dominate.
CLIP = 10.0
CLUSTERER_FILE = "clusterer.json"
ARRAYS_FILE = "clusterer.npz"
FORMAT_VERSION = 1
#: Members per cluster used to find its medoid (exact medoid on a sample: O(m^2) distances).
MEDOID_ROWS = 1_000
#: Record fields copied into exemplars when the frame has them.
EXEMPLAR_FIELDS = (
    "ts", "src_ip", "src_port", "dst_ip", "dst_port", "proto", "service", "conn_state",
    "duration_s", "src_bytes", "dst_bytes", "src_pkts", "dst_pkts", "label", "attack_type",
)  # fmt: skip
_ARRAYS = ("center", "scale", "indicator", "pca_mean", "components", "fit_points", "fit_labels",
           "fit_core", "radius", "centroids")  # fmt: skip


class CampaignClusterer(BaseEstimator):
    """Cluster featurized rows into candidate campaigns with HDBSCAN or k-means.

    See the module docstring for the scaling, projection, sampling and assignment
    rules. After ``fit(X)``: ``labels_`` (one cluster id per row of ``X``, -1 = noise),
    ``n_clusters_``, ``sample_indices_`` (rows the model was fitted on; the others were
    assigned), ``k_scores_`` (silhouette per tried k, k-means with ``n_clusters=None``)
    and ``min_cluster_size_`` (HDBSCAN; ``None`` means ``max(5, fit rows // 200)``).
    """

    _parameter_constraints: ClassVar[dict] = {
        "method": [Options(("hdbscan", "kmeans"))],
        "min_cluster_size": [Interval(int, 2, None), NoneOK()],
        "min_samples": [Interval(int, 1, None), NoneOK()],
        "n_clusters": [Interval(int, 1, None), NoneOK()],
        "max_clusters": [Interval(int, 2, 200)],
        "n_components": [Interval(int, 1, None), NoneOK()],
        "max_fit_rows": [Interval(int, 10, None)],
        "silhouette_rows": [Interval(int, 10, None)],
        "noise_factor": [Interval(float, 0, None, closed="neither")],
        "random_state": [Interval(int, 0, None)],
    }

    def __init__(
        self,
        *,
        method: str = "hdbscan",
        min_cluster_size: int | None = None,
        min_samples: int | None = None,
        n_clusters: int | None = None,
        max_clusters: int = 12,
        n_components: int | None = 16,
        max_fit_rows: int = 20_000,
        silhouette_rows: int = 4_000,
        noise_factor: float = 1.0,
        random_state: int = 0,
    ) -> None:
        self.method = method
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.n_clusters = n_clusters
        self.max_clusters = max_clusters
        self.n_components = n_components
        self.max_fit_rows = max_fit_rows
        self.silhouette_rows = silhouette_rows
        self.noise_factor = noise_factor
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None) -> CampaignClusterer:
        """Fit on a sample of ``X`` (labels are never used), then label every row of ``X``."""
        name = type(self).__name__
        validate_params(name, self.get_params(deep=False), self._parameter_constraints)
        X = as_matrix(X, where=f"{name}.fit")
        n = len(X)
        if n < 2:
            raise ModelError(
                f"{name} needs at least 2 rows to cluster; got {n}. Cluster a larger "
                "selection (more events, or all events instead of alerts only)."
            )
        for stale in ("_nn_fit", "_nn_members", "min_cluster_size_", "min_samples_"):
            self.__dict__.pop(stale, None)  # search trees and HDBSCAN state of an earlier fit
        rng = np.random.default_rng(self.random_state)
        sample = (
            np.arange(n)
            if n <= self.max_fit_rows
            else np.sort(rng.choice(n, self.max_fit_rows, replace=False))
        )
        self.n_features_in_ = X.shape[1]
        self._fit_scaler(X[sample])
        scaled = self._scale(X[sample])
        if not np.ptp(scaled, axis=0).any():
            del self.n_features_in_
            raise ModelError(
                f"{name}: all {len(sample)} rows have the same features (after scaling); there "
                "is nothing to cluster. Check that the input is not constant or all missing."
            )
        with threadpool_limits(limits=1):  # see "Single-threaded fits" in the module docstring
            self._fit_projection(scaled)
            Z = self._project(scaled)
            fitted = self._fit_hdbscan(Z) if self.method == "hdbscan" else self._fit_kmeans(Z, rng)
        labels = np.full(n, NOISE, dtype=np.int64)
        labels[sample] = fitted
        rest = np.setdiff1d(np.arange(n), sample, assume_unique=True)
        if rest.size:
            labels[rest] = self.predict(X[rest])
        self.labels_ = labels
        self.sample_indices_ = sample
        return self

    def _fit_scaler(self, X: np.ndarray) -> None:
        with np.errstate(all="ignore"):
            finite = np.where(np.isfinite(X), X, np.nan)
            all_nan = np.isnan(finite).all(axis=0)
            filled = np.where(all_nan, 0.0, finite)
            q25, med, q75 = np.nanpercentile(filled, [25, 50, 75], axis=0)
            std = np.nanstd(filled, axis=0)
        indicator = np.all(np.isnan(filled) | (filled == 0) | (filled == 1), axis=0)
        scale = np.where(q75 - q25 > 0, q75 - q25, np.where(std > 0, std, 1.0))
        self.center_ = np.where(indicator, 0.0, med).astype(np.float64)
        self.scale_ = np.where(indicator, 1.0, scale).astype(np.float64)
        self.indicator_ = indicator

    def _scale(self, X: np.ndarray) -> np.ndarray:
        """Robust-scaled, clipped copy of ``X``; missing values at the median (0)."""
        Z = (np.asarray(X, dtype=np.float64) - self.center_) / self.scale_
        Z[~np.isfinite(Z)] = 0.0
        return np.clip(Z, -CLIP, CLIP, out=Z)

    def _fit_projection(self, scaled: np.ndarray) -> None:
        limit = min(scaled.shape[0], scaled.shape[1])
        if self.n_components is None or self.n_components >= limit:
            self.pca_mean_ = np.zeros(scaled.shape[1])
            self.components_ = np.eye(scaled.shape[1])
            self.explained_variance_ = 1.0
            return
        pca = PCA(self.n_components, random_state=self.random_state).fit(scaled)
        self.pca_mean_ = pca.mean_
        self.components_ = pca.components_
        self.explained_variance_ = float(pca.explained_variance_ratio_.sum())

    def _project(self, scaled: np.ndarray) -> np.ndarray:
        return (scaled - self.pca_mean_) @ self.components_.T

    def embed(self, X: Any) -> np.ndarray:
        """Rows of ``X`` in the space the clusters live in (scaled, projected)."""
        return self._project(self._scale(self._check_input(X)))

    def _fit_hdbscan(self, Z: np.ndarray) -> np.ndarray:
        mcs = self.min_cluster_size or max(5, len(Z) // 200)
        if len(Z) <= mcs:
            raise ModelError(
                f"HDBSCAN needs more rows than min_cluster_size={mcs}; got {len(Z)}. Lower "
                "min_cluster_size, or use method='kmeans'."
            )
        ms = min(self.min_samples or mcs, len(Z) - 1)
        self.min_cluster_size_ = mcs
        self.min_samples_ = ms
        labels = HDBSCAN(min_cluster_size=mcs, min_samples=ms, copy=True).fit_predict(Z)
        labels = np.where(labels < 0, NOISE, labels).astype(np.int64)
        core = NearestNeighbors().fit(Z).kneighbors(Z, ms)[0][:, -1]
        self.n_clusters_ = int(labels.max()) + 1
        self.fit_points_, self.fit_labels_, self.fit_core_ = Z, labels, core
        self.radius_ = np.array(
            [core[labels == c].max() for c in range(self.n_clusters_)], dtype=np.float64
        )
        self.centroids_ = np.zeros((0, Z.shape[1]))
        self.k_scores_: dict[int, float] = {}
        return labels

    def _fit_kmeans(self, Z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        distinct = len(np.unique(Z, axis=0))
        self.k_scores_ = {}
        k = self.n_clusters
        if k is not None and k > distinct:
            raise ModelError(
                f"k-means with n_clusters={k} needs at least {k} distinct rows; got {distinct}. "
                "Lower n_clusters, or leave it unset to choose k by silhouette."
            )
        if k is None:
            part = (
                Z
                if len(Z) <= self.silhouette_rows
                else Z[np.sort(rng.choice(len(Z), self.silhouette_rows, replace=False))]
            )
            top = min(self.max_clusters, len(np.unique(part, axis=0)) - 1)
            for cand in range(2, top + 1):
                found = self._kmeans(cand).fit_predict(part)
                if len(np.unique(found)) > 1:
                    self.k_scores_[cand] = float(silhouette_score(part, found))
            k = max(self.k_scores_, key=lambda c: (self.k_scores_[c], -c)) if self.k_scores_ else 1
        km = self._kmeans(k).fit(Z)
        self.n_clusters_ = int(k)
        self.centroids_ = km.cluster_centers_
        self.fit_points_, self.fit_labels_ = np.zeros((0, Z.shape[1])), np.zeros(0, np.int64)
        self.fit_core_ = self.radius_ = np.zeros(0)
        return km.labels_.astype(np.int64)

    def _kmeans(self, k: int) -> KMeans:
        return KMeans(k, n_init=4, random_state=self.random_state)

    # -------------------------------------------------------------- predict
    def predict(self, X: Any) -> np.ndarray:
        """Cluster id per row of ``X`` (-1 = noise, HDBSCAN only); see the assignment rule."""
        Z = self.embed(X)
        if self.method == "kmeans":  # nearest centroid; ||z||^2 is the same for every centroid
            c = self.centroids_
            return ((c**2).sum(axis=1) - 2.0 * Z @ c.T).argmin(axis=1).astype(np.int64)
        out = np.full(len(Z), NOISE, dtype=np.int64)
        members = np.flatnonzero(self.fit_labels_ != NOISE)
        if not len(members) or not len(Z):
            return out
        if not hasattr(self, "_nn_fit"):  # search trees, rebuilt after load
            self._nn_fit = NearestNeighbors().fit(self.fit_points_)
            self._nn_members = NearestNeighbors().fit(self.fit_points_[members])
        core_x = self._nn_fit.kneighbors(Z, self.min_samples_)[0][:, -1]
        dist, idx = self._nn_members.kneighbors(Z, 1)
        nearest = members[idx[:, 0]]
        cluster = self.fit_labels_[nearest]
        reach = np.maximum(np.maximum(dist[:, 0], core_x), self.fit_core_[nearest])
        keep = reach <= self.noise_factor * self.radius_[cluster]
        out[keep] = cluster[keep]
        return out

    def _check_input(self, X: Any) -> np.ndarray:
        if not hasattr(self, "n_features_in_") or not hasattr(self, "centroids_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet. Call fit(X) first."
            )
        X = as_matrix(X, where=f"{type(self).__name__}.predict")
        if X.shape[1] != self.n_features_in_:
            raise ModelError(
                f"{type(self).__name__} was fitted on {self.n_features_in_} features; got "
                f"{X.shape[1]}. Featurize with the featurizer used for fitting."
            )
        return X

    # ---------------------------------------------------------- persistence
    def save(self, folder: Path | str) -> list[Path]:
        """Write ``clusterer.json`` (parameters, small state) and ``clusterer.npz`` (arrays)."""
        self._check_input(np.zeros((0, getattr(self, "n_features_in_", 0))))
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {k: np.asarray(getattr(self, f"{k}_")) for k in _ARRAYS}
        npz = folder / ARRAYS_FILE
        with npz.open("wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
        state = {
            "format_version": FORMAT_VERSION,
            "params": self.get_params(deep=False),
            "n_features_in": int(self.n_features_in_),
            "n_clusters": int(self.n_clusters_),
            "explained_variance": float(self.explained_variance_),
            "k_scores": {str(k): v for k, v in self.k_scores_.items()},
            "min_cluster_size": getattr(self, "min_cluster_size_", None),
            "min_samples": getattr(self, "min_samples_", None),
        }
        path = folder / CLUSTERER_FILE
        path.write_bytes(orjson.dumps(state, option=orjson.OPT_INDENT_2))
        return [path, npz]

    @classmethod
    def load(cls, folder: Path | str) -> CampaignClusterer:
        """Restore a clusterer written by :meth:`save` (arrays read with ``allow_pickle=False``)."""
        folder = Path(folder)
        state = read_json(folder / CLUSTERER_FILE)
        if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
            raise ModelError(
                f"{folder / CLUSTERER_FILE} is not a clusterer of format version {FORMAT_VERSION}; "
                "fit and save it again with this version of seclearn."
            )
        self = cls(**state["params"])
        path = folder / ARRAYS_FILE
        if not path.is_file():
            raise ModelError(f"Missing {path}; the clusterer folder is incomplete. Save it again.")
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in _ARRAYS if k not in data.files]
            if missing:
                raise ModelError(f"{path} lacks arrays {missing}; save the clusterer again.")
            for k in _ARRAYS:
                setattr(self, f"{k}_", np.asarray(data[k]))
        self.n_features_in_ = int(state["n_features_in"])
        self.n_clusters_ = int(state["n_clusters"])
        self.explained_variance_ = float(state["explained_variance"])
        self.k_scores_ = {int(k): float(v) for k, v in state["k_scores"].items()}
        if state.get("min_samples") is not None:
            self.min_cluster_size_ = int(state["min_cluster_size"])
            self.min_samples_ = int(state["min_samples"])
        return self


# ------------------------------------------------------------------- report
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


__all__ = [
    "CLIP",
    "NOISE",
    "CampaignClusterer",
    "describe_clusters",
    "purity_scores",
]
