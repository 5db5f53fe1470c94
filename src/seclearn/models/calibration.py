"""Map raw detector scores to numbers in [0, 1] with a stated meaning.

* :class:`ProbabilityCalibrator` - for supervised models: a calibrated probability that
  the record is malicious, fitted on out-of-fold raw scores (isotonic or Platt).
* :class:`BenignQuantileCalibrator` - for anomaly models: the fraction of benign
  reference traffic that scores lower.

Both store their learned function as plain arrays (JSON) and apply it with
``np.interp`` or a closed-form sigmoid; no scikit-learn object is persisted.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from seclearn.errors import ModelError, NotFittedError
from seclearn.features import Interval, Options, validate_params


def _spread(values: np.ndarray) -> tuple[float, float]:
    """Median and a robust positive scale of ``values``."""
    center = float(np.median(values))
    q25, q75 = np.percentile(values, [25, 75])
    scale = float(q75 - q25) or float(np.std(values)) or 1.0
    return center, scale


class ProbabilityCalibrator(BaseEstimator):
    """Calibrated probability of malicious from raw supervised scores.

    ``method="isotonic"`` fits a monotone step function (scikit-learn's
    IsotonicRegression) and applies it by linear interpolation between its knots, the
    same function scikit-learn's ``predict`` computes. Isotonic steps give many records
    the same probability; ``tie_break`` blends in that much of a logistic of the raw
    score, so the output keeps the raw ranking (alerts stay ordered, ROC-AUC is kept)
    while moving no probability by more than ``tie_break``. ``method="sigmoid"`` fits
    Platt scaling, a logistic function of the standardised raw score.

    >>> import numpy as np
    >>> raw = np.r_[np.linspace(-3, 1, 200), np.linspace(-1, 3, 200)]
    >>> y = np.r_[np.zeros(200), np.ones(200)]
    >>> cal = ProbabilityCalibrator().fit(raw, y)
    >>> p = cal.transform(np.array([-3.0, 0.0, 3.0]))
    >>> bool(p[0] < 0.05 and 0.3 < p[1] < 0.7 and p[2] > 0.95)
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "method": [Options(("isotonic", "sigmoid"))],
        "tie_break": [Interval(float, 0, 0.01)],
    }

    def __init__(self, *, method: str = "isotonic", tie_break: float = 1e-3) -> None:
        self.method = method
        self.tie_break = tie_break

    def fit(self, raw: Any, y: Any) -> ProbabilityCalibrator:
        """Fit on out-of-fold raw scores ``raw`` and labels ``y`` (1 malicious, 0 benign)."""
        validate_params(type(self).__name__, self.get_params(), self._parameter_constraints)
        raw = np.asarray(raw, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        if raw.shape != y.shape or not np.isfinite(raw).all():
            raise ModelError(
                f"ProbabilityCalibrator needs one finite raw score per label; got {raw.shape} scores "
                f"({int((~np.isfinite(raw)).sum())} not finite) and {y.shape} labels."
            )
        if len(np.unique(y)) != 2:
            raise ModelError(
                "ProbabilityCalibrator needs benign (0) and malicious (1) scores to fit; got one class."
            )
        self.center_, self.scale_ = _spread(raw)
        z = (raw - self.center_) / self.scale_
        if self.method == "isotonic":
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
            self.knots_x_ = np.asarray(iso.X_thresholds_, dtype=np.float64)
            self.knots_y_ = np.asarray(iso.y_thresholds_, dtype=np.float64)
        else:
            lr = LogisticRegression(C=1e6, max_iter=1000).fit(z[:, None], y)
            self.slope_ = float(lr.coef_[0, 0])
            self.intercept_ = float(lr.intercept_[0])
        return self

    def transform(self, raw: Any) -> np.ndarray:
        """Calibrated probabilities (float64 in [0, 1]) for raw scores."""
        if not hasattr(self, "center_"):
            raise NotFittedError(
                "This ProbabilityCalibrator is not fitted yet. Call fit(raw, y) first."
            )
        raw = np.asarray(raw, dtype=np.float64)
        z = (raw - self.center_) / self.scale_
        if self.method == "sigmoid":
            return expit(self.slope_ * z + self.intercept_)
        p = np.interp(raw, self.knots_x_, self.knots_y_)
        if self.tie_break:
            p *= 1.0 - self.tie_break
            p += self.tie_break * expit(z)
        return p

    def to_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "type": "probability",
            "params": self.get_params(),
            "center": self.center_,
            "scale": self.scale_,
        }
        if self.method == "isotonic":
            state.update(knots_x=self.knots_x_.tolist(), knots_y=self.knots_y_.tolist())
        else:
            state.update(slope=self.slope_, intercept=self.intercept_)
        return state

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> ProbabilityCalibrator:
        self = cls(**state["params"])
        self.center_, self.scale_ = float(state["center"]), float(state["scale"])
        if self.method == "isotonic":
            self.knots_x_ = np.asarray(state["knots_x"], dtype=np.float64)
            self.knots_y_ = np.asarray(state["knots_y"], dtype=np.float64)
        else:
            self.slope_, self.intercept_ = float(state["slope"]), float(state["intercept"])
        return self


