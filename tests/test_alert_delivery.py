"""Sinks against real loopback servers, and the delivery loop against an in-memory outbox.

The outbox here is a test double that honours :class:`seclearn.store.outbox_protocol.Outbox`
(leases, retry times, idempotent enqueue per sink and key); the clock is a fake, so
leases and backoff are exercised without sleeping.
"""

from __future__ import annotations

import http.server
import random
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from seclearn.alerts import (
    GAVE_UP_PREFIX,
    GIVE_UP_AT,
    Alert,
    Backoff,
    MemorySink,
    PermanentDeliveryError,
    Sink,
    TCPSyslogSink,
    UDPSyslogSink,
    WebhookSink,
    deliver,
    idempotency_key,
    render,
    to_syslog,
)
from seclearn.errors import ConfigError, DeliveryError
from seclearn.store.outbox_protocol import Outbox, OutboxItem

LOOPBACK = "127.0.0.1"
T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


# --------------------------------------------------------------------------- doubles


@dataclass
class _Row:
    id: int
    sink: str
    key: str
    payload: bytes
    attempts: int = 0
    due_at: float = 0.0
    leased_until: float | None = None
    acked: bool = False
    last_error: str | None = None


@dataclass
class MemoryOutbox:
    """The Outbox protocol in memory: unique (sink, key), leases, retry times."""

    clock: FakeClock
    rows: list[_Row] = field(default_factory=list)

    def enqueue(self, *, sink: str, key: str, payload: bytes) -> bool:
        if any(r.sink == sink and r.key == key for r in self.rows):
            return False
        self.rows.append(_Row(len(self.rows) + 1, sink, key, payload, due_at=self.clock()))
        return True

    def claim(self, *, sink: str, limit: int, now: float, lease_s: float) -> list[OutboxItem]:
        due = [
            r
            for r in self.rows
            if r.sink == sink
            and not r.acked
            and r.due_at <= now
            and (r.leased_until is None or r.leased_until <= now)
        ]
        due.sort(key=lambda r: (r.due_at, r.id))
        out = []
        for r in due[:limit]:
            r.leased_until = now + lease_s
            out.append(OutboxItem(r.id, r.sink, r.key, r.payload, r.attempts))
        return out

    def ack(self, item_id: int) -> None:
        row = self._row(item_id)
        row.acked, row.leased_until = True, None

    def fail(self, item_id: int, *, error: str, retry_at: float) -> None:
        row = self._row(item_id)
        if not row.acked:
            row.attempts += 1
            row.last_error, row.due_at, row.leased_until = error, retry_at, None

    def pending(self) -> int:
        return sum(not r.acked for r in self.rows)

    def by_key(self, key: str) -> _Row:
        return next(r for r in self.rows if r.key == key)

    def _row(self, item_id: int) -> _Row:
        return self.rows[item_id - 1]


@dataclass
class FakeClock:
    now: float = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FlakySink:
    """Fails at random: before the receiver gets the payload, or after (a lost answer)."""

    receiver: MemorySink
    rng: random.Random
    p_before: float = 0.2
    p_after: float = 0.1
    calls: int = 0

    def send(self, item_key: str, payload: bytes) -> None:
        self.calls += 1
        if self.rng.random() < self.p_before:
            raise DeliveryError("connection reset")
        self.receiver.send(item_key, payload)
        if self.rng.random() < self.p_after:
            raise DeliveryError("timed out waiting for the answer")


@dataclass
class FailingSink:
    error: DeliveryError
    calls: int = 0

    def send(self, item_key: str, payload: bytes) -> None:
        self.calls += 1
        raise self.error


class Killed(BaseException):
    """The deliverer process dying (not an error any code handles)."""


def make_alert(n: int = 0) -> Alert:
    return Alert(
        id=f"alert-{n:04d}",
        detector="flow-iforest",
        detector_version="3",
        entity=f"10.0.{n // 250}.{n % 250}",
        event_time=T0,
        first_seen=T0 - timedelta(minutes=1),
        last_seen=T0,
        score=0.95,
        threshold=0.9,
        severity="high",
        reason="dst_port=22 is unusual for benign traffic.",
        src_ip=f"10.0.{n // 250}.{n % 250}",
        src_port=40000 + n,
        dst_ip="203.0.113.7",
        dst_port=22,
        proto="tcp",
    )


