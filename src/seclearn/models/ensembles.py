"""Soft voting and stacking: several detectors combined on calibrated, held-out scores.

Both fit every member K times on K-1 folds to score the held-out fold (out-of-fold raw
scores), calibrate each member on its out-of-fold scores (a probability of malicious
for members that learn from labels, the benign quantile for anomaly members, see
:mod:`seclearn.models._members`), then fit the members on all rows. Raw scores are
never combined.

* :class:`SoftVotingDetector` - the mean, or a weighted mean, of the calibrated scores.
* :class:`StackingDetector` - a logistic-regression meta-learner over the logits of the
  calibrated out-of-fold scores; the meta-learner is kept as JSON coefficients.

What the combiner learns from is out-of-fold twice over: a row's member score comes
from a copy of the member fitted without the row's fold, and is calibrated by a
calibrator fitted on the other folds' out-of-fold scores (cross-fitted), so neither a
member nor its calibrator saw the row or its label. The calibrators kept for scoring
are fitted on all out-of-fold scores.

``fit_oof`` returns the combined score of every training row from those member scores
and a combiner fitted without the row's fold, so a pipeline does not refit the whole
ensemble K more times and its threshold rests on scores no part of the model trained on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from seclearn.errors import ParameterError
from seclearn.features import InstanceOf, Interval, NoneOK, Options, validate_params
from seclearn.models._members import (
    Calibrator,
    cross_fitted,
    fit_calibrator,
    logit,
    make_member,
    oof_raw,
    stratified_folds,
)
from seclearn.models.bagging import FoldMembers
from seclearn.models.base import Detector, Kind, as_labels, as_matrix

MEMBERS = InstanceOf((tuple,), "a non-empty tuple of detector names or Detector instances")


class _MemberEnsemble(FoldMembers):
    """Members fitted out-of-fold, calibrated, then combined by ``_learn``/``_apply``."""

    kind: ClassVar[Kind] = "hybrid"
    preferred_encoding: ClassVar[str] = "ordinal"
    prefers_log_counts: ClassVar[bool] = True
    members: tuple
    cv_folds: int
    random_state: int

    def _check_members(self) -> None:
        ok = len(self.members) > 0 and all(isinstance(m, str | Detector) for m in self.members)
        if not ok:
            raise ParameterError(
                f"The 'members' parameter of {type(self).__name__} must be a non-empty tuple of "
                f"detector names or Detector instances. Got {self.members!r} instead."
            )

    def fit_oof(
        self, X: Any, y: Any = None, *, cv_folds: int = 3, random_state: int = 0, groups: Any = None
    ) -> np.ndarray:
        """Fit, and return the combined score of every training row from out-of-fold members."""
        validate_params(
            type(self).__name__, self.get_params(deep=False), self._parameter_constraints
        )
        X = as_matrix(X, where=f"{type(self).__name__}.fit_oof")
        y01 = self._binary_labels(as_labels(y, len(X), where=f"{type(self).__name__}.fit_oof"))
        oof = self._fit_members(X, y01, cv_folds=cv_folds, random_state=random_state)
        self.n_features_in_ = X.shape[1]
        return oof

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        assert y is not None
        self._fit_members(X, y, cv_folds=self.cv_folds, random_state=self.random_state)

    def _fit_members(
        self, X: np.ndarray, y: np.ndarray, *, cv_folds: int, random_state: int
    ) -> np.ndarray:
        self._check_members()
        where = type(self).__name__
        folds = stratified_folds(y, cv_folds, random_state, where=where)
        members = [make_member(m, self.random_state + i) for i, m in enumerate(self.members)]
        calibrators: list[Calibrator] = []
        Z = np.empty((len(X), len(members)), dtype=np.float64)
        for j, member in enumerate(members):
            raw = oof_raw(member, X, y, folds)
            calibrators.append(fit_calibrator(member, raw, y))
            # the combiner's inputs: scored by a copy that never trained on the row,
            # calibrated by a calibrator that never saw the row's label
            Z[:, j] = cross_fitted(member, raw, y, folds)
        self._set_combiner(self._learn(Z, y))
        oof = np.empty(len(X), dtype=np.float64)
        for k in np.unique(folds):  # the combined score of fold k from a combiner fitted without it
            held = folds == k
            oof[held] = self._apply(Z[held], self._learn(Z[~held], y[~held]))
        self.calibrators_ = calibrators
        self.members_ = [member.fit(X, y) for member in members]
        return oof

    def member_scores(self, X: Any) -> np.ndarray:
        """Calibrated score of every member (n_rows x n_members, float64)."""
        return self._member_scores(self._check_input(X))

    def _member_scores(self, X: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [
                cal.transform(member.risk_score(X))
                for member, cal in zip(self.members_, self.calibrators_, strict=True)
            ]
        )

    def _risk(self, X: np.ndarray) -> np.ndarray:
        return self._apply(self._member_scores(X), self._combiner())

    # ------------------------------------------------------- combination
    def _learn(self, Z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The combiner's parameters learned from calibrated member scores ``Z``."""
        raise NotImplementedError

    def _apply(self, Z: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Combined score of calibrated member scores ``Z`` with combiner parameters ``w``."""
        raise NotImplementedError

    def _set_combiner(self, w: np.ndarray) -> None:
        raise NotImplementedError

    def _combiner(self) -> np.ndarray:
        raise NotImplementedError

    def _combiner_state(self) -> dict[str, Any]:
        return {}

    def _restore_combiner(self, state: dict[str, Any]) -> None:
        """Rebuild the combination's learned attributes from ``_combiner_state``."""

    # ------------------------------------------------------- persistence
    def _state(self) -> dict[str, Any]:
        return {**super()._state(), **self._combiner_state()}

    def _restore(self, state: dict[str, Any], folder: Path) -> None:
        super()._restore(state, folder)
        self._restore_combiner(state)


class SoftVotingDetector(_MemberEnsemble):
    """Mean (or weighted mean) of the members' calibrated scores; the score is in [0, 1].

    The default members are three supervised models of different families (gradient
    boosting, bagged trees, a linear model), so the mean is a mean of probabilities.
    With anomaly members the mean mixes probabilities and benign quantiles, which is
    still monotone in each member but no longer a probability: the pipeline calibrates
    the combined score again.
    """

    name: ClassVar[str] = "soft_voting"
    _parameter_constraints: ClassVar[dict] = {
        "members": [MEMBERS],
        "weights": [InstanceOf((tuple,), "a tuple of positive floats"), NoneOK()],
        "cv_folds": [Interval(int, 2, 20)],
        "random_state": [Interval(int, 0, None)],
    }

    def __init__(
        self,
        *,
        members: tuple = ("lightgbm", "random_forest", "logistic_regression"),
        weights: tuple | None = None,
        cv_folds: int = 3,
        random_state: int = 0,
    ) -> None:
        self.members = members
        self.weights = weights
        self.cv_folds = cv_folds
        self.random_state = random_state

    def _check_members(self) -> None:
        """Members as for every ensemble, and weights checked before any member is fitted."""
        super()._check_members()
        self._weights()

    def _weights(self) -> np.ndarray:
        if self.weights is None:
            return np.full(len(self.members), 1.0 / len(self.members))
        try:
            weights = np.asarray(self.weights, dtype=np.float64)
        except (TypeError, ValueError):
            weights = np.array([np.nan])
        if (
            weights.shape != (len(self.members),)
            or not (np.isfinite(weights) & (weights > 0)).all()
        ):
            raise ParameterError(
                f"The 'weights' parameter of SoftVotingDetector must be None or one positive "
                f"float per member ({len(self.members)}). Got {self.weights!r} instead."
            )
        return weights / weights.sum()

    def _learn(self, Z: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self._weights()

    def _apply(self, Z: np.ndarray, w: np.ndarray) -> np.ndarray:
        return Z @ w

    def _set_combiner(self, w: np.ndarray) -> None:
        self.weights_ = w

    def _combiner(self) -> np.ndarray:
        return self.weights_

    def _combiner_state(self) -> dict[str, Any]:
        return {"weights": self.weights_.tolist()}

    def _restore_combiner(self, state: dict[str, Any]) -> None:
        self.weights_ = np.asarray(state["weights"], dtype=np.float64)


class StackingDetector(_MemberEnsemble):
    """Logistic meta-learner over out-of-fold calibrated member scores; raw score = its log-odds.

    Each member's calibrated score ``s`` enters as ``logit(s)``; the meta-learner is an
    L2 logistic regression (``meta_C``) with balanced class weights, fitted on the
    out-of-fold scores of the training rows. ``meta_coef_`` shows how much each member
    counts. The default members pair a supervised model (known attacks) with an
    anomaly model (what looks unlike benign traffic).
    """

    name: ClassVar[str] = "stacking"
    _parameter_constraints: ClassVar[dict] = {
        "members": [MEMBERS],
        "meta": [Options(("logistic",))],
        "meta_C": [Interval(float, 0, None, closed="neither")],
        "cv_folds": [Interval(int, 2, 20)],
        "random_state": [Interval(int, 0, None)],
    }

    def __init__(
        self,
        *,
        members: tuple = ("lightgbm", "ecod"),
        meta: str = "logistic",
        meta_C: float = 1.0,
        cv_folds: int = 3,
        random_state: int = 0,
    ) -> None:
        self.members = members
        self.meta = meta
        self.meta_C = meta_C
        self.cv_folds = cv_folds
        self.random_state = random_state

    def _learn(self, Z: np.ndarray, y: np.ndarray) -> np.ndarray:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(
            C=self.meta_C, class_weight="balanced", max_iter=1000, random_state=self.random_state
        ).fit(logit(Z), y.astype(np.int64))
        return np.r_[model.coef_.ravel(), model.intercept_].astype(np.float64)

    def _apply(self, Z: np.ndarray, w: np.ndarray) -> np.ndarray:
        return logit(Z) @ w[:-1] + w[-1]

    def _set_combiner(self, w: np.ndarray) -> None:
        self.meta_coef_, self.meta_intercept_ = w[:-1].copy(), float(w[-1])

    def _combiner(self) -> np.ndarray:
        return np.r_[self.meta_coef_, self.meta_intercept_]

    def _combiner_state(self) -> dict[str, Any]:
        return {"meta_coef": self.meta_coef_.tolist(), "meta_intercept": self.meta_intercept_}

    def _restore_combiner(self, state: dict[str, Any]) -> None:
        self.meta_coef_ = np.asarray(state["meta_coef"], dtype=np.float64)
        self.meta_intercept_ = float(state["meta_intercept"])


__all__ = ["SoftVotingDetector", "StackingDetector"]
