"""Benign traffic of the simulated enterprise (see :mod:`._sim_network` for the layout).

Workstation activity is a Poisson process whose rate follows office hours (a morning
ramp, a lunch dip, little at night, a tenth on weekends) scaled by a per-host rate
and a per-host-per-day factor (meetings, absence). Web traffic of most hosts goes
through the proxy, which makes its own upstream connection; part of the DNS queries
are forwarded by the domain controller. Periodic benign traffic (software telemetry,
NTP, monitoring checks, a nightly backup upload, a nightly asset-inventory port
probe) gives the attack detectors realistic look-alikes: beacons, large night-time
uploads, short repeated SSH sessions, and bursts of rejected connections.
"""

from __future__ import annotations

import numpy as np

from seclearn.datasets._sim_flows import (
    Batch,
    batch,
    concat,
    ephemeral_ports,
    hourly_poisson,
    icmp_echo,
    lognormal,
    periodic,
    tcp,
    udp,
)
from seclearn.datasets._sim_network import LINUX_SERVERS, PROXY_PORT, SERVERS, Network

_STATES_WEB = {
    "SF": 0.86,
    "S1": 0.03,
    "RSTO": 0.04,
    "RSTR": 0.04,
    "S0": 0.015,
    "REJ": 0.005,
    "OTH": 0.01,
}
_STATES_LAN = {"SF": 0.95, "S1": 0.01, "RSTO": 0.015, "RSTR": 0.015, "S0": 0.005, "REJ": 0.005}

#: Workstation services: share of flows, destination, port, Zeek service, and
#: lognormal (median, sigma) of originator bytes, responder bytes, duration in seconds.
_TCP_MIX = {
    "https": (0.30, "web", 443, "ssl", (1100, 1.0), (7000, 1.7), (1.2, 1.7)),
    "http": (0.06, "web", 80, "http", (480, 0.7), (9000, 1.8), (0.35, 1.4)),
    "smb": (0.08, "files", 445, "smb", (2500, 1.8), (18000, 2.1), (12.0, 2.0)),
    "ldap": (0.05, "dc", 389, "ldap", (650, 0.5), (2300, 0.9), (0.04, 1.2)),
    "krb_tcp": (0.02, "dc", 88, "krb_tcp", (1500, 0.35), (1600, 0.35), (0.01, 0.8)),
    "imap": (0.05, "mail", 993, "ssl", (900, 0.8), (3500, 1.6), (25.0, 1.6)),
    "submission": (0.01, "mail", 587, "smtp", (28000, 1.6), (900, 0.3), (1.5, 0.9)),
    "rdp": (0.005, "files", 3389, "rdp", (40000, 1.5), (300000, 1.5), (600.0, 1.2)),
}
_UDP_MIX = {
    "dns": (0.34, "dc", 53, "dns", (38, 0.25), (120, 0.6), (0.004, 1.0), 0.02),
    "krb": (0.02, "dc", 88, "krb", (1400, 0.3), (1500, 0.3), (0.005, 0.8), 0.01),
    "ntp": (0.01, "dc", 123, "ntp", (48, 0.0), (48, 0.0), (0.0008, 0.5), 0.0),
    "cldap": (0.02, "dc", 389, None, (180, 0.2), (600, 0.3), (0.003, 0.8), 0.01),
}
_ICMP_SHARE = 0.005
_ADMIN_SSH_SHARE = 0.04


def _dst(rng: np.random.Generator, net: Network, role: str, n: int) -> np.ndarray:
    if role == "web":
        return net.web_sites[rng.choice(len(net.web_sites), n, p=net.web_weights)]
    return np.full(n, SERVERS[role], dtype=object)


def _sizes(
    rng: np.random.Generator, n: int, ob: tuple, rb: tuple, dur: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        lognormal(rng, ob[0], ob[1], n, 0, 5e9),
        lognormal(rng, rb[0], rb[1], n, 0, 5e9),
        lognormal(rng, dur[0], dur[1], n, 0, 86400.0),
    )


