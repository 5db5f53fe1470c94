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

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import orjson
from sklearn.base import BaseEstimator
from sklearn.cluster import HDBSCAN, KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
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


__all__ = [
    "CLIP",
    "NOISE",
    "CampaignClusterer",
]
