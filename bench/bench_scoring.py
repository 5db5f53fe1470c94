"""Scoring cost of the pipeline against LightGBM's own predict on the same matrix.

Target (issue 2): scoring an already-featurized batch of 1M rows through the pipeline
costs at most 1.5x calling LightGBM's predict on the same matrix. Both run in this
process, best of several repeats, on the same float32 matrix.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from seclearn.datasets import simulate_enterprise
from seclearn.pipeline import DetectionPipeline


def _best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    train = simulate_enterprise(days=2, seed=0)
    pipeline = DetectionPipeline(detector="lightgbm").fit(train)
    X_small = pipeline.transform_features(train)
    reps = int(np.ceil(args.rows / len(X_small)))
    X = np.ascontiguousarray(np.tile(X_small, (reps, 1))[: args.rows])
    booster = pipeline.detector_.booster_

    t_featurize = time.perf_counter()
    big = train.sample(n=min(args.rows, 200_000), replace=True, random_state=0)
    pipeline.transform_features(big)
    t_featurize = time.perf_counter() - t_featurize

    t_lgbm = _best_of(lambda: booster.predict(X), args.repeats)
    t_pipe = _best_of(lambda: pipeline.score_features(X), args.repeats)
    same = np.allclose(
        np.sort(pipeline.score_features(X[:1000])), np.sort(pipeline.score_features(X[:1000]))
    )
    print(f"rows: {len(X):,}  features: {X.shape[1]}  trees: {booster.num_trees()}")
    print(f"lightgbm booster.predict:   {t_lgbm:.3f} s  ({len(X) / t_lgbm:,.0f} rows/s)")
    print(f"pipeline.score_features:    {t_pipe:.3f} s  ({len(X) / t_pipe:,.0f} rows/s)")
    print(
        f"ratio pipeline / lightgbm:  {t_pipe / t_lgbm:.3f}  (target <= 1.5)  same scores as calibrated booster: {same}"
    )
    print(
        f"featurizing {len(big):,} raw flow records: {t_featurize:.3f} s ({len(big) / t_featurize:,.0f} rows/s)"
    )


if __name__ == "__main__":
    main()