def workstation_traffic(rng: np.random.Generator, net: Network) -> Batch:
    """Interactive traffic of every workstation, following office hours."""
    curve = net.office_curve()
    n_hosts = len(net.hosts)
    day_factor = lognormal(rng, 1.0, 0.3, n_hosts * net.days).reshape(n_hosts, net.days)
    day_factor[rng.random(day_factor.shape) < 0.05] = 0.05  # away for the day
    rates = net.rate_per_hour[:, None] * curve[None, :] * np.repeat(day_factor, 24, axis=1)
    night = curve < 0.1
    rates[np.ix_(net.laptop, night)] *= 0.1  # laptops are mostly closed at night
    ts, host = hourly_poisson(rng, net.start, rates)
    shares = {k: v[0] for k, v in _TCP_MIX.items()} | {k: v[0] for k, v in _UDP_MIX.items()}
    shares |= {"icmp": _ICMP_SHARE, "ssh_admin": _ADMIN_SSH_SHARE}
    kinds = np.array(list(shares))
    p = np.array(list(shares.values()))
    kind = kinds[rng.choice(len(kinds), len(ts), p=p / p.sum())]
    kind[(kind == "ssh_admin") & ~net.admin[host]] = "https"  # only admins use ssh
    out: list[Batch] = []
    for name, (_, role, port, service, ob, rb, dur) in _TCP_MIX.items():
        sel = np.flatnonzero(kind == name)
        if len(sel):
            out.extend(_tcp_flows(rng, net, ts[sel], host[sel], role, port, service, ob, rb, dur))
    for name, (_, role, port, udp_service, ob, rb, dur, p_none) in _UDP_MIX.items():
        sel = np.flatnonzero(kind == name)
        n = len(sel)
        if n:
            shaped = udp(rng, *_sizes(rng, n, ob, rb, dur), p_none)
            out.append(
                batch(
                    n,
                    ts=ts[sel],
                    src_ip=net.hosts[host[sel]],
                    src_port=ephemeral_ports(rng, n),
                    dst_ip=_dst(rng, net, role, n),
                    dst_port=port,
                    proto="udp",
                    service=udp_service,
                    attack_type="benign",
                    **shaped,
                )
            )
            if name == "dns":
                out.append(_dns_forwarding(rng, net, ts[sel]))
    sel = np.flatnonzero(kind == "icmp")
    if len(sel):
        shaped = icmp_echo(rng, len(sel), 32)
        out.append(
            batch(
                len(sel),
                ts=ts[sel],
                src_ip=net.hosts[host[sel]],
                src_port=8,
                dst_ip=rng.choice(np.concatenate([net.hosts, LINUX_SERVERS]), len(sel)),
                dst_port=0,
                proto="icmp",
                service=None,
                attack_type="benign",
                **shaped,
            )
        )
    sel = np.flatnonzero(kind == "ssh_admin")
    if len(sel):
        n = len(sel)
        dst = np.where(rng.random(n) < 0.5, SERVERS["jump"], rng.choice(LINUX_SERVERS, n))
        shaped = tcp(
            rng, *_sizes(rng, n, (9000, 1.5), (45000, 1.8), (280.0, 1.3)), _STATES_LAN, 0.002
        )
        out.append(
            batch(
                n,
                ts=ts[sel],
                src_ip=net.hosts[host[sel]],
                src_port=ephemeral_ports(rng, n),
                dst_ip=dst.astype(object),
                dst_port=22,
                proto="tcp",
                service="ssh",
                attack_type="benign",
                **shaped,
            )
        )
    return concat(out)


def _tcp_flows(rng, net, ts, host, role, port, service, ob, rb, dur) -> list[Batch]:
    n = len(ts)
    obytes, rbytes, dsec = _sizes(rng, n, ob, rb, dur)
    external = role == "web"
    shaped = tcp(
        rng,
        obytes,
        rbytes,
        dsec,
        _STATES_WEB if external else _STATES_LAN,
        0.03 if external else 0.002,
    )
    dst = _dst(rng, net, role, n)
    if not external:
        return [
            batch(
                n,
                ts=ts,
                src_ip=net.hosts[host],
                src_port=ephemeral_ports(rng, n),
                dst_ip=dst,
                dst_port=port,
                proto="tcp",
                service=service,
                attack_type="benign",
                **shaped,
            )
        ]
    via = net.proxied[host]
    direct = batch(
        n,
        ts=ts,
        src_ip=net.hosts[host],
        src_port=ephemeral_ports(rng, n),
        dst_ip=dst,
        dst_port=port,
        proto="tcp",
        service=service,
        attack_type="benign",
        **shaped,
    )
    # Proxied clients talk HTTP to the proxy (CONNECT for TLS); the proxy makes the upstream connection.
    direct["dst_ip"] = np.where(via, SERVERS["proxy"], dst).astype(object)
    direct["dst_port"] = np.where(via, PROXY_PORT, port)
    direct["service"] = np.where(via, "http", service).astype(object)
    direct["src_bytes"] = direct["src_bytes"] + np.where(
        via, lognormal(rng, 190, 0.1, n).round(), 0.0
    )  # CONNECT
    direct["dst_bytes"] = direct["dst_bytes"] + np.where(
        via, 39.0, 0.0
    )  # "HTTP/1.1 200 Connection established"
    k = int(via.sum())
    up = {c: v[via] for c, v in shaped.items()}
    upstream = batch(
        k,
        ts=ts[via] + lognormal(rng, 0.003, 0.5, k),
        src_ip=SERVERS["proxy"],
        src_port=ephemeral_ports(rng, k),
        dst_ip=dst[via],
        dst_port=port,
        proto="tcp",
        service=service,
        attack_type="benign",
        **up,
    )
    return [direct, upstream]


