"""Scoring over HTTP (`seclearn serve` on loopback) beside in-process scoring of the same events.

Trains a model on a simulated day in a temporary workspace, starts `seclearn serve` as a
child process on 127.0.0.1, and posts the events of another simulated day to
``POST /v1/score`` in batches of ``--batch`` events, one request at a time, recording
each request's latency. In-process, the same batches go through the same parser and
``pipeline.score(..., explain_top_k=3)``. The service also records every alert in the
state database (one fsync'd transaction per alert), which in-process scoring does not.
Target: the service keeps at least half of the in-process throughput.

Run: ``.venv/bin/python bench/bench_http.py [--batches 20] [--batch 1000]``
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from seclearn.config import Limits, load_settings
from seclearn.datasets import create_dataset, simulate_enterprise, write_zeek_conn
from seclearn.lifecycle import train_model
from seclearn.registry import load_model
from seclearn.service._scoring import parse_events

SECRET = "bench-token-0123456789abcdef"


def _events(n: int) -> list[dict]:
    frame = simulate_enterprise(days=1, hosts=40, seed=7).drop(columns=["label", "attack_type"])
    records = frame.head(n).to_dict(orient="records")
    return [
        {
            k: v
            for k, v in r.items()
            if not (isinstance(v, float) and math.isnan(v)) and v is not None
        }
        for r in records
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    return float(np.percentile(latencies, 50)), float(np.percentile(latencies, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        settings = load_settings(ws)
        log = Path(tmp) / "train.conn.log"
        write_zeek_conn(simulate_enterprise(days=1, hosts=40, seed=0), log)
        create_dataset(settings.workspace, "train", [log])
        train_model(settings.workspace, "train", "flows", key=settings.key())
        events = _events(args.batches * args.batch)
        batches = [events[i : i + args.batch] for i in range(0, len(events), args.batch)]

        pipeline, _ = load_model("flows", root=settings.workspace, key=settings.key())
        latencies_in: list[float] = []
        for batch in batches:
            t0 = time.perf_counter()
            frame, _, _ = parse_events(batch, Limits())
            pipeline.score(frame, explain_top_k=3)
            latencies_in.append(time.perf_counter() - t0)

        port = _free_port()
        env = {
            **os.environ,
            "SECLEARN_WORKSPACE": str(ws),
            "SECLEARN_TOKENS": f"bench:{SECRET}:score",
            "SECLEARN_RATE_PER_MINUTE": "1000000",
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "seclearn.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=120, trust_env=False) as client:
                for _ in range(300):
                    try:
                        if client.get("/healthz").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                headers = {"Authorization": f"Bearer {SECRET}"}
                client.post(
                    "/v1/score", json={"model": "flows", "events": batches[0][:10]}, headers=headers
                )
                latencies_http: list[float] = []
                alerts = 0
                for batch in batches:
                    t0 = time.perf_counter()
                    reply = client.post(
                        "/v1/score", json={"model": "flows", "events": batch}, headers=headers
                    )
                    latencies_http.append(time.perf_counter() - t0)
                    reply.raise_for_status()
                    alerts += sum(1 for r in reply.json()["results"] if r["decision"])
        finally:
            server.terminate()
            server.wait(timeout=30)
        n = len(events)
        rate_in, rate_http = n / sum(latencies_in), n / sum(latencies_http)
        p50_in, p99_in = _percentiles(latencies_in)
        p50_http, p99_http = _percentiles(latencies_http)
        print(
            f"events: {n:,} in {len(batches)} batches of {args.batch:,}; alerts over HTTP: {alerts:,}"
        )
        print(
            f"in-process: {rate_in:,.0f} events/s   p50 {p50_in * 1e3:.1f} ms  p99 {p99_in * 1e3:.1f} ms per batch"
        )
        print(
            f"HTTP:       {rate_http:,.0f} events/s   p50 {p50_http * 1e3:.1f} ms  p99 {p99_http * 1e3:.1f} ms per batch"
        )
        print(f"ratio HTTP / in-process throughput: {rate_http / rate_in:.3f} (target >= 0.5)")


if __name__ == "__main__":
    main()
