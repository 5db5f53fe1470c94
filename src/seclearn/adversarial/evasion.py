"""Black-box evasion: a constrained evolutionary search on the controllable input columns.

The attack only queries ``pipeline.risk_score`` on whole flow records, so it applies to
any detector. Each candidate is a point of the per-row box that the
:class:`~seclearn.adversarial.threat.ThreatModel` allows at the budget (grow-only columns
between their original value and the budget's limit), written into the record with
:meth:`ThreatModel.apply` (rounding, relations) and re-featurized by the pipeline itself,
so every candidate is a valid flow record by construction. A row is evaded when its
calibrated score is at or below the pipeline's threshold; after the first success the
search keeps shrinking the move to find a cheaper evasion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from seclearn.adversarial.threat import ThreatModel
from seclearn.errors import ModelError
from seclearn.features import DEFAULT_WINDOWS, context_features
from seclearn.pipeline import DetectionPipeline


@dataclass
class AttackResult:
    """What one attack did to each row of the attacked frame (index-aligned arrays)."""

    attack: str
    budget: float
    original: pd.DataFrame
    adversarial: pd.DataFrame  # cheapest evasion per row, else the lowest-scoring try
    score_before: np.ndarray
    score_after: np.ndarray
    detected_before: np.ndarray
    detected_after: np.ndarray
    cost: np.ndarray  # cost of the adversarial row (0 where unchanged)
    n_queries: int

    @property
    def evaded(self) -> np.ndarray:
        """Rows detected before the attack and not after it."""
        return self.detected_before & ~self.detected_after


def scoring_frame(pipeline: DetectionPipeline, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its context features precomputed, so that they stay fixed.

    Context features are computed from other flows; an attack on one record holds them at
    their values in the original traffic (threat model: see ``docs/adversarial.md``).
    Call it on the whole traffic before taking a sample of rows to attack: a frame that
    already holds every context column is returned as it is.
    """
    names = pipeline.featurizer_.context_columns_
    if not names or all(c in frame.columns for c in names):  # none, or computed upstream
        return frame.reset_index(drop=True)
    ctx = context_features(frame, DEFAULT_WINDOWS)
    out = frame.reset_index(drop=True).copy()
    for name in DEFAULT_WINDOWS.names:
        out[name] = ctx[name].to_numpy(dtype="float64")
    return out


