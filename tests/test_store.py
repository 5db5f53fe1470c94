"""The state store: dedup, incidents, severity, paging, verdicts, labels, audit chain, outbox."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from seclearn.cli.main import app, main
from seclearn.errors import AuditChainError, ConfigError, StoreError
from seclearn.store import (
    SCHEMA_VERSION,
    Outbox,
    RecordNotFoundError,
    SchemaVersionError,
    SeverityBands,
    SQLiteOutbox,
    StateStore,
    severity_for,
    state_path,
)

T0 = 1_700_000_000.0


class FrozenClock:
    """A clock that moves only when told."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def store(tmp_path, clock):
    with StateStore(state_path(tmp_path), clock=clock) as s:
        yield s


def _alert(store: StateStore, *, entity="10.0.0.5", detector="flows", t=T0, score=0.9, **kw):
    return store.record_alert(
        detector=detector,
        detector_version=kw.pop("detector_version", 3),
        entity=entity,
        event_time=t,
        score=score,
        threshold=kw.pop("threshold", 0.5),
        top_features=kw.pop(
            "top_features", [{"feature": "dst_port", "value": 22, "contribution": 0.4}]
        ),
        reason=kw.pop("reason", "many connections to port 22"),
        raw_event=kw.pop("raw_event", {"uid": "C1", "src_ip": entity}),
        **kw,
    )


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


# -- dedup and incidents --------------------------------------------------------------


def test_repeat_within_the_window_increments_count_and_keeps_the_max_score(store):
    first = _alert(store, score=0.7, t=T0)
    second = _alert(store, score=0.93, t=T0 + 600, reason="stronger")
    third = _alert(store, score=0.6, t=T0 + 1200, reason="weaker")
    assert first.count == 1
    assert second.id == third.id == first.id
    assert (third.count, third.first_seen, third.last_seen) == (3, T0, T0 + 1200)
    assert third.score == pytest.approx(0.93)
    assert third.reason == "stronger"  # the explanation of the highest-scoring event
    assert third.severity == "high"
    assert len(store.list_alerts()) == 1


def test_repeat_beyond_the_window_creates_a_new_alert(store):
    first = _alert(store, t=T0)
    later = _alert(store, t=T0 + 15 * 60 + 1)
    assert later.id != first.id and later.count == 1
    assert store.get_alert(first.id).count == 1


def test_dedup_window_is_settable_and_zero_keeps_every_event(tmp_path, clock):
    with StateStore(tmp_path / "a.db", clock=clock, dedup_window_s=60) as s:
        a, b = _alert(s, t=T0), _alert(s, t=T0 + 61)
        assert a.id != b.id
        assert _alert(s, t=T0 + 100).id == b.id
    with StateStore(tmp_path / "b.db", clock=clock, dedup_window_s=0) as s:
        assert _alert(s, t=T0).id != _alert(s, t=T0 + 1).id


def test_other_detector_or_entity_is_not_deduplicated(store):
    a = _alert(store)
    assert _alert(store, detector="dns").id != a.id
    assert _alert(store, entity="10.0.0.6").id != a.id


def test_a_closed_alert_is_not_reopened_by_a_repeat(store):
    a = _alert(store)
    store.record_verdict(a.id, "true_positive", analyst="ann")
    b = _alert(store, t=T0 + 60)
    assert b.id != a.id and b.count == 1
    assert store.get_alert(a.id).count == 1


def test_related_alerts_of_one_entity_share_an_incident(store):
    scan = _alert(store, detector="scan", t=T0)
    brute = _alert(store, detector="ssh", t=T0 + 1800)
    other_host = _alert(store, detector="ssh", entity="10.9.9.9", t=T0 + 1800)
    much_later = _alert(store, detector="ssh", t=T0 + 1800 + 3601)
    assert scan.incident_id == brute.incident_id
    assert other_host.incident_id != scan.incident_id
    assert much_later.incident_id not in {scan.incident_id, other_host.incident_id}


