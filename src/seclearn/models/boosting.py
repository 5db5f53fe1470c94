"""scikit-learn's histogram gradient boosting as a detector (LightGBM is ``lightgbm``).

Saved with skops. A fitted ``HistGradientBoostingClassifier`` holds, besides numpy
arrays and scikit-learn's default-trusted types, one type that skops does not trust by
default: ``TreePredictor`` (the fitted trees as a structured numpy array). That one
type is the whole trusted list; a file asking for anything else is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from seclearn.features import Interval, NoneOK, Options
from seclearn.models._skops import dump_skops, load_skops
from seclearn.models.base import Detector, Kind


class HistGradientBoostingDetector(Detector):
    """``sklearn.ensemble.HistGradientBoostingClassifier``; raw score = log-odds of malicious.

    Missing values are handled natively. Early stopping is off so that ``max_iter``
    trees are always built and seeded fits are identical; ``class_weight="balanced"``
    weights the classes equally, as the other supervised detectors do.
    """

    name: ClassVar[str] = "hist_gradient_boosting"
    kind: ClassVar[Kind] = "supervised"
    preferred_encoding: ClassVar[str] = "ordinal"
    prefers_log_counts: ClassVar[bool] = False
    _parameter_constraints: ClassVar[dict] = {
        "max_iter": [Interval(int, 1, 100_000)],
        "learning_rate": [Interval(float, 0, 1, closed="right")],
        "max_leaf_nodes": [Interval(int, 2, 131_072)],
        "min_samples_leaf": [Interval(int, 1, None)],
        "l2_regularization": [Interval(float, 0, None)],
        "class_weight": [Options(("balanced",)), NoneOK()],
        "random_state": [Interval(int, 0, None)],
    }
    #: The only type a saved model may ask skops to trust beyond its defaults.
    SKOPS_TRUSTED: ClassVar[tuple[str, ...]] = (
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    )

    def __init__(
        self,
        *,
        max_iter: int = 200,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 20,
        l2_regularization: float = 0.0,
        class_weight: str | None = "balanced",
        random_state: int = 0,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.class_weight = class_weight
        self.random_state = random_state

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        from sklearn.ensemble import HistGradientBoostingClassifier

        assert y is not None
        self.model_ = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            class_weight=self.class_weight,
            early_stopping=False,
            random_state=self.random_state,
        ).fit(X, y.astype(np.int64))

    def _risk(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.model_.decision_function(X), dtype=np.float64)

    def _save_files(self, folder: Path) -> list[Path]:
        return [dump_skops(self.model_, folder / "model.skops")]

    def _restore(self, state: dict[str, Any], folder: Path) -> None:
        from sklearn.ensemble import HistGradientBoostingClassifier

        self.model_ = load_skops(
            folder / "model.skops",
            trusted=self.SKOPS_TRUSTED,
            expected=HistGradientBoostingClassifier,
        )


__all__ = ["HistGradientBoostingDetector"]
