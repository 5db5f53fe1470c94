"""Threshold policies: how a calibrated score becomes an alert decision.

A policy is fitted on calibrated scores of *benign training traffic* (out-of-fold),
never on test data. A record alerts when its score is strictly above ``threshold_``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from seclearn.errors import ModelError, NotFittedError, ParameterError
from seclearn.features import Interval, NoneOK, Options, validate_params


class ThresholdPolicy(BaseEstimator):
    """Choose the alert threshold on calibrated scores.

    ``kind``:

    * ``"target_fpr"`` (default): the threshold leaves at most ``target_fpr`` of the
      benign reference scores above it (1% by default).
    * ``"alert_budget"``: at most ``alerts_per_day`` alerts out of ``events_per_day``
      events, assuming production traffic is overwhelmingly benign: the same rule with
      a rate of ``alerts_per_day / events_per_day``.
    * ``"fixed"``: alert when the calibrated score is above ``probability``.

    >>> import numpy as np
    >>> policy = ThresholdPolicy(target_fpr=0.05).fit(np.linspace(0, 1, 1001))
    >>> round(policy.threshold_, 3), float(policy.decide(np.linspace(0, 1, 1001)).mean()) <= 0.05
    (0.95, True)
    """

    _parameter_constraints: ClassVar[dict] = {
        "kind": [Options(("target_fpr", "alert_budget", "fixed"))],
        "target_fpr": [Interval(float, 0, 0.5, closed="right")],
        "alerts_per_day": [Interval(float, 0, None, closed="neither"), NoneOK()],
        "events_per_day": [Interval(float, 0, None, closed="neither"), NoneOK()],
        "probability": [Interval(float, 0, 1), NoneOK()],
    }

    def __init__(
        self,
        *,
        kind: str = "target_fpr",
        target_fpr: float = 0.01,
        alerts_per_day: float | None = None,
        events_per_day: float | None = None,
        probability: float | None = None,
    ) -> None:
        self.kind = kind
        self.target_fpr = target_fpr
        self.alerts_per_day = alerts_per_day
        self.events_per_day = events_per_day
        self.probability = probability

    def _validate(self) -> None:
        owner = type(self).__name__
        validate_params(owner, self.get_params(), self._parameter_constraints)
        if self.kind == "alert_budget":
            if self.alerts_per_day is None or self.events_per_day is None:
                raise ParameterError(
                    f"{owner}(kind='alert_budget') needs both 'alerts_per_day' and 'events_per_day'; got "
                    f"alerts_per_day={self.alerts_per_day!r}, events_per_day={self.events_per_day!r}."
                )
            if self.alerts_per_day > self.events_per_day:
                raise ParameterError(
                    f"The 'alerts_per_day' parameter of {owner} must not exceed 'events_per_day' "
                    f"({self.events_per_day!r}). Got {self.alerts_per_day!r} instead."
                )
        if self.kind == "fixed" and self.probability is None:
            raise ParameterError(
                f"{owner}(kind='fixed') needs 'probability', a float in [0, 1]. Got None instead."
            )

    @property
    def alert_rate(self) -> float | None:
        """Share of benign traffic allowed to alert, or None for a fixed threshold."""
        if self.kind == "target_fpr":
            return float(self.target_fpr)
        if self.kind == "alert_budget":
            return float(self.alerts_per_day) / float(self.events_per_day)  # type: ignore[arg-type]
        return None

    def fit(self, benign_scores: Any = None, y: Any = None) -> ThresholdPolicy:
        """Choose ``threshold_`` from calibrated scores of benign reference rows."""
        self._validate()
        if self.kind == "fixed":
            self.threshold_ = float(self.probability)  # type: ignore[arg-type]
            self.n_reference_ = 0
            return self
        scores = (
            np.asarray(benign_scores, dtype=np.float64).ravel()
            if benign_scores is not None
            else np.empty(0)
        )
        scores = scores[np.isfinite(scores)]
        if scores.size == 0:
            raise ModelError(
                f"ThresholdPolicy(kind={self.kind!r}) needs calibrated scores of benign rows to fit; got none."
            )
        rate = self.alert_rate
        assert rate is not None
        self.threshold_ = float(np.quantile(scores, 1.0 - rate, method="higher"))
        self.n_reference_ = int(scores.size)
        return self

    def decide(self, scores: Any) -> np.ndarray:
        """True where a calibrated score is above the threshold (an alert)."""
        if not hasattr(self, "threshold_"):
            raise NotFittedError(
                "This ThresholdPolicy is not fitted yet. Call fit(benign_scores) first."
            )
        return np.asarray(scores) > self.threshold_

    def describe(self) -> dict[str, Any]:
        """The operating point as plain data: policy, its parameters and the threshold."""
        out: dict[str, Any] = {"policy": self.kind}
        if self.kind == "target_fpr":
            out["target_fpr"] = float(self.target_fpr)
        elif self.kind == "alert_budget":
            out["alerts_per_day"] = float(self.alerts_per_day)  # type: ignore[arg-type]
            out["events_per_day"] = float(self.events_per_day)  # type: ignore[arg-type]
        else:
            out["probability"] = float(self.probability)  # type: ignore[arg-type]
        if hasattr(self, "threshold_"):
            out["threshold"] = self.threshold_
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.get_params(),
            "threshold": getattr(self, "threshold_", None),
            "n_reference": getattr(self, "n_reference_", None),
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> ThresholdPolicy:
        self = cls(**state["params"])
        if state.get("threshold") is not None:
            self.threshold_ = float(state["threshold"])
            self.n_reference_ = int(state.get("n_reference") or 0)
        return self


__all__ = ["ThresholdPolicy"]
