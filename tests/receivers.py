"""Loopback receivers for tests of alert delivery (never any address but 127.0.0.1)."""

from __future__ import annotations

import socketserver
import threading
import time

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
