"""Feedback becomes labels: label-file import, current labels with provenance, label shares."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from seclearn.errors import IngestError, LimitExceededError
from seclearn.lifecycle.feedback import feedback_labels, import_labels, label_shares
from seclearn.store import StateStore


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


@pytest.fixture
def store(tmp_path):
    db = StateStore(tmp_path / "state.db", clock=FakeClock())
    yield db
    db.close()


GOOD_AND_BAD = (
    "uid,label,who,reason,attack_type\n"
    "C1,malicious,,port sweep,port_scan\n"  # line 2: who from the import
    "C2,0,bob,,\n"  # line 3: its own who
    "\n"  # blank: not a row
    ",1,,,\n"  # line 5: no event ref
    "C3,2,,,\n"  # line 6: bad label
    "C4,1,,\n"  # line 7: wrong field count
    "C5,benign,,,\n"  # line 8
    "C1,benign,,,\n"  # line 9: contradicts line 2
    "C6,1,,\x07bell,\n"  # line 10: control character in the reason
)


def test_good_rows_are_recorded_with_provenance_and_bad_rows_quarantined(store, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text(GOOD_AND_BAD)
    result = import_labels(store, path, who="ana", quarantine_to=tmp_path / "q.jsonl")
    assert (result.rows, result.accepted, result.recorded, result.quarantined) == (8, 3, 3, 5)
    assert result.rows == result.accepted + result.quarantined
    lines = {q.line: q.reason for q in result.quarantine}
    assert sorted(lines) == [5, 6, 7, 9, 10]
    assert "event_ref" in lines[5] and "label must be" in lines[6]
    assert "field count" in lines[7] and "line 2" in lines[9] and "control" in lines[10]
    written = [json.loads(x) for x in (tmp_path / "q.jsonl").read_text().splitlines()]
    assert [w["line"] for w in written] == [5, 6, 7, 9, 10] and written[0]["file"] == "labels.csv"

    by_ref = {lab.event_ref: lab for lab in store.labels()}
    assert set(by_ref) == {"C1", "C2", "C5"}
    c1, c2 = by_ref["C1"], by_ref["C2"]
    assert (c1.label, c1.who, c1.source, c1.previous) == (1, "ana", "import:labels.csv", None)
    assert c1.reason == "attack_type=port_scan; port sweep"
    assert (c2.label, c2.who) == (0, "bob") and "imported by ana" in c2.reason
    assert store.verify_audit() == 3  # one audit entry per label


def test_json_lines_are_read_and_bad_lines_quarantined(store, tmp_path):
    path = tmp_path / "labels.jsonl"
    rows = [
        json.dumps({"event_ref": "E1", "label": 1, "who": "ana", "reason": "c2"}),
        "{not json",
        json.dumps([1, 2]),
        json.dumps({"event_ref": "E2", "label": True, "who": "ana"}),
        json.dumps({"event_ref": {"nested": 1}, "label": 0, "who": "ana"}),
        json.dumps({"uid": "E3", "label": "benign"}),  # no who anywhere
    ]
    path.write_text("\n".join(rows) + "\n")
    result = import_labels(store, path, who=None)
    assert (result.rows, result.accepted, result.quarantined) == (6, 1, 5)
    reasons = [q.reason for q in result.quarantine]
    assert reasons[0] == "not valid JSON" and reasons[1] == "not a JSON object"
    assert "label must be" in reasons[2] and "must be text" in reasons[3]
    assert "who is missing" in reasons[4]
    assert [lab.event_ref for lab in store.labels()] == ["E1"]


def test_an_oversized_file_or_header_line_is_refused_before_anything_is_recorded(store, tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("uid,label\n" + "C1,1\n" * 100)
    with pytest.raises(LimitExceededError, match=r"more than the limit of 100 bytes"):
        import_labels(store, big, who="ana", max_bytes=100)
    wide = tmp_path / "wide.csv"
    wide.write_text("uid,label," + "x" * 200 + "\nC1,1,\n")
    with pytest.raises(LimitExceededError, match=r"header line .* longer than 64 bytes"):
        import_labels(store, wide, who="ana", max_line_bytes=64)
    no_label = tmp_path / "nolabel.csv"
    no_label.write_text("uid,verdict\nC1,1\n")
    with pytest.raises(IngestError, match=r"must name an event_ref .* and a label column"):
        import_labels(store, no_label, who="ana")
    assert store.labels() == []


def test_an_over_long_row_is_quarantined_and_the_rest_goes_on(store, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("uid,label,reason\nC1,1,ok\nC2,1," + "y" * 500 + "\nC3,0,\n")
    result = import_labels(store, path, who="ana", max_line_bytes=100)
    assert (result.rows, result.accepted, result.quarantined) == (3, 2, 1)
    assert result.quarantine[0].line == 3 and "longer than 100 bytes" in result.quarantine[0].reason


def test_reimporting_the_same_file_records_nothing_new(store, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("uid,label\nC1,1\nC2,0\nC2,0\n")  # a repeated identical row is fine
    first = import_labels(store, path, who="ana")
    assert (first.rows, first.accepted, first.recorded, first.unchanged) == (3, 3, 2, 1)
    entries = store.verify_audit()
    again = import_labels(store, path, who="ana")
    assert (again.recorded, again.unchanged, again.quarantined) == (0, 3, 0)
    assert len(store.labels()) == 2 and store.verify_audit() == entries
    # the same label from another person is new provenance, so it is recorded
    other = import_labels(store, path, who="bob")
    assert other.recorded == 2 and other.changed == 0


def test_a_label_change_records_the_previous_value(store, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("uid,label\nC1,1\n")
    import_labels(store, path, who="ana")
    path.write_text("uid,label\nC1,benign\n")
    result = import_labels(store, path, who="ana")
    assert (result.recorded, result.changed) == (1, 1)
    assert [(lab.label, lab.previous) for lab in store.labels("C1")] == [(1, None), (0, 1)]


def _alert(store: StateStore, uid: str) -> int:
    alert = store.record_alert(
        detector="flows",
        detector_version=1,
        entity="10.0.0.9",
        event_time=1.7e9,
        score=0.9,
        threshold=0.5,
        event_ref=uid,
    )
    return alert.id


def test_a_verdict_is_a_current_label_and_a_later_label_wins(store, tmp_path):
    alert_id = _alert(store, "CVERDICT")
    store.record_verdict(alert_id, "true_positive", analyst="carol", note="confirmed")
    current = feedback_labels(store).set_index("event_ref")
    row = current.loc["CVERDICT"]
    assert (row["label"], row["who"], row["source"]) == (1, "carol", "verdict")
    assert row["alert_id"] == alert_id and pd.isna(row["previous"]) and row["n_changes"] == 0

    store.record_label("CVERDICT", 0, who="dave", source="review", reason="pentest")
    store.record_label("CVERDICT", 0, who="erin", source="review", reason="agree")
    store.record_label("COTHER", 1, who="dave", source="import:x.csv", reason="")
    current = feedback_labels(store)
    assert list(current["event_ref"]) == ["COTHER", "CVERDICT"]
    row = current.set_index("event_ref").loc["CVERDICT"]
    assert (row["label"], row["who"], row["source"], row["previous"]) == (0, "erin", "review", 0)
    assert (row["n_changes"], row["n_labels"]) == (1, 3)
    assert row["created_at"] > current.set_index("event_ref").loc["COTHER", "created_at"] - 10


def test_feedback_labels_of_an_empty_store_is_an_empty_frame_with_the_columns(store):
    frame = feedback_labels(store)
    assert frame.empty and {"event_ref", "label", "who", "previous", "n_changes"} <= set(frame)


def test_label_shares_per_who_and_source_since_a_time(store):
    for n in range(6):
        store.record_label(f"A{n}", 0, who="mallory", source="import:bulk.csv", reason="")
    store.record_label("A0", 1, who="ana", source="review", reason="")
    cutoff = store.labels()[-1].created_at
    store.record_label("B1", 1, who="ana", source="verdict", reason="")
    store.record_label("A1", 1, who="bob", source="review", reason="")  # flips mallory's 0

    shares = label_shares(store)
    who = shares[shares["kind"] == "who"].set_index("name")
    assert list(who.index) == ["mallory", "ana", "bob"]
    assert who.loc["mallory", "n"] == 6 and who.loc["mallory", "share"] == pytest.approx(6 / 9)
    assert who.loc["mallory", "share_malicious"] == 0 and who.loc["bob", "n_changed"] == 1
    source = shares[shares["kind"] == "source"].set_index("name")
    assert source["share"].sum() == pytest.approx(1.0) and source.loc["review", "n"] == 2

    recent = label_shares(store, since=cutoff)
    assert set(recent.loc[recent["kind"] == "who", "name"]) == {"ana", "bob"}
    assert recent.loc[recent["kind"] == "who", "n"].sum() == 3

    current = label_shares(feedback_labels(store))  # current labels only: 7 events
    assert current.loc[current["kind"] == "who", "n"].sum() == 7
