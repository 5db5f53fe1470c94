"""The statistics of drift monitoring: PSI, KS / chi-square tests, Benjamini-Hochberg.

>>> import numpy as np
>>> from seclearn.features.profile import profile_feature
>>> rng = np.random.default_rng(0)
>>> ref = profile_feature("x", rng.normal(0, 1, 5000))
>>> same, moved = feature_test(ref, rng.normal(0, 1, 1000)), feature_test(ref, rng.normal(1, 1, 1000))
>>> bool(same.psi < 0.05 and same.p_value > 0.01), bool(moved.psi > 0.2 and moved.p_value < 1e-10)
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from seclearn.features.profile import FeatureProfile, score_cell_counts

#: Floor on cell proportions in PSI, so that an empty cell gives a large but finite term.
PSI_EPSILON = 1e-4
#: Cells whose expected count is below this are pooled before a chi-square test.
MIN_EXPECTED = 5.0


@dataclass(frozen=True)
class StatResult:
    """One feature (or the score) in one window: PSI, test, p-value, missing share."""

    psi: float
    test: str
    statistic: float
    p_value: float
    missing: float


def psi(expected: np.ndarray, actual: np.ndarray, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index of ``actual`` against ``expected`` (proportions or counts).

    ``sum((a - e) * ln(a / e))`` over cells, with both floored at ``epsilon`` after
    normalising. 0 means identical; the usual reading is < 0.1 stable, 0.1-0.2 a
    moderate shift, > 0.2 a large one.
    """
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    e = np.maximum(e / max(e.sum(), 1e-300), epsilon)
    a = np.maximum(a / max(a.sum(), 1e-300), epsilon)
    return float(np.sum((a - e) * np.log(a / e)))


def chi2_two_sample(ref_counts: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """Chi-square test that two count vectors come from one distribution; (statistic, p).

    Cells that are rare in both samples (expected count below ``MIN_EXPECTED``) are
    pooled into one; with a single cell left there is nothing to test (p = 1).
    """
    ref = np.asarray(ref_counts, dtype=np.float64)
    cur = np.asarray(counts, dtype=np.float64)
    total = ref + cur
    n_ref, n_cur = ref.sum(), cur.sum()
    if n_ref <= 0 or n_cur <= 0:
        return 0.0, 1.0
    expected_min = np.minimum(total * n_ref, total * n_cur) / (n_ref + n_cur)
    rare = expected_min < MIN_EXPECTED
    table = np.vstack([ref[~rare], cur[~rare]])
    if rare.any():
        table = np.column_stack([table, [ref[rare].sum(), cur[rare].sum()]])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    statistic, p_value, _, _ = stats.chi2_contingency(table, correction=False)
    return float(statistic), float(p_value)


def ks_against_quantiles(quantiles: np.ndarray, n_ref: int, x: np.ndarray) -> tuple[float, float]:
    """Two-sample KS of ``x`` against a reference known by its quantiles; (D, p).

    D is computed against the stored quantiles (accurate to about 1 / their number);
    the p-value uses the true sizes of both samples (asymptotic Kolmogorov law).
    """
    q = np.asarray(quantiles, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    x = x[~np.isnan(x)]
    if len(q) == 0 or len(x) == 0 or n_ref <= 0:
        return 0.0, 1.0
    d = float(stats.ks_2samp(x, q).statistic)
    n_eff = len(x) * n_ref / (len(x) + n_ref)
    return d, float(stats.kstwobign.sf(d * np.sqrt(n_eff)))


def feature_test(profile: FeatureProfile, x: np.ndarray) -> StatResult:
    """PSI and p-value of window column ``x`` against the feature's training profile.

    Numeric features: KS on the values present, combined (Bonferroni, x2) with a
    chi-square test of the missing share when either side has missing values.
    Categorical and discrete features: chi-square over the cells (value seen in
    training, other, missing).
    """
    x = np.asarray(x, dtype=np.float64)
    counts = profile.cell_counts(x)
    expected = np.asarray(profile.proportions, dtype=np.float64)
    value = psi(expected, counts)
    missing = float(np.isnan(x).mean()) if len(x) else 0.0
    ref_counts = expected * profile.n
    if profile.kind == "categorical":
        statistic, p = chi2_two_sample(ref_counts, counts)
        return StatResult(value, "chi2", statistic, p, missing)
    present = int(profile.n - round(profile.missing * profile.n))
    statistic, p = ks_against_quantiles(np.asarray(profile.quantiles), present, x)
    if profile.missing > 0 or missing > 0:
        _, p_missing = chi2_two_sample(
            np.array([profile.n - present, present]),
            np.array([counts[-1], len(x) - counts[-1]]),
        )
        p = min(1.0, 2 * min(p, p_missing))
    return StatResult(value, "ks", statistic, p, missing)


def score_test(
    proportions: np.ndarray, quantiles: np.ndarray, n_ref: int, scores: np.ndarray
) -> StatResult:
    """PSI of the calibrated-score histogram and KS of the scores against the reference."""
    counts = score_cell_counts(scores)
    value = psi(np.asarray(proportions, dtype=np.float64), counts)
    statistic, p = ks_against_quantiles(np.asarray(quantiles), n_ref, scores)
    return StatResult(value, "ks", statistic, p, 0.0)


def alert_rate_test(alerts: int, n: int, reference_rate: float) -> tuple[float, float]:
    """Two-sided binomial test of ``alerts`` out of ``n`` against ``reference_rate``; (ratio, p)."""
    if n <= 0:
        return float("nan"), 1.0
    rate = alerts / n
    ref = min(max(reference_rate, 1e-6), 1 - 1e-6)
    p = float(stats.binomtest(int(alerts), int(n), ref).pvalue)
    return rate / ref, p


def benjamini_hochberg(p_values: np.ndarray, q: float) -> np.ndarray:
    """Which hypotheses are rejected at false-discovery rate ``q`` (Benjamini-Hochberg)."""
    p = np.asarray(p_values, dtype=np.float64)
    if p.size == 0:
        return np.zeros(0, dtype=bool)
    adjusted = stats.false_discovery_control(np.clip(np.nan_to_num(p, nan=1.0), 0, 1))
    return np.asarray(adjusted <= q)


__all__ = [
    "PSI_EPSILON",
    "StatResult",
    "alert_rate_test",
    "benjamini_hochberg",
    "chi2_two_sample",
    "feature_test",
    "ks_against_quantiles",
    "psi",
    "score_test",
]
