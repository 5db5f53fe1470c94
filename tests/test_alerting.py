"""Stored alerts to incident response: sinks files, conversion, queueing with the alert, delivery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from stix2validator import validate_string

from seclearn.alerts import from_stored, render
from seclearn.errors import ConfigError
from seclearn.lifecycle import deliver_pending, load_sinks, record_alerts
from seclearn.store import StateStore, state_path

T0 = 1_764_806_400.0  # 2025-12-04T00:00:00Z


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def _sinks_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sinks.toml"
    path.write_text(body)
    return path


def _record(i: int, src: str = "10.0.0.5", score: float = 0.97) -> dict:
    return {
        "ts": T0 + i,
        "uid": f"C{i}",
        "src_ip": src,
        "src_port": 40000 + i,
        "dst_ip": "10.0.0.9",
        "dst_port": 22,
        "proto": "tcp",
        "service": "ssh",
        "score": score,
        "decision": True,
        "top_features": [{"feature": "dst_port_class", "value": "22/ssh", "contribution": 1.5}],
        "reason": "Alert (score 0.970 > threshold 0.500): dst_port_class=22/ssh is typical of attacks.",
    }


def test_a_sinks_file_declares_each_destination_and_its_format(tmp_path):
    sinks = load_sinks(
        _sinks_file(
            tmp_path,
            '[sinks.siem]\nkind = "syslog-tcp"\nhost = "127.0.0.1"\nport = 6514\nformat = "syslog"\n'
            '[sinks.hive]\nkind = "webhook"\nurl = "https://hive.example/api/v1/alert"\n'
            'format = "thehive"\nheaders = { Authorization = "Bearer x" }\n',
        )
    )
    assert sinks["siem"].port == 6514 and sinks["siem"].format == "syslog"
    assert sinks["hive"].headers == (("Authorization", "Bearer x"),)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[sinks.a]\nkind = "carrier-pigeon"\nformat = "ecs"\n', "kind must be one of"),
        ('[sinks.a]\nkind = "syslog-udp"\nhost = "h"\nport = 70000\nformat = "cef"\n', "port"),
        ('[sinks.a]\nkind = "webhook"\nformat = "ecs"\n', "needs url"),
        ('[sinks.a]\nkind = "webhook"\nurl = "https://x"\nformat = "xml"\n', "format must be"),
        (
            '[sinks.a]\nkind = "webhook"\nurl = "https://x"\nformat = "ecs"\nretries = 3\n',
            "unknown settings",
        ),
        ("sinks = 3\n", r"no \[sinks\.NAME\]"),
        ("[sinks\n", "not valid TOML"),
    ],
)
def test_a_bad_sinks_file_says_what_to_fix(tmp_path, body, message):
    with pytest.raises(ConfigError, match=message):
        load_sinks(_sinks_file(tmp_path, body))


def test_a_stored_alert_keeps_its_flow_fields_in_every_format(tmp_path):
    with StateStore(tmp_path / "state.db", clock=FakeClock()) as store:
        (stored,) = record_alerts(store, [_record(1)], detector="flows", version=3, threshold=0.5)
    alert = from_stored(stored)
    assert (alert.src_ip, alert.dst_port, alert.service, alert.count) == ("10.0.0.5", 22, "ssh", 1)
    assert alert.contributions[0].feature == "dst_port_class"
    ecs = orjson.loads(render(alert, "ecs"))
    assert ecs["source"]["ip"] == "10.0.0.5" and ecs["destination"]["port"] == 22
    assert validate_string(render(alert, "stix").decode()).is_valid
    assert render(alert, "cef").startswith(b"CEF:0|")


def test_each_new_alert_reaches_the_syslog_receiver_once_and_repeats_only_count(tmp_path, syslog):
    host, port = syslog.server_address
    sinks = load_sinks(
        _sinks_file(
            tmp_path,
            f'[sinks.siem]\nkind = "syslog-tcp"\nhost = "{host}"\nport = {port}\nformat = "syslog"\n',
        )
    )
    clock = FakeClock()
    with StateStore(tmp_path / "state.db", clock=clock) as store:
        records = [_record(i, src=f"10.0.0.{i % 3}") for i in range(9)]  # 3 sources, 3 events each
        stored = record_alerts(
            store, records, detector="flows", version=1, threshold=0.5, sinks=sinks
        )
        assert [a.count for a in stored] == [1, 1, 1, 2, 2, 2, 3, 3, 3]
        reports = deliver_pending(store, sinks, clock=clock)
        assert len(reports["siem"].delivered) == 3
        assert deliver_pending(store, sinks, clock=clock)["siem"].claimed == 0  # nothing twice
        assert store.verify_audit() > 0
    messages = syslog.wait_for(3)
    assert len(messages) == 3
    assert all(b"CEF:0|" in m and b"dst_port_class" in m for m in messages)


def test_an_unreachable_sink_is_retried_later_and_nothing_is_lost(tmp_path, syslog):
    host, port = syslog.server_address
    dead = _sinks_file(
        tmp_path,
        '[sinks.siem]\nkind = "syslog-tcp"\nhost = "127.0.0.1"\nport = 9\nformat = "cef"\n',
    )
    clock = FakeClock()
    with StateStore(tmp_path / "state.db", clock=clock) as store:
        record_alerts(
            store, [_record(1)], detector="flows", version=1, threshold=0.5, sinks=load_sinks(dead)
        )
        first = deliver_pending(store, load_sinks(dead), clock=clock)["siem"]
        assert first.retried and not first.delivered
        clock.now += 3600  # past any backoff; the receiver is back, on its real port
        alive = load_sinks(
            _sinks_file(
                tmp_path,
                f'[sinks.siem]\nkind = "syslog-tcp"\nhost = "{host}"\nport = {port}\nformat = "cef"\n',
            )
        )
        assert len(deliver_pending(store, alive, clock=clock)["siem"].delivered) == 1
    assert len(syslog.wait_for(1)) == 1


def test_records_without_a_decision_are_not_alerts(tmp_path):
    with StateStore(tmp_path / "state.db", clock=FakeClock()) as store:
        quiet = {**_record(1), "decision": False}
        assert record_alerts(store, [quiet], detector="flows", version=1, threshold=0.5) == []
        assert store.list_alerts() == []


def test_a_deliverer_killed_half_way_loses_no_alert_and_the_receiver_dedups_repeats(
    tmp_path, webhook
):
    """Every alert reaches the receiver at least once, and exactly once after dedup by key."""
    ws = tmp_path / "ws"
    ws.mkdir()
    sinks_path = _sinks_file(
        tmp_path, f'[sinks.hook]\nkind = "webhook"\nurl = "{webhook.url}"\nformat = "webhook"\n'
    )
    with StateStore(state_path(ws)) as store:
        records = [_record(i, src=f"10.1.{i // 250}.{i % 250}") for i in range(60)]
        stored = record_alerts(
            store, records, detector="flows", version=1, threshold=0.5, sinks=load_sinks(sinks_path)
        )
    assert len({a.id for a in stored}) == 60
    env = {**os.environ, "SECLEARN_WORKSPACE": str(ws)}
    deliver = [sys.executable, "-m", "seclearn.cli", "deliver", "--sinks", str(sinks_path)]
    first = subprocess.Popen([*deliver, "--lease-s", "1"], env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(webhook.keys()) < 10 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.005)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    half = len(set(webhook.keys()))
    assert 10 <= half < 60, half  # killed half-way, not before nor after
    time.sleep(1.2)  # the killed run's leases run out
    second = subprocess.run(deliver, env=env, capture_output=True, timeout=120)
    assert second.returncode == 0, second.stderr.decode()
    keys = webhook.keys()
    assert len(set(keys)) == 60 and len(keys) >= 60  # at least once each; repeats share a key
    with StateStore(state_path(ws)) as store:
        assert store.outbox.pending() == 0 and store.verify_audit() > 0


def test_delivery_goes_on_after_a_lease_runs_out_mid_batch(tmp_path, monkeypatch):
    clock = FakeClock()
    sent: list[str] = []

    class SlowSink:
        def send(self, item_key: str, payload: bytes) -> None:
            clock.now += 1.0  # each send takes a second of the lease
            sent.append(item_key)

    sinks = load_sinks(
        _sinks_file(
            tmp_path, '[sinks.s]\nkind = "webhook"\nurl = "http://127.0.0.1:9/"\nformat = "ecs"\n'
        )
    )
    monkeypatch.setattr(type(sinks["s"]), "build", lambda self: SlowSink())
    with StateStore(tmp_path / "state.db", clock=clock) as store:
        records = [_record(i, src=f"10.2.0.{i}") for i in range(5)]
        record_alerts(store, records, detector="flows", version=1, threshold=0.5, sinks=sinks)
        report = deliver_pending(store, sinks, clock=clock, lease_s=2.5)["s"]
        assert report.lease_expired  # the first batch ran out of lease ...
        assert sorted(set(sent)) == sorted(f"alert-{i}-s" for i in range(1, 6))  # ... all went
        assert store.outbox.pending() == 0
