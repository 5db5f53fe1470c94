"""Streaming: live-log parsing, following a growing and rotating file, and `seclearn watch`."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest

from seclearn.config import Limits, load_settings
from seclearn.datasets import create_dataset, simulate_enterprise, write_zeek_conn
from seclearn.errors import ConfigError, IngestError
from seclearn.ingest import read_flows
from seclearn.ingest.stream import LineStreamParser
from seclearn.lifecycle import DEMO_START, train_model
from seclearn.registry import load_model
from seclearn.scoring import Batch, follow, read_batches, score_files, watch
from seclearn.scoring.stream import _Lines


@pytest.fixture(scope="module")
def conn_log(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("logs") / "conn.log"
    write_zeek_conn(simulate_enterprise(days=1, hosts=12, seed=21, start=DEMO_START), path)
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory, conn_log):
    """A signed model trained on another simulated day, and the workspace it lives in."""
    ws = tmp_path_factory.mktemp("ws")
    train = ws.parent / "train.conn.log"
    write_zeek_conn(simulate_enterprise(days=1, hosts=12, seed=22, start=DEMO_START), train)
    settings = load_settings(ws)
    create_dataset(settings.workspace, "train", [train])
    train_model(settings.workspace, "train", "flows", key=settings.key())
    pipeline, _ = load_model("flows", root=settings.workspace, key=settings.key())
    return pipeline, ws


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _data_and_header(path: Path) -> tuple[list[bytes], list[bytes]]:
    lines = [x for x in _lines(path) if not x.startswith(b"#close")]
    return [x for x in lines if x.startswith(b"#")], [x for x in lines if not x.startswith(b"#")]


# ----------------------------------------------------------------- LineStreamParser
@pytest.mark.parametrize(("batch", "n_lines"), [(1, 300), (97, None), (5000, None)])
def test_streamed_batches_give_the_same_flows_as_reading_the_file(
    conn_log, tmp_path, batch, n_lines
):
    lines = _lines(conn_log)[:n_lines]
    (tmp_path / "head.log").write_bytes(b"".join(lines))
    whole = read_flows(tmp_path / "head.log").frame
    parser = LineStreamParser("zeek-tsv")
    parts = [parser.parse(lines[i : i + batch]).frame for i in range(0, len(lines), batch)]
    streamed = pd.concat([p for p in parts if len(p)], ignore_index=True)
    pd.testing.assert_frame_equal(streamed, whole)
    assert parser.total.accepted == len(whole) and parser.total.quarantined == 0


def test_bad_lines_are_quarantined_with_their_reason_and_the_batch_goes_on(conn_log):
    header, data = _data_and_header(conn_log)
    parser = LineStreamParser("zeek-tsv", limits=Limits(max_line_bytes=4096))
    parser.parse(header)
    bad = [b"only\ttwo\n", b"x" * 5000 + b"\n", b"\xff\xfe\xfd\n"]
    chunk = parser.parse([data[0], *bad, data[1]])
    assert len(chunk.frame) == 2
    reasons = [q.reason for q in chunk.stats.quarantine]
    assert chunk.stats.quarantined == 3
    assert any("field count" in r for r in reasons)
    assert any("max_line_bytes" in r for r in reasons)
    assert any("UTF-8" in r for r in reasons)


def test_a_new_fields_header_mid_stream_changes_the_layout(conn_log):
    header, data = _data_and_header(conn_log)
    frame = read_flows(conn_log).frame
    fields = next(x for x in header if x.startswith(b"#fields"))
    names = fields.rstrip(b"\n").split(b"\t")[1:]
    keep = [i for i, n in enumerate(names) if n != b"service"]
    narrow = b"\t".join([b"#fields", *(names[i] for i in keep)]) + b"\n"
    j = int(np.flatnonzero(frame["service"].notna().to_numpy())[0])
    narrow_row = b"\t".join(data[j].rstrip(b"\n").split(b"\t")[i] for i in keep) + b"\n"
    parser = LineStreamParser("zeek-tsv")
    chunk = parser.parse(
        [*[h for h in header if not h.startswith(b"#types")], data[j], narrow, narrow_row]
    )
    assert len(chunk.frame) == 2
    assert chunk.frame.loc[0, "service"] == frame.loc[j, "service"]
    assert (
        pd.isna(chunk.frame.loc[1, "service"]) and chunk.frame.loc[1, "uid"] == frame.loc[j, "uid"]
    )


def test_data_before_any_header_says_what_is_missing():
    with pytest.raises(IngestError, match="#fields"):
        LineStreamParser("zeek-tsv").parse([b"1.0\tCabc\t10.0.0.1\n"])


def test_reset_forgets_the_header_of_a_rotated_file(conn_log):
    header, data = _data_and_header(conn_log)
    parser = LineStreamParser("zeek-tsv")
    assert len(parser.parse([*header, data[0]]).frame) == 1
    parser.reset()
    with pytest.raises(IngestError):
        parser.parse([data[1]])


def test_json_lines_stream_in_zeek_and_flow_names():
    parser = LineStreamParser("zeek-json")
    zeek_named = parser.parse(
        [
            b'{"ts": 1.5, "id": {"orig_h": "10.0.0.1", "orig_p": 5, "resp_h": "10.0.0.2",'
            b' "resp_p": 22}, "proto": "tcp"}\n',
            b"not json\n",
        ]
    )
    flow_named = parser.parse(
        [b'{"ts": 2.5, "src_ip": "10.0.0.3", "dst_ip": "10.0.0.4", "dst_port": 443}\n']
    )
    assert zeek_named.frame.loc[0, "dst_port"] == 22 and flow_named.frame.loc[0, "dst_port"] == 443
    assert zeek_named.stats.quarantined == 1
    assert "invalid JSON" in zeek_named.stats.quarantine[0].reason


def test_unknown_stream_format_names_the_ones_that_stream():
    with pytest.raises(ConfigError, match="zeek-tsv, zeek-json"):
        LineStreamParser("nsl-kdd")


# ----------------------------------------------------------------- line splitting
def test_partial_lines_wait_for_their_newline_and_overlong_ones_are_never_buffered():
    lines = _Lines(max_bytes=10)
    assert lines.feed(b"abc") == []
    assert lines.feed(b"de\nfgh") == [b"abcde\n"]
    assert lines.feed(b"\n" + b"y" * 25) == [b"fgh\n"]
    assert len(lines._partial) == 0 and lines.overlong == 1  # dropped while it streams
    assert lines.feed(b"y" * 100 + b"\nok\n") == [b"ok\n"]
    assert lines.take_overlong() == 1 and lines.finish() == []


# ----------------------------------------------------------------- follow
def test_follow_reads_a_growing_file_across_rotation_and_truncation(tmp_path):
    log = tmp_path / "conn.log"
    log.write_bytes(b"a1\na2\npart")
    steps = [
        lambda: log.open("ab").write(b"ial\n"),
        lambda: (log.rename(tmp_path / "conn.log.1"), log.write_bytes(b"b1\n")),
        lambda: log.open("ab").write(b"b2\nb3\n"),
        lambda: log.write_bytes(b"c1\n"),  # truncated in place and rewritten
    ]

    def writer_acts(_: float) -> None:
        if steps:
            steps.pop(0)()

    batches = list(follow(log, poll_s=0.01, idle_exit_s=0.05, sleep=writer_acts))
    got = [(b.rotated, line) for b in batches for line in b.lines]
    assert [line for _, line in got] == [
        b"a1\n",
        b"a2\n",
        b"partial\n",
        b"b1\n",
        b"b2\n",
        b"b3\n",
        b"c1\n",
    ]
    assert [line for rotated, line in got if rotated] == [b"b1\n", b"c1\n"]


def test_follow_from_the_end_skips_what_the_file_already_holds(tmp_path):
    log = tmp_path / "conn.log"
    log.write_bytes(b"old\n")
    steps = [lambda: log.open("ab").write(b"new\n")]
    batches = list(
        follow(
            log,
            from_start=False,
            poll_s=0.01,
            idle_exit_s=0.05,
            sleep=lambda _: steps.pop()() if steps else None,
        )
    )
    assert [line for b in batches for line in b.lines] == [b"new\n"]


def test_following_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(IngestError, match="does not exist"):
        next(follow(tmp_path / "nope.log", idle_exit_s=0))


def test_read_batches_hands_out_lines_when_the_writer_pauses():
    read_fd, write_fd = os.pipe()
    reader = os.fdopen(read_fd, "rb")
    first_seen = threading.Event()

    def writer() -> None:
        os.write(write_fd, b"one\ntwo\n")
        first_seen.wait(5)  # the reader must hand these out before more arrive
        os.write(write_fd, b"three\nfour")
        os.close(write_fd)

    thread = threading.Thread(target=writer)
    thread.start()
    batches = []
    for batch in read_batches(reader, flush_s=0.05):
        batches.append(batch.lines)
        first_seen.set()
    thread.join()
    assert batches == [[b"one\n", b"two\n"], [b"three\n", b"four"]]


# ----------------------------------------------------------------- watch
def test_watch_emits_exactly_the_alerts_that_batch_scoring_finds(model, conn_log, tmp_path):
    pipeline, _ = model
    out = tmp_path / "scores.parquet"
    score_files(pipeline, [conn_log], out)
    batch = pd.read_parquet(out)
    lines = _lines(conn_log)
    emitted: list[dict] = []
    summary = watch(
        pipeline, (Batch(lines[i : i + 333]) for i in range(0, len(lines), 333)), emitted.append
    )
    expected = batch[batch["decision"]]
    assert summary.records == len(batch) and summary.alerts == len(expected) > 0
    assert [e["uid"] for e in emitted] == expected["uid"].tolist()
    np.testing.assert_allclose([e["score"] for e in emitted], expected["score"], rtol=1e-12)
    assert all(e["reason"].startswith("Alert") and len(e["top_features"]) == 3 for e in emitted)


def seclearn(ws: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run the ``seclearn`` command on workspace ``ws`` in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "seclearn.cli", *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env={**os.environ, "SECLEARN_WORKSPACE": str(ws)},
        timeout=120,
        check=False,
    )


def test_seclearn_watch_follows_a_file_and_prints_one_json_alert_per_line(model, conn_log):
    _, ws = model
    done = seclearn(
        ws, "watch", "flows", "--file", str(conn_log), "--poll", "0.05", "--idle-exit", "0.2"
    )
    assert done.returncode == 0, done.stderr.decode()
    alerts = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert alerts and all(a["decision"] is True for a in alerts)
    assert b"records scored with flows@1" in done.stderr and b"0 quarantined" in done.stderr


def test_seclearn_watch_reads_json_lines_from_stdin(model):
    _, ws = model
    flow = {"src_ip": "10.9.9.9", "dst_ip": "10.0.0.2", "dst_port": 22, "proto": "tcp"}
    flow |= {"duration": 0.01, "orig_bytes": 0, "resp_bytes": 0, "conn_state": "REJ"}
    flood = b"".join(
        orjson.dumps(
            {**flow, "ts": 1.7e9 + i, "src_port": 40000 + i}, option=orjson.OPT_APPEND_NEWLINE
        )
        for i in range(200)
    )
    done = seclearn(
        ws, "watch", "flows", "--format", "zeek-json", "--all", stdin=flood + b"{broken\n"
    )
    assert done.returncode == 0, done.stderr.decode()
    records = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == 200 and b"1 quarantined" in done.stderr


def test_seclearn_watch_refuses_a_format_it_cannot_stream(model):
    _, ws = model
    done = seclearn(ws, "watch", "flows", "--format", "nsl-kdd")
    assert done.returncode == 2 and b"Streaming supports" in done.stderr


def test_watch_store_records_alerts_and_deliver_hands_them_to_a_sink(
    model, conn_log, tmp_path, syslog
):
    _, ws = model
    host, port = syslog.server_address
    sinks = tmp_path / "sinks.toml"
    sinks.write_text(
        f'[sinks.siem]\nkind = "syslog-tcp"\nhost = "{host}"\nport = {port}\nformat = "cef"\n'
    )
    follow = ("--file", str(conn_log), "--idle-exit", "0.2", "--poll", "0.05")
    watched = seclearn(ws, "watch", "flows", *follow, "--store", "--sinks", str(sinks))
    assert watched.returncode == 0, watched.stderr.decode()
    alerts = [orjson.loads(line) for line in watched.stdout.splitlines()]
    new = {a["alert_id"] for a in alerts if a["alert_count"] == 1}
    assert alerts and len(new) <= len(alerts)
    delivered = seclearn(ws, "deliver", "--sinks", str(sinks))
    assert delivered.returncode == 0, delivered.stderr.decode()
    assert f"siem: {len(new)} delivered".encode() in delivered.stdout
    messages = syslog.wait_for(len(new))
    assert len(messages) == len(new)
    assert all(m.startswith(b"CEF:0|") for m in messages)
    audit = seclearn(ws, "audit", "verify")
    assert audit.returncode == 0 and b"chain OK" in audit.stdout


def test_a_record_without_any_flow_field_is_quarantined_not_scored():
    parser = LineStreamParser("zeek-json")
    chunk = parser.parse([b"{}\n", b'{"colour": "blue"}\n', b'{"ts": 5.0, "src_ip": "10.0.0.1"}\n'])
    assert len(chunk.frame) == 1 and chunk.frame.loc[0, "src_ip"] == "10.0.0.1"
    assert chunk.stats.accepted == 1 and chunk.stats.quarantined == 2
    assert all("no flow field" in q.reason for q in chunk.stats.quarantine)
