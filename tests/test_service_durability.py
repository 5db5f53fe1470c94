"""Acknowledged alerts and verdicts survive ``kill -9`` of ``seclearn serve`` while it writes.

For each of :data:`CYCLES` cycles on one workspace (one ``state.db``) a real server is
started as a child process (``python -m seclearn.cli serve`` on a free loopback port),
a client thread keeps posting small batches of attack flows (each with a fresh source
address, so each alerts as a new alert) and verdicts on alerts already acknowledged,
and the parent sends SIGKILL at a seeded random moment. A write counts as acknowledged
only once its 200 response was read in full. After each kill the database must hold
every acknowledged alert and verdict, pass ``PRAGMA integrity_check``, and its audit
chain must verify; the next cycle starts a server on what the crash left behind.

Measured on 2 cores shared with other test runs: about 2.4 s per cycle (about 0.9 s to
start the server, about 0.8 s for its first score, which loads the model, then up to
0.8 s of writing), 118 s for the 50 cycles and 124 s for the whole file, setup included
(3 s). That run acknowledged 2,336 alerts and 575 verdicts; 4 of its cycles were killed
before their first acknowledged write.
"""

from __future__ import annotations

import http.client
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from seclearn.config import load_settings
from seclearn.datasets import create_dataset, simulate_enterprise, write_zeek_conn
from seclearn.lifecycle import DEMO_START, train_model
from seclearn.service import ServiceSettings, create_app, parse_tokens
from seclearn.store import StateStore, verify_audit_log

#: Kill cycles (the deployment issue asks for 50).
CYCLES = 50
SEED = 20261204
SECRET = "durability-secret-0123456789abcdef"
TOKENS = f"tester:{SECRET}:score,triage"
MODEL = "flows"
BATCH = 4
VERDICTS = ("true_positive", "false_positive", "benign_true_positive")
HEALTHZ_DEADLINE_S = 60.0
#: One kill in EARLY_SHARE lands EARLY_KILL_S after the server answered /healthz, which
#: may be before its first write (its first score loads the model, about 0.8 s): then the
#: cycle checks whatever was acknowledged, possibly nothing. Every other kill lands
#: KILL_AFTER_S after the first acknowledged write, in the middle of writing.
EARLY_SHARE = 0.1
EARLY_KILL_S = (0.0, 1.0)
KILL_AFTER_S = (0.0, 0.8)
FIRST_WRITE_DEADLINE_S = 60.0


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A workspace with one signed model, ``flows``, fitted on a small simulated day."""
    ws = tmp_path_factory.mktemp("ws")
    train = ws.parent / "train.conn.log"
    write_zeek_conn(simulate_enterprise(days=1, hosts=12, seed=22, start=DEMO_START), train)
    settings = load_settings(ws)
    create_dataset(settings.workspace, "train", [train])
    # logistic regression: quick to fit and to load, and no OpenMP threads that slow
    # to a crawl when other processes hold the cores (LightGBM's setup took 2 s to 70 s)
    train_model(
        settings.workspace,
        "train",
        MODEL,
        key=settings.key(),
        detector="logistic_regression",
        cv_folds=2,
    )
    return ws


@pytest.fixture(scope="module")
def attacks(workspace, tmp_path_factory) -> list[dict]:
    """Attack flows of another simulated day that the trained model alerts on (checked)."""
    frame = simulate_enterprise(days=1, hosts=12, seed=21, start=DEMO_START)
    rows = frame[frame["label"] == 1].head(400).to_dict("records")
    events = [
        orjson.loads(
            orjson.dumps(
                {k: v for k, v in r.items() if k not in ("label", "attack_type") and v == v},
                default=str,
            )
        )
        for r in rows
    ]
    scratch = tmp_path_factory.mktemp("scratch") / "state.db"
    settings = ServiceSettings(base=load_settings(workspace), tokens=parse_tokens(TOKENS))
    app = create_app(settings, store=lambda: StateStore(scratch))
    alerting: list[dict] = []
    with TestClient(app) as client:
        for start in range(0, len(events), 50):
            part = events[start : start + 50]
            batch = [{**e, "src_ip": _address(start + i)} for i, e in enumerate(part)]
            response = client.post(
                "/v1/score", json={"model": MODEL, "events": batch}, headers=_auth()
            )
            assert response.status_code == 200, response.text
            results = response.json()["results"]
            alerting += [e for e, r in zip(part, results, strict=True) if r["alert_id"]]
    assert len(alerting) >= 300, f"only {len(alerting)} of {len(events)} attack flows alert"
    return alerting


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"}


def _address(n: int) -> str:
    """A distinct source address per event, so that no alert is a repeat of another."""
    return f"10.{100 + n // 65536 % 150}.{n // 256 % 256}.{n % 256}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(workspace: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A server on a free loopback port, answering /healthz; retried if the port was taken."""
    env = {
        **os.environ,
        "SECLEARN_WORKSPACE": str(workspace),
        "SECLEARN_TOKENS": TOKENS,
        "SECLEARN_RATE_PER_MINUTE": "10000000",
    }
    for _ in range(5):
        port = _free_port()
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "seclearn.cli", "serve", "--host", "127.0.0.1",
                 "--port", str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=out,
            )  # fmt: skip
        deadline = time.monotonic() + HEALTHZ_DEADLINE_S
        while proc.poll() is None and time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return proc, port
            except (OSError, http.client.HTTPException):
                time.sleep(0.02)
            finally:
                conn.close()
        proc.kill()
        proc.wait()
        if time.monotonic() >= deadline:
            break
    pytest.fail(f"the server did not come up; its log:\n{log.read_text()[-4000:]}")