def fill(
    outbox: MemoryOutbox, n: int, sink: str = "hook", fmt: str = "webhook"
) -> dict[str, bytes]:
    expected = {}
    for i in range(n):
        alert = make_alert(i)
        key, payload = idempotency_key(alert), render(alert, fmt)
        assert outbox.enqueue(sink=sink, key=key, payload=payload)
        expected[key] = payload
    return expected


def drain(outbox, sink_name, sink, clock, *, max_passes=500, **kwargs):
    """Run passes, jumping the clock to the next due time, until nothing is pending."""
    passes = 0
    while outbox.pending() and passes < max_passes:
        deliver(outbox, sink_name, sink, clock=clock, **kwargs)
        passes += 1
        waiting = [r.due_at for r in outbox.rows if not r.acked and r.due_at < GIVE_UP_AT]
        if not waiting:
            break
        clock.now = max(clock.now, min(waiting))
    return passes


# --------------------------------------------------------------------------- protocol


def test_doubles_satisfy_the_protocols():
    assert isinstance(MemoryOutbox(FakeClock()), Outbox)
    for sink in (MemorySink(), UDPSyslogSink(LOOPBACK, 514), TCPSyslogSink(LOOPBACK, 514)):
        assert isinstance(sink, Sink)
    assert isinstance(WebhookSink("http://127.0.0.1:1/"), Sink)


def test_enqueue_is_idempotent_per_key():
    clock = FakeClock()
    outbox = MemoryOutbox(clock)
    assert outbox.enqueue(sink="hook", key="k", payload=b"1")
    assert not outbox.enqueue(sink="hook", key="k", payload=b"2")
    sink = MemorySink()
    deliver(outbox, "hook", sink, clock=clock)
    assert sink.received == [("k", b"1")]


# --------------------------------------------------------------------------- delivery


def test_every_item_arrives_at_least_once_and_exactly_once_after_dedup():
    clock = FakeClock()
    outbox = MemoryOutbox(clock)
    expected = fill(outbox, 200)
    receiver = MemorySink()
    sink = FlakySink(receiver, random.Random(7))
    drain(outbox, "hook", sink, clock, batch=32, max_attempts=50, backoff=Backoff(max_s=30))
    assert outbox.pending() == 0
    keys = [k for k, _ in receiver.received]
    assert set(keys) == set(expected)  # at least once
    assert len(keys) > len(expected)  # the lost answers did cause repeats
    assert receiver.unique() == expected  # exactly once after dedup by key, payloads intact


def test_a_killed_deliverer_loses_nothing_once_its_lease_expires():
    clock = FakeClock()
    outbox = MemoryOutbox(clock)
    expected = fill(outbox, 10)
    receiver = MemorySink()

    # the first deliverer claims everything, sends half, and dies before any ack
    claimed = outbox.claim(sink="hook", limit=100, now=clock(), lease_s=60)
    for item in claimed[:5]:
        receiver.send(item.key, item.payload)
    assert outbox.pending() == 10

    # while the lease is live nobody else may take the items
    assert deliver(outbox, "hook", receiver, clock=clock, lease_s=60).claimed == 0
    clock.advance(61)
    report = deliver(outbox, "hook", receiver, clock=clock, lease_s=60)
    assert len(report.delivered) == 10 and outbox.pending() == 0
    assert receiver.unique() == expected
    assert len(receiver.received) == 15  # the five sent before the crash came twice