def _dns_forwarding(rng: np.random.Generator, net: Network, query_ts: np.ndarray) -> Batch:
    """The domain controller forwards about a quarter of the queries (cache misses)."""
    ts = query_ts[rng.random(len(query_ts)) < 0.25] + 0.0005
    n = len(ts)
    shaped = udp(
        rng,
        lognormal(rng, 45, 0.25, n),
        lognormal(rng, 160, 0.6, n),
        lognormal(rng, 0.03, 0.8, n),
        0.01,
    )
    return batch(
        n,
        ts=ts,
        src_ip=SERVERS["dc"],
        src_port=ephemeral_ports(rng, n),
        dst_ip=rng.choice(net.resolvers, n),
        dst_port=53,
        proto="udp",
        service="dns",
        attack_type="benign",
        **shaped,
    )


def server_traffic(rng: np.random.Generator, net: Network) -> Batch:
    """Inbound web visitors, inbound and outbound mail."""
    curve = 0.3 + 0.7 * net.office_curve(weekend_factor=0.6)
    out: list[Batch] = []
    for rate, src_pool, dst, port, service, ob, rb, dur in (
        (70.0, net.web_visitors, SERVERS["web"], 443, "ssl", (900, 0.9), (25000, 1.6), (2.5, 1.5)),
        (8.0, net.web_visitors, SERVERS["web"], 80, "http", (420, 0.5), (600, 0.6), (0.2, 1.0)),
        (20.0, net.mail_peers, SERVERS["mail"], 25, "smtp", (22000, 1.5), (700, 0.3), (1.8, 0.9)),
    ):
        ts, _ = hourly_poisson(rng, net.start, rate * curve)
        n = len(ts)
        shaped = tcp(rng, *_sizes(rng, n, ob, rb, dur), _STATES_WEB, 0.05)
        out.append(
            batch(
                n,
                ts=ts,
                src_ip=src_pool[rng.integers(0, len(src_pool), n)],
                src_port=ephemeral_ports(rng, n),
                dst_ip=dst,
                dst_port=port,
                proto="tcp",
                service=service,
                attack_type="benign",
                **shaped,
            )
        )
    ts, _ = hourly_poisson(rng, net.start, 10.0 * curve)
    n = len(ts)
    shaped = tcp(rng, *_sizes(rng, n, (25000, 1.5), (600, 0.3), (2.0, 0.9)), _STATES_WEB, 0.05)
    out.append(
        batch(
            n,
            ts=ts,
            src_ip=SERVERS["mail"],
            src_port=ephemeral_ports(rng, n),
            dst_ip=rng.choice(net.mail_peers, n),
            dst_port=25,
            proto="tcp",
            service="smtp",
            attack_type="benign",
            **shaped,
        )
    )
    return concat(out)


