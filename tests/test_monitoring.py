"""Drift monitoring: false alarms on a stationary stream, a planted shift, health, performance.

The flows here are i.i.d. draws of one synthetic generator without ``ts`` or addresses,
so the featurizer adds no time-window context features and every window is drawn from
exactly the training distribution (random samples of simulator days would change the
context features, which are computed across neighbouring flows). Run with ``-s`` to
see the measured figures.
"""

from __future__ import annotations

import time

import numpy as np
import orjson
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from seclearn.errors import ModelError
from seclearn.features import ReferenceProfile
from seclearn.monitoring import (
    DriftMonitor,
    MonitorReport,
    WindowResult,
    parse_window,
    psi,
    render_html,
    report_registry,
)
from seclearn.pipeline import DetectionPipeline

WINDOW_ROWS = 1000


def flows(
    seed: int, n: int, *, shift: float = 1.0, evade: bool = False, attack_share: float = 0.05
) -> pd.DataFrame:
    """Benign web/DNS-like flows and scan-like attacks; ``shift`` scales ``dst_bytes``.

    With ``evade`` the attack rows are drawn like benign ones (still labeled 1), so the
    model misses them: its recall collapses while the features barely move.
    """
    rng = np.random.default_rng(seed)
    bad = rng.random(n) < attack_share
    looks_bad = bad & (not evade)
    return pd.DataFrame(
        {
            "duration_s": np.where(looks_bad, rng.exponential(0.05, n), rng.lognormal(0, 1, n)),
            "src_bytes": np.where(looks_bad, rng.lognormal(4, 0.5, n), rng.lognormal(7, 1, n)),
            "dst_bytes": np.where(looks_bad, 0.0, rng.lognormal(9, 1.2, n)) * shift,
            "src_pkts": rng.poisson(8, n) + 1.0,
            "dst_pkts": np.where(looks_bad, 0.0, rng.poisson(10, n) + 1.0),
            "dst_port": rng.choice([80, 443, 53, 22, 8080], n, p=[0.2, 0.5, 0.2, 0.05, 0.05]),
            "proto": rng.choice(["tcp", "udp"], n, p=[0.8, 0.2]),
            "conn_state": np.where(
                looks_bad, "REJ", rng.choice(["SF", "S1", "RSTO"], n, p=[0.8, 0.15, 0.05])
            ),
            "label": bad.astype(int),
        }
    )


@pytest.fixture(scope="module")
def pipeline() -> DetectionPipeline:
    return DetectionPipeline(detector="logistic_regression").fit(flows(0, 6000))


def _windows(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)


def test_stationary_stream_raises_at_most_one_false_alarm_in_100_windows(pipeline):
    started = time.perf_counter()
    frame = _windows([flows(1000 + i, WINDOW_ROWS) for i in range(100)])
    report = DriftMonitor(window=f"rows:{WINDOW_ROWS}").check(pipeline, frame, model="m@1")
    alarms = [w.index for w in report.windows if w.drift]
    max_psi = max(f.psi for w in report.windows for f in w.features)
    print(
        f"\nstationary: {len(alarms)} of {len(report.windows)} windows flagged {alarms}; "
        f"largest feature PSI {max_psi:.3f}; largest score PSI "
        f"{max(w.score_psi or 0 for w in report.windows):.3f}; performance change points "
        f"{len(report.change_points)}; {time.perf_counter() - started:.1f}s"
    )
    assert len(report.windows) == 100 and report.healthy
    assert len(alarms) <= 1
    assert not report.performance_drift