class BenignQuantileCalibrator(BaseEstimator):
    """The fraction of benign reference traffic whose raw score is lower than a record's.

    Fitted on raw scores of benign (or presumed-benign) reference rows that the model
    did not train on. Up to ``max_quantiles`` order statistics of the reference are
    kept; between them the fraction is interpolated linearly. Above the largest
    reference score the value keeps rising smoothly toward 1 (instead of jumping to 1)
    so that scores keep their order; below the smallest it is 0. A threshold of 0.99
    therefore flags about 1% of traffic like the reference.

    >>> import numpy as np
    >>> cal = BenignQuantileCalibrator().fit(np.arange(1000.0))
    >>> [round(float(v), 3) for v in cal.transform(np.array([-5.0, 500.0, 990.0]))]
    [0.0, 0.5, 0.99]
    """

    _parameter_constraints: ClassVar[dict] = {"max_quantiles": [Interval(int, 10, 1_000_000)]}

    def __init__(self, *, max_quantiles: int = 10_000) -> None:
        self.max_quantiles = max_quantiles

    def fit(self, benign_raw: Any, y: Any = None) -> BenignQuantileCalibrator:
        """Fit on raw scores of benign reference rows (``y`` is ignored)."""
        validate_params(type(self).__name__, self.get_params(), self._parameter_constraints)
        ref = np.sort(np.asarray(benign_raw, dtype=np.float64).ravel())
        ref = ref[np.isfinite(ref)]
        if ref.size == 0:
            raise ModelError(
                "BenignQuantileCalibrator needs at least one finite benign reference score; got none."
            )
        n = ref.size
        if n > self.max_quantiles:
            ref = ref[np.round(np.linspace(0, n - 1, self.max_quantiles)).astype(np.int64)]
        values, first = np.unique(ref, return_index=True)
        self.knots_x_ = values
        self.knots_y_ = first / ref.size  # share of the reference strictly below each value
        self.n_reference_ = int(n)
        self.tail_scale_ = float(np.std(ref)) or 1.0
        return self

    def transform(self, raw: Any) -> np.ndarray:
        """Benign quantile (float64 in [0, 1]) of each raw score."""
        if not hasattr(self, "knots_x_"):
            raise NotFittedError(
                "This BenignQuantileCalibrator is not fitted yet. Call fit(benign_raw) first."
            )
        raw = np.asarray(raw, dtype=np.float64)
        q = np.interp(raw, self.knots_x_, self.knots_y_, left=0.0)
        above = raw > self.knots_x_[-1]
        if above.any():
            top = self.knots_y_[-1]
            q[above] = 1.0 - (1.0 - top) * np.exp(
                -(raw[above] - self.knots_x_[-1]) / self.tail_scale_
            )
        return q

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "benign_quantile",
            "params": self.get_params(),
            "knots_x": self.knots_x_.tolist(),
            "knots_y": self.knots_y_.tolist(),
            "n_reference": self.n_reference_,
            "tail_scale": self.tail_scale_,
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> BenignQuantileCalibrator:
        self = cls(**state["params"])
        self.knots_x_ = np.asarray(state["knots_x"], dtype=np.float64)
        self.knots_y_ = np.asarray(state["knots_y"], dtype=np.float64)
        self.n_reference_ = int(state["n_reference"])
        self.tail_scale_ = float(state["tail_scale"])
        return self


class IdentityCalibrator(BaseEstimator):
    """Scores that are already in [0, 1] with a meaning, passed through (clipped)."""

    def fit(self, raw: Any, y: Any = None) -> IdentityCalibrator:
        self.fitted_ = True
        return self

    def transform(self, raw: Any) -> np.ndarray:
        return np.clip(np.asarray(raw, dtype=np.float64), 0.0, 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "identity", "params": {}}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> IdentityCalibrator:
        return cls().fit(None)


CALIBRATORS: dict[str, type] = {
    "benign_quantile": BenignQuantileCalibrator,
    "identity": IdentityCalibrator,
    "probability": ProbabilityCalibrator,
}


def calibrator_from_dict(
    state: dict[str, Any],
) -> ProbabilityCalibrator | BenignQuantileCalibrator | IdentityCalibrator:
    """Rebuild any calibrator from its ``to_dict`` output."""
    cls = CALIBRATORS.get(state.get("type", ""))
    if cls is None:
        raise ModelError(
            f"Unknown calibrator type {state.get('type')!r}; expected one of {sorted(CALIBRATORS)}."
        )
    return cls.from_dict(state)  # type: ignore[attr-defined]


__all__ = [
    "CALIBRATORS",
    "BenignQuantileCalibrator",
    "IdentityCalibrator",
    "ProbabilityCalibrator",
    "calibrator_from_dict",
]
