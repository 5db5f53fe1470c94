"""The triage UI's review page: session, CSRF, labels with provenance, escaping, CSP."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from seclearn.config import load_settings
from seclearn.service import ServiceSettings, create_app, parse_tokens
from seclearn.store import StateStore, replace_review_queue, review_items
from test_service_ui import FakeCatalog, FakeClock

ANALYST = "analyst-secret-0123456789abcdef"
SCORER = "scorer-secret-0123456789abcdef"
TOKENS = f"analyst:{ANALYST}:triage;scorer:{SCORER}:score"
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
PLANTED = "<script>alert('x')</script>"


@pytest.fixture
def store(tmp_path):
    db = StateStore(tmp_path / "state.db")
    replace_review_queue(
        db,
        "flows",
        [
            {
                "event_ref": f"C{n}",
                "score": 0.48 + 0.01 * n,
                "threshold": 0.5,
                "uncertainty": 0.02 * n,
                "cluster": n % 2,
                "rank": n,
                "reason": f"near the threshold {PLANTED}",
                "raw_event": {"uid": f"C{n}", "src_ip": "10.0.0.7", "user_agent": PLANTED},
            }
            for n in range(1, 4)
        ],
    )
    yield db
    db.close()


@pytest.fixture
def client(store, tmp_path) -> TestClient:
    settings = ServiceSettings(base=load_settings(tmp_path), tokens=parse_tokens(TOKENS))
    app = create_app(settings, clock=FakeClock(), catalog=FakeCatalog(), store=lambda: store)
    return TestClient(app, raise_server_exceptions=False)


def sign_in(client: TestClient) -> None:
    response = client.post("/ui/login", data={"token": ANALYST}, follow_redirects=False)
    assert response.status_code == 303


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def item_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-review-id="(\d+)"', html)]


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/ui/review"), ("POST", "/ui/review/1/label")]
)
def test_the_review_page_needs_a_session(client, store, method, path):
    response = client.request(method, path, data={"label": "malicious"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui/login"
    assert store.labels() == []


def test_the_queue_page_links_to_the_review_page(client):
    sign_in(client)
    assert 'href="/ui/review"' in client.get("/ui").text


def test_open_items_are_listed_by_rank_with_hostile_text_escaped(client, store):
    sign_in(client)
    response = client.get("/ui/review")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP
    html = response.text
    assert item_ids(html) == [i.id for i in review_items(store)]
    assert PLANTED not in html and "&lt;script&gt;" in html
    assert "0.490" in html and "0.500" in html  # score and threshold
    assert 'value="malicious"' in html and 'value="benign"' in html


@pytest.mark.parametrize("csrf", [None, "", "forged-token"])
def test_a_label_without_the_sessions_csrf_token_is_refused_and_records_nothing(
    client, store, csrf
):
    sign_in(client)
    client.get("/ui/review")
    item = review_items(store)[0]
    data = {"label": "malicious"} | ({} if csrf is None else {"csrf": csrf})
    response = client.post(f"/ui/review/{item.id}/label", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert store.labels() == [] and len(review_items(store)) == 3


def test_a_label_is_recorded_as_the_analysts_and_the_item_leaves_the_queue(client, store):
    sign_in(client)
    page = client.get("/ui/review").text
    first = item_ids(page)[0]
    response = client.post(
        f"/ui/review/{first}/label",
        data={"csrf": csrf_of(page), "label": "benign", "note": "backup job"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/ui/review"
    assert response.headers["content-security-policy"] == CSP
    [label] = store.labels()
    assert (label.event_ref, label.label, label.who, label.source) == ("C1", 0, "analyst", "review")
    assert "backup job" in label.reason and label.previous is None
    after = client.get("/ui/review").text
    assert first not in item_ids(after) and len(item_ids(after)) == 2

    again = client.post(
        f"/ui/review/{first}/label",
        data={"csrf": csrf_of(after), "label": "malicious"},
        follow_redirects=False,
    )
    assert again.status_code == 409 and len(store.labels()) == 1
    store.verify_audit()


def test_a_bad_label_or_unknown_item_is_refused(client, store):
    sign_in(client)
    page = client.get("/ui/review").text
    csrf, first = csrf_of(page), item_ids(page)[0]
    bad = client.post(f"/ui/review/{first}/label", data={"csrf": csrf, "label": "maybe"})
    assert bad.status_code == 422
    long_note = client.post(
        f"/ui/review/{first}/label", data={"csrf": csrf, "label": "benign", "note": "x" * 4001}
    )
    assert long_note.status_code == 422
    missing = client.post("/ui/review/999/label", data={"csrf": csrf, "label": "benign"})
    assert missing.status_code == 404
    assert store.labels() == []


def test_an_empty_queue_says_how_to_build_one(client, store):
    replace_review_queue(store, "flows", [])
    sign_in(client)
    html = client.get("/ui/review").text
    assert item_ids(html) == [] and "seclearn review MODEL DATA --store" in html