class Client(threading.Thread):
    """Posts batches of attack flows and verdicts until a request fails; records each 200."""

    def __init__(
        self,
        port: int,
        events: list[dict],
        rng: random.Random,
        counter: list[int],
        known: list[int],
    ) -> None:
        super().__init__(daemon=True)
        self.port, self.events, self.rng = port, events, rng
        self.counter = counter  # next source address number, shared across cycles
        self.known = known  # acknowledged alert ids, of this and earlier cycles
        self.alerts: list[int] = []
        self.verdicts: list[tuple[int, int, str]] = []  # (verdict id, alert id, verdict)
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.acknowledged = threading.Event()  # set at the first acknowledged write

    def _post(self, conn: http.client.HTTPConnection, path: str, body: dict) -> dict:
        conn.request("POST", path, body=orjson.dumps(body), headers=_auth())
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise AssertionError(f"{path} answered {response.status}: {data[:500]!r}")
        return orjson.loads(data)

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            while not self.stop.is_set():
                batch = []
                for e in self.rng.sample(self.events, BATCH):
                    batch.append({**e, "src_ip": _address(self.counter[0])})
                    self.counter[0] += 1
                body = self._post(conn, "/v1/score", {"model": MODEL, "events": batch})
                ids = [r["alert_id"] for r in body["results"]]
                assert None not in ids and len(set(ids)) == BATCH, body
                self.alerts += ids
                self.known += ids
                self.acknowledged.set()
                alert_id = self.rng.choice(self.known)
                verdict = self.rng.choice(VERDICTS)
                body = self._post(
                    conn, f"/v1/alerts/{alert_id}/verdict", {"verdict": verdict, "note": "kill -9"}
                )
                got = body["verdict"]
                assert got["alert_id"] == alert_id and got["verdict"] == verdict, body
                self.verdicts.append((int(got["id"]), alert_id, verdict))
        except (OSError, http.client.HTTPException):
            pass  # the server was killed: the request in flight was not acknowledged
        except BaseException as exc:  # reported by the test, not lost in this thread
            self.error = exc
        finally:
            self.acknowledged.set()  # nothing more will be acknowledged
            conn.close()


def _check(path: Path, alerts: list[int], verdicts: list[tuple[int, int, str]]) -> None:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = {r[0] for r in conn.execute("SELECT id FROM alerts")}
        recorded = {
            r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, alert_id, verdict FROM verdicts")
        }
    finally:
        conn.close()
    lost = sorted(set(alerts) - stored)
    assert not lost, f"acknowledged alerts lost: {lost}"
    lost_v = [v for v in verdicts if recorded.get(v[0]) != (v[1], v[2])]
    assert not lost_v, f"acknowledged verdicts lost: {lost_v}"
    assert verify_audit_log(path) >= len(stored) + len(recorded)


def test_acknowledged_alerts_and_verdicts_survive_kill_9_of_the_service(
    workspace, attacks, tmp_path
):
    rng = random.Random(SEED)
    db = workspace / "state.db"
    log = tmp_path / "server.log"
    counter, known = [0], []
    total_alerts = total_verdicts = empty = 0
    for cycle in range(CYCLES):
        proc, port = _start(workspace, log)
        client = Client(port, attacks, random.Random(rng.random()), counter, known)
        try:
            client.start()
            if rng.random() < EARLY_SHARE:
                time.sleep(rng.uniform(*EARLY_KILL_S))
            else:
                client.acknowledged.wait(FIRST_WRITE_DEADLINE_S)
                time.sleep(rng.uniform(*KILL_AFTER_S))
            alive = proc.poll() is None
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            client.stop.set()
            client.join(timeout=60)
        assert not client.is_alive(), f"cycle {cycle}: the client did not stop"
        assert client.error is None, f"cycle {cycle}: the client failed: {client.error!r}"
        assert alive and proc.returncode == -signal.SIGKILL, (
            f"cycle {cycle}: the server exited before the kill; its log:\n{log.read_text()[-4000:]}"
        )
        _check(db, client.alerts, client.verdicts)
        total_alerts += len(client.alerts)
        total_verdicts += len(client.verdicts)
        empty += not client.alerts
    print(f"{CYCLES} cycles: {total_alerts} alerts, {total_verdicts} verdicts, {empty} empty")
    assert total_alerts >= 8 * CYCLES and total_verdicts >= 2 * CYCLES, (
        f"too few acknowledged writes for the test to mean much: {total_alerts} alerts, "
        f"{total_verdicts} verdicts in {CYCLES} cycles"
    )
