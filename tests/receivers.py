"""Loopback receivers for tests of alert delivery (never any address but 127.0.0.1)."""

from __future__ import annotations

import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class OctetCountingSyslog(socketserver.ThreadingTCPServer):
    """A loopback syslog receiver (RFC 6587 octet counting) that keeps every message."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[bytes]:
        """The messages, once ``count`` arrived (or the time-out passed): handlers run in
        threads, so a sender can return before its connection's handler has stored it."""
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)  # and let a surplus (a duplicate) arrive too, if there is one
        return list(self.messages)


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        data = self.rfile.read()
        while data:
            length, _, rest = data.partition(b" ")
            n = int(length)
            self.server.messages.append(rest[:n])  # type: ignore[attr-defined]
            data = rest[n:]


@pytest.fixture
def syslog():
    """A running loopback syslog receiver; its ``messages`` fill as payloads arrive."""
    server = OctetCountingSyslog()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


class SlowWebhook(ThreadingHTTPServer):
    """A loopback webhook receiver that keeps each request's Idempotency-Key and body.

    It answers every POST with 200 after ``delay_s``, so that a deliverer is still busy
    when a test kills it.
    """

    daemon_threads = True

    def __init__(self, delay_s: float = 0.02) -> None:
        self.delay_s = delay_s
        self.received: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _WebhookHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/alerts"

    def keys(self) -> list[str]:
        with self._lock:
            return [key for key, _ in self.received]


class _WebhookHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(self.server.delay_s)  # type: ignore[attr-defined]
        with self.server._lock:  # type: ignore[attr-defined]
            self.server.received.append((self.headers.get("Idempotency-Key", ""), body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def webhook():
    """A running slow loopback webhook receiver."""
    server = SlowWebhook()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
