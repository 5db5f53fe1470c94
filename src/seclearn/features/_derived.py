"""Flow features computed from several canonical fields, and the port bucket."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

#: Durations below this are treated as this long when computing rates, so that
#: zero-duration flows (common: one-packet flows, second-granularity logs) get finite rates.
MIN_DURATION_S = 0.001

#: Ports that get their own bucket in ``dst_port_class``; other ports fall into
#: ``well_known`` (< 1024), ``registered`` (1024-49151) or ``ephemeral`` (>= 49152).
NAMED_PORTS: dict[int, str] = {
    20: "ftp-data",
    21: "ftp",
    22: "ssh",
    23: "telnet",
    25: "smtp",
    53: "dns",
    67: "dhcp",
    68: "dhcp",
    69: "tftp",
    80: "http",
    88: "kerberos",
    110: "pop3",
    111: "rpcbind",
    123: "ntp",
    135: "msrpc",
    137: "netbios",
    138: "netbios",
    139: "netbios",
    143: "imap",
    161: "snmp",
    162: "snmp",
    389: "ldap",
    443: "https",
    445: "smb",
    465: "smtps",
    514: "syslog",
    587: "submission",
    636: "ldaps",
    993: "imaps",
    995: "pop3s",
    1433: "mssql",
    1521: "oracle",
    1900: "ssdp",
    2049: "nfs",
    3306: "mysql",
    3389: "rdp",
    5060: "sip",
    5353: "mdns",
    5432: "postgres",
    5900: "vnc",
    6379: "redis",
    8080: "http-alt",
    8443: "https-alt",
    9200: "elasticsearch",
    27017: "mongodb",
}
PORT_CLASS_COLUMN = "dst_port_class"


@dataclass(frozen=True)
class DerivedNumeric:
    """A numeric feature computed from ``sources`` (float arrays, NaN = missing)."""

    name: str
    sources: tuple[str, ...]
    compute: Callable[[dict[str, np.ndarray]], np.ndarray]
    description: str


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator where the denominator is positive, NaN elsewhere."""
    out = np.full(numerator.shape, np.nan)
    ok = denominator > 0
    np.divide(numerator, denominator, out=out, where=ok)
    return out


def _rate(amount: np.ndarray, duration_s: np.ndarray) -> np.ndarray:
    return amount / np.maximum(duration_s, MIN_DURATION_S)


DERIVED_NUMERIC: tuple[DerivedNumeric, ...] = (
    DerivedNumeric(
        "src_bytes_per_pkt",
        ("src_bytes", "src_pkts"),
        lambda v: _ratio(v["src_bytes"], v["src_pkts"]),
        "bytes per packet, originator",
    ),
    DerivedNumeric(
        "dst_bytes_per_pkt",
        ("dst_bytes", "dst_pkts"),
        lambda v: _ratio(v["dst_bytes"], v["dst_pkts"]),
        "bytes per packet, responder",
    ),
    DerivedNumeric(
        "src_byte_share",
        ("src_bytes", "dst_bytes"),
        lambda v: _ratio(v["src_bytes"], v["src_bytes"] + v["dst_bytes"]),
        "share of the flow's bytes sent by the originator (NaN when no bytes)",
    ),
    DerivedNumeric(
        "pkts_per_s",
        ("src_pkts", "dst_pkts", "duration_s"),
        lambda v: _rate(v["src_pkts"] + v["dst_pkts"], v["duration_s"]),
        "packets per second, both directions",
    ),
    DerivedNumeric(
        "bytes_per_s",
        ("src_bytes", "dst_bytes", "duration_s"),
        lambda v: _rate(v["src_bytes"] + v["dst_bytes"], v["duration_s"]),
        "bytes per second, both directions",
    ),
)


@cache
def _port_lookup() -> tuple[np.ndarray, np.ndarray]:
    """Label index for every port 0..65535, and the labels."""
    labels = [f"{port}/{name}" for port, name in sorted(NAMED_PORTS.items())]
    labels += ["well_known", "registered", "ephemeral"]
    index = np.empty(65536, dtype=np.int16)
    index[:1024] = len(labels) - 3
    index[1024:49152] = len(labels) - 2
    index[49152:] = len(labels) - 1
    for i, port in enumerate(sorted(NAMED_PORTS)):
        index[port] = i
    return index, np.array(labels, dtype=object)


def port_class(ports: np.ndarray) -> np.ndarray:
    """Bucket destination ports: named service ports, well_known, registered, ephemeral.

    Missing or impossible ports (NaN, negative, above 65535, fractional) give None.
    """
    index, labels = _port_lookup()
    ok = np.isfinite(ports) & (ports >= 0) & (ports <= 65535) & (np.mod(ports, 1) == 0)
    out = np.full(ports.shape, None, dtype=object)
    out[ok] = labels[index[ports[ok].astype(np.int64)]]
    return out


__all__ = [
    "DERIVED_NUMERIC",
    "MIN_DURATION_S",
    "NAMED_PORTS",
    "PORT_CLASS_COLUMN",
    "DerivedNumeric",
    "port_class",
]
