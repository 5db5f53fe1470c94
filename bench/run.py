"""Run every benchmark and print its figures: `make bench` (or `python bench/run.py --quick`)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    runs = [
        ["bench_ingest.py"] + (["--mb", "20"] if args.quick else ["--mb", "200"]),
        ["bench_scoring.py"] + (["--rows", "100000"] if args.quick else ["--rows", "1000000"]),
        ["bench_score_memory.py"] + (["--gb", "0.1"] if args.quick else ["--gb", "2"]),
        ["bench_labels.py"] + (["--quick"] if args.quick else []),
        ["bench_http.py"] + (["--batches", "5"] if args.quick else ["--batches", "30"]),
    ]
    failed = 0
    for script, *rest in runs:
        print(f"\n=== {script} {' '.join(rest)}", flush=True)
        failed |= subprocess.call([sys.executable, str(HERE / script), *rest])
    return failed


if __name__ == "__main__":
    sys.exit(main())
