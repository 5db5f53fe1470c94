"""Anomaly detectors, trained on benign or unlabeled rows: isolation forest, ECOD, HBOS.

Missing feature values are imputed with the training medians (kept in ``medians_``).
Scores grow with abnormality everywhere: scikit-learn's IsolationForest says the
opposite (lower ``score_samples`` = more abnormal) and is converted here, once.

ECOD and HBOS are additive over features, so :meth:`dimension_scores` gives each
feature's exact share of the score (used for explanations). PyOD is the reference for
both: HBOS histograms are fitted by PyOD's ``HBOS``; scoring is a vectorised copy of
PyOD's rule (checked against it in the tests). PyOD's ``ECOD.decision_function``
re-estimates its distributions on training *plus scored* rows, so a record's score
would depend on the batch it arrives in; here the per-feature empirical distributions
and skewness come from training data only, which is the same estimator made inductive.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from scipy.stats import skew

from seclearn.errors import ModelError
from seclearn.features import Interval, NoneOK, Options
from seclearn.models._skops import dump_skops, load_skops
from seclearn.models.base import Detector, Kind, map_chunks


def _medians(X: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        all_nan = np.isnan(X).all(axis=0)
        med = np.nanmedian(np.where(all_nan, 0.0, X), axis=0)
    return np.where(np.isnan(med), 0.0, med).astype(np.float64)


def _impute(X: np.ndarray, medians: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(X), medians, X) if np.isnan(X).any() else X


def _load_npz(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise ModelError(
            f"Missing model file {path}. The model folder is incomplete; save it again."
        )
    with np.load(path, allow_pickle=False) as data:
        missing = [k for k in keys if k not in data.files]
        if missing:
            raise ModelError(
                f"{path} lacks arrays {missing}; the model folder is damaged. Save it again."
            )
        return {k: np.asarray(data[k]) for k in keys}


class AnomalyDetector(Detector):
    """Shared imputation and persistence of ``medians_`` for anomaly detectors."""

    kind: ClassVar[Kind] = "anomaly"

    def _state(self) -> dict[str, Any]:
        return {"medians": self.medians_.tolist()}

    def _restore(self, state: dict[str, Any], folder: Path) -> None:
        self.medians_ = np.asarray(state["medians"], dtype=np.float64)


class IsolationForestDetector(AnomalyDetector):
    """scikit-learn IsolationForest; raw score = the paper's anomaly score (higher = more isolated)."""

    name: ClassVar[str] = "isolation_forest"
    _parameter_constraints: ClassVar[dict] = {
        "n_estimators": [Interval(int, 1, 10_000)],
        "max_samples": [Interval(int, 2, None), Options(("auto",))],
        "max_features": [Interval(float, 0, 1, closed="right")],
        "n_jobs": [Interval(int, -1, None), NoneOK()],
        "random_state": [Interval(int, 0, None)],
    }
    SKOPS_TRUSTED: ClassVar[tuple[str, ...]] = ("sklearn.tree._tree.Tree",)

    def __init__(
        self,
        *,
        n_estimators: int = 200,
        max_samples: int | str = "auto",
        max_features: float = 1.0,
        n_jobs: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.max_features = max_features
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        from sklearn.ensemble import IsolationForest

        self.medians_ = _medians(X)
        max_samples = (
            self.max_samples if self.max_samples == "auto" else min(int(self.max_samples), len(X))
        )
        self.model_ = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=max_samples,
            max_features=self.max_features,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
        ).fit(_impute(X, self.medians_))

    def _risk(self, X: np.ndarray) -> np.ndarray:
        # scikit-learn: lower score_samples = more abnormal. Negated once, here.
        return map_chunks(X, lambda part: -self.model_.score_samples(_impute(part, self.medians_)))

    def _save_files(self, folder: Path) -> list[Path]:
        return [dump_skops(self.model_, folder / "model.skops")]

    def _restore(self, state: dict[str, Any], folder: Path) -> None:
        from sklearn.ensemble import IsolationForest

        super()._restore(state, folder)
        self.model_ = load_skops(
            folder / "model.skops", trusted=self.SKOPS_TRUSTED, expected=IsolationForest
        )


