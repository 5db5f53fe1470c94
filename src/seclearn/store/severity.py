"""Alert severity from the calibrated score, raised one band for critical assets.

Default bands on the calibrated score (the number in [0, 1] a pipeline emits):

========  ==================
band      calibrated score
========  ==================
low       below 0.5
medium    0.5 up to 0.8
high      0.8 up to 0.95
critical  0.95 and above
========  ==================

An entity whose asset criticality is ``"high"`` has its alerts raised one band
(``critical`` stays ``critical``); ``"normal"`` (the default for unlisted entities)
leaves them as they are.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

from seclearn.errors import ConfigError

#: Severity names, lowest first; an alert's rank is its index here.
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")

#: Asset-criticality values an entity may be mapped to.
CRITICALITIES: tuple[str, ...] = ("normal", "high")


@dataclass(frozen=True)
class SeverityBands:
    """Lower bounds of the medium, high and critical bands on the calibrated score."""

    medium: float = 0.5
    high: float = 0.8
    critical: float = 0.95

    def __post_init__(self) -> None:
        bounds = (self.medium, self.high, self.critical)
        if not all(isinstance(b, numbers.Real) and 0 < b <= 1 for b in bounds) or not (
            self.medium < self.high < self.critical
        ):
            raise ConfigError(
                "SeverityBands needs 0 < medium < high < critical <= 1, got "
                f"medium={self.medium!r}, high={self.high!r}, critical={self.critical!r}."
            )

    def band(self, score: float) -> str:
        """The band of a calibrated score, before any criticality bump."""
        if score >= self.critical:
            return "critical"
        if score >= self.high:
            return "high"
        if score >= self.medium:
            return "medium"
        return "low"


def check_criticality(mapping: Mapping[str, str] | None) -> dict[str, str]:
    """A validated copy of an entity -> criticality mapping."""
    result = dict(mapping or {})
    bad = {k: v for k, v in result.items() if v not in CRITICALITIES}
    if bad:
        entity, value = next(iter(bad.items()))
        raise ConfigError(
            f"The asset criticality of {entity!r} must be one of {', '.join(CRITICALITIES)}, "
            f"got {value!r}."
        )
    return result


def severity_for(
    score: float, *, criticality: str = "normal", bands: SeverityBands | None = None
) -> str:
    """The severity of an alert with calibrated ``score`` on an asset of ``criticality``.

    >>> severity_for(0.85), severity_for(0.85, criticality="high"), severity_for(0.99)
    ('high', 'critical', 'critical')
    """
    if isinstance(score, bool) or not (
        isinstance(score, numbers.Real) and math.isfinite(score) and 0 <= score <= 1
    ):
        raise ConfigError(f"A calibrated score must be a number in [0, 1], got {score!r}.")
    if criticality not in CRITICALITIES:
        raise ConfigError(
            f"criticality must be one of {', '.join(CRITICALITIES)}, got {criticality!r}."
        )
    rank = SEVERITIES.index((bands or SeverityBands()).band(float(score)))
    if criticality == "high":
        rank = min(rank + 1, len(SEVERITIES) - 1)
    return SEVERITIES[rank]
