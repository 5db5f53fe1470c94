"""Where rendered alerts go: a one-method :class:`Sink` protocol and its implementations.

A sink either accepts a payload or raises :class:`~seclearn.errors.DeliveryError`.
:class:`PermanentDeliveryError` (a subclass) means that sending the same payload again
cannot succeed (a 4xx answer, a payload too large for the transport); any other
``DeliveryError`` is retryable. Sinks hold configuration only: no connection outlives
one ``send`` call, so a sink is safe to share and to retry.
"""

from __future__ import annotations

import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from seclearn.errors import ConfigError, DeliveryError, PermanentDeliveryError

#: Largest payload that fits one UDP datagram over IPv4.
MAX_UDP_PAYLOAD = 65_507
#: How much of an HTTP answer body is read (and dropped) before closing.
_MAX_RESPONSE_BYTES = 64 * 1024
#: HTTP 4xx answers that are worth retrying (timeout, rate limited).
RETRYABLE_4XX = frozenset({408, 429})
_HEADER_TOKEN = re.compile(r"^[\x21-\x7e]{1,255}$")


@runtime_checkable
class Sink(Protocol):
    """Hands one payload to an incident-response tool, or raises ``DeliveryError``."""

    def send(self, item_key: str, payload: bytes) -> None:
        """Deliver ``payload``; ``item_key`` is its idempotency key (for receivers that dedup)."""
        ...


@dataclass
class MemorySink:
    """A sink that keeps what it was sent, for tests and dry runs.

    ``received`` holds every ``(item_key, payload)`` in order, repeats included;
    :meth:`unique` keeps the first payload per key, as a receiver that dedups would.
    """

    received: list[tuple[str, bytes]] = field(default_factory=list)

    def send(self, item_key: str, payload: bytes) -> None:
        self.received.append((item_key, bytes(payload)))

    def unique(self) -> dict[str, bytes]:
        """The first payload per key."""
        out: dict[str, bytes] = {}
        for key, payload in self.received:
            out.setdefault(key, payload)
        return out


def _check_endpoint(host: str, port: int, timeout_s: float) -> None:
    if not host:
        raise ConfigError("A syslog sink needs a host, got an empty string.")
    if not (isinstance(port, int) and 0 < port <= 65535):
        raise ConfigError(f"A syslog sink port must be in [1, 65535], got {port!r}.")
    if not timeout_s > 0:
        raise ConfigError(f"timeout_s must be positive, got {timeout_s!r}.")


@dataclass(frozen=True)
class UDPSyslogSink:
    """Syslog over UDP (RFC 5426): one payload, one datagram, no framing.

    UDP gives no delivery guarantee: ``send`` succeeds once the datagram left this host.
    A payload larger than ``max_bytes`` is refused permanently (it would be dropped
    or fragmented; RFC 5426 receivers need only accept 480 bytes, and should 2048).
    """

    host: str
    port: int
    timeout_s: float = 5.0
    max_bytes: int = MAX_UDP_PAYLOAD

    def send(self, item_key: str, payload: bytes) -> None:
        _check_endpoint(self.host, self.port, self.timeout_s)
        if len(payload) > self.max_bytes:
            raise PermanentDeliveryError(
                f"Syslog UDP payload for {item_key} is {len(payload)} bytes, over the "
                f"{self.max_bytes}-byte limit; use the TCP sink for large messages."
            )
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)
            family, kind, proto, _, address = infos[0]
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(self.timeout_s)
                sock.sendto(payload, address)
        except OSError as exc:
            raise DeliveryError(
                f"Could not send syslog over UDP to {self.host}:{self.port}: {exc.strerror or exc}."
            ) from None


@dataclass(frozen=True)
class TCPSyslogSink:
    """Syslog over TCP (RFC 6587) with octet-counting framing: ``"<len> " + payload``.

    Octet counting lets the payload hold any byte, newlines included. ``send``
    succeeds once every byte was written and the connection closed cleanly; syslog has
    no application-level acknowledgement, so pair it with a receiver that dedups by key.
    """

    host: str
    port: int
    timeout_s: float = 5.0

    def send(self, item_key: str, payload: bytes) -> None:
        _check_endpoint(self.host, self.port, self.timeout_s)
        frame = f"{len(payload)} ".encode("ascii") + payload
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout_s) as sock:
                sock.sendall(frame)
                sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            raise DeliveryError(
                f"Could not send syslog over TCP to {self.host}:{self.port}: {exc.strerror or exc}."
            ) from None


def _safe_url(url: str) -> str:
    """``url`` without credentials or query string, for error messages."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None:
        netloc += f":{port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None  # a webhook that redirects is misconfigured: surface the 3xx


@dataclass(frozen=True)
class WebhookSink:
    """HTTP(S) POST of the payload, with an ``Idempotency-Key`` header.

    2xx is success. 4xx other than 408 and 429 is a :class:`PermanentDeliveryError`
    (the same request will be refused again), as is any 3xx (redirects are not
    followed). 408, 429, 5xx, time-outs and connection errors are retryable.
    Environment proxies are ignored unless ``proxy`` names one (settings are passed
    explicitly); ``headers`` adds fixed headers such as ``Authorization``.
    """

    url: str
    timeout_s: float = 10.0
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "application/json"
    proxy: str | None = None

    def _opener(self) -> urllib.request.OpenerDirector:
        proxies = {} if self.proxy is None else {"http": self.proxy, "https": self.proxy}
        return urllib.request.build_opener(urllib.request.ProxyHandler(proxies), _NoRedirect())

    def send(self, item_key: str, payload: bytes) -> None:
        scheme = urllib.parse.urlsplit(self.url).scheme
        if scheme not in ("http", "https"):
            raise ConfigError(
                f"A webhook URL must be http:// or https://, got {_safe_url(self.url)!r}."
            )
        if not self.timeout_s > 0:
            raise ConfigError(f"timeout_s must be positive, got {self.timeout_s!r}.")
        if not _HEADER_TOKEN.match(item_key):
            raise PermanentDeliveryError(
                f"The idempotency key {item_key[:80]!r} cannot travel in an HTTP header: it must "
                "be 1 to 255 printable ASCII characters without spaces."
            )
        request = urllib.request.Request(self.url, data=payload, method="POST")  # noqa: S310
        request.add_header("Content-Type", self.content_type)
        request.add_header("Idempotency-Key", item_key)
        for name, value in self.headers:
            request.add_header(name, value)
        try:
            with self._opener().open(request, timeout=self.timeout_s) as response:
                response.read(_MAX_RESPONSE_BYTES)
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DeliveryError(
                f"Could not POST the alert to {_safe_url(self.url)}: {reason}."
            ) from None
        if 200 <= status < 300:
            return
        message = f"The webhook {_safe_url(self.url)} answered HTTP {status} for {item_key}"
        if 300 <= status < 500 and status not in RETRYABLE_4XX:
            raise PermanentDeliveryError(
                f"{message}; the request will not succeed if repeated. Check the URL, "
                "credentials and payload format."
            )
        raise DeliveryError(f"{message}; will retry.")
