"""Scored events become stored alerts, and stored alerts reach incident response.

Sinks are declared in a TOML file, one table per sink::

    [sinks.siem]                 # CEF over TCP syslog (RFC 6587 octet counting)
    kind = "syslog-tcp"          # syslog-udp, syslog-tcp or webhook
    host = "127.0.0.1"
    port = 6514
    format = "syslog"            # ecs, ocsf, stix, cef, syslog, webhook, thehive

    [sinks.thehive]
    kind = "webhook"
    url = "https://thehive.example/api/v1/alert"
    format = "thehive"
    headers = { Authorization = "Bearer ..." }

:func:`record_alerts` writes each alert of a scoring run to the state store and, in the
same transaction, queues its payload for every sink in that sink's format;
:func:`deliver_pending` hands what is due to each sink (leases, retries with backoff,
idempotency keys: see :func:`seclearn.alerts.deliver`).
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seclearn.alerts import (
    FORMATS,
    DeliveryReport,
    Sink,
    TCPSyslogSink,
    UDPSyslogSink,
    WebhookSink,
    deliver,
)
from seclearn.alerts.stored import renderer
from seclearn.errors import ConfigError
from seclearn.store import Alert as StoredAlert
from seclearn.store import StateStore

#: Kinds of sink a sinks file may declare.
SINK_KINDS = ("syslog-udp", "syslog-tcp", "webhook")


@dataclass(frozen=True)
class SinkConfig:
    """One incident-response destination: how to reach it and which format it takes."""

    name: str
    kind: str
    format: str
    host: str | None = None
    port: int | None = None
    url: str | None = None
    timeout_s: float = 10.0
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def build(self) -> Sink:
        """The sink object that sends to this destination."""
        if self.kind == "webhook":
            assert self.url is not None
            return WebhookSink(self.url, timeout_s=self.timeout_s, headers=self.headers)
        assert self.host is not None and self.port is not None
        cls = UDPSyslogSink if self.kind == "syslog-udp" else TCPSyslogSink
        return cls(self.host, self.port, timeout_s=self.timeout_s)


def load_sinks(path: Path | str) -> dict[str, SinkConfig]:
    """The sinks declared in a TOML file (see the module docstring)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Sinks file {path} does not exist.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Sinks file {path} is not valid TOML: {exc}.") from None
    tables = data.get("sinks")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"Sinks file {path} declares no [sinks.NAME] table.")
    return {name: _sink(path, name, spec) for name, spec in tables.items()}


def _sink(path: Path, name: str, spec: Any) -> SinkConfig:
    where = f"{path} [sinks.{name}]"
    if not isinstance(spec, dict):
        raise ConfigError(f"{where} must be a table of settings.")
    known = {"kind", "format", "host", "port", "url", "timeout_s", "headers"}
    if extra := sorted(set(spec) - known):
        raise ConfigError(f"{where}: unknown settings {extra}; known: {sorted(known)}.")
    kind, fmt = spec.get("kind"), spec.get("format")
    if kind not in SINK_KINDS:
        raise ConfigError(f"{where}: kind must be one of {', '.join(SINK_KINDS)}, got {kind!r}.")
    if fmt not in FORMATS:
        raise ConfigError(f"{where}: format must be one of {', '.join(FORMATS)}, got {fmt!r}.")
    timeout = spec.get("timeout_s", 10.0)
    if not isinstance(timeout, int | float) or not timeout > 0:
        raise ConfigError(f"{where}: timeout_s must be a positive number, got {timeout!r}.")
    headers = spec.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ConfigError(f"{where}: headers must be a table of strings.")
    if kind == "webhook":
        url = spec.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}: a webhook needs url = 'https://...'.")
        return SinkConfig(
            name, kind, fmt, url=url, timeout_s=float(timeout), headers=tuple(headers.items())
        )
    host, port = spec.get("host"), spec.get("port")
    if not isinstance(host, str) or not host:
        raise ConfigError(f"{where}: a syslog sink needs host = '...'.")
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"{where}: port must be an integer in 1-65535, got {port!r}.")
    return SinkConfig(name, kind, fmt, host=host, port=port, timeout_s=float(timeout))


def record_alerts(
    store: StateStore,
    records: Iterable[Mapping[str, Any]],
    *,
    detector: str,
    version: str | int,
    threshold: float,
    sinks: Mapping[str, SinkConfig] | None = None,
    clock: Callable[[], float] = time.time,
) -> list[StoredAlert]:
    """Store every alerting record (``decision`` true) of a scoring run; queue it for ``sinks``.

    The entity is the record's ``src_ip`` (``"unknown"`` without one) and the event time
    its ``ts`` (now without one). Repeats within the store's dedup window raise the
    open alert's count instead of creating a new one, and are not queued again.
    """
    sinks = dict(sinks or {})
    render = renderer({name: s.format for name, s in sinks.items()}) if sinks else None
    stored = []
    for record in records:
        if not record.get("decision"):
            continue
        ts = record.get("ts")
        stored.append(
            store.record_alert(
                detector=detector,
                detector_version=version,
                entity=str(record.get("src_ip") or "unknown"),
                event_time=float(ts) if isinstance(ts, int | float) else clock(),
                score=float(record["score"]),
                threshold=threshold,
                top_features=list(record.get("top_features") or []),
                reason=str(record.get("reason") or ""),
                raw_event=dict(record),
                event_ref=str(record["uid"]) if record.get("uid") else None,
                sinks=tuple(sinks),
                render=render,
            )
        )
    return stored


def deliver_pending(
    store: StateStore,
    sinks: Mapping[str, SinkConfig],
    *,
    clock: Callable[[], float] = time.time,
    batch: int = 100,
    lease_s: float = 60.0,
) -> dict[str, DeliveryReport]:
    """Hand every due outbox item to its sink, batch after batch, until none is left.

    Items are leased for ``lease_s`` seconds while they are sent: a deliverer that dies
    half-way leaves them to the next one once the lease ran out.

    A sink's pass stops when a batch delivers nothing (the sink is down: what failed
    is due again after its backoff), or when fewer than ``batch`` items were due and
    none was left behind by a lease that ran out mid-batch.
    """
    reports = {}
    for name, config in sinks.items():
        sink, total = config.build(), DeliveryReport()
        while True:
            report = deliver(store.outbox, name, sink, clock=clock, batch=batch, lease_s=lease_s)
            for part in ("delivered", "retried", "gave_up", "lease_expired"):
                getattr(total, part).extend(getattr(report, part))
            more = report.claimed == batch or bool(report.lease_expired)
            if not report.delivered or not more:
                break
        reports[name] = total
    return reports


__all__ = ["SINK_KINDS", "SinkConfig", "deliver_pending", "load_sinks", "record_alerts"]