class Scorer:
    """Scores candidate values of the controlled columns for rows of one frame, counting queries."""

    def __init__(self, pipeline: DetectionPipeline, threat: ThreatModel, frame: pd.DataFrame):
        self.pipeline, self.threat, self.frame = pipeline, threat, frame
        self.n_queries = 0

    def build(self, rows: np.ndarray, values: dict[str, np.ndarray]) -> pd.DataFrame:
        base = self.frame.iloc[rows].reset_index(drop=True)
        return self.threat.apply(base, values)

    def score(
        self, rows: np.ndarray, values: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores and costs of rows ``rows`` with controlled columns set to ``values``."""
        if len(rows) == 0:
            return np.empty(0), np.empty(0)
        candidate = self.build(rows, values)
        self.n_queries += len(rows)
        base = self.frame.iloc[rows].reset_index(drop=True)
        return self.pipeline.risk_score(candidate), self.threat.cost(base, candidate)


def _result(
    name: str,
    budget: float,
    scorer: Scorer,
    best: dict[str, np.ndarray],
    score0: np.ndarray,
    threshold: float,
) -> AttackResult:
    everything = np.arange(len(scorer.frame))
    adversarial = scorer.build(everything, best)
    score_after = scorer.pipeline.risk_score(adversarial)
    return AttackResult(
        attack=name,
        budget=budget,
        original=scorer.frame,
        adversarial=adversarial,
        score_before=score0,
        score_after=score_after,
        detected_before=score0 > threshold,
        detected_after=score_after > threshold,
        cost=scorer.threat.cost(scorer.frame, adversarial),
        n_queries=scorer.n_queries,
    )


def check_attackable(pipeline: DetectionPipeline, threat: ThreatModel, frame: pd.DataFrame) -> None:
    if not hasattr(pipeline, "detector_"):
        raise ModelError("The pipeline to attack is not fitted. Fit it (or load a model) first.")
    if not [c for c in threat.controlled if c in frame.columns]:
        raise ModelError(
            f"The threat model gives the attacker no column of this frame to move (controlled: "
            f"{threat.controlled}; frame columns: {list(frame.columns)[:20]}). Override the threat "
            "model to name the columns the attacker controls."
        )


class BlackBoxAttack:
    """Constrained evolutionary search; ``population`` candidates per row and generation.

    Generation 0 tries the corners (every column at its limit, each column alone at its
    limit) and random points of the box; later generations mutate each row's best point
    (lowest score before success, cheapest success after) with a shrinking step.
    """

    name = "blackbox"

    def __init__(
        self,
        threat: ThreatModel,
        *,
        budget: float = 1.0,
        n_generations: int = 8,
        population: int = 8,
        random_state: int = 0,
    ) -> None:
        self.threat = threat
        self.budget = budget
        self.n_generations = n_generations
        self.population = population
        self.random_state = random_state

    def run(self, pipeline: DetectionPipeline, frame: pd.DataFrame) -> AttackResult:
        frame = scoring_frame(pipeline, frame)
        check_attackable(pipeline, self.threat, frame)
        rng = np.random.default_rng(self.random_state)
        scorer = Scorer(pipeline, self.threat, frame)
        threshold = float(pipeline.threshold_)
        bounds = self.threat.bounds(frame, self.budget)
        cols = list(bounds)
        lo = np.column_stack([bounds[c][0] for c in cols])
        hi = np.column_stack([bounds[c][1] for c in cols])
        x0 = np.column_stack([frame[c].to_numpy(dtype="float64") for c in cols])
        n, d = lo.shape
        score0 = pipeline.risk_score(frame)
        best_score = score0.copy()
        best_cost = np.zeros(n)
        success = score0 <= threshold
        active = np.flatnonzero(~success & (hi > lo).any(axis=1))
        if len(active) == 0:
            return _result(
                self.name, self.budget, scorer, self._values(cols, x0), score0, threshold
            )

        def values(u: np.ndarray, rows: np.ndarray) -> dict[str, np.ndarray]:
            return self._values(cols, lo[rows] + u * (hi[rows] - lo[rows]))

        start = x0 - lo  # grow-only columns start at u = 0; two-sided ones at the original
        span = np.where(hi > lo, hi - lo, 1.0)
        origin = np.clip(start / span, 0, 1)  # the original record, in box coordinates
        best_u = origin.copy()  # position in the box: 0 = low end, 1 = high end
        for generation in range(self.n_generations):
            rows = active
            if generation == 0:
                corners = [np.ones(d)] + [np.eye(d)[j] for j in range(d)]
                tries = corners + [
                    rng.random(d) for _ in range(max(0, self.population - len(corners)))
                ]
                u = np.concatenate([np.tile(t, (len(rows), 1)) for t in tries])
            else:
                step = 0.5 * 0.7**generation
                parent = np.tile(best_u[rows], (self.population, 1))
                ok = np.tile(success[rows], self.population)
                noise = rng.normal(0.0, step, parent.shape)
                home = np.tile(origin[rows], (self.population, 1))
                shrink = home + (parent - home) * rng.random((len(parent), 1))  # cheaper
                u = np.where(ok[:, None], shrink + np.abs(noise) * 0.1, parent + noise)
                u = np.clip(u, 0.0, 1.0)
            k = len(u) // len(rows)
            rep = np.tile(rows, k)
            scores, costs = scorer.score(rep, values(u, rep))
            for i in range(k):
                sl = slice(i * len(rows), (i + 1) * len(rows))
                s, c, uu = scores[sl], costs[sl], u[sl]
                evades = s <= threshold
                was = success[rows]
                better = np.where(
                    was, evades & (c < best_cost[rows]), evades | (s < best_score[rows])
                )
                better &= ~(was & ~evades)
                chosen = rows[better]
                best_u[chosen], best_score[chosen], best_cost[chosen] = (
                    uu[better],
                    s[better],
                    c[better],
                )
                success[chosen] |= evades[better]
        return _result(
            self.name, self.budget, scorer, values(best_u, np.arange(n)), score0, threshold
        )

    @staticmethod
    def _values(cols: list[str], matrix: np.ndarray) -> dict[str, np.ndarray]:
        return {c: matrix[:, j] for j, c in enumerate(cols)}


__all__ = ["AttackResult", "BlackBoxAttack", "Scorer", "check_attackable", "scoring_frame"]
