"""The attacker's constraints, as data, on the raw flow columns a pipeline reads.

Attacks in this package perturb the *input* flow record (the columns the featurizer
reads), never the feature matrix, and re-featurize through the pipeline's own
featurizer. Derived features (bytes per packet, rates) are therefore recomputed from
the perturbed record and stay consistent by construction; dataset columns that are
themselves functions of other columns (UNSW-NB15's ``smean`` is bytes over packets,
``sload`` bytes over duration) are declared as :class:`Relation` and moved with their
sources.

Default threat model (:meth:`ThreatModel.default_for`): the attacker controls the
originator's payload bytes, packets and the flow's duration, and can only *grow* them
(padding, extra packets, delays); every other column (responder side, protocol,
service, port, connection state, dataset extras such as NSL-KDD's ``count`` that are
computed from other connections) is held fixed. Bounds are ``[0, training maximum]``
from the featurizer's :class:`~seclearn.features.FeatureSpec`, integrality too. A JSON
or TOML file can override any column and add relations (:meth:`ThreatModel.from_file`).

Budget: column ``c`` may move by at most ``budget * (|original| + scale_c)``; the cost of
an adversarial record is the largest such relative move over its columns.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from seclearn.errors import ConfigError
from seclearn.features import FlowFeaturizer
from seclearn.pipeline import DetectionPipeline

Direction = Literal["any", "increase", "decrease"]

#: Canonical columns an attacker controls by default, all grow-only, with the unit of
#: their additive slack in the budget (a zero-byte flow may gain ``budget * 64`` bytes).
DEFAULT_CONTROLLED: dict[str, float] = {"src_bytes": 64.0, "src_pkts": 1.0, "duration_s": 0.01}
#: Columns that count whole things even when training data does not show it.
INTEGER_COLUMNS = frozenset({"src_bytes", "dst_bytes", "src_pkts", "dst_pkts", "smean", "dmean"})


@dataclass(frozen=True)
class Relation:
    """``target`` is proportional to ``prod((sum(sources) + offset) ** power)`` per record.

    ``terms`` is a tuple of ``(sources, offset, power)``. When an attack moves a source,
    the target is rescaled by the ratio of the products (so the dataset's own constant
    is kept); a source may only move on rows where every term is positive and finite.
    """

    target: str
    terms: tuple[tuple[tuple[str, ...], float, float], ...]

    @property
    def sources(self) -> set[str]:
        return {s for srcs, _, _ in self.terms for s in srcs}

    def product(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.ones(len(frame))
        for srcs, offset, power in self.terms:
            term = sum(frame[s].to_numpy(dtype="float64") for s in srcs) + offset
            with np.errstate(divide="ignore", invalid="ignore"):
                out = out * np.where(term > 0, term, np.nan) ** power
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "terms": [{"sources": list(s), "offset": o, "power": p} for s, o, p in self.terms],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Relation:
        terms = tuple(
            (tuple(t["sources"]), float(t.get("offset", 0.0)), float(t["power"]))
            for t in data["terms"]
        )
        return cls(target=str(data["target"]), terms=terms)


def _terms(*parts: tuple[str | tuple[str, ...], float, float]) -> tuple:
    return tuple(((p,) if isinstance(p, str) else p, o, w) for p, o, w in parts)


#: Columns of public datasets that are functions of other columns of the same record.
KNOWN_RELATIONS: tuple[Relation, ...] = (
    Relation("smean", _terms(("src_bytes", 0, 1), ("src_pkts", 0, -1))),
    Relation("dmean", _terms(("dst_bytes", 0, 1), ("dst_pkts", 0, -1))),
    Relation("sload", _terms(("src_bytes", 0, 1), ("duration_s", 0, -1))),
    Relation("dload", _terms(("dst_bytes", 0, 1), ("duration_s", 0, -1))),
    Relation("rate", _terms((("src_pkts", "dst_pkts"), -1, 1), ("duration_s", 0, -1))),
    Relation("sinpkt", _terms(("duration_s", 0, 1), ("src_pkts", -1, -1))),
    Relation("dinpkt", _terms(("duration_s", 0, 1), ("dst_pkts", -1, -1))),
)


@dataclass(frozen=True)
class ColumnConstraint:
    """What the attacker may do to one input column."""

    name: str
    controlled: bool = False
    direction: Direction = "any"
    lower: float | None = None
    upper: float | None = None
    integer: bool = False
    categorical: bool = False
    domain: tuple[str, ...] | None = None  # allowed values of a controlled categorical
    scale: float = 1.0  # additive slack of the budget, in the column's unit


@dataclass(frozen=True)
class ThreatModel:
    """Per-column constraints and relations; see the module docstring."""

    columns: dict[str, ColumnConstraint]
    relations: tuple[Relation, ...] = field(default=())

    # ------------------------------------------------------------ building
    @classmethod
    def default_for(cls, pipeline: DetectionPipeline | FlowFeaturizer) -> ThreatModel:
        """The default threat model of a fitted pipeline (or featurizer), from its specs."""
        fz = pipeline.featurizer_ if isinstance(pipeline, DetectionPipeline) else pipeline
        specs = {s.name: s for s in fz.feature_specs_}
        columns: dict[str, ColumnConstraint] = {}
        for name in fz.input_columns_:
            if name in fz.categorical_columns_:
                domain = tuple(fz.categories_.get(name, []))
                columns[name] = ColumnConstraint(name, categorical=True, domain=domain)
                continue
            spec = specs.get(name)
            lower = upper = None
            integer = name in INTEGER_COLUMNS
            if spec is not None and spec.min_seen is not None and spec.max_seen is not None:
                lo, hi = spec.min_seen, spec.max_seen
                if spec.transform == "log1p":
                    lo, hi = float(np.expm1(lo)), float(np.expm1(hi))
                else:
                    integer = integer or spec.integer
                lower = 0.0 if spec.non_negative else lo
                upper = hi
            scale = DEFAULT_CONTROLLED.get(name)
            columns[name] = ColumnConstraint(
                name,
                controlled=scale is not None,
                direction="increase" if scale is not None else "any",
                lower=lower,
                upper=upper,
                integer=integer,
                scale=scale if scale is not None else 1.0,
            )
        present = set(columns)
        relations = tuple(
            r for r in KNOWN_RELATIONS if r.target in present and r.sources <= present
        )
        return cls(columns=columns, relations=relations)

    def with_overrides(self, data: dict[str, Any]) -> ThreatModel:
        """A copy with ``{"columns": {name: {field: value}}, "relations": [...]}`` applied."""
        columns = dict(self.columns)
        known = set(ColumnConstraint.__dataclass_fields__)
        for name, fields in (data.get("columns") or {}).items():
            unknown = set(fields) - known
            if unknown:
                raise ConfigError(
                    f"Threat model override for column {name!r} has unknown fields {sorted(unknown)}; "
                    f"allowed: {sorted(known - {'name'})}."
                )
            if "domain" in fields and fields["domain"] is not None:
                fields = {**fields, "domain": tuple(str(v) for v in fields["domain"])}
            base = columns.get(name, ColumnConstraint(name))
            columns[name] = replace(base, **fields)
        relations = self.relations
        if "relations" in data:
            relations = tuple(Relation.from_dict(r) for r in data["relations"])
        return ThreatModel(columns=columns, relations=relations)

    @classmethod
    def from_file(
        cls, path: Path | str, pipeline: DetectionPipeline | FlowFeaturizer
    ) -> ThreatModel:
        """The default threat model of ``pipeline`` with the overrides of a JSON/TOML file."""
        path = Path(path)
        try:
            text = path.read_text()
            data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"Could not read the threat model file {path}: {type(exc).__name__}. "
                "Expected a JSON or .toml file with 'columns' and optionally 'relations'."
            ) from None
        return cls.default_for(pipeline).with_overrides(data)

    def to_dict(self) -> dict[str, Any]:
        cols = {}
        for name, c in self.columns.items():
            d = asdict(c)
            d.pop("name")
            d["domain"] = list(c.domain) if c.domain is not None else None
            cols[name] = d
        return {"columns": cols, "relations": [r.to_dict() for r in self.relations]}

    # ------------------------------------------------------------- queries
    @property
    def controlled(self) -> list[str]:
        """Numeric columns the attacker may move, in a stable order."""
        return sorted(n for n, c in self.columns.items() if c.controlled and not c.categorical)

    def movable(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Per controlled column, the rows where it may move (present, finite, relations defined)."""
        out: dict[str, np.ndarray] = {}
        for name in self.controlled:
            if name not in frame.columns:
                continue
            ok = np.isfinite(frame[name].to_numpy(dtype="float64"))
            for rel in self.relations:
                if name in rel.sources:
                    ok &= np.isfinite(rel.product(frame))
                    ok &= np.isfinite(frame[rel.target].to_numpy(dtype="float64"))
            out[name] = ok
        return out

    def bounds(
        self, frame: pd.DataFrame, budget: float
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per controlled column, the per-row ``[low, high]`` it may take at ``budget``."""
        out = {}
        for name, ok in self.movable(frame).items():
            c = self.columns[name]
            x = frame[name].to_numpy(dtype="float64")
            slack = budget * (np.abs(x) + c.scale)
            lo = x.copy() if c.direction == "increase" else x - slack
            hi = x.copy() if c.direction == "decrease" else x + slack
            if c.lower is not None:
                lo = np.maximum(lo, c.lower)
            if c.upper is not None:
                hi = np.minimum(hi, c.upper)
            if c.integer:
                lo, hi = np.ceil(lo - 1e-9), np.floor(hi + 1e-9)
            lo, hi = np.minimum(lo, x), np.maximum(hi, x)  # the original is always allowed
            lo[~ok], hi[~ok] = x[~ok], x[~ok]
            out[name] = (lo, hi)
        return out

    def apply(self, frame: pd.DataFrame, values: dict[str, np.ndarray]) -> pd.DataFrame:
        """A copy of ``frame`` with controlled columns set to ``values`` and relations updated."""
        out = frame.copy()
        for name, v in values.items():
            c = self.columns[name]
            out[name] = np.round(v) if c.integer else v
        for rel in self.relations:
            if not rel.sources & set(values):
                continue
            ratio = rel.product(out) / rel.product(frame)
            target = frame[rel.target].to_numpy(dtype="float64")
            moved = np.where(np.isfinite(ratio), target * ratio, target)
            tc = self.columns.get(rel.target)
            out[rel.target] = np.round(moved) if tc is not None and tc.integer else moved
        return out

    def cost(self, original: pd.DataFrame, adversarial: pd.DataFrame) -> np.ndarray:
        """Per row, the largest relative move ``|adv - orig| / (|orig| + scale)`` of a column."""
        cost = np.zeros(len(original))
        for name in self.controlled:
            if name not in original.columns:
                continue
            x = original[name].to_numpy(dtype="float64")
            a = adversarial[name].to_numpy(dtype="float64")
            with np.errstate(invalid="ignore"):
                move = np.abs(a - x) / (np.abs(x) + self.columns[name].scale)
            cost = np.maximum(cost, np.nan_to_num(move, nan=0.0))
        return cost

    # --------------------------------------------------------------- check
    def check(
        self, original: pd.DataFrame, adversarial: pd.DataFrame, *, budget: float | None = None
    ) -> list[str]:
        """Every way ``adversarial`` breaks the threat model, one message each (empty = valid)."""
        problems: list[str] = []
        if list(original.columns) != list(adversarial.columns) or len(original) != len(adversarial):
            return ["adversarial frame has different columns or row count than the original"]
        targets = {r.target for r in self.relations}
        for name in original.columns:
            o, a = original[name], adversarial[name]
            c = self.columns.get(name)
            if c is None or not c.controlled or name in targets:
                if name in targets:
                    continue
                same = (o.isna() & a.isna()) | (o == a).fillna(False)
                if not bool(same.all()):
                    problems.append(
                        f"{name}: uncontrolled column changed in {int((~same).sum())} rows"
                    )
                continue
            if c.categorical:
                bad = (o != a).fillna(False) & ~a.isin(list(c.domain or ()))
                if bool(bad.any()):
                    problems.append(f"{name}: value outside the domain in {int(bad.sum())} rows")
                continue
            x, v = o.to_numpy(dtype="float64"), a.to_numpy(dtype="float64")
            changed = ~((np.isnan(x) & np.isnan(v)) | (x == v))
            checks = {
                "not finite": changed & ~np.isfinite(v),
                "decreased (grow-only)": (v < x) if c.direction == "increase" else changed & False,
                "increased (shrink-only)": (v > x)
                if c.direction == "decrease"
                else changed & False,
                "below lower bound": changed & (v < c.lower)
                if c.lower is not None
                else changed & False,
                "above upper bound": changed & (v > c.upper)
                if c.upper is not None
                else changed & False,
                "not an integer": changed & (np.mod(v, 1) != 0) if c.integer else changed & False,
            }
            for what, bad in checks.items():
                if bool(np.any(bad)):
                    problems.append(f"{name}: {what} in {int(np.sum(bad))} rows")
        movable = self.movable(original)
        for name, ok in movable.items():
            x = original[name].to_numpy(dtype="float64")
            v = adversarial[name].to_numpy(dtype="float64")
            bad = ~ok & ~((np.isnan(x) & np.isnan(v)) | (x == v))
            if bool(bad.any()):
                problems.append(
                    f"{name}: moved where a relation is undefined in {int(bad.sum())} rows"
                )
        for rel in self.relations:
            expected = original[rel.target].to_numpy(dtype="float64") * (
                rel.product(adversarial) / rel.product(original)
            )
            got = adversarial[rel.target].to_numpy(dtype="float64")
            before = original[rel.target].to_numpy(dtype="float64")
            expected = np.where(np.isfinite(expected), expected, before)
            tc = self.columns.get(rel.target)
            tol = 0.5 + 1e-9 if tc is not None and tc.integer else 0.0
            bad = ~(np.abs(got - expected) <= tol + 1e-6 * np.abs(expected)) & ~(
                np.isnan(got) & np.isnan(expected)
            )
            if bool(bad.any()):
                problems.append(
                    f"{rel.target}: relation to {sorted(rel.sources)} broken in {int(bad.sum())} rows"
                )
        if budget is not None:
            over = self.cost(original, adversarial) > budget * (1 + 1e-9) + 1e-12
            if bool(over.any()):
                problems.append(f"cost above the budget {budget:g} in {int(over.sum())} rows")
        return problems


__all__ = [
    "DEFAULT_CONTROLLED",
    "KNOWN_RELATIONS",
    "ColumnConstraint",
    "Relation",
    "ThreatModel",
]
