"""Positive-unlabeled learning: a few confirmed threats among unlabeled traffic.

:class:`PULearningDetector` is bagging PU learning (Mordelet & Vert, "A bagging SVM to
learn from positive and unlabeled examples", Pattern Recognition Letters 2014): each
member is a supervised model trained to tell the confirmed threats from a random
sample of unlabeled rows taken as benign. Unlabeled traffic is mostly benign, so each
sample is mostly right; the few hidden threats in it differ from sample to sample and
their effect averages out over members. Rows confirmed benign (label 0), when there are
any, are kept as benign in every member.

It was chosen over Elkan & Noto's estimator (one classifier of labeled vs unlabeled,
rescaled by the estimated labeling frequency ``c``) because the rescaling by a constant
does not change the ranking or the alerts at a threshold chosen on benign scores, while
bagging reduces the variance that a handful of positives causes.

Members hold out folds as in :mod:`seclearn.models.bagging`: member ``i`` trains on the
rows outside fold ``i mod cv_folds`` and is calibrated on the benign and unlabeled rows
of that fold, as the share of that background traffic scoring lower. The score is the
mean of those shares.

``prior_`` estimates the share of threats hidden among the unlabeled rows, by mixture
proportion estimation on out-of-fold scores (Blanchard, Lee & Scott, "Semi-supervised
novelty detection", JMLR 2010): when the confirmed threats are a random sample of all
threats, the unlabeled rows are a mix ``prior * threats + (1 - prior) * benign``, so
for every threshold ``t`` the share of unlabeled rows scoring at least ``t`` divided by
the share of held-out confirmed threats scoring at least ``t`` is at least ``prior``
(benign rows above ``t`` only add to it). The estimate is the smallest of those ratios
at the thresholds above which the top half and the top quarter of the confirmed
threats score (coarse on purpose: a minimum over many noisy ratios is biased low). It
errs high when benign rows score like threats (on overlapping synthetic classes with
a true prior of 0.15 or 0.3 it gave 0.19 and 0.39), and is noisy with a few dozen
confirmed threats: read it as a range, not a figure.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from seclearn.errors import ModelError
from seclearn.features import Interval
from seclearn.models._members import make_member, stratified_folds
from seclearn.models.bagging import FoldMembers, fit_fold_members
from seclearn.models.base import Detector
from seclearn.models.calibration import BenignQuantileCalibrator
from seclearn.models.semisupervised import (
    DETECTOR_SPEC,
    SemiSupervisedDetector,
    check_member_kind,
)


class PULearningDetector(SemiSupervisedDetector, FoldMembers):
    """Bagging PU learning over a supervised ``base`` (see the module docstring).

    Labels: 1 = confirmed threat, NaN = unlabeled, 0 = confirmed benign (optional).
    Each member draws ``background_ratio`` unlabeled rows per confirmed threat (without
    replacement, at most all of them). ``n_estimators`` should be a multiple of
    ``cv_folds`` so that folds are held out equally often.

    Learned: ``prior_`` (estimated share of threats among the unlabeled rows, 0.0 when
    there are none; see the module docstring) and ``n_background_``.
    """

    name: ClassVar[str] = "pu_learning"
    _parameter_constraints: ClassVar[dict] = {
        "base": [DETECTOR_SPEC],
        "n_estimators": [Interval(int, 1, 1000)],
        "background_ratio": [Interval(float, 0, None, closed="neither")],
        "cv_folds": [Interval(int, 2, 20)],
        "random_state": [Interval(int, 0, None)],
    }

    def __init__(
        self,
        *,
        base: str | Detector = "lightgbm",
        n_estimators: int = 9,
        background_ratio: float = 5.0,
        cv_folds: int = 3,
        random_state: int = 0,
    ) -> None:
        self.base = base
        self.n_estimators = n_estimators
        self.background_ratio = background_ratio
        self.cv_folds = cv_folds
        self.random_state = random_state

    def _fit_semi(
        self,
        X: np.ndarray,
        labels: np.ndarray,
        *,
        cv_folds: int,
        random_state: int,
        want_oof: bool,
    ) -> np.ndarray | None:
        owner = type(self).__name__
        positive = labels == 1
        background = ~positive
        if positive.sum() < 2 or background.sum() < 2:
            raise ModelError(
                f"{owner} needs both benign-or-unlabeled rows and malicious (1) rows, at least 2 "
                f"of each; got {int(positive.sum())} malicious and {int(background.sum())} benign "
                "or unlabeled. Label a few confirmed threats, or use an anomaly detector."
            )
        check_member_kind(make_member(self.base), ("supervised", "hybrid"), "base", owner)
        target = positive.astype(np.float64)
        folds = stratified_folds(target, cv_folds, random_state, where=owner)
        if self.n_estimators < folds.max() + 1:
            raise ModelError(
                f"{owner} holds out {int(folds.max()) + 1} folds and needs at least as many members; "
                f"got n_estimators={self.n_estimators}. Raise n_estimators or lower cv_folds."
            )
        unlabeled = np.isnan(labels)
        benign = labels == 0

        def draw(rng: np.random.Generator, rows: np.ndarray) -> np.ndarray:
            pool = rows[unlabeled[rows]]
            size = min(len(pool), max(1, round(self.background_ratio * positive[rows].sum())))
            sample = rng.choice(pool, size, replace=False) if len(pool) else pool
            return np.sort(np.concatenate([rows[positive[rows] | benign[rows]], sample]))

        def calibrate(
            member: Detector, raw: np.ndarray, rows: np.ndarray
        ) -> BenignQuantileCalibrator:
            return BenignQuantileCalibrator().fit(raw[background[rows]])

        self.members_, self.calibrators_, self.held_out_folds_, oof = fit_fold_members(
            self.base,
            X,
            target,
            folds,
            n_estimators=self.n_estimators,
            random_state=self.random_state,
            draw=draw,
            calibrate=calibrate,
        )
        self.n_background_ = int(background.sum())
        self.prior_ = estimate_prior(oof[positive], oof[unlabeled])
        return oof if want_oof else None

    def _state(self) -> dict[str, Any]:
        return {
            **super()._state(),
            "held_out_folds": self.held_out_folds_.tolist(),
            "n_background": self.n_background_,
            "prior": self.prior_,
        }

    def _restore(self, state: dict[str, Any], folder: Any) -> None:
        super()._restore(state, folder)
        self.held_out_folds_ = np.asarray(state["held_out_folds"], dtype=np.int64)
        self.n_background_ = int(state["n_background"])
        self.prior_ = float(state.get("prior", np.nan))  # nan: saved before it was estimated


#: Shares of the top-scoring confirmed threats at whose lowest score the prior is estimated.
PRIOR_TAILS = (0.5, 0.25)


def estimate_prior(positive_oof: np.ndarray, unlabeled_oof: np.ndarray) -> float:
    """Share of threats among unlabeled rows, from out-of-fold scores (module docstring).

    >>> rng = np.random.default_rng(0)
    >>> threats, benign = rng.normal(3, 1, 2000), rng.normal(0, 1, 8000)
    >>> prior = estimate_prior(threats[:200], np.r_[threats[200:], benign])  # truly 0.184
    >>> bool(0.15 < prior < 0.21)
    True
    """
    if len(unlabeled_oof) == 0 or len(positive_oof) == 0:
        return 0.0
    ranked = np.sort(positive_oof)[::-1]
    ratios = []
    for tail in PRIOR_TAILS:
        t = ranked[max(0, int(np.ceil(tail * len(ranked))) - 1)]
        ratios.append(np.mean(unlabeled_oof >= t) / np.mean(positive_oof >= t))
    return float(np.clip(min(ratios), 0.0, 1.0))


__all__ = ["PRIOR_TAILS", "PULearningDetector", "estimate_prior"]