def periodic_traffic(rng: np.random.Generator, net: Network) -> Batch:
    """Telemetry beacons, NTP, monitoring checks, nightly backup and inventory probes."""
    t0, t1 = net.start, net.start + net.days * 86400.0
    out: list[Batch] = []
    for h, addr in enumerate(net.hosts):  # one loop per host and agent, not per flow
        for _ in range(rng.integers(1, 4)):
            period = float(rng.choice([300.0, 600.0, 900.0, 1800.0, 3600.0]))
            ts = periodic(rng, t0, t1, period, float(rng.uniform(0.02, 0.2)))
            if net.laptop[h]:  # a closed laptop does not phone home
                ts = ts[net.office_curve()[((ts - t0) // 3600).astype(int)] >= 0.1]
            n = len(ts)
            ob, rb = float(rng.uniform(300, 1500)), float(rng.uniform(200, 5000))
            shaped = tcp(
                rng,
                lognormal(rng, ob, 0.08, n),
                lognormal(rng, rb, 0.3, n),
                lognormal(rng, 0.4, 0.6, n),
                _STATES_WEB,
                0.03,
            )
            out.append(
                batch(
                    n,
                    ts=ts,
                    src_ip=addr,
                    src_port=ephemeral_ports(rng, n),
                    dst_ip=rng.choice(net.telemetry),
                    dst_port=443,
                    proto="tcp",
                    service="ssl",
                    attack_type="benign",
                    **shaped,
                )
            )
    ts = periodic(rng, t0, t1, 1024.0, 0.01)
    shaped = udp(
        rng, np.full(len(ts), 48.0), np.full(len(ts), 48.0), lognormal(rng, 0.02, 0.4, len(ts)), 0.0
    )
    out.append(
        batch(
            len(ts),
            ts=ts,
            src_ip=SERVERS["dc"],
            src_port=123,
            dst_ip=rng.choice(net.ntp_pool, len(ts)),
            dst_port=123,
            proto="udp",
            service="ntp",
            attack_type="benign",
            **shaped,
        )
    )
    for target in LINUX_SERVERS:  # the monitoring host pings every server and checks SSH logins
        ts = periodic(rng, t0, t1, 300.0, 0.01)
        out.append(
            batch(
                len(ts),
                ts=ts,
                src_ip=SERVERS["monitor"],
                src_port=8,
                dst_ip=target,
                dst_port=0,
                proto="icmp",
                service=None,
                attack_type="benign",
                **icmp_echo(rng, len(ts), 56),
            )
        )
        ts = periodic(rng, t0, t1, 600.0, 0.02)
        n = len(ts)
        shaped = tcp(
            rng,
            lognormal(rng, 2300, 0.12, n),
            lognormal(rng, 3100, 0.12, n),
            lognormal(rng, 0.9, 0.35, n),
            {"SF": 0.97, "RSTR": 0.02, "S0": 0.01},
            0.002,
        )
        out.append(
            batch(
                n,
                ts=ts,
                src_ip=SERVERS["monitor"],
                src_port=ephemeral_ports(rng, n),
                dst_ip=target,
                dst_port=22,
                proto="tcp",
                service="ssh",
                attack_type="benign",
                **shaped,
            )
        )
    out.extend(_nightly(rng, net))
    return concat(out)


def _nightly(rng: np.random.Generator, net: Network) -> list[Batch]:
    """Backup uploads every night; asset-inventory probes of every workstation on weekday nights."""
    out: list[Batch] = []
    probe_ports = np.array([22, 80, 135, 139, 443, 445, 3389, 5985, 8080, 9100])
    for day in range(net.days):
        midnight = net.start + day * 86400.0
        n = int(rng.integers(3, 7))
        ts = midnight + 3600.0 + np.sort(rng.uniform(0, 1800, n))
        shaped = tcp(
            rng,
            lognormal(rng, 3e8, 0.8, n),
            lognormal(rng, 4e5, 0.5, n),
            lognormal(rng, 1800.0, 0.6, n, 60, 14400),
            {"SF": 1.0},
            0.03,
        )
        out.append(
            batch(
                n,
                ts=ts,
                src_ip=SERVERS["files"],
                src_port=ephemeral_ports(rng, n),
                dst_ip=net.backup_site,
                dst_port=443,
                proto="tcp",
                service="ssl",
                attack_type="benign",
                **shaped,
            )
        )
        if not net.is_weekday(day):
            continue
        targets = np.repeat(net.hosts, len(probe_ports))
        ports = np.tile(probe_ports, len(net.hosts))
        n = len(targets)
        ts = midnight + 2 * 3600.0 + np.sort(rng.uniform(0, 900, n))
        shaped = tcp(
            rng,
            lognormal(rng, 300, 0.5, n),
            lognormal(rng, 800, 0.8, n),
            lognormal(rng, 0.05, 0.5, n),
            {"REJ": 0.6, "S0": 0.3, "SCAN_OPEN": 0.04, "SF": 0.06},
            0.001,
        )
        out.append(
            batch(
                n,
                ts=ts,
                src_ip=SERVERS["inventory"],
                src_port=ephemeral_ports(rng, n),
                dst_ip=targets,
                dst_port=ports,
                proto="tcp",
                service=None,
                attack_type="benign",
                **shaped,
            )
        )
    return out