def test_a_deliverer_killed_between_send_and_ack_is_resent():
    clock = FakeClock()
    outbox = MemoryOutbox(clock)
    expected = fill(outbox, 6)
    receiver = MemorySink()

    @dataclass
    class DiesOnThird:
        calls: int = 0

        def send(self, item_key: str, payload: bytes) -> None:
            receiver.send(item_key, payload)
            self.calls += 1
            if self.calls == 3:
                raise Killed

    with pytest.raises(Killed):
        deliver(outbox, "hook", DiesOnThird(), clock=clock, lease_s=30)
    assert outbox.pending() == 4  # two acked; the third was received but never acked
    clock.advance(31)
    deliver(outbox, "hook", receiver, clock=clock, lease_s=30)
    assert outbox.pending() == 0 and receiver.unique() == expected
    assert len(receiver.received) == 7


def test_backoff_grows_and_is_seeded():
    clock = FakeClock()
    outbox = MemoryOutbox(clock)
    fill(outbox, 1)
    sink = FailingSink(DeliveryError("503"))
    waits = []
    for _ in range(8):
        report = deliver(
            outbox, "hook", sink, clock=clock, max_attempts=20, backoff=Backoff(max_s=1e6)
        )
        ((_, retry_at),) = report.retried
        waits.append(retry_at - clock.now)
        clock.now = retry_at
    assert waits == sorted(waits) and len(set(waits)) == len(waits)
    for n, wait in enumerate(waits, start=1):
        assert 2 ** (n - 1) <= wait <= 1.5 * 2 ** (n - 1)
    b = Backoff(random_state=1)
    assert [b.delay_s(3, "k") for _ in range(2)] == [b.delay_s(3, "k")] * 2
    assert b.delay_s(3, "k") != Backoff(random_state=2).delay_s(3, "k")
    assert b.delay_s(3, "k") != b.delay_s(3, "other")  # jitter spreads items apart
    assert Backoff(max_s=10).delay_s(50, "k") == 10 and Backoff().delay_s(10**6, "k") == 3600


def test_gives_up_after_max_attempts_and_keeps_the_item():
    clock = FakeClock()
    outbox = MemoryOutbox(clock)
    fill(outbox, 1)
    sink = FailingSink(DeliveryError("connection refused"))
    reports = []
    for _ in range(5):
        reports.append(deliver(outbox, "hook", sink, clock=clock, max_attempts=3))
        clock.advance(10_000)
    assert sink.calls == 3
    assert [len(r.retried) for r in reports[:3]] == [1, 1, 0]
    ((key, error),) = reports[2].gave_up
    row = outbox.by_key(key)
    assert not row.acked and row.attempts == 3 and row.due_at == GIVE_UP_AT
    assert row.last_error == error and error.startswith(GAVE_UP_PREFIX)
    assert "3 failed attempts" in error and "connection refused" in error
    assert outbox.pending() == 1  # surfaced: still pending, with its reason


def test_a_permanent_error_stops_retries_at_once():
    clock = FakeClock()
    outbox = MemoryOutbox(clock)
    fill(outbox, 2)
    sink = FailingSink(PermanentDeliveryError("HTTP 400"))
    report = deliver(outbox, "hook", sink, clock=clock, max_attempts=10)
    assert len(report.gave_up) == 2 and not report.retried
    clock.advance(10**7)
    assert deliver(outbox, "hook", sink, clock=clock).claimed == 0
    assert sink.calls == 2
    assert all("permanent error" in r.last_error for r in outbox.rows)


def test_a_pass_stops_when_its_lease_runs_out():
    clock = FakeClock()
    outbox = MemoryOutbox(clock)
    fill(outbox, 5)
    receiver = MemorySink()

    @dataclass
    class Slow:
        def send(self, item_key: str, payload: bytes) -> None:
            receiver.send(item_key, payload)
            clock.advance(25)

    report = deliver(outbox, "hook", Slow(), clock=clock, lease_s=60)
    assert len(report.delivered) == 3 and len(report.lease_expired) == 2
    assert all(outbox.by_key(k).attempts == 0 for k in report.lease_expired)
    clock.advance(60)
    assert len(deliver(outbox, "hook", receiver, clock=clock).delivered) == 2


