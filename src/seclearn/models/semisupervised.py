"""Semi-supervised detectors: they learn from a few labels plus unlabeled rows (label NaN).

* :class:`SelfTrainingDetector` - fits a supervised base on the labeled rows, gives
  confident unlabeled rows a pseudo-label, refits, and repeats.
* :class:`AnomalyAugmentedDetector` - anomaly detectors fitted on the rows not labeled
  malicious (benign and unlabeled: mostly benign traffic) turn every row into "how
  unusual is it", and those scores are appended as features for a supervised model
  trained on the labeled rows. The anomaly scores carry what the unlabeled rows say
  about normal traffic, which a handful of labels cannot.
* :class:`~seclearn.models.pu.PULearningDetector` (module ``pu``) - a few confirmed
  threats among unlabeled traffic.

Their ``kind`` is ``"semi_supervised"``: a :class:`DetectionPipeline` hands them every
training row, labeled or not. ``fit_oof`` returns a score for every row: labeled rows
get out-of-fold scores (for calibration and the threshold), unlabeled rows the final
model's score (which may have trained on them: they must not set a threshold).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold

from seclearn.errors import ModelError, ParameterError
from seclearn.features import InstanceOf, Interval, Options, validate_params
from seclearn.models._members import make_member, stratified_folds
from seclearn.models.base import Detector, Kind, as_labels, as_matrix
from seclearn.models.calibration import BenignQuantileCalibrator, ProbabilityCalibrator

DETECTOR_SPEC = InstanceOf((str, Detector), "a detector name or Detector instance")


def require_labeled_classes(labels: np.ndarray, where: str) -> None:
    """ModelError unless the labeled rows hold both classes."""
    benign, malicious = int(np.sum(labels == 0)), int(np.sum(labels == 1))
    if benign == 0 or malicious == 0:
        raise ModelError(
            f"{where} needs both benign (0) and malicious (1) labeled rows besides unlabeled (missing) "
            f"ones; got {benign} benign, {malicious} malicious and {int(np.isnan(labels).sum())} "
            "unlabeled. Label a few of each, use pu_learning when only threats are labeled, or an "
            "anomaly detector when nothing is."
        )


def check_member_kind(member: Detector, allowed: tuple[str, ...], param: str, owner: str) -> None:
    if member.kind not in allowed:
        raise ParameterError(
            f"The {param!r} parameter of {owner} must name a detector of kind "
            f"{' or '.join(allowed)}; {member.name!r} is {member.kind}."
        )


class SemiSupervisedDetector(Detector):
    """Shared entry points: labels may be missing; subclasses implement ``_fit_semi``."""

    kind: ClassVar[Kind] = "semi_supervised"
    preferred_encoding: ClassVar[str] = "ordinal"
    prefers_log_counts: ClassVar[bool] = False
    cv_folds: int
    random_state: int

    def fit(self, X: Any, y: Any = None) -> SemiSupervisedDetector:
        """Learn from ``X`` and labels ``y`` (1 malicious, 0 benign, NaN unlabeled); returns self."""
        X, labels = self._prepare(X, y, "fit")
        self._fit_semi(
            X, labels, cv_folds=self.cv_folds, random_state=self.random_state, want_oof=False
        )
        self.n_features_in_ = X.shape[1]
        return self

    def fit_oof(
        self, X: Any, y: Any = None, *, cv_folds: int = 3, random_state: int = 0, groups: Any = None
    ) -> np.ndarray:
        """Fit, and return out-of-fold scores of labeled rows and final scores of unlabeled ones."""
        X, labels = self._prepare(X, y, "fit_oof")
        oof = self._fit_semi(X, labels, cv_folds=cv_folds, random_state=random_state, want_oof=True)
        assert oof is not None
        self.n_features_in_ = X.shape[1]
        return oof

    def _prepare(self, X: Any, y: Any, method: str) -> tuple[np.ndarray, np.ndarray]:
        where = f"{type(self).__name__}.{method}"
        validate_params(
            type(self).__name__, self.get_params(deep=False), self._parameter_constraints
        )
        X = as_matrix(X, where=where)
        labels = as_labels(y, len(X), where=where)
        return X, np.full(len(X), np.nan) if labels is None else labels

    def _fit_semi(
        self,
        X: np.ndarray,
        labels: np.ndarray,
        *,
        cv_folds: int,
        random_state: int,
        want_oof: bool,
    ) -> np.ndarray | None:
        raise NotImplementedError


class SelfTrainingDetector(SemiSupervisedDetector):
    """Self-training: pseudo-label unlabeled rows whose calibrated probability is confident.

    Each round fits the supervised ``base`` on the labeled and pseudo-labeled rows and
    gives still-unlabeled rows with calibrated probability (Platt scaling: smooth, where
    isotonic steps give few labels probabilities of exactly 0 or 1) >= ``threshold`` the
    label 1, <= 1 - ``threshold`` the label 0 - the most confident first, at most
    ``max_new_share`` times the labeled rows of that class per round (at least one; ties
    in confidence broken at random, seeded, not by row order), so that the
    labeled set grows step by step from where the labels are instead of trusting the
    model's extrapolation far from them in one go. Pseudo-labels are kept once given. It
    stops after ``max_iter`` rounds or when no row is confident. ``pseudo_labels_``
    counts them.

    The confidence rule is chosen on training data only, and honestly: besides the
    final chain (all labeled rows) one chain runs per fold of the labeled rows, on the
    other folds and its own pseudo-labels. Each round, the Platt calibrator behind
    the rule is fitted on every labeled row's score from the chain that held its fold
    out - a chain that never saw the row, neither directly nor through a pseudo-label
    its own model made. Those scores are also the out-of-fold scores ``fit_oof`` returns
    for the labeled rows. Cost: ``cv_folds + 1`` fits per round.
    """

    name: ClassVar[str] = "self_training"
    _parameter_constraints: ClassVar[dict] = {
        "base": [DETECTOR_SPEC],
        "threshold": [Interval(float, 0.5, 1, closed="neither")],
        "max_iter": [Interval(int, 0, 100)],
        "max_new_share": [Interval(float, 0, None, closed="neither")],
        "cv_folds": [Interval(int, 2, 20)],
        "random_state": [Interval(int, 0, None)],
    }

    def __init__(
        self,
        *,
        base: str | Detector = "lightgbm",
        threshold: float = 0.95,
        max_iter: int = 5,
        max_new_share: float = 1.0,
        cv_folds: int = 3,
        random_state: int = 0,
    ) -> None:
        self.base = base
        self.threshold = threshold
        self.max_iter = max_iter
        self.max_new_share = max_new_share
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
        require_labeled_classes(labels, type(self).__name__)
        base = make_member(self.base, self.random_state)
        check_member_kind(base, ("supervised", "hybrid"), "base", type(self).__name__)
        labeled = np.flatnonzero(~np.isnan(labels))
        unlabeled = np.flatnonzero(np.isnan(labels))
        y_labeled = labels[labeled]
        folds = stratified_folds(y_labeled, cv_folds, random_state, where=type(self).__name__)
        k = int(folds.max()) + 1
        # chain c < k trains on the labeled rows outside fold c; chain k on all of them
        own = [folds != c for c in range(k)] + [np.ones(len(labeled), dtype=bool)]
        pseudo = np.full((k + 1, len(unlabeled)), np.nan)
        changed = np.ones(k + 1, dtype=bool)
        models: list[Detector] = [base] * (k + 1)
        raw_labeled = np.empty(len(labeled))
        rounds: list[dict[str, int]] = []
        # per class and round, at most max_new_share times that class's labeled rows (>= 1)
        cap = [max(1, int(self.max_new_share * np.sum(y_labeled == v))) for v in (0, 1)]
        rng = np.random.default_rng(self.random_state)  # breaks ties in confidence
        for step in range(self.max_iter + 1):
            for c in np.flatnonzero(changed).tolist():
                extra = ~np.isnan(pseudo[c])
                rows = np.concatenate([labeled[own[c]], unlabeled[extra]])
                targets = np.concatenate([y_labeled[own[c]], pseudo[c, extra]])
                models[c] = clone(base).fit(X[rows], targets)
            for c in range(k):
                raw_labeled[folds == c] = models[c].risk_score(X[labeled[folds == c]])
            if step == self.max_iter or len(unlabeled) == 0:
                break
            calibrator = ProbabilityCalibrator(method="sigmoid").fit(raw_labeled, y_labeled)
            for c in range(k + 1):
                open_ = np.flatnonzero(np.isnan(pseudo[c]))
                p = calibrator.transform(models[c].risk_score(X[unlabeled[open_]]))
                positive = self._most_confident(p, p >= self.threshold, cap[1], rng)
                negative = self._most_confident(1.0 - p, p <= 1.0 - self.threshold, cap[0], rng)
                pseudo[c, open_[positive]] = 1.0
                pseudo[c, open_[negative]] = 0.0
                changed[c] = bool((positive | negative).any())
                if c == k and changed[c]:
                    rounds.append({"malicious": int(positive.sum()), "benign": int(negative.sum())})
            if not changed.any():
                break
        self.base_ = models[k]
        self.pseudo_labels_ = {
            "malicious": int(np.sum(pseudo[k] == 1)),
            "benign": int(np.sum(pseudo[k] == 0)),
            "rounds": rounds,
        }
        if not want_oof:
            return None
        oof = np.empty(len(X))
        oof[labeled] = raw_labeled
        if len(unlabeled):
            oof[unlabeled] = self.base_.risk_score(X[unlabeled])
        return oof

    @staticmethod
    def _most_confident(
        confidence: np.ndarray, eligible: np.ndarray, cap: int, rng: np.random.Generator
    ) -> np.ndarray:
        """``eligible`` reduced to its ``cap`` rows of highest ``confidence``, ties at random.

        Tree models give hundreds of rows the same score; breaking those ties by row order
        would pseudo-label the first rows of the file (the earliest traffic, say) only.
        """
        rows = np.flatnonzero(eligible)
        if len(rows) > cap:
            rows = rows[np.lexsort((rng.random(len(rows)), -confidence[rows]))[:cap]]
        out = np.zeros(len(confidence), dtype=bool)
        out[rows] = True
        return out

    def _risk(self, X: np.ndarray) -> np.ndarray:
        return self.base_.risk_score(X)

    def _state(self) -> dict[str, Any]:
        return {"pseudo_labels": self.pseudo_labels_}

    def _save_files(self, folder: Path) -> list[Path]:
        return self.base_.save(folder / "base")

    def _restore(self, state: dict[str, Any], folder: Path) -> None:
        self.pseudo_labels_ = state["pseudo_labels"]
        self.base_ = Detector.load(folder / "base")


class AnomalyAugmentedDetector(SemiSupervisedDetector):
    """A supervised model on the features plus calibrated anomaly scores (see the module docstring).

    The ``anomaly`` detectors are fitted on ``anomaly_rows``: ``"not_malicious"``
    (benign and unlabeled rows, default) or ``"benign"`` (labeled benign rows only, for
    data where unlabeled rows hold many attacks). Each anomaly score enters as its
    benign quantile on those rows; training rows get out-of-fold anomaly scores, so the
    supervised model sees the same kind of values it will see on new traffic. The
    ``supervised`` model then trains on the labeled rows.
    """

    name: ClassVar[str] = "anomaly_features"
    _parameter_constraints: ClassVar[dict] = {
        "supervised": [DETECTOR_SPEC],
        "anomaly": [
            InstanceOf((tuple,), "a non-empty tuple of anomaly detector names or instances")
        ],
        "anomaly_rows": [Options(("not_malicious", "benign"))],
        "cv_folds": [Interval(int, 2, 20)],
        "random_state": [Interval(int, 0, None)],
    }

    def __init__(
        self,
        *,
        supervised: str | Detector = "lightgbm",
        anomaly: tuple = ("ecod",),
        anomaly_rows: str = "not_malicious",
        cv_folds: int = 3,
        random_state: int = 0,
    ) -> None:
        self.supervised = supervised
        self.anomaly = anomaly
        self.anomaly_rows = anomaly_rows
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
        require_labeled_classes(labels, owner)
        if len(self.anomaly) == 0 or not all(isinstance(a, str | Detector) for a in self.anomaly):
            raise ParameterError(
                f"The 'anomaly' parameter of {owner} must be a non-empty tuple of anomaly detector "
                f"names or instances. Got {self.anomaly!r} instead."
            )
        supervised = make_member(self.supervised, self.random_state)
        check_member_kind(supervised, ("supervised", "hybrid"), "supervised", owner)
        reference = labels == 0 if self.anomaly_rows == "benign" else labels != 1
        ref_rows = np.flatnonzero(reference)
        if len(ref_rows) < 2:
            raise ModelError(
                f"{owner} fits its anomaly detectors on {self.anomaly_rows} rows and needs at least 2; "
                f"got {len(ref_rows)}. Use anomaly_rows='not_malicious' or label more benign rows."
            )
        splitter = KFold(min(cv_folds, len(ref_rows)), shuffle=True, random_state=random_state)
        anomalies, calibrators, columns = [], [], []
        for i, spec in enumerate(self.anomaly):
            anomaly = make_member(spec, self.random_state + 1 + i)
            check_member_kind(anomaly, ("anomaly",), "anomaly", owner)
            raw = np.empty(len(X))
            for tr, va in splitter.split(ref_rows):
                part = clone(anomaly).fit(X[ref_rows[tr]])
                raw[ref_rows[va]] = part.risk_score(X[ref_rows[va]])
            anomaly.fit(X[ref_rows])
            if not reference.all():
                raw[~reference] = anomaly.risk_score(X[~reference])
            calibrators.append(BenignQuantileCalibrator().fit(raw[ref_rows]))
            anomalies.append(anomaly)
            columns.append(calibrators[-1].transform(raw))
        Xa = np.hstack([X, np.column_stack(columns).astype(X.dtype)])
        labeled = np.flatnonzero(~np.isnan(labels))
        y_labeled = labels[labeled]
        oof = np.empty(len(X)) if want_oof else None
        if oof is not None:
            folds = stratified_folds(y_labeled, cv_folds, random_state, where=owner)
            for k in range(int(folds.max()) + 1):
                held = folds == k
                part = clone(supervised).fit(Xa[labeled[~held]], y_labeled[~held])
                oof[labeled[held]] = part.risk_score(Xa[labeled[held]])
        self.supervised_ = supervised.fit(Xa[labeled], y_labeled)
        self.anomalies_, self.calibrators_ = anomalies, calibrators
        unlabeled = np.isnan(labels)
        if oof is not None and unlabeled.any():
            oof[unlabeled] = self.supervised_.risk_score(Xa[unlabeled])
        return oof

    def augment(self, X: Any) -> np.ndarray:
        """``X`` with one column per anomaly detector appended: its benign quantile."""
        X = self._check_input(X)
        return self._augment(X)

    def _augment(self, X: np.ndarray) -> np.ndarray:
        columns = [
            cal.transform(a.risk_score(X))
            for a, cal in zip(self.anomalies_, self.calibrators_, strict=True)
        ]
        return np.hstack([X, np.column_stack(columns).astype(X.dtype)])

    def _risk(self, X: np.ndarray) -> np.ndarray:
        return self.supervised_.risk_score(self._augment(X))

    def _state(self) -> dict[str, Any]:
        return {
            "n_anomaly": len(self.anomalies_),
            "calibrators": [c.to_dict() for c in self.calibrators_],
        }

    def _save_files(self, folder: Path) -> list[Path]:
        files = self.supervised_.save(folder / "supervised")
        for i, anomaly in enumerate(self.anomalies_):
            files += anomaly.save(folder / f"anomaly_{i}")
        return files

    def _restore(self, state: dict[str, Any], folder: Path) -> None:
        self.calibrators_ = [BenignQuantileCalibrator.from_dict(c) for c in state["calibrators"]]
        self.anomalies_ = [
            Detector.load(folder / f"anomaly_{i}") for i in range(state["n_anomaly"])
        ]
        self.supervised_ = Detector.load(folder / "supervised")


__all__ = [
    "AnomalyAugmentedDetector",
    "SelfTrainingDetector",
    "SemiSupervisedDetector",
    "require_labeled_classes",
]
