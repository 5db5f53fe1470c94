"""Active learning: the review queue (near the threshold, diverse, deterministic), its table in
the state store (migration, replace, label in one transaction), and the CLI commands."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from seclearn.cli.main import app
from seclearn.config import load_settings
from seclearn.datasets import simulate_enterprise, write_zeek_conn
from seclearn.datasets.simulator import DEFAULT_START
from seclearn.errors import ConfigError, RecordNotFoundError, StoreError
from seclearn.lifecycle.review import queue_items, review_queue, review_uncertainty
from seclearn.models import make_detector
from seclearn.pipeline import DetectionPipeline
from seclearn.registry import save_model
from seclearn.store import (
    SCHEMA_VERSION,
    StateStore,
    get_review_item,
    label_review_item,
    replace_review_queue,
    review_items,
)
from seclearn.store._schema import MIGRATIONS

runner = CliRunner()


def _pipeline(frame: pd.DataFrame) -> DetectionPipeline:
    detector = make_detector("lightgbm").set_params(n_jobs=1, n_estimators=100)
    return DetectionPipeline(detector=detector, random_state=0).fit(frame)


@pytest.fixture(scope="module")
def day1() -> pd.DataFrame:
    return simulate_enterprise(days=1, hosts=10, seed=11)


@pytest.fixture(scope="module")
def weak(day1) -> tuple[DetectionPipeline, pd.DataFrame, pd.DataFrame]:
    """A model fitted on 100 random labelled flows; the rest of the day is the unlabelled pool."""
    rows = np.random.default_rng(0).choice(len(day1), 100, replace=False)
    seed = day1.iloc[rows]
    return _pipeline(seed), seed, day1.drop(day1.index[rows])


# --------------------------------------------------------------------------- the queue
def test_queue_items_are_near_the_threshold(weak):
    pipe, _, pool = weak
    queue = review_queue(pipe, pool, k=20)
    everything = review_uncertainty(pipe.risk_score(pool), pipe.threshold_)
    assert len(queue) == 20 and list(queue["rank"]) == list(range(1, 21))
    assert queue["uncertainty"].max() <= np.median(everything)
    assert queue["uncertainty"].max() <= np.quantile(everything, 0.05)
    np.testing.assert_allclose(
        queue["uncertainty"], review_uncertainty(queue["score"], pipe.threshold_)
    )
    assert (queue["threshold"] == pipe.threshold_).all()
    assert {"uid", "ts", "src_ip", "dst_ip", "dst_port", "reason", "cluster"} <= set(queue)
    assert all("label" not in e and "attack_type" not in e for e in queue["raw_event"])


def test_queue_spreads_over_clusters_of_different_traffic(weak):
    pipe, _, pool = weak
    queue = review_queue(pipe, pool, k=12, n_clusters=4)
    assert queue["cluster"].nunique() == 4
    first_round = queue.sort_values("rank").head(4)
    assert first_round["cluster"].nunique() == 4  # round-robin: one of each cluster first
    plain = review_queue(pipe, pool, k=12, n_clusters=1)
    assert plain["cluster"].nunique() == 1
    assert plain["uncertainty"].max() <= queue["uncertainty"].max()  # diversity costs a bit


def test_queue_excludes_labelled_refs_and_is_deterministic(weak):
    pipe, _, pool = weak
    first = review_queue(pipe, pool, k=10, random_state=3)
    again = review_queue(pipe, pool, k=10, random_state=3)
    pd.testing.assert_frame_equal(first, again)
    skipped = set(first["uid"].head(5))
    without = review_queue(pipe, pool, k=10, random_state=3, exclude=skipped)
    assert not skipped & set(without["uid"]) and len(without) == 10


def test_k_larger_than_the_frame_returns_every_eligible_event(weak):
    pipe, _, pool = weak
    small = pool.head(30)
    queue = review_queue(pipe, small, k=50, exclude={small["uid"].iloc[0]})
    assert len(queue) == 29 and sorted(queue["rank"]) == list(range(1, 30))
    assert review_queue(pipe, small.head(0), k=5).empty


def test_bad_arguments_are_refused_with_a_clear_message(weak):
    pipe, _, pool = weak
    with pytest.raises(ConfigError, match="k must be an integer"):
        review_queue(pipe, pool, k=0)
    with pytest.raises(ConfigError, match="no uid column"):
        review_queue(pipe, pool.drop(columns=["uid"]), k=5)


class StepPipeline:
    """A fitted-pipeline stand-in: raw score = x, calibrated to 0.4 or 0.6 (a step)."""

    threshold_ = 0.5

    class detector_:  # mimics the fitted attribute
        @staticmethod
        def risk_score(X):
            return X[:, 0]

    class calibrator_:
        @staticmethod
        def transform(raw):
            return np.where(raw < 0, 0.4, 0.6)

    def transform_features(self, frame):
        return frame[["x", "y"]].to_numpy(dtype=float)


def test_ties_of_a_step_calibration_go_to_the_raw_scores_nearest_the_flip():
    x = np.array([-3.0, -0.3, 2.5, 0.1, -1.2, 0.8, 4.0])  # the decision flips at -0.1
    frame = pd.DataFrame({"x": x, "y": 0.0, "uid": [f"U{i}" for i in range(len(x))]})
    queue = review_queue(StepPipeline(), frame, k=4, n_clusters=1)
    assert np.ptp(queue["uncertainty"]) < 1e-9  # every calibrated score ties
    uids = list(queue["uid"])  # |x + 0.1|: U1 0.2, U3 0.2, U5 0.9, U4 1.1
    assert set(uids[:2]) == {"U1", "U3"} and uids[2:] == ["U5", "U4"]


def test_labelling_the_queue_vs_random_events_on_a_later_day(day1):
    """Active learning vs random labelling: k labels each, refitted, measured on a later day.

    Three draws of 100 random starting labels; each model gets k more labels, from its
    review queue or at random, and is scored on the next simulated day. Only what is
    robust is asserted (the queue holds near-threshold events, random picks hardly
    any); the ROC-AUCs and detection rates are printed, whatever they show.
    """
    later = simulate_enterprise(days=1, hosts=10, seed=12, start=DEFAULT_START + timedelta(days=1))
    y_later = later["label"].to_numpy(dtype=int)
    k, gains = 20, {"queue": [], "random": []}
    print()
    for draw in range(3):
        rows = np.random.default_rng(draw).choice(len(day1), 100, replace=False)
        seed, pool = day1.iloc[rows], day1.drop(day1.index[rows])
        pipe = _pipeline(seed)
        base = roc_auc_score(y_later, pipe.risk_score(later))
        near = np.quantile(review_uncertainty(pipe.risk_score(pool), pipe.threshold_), 0.10)
        queue = review_queue(pipe, pool, k=k)
        line = [f"draw {draw}: 100 random labels ROC-AUC {base:.4f}"]
        n_near = {}
        for name, picked in (
            ("queue", pool.loc[queue.index]),
            ("random", pool.sample(k, random_state=draw)),
        ):
            scores = _pipeline(pd.concat([seed, picked])).risk_score(later)
            cut = np.quantile(scores[y_later == 0], 0.99)
            auc = roc_auc_score(y_later, scores)
            gains[name].append(auc - base)
            u = review_uncertainty(pipe.risk_score(picked), pipe.threshold_)
            n_near[name] = int((u <= near).sum())
            line.append(
                f"+{k} {name}: ROC-AUC {auc:.4f}, detection at 1% FPR "
                f"{np.mean(scores[y_later == 1] > cut):.4f}, {picked['label'].mean():.0%} "
                f"malicious, {n_near[name]}/{k} near the threshold"
            )
        print("; ".join(line))
        assert n_near["queue"] == k and n_near["queue"] > n_near["random"]
    print(
        f"mean ROC-AUC gain over the 3 draws: queue {np.mean(gains['queue']):+.4f}, "
        f"random {np.mean(gains['random']):+.4f}"
    )


# ------------------------------------------------------------------- the store's table
ITEMS = [
    {"event_ref": f"C{n}", "score": 0.5, "threshold": 0.5, "uncertainty": 0.1 * n, "rank": n}
    for n in range(1, 4)
]


def test_a_database_made_before_the_review_queue_opens_and_gains_the_table(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL)")
    for statement in dict(MIGRATIONS)[1]:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_migrations VALUES (1, 0)")
    conn.execute(
        "INSERT INTO labels (event_ref, label, who, source, reason, created_at) "
        "VALUES ('OLD', 1, 'ana', 'verdict', '', 0)"
    )
    conn.commit()
    conn.close()
    with StateStore(path) as store:
        assert [lab.event_ref for lab in store.labels()] == ["OLD"]
        assert replace_review_queue(store, "flows", ITEMS) == 3
        assert len(review_items(store)) == 3
    check = sqlite3.connect(path)
    assert check.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == 2
    check.close()
    assert SCHEMA_VERSION == 2


def test_replacing_a_queue_is_one_transaction_per_model(tmp_path):
    with StateStore(tmp_path / "s.db") as store:
        replace_review_queue(store, "flows", ITEMS)
        replace_review_queue(store, "dns", ITEMS[:1])
        bad = [*ITEMS[:2], {**ITEMS[2], "score": 7.0}]
        with pytest.raises(ConfigError, match="score must be in"):
            replace_review_queue(store, "flows", bad)
        assert [i.event_ref for i in review_items(store, model="flows")] == ["C1", "C2", "C3"]
        with pytest.raises(ConfigError, match="distinct"):
            replace_review_queue(store, "flows", [ITEMS[0], ITEMS[0]])
        replace_review_queue(store, "flows", ITEMS[1:])
        assert [i.event_ref for i in review_items(store, model="flows")] == ["C2", "C3"]
        assert [i.event_ref for i in review_items(store, model="dns")] == ["C1"]
        actions = [e.action for e in store.audit_entries()]
        assert actions == ["review.replace"] * 3 and store.verify_audit() == 3


def test_labelling_an_item_records_the_label_and_closes_the_item_together(tmp_path):
    with StateStore(tmp_path / "s.db") as store:
        store.record_label("C2", 1, who="bob", source="import:x.csv", reason="")
        replace_review_queue(store, "flows", ITEMS)
        item = review_items(store)[1]
        label = label_review_item(store, item.id, 0, who="ana", reason="backup job")
        assert (label.event_ref, label.label, label.previous) == ("C2", 0, 1)
        assert (label.who, label.source) == ("ana", "review") and "backup job" in label.reason
        closed = get_review_item(store, item.id)
        assert (closed.status, closed.label_id) == ("labelled", label.id)
        assert [i.event_ref for i in review_items(store)] == ["C1", "C3"]
        with pytest.raises(StoreError, match="already labelled"):
            label_review_item(store, item.id, 1, who="eve")
        with pytest.raises(RecordNotFoundError):
            label_review_item(store, 999, 1, who="eve")
        assert len(store.labels("C2")) == 2
        assert [e.action for e in store.audit_entries()][-2:] == ["label", "review.label"]
        store.verify_audit()


def test_queue_items_round_trip_into_the_store(weak, tmp_path):
    pipe, _, pool = weak
    queue = review_queue(pipe, pool, k=5)
    with StateStore(tmp_path / "s.db") as store:
        replace_review_queue(store, "flows", queue_items(queue))
        stored = review_items(store)
    assert [i.event_ref for i in stored] == list(queue["uid"])
    assert stored[0].raw_event["uid"] == queue["uid"].iloc[0]
    assert stored[0].score == pytest.approx(queue["score"].iloc[0])


# -------------------------------------------------------------------------------- CLI
def test_cli_review_stores_the_queue_and_labels_import_records(day1, weak, tmp_path):
    ws = tmp_path / "ws"
    pipe, _, pool = weak
    save_model(pipe, "flows", root=ws, key=load_settings(ws).key())
    log = tmp_path / "pool.conn.log"
    write_zeek_conn(pool.head(2000), log)
    labels = tmp_path / "labels.csv"
    labels.write_text(f"uid,label\n{pool['uid'].iloc[0]},1\nbad,3\n")
    imported = runner.invoke(app, ["labels", "import", str(labels), "--who", "ana", "-w", str(ws)])
    assert imported.exit_code == 0, imported.output
    assert "2 rows: 1 accepted" in imported.output and "line 3" in imported.output
    assert (tmp_path / "labels.csv.quarantine.jsonl").exists()

    result = runner.invoke(app, ["review", "flows", str(log), "--k", "5", "--store", "-w", str(ws)])
    assert result.exit_code == 0, result.output
    assert "5 of 2,000 events" in result.output and "1 already labelled" in result.output
    with StateStore(ws / "state.db") as store:
        items = review_items(store, model="flows")
    assert len(items) == 5 and pool["uid"].iloc[0] not in {i.event_ref for i in items}
