"""Building blocks of the simulator: flows as column arrays, shaped like Zeek records them.

A *batch* is a dict of equal-length numpy arrays with the columns of :data:`COLUMNS`.
The shaping functions turn "a TCP connection with these payload sizes and this
duration, ending in this state" into what Zeek's conn.log would show: packet counts,
``conn_state``, ``history``, and unset duration/bytes for single-packet connections
(Zeek leaves them unset when the duration is zero).
"""

from __future__ import annotations

from typing import Any

import numpy as np

Batch = dict[str, np.ndarray]

COLUMNS = (
    "ts",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "proto",
    "service",
    "duration_s",
    "src_bytes",
    "dst_bytes",
    "src_pkts",
    "dst_pkts",
    "conn_state",
    "history",
    "attack_type",
)
_MSS_BYTES = 1448
_UDP_DATAGRAM_BYTES = 1400
#: First octets of the public addresses the simulator draws from (no private ranges).
# fmt: off
_PUBLIC_FIRST_OCTETS = np.array([
    13, 20, 23, 31, 34, 35, 40, 45, 52, 54, 62, 66, 69, 77, 81, 88, 91, 93, 104, 107,
    128, 142, 146, 151, 157, 162, 176, 185, 193, 198, 203, 209, 212, 217,
])
# fmt: on


def lognormal(
    rng: np.random.Generator,
    median: float,
    sigma: float,
    n: int,
    lo: float = 0.0,
    hi: float = np.inf,
) -> np.ndarray:
    """``n`` draws of a lognormal with the given median and log-scale sigma, clipped to [lo, hi]."""
    return np.clip(median * np.exp(sigma * rng.standard_normal(n)), lo, hi)


