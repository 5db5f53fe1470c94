"""The alert as an ArcSight CEF line, and that line in an RFC 5424 syslog message.

CEF framing is ``CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension``.
In the seven header fields ``\\`` and ``|`` are escaped with a backslash; in extension
values ``\\`` and ``=`` are escaped and line breaks become the two characters ``\\n``
or ``\\r``. Any other control character becomes a space, so the line is always one
line, and a hostile value cannot add a field, end the header or start a new message.
Header fields are cut at 255 characters and extension values at 1023 (ArcSight's
limit for ``msg``), each ending in the truncation marker when cut.
"""

from __future__ import annotations

import ipaddress
import re

from seclearn import __version__
from seclearn.alerts.alert import (
    MAX_CONTRIBUTIONS,
    Alert,
    epoch_ms,
    idempotency_key,
    iso_ms,
    truncate,
)
from seclearn.errors import ConfigError

#: CEF severity (0-10) per alert severity.
CEF_SEVERITY = {"low": 3, "medium": 5, "high": 8, "critical": 10}
#: Syslog severity (RFC 5424 section 6.2.1) per alert severity.
SYSLOG_SEVERITY = {"low": 5, "medium": 4, "high": 3, "critical": 2}
#: Longest header field and extension value, in characters, before truncation.
MAX_HEADER_CHARS = 255
MAX_EXTENSION_CHARS = 1023

_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_PRINTUSASCII = re.compile(r"^[\x21-\x7e]+$")


def _clean(text: str) -> str:
    return _CONTROL.sub(" ", text)


def cef_header_escape(text: str) -> str:
    r"""Escape one CEF header field: ``\`` and ``|`` get a backslash; controls become spaces.

    >>> cef_header_escape("a|b\\c\nd")
    'a\\|b\\\\c d'
    """
    return _clean(truncate(text, MAX_HEADER_CHARS).replace("\\", "\\\\").replace("|", "\\|"))


def cef_value_escape(text: str) -> str:
    r"""Escape one CEF extension value: ``\`` and ``=`` get a backslash, line breaks become ``\n``/``\r``.

    >>> cef_value_escape("a=b\\c\r\nd|e")
    'a\\=b\\\\c\\r\\nd|e'
    """
    cut = truncate(text, MAX_EXTENSION_CHARS)
    escaped = (
        cut.replace("\\", "\\\\").replace("=", "\\=").replace("\r", "\\r").replace("\n", "\\n")
    )
    return _clean(escaped)


def _features(alert: Alert) -> str:
    return "; ".join(
        f"{c.feature}={c.value} ({c.contribution:+.3g})"
        for c in alert.contributions[:MAX_CONTRIBUTIONS]
    )


def to_cef(alert: Alert, *, vendor: str = "seclearn", product: str = "seclearn") -> str:
    """The alert as one CEF:0 line (no trailing newline).

    Signature id is the detector name, name the alert title, severity 3/5/8/10 for
    low/medium/high/critical. Extension keys are from the ArcSight dictionary: ``rt``,
    ``start`` and ``end`` in ms, ``cnt`` (dedup count), ``src``/``dst`` for IPv4 and
    ``c6a2``/``c6a3`` for IPv6 addresses, ``spt``, ``dpt``, ``proto``, ``app``,
    ``in``/``out`` bytes, ``externalId``, ``msg``; model details in labelled custom
    fields (``cs1``-``cs6``, ``cfp1``-``cfp2``).
    """
    header = [
        "CEF:0",
        cef_header_escape(vendor),
        cef_header_escape(product),
        cef_header_escape(__version__),
        cef_header_escape(alert.detector),
        cef_header_escape(alert.title),
        str(CEF_SEVERITY[alert.severity]),
    ]
    ext: list[tuple[str, str | int | float | None]] = [
        ("rt", epoch_ms(alert.event_time)),
        ("start", epoch_ms(alert.first_seen)),
        ("end", epoch_ms(alert.last_seen)),
        ("cnt", alert.count),
        ("externalId", alert.id),
    ]
    for role, ip, v6_key, v6_label in (
        ("src", alert.src_ip, "c6a2", "Source IPv6 Address"),
        ("dst", alert.dst_ip, "c6a3", "Destination IPv6 Address"),
    ):
        if ip is None:
            continue
        if ipaddress.ip_address(ip).version == 4:
            ext.append((role, ip))
        else:
            ext += [(v6_key, ip), (f"{v6_key}Label", v6_label)]
    ext += [
        ("spt", alert.src_port),
        ("dpt", alert.dst_port),
        ("proto", None if alert.proto is None else alert.proto.upper()),
        ("app", alert.service),
        ("in", alert.src_bytes),
        ("out", alert.dst_bytes),
        ("cs1Label", "entity"),
        ("cs1", alert.entity),
        ("cs2Label", "incidentId"),
        ("cs2", alert.incident_id),
        ("cs3Label", "flowUid"),
        ("cs3", alert.uid),
        ("cs4Label", "topFeatures"),
        ("cs4", _features(alert) or None),
        ("cs5Label", "idempotencyKey"),
        ("cs5", idempotency_key(alert)),
        ("cs6Label", "detectorVersion"),
        ("cs6", alert.detector_version),
        ("cfp1Label", "score"),
        ("cfp1", float(alert.score)),
        ("cfp2Label", "threshold"),
        ("cfp2", float(alert.threshold)),
        ("msg", alert.reason),
    ]
    present = {k for k, v in ext if v is not None}
    parts = [
        f"{key}={cef_value_escape(str(value))}"
        for key, value in ext
        if value is not None and not (key.endswith("Label") and key[:-5] not in present)
    ]
    return "|".join(header) + "|" + " ".join(parts)


def to_syslog(
    alert: Alert,
    *,
    hostname: str = "-",
    app_name: str = "seclearn",
    facility: int = 16,
    msgid: str = "alert",
) -> bytes:
    """The CEF line of ``alert`` as one RFC 5424 syslog message (UTF-8, no BOM, no newline).

    ``<PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID - CEF:0|...``: PRI is
    ``facility * 8 + severity`` with syslog severity 2/3/4/5 for critical/high/medium/low
    (default facility 16, local0); the timestamp is the event time in UTC with ms.
    Framing on a stream (octet counting) is the TCP sink's job.
    """
    if not (isinstance(facility, int) and 0 <= facility <= 23):
        raise ConfigError(f"The syslog facility must be an integer in [0, 23], got {facility!r}.")
    for name, value, limit in (
        ("hostname", hostname, 255),
        ("app_name", app_name, 48),
        ("msgid", msgid, 32),
    ):
        if not (_PRINTUSASCII.match(value) and len(value) <= limit):
            raise ConfigError(
                f"The syslog {name} must be 1 to {limit} printable ASCII characters without "
                f"spaces (RFC 5424), got {value!r}."
            )
    pri = facility * 8 + SYSLOG_SEVERITY[alert.severity]
    head = f"<{pri}>1 {iso_ms(alert.event_time)} {hostname} {app_name} - {msgid} - "
    return (head + to_cef(alert)).encode("utf-8")
