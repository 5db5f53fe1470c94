"""Throughput of the flow readers against pandas' default CSV reader, on one core.

Writes a synthetic Zeek conn.log (TSV) and a CICFlowMeter CSV (CIC-IDS2017 column
names) of about ``--mb`` megabytes each into a temporary folder, then times, in the same
process and on the same files:

* ``seclearn.ingest.iter_flows`` (all chunks consumed; bounded memory), and
* ``pandas.read_csv`` with its default C engine (only the delimiter/comment options the
  format needs; no label mapping, no validation),

and prints MB/s for both and their ratio. The target is >= 50 MB/s for both formats.

Run: ``PYTHONPATH=src python bench/bench_ingest.py [--mb 200] [--repeat 1]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from seclearn.ingest import iter_flows

_UNIQUE_ROWS = 20_000
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


def _zeek_rows(rng: np.random.Generator) -> bytes:
    n = _UNIQUE_ROWS
    ts = 1_538_478_763 + np.cumsum(rng.exponential(0.05, n))
    proto = rng.choice(["tcp", "udp", "icmp"], n, p=[0.7, 0.25, 0.05])
    service = rng.choice(["-", "http", "dns", "ssl", "ssh"], n)
    state = rng.choice(["SF", "S0", "REJ", "RSTO", "OTH"], n)
    duration = rng.exponential(2.0, n)
    obytes = rng.integers(0, 100_000, n)
    rbytes = rng.integers(0, 1_000_000, n)
    opkts = rng.integers(1, 500, n)
    rpkts = rng.integers(0, 500, n)
    malicious = rng.random(n) < 0.3
    lines = []
    for i in range(n):
        dur = "-" if state[i] == "S0" else f"{duration[i]:.6f}"
        label = "Malicious\tC&C" if malicious[i] else "Benign\t-"
        lines.append(
            f"{ts[i]:.6f}\tC{i:017d}\t192.168.{i % 256}.{(i * 7) % 256}\t{40000 + i % 20000}\t"
            f"10.0.{(i * 3) % 256}.{(i * 11) % 256}\t{(80, 443, 53, 22)[i % 4]}\t{proto[i]}\t"
            f"{service[i]}\t{dur}\t{obytes[i]}\t{rbytes[i]}\t{state[i]}\t-\t-\t0\tShADadfF\t"
            f"{opkts[i]}\t{opkts[i] * 40 + obytes[i]}\t{rpkts[i]}\t{rpkts[i] * 40 + rbytes[i]}\t"
            f"(empty)\t{label}\n"
        )
    return "".join(lines).encode()


def write_zeek(path: Path, mb: float, rng: np.random.Generator) -> None:
    header = (
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
        "#open\t2018-10-02-11-12-43\n"
        f"#fields\t{chr(9).join(ZEEK_FIELDS)}\n#types\t{chr(9).join(ZEEK_TYPES)}\n"
    )
    _write(path, header.encode(), _zeek_rows(rng), b"#close\t2018-10-03-11-12-43\n", mb)


CIC_COLUMNS = [
    "Flow ID", " Source IP", " Source Port", " Destination IP", " Destination Port", " Protocol",
    " Timestamp", " Flow Duration", " Total Fwd Packets", " Total Backward Packets",
    "Total Length of Fwd Packets", " Total Length of Bwd Packets",
] + [f" Feature {k}" for k in range(71)] + [" Label"]  # fmt: skip


def _cic_rows(rng: np.random.Generator) -> bytes:
    n = _UNIQUE_ROWS
    feats = rng.exponential(1000.0, (n, 71)).round(6)
    dur = rng.integers(1, 120_000_000, n)
    fwd = rng.integers(1, 200, n)
    bwd = rng.integers(0, 200, n)
    labels = rng.choice(["BENIGN", "DDoS", "PortScan"], n, p=[0.7, 0.2, 0.1])
    lines = []
    for i in range(n):
        values = ",".join(f"{v:g}" for v in feats[i])
        if i % 97 == 0:
            values = values.replace(",", ",Infinity,", 1).split(",", 1)[1]
        lines.append(
            f"192.168.10.{i % 256}-8.8.8.8-{40000 + i % 20000}-53-17,192.168.10.{i % 256},"
            f"{40000 + i % 20000},8.8.{i % 256}.8,{(53, 80, 443)[i % 3]},{(17, 6, 6)[i % 3]},"
            f"{1 + i % 28}/7/2017 {8 + i % 9}:{i % 60:02d},{dur[i]},{fwd[i]},{bwd[i]},"
            f"{fwd[i] * 60},{bwd[i] * 400},{values},{labels[i]}\n"
        )
    return "".join(lines).encode()


def write_cic(path: Path, mb: float, rng: np.random.Generator) -> None:
    _write(path, (",".join(CIC_COLUMNS) + "\n").encode(), _cic_rows(rng), b"", mb)


def _write(path: Path, header: bytes, body: bytes, footer: bytes, mb: float) -> None:
    target = int(mb * 1e6)
    with path.open("wb") as fh:
        fh.write(header)
        written = len(header)
        while written < target:
            fh.write(body)
            written += len(body)
        fh.write(footer)


def _time(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    best, rows = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = fn()
        best = min(best, time.perf_counter() - start)
    return best, rows


def bench(path: Path, fmt: str, pandas_kwargs: dict, repeat: int) -> None:
    size_mb = path.stat().st_size / 1e6

    def ours() -> int:
        return sum(len(chunk.frame) for chunk in iter_flows(path, format=fmt))

    def theirs() -> int:
        return len(pd.read_csv(path, **pandas_kwargs))

    t_ours, n_ours = _time(ours, repeat)
    t_pd, n_pd = _time(theirs, repeat)
    print(
        f"{fmt:13s} {size_mb:8.1f} MB  seclearn {size_mb / t_ours:7.1f} MB/s ({n_ours:,} rows)  "
        f"pandas.read_csv {size_mb / t_pd:7.1f} MB/s ({n_pd:,} rows)  ratio {t_pd / t_ours:5.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=float, default=200.0, help="size of each synthetic file in MB")
    parser.add_argument(
        "--repeat", type=int, default=1, help="timed runs per reader (best is kept)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="seclearn-bench-") as tmp:
        zeek, cic = Path(tmp) / "conn.log", Path(tmp) / "flows.csv"
        write_zeek(zeek, args.mb, rng)
        write_cic(cic, args.mb, rng)
        bench(zeek, "zeek-tsv", {"sep": "\t", "comment": "#", "header": None}, args.repeat)
        bench(cic, "cicflowmeter", {}, args.repeat)


if __name__ == "__main__":
    main()
