"""Peak memory of `seclearn score` on a large Zeek conn.log (target: under 1 GB for 2 GB).

Writes a Zeek conn TSV of the requested size (simulated flows, repeated), trains a
small model in a temporary workspace, then runs `seclearn score` as a child process and
reads its peak resident set size from the kernel (ru_maxrss of the child).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from seclearn.config import load_settings
from seclearn.datasets import create_dataset, simulate_enterprise, write_zeek_conn
from seclearn.lifecycle import train_model

#: Distinct simulated days in the block that the big log repeats.
BLOCK_DAYS = 3


def _write_big_log(path: Path, target_bytes: int) -> int:
    """A Zeek conn.log of about ``target_bytes``: a few simulated days, repeated forward in time.

    Each repetition shifts ``ts`` by the block's span, so that time keeps moving forward
    and the time-window context sees a realistic stream (a block repeated with its own
    timestamps would make time jump back and turn every flow into a "new" host pair).
    """
    block_path = path.with_suffix(".block")
    write_zeek_conn(simulate_enterprise(days=BLOCK_DAYS, seed=3), block_path)
    lines = block_path.read_bytes().splitlines(keepends=True)
    header = b"".join(
        line for line in lines if line.startswith(b"#") and not line.startswith(b"#close")
    )
    body = [line.split(b"\t", 1) for line in lines if not line.startswith(b"#")]
    block_path.unlink()
    ts = [float(first) for first, _ in body]
    rest = [tail for _, tail in body]
    span_s = BLOCK_DAYS * 86_400.0
    written = 0
    repetition = 0
    with path.open("wb") as fh:
        fh.write(header)
        while written < target_bytes:
            offset = repetition * span_s
            chunk = b"".join(
                b"%.6f\t%b" % (t + offset, tail) for t, tail in zip(ts, rest, strict=True)
            )
            fh.write(chunk)
            written += len(chunk)
            repetition += 1
        fh.write(b"#close\t2026-11-03-00-00-00\n")
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gb", type=float, default=2.0)
    args = parser.parse_args()
    exe = [sys.executable, "-m", "seclearn.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        env = {**os.environ, "SECLEARN_WORKSPACE": str(tmpdir / "ws")}
        train_log = tmpdir / "train.conn.log"
        write_zeek_conn(simulate_enterprise(days=2, seed=0), train_log)
        # Training runs in this process so that the only child measured is `seclearn score`.
        settings = load_settings(tmpdir / "ws")
        create_dataset(settings.workspace, "train", [train_log])
        train_model(settings.workspace, "train", "flows", key=settings.key())
        big = tmpdir / "big.conn.log"
        size = _write_big_log(big, int(args.gb * 1024**3))
        t0 = time.perf_counter()
        subprocess.run(
            [*exe, "score", "flows", str(big), "--out", str(tmpdir / "out.parquet")],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        elapsed = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"input: {size / 1024**3:.2f} GiB Zeek conn TSV, scored in {elapsed:.1f} s "
            f"({size / 1024**2 / elapsed:.1f} MB/s end to end)"
        )
        alerts = pq.read_table(tmpdir / "out.parquet", columns=["decision"]).column(0)
        print(f"rows scored: {len(alerts):,}; alerts (explained): {pc.sum(alerts).as_py():,}")
        print(
            f"peak RSS of `seclearn score`: {peak_mb:,.0f} MiB (target < 1024 MiB); "
            f"ratio to input size: {peak_mb / (size / 1024**2):.3f}"
        )


if __name__ == "__main__":
    main()
