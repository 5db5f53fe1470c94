"""Time-window context of flows: what the same hosts did just before each flow.

Per-flow features cannot see attacks that exist only across flows: a beacon is a
stream of ordinary-looking small connections, a scan is many tiny ones. NSL-KDD ships
"traffic features" for this (``count``, ``srv_count``, ``serror_rate``); Zeek conn logs
do not, so :func:`context_features` computes comparable ones from ``ts`` and the
addresses. Every value of a flow is computed only from flows at or before it in time
(flows with the same ``ts`` are taken in input order), so the same numbers can be
computed online, and appending later flows never changes an earlier flow's values.

Features (the windows are :class:`ContextWindows`, and their lengths are in the names):

* per (src_ip, dst_ip) pair over ``pair_window_s`` (1 h): ``ctx_pair_flows_1h``, the
  number of *earlier* flows of the pair; over the pair's last ``pair_history`` (8)
  flows within the window, this one included: ``ctx_pair_gap_mean_s`` and
  ``ctx_pair_gap_cv``, mean and coefficient of variation of the gaps between them
  (a beacon is regular: low CV), and ``ctx_pair_src_bytes_mean`` and
  ``ctx_pair_src_bytes_cv`` (a beacon's check-ins have near-constant sizes);
* per src_ip over ``src_window_s`` (60 s), this flow included: ``ctx_src_flows_60s``,
  ``ctx_src_dst_ports_60s`` and ``ctx_src_dst_ips_60s`` (exact distinct counts),
  ``ctx_src_failed_share_60s`` (share of flows whose ``conn_state`` is one of
  :data:`FAILED_STATES`);
* per (dst_ip, dst_port) over ``service_window_s`` (60 s), this flow included:
  ``ctx_dst_srcs_60s``, distinct src_ip (many sources at once: a flood or a botnet).

A flow without ``ts``, ``src_ip`` or ``dst_ip`` gets NaN everywhere and is nobody's
context; a missing input column (``dst_port``, ``src_bytes``, ``conn_state``) gives NaN
for the features that need it. A missing ``dst_port`` counts as one more port value.

All of it is vectorised: sorting, ``searchsorted`` and cumulative sums, plus
``pair_history`` shifted passes; no Python loop per row. Every value depends only on
the flows inside its own window, so chunked computation that carries the last
``horizon_s`` seconds of flows over (:class:`ContextHistory`) gives the same numbers,
bit for bit, as one pass over time-ordered input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from seclearn.errors import ConfigError

#: Column name prefix reserved for context features; such input columns are never
#: plain numeric features (they are taken as precomputed context, see FlowFeaturizer).
CONTEXT_PREFIX = "ctx_"
#: Connection states counted as failed: Zeek's states where no normal established
#: exchange happened or it was torn down by a reset, and the same KDD flags.
FAILED_STATES = frozenset({"S0", "REJ", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"})
#: Input columns that context needs at the very least.
KEY_COLUMNS = ("ts", "src_ip", "dst_ip")


def _duration_label(seconds: float) -> str:
    """``3600 -> '1h'``, ``60 -> '60s'``, ``300 -> '5m'``: the unit suffix of a window name."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds > 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class ContextWindows:
    """Window lengths of the context features.

    Defaults, from first principles: one hour holds at least 6 check-ins of a beacon
    with a period up to 10 minutes, enough for ``pair_history = 8`` flows (7 gaps) to
    show regularity at periods up to about 8 minutes; 60 seconds is the horizon of
    NSL-KDD's "same host" traffic features (2 s there) stretched to cover slow scans
    and floods that pace themselves at a few flows per second or less.
    """

    pair_window_s: float = 3600.0
    src_window_s: float = 60.0
    service_window_s: float = 60.0
    pair_history: int = 8

    def check(self) -> None:
        for name in ("pair_window_s", "src_window_s", "service_window_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
                raise ConfigError(
                    f"ContextWindows.{name} must be a positive number of seconds, got {value!r}."
                )
        history = self.pair_history
        if not isinstance(history, int) or isinstance(history, bool) or not 3 <= history <= 64:
            raise ConfigError(
                f"ContextWindows.pair_history must be an int in [3, 64] (flows), got {history!r}."
            )

    @property
    def horizon_s(self) -> float:
        """How far back any feature looks: the history a chunked computation must keep."""
        return float(max(self.pair_window_s, self.src_window_s, self.service_window_s))

    def features(self) -> list[tuple[str, tuple[str, ...], str]]:
        """``(name, input columns, meaning)`` of every context feature, in output order."""
        pair, src, svc = (
            _duration_label(self.pair_window_s),
            _duration_label(self.src_window_s),
            _duration_label(self.service_window_s),
        )
        k = self.pair_history
        keys = KEY_COLUMNS
        return [
            (
                f"ctx_pair_flows_{pair}",
                keys,
                f"earlier flows from this src_ip to this dst_ip in {pair}",
            ),
            (
                "ctx_pair_gap_mean_s",
                keys,
                f"mean gap (s) between the pair's last {k} flows within {pair} (NaN if fewer than 2)",
            ),
            (
                "ctx_pair_gap_cv",
                keys,
                "coefficient of variation of those gaps, near 0 for a regular beacon (NaN if fewer than 3 flows)",
            ),
            (
                "ctx_pair_src_bytes_mean",
                (*keys, "src_bytes"),
                f"mean src_bytes of the pair's last {k} flows within {pair}, this one included",
            ),
            (
                "ctx_pair_src_bytes_cv",
                (*keys, "src_bytes"),
                "coefficient of variation of those src_bytes (NaN if fewer than 2 known)",
            ),
            (f"ctx_src_flows_{src}", keys, f"flows from this src_ip in {src}, this one included"),
            (
                f"ctx_src_dst_ports_{src}",
                (*keys, "dst_port"),
                f"distinct dst_port of this src_ip's flows in {src}",
            ),
            (f"ctx_src_dst_ips_{src}", keys, f"distinct dst_ip of this src_ip's flows in {src}"),
            (
                f"ctx_src_failed_share_{src}",
                (*keys, "conn_state"),
                f"share of this src_ip's flows in {src} with a failed conn_state (S0, REJ, RST*, SH*, OTH)",
            ),
            (
                f"ctx_dst_srcs_{svc}",
                (*keys, "dst_port"),
                f"distinct src_ip of flows to this dst_ip and dst_port in {svc}",
            ),
        ]

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.features()]


