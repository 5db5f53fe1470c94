"""Acknowledged writes survive SIGKILL: children write, the parent kills them at random moments.

Each child prints a line only after a store call returned (its COMMIT done), so every
printed id must be in the database afterwards; the file must pass SQLite's integrity
check and the audit chain must verify. Two children write at once, so the cycles also
exercise cross-process locking, and every cycle reopens the database the last one
left behind after a crash.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from seclearn.store import StateStore

CHILD = textwrap.dedent(
    """
    import sys
    from seclearn.store import StateStore

    path, tag = sys.argv[1], sys.argv[2]
    store = StateStore(path, dedup_window_s=120)
    print("READY", flush=True)
    verdicts = ("true_positive", "false_positive", "benign_true_positive")
    i = 0
    while True:
        alert = store.record_alert(
            detector="flows", detector_version=1, entity=f"{tag}-h{i % 5}",
            event_time=1_700_000_000 + 60 * i, score=(i * 37 % 100) / 100, threshold=0.5,
            top_features=[{"feature": "bytes", "value": i, "contribution": 0.1}],
            reason="test", raw_event={"i": i, "tag": tag}, sinks=["webhook"],
        )
        print(f"A {alert.id} {alert.count}", flush=True)
        if i % 3 == 0:
            v = store.record_verdict(alert.id, verdicts[(i // 3) % 3], analyst=tag, note=str(i))
            print(f"V {v.id} {alert.id}", flush=True)
        if i % 10 == 0:
            entry = store.record_model_change(model="flows", version=i, action="promote", actor=tag)
            print(f"M {entry.seq}", flush=True)
        i += 1
    """
)


def _acknowledged(output: bytes) -> list[list[str]]:
    lines = output.decode().split("\n")[:-1]  # a line cut by the kill has no newline
    return [line.split() for line in lines if line and line != "READY"]


def _check(path: Path, acked: list[list[str]]) -> None:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counts = dict(conn.execute("SELECT id, count FROM alerts").fetchall())
        verdicts = dict(conn.execute("SELECT id, alert_id FROM verdicts").fetchall())
        seqs = {r[0] for r in conn.execute("SELECT seq FROM audit_log WHERE action LIKE 'model.%'")}
        keys = {r[0] for r in conn.execute("SELECT key FROM outbox")}
    conn.close()
    for kind, *fields in acked:
        if kind == "A":
            alert_id, count = int(fields[0]), int(fields[1])
            assert counts.get(alert_id, 0) >= count, f"acknowledged alert {alert_id} lost"
            if count == 1:
                assert f"alert-{alert_id}-webhook" in keys
        elif kind == "V":
            assert verdicts.get(int(fields[0])) == int(fields[1]), f"verdict {fields[0]} lost"
        else:
            assert int(fields[0]) in seqs, f"model change {fields[0]} lost"
    with StateStore(path, create=False) as store:
        assert store.verify_audit() > 0


def _start(script: Path, path: Path, tag: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path), tag],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    ready = proc.stdout.readline()
    if ready != b"READY\n":
        proc.kill()
        pytest.fail(f"child did not start: {ready!r} {proc.stderr.read() if proc.stderr else ''}")
    return proc


def test_acknowledged_writes_survive_sigkill(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(CHILD)
    path = tmp_path / "state.db"
    rng = random.Random(20261204)
    total = 0
    for cycle in range(10):
        children = [_start(script, path, f"c{cycle}{k}") for k in "ab"]
        for proc in children:
            time.sleep(rng.uniform(0.02, 0.35))
            proc.send_signal(signal.SIGKILL)
        acked: list[list[str]] = []
        for proc in children:
            out, err = proc.communicate(timeout=10)
            assert proc.returncode == -signal.SIGKILL, err.decode()
            acked += _acknowledged(out)
        _check(path, acked)
        total += len(acked)
    assert total > 50, "the children acknowledged too few writes for the test to mean much"


OPENER = textwrap.dedent(
    """
    import sys
    from seclearn.store import StateStore

    store = StateStore(sys.argv[1])
    for i in range(25):
        store.record_alert(detector="d", detector_version=1, entity=f"{sys.argv[2]}-{i}",
                           event_time=1_700_000_000 + i, score=0.9, threshold=0.5)
    print("done", flush=True)
    """
)


def test_processes_creating_and_writing_one_database_at_once_lose_nothing(tmp_path):
    script = tmp_path / "opener.py"
    script.write_text(OPENER)
    path = tmp_path / "fresh" / "state.db"
    procs = [
        subprocess.Popen([sys.executable, str(script), str(path), f"p{i}"], stdout=subprocess.PIPE)
        for i in range(5)
    ]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * 5
    assert outputs == [b"done\n"] * 5
    with StateStore(path, create=False) as store:
        assert len(store.list_alerts(limit=1000)) == 125
        assert store.verify_audit() == 125
