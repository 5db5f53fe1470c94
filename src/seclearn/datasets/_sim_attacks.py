"""Attack campaigns of the simulator, each a batch of labelled flows.

Every attack type runs in one or more campaigns (``1 + days // 3``), on days drawn
at random, alternating between two styles so that no single feature separates it
from benign traffic:

* ``port_scan``: a fast vertical SYN scan of the public servers from the internet,
  or a slow horizontal scan of the LAN from a compromised workstation (the benign
  asset-inventory probe looks much the same);
* ``ssh_bruteforce``: a rapid password-guessing run against the exposed jump host
  (blocked part way, after which SYNs go unanswered), or a slow spray across the
  Linux servers from inside, with session sizes close to the monitoring checks;
* ``dos``: a SYN flood from spoofed sources, or an HTTP GET flood from a botnet whose
  requests look like ordinary visits;
* ``c2_beacon``: periodic check-ins with jitter to one external host for hours,
  over TLS on 443 or plain HTTP, small near-constant sizes (like benign telemetry)
  with an occasional larger tasking response;
* ``exfiltration``: a few long uploads of tens of megabytes at night to one external
  host (like the nightly backup, but from a workstation).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from seclearn.datasets._sim_flows import (
    Batch,
    batch,
    concat,
    ephemeral_ports,
    lognormal,
    periodic,
    public_ips,
    tcp,
)
from seclearn.datasets._sim_network import LINUX_SERVERS, SERVERS, Network

ATTACK_TYPES = ("port_scan", "ssh_bruteforce", "dos", "c2_beacon", "exfiltration")


def _at(net: Network, day: int, hour: float) -> float:
    return net.start + day * 86400.0 + hour * 3600.0


def _paced(rng: np.random.Generator, t0: float, n: int, mean_gap_s: float) -> np.ndarray:
    return t0 + np.cumsum(rng.exponential(mean_gap_s, n))


def _syn_only(n: int) -> dict[str, np.ndarray]:
    """Single unanswered SYNs (spoofed flood): Zeek leaves duration and bytes unset."""
    nan = np.full(n, np.nan)
    return {
        "duration_s": nan,
        "src_bytes": nan.copy(),
        "dst_bytes": nan.copy(),
        "src_pkts": np.ones(n),
        "dst_pkts": np.zeros(n),
        "conn_state": np.full(n, "S0", dtype=object),
        "history": np.full(n, "S", dtype=object),
    }


def port_scan(rng: np.random.Generator, net: Network, day: int, style: int, host: str) -> Batch:
    if style == 0:  # fast vertical scan of the public servers from the internet
        ports = np.concatenate(
            [np.arange(1, 1025), [1433, 1521, 3306, 3389, 5432, 5900, 6379, 8080, 8443, 9200]]
        )
        targets = np.array([SERVERS["web"], SERVERS["mail"]], dtype=object)
        keep = rng.random(len(ports)) < rng.uniform(0.5, 0.8)
        dst_port = np.tile(ports[keep], len(targets))
        dst_ip = np.repeat(targets, keep.sum())
        n = len(dst_port)
        ts = _paced(rng, _at(net, day, rng.uniform(0, 23)), n, 1 / rng.uniform(80, 250))
        shaped = tcp(
            rng,
            np.zeros(n),
            np.zeros(n),
            np.zeros(n),
            {"S0": 0.75, "REJ": 0.2, "SCAN_OPEN": 0.05},
            0.04,
        )
        src = str(public_ips(rng, 1)[0])
        src_port = np.full(n, int(rng.integers(40000, 65000)))
    else:  # slow horizontal scan of the LAN from a compromised workstation
        ports = np.array([22, 135, 139, 445, 3389, 5985])
        targets = np.concatenate(
            [net.hosts, LINUX_SERVERS, np.array(list(SERVERS.values()), dtype=object)]
        )
        dst_ip = np.repeat(targets, len(ports))
        dst_port = np.tile(ports, len(targets))
        order = rng.permutation(len(dst_ip))
        dst_ip, dst_port = dst_ip[order], dst_port[order]
        n = len(dst_ip)
        ts = _paced(rng, _at(net, day, rng.uniform(10, 14)), n, rng.uniform(2.0, 8.0))
        shaped = tcp(
            rng,
            np.zeros(n),
            np.zeros(n),
            np.zeros(n),
            {"REJ": 0.6, "S0": 0.3, "SCAN_OPEN": 0.1},
            0.002,
        )
        src = host
        src_port = ephemeral_ports(rng, n)
    return batch(
        n,
        ts=ts,
        src_ip=src,
        src_port=src_port,
        dst_ip=dst_ip,
        dst_port=dst_port,
        proto="tcp",
        service=None,
        attack_type="port_scan",
        **shaped,
    )


def ssh_bruteforce(
    rng: np.random.Generator, net: Network, day: int, style: int, host: str
) -> Batch:
    if style == 0:  # rapid guessing against the exposed jump host, blocked part way through
        n = int(rng.integers(400, 700))
        ts = _paced(rng, _at(net, day, rng.uniform(0, 22)), n, rng.uniform(2.0, 6.0))
        src, dst = str(public_ips(rng, 1)[0]), np.full(n, SERVERS["jump"], dtype=object)
        ob, rb, rtt = (2000, 0.2), (2900, 0.2), 0.08
    else:  # slow spray over the Linux servers from inside
        n = int(rng.integers(200, 320))
        ts = _paced(rng, _at(net, day, rng.uniform(9, 15)), n, rng.uniform(15.0, 40.0))
        src, dst = host, rng.choice(LINUX_SERVERS, n)
        ob, rb, rtt = (2250, 0.15), (3050, 0.15), 0.002
    shaped = tcp(
        rng,
        lognormal(rng, *ob, n),
        lognormal(rng, *rb, n),
        lognormal(rng, 3.0, 0.5, n),
        {"SF": 0.85, "RSTR": 0.1, "RSTO": 0.05},
        rtt,
    )
    if style == 0:
        blocked = np.arange(n) > int(n * rng.uniform(0.6, 0.8))
        for col, value in _syn_only(n).items():
            shaped[col] = np.where(blocked, value, shaped[col])
    return batch(
        n,
        ts=ts,
        src_ip=src,
        src_port=ephemeral_ports(rng, n),
        dst_ip=dst,
        dst_port=22,
        proto="tcp",
        service="ssh",
        attack_type="ssh_bruteforce",
        **shaped,
    )


def dos(rng: np.random.Generator, net: Network, day: int, style: int, host: str) -> Batch:
    t0 = _at(net, day, rng.uniform(8, 20))
    if style == 0:  # SYN flood from spoofed addresses
        n = int(rng.integers(1200, 1800))
        ts = t0 + np.sort(rng.uniform(0, rng.uniform(15, 40), n))
        return batch(
            n,
            ts=ts,
            src_ip=public_ips(rng, n),
            src_port=ephemeral_ports(rng, n),
            dst_ip=SERVERS["web"],
            dst_port=443,
            proto="tcp",
            service=None,
            attack_type="dos",
            **_syn_only(n),
        )
    n = int(rng.integers(800, 1200))  # HTTP GET flood from a botnet
    bots = public_ips(rng, 30)
    ts = t0 + np.sort(rng.uniform(0, rng.uniform(120, 300), n))
    shaped = tcp(
        rng,
        lognormal(rng, 350, 0.3, n),
        lognormal(rng, 600, 0.6, n),
        lognormal(rng, 0.3, 0.8, n),
        {"SF": 0.8, "RSTO": 0.1, "RSTR": 0.05, "S0": 0.05},
        0.1,
    )
    return batch(
        n,
        ts=ts,
        src_ip=bots[rng.integers(0, len(bots), n)],
        src_port=ephemeral_ports(rng, n),
        dst_ip=SERVERS["web"],
        dst_port=80,
        proto="tcp",
        service="http",
        attack_type="dos",
        **shaped,
    )


def c2_beacon(rng: np.random.Generator, net: Network, day: int, style: int, host: str) -> Batch:
    t0 = _at(net, day, rng.uniform(8, 16))
    t1 = min(t0 + rng.uniform(6, 16) * 3600.0, net.start + net.days * 86400.0)
    period = rng.uniform(60, 180) if style == 0 else rng.uniform(300, 600)
    ts = periodic(rng, t0, t1, period, rng.uniform(0.1, 0.3))
    n = len(ts)
    rb = lognormal(rng, rng.uniform(150, 500), 0.1, n)
    tasking = rng.random(n) < 0.04
    rb[tasking] = lognormal(rng, 20000, 1.0, int(tasking.sum()))
    shaped = tcp(
        rng,
        lognormal(rng, rng.uniform(250, 700), 0.06, n),
        rb,
        lognormal(rng, 0.3, 0.4, n),
        {"SF": 0.95, "RSTR": 0.03, "S0": 0.02},
        0.05,
    )
    port, service = (443, "ssl") if style == 0 else (80, "http")
    return batch(
        n,
        ts=ts,
        src_ip=host,
        src_port=ephemeral_ports(rng, n),
        dst_ip=str(public_ips(rng, 1)[0]),
        dst_port=port,
        proto="tcp",
        service=service,
        attack_type="c2_beacon",
        **shaped,
    )


def exfiltration(rng: np.random.Generator, net: Network, day: int, style: int, host: str) -> Batch:
    n = int(rng.integers(3, 9))
    hour = rng.uniform(-2, 3) if day > 0 else rng.uniform(0, 3)  # around midnight
    duration = lognormal(rng, 1500.0, 0.5, n, 300.0, 5400.0)
    gaps = rng.uniform(30, 300, n)
    starts = _at(net, day, hour) + np.concatenate([[0.0], np.cumsum(duration + gaps)[:-1]])
    shaped = tcp(
        rng, lognormal(rng, 6e7, 0.8, n), lognormal(rng, 3e5, 0.5, n), duration, {"SF": 1.0}, 0.06
    )
    port, service = (443, "ssl") if style == 0 else (22, "ssh")
    return batch(
        n,
        ts=starts,
        src_ip=host,
        src_port=ephemeral_ports(rng, n),
        dst_ip=str(public_ips(rng, 1)[0]),
        dst_port=port,
        proto="tcp",
        service=service,
        attack_type="exfiltration",
        **shaped,
    )


_GENERATORS: dict[str, Callable[[np.random.Generator, Network, int, int, str], Batch]] = {
    "port_scan": port_scan,
    "ssh_bruteforce": ssh_bruteforce,
    "dos": dos,
    "c2_beacon": c2_beacon,
    "exfiltration": exfiltration,
}


def attack_traffic(seed: int, net: Network, attacks: tuple[str, ...]) -> Batch:
    """All campaigns of the requested attack types; each type has its own random stream."""
    campaigns = 1 + net.days // 3
    pick = np.random.default_rng([seed, 99])
    desktops = np.flatnonzero(~net.laptop & ~net.admin)
    pool = desktops if len(desktops) >= campaigns else np.arange(len(net.hosts))
    compromised = net.hosts[pick.choice(pool, campaigns, replace=len(pool) < campaigns)]
    out: list[Batch] = []
    for type_id, name in enumerate(ATTACK_TYPES):
        if name not in attacks:
            continue
        rng = np.random.default_rng([seed, 100 + type_id])
        days = np.sort(rng.choice(net.days, campaigns, replace=net.days < campaigns))
        for k, day in enumerate(days):
            out.append(_GENERATORS[name](rng, net, int(day), k % 2, str(compromised[k])))
    return concat(out)