def test_other_errors_propagate_and_the_item_comes_back():
    clock = FakeClock()
    outbox = MemoryOutbox(clock)
    fill(outbox, 1)

    @dataclass
    class Broken:
        def send(self, item_key: str, payload: bytes) -> None:
            raise ValueError("bug")

    with pytest.raises(ValueError):
        deliver(outbox, "hook", Broken(), clock=clock, lease_s=5)
    clock.advance(6)
    assert len(deliver(outbox, "hook", MemorySink(), clock=clock).delivered) == 1


def test_other_sinks_items_are_left_alone():
    clock = FakeClock()
    outbox = MemoryOutbox(clock)
    fill(outbox, 2, sink="a")
    fill(outbox, 3, sink="b")
    sink = MemorySink()
    assert deliver(outbox, "b", sink, clock=clock).claimed == 3
    assert outbox.pending() == 2


@pytest.mark.parametrize("bad", [{"batch": 0}, {"lease_s": 0}, {"max_attempts": 0}])
def test_delivery_parameters_are_checked(bad):
    clock = FakeClock()
    with pytest.raises(ConfigError):
        deliver(MemoryOutbox(clock), "hook", MemorySink(), clock=clock, **bad)


@pytest.mark.parametrize("bad", [{"base_s": 0}, {"factor": 0.5}, {"max_s": 0.1}, {"jitter": 2}])
def test_backoff_parameters_are_checked(bad):
    with pytest.raises(ConfigError):
        Backoff(**bad)


# --------------------------------------------------------------------------- syslog sinks


