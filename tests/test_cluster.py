"""Campaign clustering: the clusterer, its report, `cluster_dataset` and `seclearn cluster`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from seclearn.cli.main import app, main
from seclearn.config import load_settings
from seclearn.datasets import create_dataset, simulate_enterprise, write_zeek_conn
from seclearn.errors import (
    ConfigError,
    DatasetNotFoundError,
    ModelError,
    ModelNotFoundError,
    NotFittedError,
    ParameterError,
)
from seclearn.lifecycle import DEMO_START, cluster_dataset, render_cluster_html, train_model
from seclearn.models.cluster_report import describe_clusters, purity_scores
from seclearn.models.clustering import NOISE, CampaignClusterer

runner = CliRunner()
CENTRES = (0.0, 8.0, 16.0)
PLANTED = '<script>alert("planted")</script>'


def _blobs(per: int = 80, dims: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three tight, far-apart Gaussian blobs and the blob each row came from."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(c, 0.4, size=(per, dims)) for c in CENTRES])
    return X, np.repeat(np.array(["a", "b", "c"]), per)


# --------------------------------------------------------------- the clusterer
@pytest.mark.parametrize("method", ["hdbscan", "kmeans"])
def test_planted_blobs_are_recovered_with_purity_one(method):
    X, truth = _blobs()
    model = CampaignClusterer(method=method, random_state=0).fit(X)
    scores = purity_scores(model.labels_, truth)
    assert model.n_clusters_ == 3
    assert scores["weighted_purity"] == 1.0
    assert scores["adjusted_rand"] == pytest.approx(1.0)
    assert scores["coverage"] >= 0.9  # HDBSCAN may leave a few edge points as noise


def test_kmeans_chooses_k_by_silhouette_without_labels():
    X, _ = _blobs()
    model = CampaignClusterer(method="kmeans", max_clusters=8, random_state=0).fit(X)
    assert sorted(model.k_scores_) == list(range(2, 9))
    assert max(model.k_scores_, key=model.k_scores_.get) == 3 == model.n_clusters_
    assert (model.labels_ != NOISE).all()


def test_kmeans_with_a_fixed_k_uses_it():
    X, _ = _blobs()
    model = CampaignClusterer(method="kmeans", n_clusters=5, random_state=0).fit(X)
    assert model.n_clusters_ == 5 and model.k_scores_ == {}
    assert set(model.labels_.tolist()) == set(range(5))


@pytest.mark.parametrize("method", ["hdbscan", "kmeans"])
def test_seeded_runs_are_identical(method):
    X, _ = _blobs(per=150)
    params = {"method": method, "max_fit_rows": 200, "random_state": 3}
    first = CampaignClusterer(**params).fit(X)
    second = CampaignClusterer(**params).fit(X)
    np.testing.assert_array_equal(first.labels_, second.labels_)
    np.testing.assert_array_equal(first.sample_indices_, second.sample_indices_)
    other = CampaignClusterer(**{**params, "random_state": 4}).fit(X)
    assert not np.array_equal(first.sample_indices_, other.sample_indices_)


@pytest.mark.parametrize("method", ["hdbscan", "kmeans"])
def test_rows_beyond_the_fit_sample_are_assigned_to_their_blob(method):
    X, truth = _blobs(per=200)
    model = CampaignClusterer(method=method, max_fit_rows=150, random_state=0).fit(X)
    assert len(model.sample_indices_) == 150
    assigned = np.setdiff1d(np.arange(len(X)), model.sample_indices_)
    scores = purity_scores(model.labels_[assigned], truth[assigned])
    assert scores["weighted_purity"] == 1.0
    assert scores["coverage"] >= 0.8


def test_far_outliers_are_noise_and_kept_out_of_purity():
    X, truth = _blobs()
    outliers = np.array([[60.0] * 6, [-60.0] * 6, [60.0, -60.0] * 3])
    Xo = np.vstack([X, outliers])
    model = CampaignClusterer(method="hdbscan", random_state=0).fit(Xo)
    assert (model.labels_[-3:] == NOISE).all()
    assert (model.predict(outliers + 1.0) == NOISE).all()  # new far rows too
    scores = purity_scores(model.labels_, np.concatenate([truth, ["z", "z", "z"]]))
    assert scores["weighted_purity"] == 1.0
    assert scores["purity_all_rows"] < 1.0
    report = describe_clusters(model, Xo)
    assert report["noise"]["count"] == int((model.labels_ == NOISE).sum()) >= 3
    assert sum(c["size"] for c in report["clusters"]) + report["noise"]["count"] == len(Xo)


def test_refitting_forgets_the_previous_fit():
    first, _ = _blobs(per=100)
    second = np.vstack([first[:100] - 40.0, first[100:200] + 40.0])
    model = CampaignClusterer(max_fit_rows=60, random_state=0).fit(first)
    model.predict(first)  # builds search trees on the first fit's points
    model.fit(second)
    fresh = CampaignClusterer(max_fit_rows=60, random_state=0).fit(second)
    np.testing.assert_array_equal(model.labels_, fresh.labels_)
    np.testing.assert_array_equal(model.predict(second), fresh.predict(second))
    model.set_params(method="kmeans").fit(second)
    assert not hasattr(model, "min_cluster_size_")


def test_fit_does_not_mutate_its_input_and_accepts_missing_values():
    X, truth = _blobs()
    X[::17, 2] = np.nan
    before = X.copy()
    model = CampaignClusterer(random_state=0).fit(X)
    np.testing.assert_array_equal(X, before)
    assert purity_scores(model.labels_, truth)["weighted_purity"] == 1.0


@pytest.mark.parametrize(
    ("param", "value", "allowed"),
    [
        ("method", "dbscan", "a str among {'hdbscan', 'kmeans'}"),
        ("min_cluster_size", 1, "an int in [2, inf) or None"),
        ("min_samples", 0, "an int in [1, inf) or None"),
        ("n_clusters", 0, "an int in [1, inf) or None"),
        ("max_clusters", 1, "an int in [2, 200]"),
        ("n_components", 0, "an int in [1, inf) or None"),
        ("max_fit_rows", 5, "an int in [10, inf)"),
        ("noise_factor", 0.0, "a float in (0, inf)"),
        ("random_state", -1, "an int in [0, inf)"),
        ("random_state", None, "an int in [0, inf)"),
    ],
)
def test_bad_parameters_name_the_parameter_and_what_is_allowed(param, value, allowed):
    X, _ = _blobs()
    with pytest.raises(ParameterError) as info:
        CampaignClusterer(**{param: value}).fit(X)
    message = str(info.value)
    assert f"The {param!r} parameter of CampaignClusterer must be {allowed}." in message
    assert f"Got {value!r} instead." in message


def test_inputs_that_cannot_be_clustered_raise_model_errors():
    X, _ = _blobs()
    with pytest.raises(ModelError, match="at least 2 rows"):
        CampaignClusterer().fit(X[:1])
    with pytest.raises(ModelError, match="same features"):
        CampaignClusterer().fit(np.ones((50, 3)))
    with pytest.raises(ModelError, match="min_cluster_size=500"):
        CampaignClusterer(min_cluster_size=500).fit(X)
    with pytest.raises(ModelError, match="n_clusters=4 needs at least 4 distinct rows"):
        CampaignClusterer(method="kmeans", n_clusters=4).fit(np.repeat(X[[0, 100, 200]], 5, 0))


def test_predict_checks_fitted_state_and_column_count():
    X, _ = _blobs()
    with pytest.raises(NotFittedError):
        CampaignClusterer().predict(X)
    model = CampaignClusterer().fit(X)
    with pytest.raises(ModelError, match="fitted on 6 features; got 5"):
        model.predict(X[:, :5])


@pytest.mark.parametrize("method", ["hdbscan", "kmeans"])
def test_save_and_load_round_trip_predictions(method, tmp_path):
    X, _ = _blobs()
    model = CampaignClusterer(method=method, random_state=0).fit(X[::2])
    written = model.save(tmp_path)
    assert {p.name for p in written} == {"clusterer.json", "clusterer.npz"}
    restored = CampaignClusterer.load(tmp_path)
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert restored.get_params() == model.get_params()


def test_loading_a_clusterer_of_another_format_is_refused(tmp_path):
    CampaignClusterer().fit(_blobs()[0]).save(tmp_path)
    state = json.loads((tmp_path / "clusterer.json").read_text())
    (tmp_path / "clusterer.json").write_text(json.dumps({**state, "format_version": 99}))
    with pytest.raises(ModelError, match="format version 1"):
        CampaignClusterer.load(tmp_path)


# ------------------------------------------------------------------ purity
def test_purity_scores_match_a_hand_computed_example():
    clusters = [0, 0, 0, 1, 1, NOISE, 1]
    truth = ["a", "a", "b", "b", "b", "a", None]  # the unknown row is ignored
    scores = purity_scores(clusters, truth)
    # cluster 0 holds a, a, b (majority 2); cluster 1 holds b, b (2): 4 of 5 clustered rows
    assert scores["rows"] == 6 and scores["categories"] == 2
    assert scores["weighted_purity"] == pytest.approx(4 / 5)
    assert scores["purity_all_rows"] == pytest.approx(4 / 6)
    assert scores["majority_share"] == pytest.approx(3 / 6)
    assert scores["coverage"] == pytest.approx(5 / 6)
    # ARI on the clustered rows: pairs together in both 2, in clusters 4, in truth 4, of 10;
    # expected 4 * 4 / 10 = 1.6, so (2 - 1.6) / ((4 + 4) / 2 - 1.6) = 1/6
    assert scores["adjusted_rand"] == pytest.approx(1 / 6)


def test_purity_scores_edge_cases():
    assert purity_scores([0, 1], [None, None]) == {"rows": 0}
    only_noise = purity_scores([NOISE, NOISE], ["a", "b"])
    assert only_noise["weighted_purity"] is None and only_noise["purity_all_rows"] == 0.0
    with pytest.raises(ModelError, match="one category per cluster label"):
        purity_scores([0, 1, 1], ["a", "b"])


# ------------------------------------------------------------------ report
def test_describe_clusters_reports_size_span_exemplars_features_and_purity():
    X, truth = _blobs(per=60, dims=3)
    X = np.column_stack([X, np.repeat([1.0, 0.0, 0.0], 60)])  # a 0/1 column: blob a only
    frame = pd.DataFrame(
        {
            "ts": 1_700_000_000.0 + np.arange(len(X)) * 10.0,
            "src_ip": [f"10.0.0.{i % 7}" for i in range(len(X))],
            "attack_type": truth,
        }
    )
    model = CampaignClusterer(method="kmeans", n_clusters=3, random_state=0).fit(X)
    names = ["bytes", "pkts", "duration", "proto=tcp"]
    report = describe_clusters(model, X, frame=frame, feature_names=names, n_exemplars=2)
    assert report["method"] == "kmeans" and report["rows"] == 180 and report["n_clusters"] == 3
    assert report["purity"]["weighted_purity"] == 1.0
    by_majority = {c["majority"]: c for c in report["clusters"]}
    assert set(by_majority) == {"a", "b", "c"}
    for c in report["clusters"]:
        members = np.flatnonzero(model.labels_ == c["id"])
        assert c["size"] == 60 and c["share"] == pytest.approx(1 / 3) and c["purity"] == 1.0
        assert c["label_counts"] == {c["majority"]: 60}
        start = frame["ts"].iloc[members]
        assert c["span_s"] == pytest.approx(start.max() - start.min())
        assert c["first_ts"] < c["last_ts"] and c["first_ts"].endswith("+00:00")
        assert len(c["exemplars"]) == 2
        distances = [e["distance"] for e in c["exemplars"]]
        assert distances == sorted(distances)
        for e in c["exemplars"]:
            assert e["row"] in members
            assert e["src_ip"] == frame["src_ip"].iloc[e["row"]] and "time" in e
        assert len(c["distinguishing"]) >= 1
    low, high = by_majority["a"]["distinguishing"], by_majority["c"]["distinguishing"]
    assert all(f["difference"] < 0 for f in low if f["kind"] == "median")  # blob a lowest
    assert all(f["difference"] > 0 for f in high if f["kind"] == "median")  # blob c highest
    share = next(f for f in low if f["feature"] == "proto=tcp")
    assert share == {
        "feature": "proto=tcp",
        "difference": pytest.approx(2 / 3),
        "kind": "share",
        "cluster": 1.0,
        "overall": pytest.approx(1 / 3),
    }
    numeric = next(f for f in high if f["kind"] == "median")
    assert numeric["cluster"] == pytest.approx(16.0, abs=0.5)
    assert numeric["overall"] == pytest.approx(8.0, abs=0.5)
    json.dumps(report)  # JSON-ready


def test_describe_clusters_checks_its_inputs():
    X, _ = _blobs()
    model = CampaignClusterer(method="kmeans", random_state=0).fit(X)
    with pytest.raises(ModelError, match="one label per row"):
        describe_clusters(model, X, labels=[0, 1])
    with pytest.raises(ModelError, match="frame has 3 rows"):
        describe_clusters(model, X, frame=pd.DataFrame({"ts": [1.0, 2.0, 3.0]}))


def test_cluster_html_escapes_report_text_and_is_self_contained():
    X, _ = _blobs()
    model = CampaignClusterer(method="kmeans", n_clusters=3, random_state=0).fit(X)
    frame = pd.DataFrame({"service": [PLANTED] * len(X), "attack_type": [PLANTED] * len(X)})
    report = describe_clusters(model, X, frame=frame, feature_names=[PLANTED] * 6)
    source = {"dataset": PLANTED, "dataset_rows": 1, "model": PLANTED, "alerts": 1}
    html = render_cluster_html({"source": {**source, "alerts_only": True}, **report})
    _assert_safe_page(html)


def _assert_safe_page(html: str) -> None:
    assert PLANTED not in html and "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#34;planted&#34;)&lt;/script&gt;" in html
    for external in ("src=", "href=", "<link", "@import", "url(", "http://", "https://"):
        assert external not in html, external


# ------------------------------------------------------------ cluster_dataset
@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    """A workspace with a simulated dataset ``events``, the same with a ``<script>`` planted
    in the service of every DoS flow (``planted``), and a model ``flows`` trained on events."""
    root = tmp_path_factory.mktemp("ws")
    frame = simulate_enterprise(days=1, hosts=8, seed=5, start=DEMO_START)
    write_zeek_conn(frame, root / "events.log")
    frame.loc[frame["attack_type"] == "dos", "service"] = PLANTED
    write_zeek_conn(frame, root / "planted.log")
    for name in ("events", "planted"):
        create_dataset(root, name, [root / f"{name}.log"])
    train_model(
        root, "events", "flows", key=load_settings(root).key(), detector="logistic_regression"
    )
    return root


FAST = {"max_fit_rows": 3000}


def _key(root: Path) -> bytes:
    return load_settings(root).key()


def test_cluster_dataset_clusters_every_event_and_writes_three_files(ws, tmp_path):
    result = cluster_dataset(ws, "events", out_dir=tmp_path, **FAST)
    report = result.report
    rows = report["source"]["dataset_rows"]
    assert report["source"] == {
        "dataset": "events",
        "dataset_rows": rows,
        "model": None,
        "rows_clustered": rows,
    }
    assert len(result.rows) == len(result.labels) == report["rows"] == rows
    assert json.loads(result.json_path.read_text())["n_clusters"] == report["n_clusters"] >= 2
    assignments = pd.read_parquet(result.assignments_path)
    assert len(assignments) == rows
    np.testing.assert_array_equal(assignments["cluster"], result.labels)
    assert {"row", "cluster", "ts", "src_ip", "dst_ip", "dst_port"} <= set(assignments.columns)
    purity = report["purity"]
    assert purity["weighted_purity"] > purity["majority_share"]  # attack_type never a feature
    features = {f["feature"] for c in report["clusters"] for f in c["distinguishing"]}
    assert not any(f.startswith(("label", "attack_type")) for f in features)
    for c in report["clusters"]:
        assert {"size", "first_ts", "last_ts", "span_s", "majority", "purity"} <= set(c)
        assert all(0 <= e["row"] < rows for e in c["exemplars"])
    assert "Campaign clusters" in result.html_path.read_text()


def test_exemplar_rows_are_dataset_rows(ws, tmp_path):
    from seclearn.datasets import load_dataset

    frame = load_dataset(ws, "events")
    result = cluster_dataset(ws, "events", model="flows", key=_key(ws), out_dir=tmp_path, **FAST)
    for c in result.report["clusters"]:
        for e in c["exemplars"]:
            assert e["src_ip"] == frame["src_ip"].iloc[e["row"]]
            assert e["ts"] == pytest.approx(frame["ts"].iloc[e["row"]])
            assert e["row"] in result.rows


def test_with_a_model_only_its_alerts_are_clustered(ws, tmp_path):
    result = cluster_dataset(ws, "events", model="flows", key=_key(ws), out_dir=tmp_path, **FAST)
    source = result.report["source"]
    assert source["model"] == "flows@1" and source["alerts_only"] is True
    assert source["rows_clustered"] == source["alerts"] == len(result.rows) > 0
    assignments = pd.read_parquet(result.assignments_path)
    assert (assignments["score"] > source["threshold"]).all()
    assert len(assignments) == source["alerts"]


def test_with_a_model_and_all_events_each_cluster_reports_its_alert_share(ws, tmp_path):
    result = cluster_dataset(
        ws, "events", model="flows", key=_key(ws), alerts_only=False, out_dir=tmp_path, **FAST
    )
    assert result.report["source"]["rows_clustered"] == result.report["source"]["dataset_rows"]
    for c in result.report["clusters"]:
        assert 0.0 <= c["alert_share"] <= 1.0 and 0.0 <= c["mean_score"] <= 1.0


def test_kmeans_and_the_default_report_folder(ws):
    result = cluster_dataset(ws, "events", method="kmeans", n_clusters=4, **FAST)
    assert result.json_path.parent == ws / "reports" / "clusters-events-kmeans"
    assert result.report["n_clusters"] == 4 and result.report["noise"]["count"] == 0
    again = cluster_dataset(ws, "events", method="kmeans", n_clusters=4, **FAST)
    np.testing.assert_array_equal(result.labels, again.labels)


def test_text_from_the_data_is_escaped_in_the_html(ws, tmp_path):
    result = cluster_dataset(ws, "planted", out_dir=tmp_path, **FAST)
    services = {e.get("service") for c in result.report["clusters"] for e in c["exemplars"]}
    assert PLANTED in services, "no exemplar carries the planted field"
    _assert_safe_page(result.html_path.read_text())


def test_bad_requests_raise_declared_errors_before_any_report(ws, tmp_path):
    out = tmp_path / "never"
    with pytest.raises(DatasetNotFoundError, match="nope"):
        cluster_dataset(ws, "nope", out_dir=out)
    with pytest.raises(ParameterError, match="'method' parameter of CampaignClusterer"):
        cluster_dataset(ws, "events", method="kmean", out_dir=out)
    with pytest.raises(ParameterError, match="'n_exemplars' parameter"):
        cluster_dataset(ws, "events", n_exemplars=-1, out_dir=out)
    with pytest.raises(ModelNotFoundError, match="ghost"):
        cluster_dataset(ws, "events", model="ghost", key=_key(ws), out_dir=out)
    with pytest.raises(ConfigError, match="signing key"):
        cluster_dataset(ws, "events", model="flows", out_dir=out)
    assert not out.exists()


# ----------------------------------------------------------------------- CLI
def test_cli_cluster_prints_a_table_and_where_the_reports_went(ws, tmp_path):
    result = runner.invoke(
        app,
        ["cluster", "events", "--max-fit-rows", "3000", "--out", str(tmp_path), "-w", str(ws)],
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "clustered with hdbscan" in out and "baseline" in out
    assert "majority" in out and "benign" in out
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", out)  # first seen
    assert re.search(r"\b\d+(\.\d)? (s|min|h|days)\b", out)  # time span
    for name in ("clusters.html", "clusters.json", "assignments.parquet"):
        assert name in out.replace("\n", "")
        assert (tmp_path / name).is_file()


def test_cli_cluster_of_a_models_alerts_with_kmeans(ws, tmp_path):
    args = ["cluster", "events", "--model", "flows", "--method", "kmeans", "-k", "3"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path), "-w", str(ws)])
    assert result.exit_code == 0, result.output
    assert "alerts of flows@1 clustered with kmeans: 3 clusters" in result.output
    report = json.loads((tmp_path / "clusters.json").read_text())
    assert report["source"]["alerts_only"] is True and report["n_clusters"] == 3


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["nope"], "nope"),
        (["events", "--method", "hdbscn"], "hdbscn"),
        (["events", "--model", "ghost"], "ghost"),
    ],
)
def test_cli_cluster_bad_input_gives_one_clean_line(ws, args, named, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["seclearn", "cluster", *args, "-w", str(ws)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and named in err and "Traceback" not in err
