"""Writing flows as a Zeek ``conn.log`` (TSV with Zeek's own header lines).

The file has the header Zeek writes (``#separator``, ``#set_separator``,
``#empty_field``, ``#unset_field``, ``#path``, ``#open``, ``#fields``, ``#types``) and a
closing ``#close`` line, with the two columns of labelled captures such as IoT-23
appended: ``label`` (``Benign``/``Malicious``, ``-`` when unlabeled) and
``detailed-label`` (the attack type, ``-`` for benign rows). Missing values are
written as ``-``, as Zeek does.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from seclearn.errors import SchemaError

ZEEK_FIELDS = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "local_orig",
    "local_resp",
    "missed_bytes",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
    "tunnel_parents",
    "label",
    "detailed-label",
]
ZEEK_TYPES = [
    "time",
    "string",
    "addr",
    "port",
    "addr",
    "port",
    "enum",
    "string",
    "interval",
    "count",
    "count",
    "string",
    "bool",
    "bool",
    "count",
    "string",
    "count",
    "count",
    "count",
    "count",
    "set[string]",
    "string",
    "string",
]
#: Flow-schema column (or Zeek extra) written in each Zeek field.
_SOURCE = {
    "id.orig_h": "src_ip",
    "id.orig_p": "src_port",
    "id.resp_h": "dst_ip",
    "id.resp_p": "dst_port",
    "duration": "duration_s",
    "orig_bytes": "src_bytes",
    "resp_bytes": "dst_bytes",
    "orig_pkts": "src_pkts",
    "resp_pkts": "dst_pkts",
}
_REQUIRED = ("ts", "src_ip", "src_port", "dst_ip", "dst_port", "proto")
_HEADER_BYTES = {"tcp": 52, "udp": 28, "icmp": 28}


def _zeek_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d-%H-%M-%S")


def _text(values: pd.Series) -> pd.Series:
    """Strings with tabs and newlines escaped the way Zeek escapes them; missing stays missing."""
    out = values.astype("str")
    out = out.str.replace("\\", "\\x5c", regex=False).str.replace("\t", "\\x09", regex=False)
    out = out.str.replace("\n", "\\x0a", regex=False).str.replace("\r", "\\x0d", regex=False)
    return out.where(values.notna() & (out != ""), None)


def _count(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").round().astype("Int64")


def _bool(values: pd.Series) -> pd.Series:
    flags = values.astype("boolean")
    return flags.map({True: "T", False: "F"}, na_action="ignore").astype("str")


def zeek_conn_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The Zeek conn.log columns of ``frame``, ready to be written (missing values as NA)."""
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"write_zeek_conn needs flow columns {list(_REQUIRED)}; {missing} are absent. "
            "Pass a flow-schema frame (for example from simulate_enterprise or read_flows)."
        )
    n = len(frame)
    get = frame.get
    proto = frame["proto"].astype("str").str.lower()
    out: dict[str, pd.Series] = {}
    out["ts"] = pd.to_numeric(frame["ts"], errors="coerce").astype("float64")
    uid = get("uid")
    if uid is None:
        digits = pd.Series(np.arange(n), index=frame.index).astype("str").str.zfill(17)
        uid = "C" + digits
    out["uid"] = _text(uid)
    for field in ("id.orig_h", "id.resp_h"):
        out[field] = _text(frame[_SOURCE[field]])
    for field in ("id.orig_p", "id.resp_p"):
        out[field] = _count(frame[_SOURCE[field]])
    out["proto"] = _text(proto)
    empty = pd.Series(None, index=frame.index, dtype="str")
    out["service"] = _text(get("service", empty))
    out["duration"] = pd.to_numeric(get("duration_s", empty), errors="coerce").astype("float64")
    for field in ("orig_bytes", "resp_bytes"):
        out[field] = _count(get(_SOURCE[field], empty))
    out["conn_state"] = _text(get("conn_state", empty))
    for field in ("local_orig", "local_resp"):
        out[field] = _bool(get(field)) if field in frame.columns else empty
    out["missed_bytes"] = _count(get("missed_bytes", pd.Series(0, index=frame.index)))
    out["history"] = _text(get("history", empty))
    header = proto.map(_HEADER_BYTES).fillna(40).astype("float64")
    for side, bytes_col, pkts_col in (
        ("orig", "src_bytes", "src_pkts"),
        ("resp", "dst_bytes", "dst_pkts"),
    ):
        pkts = pd.to_numeric(get(pkts_col, empty), errors="coerce")
        out[f"{side}_pkts"] = _count(pkts)
        ip_bytes = get(f"{side}_ip_bytes")
        if ip_bytes is None:  # payload plus one IP and transport header per packet
            ip_bytes = (
                pd.to_numeric(get(bytes_col, empty), errors="coerce").fillna(0) + header * pkts
            )
        out[f"{side}_ip_bytes"] = _count(ip_bytes)
    out["tunnel_parents"] = empty
    label = pd.to_numeric(get("label", empty), errors="coerce")
    out["label"] = label.map({1: "Malicious", 0: "Benign"}, na_action="ignore").astype("str")
    attack = _text(get("attack_type", empty))
    out["detailed-label"] = attack.where(label.eq(1).fillna(False), None)
    rows = pd.DataFrame(out, index=frame.index)
    return rows[ZEEK_FIELDS]


def _as_lines(rows: pd.DataFrame) -> str:
    """Tab-separated lines, floats with 6 decimals, ``-`` for missing values."""
    cells = []
    for name in rows.columns:
        col = rows[name]
        if col.dtype == "float64":
            text = col.map("{:.6f}".format, na_action="ignore").astype("str")
        else:
            text = col.astype("str")
        cells.append(pa.array(text.fillna("-"), type=pa.large_string()))
    lines = pc.binary_join_element_wise(*cells, pa.scalar("\t", pa.large_string()))
    return "\n".join(lines.to_pylist()) + "\n"


def write_zeek_conn(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write ``frame`` (flow schema; Zeek extras used when present) as a Zeek conn.log.

    A path ending in ``.gz`` is gzip-compressed. Returns the path written.
    ``#open`` and ``#close`` carry the first and last flow times, so the same frame
    always gives the same bytes.
    """
    path = Path(path)
    rows = zeek_conn_rows(frame)
    ts = rows["ts"].dropna()
    first = float(ts.min()) if len(ts) else 0.0
    last = float(ts.max()) if len(ts) else 0.0
    header = "\n".join(
        [
            "#separator \\x09",
            "#set_separator\t,",
            "#empty_field\t(empty)",
            "#unset_field\t-",
            "#path\tconn",
            f"#open\t{_zeek_time(first)}",
            "#fields\t" + "\t".join(ZEEK_FIELDS),
            "#types\t" + "\t".join(ZEEK_TYPES),
        ]
    )
    opener: Callable[..., IO[str]] = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8", newline="\n") as fh:
        fh.write(header + "\n")
        if len(rows):
            fh.write(_as_lines(rows))
        fh.write(f"#close\t{_zeek_time(last)}\n")
    return path


__all__ = ["ZEEK_FIELDS", "ZEEK_TYPES", "write_zeek_conn"]