DEFAULT_WINDOWS = ContextWindows()
#: Names of the context features with the default windows.
CONTEXT_COLUMNS: tuple[str, ...] = tuple(DEFAULT_WINDOWS.names)


def has_context_inputs(frame: pd.DataFrame, *, min_share: float = 0.5) -> bool:
    """True when at least ``min_share`` of the rows have ``ts``, ``src_ip`` and ``dst_ip``.

    Datasets whose addresses or times were removed or replaced (NSL-KDD, the UNSW-NB15
    partition files, the label-encoded CIC-IDS2017 extract) answer False.
    """
    if len(frame) == 0 or not all(c in frame.columns for c in KEY_COLUMNS):
        return False
    ok = _valid_rows(frame)
    return bool(ok.mean() >= min_share)


# ------------------------------------------------------------------ internals
def _float(col: pd.Series) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(col):
        col = pd.to_numeric(col, errors="coerce")
    values = col.to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)


def _valid_rows(frame: pd.DataFrame) -> np.ndarray:
    ts = _float(frame["ts"])
    return np.isfinite(ts) & frame["src_ip"].notna().to_numpy() & frame["dst_ip"].notna().to_numpy()


def _codes(values: pd.Series | np.ndarray) -> np.ndarray:
    """Integer codes of values; a missing value is a value of its own."""
    codes, _ = pd.factorize(values, use_na_sentinel=False)
    return codes.astype(np.int64)


def _failed(states: pd.Series) -> np.ndarray:
    """True where ``conn_state`` is one of :data:`FAILED_STATES` (case-insensitive)."""
    codes, uniques = pd.factorize(states)
    failed = np.array([str(u).upper() in FAILED_STATES for u in uniques] + [False])
    return failed[codes]  # code -1 (missing) picks the trailing False


