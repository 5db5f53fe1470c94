"""Drift of the simulated enterprise from a given day on: new services, a new attack, evolution.

A :class:`DriftScenario` passed to :func:`~seclearn.datasets.simulate_enterprise`
adds, from midnight of ``start_day`` on (days counted from 0):

* **new benign services** (``new_services``): a cloud file-sync service that a
  growing share of the workstations adopts (half of them on the first drifted day,
  ``gradual_rate`` more each day after), with long-poll notification connections
  held open for minutes and office-hour uploads and downloads of megabytes to
  gigabytes over TLS, direct to a few external endpoints (a workstation uploading
  tens of megabytes to the internet looked like exfiltration until then); and an
  internal endpoint-backup server (10.0.0.80, TLS on port 8443, a port not used
  before) to which every workstation pushes its nightly backup in chunks of tens of
  megabytes;
* **a new attack family** (``new_attack``, one of :data:`DRIFT_ATTACK_TYPES`):
  ``dns_tunnel``, a low-and-slow DNS tunnel (dnscat2 style) run by malware on three
  desktops every drifted day, for 7 to 11 hours from the morning: UDP/53 queries at
  random intervals (a mean of 40 to 120 s per host) whose long encoded names make
  requests of about 150 to 210 bytes (ordinary ones are about 40), with TXT answers
  of a few hundred bytes, sent straight to a public resolver or, alternately,
  through the domain controller, which forwards every query (each name is new, so
  none is cached): both hops are labelled malicious;
* **gradual concept drift** (``gradual_rate``): if ``c2_beacon`` is simulated, one
  new beacon campaign a day whose malware evolves towards ordinary HTTPS browsing:
  on the k-th drifted day (k = 1, 2, ...) it is a fraction ``min(1, gradual_rate * k)``
  of the way from the old beacon (small near-constant sizes, 10-30 % jitter, short
  connections) to web browsing (sizes and durations spread like HTTPS visits, up to
  90 % jitter); and the sync service's adoption grows by ``gradual_rate`` a day.

Every part draws from its own seeded stream and makes flows only from ``start_day``
on, so the days before are exactly those of the simulation without drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from seclearn.datasets._sim_flows import (
    Batch,
    batch,
    ephemeral_ports,
    hourly_poisson,
    lognormal,
    periodic,
    public_ips,
    tcp,
    udp,
)
from seclearn.datasets._sim_network import SERVERS, Network
from seclearn.errors import ConfigError

#: Attack families that only a :class:`DriftScenario` adds (not in ``ATTACK_TYPES``).
DRIFT_ATTACK_TYPES = ("dns_tunnel",)
BACKUP_SERVER = "10.0.0.80"
BACKUP_PORT = 8443
_TUNNEL_HOSTS = 3
_SYNC_FIRST_ADOPTION = 0.5
_STATES_SYNC = {"SF": 0.9, "S1": 0.03, "RSTO": 0.03, "RSTR": 0.03, "S0": 0.01}


@dataclass(frozen=True)
class DriftScenario:
    """How the simulated enterprise changes from day ``start_day`` (0-based) on.

    ``new_services`` adds the benign cloud file-sync and endpoint-backup services,
    ``new_attack`` a new attack family (one of :data:`DRIFT_ATTACK_TYPES`, or None
    for none) and ``gradual_rate`` (in [0, 1], 0 for none) how fast, per drifted day,
    the ``c2_beacon`` malware evolves towards ordinary HTTPS and the sync service
    is adopted. See :mod:`seclearn.datasets._sim_drift` for the traffic itself.

    >>> DriftScenario(start_day=2)
    DriftScenario(start_day=2, new_services=True, new_attack='dns_tunnel', gradual_rate=0.25)
    """

    start_day: int
    new_services: bool = True
    new_attack: str | None = "dns_tunnel"
    gradual_rate: float = 0.25


def _is_int(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | np.integer)


def check_drift(drift: Any, days: int) -> DriftScenario | None:
    """``drift`` if it is None or a valid scenario for a ``days``-day simulation, else ConfigError."""
    if drift is None:
        return None
    if not isinstance(drift, DriftScenario):
        raise ConfigError(
            "simulate_enterprise: 'drift' must be a DriftScenario or None, "
            f"got {type(drift).__name__}."
        )
    where = "simulate_enterprise: the DriftScenario's"
    if not _is_int(drift.start_day) or not 0 <= drift.start_day < days:
        raise ConfigError(
            f"{where} 'start_day' must be an integer in [0, days - 1] = [0, {days - 1}] "
            f"(the first drifted day, counted from 0), got {drift.start_day!r}."
        )
    if not isinstance(drift.new_services, bool | np.bool_):
        raise ConfigError(
            f"{where} 'new_services' must be True or False, got {drift.new_services!r}."
        )
    if drift.new_attack is not None and drift.new_attack not in DRIFT_ATTACK_TYPES:
        raise ConfigError(
            f"{where} 'new_attack' must be None or one of {list(DRIFT_ATTACK_TYPES)}, "
            f"got {drift.new_attack!r}."
        )
    rate = drift.gradual_rate
    if (
        isinstance(rate, bool)
        or not isinstance(rate, int | float | np.number)
        or not 0 <= rate <= 1
    ):
        raise ConfigError(
            f"{where} 'gradual_rate' must be a number in [0, 1] (the share of the evolution "
            f"made each drifted day; 0 for none), got {rate!r}."
        )
    return drift


def _day_start(net: Network, day: int) -> float:
    return net.start + day * 86400.0


# ------------------------------------------------------------------ benign services
def _sync_service(rng: np.random.Generator, net: Network, drift: DriftScenario) -> list[Batch]:
    """Cloud file sync: long-polls all day on adopting hosts, office-hour transfers."""
    n_hosts, n_days = len(net.hosts), net.days - drift.start_day
    endpoints = public_ips(rng, 4)
    adoption = np.minimum(1.0, _SYNC_FIRST_ADOPTION + drift.gradual_rate * np.arange(n_days))
    uses = rng.random(n_hosts)[:, None] < adoption[None, :]  # (hosts, drifted days)
    curve = net.office_curve()[drift.start_day * 24 :]
    on = np.repeat(uses, 24, axis=1) & ((curve >= 0.1)[None, :] | ~net.laptop[:, None])
    t0 = _day_start(net, drift.start_day)
    out: list[Batch] = []
    # Long-poll notification channel: the server holds each request for up to five minutes.
    ts, host = hourly_poisson(rng, t0, 11.0 * on)
    n = len(ts)
    shaped = tcp(
        rng,
        lognormal(rng, 750, 0.15, n),
        lognormal(rng, 420, 0.35, n),
        lognormal(rng, 250.0, 0.2, n, 5.0, 300.0),
        _STATES_SYNC,
        0.03,
    )
    out.append(_sync_batch(rng, net, endpoints, ts, host, shaped))
    # File transfers, mostly uploads: a changed document, a folder of photos, a video.
    rates = 3.0 * uses.repeat(24, axis=1) * curve[None, :] * net.rate_per_hour[:, None] / 45.0
    ts, host = hourly_poisson(rng, t0, rates)
    n = len(ts)
    upload = rng.random(n) < 0.65
    big = lognormal(rng, 4e6, 1.6, n, 2e4, 4e9)
    small = lognormal(rng, 3000, 0.5, n)
    throughput = lognormal(rng, 3e6, 0.6, n, 2e5, 1e8)  # bytes per second
    shaped = tcp(
        rng,
        np.where(upload, big, small),
        np.where(upload, small, big),
        0.3 + big / throughput,
        _STATES_SYNC,
        0.03,
    )
    out.append(_sync_batch(rng, net, endpoints, ts, host, shaped))
    return out


def _sync_batch(
    rng: np.random.Generator,
    net: Network,
    endpoints: np.ndarray,
    ts: np.ndarray,
    host: np.ndarray,
    shaped: dict[str, np.ndarray],
) -> Batch:
    n = len(ts)
    return batch(
        n,
        ts=ts,
        src_ip=net.hosts[host],
        src_port=ephemeral_ports(rng, n),
        dst_ip=endpoints[rng.integers(0, len(endpoints), n)],
        dst_port=443,
        proto="tcp",
        service="ssl",
        attack_type="benign",
        **shaped,
    )


def _backup_service(rng: np.random.Generator, net: Network, drift: DriftScenario) -> list[Batch]:
    """Nightly endpoint backup of every workstation (laptops at lunch) to the new server."""
    out: list[Batch] = []
    for day in range(drift.start_day, net.days):
        for h, addr in enumerate(net.hosts):
            hour = rng.uniform(12.0, 13.5) if net.laptop[h] else rng.uniform(0.5, 4.0)
            n = int(rng.integers(4, 20))
            size = lognormal(rng, 2e7, 1.0, n, 1e5, 2e9)
            duration = 0.5 + size / lognormal(rng, 4e7, 0.4, n)
            gaps = np.cumsum(duration + rng.uniform(1, 10, n))
            starts = _day_start(net, day) + hour * 3600.0 + np.concatenate([[0.0], gaps[:-1]])
            shaped = tcp(rng, size, lognormal(rng, 6000, 0.4, n), duration, {"SF": 1.0}, 0.002)
            out.append(
                batch(
                    n,
                    ts=starts,
                    src_ip=addr,
                    src_port=ephemeral_ports(rng, n),
                    dst_ip=BACKUP_SERVER,
                    dst_port=BACKUP_PORT,
                    proto="tcp",
                    service="ssl",
                    attack_type="benign",
                    **shaped,
                )
            )
    return out


# ------------------------------------------------------------------ the new attack
def _dns_tunnel(
    rng: np.random.Generator, net: Network, day: int, style: int, host: str
) -> list[Batch]:
    """One day of a low-and-slow tunnel: encoded queries at random, straight out or via the DC."""
    t0 = _day_start(net, day) + rng.uniform(7.0, 10.0) * 3600.0
    length_s = rng.uniform(7.0, 11.0) * 3600.0
    gap_s = rng.uniform(40.0, 120.0)
    ts = t0 + np.cumsum(rng.exponential(gap_s, int(3 * length_s / gap_s) + 10))
    ts = ts[ts < t0 + length_s]
    n = len(ts)
    query = lognormal(rng, rng.uniform(150, 210), 0.3, n, 60, 300)
    answer = lognormal(rng, rng.uniform(220, 420), 0.35, n, 60, 1200)
    shaped = udp(rng, query, answer, lognormal(rng, 0.04, 0.6, n), 0.03)
    resolver = str(rng.choice(net.resolvers))
    first = batch(
        n,
        ts=ts,
        src_ip=host,
        src_port=ephemeral_ports(rng, n),
        dst_ip=resolver if style == 0 else SERVERS["dc"],
        dst_port=53,
        proto="udp",
        service="dns",
        attack_type="dns_tunnel",
        **shaped,
    )
    if style == 0:
        return [first]
    forwarded = udp(rng, query + 8, answer, lognormal(rng, 0.035, 0.6, n), 0.02)
    return [
        first,
        batch(
            n,
            ts=ts + 0.0005,
            src_ip=SERVERS["dc"],
            src_port=ephemeral_ports(rng, n),
            dst_ip=rng.choice(net.resolvers, n),
            dst_port=53,
            proto="udp",
            service="dns",
            attack_type="dns_tunnel",
            **forwarded,
        ),
    ]


def _new_attack(rng: np.random.Generator, net: Network, drift: DriftScenario) -> list[Batch]:
    desktops = np.flatnonzero(~net.laptop & ~net.admin)
    pool = desktops if len(desktops) >= _TUNNEL_HOSTS else np.arange(len(net.hosts))
    hosts = net.hosts[rng.choice(pool, _TUNNEL_HOSTS, replace=len(pool) < _TUNNEL_HOSTS)]
    out: list[Batch] = []
    for day in range(drift.start_day, net.days):
        for k, host in enumerate(hosts):
            out.extend(_dns_tunnel(rng, net, day, k % 2, str(host)))
    return out


# ------------------------------------------------------------------ gradual drift
def _towards(e: float, old: float, new: float) -> float:
    """A fraction ``e`` of the way from ``old`` to ``new`` on a log scale (sizes, durations)."""
    return float(old ** (1 - e) * new**e)


def _evolved_beacon(rng: np.random.Generator, net: Network, drift: DriftScenario) -> list[Batch]:
    """A daily c2_beacon campaign, a step closer to HTTPS browsing each drifted day."""
    hosts = np.flatnonzero(~net.admin)
    out: list[Batch] = []
    for day in range(drift.start_day, net.days):
        e = min(1.0, drift.gradual_rate * (day - drift.start_day + 1))
        host = str(net.hosts[rng.choice(hosts if len(hosts) else np.arange(len(net.hosts)))])
        t0 = _day_start(net, day) + rng.uniform(8, 16) * 3600.0
        t1 = min(t0 + rng.uniform(6, 16) * 3600.0, _day_start(net, net.days))
        period = rng.uniform(60, 300)
        ts = periodic(rng, t0, t1, period, rng.uniform(0.1, 0.3) + 0.6 * e)
        n = len(ts)

        ob = lognormal(rng, _towards(e, rng.uniform(250, 700), 1100), 0.06 + 0.9 * e, n, 80, 5e6)
        rb = lognormal(rng, _towards(e, rng.uniform(150, 500), 7000), 0.1 + 1.5 * e, n, 60, 5e7)
        tasking = rng.random(n) < 0.04
        rb[tasking] = lognormal(rng, 20000, 1.0, int(tasking.sum()))
        shaped = tcp(
            rng,
            ob,
            rb,
            lognormal(rng, _towards(e, 0.3, 1.2), 0.4 + 1.3 * e, n),
            {"SF": 0.95 - 0.09 * e, "RSTR": 0.03 + 0.01 * e, "RSTO": 0.04 * e, "S0": 0.02},
            0.05,
        )
        out.append(
            batch(
                n,
                ts=ts,
                src_ip=host,
                src_port=ephemeral_ports(rng, n),
                dst_ip=str(public_ips(rng, 1)[0]),
                dst_port=443,
                proto="tcp",
                service="ssl",
                attack_type="c2_beacon",
                **shaped,
            )
        )
    return out


def drift_traffic(
    seed: int, net: Network, drift: DriftScenario, attacks: tuple[str, ...]
) -> list[Batch]:
    """Every flow the scenario adds, as batches; each part has its own random stream."""
    out: list[Batch] = []
    if drift.new_services:
        out.extend(_sync_service(np.random.default_rng([seed, 300]), net, drift))
        out.extend(_backup_service(np.random.default_rng([seed, 301]), net, drift))
    if drift.new_attack is not None:
        out.extend(_new_attack(np.random.default_rng([seed, 310]), net, drift))
    if drift.gradual_rate > 0 and "c2_beacon" in attacks:
        out.extend(_evolved_beacon(np.random.default_rng([seed, 320]), net, drift))
    return out


__all__ = ["BACKUP_SERVER", "DRIFT_ATTACK_TYPES", "DriftScenario", "check_drift", "drift_traffic"]