def test_incident_window_is_settable(tmp_path, clock):
    with StateStore(tmp_path / "s.db", clock=clock, incident_window_s=60) as s:
        a = _alert(s, detector="scan", t=T0)
        b = _alert(s, detector="ssh", t=T0 + 120)
        assert a.incident_id != b.incident_id


# -- severity -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0.0, "low"), (0.49, "low"), (0.5, "medium"), (0.79, "medium"), (0.8, "high"),
     (0.949, "high"), (0.95, "critical"), (1.0, "critical")],
)  # fmt: skip
def test_severity_bands_of_the_calibrated_score(score, expected):
    assert severity_for(score) == expected


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0.2, "medium"), (0.6, "high"), (0.85, "critical"), (0.99, "critical")],
)
def test_a_critical_asset_raises_severity_one_band(score, expected):
    assert severity_for(score, criticality="high") == expected


def test_store_applies_asset_criticality_and_custom_bands(tmp_path, clock):
    bands = SeverityBands(medium=0.9, high=0.99, critical=0.999)
    crit = {"10.0.0.1": "high"}
    with StateStore(
        tmp_path / "s.db", clock=clock, asset_criticality=crit, severity_bands=bands
    ) as s:
        assert _alert(s, entity="10.0.0.1", score=0.95).severity == "high"
        assert _alert(s, entity="10.0.0.2", score=0.95).severity == "medium"
        assert _alert(s, entity="10.0.0.3", score=0.5).severity == "low"


def test_a_higher_repeat_raises_the_alerts_severity(store):
    assert _alert(store, score=0.55).severity == "medium"
    assert _alert(store, score=0.97, t=T0 + 5).severity == "critical"


@pytest.mark.parametrize(
    "kwargs",
    [{"asset_criticality": {"h": "extreme"}}, {"dedup_window_s": -1}, {"incident_window_s": -5}],
)
def test_bad_store_parameters_raise_config_error(tmp_path, kwargs):
    with pytest.raises(ConfigError):
        StateStore(tmp_path / "s.db", **kwargs)


def test_bad_bands_and_scores_raise_config_error(store):
    with pytest.raises(ConfigError, match="medium < high < critical"):
        SeverityBands(medium=0.9, high=0.8)
    with pytest.raises(ConfigError, match="score"):
        _alert(store, score=1.5)
    with pytest.raises(ConfigError, match="score"):
        _alert(store, score=float("nan"))


# -- queries ------------------------------------------------------------------------------


def test_list_alerts_orders_by_severity_then_score_then_id(store):
    scores = [0.6, 0.99, 0.85, 0.6, 0.3, 0.96]
    ids = [_alert(store, entity=f"h{i}", score=s).id for i, s in enumerate(scores)]
    listed = [a.id for a in store.list_alerts()]
    assert listed == [ids[1], ids[5], ids[2], ids[0], ids[3], ids[4]]


def test_paging_is_stable_and_complete(store):
    for i in range(37):
        _alert(store, entity=f"h{i}", score=[0.55, 0.85, 0.85, 0.97][i % 4])
    everything = [a.id for a in store.list_alerts(limit=1000)]
    pages = [[a.id for a in store.list_alerts(limit=5, offset=o)] for o in range(0, 40, 5)]
    flat = [i for page in pages for i in page]
    assert flat == everything and len(set(flat)) == 37
    again = [[a.id for a in store.list_alerts(limit=5, offset=o)] for o in range(0, 40, 5)]
    assert again == pages


