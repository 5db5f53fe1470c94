"""Stored alerts to incident response: sinks files, conversion, queueing with the alert, delivery."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from stix2validator import validate_string

from seclearn.alerts import from_stored, render
from seclearn.errors import ConfigError
from seclearn.lifecycle import deliver_pending, load_sinks, record_alerts
from seclearn.store import StateStore

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
