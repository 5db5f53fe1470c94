"""LightGBM with monotone constraints: a score that no allowed attacker move can lower."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from seclearn.errors import ModelError
from seclearn.models.supervised import LightGBMDetector


class MonotoneLightGBMDetector(LightGBMDetector):
    """LightGBM with per-feature ``monotone`` constraints (+1/-1/0) and ``drop``ped features.

    ``drop`` lists feature indices that are set to missing in ``fit`` and scoring, so the
    trees never split on them. Both are per output feature of the featurizer, so the
    constraints are derived from a fitted featurizer and a threat model
    (:func:`seclearn.adversarial.monotone_detector`, ``seclearn train --harden monotone``);
    with neither it is plain LightGBM. Saved like LightGBM, with its constraints in the
    detector's parameters.
    """

    name: ClassVar[str] = "lightgbm_monotone"

    def __init__(
        self,
        *,
        monotone: tuple[int, ...] = (),
        drop: tuple[int, ...] = (),
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
        super().__init__(
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            num_leaves=num_leaves,
            min_child_samples=min_child_samples,
            subsample=subsample,
            colsample_bytree=colsample_bytree,
            reg_lambda=reg_lambda,
            class_weight=class_weight,
            n_jobs=n_jobs,
            random_state=random_state,
        )
        self.monotone = monotone
        self.drop = drop

    def _mask(self, X: np.ndarray) -> np.ndarray:
        """Dropped features to missing; missing values of monotone features to the far end.

        A missing value goes down a tree's default branch, which monotone constraints do
        not order: a feature that is missing before the attack (a byte share of a flow
        without bytes) and present after it could lower the score. Missing is therefore
        placed below every value for +1 features and above every value for -1 features.
        """
        X = np.array(X, dtype=np.float32, copy=True)
        if self.drop:
            X[:, list(self.drop)] = np.nan
        for j, sign in enumerate(self.monotone):
            if sign:
                column = X[:, j]
                column[np.isnan(column)] = -sign * np.finfo(np.float32).max
        return X

    def _booster_params(self) -> dict[str, Any]:
        params = super()._booster_params()
        if any(self.monotone):
            params["monotone_constraints"] = list(self.monotone)
            params["monotone_constraints_method"] = "intermediate"
        return params

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        n = X.shape[1]
        if self.monotone and len(self.monotone) != n:
            raise ModelError(
                f"{type(self).__name__}: 'monotone' has {len(self.monotone)} entries but the "
                f"data has {n} features; derive the constraints from the featurizer that makes "
                "the data (seclearn.adversarial.monotone_detector)."
            )
        if any(not 0 <= j < n for j in self.drop) or any(
            s not in (-1, 0, 1) for s in self.monotone
        ):
            raise ModelError(
                f"{type(self).__name__}: 'drop' must hold feature indices in [0, {n}) and "
                "'monotone' only -1, 0 or 1."
            )
        super()._fit(self._mask(X), y)

    def _risk(self, X: np.ndarray) -> np.ndarray:
        return super()._risk(self._mask(X))


__all__ = ["MonotoneLightGBMDetector"]