def test_list_alerts_filters(store):
    a = _alert(store, entity="h1", detector="scan", score=0.97, t=T0)
    b = _alert(store, entity="h2", detector="ssh", score=0.6, t=T0 + 7200)
    c = _alert(store, entity="h1", detector="ssh", score=0.82, t=T0 + 3600)
    store.record_verdict(b.id, "false_positive", analyst="ann")

    def ids(**kw):
        return {x.id for x in store.list_alerts(**kw)}

    assert ids(status="open") == {a.id, c.id}
    assert ids(status="closed") == {b.id}
    assert ids(severity="critical") == {a.id}
    assert ids(severity=["high", "medium"]) == {b.id, c.id}
    assert ids(min_score=0.8) == {a.id, c.id}
    assert ids(entity="h1") == {a.id, c.id}
    assert ids(detector="ssh") == {b.id, c.id}
    assert ids(since=T0 + 3600) == {b.id, c.id}
    assert ids(until=T0 + 3600) == {a.id}
    assert ids(entity="h1", detector="ssh", min_score=0.5) == {c.id}
    assert ids(incident_id=a.incident_id) == {a.id, c.id}


def test_numpy_scalars_are_accepted_as_scores_times_and_ids(store):
    alert = _alert(store, score=np.float32(0.97), t=np.float64(T0), threshold=np.float32(0.4))
    assert alert.severity == "critical"
    assert store.get_alert(np.int64(alert.id)).id == alert.id
    store.record_verdict(np.int64(alert.id), "true_positive", analyst="ann")
    with pytest.raises(ConfigError, match="alert_id must be an integer"):
        store.get_alert("1")


@pytest.mark.parametrize(
    "kwargs", [{"status": "pending"}, {"severity": "urgent"}, {"limit": 0}, {"offset": -1}]
)
def test_bad_list_filters_raise_config_error(store, kwargs):
    with pytest.raises(ConfigError):
        store.list_alerts(**kwargs)


def test_unknown_alert_id_says_which_id(store):
    with pytest.raises(RecordNotFoundError, match="no alert 42") as info:
        store.get_alert(42)
    assert "SELECT" not in str(info.value)
    with pytest.raises(RecordNotFoundError):
        store.record_verdict(42, "true_positive", analyst="ann")


def test_oversized_raw_event_is_stored_truncated(tmp_path, clock):
    with StateStore(tmp_path / "s.db", clock=clock, max_event_bytes=2048) as s:
        alert = _alert(s, raw_event={"payload": "x" * 10_000})
    assert alert.raw_event["truncated"] is True
    assert alert.raw_event["size_bytes"] > 10_000
    assert len(alert.raw_event["prefix"]) < 2048


# -- verdicts and labels ------------------------------------------------------------------


def test_verdict_history_keeps_every_verdict_with_its_previous_value(store, clock):
    alert = _alert(store)
    clock.now = T0 + 10
    first = store.record_verdict(alert.id, "true_positive", analyst="ann", note="confirmed")
    clock.now = T0 + 20
    second = store.record_verdict(alert.id, "benign_true_positive", analyst="bob", note="pentest")
    assert (first.previous, second.previous) == (None, "true_positive")
    history = store.verdicts(alert.id)
    assert [(v.verdict, v.analyst, v.created_at) for v in history] == [
        ("true_positive", "ann", T0 + 10),
        ("benign_true_positive", "bob", T0 + 20),
    ]
    current = store.get_alert(alert.id)
    assert (current.verdict, current.status) == ("benign_true_positive", "closed")


def test_unknown_verdict_names_the_allowed_ones(store):
    alert = _alert(store)
    with pytest.raises(ConfigError, match="true_positive, false_positive, benign_true_positive"):
        store.record_verdict(alert.id, "maybe", analyst="ann")
    with pytest.raises(ConfigError, match="analyst"):
        store.record_verdict(alert.id, "true_positive", analyst="")
    assert store.verdicts(alert.id) == []


def test_verdicts_feed_labels_with_provenance(store, clock):
    alert = _alert(store, event_ref="zeek:C1")
    clock.now = T0 + 5
    store.record_verdict(alert.id, "true_positive", analyst="ann", note="seen in EDR")
    clock.now = T0 + 9
    store.record_verdict(alert.id, "false_positive", analyst="bob")
    labels = store.labels("zeek:C1")
    assert [(x.label, x.previous, x.who, x.source, x.created_at, x.alert_id) for x in labels] == [
        (1, None, "ann", "verdict", T0 + 5, alert.id),
        (0, 1, "bob", "verdict", T0 + 9, alert.id),
    ]
    assert "true_positive" in labels[0].reason and "seen in EDR" in labels[0].reason