def test_one_shifted_feature_is_caught_within_three_windows(pipeline):
    k = 5
    frame = _windows(
        [flows(2000 + i, WINDOW_ROWS, shift=2.0 if i >= k else 1.0) for i in range(10)]
    )
    report = DriftMonitor(window=f"rows:{WINDOW_ROWS}").check(pipeline, frame)
    shifted_psi = [next(f.psi for f in w.features if f.name == "dst_bytes") for w in report.windows]
    # PSI of the shifted window against the reference, computed independently of the monitor
    ref = pipeline.profile_.feature("dst_bytes")
    column = pipeline.feature_names_.index("dst_bytes")
    X = pipeline.transform_features(frame.iloc[k * WINDOW_ROWS : (k + 1) * WINDOW_ROWS])
    independent = psi(np.asarray(ref.proportions), ref.cell_counts(X[:, column]))
    caught = next((w.index for w in report.windows if "dst_bytes" in w.drifted_features), None)
    print(
        f"\nshift: dst_bytes x2 from window {k}; PSI per window {np.round(shifted_psi, 3).tolist()}; "
        f"PSI of window {k} {independent:.3f}; first caught in window {caught}; flagged "
        f"{report.drifted_features}"
    )
    assert independent > 0.2
    assert caught is not None and k <= caught <= k + 2
    assert not any(w.drifted_features for w in report.windows[:k])
    # only dst_bytes and the features computed from it may move
    derived = {s.name for s in pipeline.featurizer_.feature_specs_ if "dst_bytes" in s.sources}
    assert set(report.drifted_features) <= derived and "dst_bytes" in report.drifted_features
    assert report.status == "drift" and report.exit_code == 1


def test_empty_data_is_unhealthy_never_ok(pipeline):
    report = DriftMonitor().check(pipeline, pd.DataFrame())
    assert report.status == "unhealthy" and report.exit_code == 3
    assert "no rows" in " ".join(report.unhealthy_reasons)


def test_a_window_without_a_required_column_is_unhealthy(pipeline):
    frames = [flows(3000 + i, WINDOW_ROWS) for i in range(3)]
    frames[1]["dst_bytes"] = np.nan
    report = DriftMonitor(window=f"rows:{WINDOW_ROWS}").check(pipeline, _windows(frames))
    assert [w.healthy for w in report.windows] == [True, False, True]
    assert "dst_bytes" in report.windows[1].reasons[0]
    assert report.status == "unhealthy"


def test_a_column_missing_everywhere_and_a_tiny_window_are_unhealthy(pipeline):
    frame = _windows([flows(3100, WINDOW_ROWS), flows(3101, 50)]).drop(columns="conn_state")
    report = DriftMonitor(window=f"rows:{WINDOW_ROWS}").check(pipeline, frame)
    reasons = report.unhealthy_reasons
    assert report.status == "unhealthy"
    assert any("conn_state" in r for r in reasons)
    assert any("fewer than min_rows" in r for r in reasons)


def test_an_empty_time_window_and_unscorable_data_are_unhealthy(pipeline):
    frame = _windows([flows(3200, 600), flows(3201, 600)])
    frame["ts"] = np.r_[np.linspace(0, 3000, 600), np.linspace(7300, 10000, 600)]
    report = DriftMonitor(window="1h").check(pipeline, frame)
    assert [w.n_rows for w in report.windows] == [600, 0, 600]
    assert report.windows[1].reasons == ["no rows in this window"]
    assert report.status == "unhealthy"
    junk = pd.DataFrame({"nothing": ["a"] * 300, "useful": [1.0] * 300})
    broken = DriftMonitor(window="rows:300").check(pipeline, junk)
    assert broken.status == "unhealthy"
    assert "could not be featurized" in broken.unhealthy_reasons[0]


def test_recall_collapse_is_flagged_and_stable_performance_is_not(pipeline):
    k = 10
    collapse = _windows([flows(4000 + i, WINDOW_ROWS, evade=i >= k) for i in range(20)])
    stable = _windows([flows(5000 + i, WINDOW_ROWS) for i in range(20)])
    monitor = DriftMonitor(window=f"rows:{WINDOW_ROWS}")
    bad, good = monitor.check(pipeline, collapse), monitor.check(pipeline, stable)
    recall = [w.performance.get("recall") for w in bad.windows]
    degraded = [c for c in bad.change_points if c.degraded]
    print(
        f"\nperformance: recall per window {np.round(recall, 2).tolist()}; change points "
        f"{[(c.stream, c.window, round(c.error_before, 3), round(c.error_after, 3)) for c in bad.change_points]}; "
        f"stable run change points {len(good.change_points)}"
    )
    assert degraded and degraded[0].stream == "miss" and k <= degraded[0].window <= k + 2
    assert bad.performance_drift and bad.status == "drift"
    assert not good.performance_drift and not good.change_points


