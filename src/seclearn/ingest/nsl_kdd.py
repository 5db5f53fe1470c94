"""NSL-KDD and KDD Cup 99: headerless CSV, 41 features, a label, optionally a difficulty.

``duration`` becomes ``duration_s``, ``protocol_type`` ``proto`` and ``flag``
``conn_state``; the label ``normal`` (``normal.`` in KDD'99) becomes label 0 with
attack_type ``'benign'``, any other name label 1 with that name (trailing dot removed) as
attack_type. ``meta_attack_category`` holds DoS / Probe / R2L / U2R (``'unknown'`` for
names outside the standard mapping, ``'benign'`` for normal traffic) and
``meta_difficulty`` the NSL-KDD difficulty level; neither is ever a feature.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from seclearn.config import Limits
from seclearn.errors import IngestError
from seclearn.ingest._chunks import ChunkAssembler
from seclearn.ingest._csv import CsvLayout, stream_csv
from seclearn.ingest._lines import LineBlocks
from seclearn.ingest._records import IngestChunk, IngestStats
from seclearn.ingest._source import open_source
from seclearn.schema import META_PREFIX

READER = ("seclearn.ingest.nsl_kdd", "1")

FEATURES = (
    "duration", "protocol_type", "service", "flag", "src_bytes", "dst_bytes", "land",
    "wrong_fragment", "urgent", "hot", "num_failed_logins", "logged_in", "num_compromised",
    "root_shell", "su_attempted", "num_root", "num_file_creations", "num_shells",
    "num_access_files", "num_outbound_cmds", "is_host_login", "is_guest_login", "count",
    "srv_count", "serror_rate", "srv_serror_rate", "rerror_rate", "srv_rerror_rate",
    "same_srv_rate", "diff_srv_rate", "srv_diff_host_rate", "dst_host_count",
    "dst_host_srv_count", "dst_host_same_srv_rate", "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate", "dst_host_srv_diff_host_rate", "dst_host_serror_rate",
    "dst_host_srv_serror_rate", "dst_host_rerror_rate", "dst_host_srv_rerror_rate",
)  # fmt: skip
TEXT_COLUMNS = frozenset({"protocol_type", "service", "flag", "label"})
PROTOCOLS = frozenset({b"tcp", b"udp", b"icmp"})

_CATEGORIES = {
    "DoS": "back land neptune pod smurf teardrop apache2 udpstorm processtable mailbomb",
    "Probe": "satan ipsweep nmap portsweep mscan saint",
    "R2L": "guess_passwd ftp_write imap phf multihop warezmaster warezclient spy xlock xsnoop "
    "snmpguess snmpgetattack httptunnel sendmail named",
    "U2R": "buffer_overflow loadmodule rootkit perl sqlattack xterm ps",
}
#: Attack name -> category, as in the NSL-KDD literature (Tavallaee et al. 2009).
ATTACK_CATEGORY = {name: cat for cat, names in _CATEGORIES.items() for name in names.split()}
_RENAME = {
    "duration": "duration_s",
    "protocol_type": "proto",
    "flag": "conn_state",
    "difficulty": f"{META_PREFIX}difficulty",
}


def looks_like_nsl_kdd(fields: list[bytes]) -> bool:
    """True if one split line has the NSL-KDD shape (42/43 fields, tcp/udp/icmp second)."""
    return (
        len(fields) in (42, 43)
        and fields[1].strip().lower() in PROTOCOLS
        and fields[0].strip().replace(b".", b"", 1).isdigit()
    )


def _field_count(lines: list[bytes], source: str) -> int:
    counts = Counter(len(line.split(b",")) for line in lines)
    if not lines:
        return 43
    if counts[43] or counts[42]:
        return 43 if counts[43] >= counts[42] else 42
    raise IngestError(
        f"{source} is not NSL-KDD / KDD'99 data: expected 42 or 43 comma-separated fields per "
        f"line, found {counts.most_common(1)[0][0]}. Check the file or name its format."
    )


def to_flows(frame: pd.DataFrame) -> pd.DataFrame:
    """Source columns (as parsed) to flow columns."""
    out = frame.rename(columns=_RENAME)
    for name in ("proto", "service", "conn_state"):
        out[name] = (
            out[name].str.strip().str.lower() if name != "conn_state" else out[name].str.strip()
        )
    raw = out.pop("label").str.strip().str.rstrip(".")
    raw = raw.where(raw != "", None)
    benign = raw.str.lower().eq("normal").fillna(False).to_numpy(dtype=bool)
    known = raw.notna().to_numpy(dtype=bool)
    label = np.where(benign, 0.0, 1.0)
    label[~known] = np.nan
    out["label"] = pd.Series(label, index=out.index).astype("Int8")
    out["attack_type"] = raw.where(~benign, "benign")
    category = raw.map(ATTACK_CATEGORY).fillna("unknown").where(~benign, "benign")
    out[f"{META_PREFIX}attack_category"] = category.where(known, None)
    return out


def iter_nsl_kdd(path: Path, *, limits: Limits, chunk_rows: int) -> Iterator[IngestChunk]:
    """Read an NSL-KDD / KDD'99 file in chunks of flow frames."""
    stats = IngestStats()
    with open_source(path, limits) as src:
        lines = LineBlocks(src, limits, stats)
        head = lines.peek_lines(20)
        if not head:
            raise IngestError(
                f"{path.name} is empty (no non-blank line); there is nothing to read."
            )
        if head[0].split(b",")[0].strip().lower() in (b"duration", b"'duration'", b'"duration"'):
            lines.take_line()  # a header some copies carry; not a record
            head = head[1:]
        count = _field_count(head, path.name)
        names = (*FEATURES, "label", "difficulty")[:count]
        layout = CsvLayout(names=names, numeric=frozenset(names) - TEXT_COLUMNS)
        assembler = ChunkAssembler(
            stats=stats, chunk_rows=chunk_rows, finish=to_flows, bytes_read=lambda: src.bytes_read
        )
        yield from stream_csv(lines, layout, stats, assembler)


__all__ = [
    "ATTACK_CATEGORY",
    "FEATURES",
    "READER",
    "iter_nsl_kdd",
    "looks_like_nsl_kdd",
    "to_flows",
]