def test_imported_labels_record_the_previous_value(store):
    store.record_label("flow:9", 1, who="import", source="file:labels.csv", reason="ground truth")
    again = store.record_label("flow:9", 0, who="carol", source="review", reason="relabelled")
    assert (again.previous, again.label, again.source) == (1, 0, "review")
    assert len(store.labels()) == 2
    with pytest.raises(ConfigError, match=r"0 \(benign\) or 1"):
        store.record_label("flow:9", 2, who="x", source="y", reason="")


# -- audit chain -------------------------------------------------------------------------


def _history(store: StateStore) -> None:
    a = _alert(store, t=T0)
    _alert(store, t=T0 + 60)
    _alert(store, entity="10.0.0.7", t=T0)
    store.record_verdict(a.id, "true_positive", analyst="ann")
    store.record_model_change(model="flows", version=4, action="promote", actor="bob")


def test_audit_chain_records_every_change_and_verifies(store):
    _history(store)
    actions = [e.action for e in store.audit_entries()]
    assert actions == [
        "alert.create", "alert.dedup", "alert.create", "verdict", "label", "model.promote",
    ]  # fmt: skip
    assert store.verify_audit() == 6
    entries = store.audit_entries()
    assert all(e.prev_hash == p.hash for p, e in itertools.pairwise(entries))


def test_audit_detects_a_changed_row(store):
    _history(store)
    with _raw(store.path) as conn:
        conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 4")
    with pytest.raises(AuditChainError, match=r"entry 4: .*changed"):
        store.verify_audit()


def test_audit_detects_a_changed_detail(store):
    _history(store)
    with _raw(store.path) as conn:
        conn.execute(
            "UPDATE audit_log SET detail = replace(detail, 'true_positive', 'false_positive') "
            "WHERE seq = 4"
        )
    with pytest.raises(AuditChainError, match="entry 4"):
        store.verify_audit()


def test_audit_detects_a_deleted_row(store):
    _history(store)
    with _raw(store.path) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq = 3")
    with pytest.raises(AuditChainError, match="entry 3 is missing"):
        store.verify_audit()


def test_audit_detects_rows_removed_from_the_end(store):
    _history(store)
    with _raw(store.path) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq >= 5")
    with pytest.raises(AuditChainError, match="entry 5"):
        store.verify_audit()


def test_audit_detects_swapped_rows(store):
    _history(store)
    with _raw(store.path) as conn:
        conn.execute("UPDATE audit_log SET seq = -1 WHERE seq = 2")
        conn.execute("UPDATE audit_log SET seq = 2 WHERE seq = 3")
        conn.execute("UPDATE audit_log SET seq = 3 WHERE seq = -1")
    with pytest.raises(AuditChainError, match="entry 2: it does not follow"):
        store.verify_audit()


def test_a_failed_write_leaves_neither_the_change_nor_its_audit_entry(store):
    _alert(store)

    def broken(alert, sink):
        raise RuntimeError("cannot render")

    with pytest.raises(RuntimeError):
        _alert(store, entity="10.0.0.8", sinks=["webhook"], render=broken)
    assert [a.entity for a in store.list_alerts()] == ["10.0.0.5"]
    assert store.list_alerts(entity="10.0.0.8") == []
    assert store.outbox.pending() == 0
    assert store.verify_audit() == 1


# -- outbox -----------------------------------------------------------------------------


def test_sqlite_outbox_satisfies_the_protocol(store, tmp_path):
    assert isinstance(store.outbox, Outbox)
    standalone = SQLiteOutbox(store.path)
    assert isinstance(standalone, Outbox)
    standalone.close()