def test_profile_is_compact_and_survives_save_and_load(pipeline, tmp_path):
    files = pipeline.save(tmp_path / "m")
    doc = orjson.loads(files[0].read_bytes())
    size = len(orjson.dumps(doc["profile"]))
    print(f"\nprofile: {size:,} bytes for {len(pipeline.feature_names_)} features")
    assert size < 10_000 * len(pipeline.feature_names_)
    loaded = DetectionPipeline.load(tmp_path / "m")
    assert loaded.profile_ == pipeline.profile_
    assert 0 < loaded.profile_.alert_rate < 0.2
    assert ReferenceProfile.from_dict(loaded.profile_.to_dict()) == pipeline.profile_


def test_an_old_pipeline_without_profile_loads_and_monitor_says_retrain(pipeline, tmp_path):
    path = pipeline.save(tmp_path / "old")[0]
    doc = orjson.loads(path.read_bytes())
    del doc["profile"]
    path.write_bytes(orjson.dumps(doc))
    old = DetectionPipeline.load(tmp_path / "old")
    assert old.profile_ is None
    assert old.risk_score(flows(1, 50)).shape == (50,)
    with pytest.raises(ModelError, match=r"no training reference profile.*retrain"):
        DriftMonitor().check(old, flows(1, 500), model="old@1")


def test_gauges_parse_and_name_the_drifted_feature(pipeline):
    frame = _windows([flows(6000, WINDOW_ROWS), flows(6001, WINDOW_ROWS, shift=3.0)])
    report = DriftMonitor(window=f"rows:{WINDOW_ROWS}").check(pipeline, frame, model="m@1")
    from prometheus_client import generate_latest

    text = generate_latest(report_registry(report)).decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    drifted = {s.labels["feature"]: s.value for s in families["seclearn_feature_drifted"].samples}
    assert drifted["dst_bytes"] == 1.0 and drifted["proto=tcp"] == 0.0
    assert families["seclearn_drift_detected"].samples[0].value == 1.0
    assert families["seclearn_monitor_healthy"].samples[0].value == 1.0
    assert {"seclearn_feature_psi", "seclearn_score_psi", "seclearn_alert_rate"} <= set(families)


def test_html_report_escapes_data_and_embeds_plots(pipeline):
    frame = _windows([flows(7000, WINDOW_ROWS), flows(7001, WINDOW_ROWS, shift=3.0)])
    report = DriftMonitor(window=f"rows:{WINDOW_ROWS}").check(
        pipeline, frame, model="<script>alert(1)</script>"
    )
    report.windows.append(WindowResult(2, 0, 0, 0, False, ["<img src=x onerror=alert(1)>"]))
    html = render_html(report)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html and html.count("data:image/png;base64,") >= 3
    assert isinstance(report, MonitorReport) and report.status == "unhealthy"
    orjson.dumps(report.to_dict())  # JSON-ready: no NaN, no numpy scalars


@pytest.mark.parametrize("spec", ["1x", "rows:0", "0h", "", "rows:-5"])
def test_bad_window_specs_are_refused_with_the_accepted_forms(spec):
    with pytest.raises(ValueError, match=r"'1h'.*'rows:5000'"):
        parse_window(spec)


def test_labels_passed_in_follow_their_rows_when_the_frame_is_sorted_by_time(pipeline):
    frame = flows(8000, 2 * WINDOW_ROWS).drop(columns="label")
    frame["ts"] = np.arange(len(frame), dtype=float)[::-1] * 10.0  # newest first
    labels = np.full(len(frame), np.nan)
    labels[:WINDOW_ROWS] = 1  # the newest half: labeled malicious
    report = DriftMonitor(window="rows:1000").check(pipeline, frame, labels=labels)
    assert [w.performance.get("n_labeled", 0) for w in report.windows] == [0, WINDOW_ROWS]


@pytest.mark.parametrize(
    "module",
    [
        "seclearn.features.profile",
        "seclearn.monitoring",
        "seclearn.monitoring.performance",
        "seclearn.monitoring.stats",
        "seclearn.monitoring.windows",
    ],
)
def test_docstring_examples_hold(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
