"""Parameter constraints declared as data and checked in ``fit``.

Each estimator lists its constraints once, as a class attribute mapping parameter names
to allowed forms; :func:`validate_params` checks them and raises
:class:`~seclearn.errors.ParameterError` with a message in scikit-learn's style:

>>> from seclearn.features.constraints import Interval, validate_params
>>> validate_params("ThresholdPolicy", {"target_fpr": 0.9},
...                 {"target_fpr": [Interval(float, 0, 0.5, closed="right")]})
Traceback (most recent call last):
...
seclearn.errors.ParameterError: The 'target_fpr' parameter of ThresholdPolicy must be a float in (0, 0.5]. Got 0.9 instead.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from seclearn.errors import ParameterError

Closed = Literal["both", "left", "right", "neither"]


@dataclass(frozen=True)
class Interval:
    """A real or integral number between ``low`` and ``high`` (None = unbounded)."""

    kind: type  # int or float; a float interval also accepts ints
    low: float | None
    high: float | None
    closed: Closed = "both"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if self.kind is int and not isinstance(value, numbers.Integral):
            return False
        if not isinstance(value, numbers.Real) or value != value:  # NaN is never allowed
            return False
        value = float(value)
        left_ok = self.low is None or (
            value >= self.low if self.closed in ("both", "left") else value > self.low
        )
        right_ok = self.high is None or (
            value <= self.high if self.closed in ("both", "right") else value < self.high
        )
        return left_ok and right_ok

    def describe(self) -> str:
        name = "an int" if self.kind is int else "a float"
        if self.low is None and self.high is None:
            return name
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        return f"{name} in {left}{lo}, {hi}{right}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values (compared with ``==``)."""

    values: tuple[Any, ...]

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str | bool | int | float | type(None)) and value in self.values

    def describe(self) -> str:
        kinds = {type(v).__name__ for v in self.values}
        name = "a str" if kinds == {"str"} else "a value"
        return f"{name} among {{{', '.join(repr(v) for v in self.values)}}}"


@dataclass(frozen=True)
class InstanceOf:
    """An instance of one of ``types``; ``description`` names it in messages."""

    types: tuple[type, ...]
    description: str

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.types)

    def describe(self) -> str:
        return self.description


@dataclass(frozen=True)
class NoneOK:
    """The value None."""

    def accepts(self, value: Any) -> bool:
        return value is None

    def describe(self) -> str:
        return "None"


Constraint = Interval | Options | InstanceOf | NoneOK


def validate_params(
    owner: str, params: Mapping[str, Any], constraints: Mapping[str, Sequence[Constraint]]
) -> None:
    """Raise ParameterError for the first parameter of ``params`` that no constraint accepts."""
    for name, allowed in constraints.items():
        if name not in params:
            continue
        value = params[name]
        if any(c.accepts(value) for c in allowed):
            continue
        forms = [c.describe() for c in allowed]
        text = forms[0] if len(forms) == 1 else ", ".join(forms[:-1]) + " or " + forms[-1]
        raise ParameterError(
            f"The {name!r} parameter of {owner} must be {text}. Got {value!r} instead."
        )


__all__ = ["Constraint", "InstanceOf", "Interval", "NoneOK", "Options", "validate_params"]
