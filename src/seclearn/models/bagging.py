"""Bagging of any registered detector, with every member calibrated on rows it never saw.

The training rows are split into ``cv_folds`` folds (stratified by label). Member ``i``
holds out fold ``i mod cv_folds``: it is fitted on a bootstrap sample (``max_samples``
times the rows of the other folds, drawn with replacement within each class) and
calibrated on its held-out fold - a probability of malicious for a base that learns
from labels, the benign quantile for an anomaly base. The score is the mean of the
members' calibrated scores; a training row's out-of-fold score is the mean over the
members that held its fold out, so every row has one (``n_estimators >= cv_folds``).
In that out-of-fold score each member's calibration is cross-fitted (two halves of the
held-out fold calibrate each other), so no training row's label shapes its own score.

:func:`fit_fold_members` is the shared machinery; positive-unlabeled bagging
(:mod:`seclearn.models.pu`) draws its samples differently.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from seclearn.errors import ModelError, ParameterError
from seclearn.features import InstanceOf, Interval, validate_params
from seclearn.models._members import (
    Calibrator,
    calibrators_from_json,
    calibrators_to_json,
    fit_calibrator,
    load_members,
    make_member,
    save_members,
    split_in_two,
    stratified_folds,
)
from seclearn.models.base import Detector, Kind, as_labels, as_matrix

#: draw(rng, rows outside the held-out fold) -> indices of the member's training rows.
Draw = Callable[[np.random.Generator, np.ndarray], np.ndarray]
#: calibrate(member, held-out raw scores, held-out row indices) -> the member's calibrator.
Calibrate = Callable[[Detector, np.ndarray, np.ndarray], Calibrator]


def fit_fold_members(
    base: str | Detector,
    X: np.ndarray,
    y_train: np.ndarray,
    folds: np.ndarray,
    *,
    n_estimators: int,
    random_state: int,
    draw: Draw,
    calibrate: Calibrate,
) -> tuple[list[Detector], list[Calibrator], np.ndarray, np.ndarray]:
    """Fit ``n_estimators`` members, member ``i`` holding out fold ``i mod k``.

    ``y_train`` (0/1) are the labels the members train on. Returns the members, their
    calibrators, the fold each member held out, and the out-of-fold mean calibrated
    score of every row.
    """
    k = int(folds.max()) + 1
    rng = np.random.default_rng(random_state)
    members: list[Detector] = []
    calibrators: list[Calibrator] = []
    held_out = np.arange(n_estimators) % k
    total = np.zeros(len(X))
    count = np.zeros(len(X))
    for i in range(n_estimators):
        held = folds == held_out[i]
        rows = draw(rng, np.flatnonzero(~held))
        member = make_member(base, random_state + i).fit(X[rows], y_train[rows])
        held_rows = np.flatnonzero(held)
        raw = member.risk_score(X[held_rows])
        calibrator = calibrate(member, raw, held_rows)
        total[held_rows] += _cross_fitted(member, raw, held_rows, y_train, calibrate, rng)
        count[held_rows] += 1
        members.append(member)
        calibrators.append(calibrator)
    return members, calibrators, held_out, total / np.maximum(count, 1)


def _cross_fitted(
    member: Detector,
    raw: np.ndarray,
    rows: np.ndarray,
    y_train: np.ndarray,
    calibrate: Calibrate,
    rng: np.random.Generator,
) -> np.ndarray:
    """Out-of-fold calibrated scores of a member's held-out rows, cross-fitted in two halves.

    The member's calibrator is fitted on all its held-out rows; the out-of-fold score of
    a row in one half comes from a calibrator fitted on the other half, so that a row's
    own label never shapes the score it gets (isotonic steps can memorise a row). A half
    too small to calibrate on (one class only) falls back to the full calibrator.
    """
    halves = split_in_two(y_train[rows], rng)
    out = np.empty(len(raw))
    for side in (0, 1):
        mine = halves == side
        try:
            calibrator = calibrate(member, raw[~mine], rows[~mine])
        except ModelError:
            calibrator = calibrate(member, raw, rows)
        out[mine] = calibrator.transform(raw[mine])
    return out


class FoldMembers(Detector):
    """Scoring and persistence shared by detectors built with :func:`fit_fold_members`."""

    def _risk(self, X: np.ndarray) -> np.ndarray:
        total = np.zeros(len(X))
        for member, calibrator in zip(self.members_, self.calibrators_, strict=True):
            total += calibrator.transform(member.risk_score(X))
        return total / len(self.members_)

    def _state(self) -> dict[str, Any]:
        return {
            "n_members": len(self.members_),
            "calibrators": calibrators_to_json(self.calibrators_),
        }

    def _save_files(self, folder: Path) -> list[Path]:
        return save_members(self.members_, folder)

    def _restore(self, state: dict[str, Any], folder: Path) -> None:
        self.calibrators_ = calibrators_from_json(state["calibrators"])
        self.members_ = load_members(folder, int(state["n_members"]))


def stratified_bootstrap(y: np.ndarray, share: float) -> Draw:
    """A draw of ``share`` times the rows of each class of ``y``, with replacement (2 or more)."""

    def draw(rng: np.random.Generator, rows: np.ndarray) -> np.ndarray:
        parts = []
        for value in (0.0, 1.0):
            pool = rows[y[rows] == value]
            if len(pool):
                parts.append(rng.choice(pool, max(2, round(share * len(pool))), replace=True))
        return np.sort(np.concatenate(parts))

    return draw


class BaggingDetector(FoldMembers):
    """Bootstrap-aggregated copies of any registered detector (see the module docstring).

    ``base`` is a detector name or an unfitted instance; ``max_samples`` is the share
    of the out-of-fold rows each member draws (with replacement, per class). With an
    anomaly base, members train on the benign rows of their sample and are calibrated
    to the benign quantile; the ensemble still needs labeled rows of both classes.
    """

    name: ClassVar[str] = "bagging"
    kind: ClassVar[Kind] = "supervised"
    preferred_encoding: ClassVar[str] = "ordinal"
    prefers_log_counts: ClassVar[bool] = False
    _parameter_constraints: ClassVar[dict] = {
        "base": [InstanceOf((str, Detector), "a detector name or Detector instance")],
        "n_estimators": [Interval(int, 1, 1000)],
        "max_samples": [Interval(float, 0, 1, closed="right")],
        "cv_folds": [Interval(int, 2, 20)],
        "random_state": [Interval(int, 0, None)],
    }

    def __init__(
        self,
        *,
        base: str | Detector = "lightgbm",
        n_estimators: int = 10,
        max_samples: float = 1.0,
        cv_folds: int = 3,
        random_state: int = 0,
    ) -> None:
        self.base = base
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.cv_folds = cv_folds
        self.random_state = random_state

    def fit_oof(
        self, X: Any, y: Any = None, *, cv_folds: int = 3, random_state: int = 0, groups: Any = None
    ) -> np.ndarray:
        """Fit, and return every training row's mean score from the members that held it out."""
        validate_params(
            type(self).__name__, self.get_params(deep=False), self._parameter_constraints
        )
        X = as_matrix(X, where="BaggingDetector.fit_oof")
        y01 = self._binary_labels(as_labels(y, len(X), where="BaggingDetector.fit_oof"))
        oof = self._fit_bag(X, y01, cv_folds=cv_folds, random_state=random_state)
        self.n_features_in_ = X.shape[1]
        return oof

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        assert y is not None
        self._fit_bag(X, y, cv_folds=self.cv_folds, random_state=self.random_state)

    def _fit_bag(
        self, X: np.ndarray, y: np.ndarray, *, cv_folds: int, random_state: int
    ) -> np.ndarray:
        folds = stratified_folds(y, cv_folds, random_state, where="BaggingDetector")
        if self.n_estimators < folds.max() + 1:
            raise ParameterError(
                f"The 'n_estimators' parameter of BaggingDetector must be at least cv_folds "
                f"({int(folds.max()) + 1}) so that every row is held out by a member. "
                f"Got {self.n_estimators} instead."
            )
        self.members_, self.calibrators_, self.held_out_folds_, oof = fit_fold_members(
            self.base,
            X,
            y,
            folds,
            n_estimators=self.n_estimators,
            random_state=self.random_state,
            draw=stratified_bootstrap(y, self.max_samples),
            calibrate=lambda member, raw, rows: fit_calibrator(member, raw, y[rows]),
        )
        return oof

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "held_out_folds": self.held_out_folds_.tolist()}

    def _restore(self, state: dict[str, Any], folder: Path) -> None:
        super()._restore(state, folder)
        self.held_out_folds_ = np.asarray(state["held_out_folds"], dtype=np.int64)


__all__ = ["BaggingDetector", "FoldMembers", "fit_fold_members", "stratified_bootstrap"]
