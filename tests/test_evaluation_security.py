"""Security-grade metrics: the vectorised bootstrap, alert volume, budgets, campaigns, decay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics as skm

from seclearn.errors import EvaluationError
from seclearn.evaluation import evaluate_scores
from seclearn.evaluation._bootstrap import (
    BOOTSTRAP_METRICS,
    DETECTION_KEY,
    Cells,
    bootstrap_intervals,
    bootstrap_replicates,
)
from seclearn.evaluation._calibration import calibration_metrics
from seclearn.evaluation._curves import ranking_metrics

DAY = 86_400.0
T0 = 1_700_006_400.0  # a UTC midnight


def sample(seed: int, n: int, prevalence: float = 0.3, ties: bool = False):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(np.int8)
    s = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1)
    if ties:
        s = np.round(s, 1)
    return y, s, s > 0.5


# --- the vectorised bootstrap ------------------------------------------------------------


@pytest.mark.parametrize("ties", [False, True])
def test_cell_metrics_on_the_original_sample_equal_scikit_learn(ties):
    y, s, d = sample(1, 1500, ties=ties)
    cells = Cells(y, s, d)
    got = {k: v[0] for k, v in cells.metrics(cells.counts[None, :]).items()}
    ranking = ranking_metrics(y, s, {})
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert got["pr_auc"] == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)
    assert got[DETECTION_KEY] == pytest.approx(ranking["detection_at_fpr"]["0.01"], abs=1e-12)
    assert got["precision"] == pytest.approx(skm.precision_score(y, d))
    assert got["recall"] == pytest.approx(skm.recall_score(y, d))
    assert got["f1"] == pytest.approx(skm.f1_score(y, d))
    assert got["brier"] == pytest.approx(skm.brier_score_loss(y, s))
    assert got["false_alert_rate"] == pytest.approx(np.mean(d & (y == 0)))
    ey, es, ed = cells.expand(cells.counts)  # the cells stand for exactly the input rows
    assert sorted(zip(es, ey, ed, strict=True)) == sorted(zip(s, y, d, strict=True))


def _row_bootstrap(y, s, d, n_bootstrap, seed):
    """The textbook bootstrap: resample rows, recompute with scikit-learn."""
    rng = np.random.default_rng(seed)
    out = {k: [] for k in ("recall", "precision", "fpr", "roc_auc", "pr_auc", "brier", "ece")}
    for _ in range(n_bootstrap):
        i = rng.integers(0, len(y), len(y))
        yb, sb, db = y[i], s[i], d[i]
        out["recall"].append(skm.recall_score(yb, db))
        out["precision"].append(skm.precision_score(yb, db))
        out["fpr"].append(np.mean(db[yb == 0]))
        out["roc_auc"].append(skm.roc_auc_score(yb, sb))
        out["pr_auc"].append(skm.average_precision_score(yb, sb))
        out["brier"].append(np.mean((sb - yb) ** 2))
        out["ece"].append(calibration_metrics(yb, sb, {})["ece"])
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("ties", [False, True])
def test_vectorised_replicates_match_a_plain_row_resampling_bootstrap(ties):
    y, s, d = sample(2, 500, ties=ties)
    fast = bootstrap_replicates(y, s, d, n_bootstrap=400, random_state=7)
    slow = _row_bootstrap(y, s, d, 300, seed=8)
    for key, reference in slow.items():
        assert stats.ks_2samp(fast[key], reference).pvalue > 1e-3, key
        assert np.mean(fast[key]) == pytest.approx(np.mean(reference), abs=0.25 * np.std(reference))
        assert np.std(fast[key]) == pytest.approx(np.std(reference), rel=0.2), key
        lo, hi = np.percentile(fast[key], [2.5, 97.5])
        rlo, rhi = np.percentile(reference, [2.5, 97.5])
        width = rhi - rlo
        assert abs(lo - rlo) < 0.3 * width and abs(hi - rhi) < 0.3 * width, key


def test_intervals_cover_known_population_values():
    """Binormal scores: benign N(0,1), malicious N(1.2,1); threshold 0.8."""
    shift, threshold = 1.2, 0.8
    truth = {
        "roc_auc": stats.norm.cdf(shift / np.sqrt(2)),
        "recall": stats.norm.sf(threshold - shift),
        "fpr": stats.norm.sf(threshold),
    }
    rng = np.random.default_rng(11)
    hits = dict.fromkeys(truth, 0)
    trials = 150
    for trial in range(trials):
        y = (rng.random(400) < 0.3).astype(np.int8)
        s = rng.normal(shift * y, 1.0)
        ci = bootstrap_intervals(y, s, s > threshold, n_bootstrap=200, random_state=trial)
        for key, value in truth.items():
            lo, hi = ci["intervals"][key]
            hits[key] += lo <= value <= hi
    for key, count in hits.items():
        assert 0.88 <= count / trials <= 0.99, (key, count / trials)


def test_bootstrap_is_seeded_and_skips_replicates_without_a_class():
    y, s, d = sample(3, 2000)
    a = bootstrap_intervals(y, s, d, n_bootstrap=50, random_state=1)
    assert a == bootstrap_intervals(y, s, d, n_bootstrap=50, random_state=1)
    assert a != bootstrap_intervals(y, s, d, n_bootstrap=50, random_state=2)
    assert set(a["intervals"]) == set(BOOTSTRAP_METRICS)
    rare = np.zeros(40, np.int8)
    rare[0] = 1  # about a third of replicates draw no malicious row
    out = bootstrap_intervals(rare, np.linspace(0, 1, 40), np.zeros(40, bool), n_bootstrap=300)
    assert 150 < out["valid_replicates"]["recall"] < 250
    assert out["valid_replicates"]["fpr"] == 300
    assert out["intervals"][DETECTION_KEY] is None  # 39 benign rows cannot resolve 1% FPR
    with pytest.raises(EvaluationError, match="n_bootstrap"):
        bootstrap_intervals(y, s, d, n_bootstrap=0)


def test_evaluate_scores_puts_intervals_on_every_headline_figure():
    y, s, _ = sample(4, 3000)
    m = evaluate_scores(y, s, 0.5, n_bootstrap=100, ts=T0 + np.linspace(0, 3 * DAY, 3000))
    intervals = m["bootstrap"]["intervals"]
    for key in ("roc_auc", "pr_auc", "precision", "recall", "f1", "fpr", "brier", "ece"):
        lo, hi = intervals[key]
        assert lo <= m[key] <= hi, key
    lo, hi = intervals[DETECTION_KEY]
    assert lo <= m["detection_at_fpr"]["0.01"] <= hi
    volume = m["alert_volume"]
    assert (
        volume["alerts_per_day_ci"][0] <= volume["alerts_per_day"] <= volume["alerts_per_day_ci"][1]
    )


# --- alert volume and budgets ------------------------------------------------------------


def test_given_events_per_day_turn_alert_rates_into_alerts_per_day():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    s = np.array([0.9, 0.2, 0.8, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    m = evaluate_scores(y, s, 0.5, events_per_day=1000, ts=T0 + np.arange(10.0))
    volume = m["alert_volume"]
    assert volume["events_per_day_source"] == "given"
    assert volume["alerts_per_day"] == pytest.approx(200.0)  # 2 alerts in 10 rows
    assert volume["false_alerts_per_day"] == pytest.approx(100.0)
    assert evaluate_scores(y, s, 0.5)["alert_volume"] is None
    with pytest.raises(EvaluationError, match="events_per_day"):
        evaluate_scores(y, s, 0.5, events_per_day=-5)


def test_alert_budget_takes_the_top_k_scores_of_each_day():
    # day 1: malicious rows score highest; day 2: benign rows score highest
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    s = np.array([0.9, 0.8, 0.3, 0.2, 0.1, 0.95, 0.9, 0.5])
    ts = np.r_[T0 + np.arange(4.0), T0 + DAY + np.arange(4.0)]
    budget = evaluate_scores(y, s, 0.5, ts=ts, alert_budgets=[1, 2])["alert_budget"]
    assert budget["mode"] == "per day" and budget["n_days"] == 2
    one, two = budget["budgets"]
    assert (one["alerts"], one["true_alerts"]) == (2, 1)  # 0.9 on day 1, 0.95 on day 2
    assert one["precision"] == 0.5 and one["recall"] == pytest.approx(1 / 3)
    assert (two["alerts"], two["true_alerts"], two["alerts_per_day"]) == (4, 2, 2.0)


def test_alert_budget_without_timestamps_scales_k_by_the_days_the_set_covers():
    y, s, _ = sample(5, 1000)
    whole = evaluate_scores(y, s, 0.5, alert_budgets=[10], events_per_day=250)["alert_budget"]
    assert whole["mode"] == "whole set" and whole["n_days"] == 4.0
    row = whole["budgets"][0]
    top = np.argsort(-s, kind="stable")[:40]
    assert row["alerts"] == 40 and row["true_alerts"] == int(y[top].sum())
    one_day = evaluate_scores(y, s, 0.5, alert_budgets=[10])["alert_budget"]
    assert one_day["n_days"] == 1.0 and one_day["budgets"][0]["alerts"] == 10
    with pytest.raises(EvaluationError, match="alert_budgets"):
        evaluate_scores(y, s, 0.5, alert_budgets=[0])


# --- campaigns ---------------------------------------------------------------------------


def test_campaigns_split_by_family_source_and_gap_and_time_the_first_alert():
    # scan from A: rows at 0, 10, 20 s (alert on the third); a 2-hour pause, then a
    # second scan campaign from A at 7200 s that is never detected; scan from B at 5 s,
    # detected on its first row; plus benign rows that never count.
    ts = np.array([0, 10, 20, 7200, 7210, 5, 30, 40], dtype=float) + T0
    y = np.array([1, 1, 1, 1, 1, 1, 0, 0])
    d = np.array([0, 0, 1, 0, 0, 1, 1, 0], dtype=bool)
    kinds = ["scan"] * 6 + ["benign"] * 2
    src = ["A", "A", "A", "A", "A", "B", "A", "B"]
    m = evaluate_scores(y, d.astype(float), 0.5, ts=ts, attack_type=kinds, src_ip=src)
    c = m["campaigns"]
    assert (c["n_campaigns"], c["n_detected"]) == (3, 2)
    by_start = sorted(c["campaigns"], key=lambda r: r["start"])
    first, from_b, late = by_start
    assert first["key"] == "scan | A" and first["rows"] == 3
    assert first["first_detection_delay_s"] == 20.0 and first["rows_until_detected"] == 3
    assert from_b["key"] == "scan | B" and from_b["first_detection_delay_s"] == 0.0
    assert from_b["rows_until_detected"] == 1
    assert late["detected"] is False and late["first_detection_delay_s"] is None
    assert c["by_attack_type"][0]["campaigns"] == 3
    merged = evaluate_scores(
        y, d.astype(float), 0.5, ts=ts, attack_type=kinds, campaign_gap_s=10_000
    )["campaigns"]
    assert merged["n_campaigns"] == 1 and merged["grouped_by"] == ["attack_type"]
    only = merged["campaigns"][0]  # rows at 0 s (A, missed), then 5 s (B, alerted)
    assert only["rows_until_detected"] == 2 and only["first_detection_delay_s"] == 5.0


# --- performance over time ---------------------------------------------------------------


def test_periods_are_days_and_the_slope_measures_decay_since_training():
    rng = np.random.default_rng(6)
    days, per_day = 8, 400
    ts = T0 + np.repeat(np.arange(days) * DAY, per_day) + rng.uniform(0, DAY, days * per_day)
    y = (rng.random(days * per_day) < 0.25).astype(np.int8)
    day = (ts - T0) // DAY
    detect_p = 0.95 - 0.05 * day  # detection falls 5 points a day
    d = np.where(y == 1, rng.random(len(y)) < detect_p, rng.random(len(y)) < 0.01)
    s = np.where(d, 0.9, 0.1) + rng.uniform(-0.05, 0.05, len(y))
    p = evaluate_scores(y, s, 0.5, ts=ts, train_end_ts=T0 - 2 * DAY)["periods"]
    assert p["period_s"] == DAY and p["n_periods"] == days
    assert p["time_since"] == "the end of training"
    assert p["periods"][0]["days_since_reference"] == pytest.approx(2.5)
    assert p["detection_slope_per_day"] == pytest.approx(-0.05, abs=0.01)
    assert abs(p["fpr_slope_per_day"]) < 0.003
    assert p["periods"][0]["detection"] > p["periods"][-1]["detection"]
    short = evaluate_scores(y[:50], s[:50], 0.5, ts=T0 + np.arange(50) * 600.0)["periods"]
    assert short["period_s"] == 3600.0 and short["time_since"].startswith("the start of the test")


def test_datetime_timestamps_are_accepted():
    y, s, _ = sample(7, 200)
    ts = pd.Series(pd.date_range("2024-01-01", periods=200, freq="h", tz="UTC"))
    m = evaluate_scores(y, s, 0.5, ts=ts)
    assert m["time"]["span_days"] == pytest.approx(199 / 24)
    assert m["periods"]["n_periods"] == 9