def test_enqueue_is_idempotent_per_sink_and_key(store):
    box = store.outbox
    assert box.enqueue(sink="webhook", key="k1", payload=b"a") is True
    assert box.enqueue(sink="webhook", key="k1", payload=b"b") is False
    assert box.enqueue(sink="stix", key="k1", payload=b"c") is True
    items = box.claim(sink="webhook", limit=10, now=T0, lease_s=30)
    assert [(i.key, i.payload) for i in items] == [("k1", b"a")]


def test_a_claimed_item_is_leased_until_its_lease_expires(store):
    box = store.outbox
    box.enqueue(sink="s", key="k", payload=b"p")
    (item,) = box.claim(sink="s", limit=10, now=T0, lease_s=30)
    assert box.claim(sink="s", limit=10, now=T0 + 29, lease_s=30) == []
    again = box.claim(sink="s", limit=10, now=T0 + 30, lease_s=30)
    assert [i.id for i in again] == [item.id]


def test_an_acked_item_is_never_claimed_again(store):
    box = store.outbox
    box.enqueue(sink="s", key="k", payload=b"p")
    (item,) = box.claim(sink="s", limit=1, now=T0, lease_s=5)
    box.ack(item.id)
    box.ack(item.id)  # harmless
    box.fail(item.id, error="late failure report", retry_at=T0)
    for now in (T0, T0 + 10, T0 + 1e6):
        assert box.claim(sink="s", limit=10, now=now, lease_s=5) == []
    assert box.pending("s") == 0


def test_fail_counts_attempts_and_delays_until_retry_at(store):
    box = store.outbox
    box.enqueue(sink="s", key="k", payload=b"p")
    (item,) = box.claim(sink="s", limit=1, now=T0, lease_s=60)
    assert item.attempts == 0
    box.fail(item.id, error="HTTP 503", retry_at=T0 + 100)
    assert box.claim(sink="s", limit=1, now=T0 + 99, lease_s=60) == []
    (retried,) = box.claim(sink="s", limit=1, now=T0 + 100, lease_s=60)
    assert (retried.id, retried.attempts) == (item.id, 1)


def test_claim_respects_limit_sink_and_order(store):
    box = store.outbox
    for i in range(5):
        box.enqueue(sink="a", key=f"k{i}", payload=str(i).encode())
    box.enqueue(sink="b", key="k0", payload=b"b")
    first = box.claim(sink="a", limit=3, now=T0, lease_s=60)
    rest = box.claim(sink="a", limit=10, now=T0, lease_s=60)
    assert [i.payload for i in first] == [b"0", b"1", b"2"]
    assert [i.payload for i in rest] == [b"3", b"4"]
    with pytest.raises(RecordNotFoundError):
        box.ack(999)


def test_record_alert_enqueues_a_new_alert_for_each_sink(store):
    alert = _alert(store, sinks=["webhook", "stix", "webhook"])
    repeat = _alert(store, t=T0 + 5, sinks=["webhook", "stix"])
    assert repeat.id == alert.id
    hooks = store.outbox.claim(sink="webhook", limit=10, now=T0, lease_s=5)
    stix = store.outbox.claim(sink="stix", limit=10, now=T0, lease_s=5)
    assert [i.key for i in hooks] == [f"alert-{alert.id}-webhook"]
    assert [i.key for i in stix] == [f"alert-{alert.id}-stix"]
    assert b'"entity":"10.0.0.5"' in hooks[0].payload


def test_record_alert_renders_each_sinks_payload_from_the_stored_alert(store):
    seen = []

    def render(alert, sink):
        seen.append((alert.id, alert.count, sink))
        return f"{sink}:{alert.id}:{alert.severity}".encode()

    alert = _alert(store, score=0.99, sinks=["cef"], render=render)
    (item,) = store.outbox.claim(sink="cef", limit=5, now=T0, lease_s=5)
    assert seen == [(alert.id, 1, "cef")]
    assert item.payload == f"cef:{alert.id}:critical".encode()


# -- database -------------------------------------------------------------------------------


