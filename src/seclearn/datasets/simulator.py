"""The built-in enterprise-network simulator: labelled Zeek-like flows for demos and tests.

:func:`simulate_enterprise` draws a few days of traffic of a small company (see
:mod:`seclearn.datasets._sim_network` for the network, ``_sim_benign`` for its benign traffic and
:mod:`seclearn.datasets._sim_attacks` for the attack campaigns) and returns it as a
flow-schema frame; :func:`seclearn.datasets.write_zeek_conn` writes it as a genuine
Zeek ``conn.log``. Everything is vectorised with numpy: about a hundred thousand
flows take a second or two. Each part (network, workstations, servers, periodic
traffic, each attack type) draws from its own seeded stream, so the same seed gives
the same frame, and leaving one attack type out does not change the benign traffic.
A :class:`DriftScenario` (see :mod:`seclearn.datasets._sim_drift`) makes the network
drift from a given day on: new benign services, a new attack family and a c2 family
that evolves; the days before it are unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from seclearn.datasets._sim_attacks import ATTACK_TYPES, attack_traffic
from seclearn.datasets._sim_benign import periodic_traffic, server_traffic, workstation_traffic
from seclearn.datasets._sim_drift import (
    DRIFT_ATTACK_TYPES,
    DriftScenario,
    check_drift,
    drift_traffic,
)
from seclearn.datasets._sim_flows import concat
from seclearn.datasets._sim_network import build_network
from seclearn.errors import ConfigError
from seclearn.schema import FLOW_SCHEMA, validate_frame

#: Where a simulation starts unless told otherwise: a Thursday, so that three days
#: cover two working days and a Saturday.
DEFAULT_START = datetime(2024, 3, 7, tzinfo=UTC)
_UID_ALPHABET = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
_HEADER_BYTES = {"tcp": 52, "udp": 28, "icmp": 28}
_MAX_DAYS = 366
_MAX_HOSTS = 5000


def _check(days: int, hosts: int, seed: int, attacks: Sequence[str]) -> tuple[str, ...]:
    if (
        isinstance(days, bool)
        or not isinstance(days, int | np.integer)
        or not 1 <= days <= _MAX_DAYS
    ):
        raise ConfigError(
            f"simulate_enterprise: 'days' must be an integer in [1, {_MAX_DAYS}], got {days!r}."
        )
    if (
        isinstance(hosts, bool)
        or not isinstance(hosts, int | np.integer)
        or not 2 <= hosts <= _MAX_HOSTS
    ):
        raise ConfigError(
            f"simulate_enterprise: 'hosts' must be an integer in [2, {_MAX_HOSTS}], got {hosts!r}."
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(
            f"simulate_enterprise: 'seed' must be a non-negative integer, got {seed!r}."
        )
    if isinstance(attacks, str):
        attacks = (attacks,)
    unknown = sorted(set(attacks) - set(ATTACK_TYPES))
    if unknown:
        raise ConfigError(
            f"simulate_enterprise: unknown attack types {unknown}; allowed are {list(ATTACK_TYPES)}."
        )
    return tuple(attacks)


def _uids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Zeek-style connection ids: 'C' and 17 base-62 characters."""
    chars = np.ascontiguousarray(_UID_ALPHABET[rng.integers(0, len(_UID_ALPHABET), (n, 17))])
    return np.char.add("C", chars.view("<U17").ravel()).astype(object)


