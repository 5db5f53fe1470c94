"""Calibrators: outputs in [0, 1], monotone, with the meaning they state."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seclearn.errors import ModelError, NotFittedError, ParameterError
from seclearn.models import BenignQuantileCalibrator, ProbabilityCalibrator, calibrator_from_dict


def _scores(seed: int, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Raw scores whose true probability of malicious is expit(raw)."""
    rng = np.random.default_rng(seed)
    raw = rng.normal(0, 2.5, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-raw))).astype(float)
    return raw, y


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_probability_calibration_is_monotone_and_within_unit_interval(method):
    raw, y = _scores(0)
    cal = ProbabilityCalibrator(method=method).fit(raw, y)
    grid = np.linspace(-20, 20, 2001)
    p = cal.transform(grid)
    assert ((p >= 0) & (p <= 1)).all()
    assert (np.diff(p) >= 0).all()


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=4, max_size=60),
    st.lists(st.booleans(), min_size=4, max_size=60),
)
def test_isotonic_output_is_monotone_in_unit_interval_for_any_training_scores(raw, labels):
    n = min(len(raw), len(labels))
    y = np.array(labels[:n], dtype=float)
    if y.min() == y.max():
        y[0] = 1 - y[0]
    cal = ProbabilityCalibrator().fit(np.array(raw[:n]), y)
    probe = np.sort(np.r_[np.array(raw[:n]), np.linspace(-2e6, 2e6, 50)])
    p = cal.transform(probe)
    assert ((p >= 0) & (p <= 1)).all() and (np.diff(p) >= -1e-12).all()


def test_isotonic_probabilities_match_observed_frequencies_on_fresh_data():
    raw, y = _scores(0)
    cal = ProbabilityCalibrator().fit(raw, y)
    raw2, y2 = _scores(1)
    p = cal.transform(raw2)
    for lo, hi in [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.0)]:
        inside = (p >= lo) & (p < hi)
        assert abs(p[inside].mean() - y2[inside].mean()) < 0.06, (lo, hi)


def test_tie_break_keeps_the_raw_ranking_and_moves_probabilities_by_at_most_its_size():
    raw, y = _scores(0)
    plain = ProbabilityCalibrator(tie_break=0.0).fit(raw, y)
    tied = ProbabilityCalibrator(tie_break=1e-3).fit(raw, y)
    grid = np.linspace(-5, 5, 500)
    assert len(np.unique(plain.transform(grid))) < len(grid)
    assert (np.diff(tied.transform(grid)) > 0).all()
    assert np.abs(tied.transform(grid) - plain.transform(grid)).max() <= 1e-3


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_probability_calibrator_round_trips_through_json(method):
    raw, y = _scores(0)
    cal = ProbabilityCalibrator(method=method).fit(raw, y)
    again = calibrator_from_dict(orjson.loads(orjson.dumps(cal.to_dict())))
    np.testing.assert_array_equal(again.transform(raw), cal.transform(raw))


def test_probability_calibrator_needs_both_classes_and_valid_parameters():
    with pytest.raises(ModelError, match="one class"):
        ProbabilityCalibrator().fit([0.1, 0.2, 0.3], [0, 0, 0])
    with pytest.raises(
        ParameterError,
        match=r"The 'method' parameter of ProbabilityCalibrator must be a str among "
        r"\{'isotonic', 'sigmoid'\}\. Got 'beta' instead\.",
    ):
        ProbabilityCalibrator(method="beta").fit([0.1, 0.2], [0, 1])
    with pytest.raises(NotFittedError):
        ProbabilityCalibrator().transform([0.5])


def test_benign_quantile_099_flags_about_one_percent_of_fresh_benign_traffic():
    rng = np.random.default_rng(0)
    cal = BenignQuantileCalibrator().fit(rng.lognormal(0, 1, 20_000))
    fresh = cal.transform(rng.lognormal(0, 1, 50_000))
    assert 0.007 < np.mean(fresh > 0.99) < 0.013
    assert 0.47 < np.mean(fresh > 0.5) < 0.53


def test_benign_quantile_is_the_share_of_reference_scoring_lower():
    cal = BenignQuantileCalibrator().fit(np.array([1.0, 2.0, 2.0, 2.0, 3.0]))
    q = cal.transform(np.array([0.0, 1.0, 2.0, 3.0]))
    np.testing.assert_allclose(q, [0.0, 0.0, 0.2, 0.8])


def test_benign_quantile_keeps_order_above_the_largest_reference_score():
    cal = BenignQuantileCalibrator().fit(np.arange(100.0))
    q = cal.transform(np.array([99.0, 100.0, 150.0, 1e6]))
    assert (np.diff(q) > 0).all() and q[-1] <= 1.0 and q[0] == pytest.approx(0.99)
    assert (
        (cal.transform(np.linspace(-50, 500, 999)) >= 0)
        & (cal.transform(np.linspace(-50, 500, 999)) <= 1)
    ).all()


def test_benign_quantile_keeps_a_bounded_number_of_reference_quantiles():
    rng = np.random.default_rng(1)
    reference = rng.normal(0, 1, 50_000)
    cal = BenignQuantileCalibrator(max_quantiles=1000).fit(reference)
    assert len(cal.knots_x_) <= 1000 and cal.n_reference_ == 50_000
    exact = np.mean(reference[:, None] < np.array([-1.0, 0.0, 1.5]), axis=0)
    np.testing.assert_allclose(cal.transform(np.array([-1.0, 0.0, 1.5])), exact, atol=0.003)
    again = calibrator_from_dict(orjson.loads(orjson.dumps(cal.to_dict())))
    np.testing.assert_array_equal(again.transform(reference[:100]), cal.transform(reference[:100]))


def test_benign_quantile_needs_reference_scores():
    with pytest.raises(ModelError, match="at least one finite"):
        BenignQuantileCalibrator().fit(np.array([np.nan]))
