"""Loopback receivers for tests of alert delivery (never any address but 127.0.0.1)."""

from __future__ import annotations

import socketserver
import threading

import pytest


class OctetCountingSyslog(socketserver.ThreadingTCPServer):
    """A loopback syslog receiver (RFC 6587 octet counting) that keeps every message."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        super().__init__(("127.0.0.1", 0), _Handler)


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