def test_pragmas_are_wal_full_sync_and_foreign_keys_in_every_thread(store):
    seen = []

    def check():
        conn = store._db.connection()
        seen.append(tuple(conn.execute(f"PRAGMA {p}").fetchone()[0]
                          for p in ("journal_mode", "synchronous", "foreign_keys")))  # fmt: skip

    check()
    worker = threading.Thread(target=check)
    worker.start()
    worker.join()
    assert seen == [("wal", 2, 1), ("wal", 2, 1)]


def test_two_threads_writing_at_once_lose_nothing(tmp_path, clock):
    path = tmp_path / "state.db"
    shared = StateStore(path, clock=clock)
    other = StateStore(path, clock=clock)  # a second handle, as another process would have
    errors: list[BaseException] = []

    def write(s: StateStore, prefix: str) -> None:
        try:
            for i in range(60):
                a = _alert(s, entity=f"{prefix}{i}")
                s.record_verdict(a.id, "true_positive", analyst=prefix)
                _alert(s, entity="shared", t=T0 + i)  # contended dedup row
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(shared, "a")),
        threading.Thread(target=write, args=(shared, "b")),
        threading.Thread(target=write, args=(other, "c")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    alerts = shared.list_alerts(limit=1000)
    assert len(alerts) == 181
    assert next(a for a in alerts if a.entity == "shared").count == 180
    assert shared.verify_audit() == 3 * 60 * 4
    shared.close()
    other.close()


def test_reopening_keeps_data_and_schema_version(tmp_path, clock):
    path = tmp_path / "state.db"
    with StateStore(path, clock=clock) as s:
        alert = _alert(s)
    with StateStore(path, clock=clock) as s:
        assert s.get_alert(alert.id).count == 1
    with _raw(path) as conn:
        assert (
            conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
            == SCHEMA_VERSION
        )


def test_a_newer_schema_version_is_refused(tmp_path):
    path = tmp_path / "state.db"
    StateStore(path).close()
    with _raw(path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    with pytest.raises(SchemaVersionError, match=f"version {SCHEMA_VERSION + 1}.*Upgrade seclearn"):
        StateStore(path)


def test_a_file_that_is_not_sqlite_is_refused_with_a_fix(tmp_path):
    path = tmp_path / "state.db"
    path.write_bytes(b"this is a CSV file, not a database\n" * 200)
    with pytest.raises(StoreError, match=r"not a readable SQLite database.*Move it aside") as info:
        StateStore(path)
    assert "sqlite3" not in str(info.value).lower().replace("sqlite database", "")


def test_another_programs_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.db"
    with _raw(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(StoreError, match="not a seclearn state database"):
        StateStore(path)


def test_opening_without_create_needs_an_existing_database(tmp_path):
    with pytest.raises(StoreError, match="no state database"):
        StateStore(tmp_path / "state.db", create=False)
    assert not (tmp_path / "state.db").exists()


# -- CLI ---------------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_audit_verify_prints_the_count_and_ok(tmp_path, clock):
    with StateStore(state_path(tmp_path), clock=clock) as s:
        _history(s)
    result = runner.invoke(app, ["audit", "verify", "--workspace", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "6 audit entries, chain OK" in result.output


def test_cli_audit_verify_on_a_tampered_log_exits_2(tmp_path, clock, monkeypatch, capsys):
    with StateStore(state_path(tmp_path), clock=clock) as s:
        _history(s)
    with _raw(state_path(tmp_path)) as conn:
        conn.execute("UPDATE audit_log SET ts = ts + 1 WHERE seq = 2")
    result = runner.invoke(app, ["audit", "verify", "-w", str(tmp_path)])
    assert isinstance(result.exception, AuditChainError)
    monkeypatch.setattr("sys.argv", ["seclearn", "audit", "verify", "-w", str(tmp_path)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "entry 2" in err and "Traceback" not in err


def test_cli_audit_verify_without_a_database_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["seclearn", "audit", "verify", "-w", str(tmp_path)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert "no state database" in capsys.readouterr().err
    assert not state_path(tmp_path).exists()
