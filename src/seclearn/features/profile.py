"""The training reference profile of a featurized matrix, for drift monitoring.

A :class:`ReferenceProfile` is a compact summary of what a model saw in training:
per output feature the missing fraction, the cells of its distribution (quantile bins
for numeric features, the values seen for categorical and discrete ones) with their
proportions, and for numeric features a few hundred quantiles for a KS test; plus the
histogram and quantiles of the out-of-fold calibrated scores and the reference alert
rate. It is JSON-ready (a few kB per feature) and is saved in ``pipeline.json``.

>>> import numpy as np
>>> from seclearn.features import FeatureSpec
>>> rng = np.random.default_rng(0)
>>> X = np.column_stack([rng.lognormal(5, 1, 2000), rng.integers(2, 5, 2000)]).astype("float32")
>>> specs = [FeatureSpec("bytes", "bytes", "numeric", "identity", ("bytes",), 0, 1e5, False, True),
...          FeatureSpec("proto", "proto", "categorical", "ordinal", ("proto",), 2, 4, True, True)]
>>> profile = build_profile(X, specs, scores=rng.random(2000), threshold=0.9)
>>> [f.kind for f in profile.features], len(profile.feature("bytes").edges)
(['numeric', 'categorical'], 9)
>>> profile.feature("proto").cell_counts(np.array([2.0, 3.0, 9.0, np.nan])).tolist()
[1, 1, 0, 1, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

import numpy as np
import pandas as pd

from seclearn.features.spec import FeatureSpec

#: Quantile bins per numeric feature (fewer when the values are tied).
N_BINS = 10
#: Reference quantiles kept per numeric feature for the KS test.
N_QUANTILES = 257
#: Numeric features with at most this many distinct training values are treated as discrete.
MAX_DISCRETE = 10
#: Categorical features keep at most this many values; the rest go to the "other" cell.
MAX_VALUES = 64
#: Fixed bins of the calibrated-score histogram over [0, 1].
SCORE_BINS = 20
PROFILE_VERSION = 1

ProfileKind = Literal["numeric", "categorical"]


@dataclass(frozen=True)
class FeatureProfile:
    """The training distribution of one output feature.

    Cells: for ``numeric`` the bins ``(-inf, e1], (e1, e2], ..., (ek, inf)`` of the
    inner ``edges`` then a missing cell; for ``categorical`` one cell per value in
    ``values``, then "other" (a value not seen in training), then missing.
    """

    name: str
    kind: ProfileKind
    n: int
    missing: float
    proportions: tuple[float, ...]
    edges: tuple[float, ...] = ()
    values: tuple[float, ...] = ()
    quantiles: tuple[float, ...] = ()

    def cell_counts(self, x: np.ndarray) -> np.ndarray:
        """Counts of ``x`` per cell, in the layout of :attr:`proportions`."""
        x = np.asarray(x, dtype=np.float64)
        nan = np.isnan(x)
        finite = x[~nan]
        if self.kind == "numeric":
            idx = np.searchsorted(np.asarray(self.edges, dtype=np.float64), finite, side="left")
            counts = np.bincount(idx, minlength=len(self.edges) + 1)
        else:
            values = np.asarray(self.values, dtype=np.float64)
            pos = np.searchsorted(values, finite)
            pos_c = np.minimum(pos, max(len(values) - 1, 0))
            known = (values[pos_c] == finite) if len(values) else np.zeros(len(finite), dtype=bool)
            counts = np.bincount(pos_c[known], minlength=len(values))[: len(values)]
            counts = np.append(counts, int((~known).sum()))
        return np.append(counts, int(nan.sum())).astype(np.int64)

    def cell_labels(self) -> list[str]:
        """Human-readable names of the cells, for reports."""
        if self.kind == "numeric":
            e = [f"{v:.4g}" for v in self.edges]
            if not e:
                return ["all", "missing"]
            labels = [f"<= {e[0]}"] + [f"({a}, {b}]" for a, b in pairwise(e)]
            return [*labels, f"> {e[-1]}", "missing"]
        return [f"{v:.4g}" for v in self.values] + ["other", "missing"]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "n": self.n,
            "missing": self.missing,
            "proportions": list(self.proportions),
        }
        if self.kind == "numeric":
            out["edges"] = list(self.edges)
            out["quantiles"] = list(self.quantiles)
        else:
            out["values"] = list(self.values)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureProfile:
        return cls(
            name=str(data["name"]),
            kind=data["kind"],
            n=int(data["n"]),
            missing=float(data["missing"]),
            proportions=tuple(float(v) for v in data["proportions"]),
            edges=tuple(float(v) for v in data.get("edges", ())),
            values=tuple(float(v) for v in data.get("values", ())),
            quantiles=tuple(float(v) for v in data.get("quantiles", ())),
        )


@dataclass(frozen=True)
class ReferenceProfile:
    """What a pipeline saw in training: feature distributions, scores and alert rate.

    ``score_proportions`` are over :data:`SCORE_BINS` equal bins of [0, 1] of the
    out-of-fold calibrated scores (``n_scores`` of them), ``alert_rate`` the share of
    those scores above ``threshold``. ``input_missing`` maps each input column the
    featurizer reads to its share of missing values in training.
    """

    features: tuple[FeatureProfile, ...]
    n_rows: int
    n_scores: int
    score_proportions: tuple[float, ...]
    score_quantiles: tuple[float, ...]
    threshold: float
    alert_rate: float
    input_missing: dict[str, float] = field(default_factory=dict)
    version: int = PROFILE_VERSION
    _by_name: dict[str, FeatureProfile] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._by_name.update({f.name: f for f in self.features})

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def feature(self, name: str) -> FeatureProfile:
        return self._by_name[name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "n_rows": self.n_rows,
            "n_scores": self.n_scores,
            "score_bins": SCORE_BINS,
            "score_proportions": list(self.score_proportions),
            "score_quantiles": list(self.score_quantiles),
            "threshold": self.threshold,
            "alert_rate": self.alert_rate,
            "input_missing": dict(self.input_missing),
            "features": [f.to_dict() for f in self.features],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReferenceProfile:
        return cls(
            features=tuple(FeatureProfile.from_dict(f) for f in data["features"]),
            n_rows=int(data["n_rows"]),
            n_scores=int(data["n_scores"]),
            score_proportions=tuple(float(v) for v in data["score_proportions"]),
            score_quantiles=tuple(float(v) for v in data["score_quantiles"]),
            threshold=float(data["threshold"]),
            alert_rate=float(data["alert_rate"]),
            input_missing={str(k): float(v) for k, v in (data.get("input_missing") or {}).items()},
            version=int(data.get("version", PROFILE_VERSION)),
        )


def score_edges() -> np.ndarray:
    """The fixed inner edges of the score histogram (``SCORE_BINS`` bins of [0, 1])."""
    return np.linspace(0.0, 1.0, SCORE_BINS + 1)[1:-1]


def score_cell_counts(scores: np.ndarray) -> np.ndarray:
    """Counts of calibrated ``scores`` per histogram bin (NaN dropped)."""
    s = np.asarray(scores, dtype=np.float64)
    s = s[~np.isnan(s)]
    return np.bincount(np.searchsorted(score_edges(), s, side="left"), minlength=SCORE_BINS)


def _is_categorical(spec: FeatureSpec | None) -> bool:
    return spec is not None and (
        spec.kind == "categorical" or spec.transform in ("ordinal", "onehot")
    )


def profile_feature(name: str, x: np.ndarray, spec: FeatureSpec | None = None) -> FeatureProfile:
    """The :class:`FeatureProfile` of training column ``x`` (categorical per ``spec``)."""
    x = np.asarray(x, dtype=np.float64)
    nan = np.isnan(x)
    finite = x[np.isfinite(x)]  # infinities fall in the outer bins / the other cell
    n = len(x)
    missing = float(nan.mean()) if n else 0.0
    distinct, counts = np.unique(finite, return_counts=True)
    if _is_categorical(spec) or len(distinct) <= MAX_DISCRETE:
        if len(distinct) > MAX_VALUES:
            keep = np.sort(np.argsort(-counts, kind="stable")[: MAX_VALUES - 1])
            distinct = distinct[keep]
        base = FeatureProfile(name, "categorical", n, missing, (), values=tuple(distinct.tolist()))
    else:
        inner = np.quantile(finite, np.linspace(0.0, 1.0, N_BINS + 1)[1:-1])
        edges = np.unique(inner)
        quantiles = np.quantile(finite, np.linspace(0.0, 1.0, N_QUANTILES))
        base = FeatureProfile(
            name,
            "numeric",
            n,
            missing,
            (),
            edges=tuple(edges.tolist()),
            quantiles=tuple(quantiles.tolist()),
        )
    cells = base.cell_counts(x)
    proportions = tuple((cells / max(n, 1)).tolist())
    return FeatureProfile(
        name, base.kind, n, missing, proportions, base.edges, base.values, base.quantiles
    )


def build_profile(
    X: np.ndarray,
    specs: Sequence[FeatureSpec],
    *,
    scores: np.ndarray,
    threshold: float,
    names: Sequence[str] | None = None,
    frame: pd.DataFrame | None = None,
    input_columns: Sequence[str] = (),
) -> ReferenceProfile:
    """Summarise training matrix ``X`` (columns described by ``specs``) and its scores.

    ``scores`` are out-of-fold calibrated scores in [0, 1] of the rows the detector was
    trained on; the reference alert rate is the share above ``threshold``. With the raw
    training ``frame``, the missing share of each of ``input_columns`` is kept too.
    """
    X = np.asarray(X)
    names = [s.name for s in specs] if names is None else list(names)
    by_name = {s.name: s for s in specs}
    features = tuple(
        profile_feature(name, X[:, j], by_name.get(name)) for j, name in enumerate(names)
    )
    s = np.asarray(scores, dtype=np.float64)
    s = s[~np.isnan(s)]
    n_scores = len(s)
    hist = score_cell_counts(s)
    return ReferenceProfile(
        features=features,
        n_rows=int(X.shape[0]),
        n_scores=n_scores,
        score_proportions=tuple((hist / max(n_scores, 1)).tolist()),
        score_quantiles=tuple(
            np.quantile(s, np.linspace(0.0, 1.0, N_QUANTILES)).tolist() if n_scores else []
        ),
        threshold=float(threshold),
        alert_rate=float(np.mean(s > threshold)) if n_scores else 0.0,
        input_missing={
            str(c): float(frame[c].isna().mean()) if c in frame.columns else 1.0
            for c in input_columns
        }
        if frame is not None and len(frame)
        else {},
    )


__all__ = [
    "FeatureProfile",
    "ReferenceProfile",
    "build_profile",
    "profile_feature",
    "score_cell_counts",
    "score_edges",
]