def simulate_enterprise(
    *,
    days: int = 3,
    hosts: int = 60,
    seed: int = 0,
    start: datetime | None = None,
    attacks: Sequence[str] = ATTACK_TYPES,
    drift: DriftScenario | None = None,
) -> pd.DataFrame:
    """Simulate ``days`` days of flows of an enterprise with ``hosts`` workstations.

    Returns a :data:`~seclearn.schema.FLOW_SCHEMA` frame sorted by ``ts`` with
    ``label`` 1 on attack flows and 0 on benign ones, ``attack_type`` the attack name
    (one of ``attacks``) or ``'benign'``, and the Zeek extras ``uid``, ``history``,
    ``missed_bytes``, ``orig_ip_bytes``, ``resp_ip_bytes``, ``local_orig`` and
    ``local_resp``. ``start`` (UTC if naive) is the first midnight; by default a
    fixed Thursday, so that the output depends on ``seed`` alone. With the defaults
    the frame holds about 150,000 flows, about 4 % of them attacks. ``drift`` (a
    :class:`DriftScenario`, or None for a stationary network) adds drifted traffic
    from its ``start_day`` on, with attack types from :data:`DRIFT_ATTACK_TYPES`;
    without it the output is what it always was.

    >>> frame = simulate_enterprise(days=1, hosts=10, seed=1)
    >>> bool(frame["ts"].is_monotonic_increasing), sorted(frame.loc[frame.label == 1, "attack_type"].unique())[:2]
    (True, ['c2_beacon', 'dos'])
    """
    attacks = _check(days, hosts, seed, attacks)
    drift = check_drift(drift, int(days))
    begin = DEFAULT_START if start is None else start
    if begin.tzinfo is None:
        begin = begin.replace(tzinfo=UTC)
    t0 = begin.timestamp()
    t1 = t0 + days * 86400.0
    net = build_network(
        np.random.default_rng([seed, 0]), start=t0, days=int(days), hosts=int(hosts)
    )
    parts = [
        workstation_traffic(np.random.default_rng([seed, 1]), net),
        server_traffic(np.random.default_rng([seed, 2]), net),
        periodic_traffic(np.random.default_rng([seed, 3]), net),
        attack_traffic(seed, net, attacks),
    ]
    if drift is not None:
        parts.extend(drift_traffic(int(seed), net, drift, attacks))
    flows = concat(parts)
    ts = np.round(flows["ts"].astype(float), 6)
    inside = (ts >= t0) & (ts < t1)
    order = np.flatnonzero(inside)[np.argsort(ts[inside], kind="stable")]
    cols = {name: values[order] for name, values in flows.items()}
    cols["ts"] = ts[order]
    n = len(order)
    proto = cols["proto"].astype(str)
    header = np.select([proto == p for p in _HEADER_BYTES], list(_HEADER_BYTES.values()), 40)
    frame = pd.DataFrame(
        {
            "ts": cols["ts"],
            "src_ip": cols["src_ip"],
            "src_port": cols["src_port"].astype(np.int64),
            "dst_ip": cols["dst_ip"],
            "dst_port": cols["dst_port"].astype(np.int64),
            "proto": cols["proto"],
            "service": cols["service"],
            "duration_s": np.round(cols["duration_s"].astype(float), 6),
            "src_bytes": cols["src_bytes"].astype(float),
            "dst_bytes": cols["dst_bytes"].astype(float),
            "src_pkts": cols["src_pkts"].astype(float),
            "dst_pkts": cols["dst_pkts"].astype(float),
            "conn_state": cols["conn_state"],
            "label": (cols["attack_type"] != "benign").astype(np.int8),
            "attack_type": cols["attack_type"],
            "uid": _uids(np.random.default_rng([seed, 4]), n),
            "history": cols["history"],
            "missed_bytes": np.zeros(n, dtype=np.int64),
            "orig_ip_bytes": np.nan_to_num(cols["src_bytes"].astype(float))
            + header * cols["src_pkts"].astype(float),
            "resp_ip_bytes": np.nan_to_num(cols["dst_bytes"].astype(float))
            + header * cols["dst_pkts"].astype(float),
            "local_orig": pd.Series(cols["src_ip"].astype(str)).str.startswith("10.").to_numpy(),
            "local_resp": pd.Series(cols["dst_ip"].astype(str)).str.startswith("10.").to_numpy(),
        }
    )
    return validate_frame(frame, FLOW_SCHEMA)


__all__ = [
    "ATTACK_TYPES",
    "DEFAULT_START",
    "DRIFT_ATTACK_TYPES",
    "DriftScenario",
    "simulate_enterprise",
]