@pytest.fixture
def udp_server():
    got: list[bytes] = []

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            got.append(self.request[0])

    server = socketserver.UDPServer((LOOPBACK, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server.server_address[1], got
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def tcp_server():
    got: list[bytes] = []

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            chunks = []
            while chunk := self.request.recv(65536):
                chunks.append(chunk)
            got.append(b"".join(chunks))

    server = socketserver.ThreadingTCPServer((LOOPBACK, 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server.server_address[1], got
    server.shutdown()
    server.server_close()
    thread.join(5)


def _wait_for(got, n, timeout_s=5.0):
    deadline = time.monotonic() + timeout_s
    while len(got) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    return got


def parse_octet_counted(stream: bytes) -> list[bytes]:
    """RFC 6587 section 3.4.1: ``MSG-LEN SP SYSLOG-MSG``, repeated."""
    out = []
    while stream:
        length, sep, rest = stream.partition(b" ")
        assert sep and length.isdigit() and not length.startswith(b"0"), stream[:20]
        out.append(rest[: int(length)])
        assert len(out[-1]) == int(length)
        stream = rest[int(length) :]
    return out


def test_udp_syslog_arrives_byte_for_byte(udp_server):
    port, got = udp_server
    message = to_syslog(make_alert(1), hostname="sensor-1")
    UDPSyslogSink(LOOPBACK, port).send("k1", message)
    assert _wait_for(got, 1) == [message]


def test_udp_refuses_a_payload_that_cannot_fit_a_datagram():
    with pytest.raises(PermanentDeliveryError, match="TCP sink"):
        UDPSyslogSink(LOOPBACK, 9, max_bytes=2048).send("k", b"x" * 2049)


def test_tcp_syslog_uses_octet_counting_framing(tcp_server):
    port, got = tcp_server
    sink = TCPSyslogSink(LOOPBACK, port)
    messages = [to_syslog(make_alert(i)) for i in range(3)] + [b"line one\nline two \xe2\x98\x83"]
    for i, message in enumerate(messages):
        sink.send(f"k{i}", message)
    _wait_for(got, len(messages))
    assert sorted(got) == sorted(f"{len(m)} ".encode() + m for m in messages)
    assert sorted(parse_octet_counted(b"".join(got))) == sorted(messages)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def test_tcp_connection_refused_is_retryable():
    with pytest.raises(DeliveryError) as info:
        TCPSyslogSink(LOOPBACK, _closed_port(), timeout_s=1).send("k", b"x")
    assert not isinstance(info.value, PermanentDeliveryError)


def test_syslog_sinks_check_their_settings():
    with pytest.raises(ConfigError):
        TCPSyslogSink(LOOPBACK, 0).send("k", b"x")
    with pytest.raises(ConfigError):
        UDPSyslogSink("", 514).send("k", b"x")


# --------------------------------------------------------------------------- webhook sink


@dataclass
class Receiver:
    """What the loopback webhook got, and what it will answer next."""

    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200


@pytest.fixture
def webhook():
    receiver = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with receiver.lock:
                receiver.requests.append((self.path, dict(self.headers.items()), body))
            if receiver.delay_s:
                time.sleep(receiver.delay_s)
            status = receiver.next_status()
            try:
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the time-out test)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://{LOOPBACK}:{server.server_address[1]}/hook", receiver
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_webhook_posts_the_payload_with_its_idempotency_key(webhook):
    url, receiver = webhook
    alert = make_alert(3)
    payload = render(alert, "webhook")
    sink = WebhookSink(url, headers=(("Authorization", "Bearer t0ken"),))
    sink.send(idempotency_key(alert), payload)
    ((path, headers, body),) = receiver.requests
    assert path == "/hook" and body == payload
    assert headers["Idempotency-Key"] == idempotency_key(alert)
    assert headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == "Bearer t0ken"
    assert orjson.loads(body)["idempotency_key"] == idempotency_key(alert)


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_webhook_2xx_is_success(webhook, status):
    url, receiver = webhook
    receiver.statuses.append(status)
    WebhookSink(url).send("k", b"{}")


@pytest.mark.parametrize("status", [301, 302, 307, 400, 401, 403, 404, 409, 413, 422])
def test_webhook_3xx_and_4xx_are_permanent(webhook, status):
    url, receiver = webhook
    receiver.statuses.append(status)
    with pytest.raises(PermanentDeliveryError, match=str(status)):
        WebhookSink(url).send("k", b"{}")
    assert len(receiver.requests) == 1  # redirects are not followed


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_webhook_408_429_and_5xx_are_retryable(webhook, status):
    url, receiver = webhook
    receiver.statuses.append(status)
    with pytest.raises(DeliveryError) as info:
        WebhookSink(url).send("k", b"{}")
    assert not isinstance(info.value, PermanentDeliveryError)


def test_webhook_timeout_is_retryable(webhook):
    url, receiver = webhook
    receiver.delay_s = 1.0
    with pytest.raises(DeliveryError) as info:
        WebhookSink(url, timeout_s=0.2).send("k", b"{}")
    assert not isinstance(info.value, PermanentDeliveryError)


def test_webhook_refuses_a_key_that_cannot_be_a_header(webhook):
    url, receiver = webhook
    with pytest.raises(PermanentDeliveryError, match="HTTP header"):
        WebhookSink(url).send("k\r\nX-Injected: 1", b"{}")
    assert receiver.requests == []


def test_webhook_errors_do_not_echo_credentials():
    url = f"http://user:s3cret@{LOOPBACK}:{_closed_port()}/hook?token=s3cret"
    with pytest.raises(DeliveryError) as info:
        WebhookSink(url, timeout_s=1).send("k", b"{}")
    assert "s3cret" not in str(info.value)
    with pytest.raises(ConfigError):
        WebhookSink("file:///etc/passwd").send("k", b"{}")


def test_end_to_end_webhook_delivery_is_exactly_once_after_dedup(webhook):
    url, receiver = webhook
    rng = random.Random(3)
    receiver.statuses.extend(rng.choice([200, 200, 200, 503, 429]) for _ in range(200))
    clock = FakeClock()
    outbox = MemoryOutbox(clock)
    expected = fill(outbox, 40)
    passes = drain(outbox, "hook", WebhookSink(url, timeout_s=5), clock, batch=16, max_attempts=30)
    assert outbox.pending() == 0 and passes > 1
    by_key: dict[str, bytes] = {}
    for _, headers, body in receiver.requests:
        by_key.setdefault(headers["Idempotency-Key"], body)
    assert by_key == expected
    assert len(receiver.requests) > len(expected)  # 503/429 answers were retried
