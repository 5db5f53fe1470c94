"""What each output feature of a featurizer means, for explanations and attacker constraints."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

FeatureKind = Literal["numeric", "categorical", "derived", "context"]
Transform = Literal["identity", "log1p", "ordinal", "onehot"]


@dataclass(frozen=True)
class FeatureSpec:
    """Metadata of one column of a featurized matrix.

    ``min_seen``/``max_seen``/``integer``/``non_negative`` describe the values the model
    saw in training, in the *output* space (after ``log1p`` or encoding), ignoring
    missing values; ``None`` when a column was entirely missing. ``sources`` are the
    input columns the feature is computed from (one for plain columns, several for
    derived ones), so that a constraint on an input can be traced to every feature it
    moves. ``kind="context"`` marks time-window features computed from other flows
    (:mod:`seclearn.features.context`): an attacker moves them only through the timing,
    addresses and sizes of all of their flows, not by editing one record.
    """

    name: str
    source: str
    kind: FeatureKind
    transform: Transform
    sources: tuple[str, ...]
    min_seen: float | None
    max_seen: float | None
    integer: bool
    non_negative: bool
    category: str | None = None  # the category a one-hot column stands for

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["sources"] = list(self.sources)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        return cls(**{**data, "sources": tuple(data["sources"])})


__all__ = ["FeatureKind", "FeatureSpec", "Transform"]