def _window_start(group: np.ndarray, rank: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """For rows sorted by (group, time): index of the first row of the same group in the window.

    ``rank`` is each row's position in time order and ``lower`` the time-order position
    of the first flow at or after the row's window start (``searchsorted`` on the exact
    float times), so that ``group * n + rank`` is an increasing integer key along the
    rows and one exact ``searchsorted`` finds every window start.
    """
    n = np.int64(len(rank))
    keys = group * n + rank
    return np.searchsorted(keys, group * n + lower, side="left")


def _window_sum(values: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Sum of integer ``values[start_i .. i]`` for every i (exact: integer cumulative sums)."""
    cumulative = np.concatenate([[0], np.cumsum(values, dtype=np.int64)])
    return cumulative[np.arange(1, len(values) + 1)] - cumulative[start]


def _window_distinct(group: np.ndarray, value: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Distinct ``value`` among rows ``start_i .. i`` (rows sorted by group then time).

    Row j is the first of its value inside the window of row i when ``start_i <= j <= i``
    and its previous same-value row p_j is before ``start_i``. ``start`` never decreases,
    so the rows i that count j form one interval, ``[max(j, l_j), r_j]`` with ``l_j`` the
    first i with ``start_i > p_j`` and ``r_j`` the last with ``start_i <= j``; summing
    the intervals with a difference array gives exact counts in O(n log n).
    """
    n = len(group)
    key = group * (int(value.max(initial=0)) + 1) + value
    order = np.argsort(key, kind="stable")  # same (group, value) together, in time order
    previous = np.full(n, -1, dtype=np.int64)
    same = key[order[1:]] == key[order[:-1]]
    previous[order[1:][same]] = order[:-1][same]
    rows = np.arange(n)
    first = np.maximum(rows, np.searchsorted(start, previous, side="right"))
    last = np.searchsorted(start, rows, side="right") - 1
    ok = first <= last
    delta = np.bincount(first[ok], minlength=n + 1) - np.bincount(last[ok] + 1, minlength=n + 1)
    return np.cumsum(delta[:n])


def _recent_stats(
    values: np.ndarray, first: np.ndarray, min_count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and coefficient of variation of finite ``values[first_i .. i]`` (a few rows each).

    Two passes over shifted copies (the span is at most ``pair_history`` rows), so each
    result depends on the values in its span only. CV is NaN below ``min_count`` values
    or when the mean is not positive.
    """
    n = len(values)
    rows = np.arange(n)
    span = int((rows - first).max(initial=0)) + 1
    total, count = np.zeros(n), np.zeros(n)
    for d in range(span):
        j = rows - d
        use = j >= first
        v = np.where(use, values[np.maximum(j, 0)], np.nan)
        known = np.isfinite(v)
        total += np.where(known, v, 0.0)
        count += known
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
        squares = np.zeros(n)
        for d in range(span):
            j = rows - d
            v = np.where(j >= first, values[np.maximum(j, 0)], np.nan)
            squares += np.where(np.isfinite(v), (v - mean) ** 2, 0.0)
        cv = np.where((count >= min_count) & (mean > 0), np.sqrt(squares / count) / mean, np.nan)
    return mean, cv


def _by_group(group: np.ndarray) -> np.ndarray:
    """Permutation that sorts time-ordered rows by group, keeping time order inside groups."""
    return np.argsort(group, kind="stable")


# ------------------------------------------------------------------- public
def context_features(
    frame: pd.DataFrame, windows: ContextWindows = DEFAULT_WINDOWS
) -> pd.DataFrame:
    """The context features of every flow of ``frame``, index-aligned with it (float64).

    ``frame`` need not be sorted by ``ts`` and is not modified. See the module docstring
    for what each column means.
    """
    windows.check()
    names = windows.names
    n = len(frame)
    out = {name: np.full(n, np.nan) for name in names}
    if n == 0 or not all(c in frame.columns for c in KEY_COLUMNS):
        return pd.DataFrame(out, index=frame.index)
    valid = np.flatnonzero(_valid_rows(frame))
    ts_all = _float(frame["ts"])
    order = valid[np.argsort(ts_all[valid], kind="stable")]  # time order; ties: input order
    m = len(order)
    if m == 0:
        return pd.DataFrame(out, index=frame.index)
    t = ts_all[order]
    src = _codes(frame["src_ip"])[order]
    dst = _codes(frame["dst_ip"])[order]
    has = {c: c in frame.columns for c in ("dst_port", "src_bytes", "conn_state")}
    port = _codes(_float(frame["dst_port"]))[order] if has["dst_port"] else np.zeros(m, np.int64)
    (
        pair_flows,
        gap_mean,
        gap_cv,
        bytes_mean,
        bytes_cv,
        src_flows,
        src_ports,
        src_ips,
        src_failed,
        dst_srcs,
    ) = names
    results: dict[str, np.ndarray] = {}

    def lower(window_s: float) -> np.ndarray:
        """Time-order position of the first flow at or after ``ts - window_s``, per flow."""
        return np.searchsorted(t, t - window_s, side="left")

    # per (src_ip, dst_ip) pair
    pair = src * (int(dst.max()) + 1) + dst
    perm = _by_group(pair)
    group, tg = pair[perm], t[perm]
    start = _window_start(group, perm, lower(windows.pair_window_s)[perm])
    rows = np.arange(m)
    first = np.maximum(start, rows - windows.pair_history + 1)  # the last k flows in the window
    gaps = np.full(m, np.nan)
    same = group[1:] == group[:-1]
    gaps[1:][same] = np.diff(tg)[same]
    # the gaps between rows first..i are gaps[first+1 .. i]
    g_mean, g_cv = _recent_stats(gaps, np.minimum(first + 1, rows), 2)
    g_mean[first == rows] = np.nan
    g_cv[first == rows] = np.nan
    by_pair = {pair_flows: (rows - start).astype(np.float64), gap_mean: g_mean, gap_cv: g_cv}
    if has["src_bytes"]:
        b_mean, b_cv = _recent_stats(_float(frame["src_bytes"])[order][perm], first, 2)
        by_pair[bytes_mean], by_pair[bytes_cv] = b_mean, b_cv
    for name, values in by_pair.items():
        results[name] = np.empty(m)
        results[name][perm] = values

    # per src_ip
    perm = _by_group(src)
    group = src[perm]
    start = _window_start(group, perm, lower(windows.src_window_s)[perm])
    size = (rows - start + 1).astype(np.float64)
    by_src = {
        src_flows: size,
        src_ips: _window_distinct(group, dst[perm], start).astype(np.float64),
    }
    if has["dst_port"]:
        by_src[src_ports] = _window_distinct(group, port[perm], start).astype(np.float64)
    if has["conn_state"]:
        failed = _failed(frame["conn_state"])[order][perm]
        by_src[src_failed] = _window_sum(failed.astype(np.int64), start) / size
    for name, values in by_src.items():
        results[name] = np.empty(m)
        results[name][perm] = values

    # per (dst_ip, dst_port)
    if has["dst_port"]:
        service = dst * (int(port.max()) + 1) + port
        perm = _by_group(service)
        group = service[perm]
        start = _window_start(group, perm, lower(windows.service_window_s)[perm])
        results[dst_srcs] = np.empty(m)
        results[dst_srcs][perm] = _window_distinct(group, src[perm], start)

    for name, values in results.items():
        out[name][order] = values
    return pd.DataFrame(out, index=frame.index)


class ContextHistory:
    """Context features over a sequence of chunks, as if the chunks were one frame.

    Keeps the flows of the last ``windows.horizon_s`` seconds (before the newest ``ts``
    seen) and computes each new chunk's features with them as history, so memory is
    bounded by the window, not by the input. Exact for input in time order (and for any
    disorder inside a chunk); a flow arriving more than the horizon after newer flows
    sees only the history still kept.

    >>> import pandas as pd
    >>> flows = pd.DataFrame({"ts": [0.0, 10.0, 20.0], "src_ip": "a", "dst_ip": "b"})
    >>> history = ContextHistory()
    >>> parts = [history.add(flows.iloc[:2]), history.add(flows.iloc[2:])]
    >>> pd.concat(parts)["ctx_pair_flows_1h"].tolist()
    [0.0, 1.0, 2.0]
    """

    #: Input columns kept in the history (what the features read).
    COLUMNS = ("ts", "src_ip", "dst_ip", "dst_port", "src_bytes", "conn_state")

    def __init__(self, windows: ContextWindows = DEFAULT_WINDOWS) -> None:
        windows.check()
        self.windows = windows
        self._tail: pd.DataFrame | None = None
        self._newest_ts = -np.inf

    @property
    def kept_rows(self) -> int:
        """Rows held as history now."""
        return 0 if self._tail is None else len(self._tail)

    def add(self, chunk: pd.DataFrame) -> pd.DataFrame:
        """Context features of ``chunk``'s rows (index-aligned), with the kept history before them."""
        if not all(c in chunk.columns for c in KEY_COLUMNS):
            return context_features(chunk, self.windows)
        keep = [c for c in self.COLUMNS if c in chunk.columns]
        current = chunk[keep].reset_index(drop=True)
        if self._tail is not None and len(self._tail):
            both = pd.concat([self._tail, current], ignore_index=True)
        else:
            both = current
        features = context_features(both, self.windows).iloc[len(both) - len(current) :]
        ts = _float(both["ts"])
        if np.isfinite(ts).any():
            self._newest_ts = max(self._newest_ts, float(np.nanmax(ts)))
        recent = np.isfinite(ts) & (ts >= self._newest_ts - self.windows.horizon_s)
        self._tail = both.loc[recent].reset_index(drop=True)
        return features.set_axis(chunk.index)


__all__ = [
    "CONTEXT_COLUMNS",
    "CONTEXT_PREFIX",
    "DEFAULT_WINDOWS",
    "FAILED_STATES",
    "ContextHistory",
    "ContextWindows",
    "context_features",
    "has_context_inputs",
]