def public_ips(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct-looking public IPv4 addresses (object array of str)."""
    first = rng.choice(_PUBLIC_FIRST_OCTETS, n)
    rest = rng.integers(0, 256, (n, 2))
    last = rng.integers(1, 255, n)
    return np.array(
        [f"{a}.{b}.{c}.{d}" for a, (b, c), d in zip(first, rest, last, strict=True)], dtype=object
    )


def ephemeral_ports(rng: np.random.Generator, n: int) -> np.ndarray:
    """Client source ports from the IANA ephemeral range."""
    return rng.integers(49152, 65536, n)


def batch(n: int, **cols: object) -> Batch:
    """A batch of ``n`` flows; scalar values are repeated, arrays must have length ``n``."""
    out: Batch = {}
    for name in COLUMNS:
        value = cols.get(name)
        if isinstance(value, np.ndarray):
            if len(value) != n:
                raise ValueError(f"column {name} has {len(value)} values, expected {n}")
            out[name] = value
        else:
            out[name] = np.full(
                n, value, dtype=object if value is None or isinstance(value, str) else None
            )
    return out


def concat(batches: list[Batch]) -> Batch:
    """Concatenate batches column by column."""
    batches = [b for b in batches if len(b["ts"])]
    return {c: np.concatenate([b[c] for b in batches]) for c in COLUMNS}


def _segments(size: np.ndarray, per: int) -> np.ndarray:
    return np.ceil(np.nan_to_num(size) / per).astype(np.int64)


def tcp(
    rng: np.random.Generator,
    orig_bytes: np.ndarray,
    resp_bytes: np.ndarray,
    duration_s: np.ndarray,
    states: dict[str, float],
    rtt_s: float = 0.02,
) -> dict[str, np.ndarray]:
    """Shape TCP connections ending in ``states`` (name -> probability).

    States: ``SF`` (normal close), ``S1`` (still open), ``RSTO``/``RSTR`` (reset by
    originator/responder after data), ``S0`` (SYN unanswered, retransmitted 0-2 times),
    ``REJ`` (SYN answered by RST), ``OTH`` (midstream), ``SCAN_OPEN`` (SYN, SYN-ACK, RST:
    a half-open scan of an open port, logged as ``RSTO`` with history ``ShR``).
    """
    n = len(orig_bytes)
    names = np.array(list(states))
    probs = np.array(list(states.values()), dtype=float)
    state = names[rng.choice(len(names), n, p=probs / probs.sum())]
    ob = np.asarray(orig_bytes, dtype=float).round()
    rb = np.asarray(resp_bytes, dtype=float).round()
    rtt = lognormal(rng, rtt_s, 0.6, n, 1e-4, 2.0)
    dur = np.maximum(np.asarray(duration_s, dtype=float), 3 * rtt)
    o_seg, r_seg = _segments(ob, _MSS_BYTES), _segments(rb, _MSS_BYTES)
    opk = 3 + o_seg + r_seg // 2
    rpk = 2 + r_seg + o_seg // 2
    data_hist = np.where(ob > 0, "D", "") + np.where(rb > 0, "ad", "a")
    close = np.where(rng.random(n) < 0.8, "Ff", "fF")
    hist = np.char.add(np.char.add("ShA", data_hist), close).astype(object)
    conn = state.astype(object)

    def _set(mask: np.ndarray, **values: Any) -> None:
        for arr, key in (
            (ob, "ob"),
            (rb, "rb"),
            (dur, "dur"),
            (opk, "opk"),
            (rpk, "rpk"),
            (hist, "hist"),
            (conn, "conn"),
        ):
            if key in values:
                arr[mask] = (
                    values[key]
                    if np.isscalar(values[key]) or values[key] is None
                    else values[key][mask]
                )

    ends = {"S1": "", "RSTO": "R", "RSTR": "r"}
    for name, end in ends.items():
        m = state == name
        if m.any():
            _set(
                m, hist=np.char.add(np.char.add("ShA", data_hist), end).astype(object), rpk=rpk - 1
            )
    m = state == "S0"
    if m.any():
        tries = rng.choice([1, 2, 3], n, p=[0.7, 0.2, 0.1])
        _set(
            m,
            ob=0.0,
            rb=0.0,
            opk=tries,
            rpk=0,
            hist="S",
            dur=np.where(tries == 1, 0.0, 3.0 * (2.0 ** (tries - 1) - 1)) + 0.01 * rng.random(n),
        )
    m = state == "REJ"
    if m.any():
        _set(m, ob=0.0, rb=0.0, opk=1, rpk=1, hist="Sr", dur=rtt)
    m = state == "SCAN_OPEN"
    if m.any():
        _set(m, ob=0.0, rb=0.0, opk=2, rpk=1, hist="ShR", dur=rtt, conn="RSTO")
    m = state == "OTH"
    if m.any():
        _set(m, hist="DdA", opk=np.maximum(opk - 3, 1), rpk=np.maximum(rpk - 2, 1))
    return _unset_single_packet(ob, rb, dur, opk, rpk, conn, hist)


def udp(
    rng: np.random.Generator,
    orig_bytes: np.ndarray,
    resp_bytes: np.ndarray,
    duration_s: np.ndarray,
    p_no_reply: float,
) -> dict[str, np.ndarray]:
    """Shape UDP exchanges: ``SF``/``Dd`` with a reply, ``S0``/``D`` without."""
    n = len(orig_bytes)
    ob = np.maximum(np.asarray(orig_bytes, dtype=float).round(), 1)
    rb = np.asarray(resp_bytes, dtype=float).round()
    dur = np.asarray(duration_s, dtype=float).copy()
    opk = np.maximum(_segments(ob, _UDP_DATAGRAM_BYTES), 1)
    rpk = np.maximum(_segments(rb, _UDP_DATAGRAM_BYTES), 1)
    no_reply = rng.random(n) < p_no_reply
    rb[no_reply], rpk[no_reply] = 0.0, 0
    conn = np.where(no_reply, "S0", "SF").astype(object)
    hist = np.where(no_reply, "D", "Dd").astype(object)
    dur[no_reply & (opk == 1)] = 0.0
    return _unset_single_packet(ob, rb, dur, opk, rpk, conn, hist)


def icmp_echo(rng: np.random.Generator, n: int, payload_bytes: int) -> dict[str, np.ndarray]:
    """ICMP echo request/reply exchanges (Zeek: ``OTH``, no history)."""
    pkts = rng.choice([1, 4], n, p=[0.6, 0.4])
    replied = rng.random(n) < 0.97
    dur = np.where(pkts > 1, pkts - 1 + 0.002 * rng.random(n), 0.001 * rng.random(n) + 1e-4)
    ob = (pkts * payload_bytes).astype(float)
    rb = np.where(replied, ob, 0.0)
    rpk = np.where(replied, pkts, 0)
    conn = np.full(n, "OTH", dtype=object)
    hist = np.full(n, None, dtype=object)
    return _unset_single_packet(ob, rb, dur, pkts, rpk, conn, hist)


def _unset_single_packet(ob, rb, dur, opk, rpk, conn, hist) -> dict[str, np.ndarray]:
    single = (opk + rpk) <= 1
    dur = np.where(single, np.nan, dur)
    ob = np.where(single, np.nan, ob)
    rb = np.where(single, np.nan, rb)
    return {
        "duration_s": dur,
        "src_bytes": ob,
        "dst_bytes": rb,
        "src_pkts": np.asarray(opk, dtype=float),
        "dst_pkts": np.asarray(rpk, dtype=float),
        "conn_state": conn,
        "history": hist,
    }


def periodic(
    rng: np.random.Generator, t0: float, t1: float, period_s: float, jitter: float
) -> np.ndarray:
    """Times from ``t0`` to ``t1`` every ``period_s`` seconds, each gap off by up to ``jitter`` (a fraction)."""
    n = int((t1 - t0) / period_s * (1 + jitter)) + 2
    gaps = period_s * (1 + jitter * rng.uniform(-1, 1, n))
    times = t0 + rng.uniform(0, period_s) + np.concatenate([[0.0], np.cumsum(gaps[:-1])])
    return times[times < t1]


def hourly_poisson(
    rng: np.random.Generator, start: float, rate_per_hour: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Event times from a Poisson process with a rate per hour (any leading shape).

    Returns ``(times, index)``: ``index`` is the flat index of ``rate_per_hour``'s
    leading dimensions (all but the last, which is the hour) each event belongs to.
    """
    rates = np.atleast_2d(rate_per_hour)
    counts = rng.poisson(rates)
    hours = rates.shape[-1]
    flat = np.repeat(np.arange(counts.size), counts.ravel())
    index, hour = np.divmod(flat, hours)
    times = start + hour * 3600.0 + rng.uniform(0, 3600.0, len(flat))
    return times, index
