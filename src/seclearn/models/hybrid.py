"""HybridDetector: a supervised and an anomaly detector combined on calibrated scores.

The supervised part knows the attacks in the training data; the anomaly part, trained
on benign rows only, flags what looks unlike benign traffic, including attacks that no
training label described. Raw scores are never combined:

1. out-of-fold (K-fold) raw scores of both parts are computed on the training data;
2. the supervised raw score becomes a calibrated probability ``p``
   (:class:`ProbabilityCalibrator`) and the anomaly raw score a benign quantile ``q``
   (:class:`BenignQuantileCalibrator` on held-out benign rows);
3. a rule combines them (``combine``):

   * ``"union"`` (default): both are put on the benign-tail scale, ``t_s`` = share of
     benign rows with a higher ``p``, ``t_a = 1 - q``, and the score is
     ``1 - min(t_s / (1 - w), t_a / w)``. A threshold at benign share ``a`` then alerts
     when the supervised part alone would at budget ``a (1 - w)`` or the anomaly part at
     ``a w``: the benign false-positive budget is split, weight ``w`` to the anomaly part.
   * ``"max"``: ``max(p, q)``;  ``"noisy_or"``: ``1 - (1 - p)(1 - q)``.

The default anomaly part is ECOD: values far outside the benign range (a new family's
hallmark) get the largest per-feature tail scores, whereas an isolation forest scores
them like the most extreme benign rows (its cuts are drawn within the training range);
on leave-one-attack-family-out validation inside KDDTrain+_20Percent both did equally.

``anomaly_weight="auto"`` chooses ``w`` by leave-one-attack-family-out validation on
the training data only (see :func:`choose_anomaly_weight`); with fewer than two attack
families in the training data it falls back to 0.5.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

from seclearn.errors import ModelError
from seclearn.features import InstanceOf, Interval, Options
from seclearn.models.base import Detector, Kind, as_labels, as_matrix
from seclearn.models.calibration import BenignQuantileCalibrator, ProbabilityCalibrator

#: Anomaly weights tried by ``anomaly_weight="auto"``.
WEIGHT_GRID = (0.1, 0.2, 0.35, 0.5, 0.65, 0.8)
#: Weight used when the training data has too few attack families to choose one.
DEFAULT_WEIGHT = 0.5
#: Target benign false-positive rate at which weights are compared.
SELECTION_FPR = 0.01


def union_score(tail_s: np.ndarray, tail_a: np.ndarray, weight: float) -> np.ndarray:
    """``1 - min(tail_s / (1 - w), tail_a / w)`` clipped to [0, 1] (tails: benign share above)."""
    with np.errstate(divide="ignore"):
        s = tail_s / (1.0 - weight) if weight < 1 else np.full_like(tail_s, np.inf)
        a = tail_a / weight if weight > 0 else np.full_like(tail_a, np.inf)
    return np.clip(1.0 - np.minimum(s, a), 0.0, 1.0)


def _detection_at_fpr(benign: np.ndarray, attacks: np.ndarray, fpr: float) -> float:
    if attacks.size == 0:
        return float("nan")
    threshold = np.quantile(benign, 1.0 - fpr, method="higher")
    return float(np.mean(attacks > threshold))


def choose_anomaly_weight(
    supervised: Detector,
    anomaly: Detector,
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    random_state: int = 0,
    max_families: int = 6,
    min_family_rows: int = 20,
) -> dict[str, Any]:
    """Leave-one-attack-family-out choice of the union weight, on training data only.

    Benign rows and the attacks of the other families are split in halves A and B.
    For each of the ``max_families`` largest families (with ``min_family_rows`` rows
    or more), the supervised part is trained on half A without that family; the anomaly
    part on benign half A. On half B the benign rows give the tail calibrators and the
    1%-FPR threshold; the score of a weight is the mean of its detection rate on the
    held-out family (an attack never seen) and on the other families' half-B attacks
    (attacks seen). The weight with the best mean over families wins; ties go to the
    weight closest to DEFAULT_WEIGHT (an even split). Returns the weight and the per-weight results.
    """
    rng = np.random.default_rng(random_state)
    attack_groups = groups[y == 1].astype(str)
    names, counts = np.unique(attack_groups, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    families = [str(names[i]) for i in order if counts[i] >= min_family_rows][:max_families]
    if len(families) < 2:
        return {
            "weight": DEFAULT_WEIGHT,
            "reason": f"fewer than two attack families with {min_family_rows}+ rows",
            "families": families,
        }
    half = rng.random(len(y)) < 0.5
    benign_a, benign_b = (y == 0) & half, (y == 0) & ~half
    anomaly_part = clone(anomaly).fit(X[benign_a])
    a_raw = anomaly_part.risk_score(X)
    ano_tail = BenignQuantileCalibrator().fit(a_raw[benign_b])
    t_a = 1.0 - ano_tail.transform(a_raw)
    gains = np.zeros(len(WEIGHT_GRID))
    per_family: dict[str, list[float]] = {}
    text_groups = groups.astype(str)
    for family in families:
        held = (y == 1) & (text_groups == family)
        known = (y == 1) & ~held
        train = benign_a | (known & half)
        part = clone(supervised).fit(X[train], y[train])
        s_raw = part.risk_score(X)
        sup_tail = BenignQuantileCalibrator().fit(s_raw[benign_b])
        t_s = 1.0 - sup_tail.transform(s_raw)
        results = []
        for k, w in enumerate(WEIGHT_GRID):
            score = union_score(t_s, t_a, w)
            novel = _detection_at_fpr(score[benign_b], score[held], SELECTION_FPR)
            seen = _detection_at_fpr(score[benign_b], score[known & ~half], SELECTION_FPR)
            gain = np.nanmean([novel, seen])
            gains[k] += gain
            results.append(round(float(gain), 4))
        per_family[family] = results
    mean = np.round(gains / len(families), 6)
    tied = np.flatnonzero(mean == mean.max())
    best = int(tied[np.argmin(np.abs(np.asarray(WEIGHT_GRID)[tied] - DEFAULT_WEIGHT))])
    return {
        "weight": WEIGHT_GRID[best],
        "grid": list(WEIGHT_GRID),
        "mean_gain": [round(float(g / len(families)), 4) for g in gains],
        "per_family": per_family,
        "fpr": SELECTION_FPR,
    }


class HybridDetector(Detector):
    """Supervised + anomaly detector combined on calibrated scores (see the module docstring).

    ``supervised`` and ``anomaly`` are detector names or unfitted detector instances.
    The raw score is already in [0, 1]; for ``combine="union"`` it approximates the
    benign quantile.
    """

    name: ClassVar[str] = "hybrid"
    kind: ClassVar[Kind] = "hybrid"
    preferred_encoding: ClassVar[str] = "ordinal"
    prefers_log_counts: ClassVar[bool] = True
    _parameter_constraints: ClassVar[dict] = {
        "supervised": [InstanceOf((str, Detector), "a detector name or Detector instance")],
        "anomaly": [InstanceOf((str, Detector), "a detector name or Detector instance")],
        "combine": [Options(("union", "max", "noisy_or"))],
        "anomaly_weight": [Options(("auto",)), Interval(float, 0, 1, closed="neither")],
        "cv_folds": [Interval(int, 2, 20)],
        "random_state": [Interval(int, 0, None)],
    }

    def __init__(
        self,
        *,
        supervised: str | Detector = "lightgbm",
        anomaly: str | Detector = "ecod",
        combine: str = "union",
        anomaly_weight: str | float = "auto",
        cv_folds: int = 3,
        random_state: int = 0,
    ) -> None:
        self.supervised = supervised
        self.anomaly = anomaly
        self.combine = combine
        self.anomaly_weight = anomaly_weight
        self.cv_folds = cv_folds
        self.random_state = random_state

    def _part(self, which: str) -> Detector:
        from seclearn.models.registry import make_detector

        spec = getattr(self, which)
        part = make_detector(spec) if isinstance(spec, str) else clone(spec)
        if isinstance(spec, str) and "random_state" in part.get_params():
            part.set_params(random_state=self.random_state)
        if part.kind != which:
            raise ModelError(
                f"HybridDetector's {which!r} part must be a {which} detector; "
                f"{part.name!r} is {part.kind}."
            )
        return part

    def fit(self, X: Any, y: Any = None, groups: Any = None) -> HybridDetector:
        """Fit both parts, their calibrators and the combination; ``groups`` = attack family per row."""
        self._fit_all(X, y, groups, cv_folds=self.cv_folds, random_state=self.random_state)
        return self

    def fit_oof(
        self, X: Any, y: Any = None, *, cv_folds: int = 3, random_state: int = 0, groups: Any = None
    ) -> np.ndarray:
        """Fit, and return the combined score of every training row from out-of-fold parts."""
        self._fit_all(X, y, groups, cv_folds=cv_folds, random_state=random_state)
        return self.oof_scores_.copy()

    def _fit_all(self, X: Any, y: Any, groups: Any, *, cv_folds: int, random_state: int) -> None:
        from seclearn.features import validate_params

        validate_params(
            type(self).__name__, self.get_params(deep=False), self._parameter_constraints
        )
        X = as_matrix(X, where="HybridDetector.fit")
        y = self._binary_labels(as_labels(y, len(X), where="HybridDetector.fit"))
        supervised, anomaly = self._part("supervised"), self._part("anomaly")
        folds = min(cv_folds, int(np.bincount(y.astype(np.int64)).min()))
        if folds < 2:
            raise ModelError(
                "HybridDetector needs at least 2 rows of each class for out-of-fold calibration."
            )
        s_oof = np.empty(len(X))
        a_oof = np.empty(len(X))
        for tr, va in StratifiedKFold(folds, shuffle=True, random_state=random_state).split(X, y):
            s_oof[va] = clone(supervised).fit(X[tr], y[tr]).risk_score(X[va])
            a_oof[va] = clone(anomaly).fit(X[tr[y[tr] == 0]]).risk_score(X[va])
        benign = y == 0
        self.probability_ = ProbabilityCalibrator().fit(s_oof, y)
        p_oof = self.probability_.transform(s_oof)
        self.supervised_tail_ = BenignQuantileCalibrator().fit(p_oof[benign])
        self.anomaly_quantile_ = BenignQuantileCalibrator().fit(a_oof[benign])
        if self.combine == "union" and self.anomaly_weight == "auto":
            g = np.asarray(groups, dtype=object) if groups is not None else None
            if g is None or g.shape != (len(X),):
                self.selection_: dict[str, Any] = {
                    "weight": DEFAULT_WEIGHT,
                    "reason": "no attack families given",
                }
            else:
                self.selection_ = choose_anomaly_weight(
                    supervised, anomaly, X, y, g, random_state=random_state
                )
            self.weight_ = float(self.selection_["weight"])
        else:
            self.weight_ = (
                DEFAULT_WEIGHT if self.anomaly_weight == "auto" else float(self.anomaly_weight)
            )
            self.selection_ = {"weight": self.weight_, "reason": "given"}
        self.supervised_ = supervised.fit(X, y)
        self.anomaly_ = anomaly.fit(X[benign])
        self.oof_scores_ = self._combine(p_oof, self.anomaly_quantile_.transform(a_oof))
        self.n_features_in_ = X.shape[1]

    def part_scores(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated supervised probability and anomaly benign quantile per row."""
        X = self._check_input(X)
        p = self.probability_.transform(self.supervised_.risk_score(X))
        q = self.anomaly_quantile_.transform(self.anomaly_.risk_score(X))
        return p, q

    def _combine(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        if self.combine == "max":
            return np.maximum(p, q)
        if self.combine == "noisy_or":
            return 1.0 - (1.0 - p) * (1.0 - q)
        return union_score(1.0 - self.supervised_tail_.transform(p), 1.0 - q, self.weight_)

    def supervised_drives(self, X: Any) -> np.ndarray:
        """True for rows whose combined score comes from the supervised part."""
        p, q = self.part_scores(X)
        if self.combine != "union":
            return p >= q
        t_s = (1.0 - self.supervised_tail_.transform(p)) / (1.0 - self.weight_)
        return t_s <= (1.0 - q) / self.weight_

    def _risk(self, X: np.ndarray) -> np.ndarray:
        p = self.probability_.transform(self.supervised_.risk_score(X))
        q = self.anomaly_quantile_.transform(self.anomaly_.risk_score(X))
        return self._combine(p, q)

    def _state(self) -> dict[str, Any]:
        return {
            "weight": self.weight_,
            "selection": self.selection_,
            "probability": self.probability_.to_dict(),
            "supervised_tail": self.supervised_tail_.to_dict(),
            "anomaly_quantile": self.anomaly_quantile_.to_dict(),
        }

    def _save_files(self, folder: Path) -> list[Path]:
        return [
            *self.supervised_.save(folder / "supervised"),
            *self.anomaly_.save(folder / "anomaly"),
        ]

    def _restore(self, state: dict[str, Any], folder: Path) -> None:
        self.weight_ = float(state["weight"])
        self.selection_ = state.get("selection", {})
        self.probability_ = ProbabilityCalibrator.from_dict(state["probability"])
        self.supervised_tail_ = BenignQuantileCalibrator.from_dict(state["supervised_tail"])
        self.anomaly_quantile_ = BenignQuantileCalibrator.from_dict(state["anomaly_quantile"])
        self.supervised_ = Detector.load(folder / "supervised")
        self.anomaly_ = Detector.load(folder / "anomaly")


__all__ = [
    "DEFAULT_WEIGHT",
    "WEIGHT_GRID",
    "HybridDetector",
    "choose_anomaly_weight",
    "union_score",
]
