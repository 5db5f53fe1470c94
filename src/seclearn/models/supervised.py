"""Supervised detectors: LightGBM, random forest, logistic regression.

All three weight classes so that benign and malicious rows count equally in training
(attacks are usually rare); the pipeline's calibrator maps their raw scores back to
probabilities on the training prevalence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from seclearn.errors import ModelError
from seclearn.features import Interval, NoneOK, Options
from seclearn.models._skops import dump_skops, load_skops
from seclearn.models.base import Detector, Kind, map_chunks


def balanced_weights(y: np.ndarray) -> np.ndarray:
    """Per-row weights giving each class the same total weight (n / (2 * n_class))."""
    counts = np.bincount(y.astype(np.int64), minlength=2).astype(np.float64)
    return (len(y) / (2.0 * counts))[y.astype(np.int64)]


def _n_jobs(n_jobs: int | None) -> int:
    return 0 if n_jobs is None else int(n_jobs)


class LightGBMDetector(Detector):
    """Gradient-boosted trees (LightGBM); the raw score is the log-odds of malicious.

    Saved as LightGBM's own text model format. ``class_weight="balanced"`` weights the
    classes equally; ``None`` uses rows as they come.
    """

    name: ClassVar[str] = "lightgbm"
    kind: ClassVar[Kind] = "supervised"
    preferred_encoding: ClassVar[str] = "ordinal"
    prefers_log_counts: ClassVar[bool] = False
    _parameter_constraints: ClassVar[dict] = {
        "n_estimators": [Interval(int, 1, 100_000)],
        "learning_rate": [Interval(float, 0, 1, closed="right")],
        "num_leaves": [Interval(int, 2, 131_072)],
        "min_child_samples": [Interval(int, 1, None)],
        "subsample": [Interval(float, 0, 1, closed="right")],
        "colsample_bytree": [Interval(float, 0, 1, closed="right")],
        "reg_lambda": [Interval(float, 0, None)],
        "class_weight": [Options(("balanced",)), NoneOK()],
        "n_jobs": [Interval(int, -1, None), NoneOK()],
        "random_state": [Interval(int, 0, None)],
    }

    def __init__(
        self,
        *,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        class_weight: str | None = "balanced",
        n_jobs: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _booster_params(self) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1 else 0,
            "feature_fraction": self.colsample_bytree,
            "lambda_l2": self.reg_lambda,
            "seed": self.random_state,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": _n_jobs(self.n_jobs),
            "verbosity": -1,
        }

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        import lightgbm as lgb

        assert y is not None
        weight = balanced_weights(y) if self.class_weight == "balanced" else None
        data = lgb.Dataset(X, label=y, weight=weight, params={"verbosity": -1}, free_raw_data=True)
        self.booster_ = lgb.train(self._booster_params(), data, num_boost_round=self.n_estimators)

    def _risk(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.booster_.predict(X, raw_score=True), dtype=np.float64)

    def _save_files(self, folder: Path) -> list[Path]:
        path = folder / "model.txt"
        path.write_text(self.booster_.model_to_string())
        return [path]

    def _restore(self, state: dict[str, Any], folder: Path) -> None:
        import lightgbm as lgb

        path = folder / "model.txt"
        if not path.is_file():
            raise ModelError(
                f"Missing model file {path}. The model folder is incomplete; save it again."
            )
        self.booster_ = lgb.Booster(model_str=path.read_text())


class RandomForestDetector(Detector):
    """scikit-learn random forest; the raw score is the share of trees voting malicious."""

    name: ClassVar[str] = "random_forest"
    kind: ClassVar[Kind] = "supervised"
    preferred_encoding: ClassVar[str] = "ordinal"
    prefers_log_counts: ClassVar[bool] = False
    _parameter_constraints: ClassVar[dict] = {
        "n_estimators": [Interval(int, 1, 10_000)],
        "max_depth": [Interval(int, 1, None), NoneOK()],
        "min_samples_leaf": [Interval(int, 1, None)],
        "class_weight": [Options(("balanced", "balanced_subsample")), NoneOK()],
        "n_jobs": [Interval(int, -1, None), NoneOK()],
        "random_state": [Interval(int, 0, None)],
    }
    #: The only types a saved forest may ask skops to trust beyond its defaults.
    SKOPS_TRUSTED: ClassVar[tuple[str, ...]] = ("sklearn.tree._tree.Tree",)

    def __init__(
        self,
        *,
        n_estimators: int = 200,
        max_depth: int | None = None,
        min_samples_leaf: int = 1,
        class_weight: str | None = "balanced_subsample",
        n_jobs: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        from sklearn.ensemble import RandomForestClassifier

        self.model_ = RandomForestClassifier(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            class_weight=self.class_weight,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
        ).fit(X, y.astype(np.int64))  # type: ignore[union-attr]

    def _risk(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict_proba(X)[:, 1].astype(np.float64)

    def _save_files(self, folder: Path) -> list[Path]:
        return [dump_skops(self.model_, folder / "model.skops")]

    def _restore(self, state: dict[str, Any], folder: Path) -> None:
        from sklearn.ensemble import RandomForestClassifier

        self.model_ = load_skops(
            folder / "model.skops", trusted=self.SKOPS_TRUSTED, expected=RandomForestClassifier
        )


class LogisticRegressionDetector(Detector):
    """L2 logistic regression on standardised, median-imputed features; raw score = log-odds.

    The learned model is kept as plain arrays (``medians_``, ``mean_``, ``scale_``,
    ``coef_`` on the standardised scale, ``intercept_``) and saved as JSON.
    """

    name: ClassVar[str] = "logistic_regression"
    kind: ClassVar[Kind] = "supervised"
    _parameter_constraints: ClassVar[dict] = {
        "C": [Interval(float, 0, None, closed="neither")],
        "class_weight": [Options(("balanced",)), NoneOK()],
        "max_iter": [Interval(int, 1, None)],
        "random_state": [Interval(int, 0, None)],
    }

    def __init__(
        self,
        *,
        C: float = 1.0,
        class_weight: str | None = "balanced",
        max_iter: int = 2000,
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.random_state = random_state

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        from sklearn.linear_model import LogisticRegression

        med = np.nanmedian(X, axis=0) if len(X) else np.zeros(X.shape[1])
        self.medians_ = np.where(np.isnan(med), 0.0, med).astype(np.float64)
        Z = np.where(np.isnan(X), self.medians_, X).astype(np.float64)
        self.mean_ = Z.mean(axis=0)
        scale = Z.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        Z -= self.mean_
        Z /= self.scale_
        model = LogisticRegression(
            C=self.C,
            class_weight=self.class_weight,
            max_iter=self.max_iter,
            random_state=self.random_state,
        ).fit(Z, y.astype(np.int64))  # type: ignore[union-attr]
        self.coef_ = model.coef_.ravel().astype(np.float64)
        self.intercept_ = float(model.intercept_[0])

    def standardize(self, X: np.ndarray) -> np.ndarray:
        """Median-impute and standardise ``X`` as in training (float64 copy)."""
        return (np.where(np.isnan(X), self.medians_, X) - self.mean_) / self.scale_

    def _risk(self, X: np.ndarray) -> np.ndarray:
        w = self.coef_ / self.scale_
        b = self.intercept_ - float(np.dot(self.coef_, self.mean_ / self.scale_))
        return map_chunks(X, lambda part: np.where(np.isnan(part), self.medians_, part) @ w + b)

    def _state(self) -> dict[str, Any]:
        return {
            "medians": self.medians_.tolist(),
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_,
        }

    def _restore(self, state: dict[str, Any], folder: Path) -> None:
        for key in ("medians", "mean", "scale", "coef"):
            setattr(self, f"{key}_", np.asarray(state[key], dtype=np.float64))
        self.intercept_ = float(state["intercept"])


__all__ = [
    "LightGBMDetector",
    "LogisticRegressionDetector",
    "RandomForestDetector",
    "balanced_weights",
]