class ECODDetector(AnomalyDetector):
    """ECOD (Li et al., 2022): tail probabilities of each feature under its empirical distribution.

    Per feature, U_left = -log F(x) and U_right = -log (1 - F(x-)) with F the training
    ECDF (the record counted in, as in PyOD); the skewness of the training feature picks
    the tail, and the feature's score is the largest of the three. The raw score is the
    sum over features. ``max_reference_rows`` evenly spaced order statistics per
    feature are kept (saved as ``.npz``).
    """

    name: ClassVar[str] = "ecod"
    _parameter_constraints: ClassVar[dict] = {"max_reference_rows": [Interval(int, 10, 1_000_000)]}

    def __init__(self, *, max_reference_rows: int = 10_000) -> None:
        self.max_reference_rows = max_reference_rows

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        self.medians_ = _medians(X)
        Z = np.sort(_impute(X, self.medians_).astype(np.float64), axis=0)
        n = len(Z)
        keep = np.round(np.linspace(0, n - 1, min(n, self.max_reference_rows))).astype(np.int64)
        self.reference_ = np.ascontiguousarray(Z[keep])
        with (
            np.errstate(all="ignore"),
            warnings.catch_warnings(),
        ):  # near-constant columns: sign is moot
            warnings.simplefilter("ignore", RuntimeWarning)
            sign = np.sign(skew(Z, axis=0))
        self.skew_sign_ = np.where(np.isnan(sign), 0.0, sign)

    def dimension_scores(self, X: np.ndarray) -> np.ndarray:
        """Per-feature outlier scores (n_rows x n_features); their row sum is the raw score."""
        X = _impute(np.asarray(X, dtype=np.float64), self.medians_)
        m = len(self.reference_)
        out = np.empty(X.shape, dtype=np.float64)
        for j in range(X.shape[1]):
            ref, x = self.reference_[:, j], X[:, j]
            left = (np.searchsorted(ref, x, side="right") + 1.0) / (m + 1.0)
            right = (m - np.searchsorted(ref, x, side="left") + 1.0) / (m + 1.0)
            u_left, u_right = -np.log(left), -np.log(right)
            s = self.skew_sign_[j]
            u_skew = u_left * -np.sign(s - 1) + u_right * np.sign(s + 1)
            out[:, j] = np.maximum(np.maximum(u_left, u_right), u_skew)
        return out

    def _risk(self, X: np.ndarray) -> np.ndarray:
        return map_chunks(X, lambda part: self.dimension_scores(part).sum(axis=1))

    def _save_files(self, folder: Path) -> list[Path]:
        path = folder / "ecod.npz"
        np.savez(path, reference=self.reference_, skew_sign=self.skew_sign_)
        return [path]

    def _restore(self, state: dict[str, Any], folder: Path) -> None:
        super()._restore(state, folder)
        arrays = _load_npz(folder / "ecod.npz", ("reference", "skew_sign"))
        self.reference_ = arrays["reference"].astype(np.float64)
        self.skew_sign_ = arrays["skew_sign"].astype(np.float64)


class HBOSDetector(AnomalyDetector):
    """HBOS (Goldstein & Dengel, 2012): sum over features of -log2(histogram density + alpha).

    Histograms (``n_bins`` equal-width bins per feature) are fitted by PyOD's ``HBOS``;
    values outside the training range within ``tol`` bin widths get the edge bin's
    density, farther ones the lowest density, exactly as PyOD scores them.
    """

    name: ClassVar[str] = "hbos"
    _parameter_constraints: ClassVar[dict] = {
        "n_bins": [Interval(int, 2, 10_000)],
        "alpha": [Interval(float, 0, 1, closed="neither")],
        "tol": [Interval(float, 0, 1, closed="neither")],
    }

    def __init__(self, *, n_bins: int = 10, alpha: float = 0.1, tol: float = 0.5) -> None:
        self.n_bins = n_bins
        self.alpha = alpha
        self.tol = tol

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        from pyod.models.hbos import HBOS

        self.medians_ = _medians(X)
        model = HBOS(n_bins=self.n_bins, alpha=self.alpha, tol=self.tol).fit(
            _impute(X, self.medians_).astype(np.float64)
        )
        self.hist_ = np.asarray(model.hist_, dtype=np.float64)
        self.bin_edges_ = np.asarray(model.bin_edges_, dtype=np.float64)

    def dimension_scores(self, X: np.ndarray) -> np.ndarray:
        """Per-feature scores -log2(density + alpha) (n_rows x n_features); row sums = raw score."""
        X = _impute(np.asarray(X, dtype=np.float64), self.medians_)
        nb = self.hist_.shape[0]
        out = np.empty(X.shape, dtype=np.float64)
        for j in range(X.shape[1]):
            edges, x = self.bin_edges_[:, j], X[:, j]
            logd = np.log2(self.hist_[:, j] + self.alpha)
            idx = np.digitize(x, edges, right=True)
            score = logd[np.clip(idx - 1, 0, nb - 1)]
            below, above = idx == 0, idx == nb + 1
            if below.any():
                near = (edges[0] - x[below]) <= (edges[1] - edges[0]) * self.tol
                score[below] = np.where(near, logd[0], logd.min())
            if above.any():
                near = (x[above] - edges[-1]) <= (edges[-1] - edges[-2]) * self.tol
                score[above] = np.where(near, logd[nb - 1], logd.min())
            out[:, j] = -score
        return out

    def _risk(self, X: np.ndarray) -> np.ndarray:
        return map_chunks(X, lambda part: self.dimension_scores(part).sum(axis=1))

    def _save_files(self, folder: Path) -> list[Path]:
        path = folder / "hbos.npz"
        np.savez(path, hist=self.hist_, bin_edges=self.bin_edges_)
        return [path]

    def _restore(self, state: dict[str, Any], folder: Path) -> None:
        super()._restore(state, folder)
        arrays = _load_npz(folder / "hbos.npz", ("hist", "bin_edges"))
        self.hist_ = arrays["hist"].astype(np.float64)
        self.bin_edges_ = arrays["bin_edges"].astype(np.float64)


__all__ = ["AnomalyDetector", "ECODDetector", "HBOSDetector", "IsolationForestDetector"]
