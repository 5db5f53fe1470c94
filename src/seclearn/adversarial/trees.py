"""White-box evasion of LightGBM pipelines from the trees' own split thresholds.

A tree ensemble's score only changes when a feature crosses one of its split
thresholds, so the only moves worth trying are those that put a feature just past a
threshold. :class:`TreeAttack` reads every threshold from ``booster.dump_model()``,
maps each one back to a value of a controlled *input* column (through ``log1p`` and
through the product form of derived features and relations: bytes per packet, rates,
UNSW-NB15's ``smean``/``sload``), and runs a greedy search: at each step every row tries
the candidate values of every controlled column within its budget box, scored by the
real pipeline on re-featurized records, and keeps the best (the cheapest candidate that
evades, else the lowest score). Candidates are therefore valid flow records by
construction, exactly as in the black-box attack.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from seclearn.adversarial.evasion import (
    AttackResult,
    Scorer,
    _result,
    check_attackable,
    scoring_frame,
)
from seclearn.adversarial.threat import Relation, ThreatModel, _terms
from seclearn.errors import ModelError
from seclearn.pipeline import DetectionPipeline

#: The pipeline's own derived features in product form (``seclearn.features._derived``).
DERIVED_TERMS: tuple[Relation, ...] = (
    Relation("src_bytes_per_pkt", _terms(("src_bytes", 0, 1), ("src_pkts", 0, -1))),
    Relation("dst_bytes_per_pkt", _terms(("dst_bytes", 0, 1), ("dst_pkts", 0, -1))),
    Relation("pkts_per_s", _terms((("src_pkts", "dst_pkts"), 0, 1), ("duration_s", 0, -1))),
    Relation("bytes_per_s", _terms((("src_bytes", "dst_bytes"), 0, 1), ("duration_s", 0, -1))),
)


def split_thresholds(booster: Any) -> dict[int, np.ndarray]:
    """Sorted unique split thresholds per feature index of a LightGBM booster."""
    found: dict[int, set[float]] = {}
    stack = [t["tree_structure"] for t in booster.dump_model()["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_feature" not in node:
            continue
        if node.get("decision_type", "<=") == "<=":
            found.setdefault(int(node["split_feature"]), set()).add(float(node["threshold"]))
        stack += [node["left_child"], node["right_child"]]
    return {j: np.array(sorted(v)) for j, v in found.items()}


def booster_of(pipeline: DetectionPipeline) -> Any:
    booster = getattr(pipeline.detector_, "booster_", None)
    if booster is None:
        raise ModelError(
            f"TreeAttack needs a LightGBM detector; this pipeline's detector is "
            f"{type(pipeline.detector_).__name__}. Use the black-box attack (--attack blackbox)."
        )
    return booster


class TreeAttack:
    """Greedy threshold-crossing search on a LightGBM pipeline; ``max_candidates`` per column and step."""

    name = "trees"

    def __init__(
        self,
        threat: ThreatModel,
        *,
        budget: float = 1.0,
        n_steps: int = 5,
        max_candidates: int = 16,
        random_state: int = 0,
    ) -> None:
        self.threat = threat
        self.budget = budget
        self.n_steps = n_steps
        self.max_candidates = max_candidates
        self.random_state = random_state

    # ----------------------------------------------------------- candidates
    def _plan(
        self, pipeline: DetectionPipeline
    ) -> dict[str, list[tuple[int, str, Relation | None]]]:
        """Per controlled column, the features it moves: (index, transform, product form or None)."""
        fz = pipeline.featurizer_
        forms = {r.target: r for r in (*DERIVED_TERMS, *self.threat.relations)}
        plan: dict[str, list[tuple[int, str, Relation | None]]] = {}
        for j, spec in enumerate(fz.feature_specs_):
            if spec.kind not in ("numeric", "derived"):
                continue
            for col in self.threat.controlled:
                if spec.name == col:
                    plan.setdefault(col, []).append((j, spec.transform, None))
                elif spec.name in forms and col in forms[spec.name].sources:
                    plan.setdefault(col, []).append((j, spec.transform, forms[spec.name]))
        return plan

    def _candidates(
        self,
        frame: pd.DataFrame,
        X: np.ndarray,
        col: str,
        uses: list[tuple[int, str, Relation | None]],
        thresholds: dict[int, np.ndarray],
        lo: np.ndarray,
        hi: np.ndarray,
    ) -> list[np.ndarray]:
        """Per row, candidate values of ``col`` in ``[lo, hi]`` (not the current one) that cross a threshold."""
        cur = frame[col].to_numpy(dtype="float64")
        integer = self.threat.columns[col].integer
        pieces: list[np.ndarray] = []  # (n_rows, k) blocks, NaN = no candidate
        for j, transform, form in uses:
            t = thresholds.get(j)
            if t is None or len(t) == 0:
                continue
            t_raw = np.expm1(t) if transform == "log1p" else t
            if form is None:
                cand = np.broadcast_to(t_raw, (len(cur), len(t_raw)))
                up = cand + np.maximum(1e-6 * np.abs(cand), 1e-9)
                pieces += [up, cand]
                continue
            power = sum(p for srcs, _, p in form.terms if col in srcs)
            srcs, offset, _ = next(term for term in form.terms if col in term[0])
            f_cur = X[:, j].astype("float64")
            f_cur = np.expm1(f_cur) if transform == "log1p" else f_cur
            if form.target in frame.columns:  # a dataset relation: the column itself
                f_cur = frame[form.target].to_numpy(dtype="float64")
            term = sum(frame[s].to_numpy(dtype="float64") for s in srcs) + offset
            others = term - cur
            with np.errstate(divide="ignore", invalid="ignore"):
                for target in (t_raw * (1 + 1e-6) + 1e-9, t_raw * (1 - 1e-6) - 1e-9):
                    ratio = target[None, :] / f_cur[:, None]
                    new_term = term[:, None] * np.where(ratio > 0, ratio, np.nan) ** (1 / power)
                    pieces.append(new_term - others[:, None])
        if not pieces:
            return [np.empty(0) for _ in cur]
        allc = np.concatenate(pieces, axis=1)
        if integer:  # the whole numbers on each side of every crossing point
            allc = np.concatenate([np.ceil(allc - 1e-9), np.floor(allc + 1e-9)], axis=1)
        allc = np.concatenate([allc, hi[:, None], lo[:, None]], axis=1)
        ok = (
            np.isfinite(allc)
            & (allc != cur[:, None])
            & (allc <= hi[:, None])
            & (allc >= lo[:, None])
        )
        out = []
        k = self.max_candidates // 2
        for i in range(len(cur)):
            values = np.unique(allc[i, ok[i]])
            if len(values) > self.max_candidates:  # the cheapest half, then a spread to the limits
                near = values[np.argsort(np.abs(values - cur[i]), kind="stable")[:k]]
                far = values[np.linspace(0, len(values) - 1, k).astype(int)]
                values = np.unique(np.concatenate([near, far]))
            out.append(values)
        return out

    # ------------------------------------------------------------------ run
    def run(self, pipeline: DetectionPipeline, frame: pd.DataFrame) -> AttackResult:
        frame = scoring_frame(pipeline, frame)
        check_attackable(pipeline, self.threat, frame)
        thresholds = split_thresholds(booster_of(pipeline))
        plan = self._plan(pipeline)
        scorer = Scorer(pipeline, self.threat, frame)
        threshold = float(pipeline.threshold_)
        bounds = self.threat.bounds(frame, self.budget)
        cols = [c for c in bounds if c in plan]
        state = {c: frame[c].to_numpy(dtype="float64").copy() for c in bounds}
        score0 = pipeline.risk_score(frame)
        best_score = score0.copy()
        success = score0 <= threshold
        active = np.flatnonzero(~success)
        for _ in range(self.n_steps):
            if len(active) == 0:
                break
            current = scorer.build(active, {c: v[active] for c, v in state.items()})
            X = pipeline.transform_features(current)
            rows_l, cols_l, vals_l = [], [], []
            for col in cols:
                lo, hi = (b[active] for b in bounds[col])
                cands = self._candidates(current, X, col, plan[col], thresholds, lo, hi)
                for i, values in enumerate(cands):
                    rows_l.append(np.full(len(values), i))
                    cols_l.append(np.full(len(values), cols.index(col)))
                    vals_l.append(values)
            if not rows_l:
                break
            local = np.concatenate(rows_l).astype(int)
            which = np.concatenate(cols_l).astype(int)
            vals = np.concatenate(vals_l)
            if len(local) == 0:
                break
            rows = active[local]
            tried = {c: state[c][rows].copy() for c in state}
            for k, col in enumerate(cols):
                pick = which == k
                tried[col][pick] = vals[pick]
            scores, costs = scorer.score(rows, tried)
            evades = scores <= threshold
            key = np.where(
                evades, costs - 1e6, scores
            )  # any evasion beats any score; cheapest wins
            order = np.lexsort((scores, key))
            first = np.unique(local[order], return_index=True)[1]
            chosen = order[first]
            improved = scores[chosen] < best_score[active[local[chosen]]]
            chosen = chosen[improved]
            targets = active[local[chosen]]
            for c in state:
                state[c][targets] = tried[c][chosen]
            best_score[targets] = scores[chosen]
            success[targets] |= evades[chosen]
            active = np.setdiff1d(active[np.isin(active, targets)], np.flatnonzero(success))
        return _result(self.name, self.budget, scorer, state, score0, threshold)


__all__ = ["DERIVED_TERMS", "TreeAttack", "booster_of", "split_thresholds"]
