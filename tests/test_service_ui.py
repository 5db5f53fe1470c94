"""The triage pages at /ui: sign-in and sessions, queue, detail, verdicts, CSRF, escaping, CSP."""

from __future__ import annotations

import importlib.util
import re
import socket
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from seclearn.config import load_settings
from seclearn.service import ServiceSettings, create_app, parse_tokens
from seclearn.store import StateStore

ANALYST = "analyst-secret-0123456789abcdef"
SCORER = "scorer-secret-0123456789abcdef"
TOKENS = f"analyst:{ANALYST}:triage;scorer:{SCORER}:score"
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
PLANTED = "<script>alert('x')</script>"
CHROMIUM = Path("/usr/bin/chromium")

#: (entity, score): one alert each, on distinct entities so none is deduplicated.
ALERTS = [
    ("10.0.0.4", 0.60),
    ("10.0.0.2", 0.85),
    ("10.0.0.1", 0.97),
    ("10.0.0.5", 0.30),
    ("10.0.0.3", 0.90),
]


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class FakeCatalog:
    """Serves one described model; scoring is not used by these pages."""

    def describe(self) -> list[dict]:
        return [{"name": "flows", "champion": 3, "threshold": 0.7, "detector": "iforest"}]

    def get(self, name: str):
        raise AssertionError("the UI never loads a model")


@pytest.fixture
def store(tmp_path) -> StateStore:
    db = StateStore(tmp_path / "state.db")
    for n, (entity, score) in enumerate(ALERTS):
        db.record_alert(
            detector="flows",
            detector_version=3,
            entity=entity,
            event_time=1.7e9 + 60 * n,
            score=score,
            threshold=0.5,
            top_features=[
                {"feature": "dst_port_class", "value": "22/ssh", "contribution": 1.2},
                {"feature": "bytes_out", "value": 417, "contribution": -0.6},
            ],
            reason=f"rare port for {entity}",
            raw_event={"src_ip": entity, "user_agent": PLANTED, "dst_port": 22},
        )
    yield db
    db.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(store, clock, tmp_path) -> TestClient:
    settings = ServiceSettings(base=load_settings(tmp_path), tokens=parse_tokens(TOKENS))
    app = create_app(settings, clock=clock, catalog=FakeCatalog(), store=lambda: store)
    return TestClient(app, raise_server_exceptions=False)


def sign_in(client: TestClient, secret: str = ANALYST):
    return client.post("/ui/login", data={"token": secret}, follow_redirects=False)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def queue_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-alert-id="(\d+)"', html)]


def alert_id(store: StateStore, entity: str) -> int:
    return store.list_alerts(entity=entity)[0].id


def api_alert(client: TestClient, alert: int) -> dict:
    response = client.get(f"/v1/alerts/{alert}", headers={"Authorization": f"Bearer {ANALYST}"})
    assert response.status_code == 200, response.text
    return response.json()


# ------------------------------------------------------------------------- sign-in
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/ui"), ("GET", "/ui/alerts/1"), ("POST", "/ui/alerts/1/verdict")],
)
def test_pages_without_a_session_redirect_to_the_login_form(client, method, path):
    response = client.request(method, path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui/login"
    client.cookies.set("seclearn_session", "made-up-session-id", path="/ui")
    response = client.request(method, path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui/login"
    form = client.get("/ui/login")
    assert form.status_code == 200 and 'name="token"' in form.text


@pytest.mark.parametrize("secret", ["not-a-configured-token-at-all", SCORER, ""])
def test_a_wrong_or_unscoped_token_is_401_and_opens_no_session(client, secret):
    response = sign_in(client, secret)
    assert response.status_code == 401
    assert "Sign-in failed." in response.text and 'name="token"' in response.text
    assert "set-cookie" not in response.headers
    assert not secret or secret not in response.text
    assert client.get("/ui", follow_redirects=False).status_code == 303


def test_sign_in_sets_an_httponly_strict_cookie_that_does_not_hold_the_token(client):
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["location"] == "/ui"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("seclearn_session=")
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert ANALYST not in cookie and "analyst" not in cookie.split(";")[0]
    page = client.get("/ui")
    assert page.status_code == 200 and "signed in as analyst" in page.text
    assert ANALYST not in page.text


# --------------------------------------------------------------------------- queue
def test_the_queue_is_sorted_by_severity_then_score_and_filters_work(client, store):
    sign_in(client)
    by_entity = {entity: alert_id(store, entity) for entity, _ in ALERTS}
    expected = [by_entity[e] for e, _ in sorted(ALERTS, key=lambda a: -a[1])]
    page = client.get("/ui")
    assert queue_ids(page.text) == expected
    assert "flows@3" in page.text and "threshold 0.700" in page.text  # models served

    high = client.get("/ui", params={"severity": "high"}).text
    assert queue_ids(high) == [by_entity["10.0.0.3"], by_entity["10.0.0.2"]]
    scored = client.get("/ui", params={"min_score": "0.8"}).text
    assert queue_ids(scored) == expected[:3]
    one = client.get("/ui", params={"entity": "10.0.0.4"}).text
    assert queue_ids(one) == [by_entity["10.0.0.4"]]
    store.record_verdict(by_entity["10.0.0.5"], "false_positive", analyst="someone")
    assert queue_ids(client.get("/ui").text) == expected[:4]  # open alerts by default
    closed = client.get("/ui", params={"status": "closed"}).text
    assert queue_ids(closed) == [by_entity["10.0.0.5"]]
    assert "by someone" in closed  # last verdicts
    bad = client.get("/ui", params={"min_score": "2", "severity": "nope"})
    assert bad.status_code == 422 and "min score must be" in bad.text


def test_the_queue_pages(client, store, monkeypatch):
    monkeypatch.setattr("seclearn.service._ui.PAGE_SIZE", 2)
    sign_in(client)
    first = client.get("/ui").text
    assert len(queue_ids(first)) == 2 and 'rel="next"' in first
    pages = [queue_ids(client.get("/ui", params={"page": p}).text) for p in range(3)]
    flat = [i for p in pages for i in p]
    assert len(flat) == len(set(flat)) == len(ALERTS)


# -------------------------------------------------------------------------- detail
def test_the_detail_page_draws_the_explanation_as_bars_with_the_reason(client, store):
    sign_in(client)
    page = client.get(f"/ui/alerts/{alert_id(store, '10.0.0.1')}")
    assert page.status_code == 200
    assert "rare port for 10.0.0.1" in page.text
    assert 'class="bar-fill pos" style="width: 100.0%"' in page.text
    assert 'class="bar-fill neg" style="width: 50.0%"' in page.text
    assert "dst_port_class" in page.text and "bytes_out" in page.text
    assert "user_agent" in page.text and "No verdicts yet." in page.text
    assert client.get("/ui/alerts/999999").status_code == 404


def test_a_script_planted_in_an_event_field_is_escaped(client, store):
    sign_in(client)
    page = client.get(f"/ui/alerts/{alert_id(store, '10.0.0.1')}").text
    assert PLANTED not in page and "<script" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page


def test_every_page_sends_the_content_security_policy(client, store):
    assert client.get("/ui/login").headers["content-security-policy"] == CSP
    assert sign_in(client).headers["content-security-policy"] == CSP
    for path in ("/ui", f"/ui/alerts/{alert_id(store, '10.0.0.2')}", "/ui/alerts/999999"):
        response = client.get(path)
        assert response.headers["content-security-policy"] == CSP, path
        assert response.headers["x-content-type-options"] == "nosniff"


# ------------------------------------------------------------------------ verdicts
def test_a_verdict_from_the_form_is_recorded_under_the_token_name(client, store):
    sign_in(client)
    target = alert_id(store, "10.0.0.3")
    csrf = csrf_of(client.get(f"/ui/alerts/{target}").text)
    response = client.post(
        f"/ui/alerts/{target}/verdict",
        data={"csrf": csrf, "verdict": "benign_true_positive", "note": "pentest <b>ok</b>"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/ui/alerts/{target}"
    shown = api_alert(client, target)
    assert shown["alert"]["status"] == "closed"
    assert [(v["verdict"], v["analyst"], v["note"]) for v in shown["verdicts"]] == [
        ("benign_true_positive", "analyst", "pentest <b>ok</b>")
    ]
    detail = client.get(f"/ui/alerts/{target}").text
    assert "Benign true positive" in detail and "pentest &lt;b&gt;ok&lt;/b&gt;" in detail


def test_a_verdict_without_the_sessions_csrf_token_is_refused(client, store):
    sign_in(client)
    target = alert_id(store, "10.0.0.2")
    url = f"/ui/alerts/{target}/verdict"
    for form in ({"verdict": "true_positive"}, {"verdict": "true_positive", "csrf": "forged"}):
        response = client.post(url, data=form, follow_redirects=False)
        assert response.status_code == 403
    assert api_alert(client, target)["verdicts"] == []
    csrf = csrf_of(client.get(f"/ui/alerts/{target}").text)
    bad = client.post(url, data={"csrf": csrf, "verdict": "maybe"}, follow_redirects=False)
    assert bad.status_code == 422 and api_alert(client, target)["verdicts"] == []


# ------------------------------------------------------------------------ sessions
def test_logout_ends_the_session(client):
    sign_in(client)
    session_id = client.cookies.get("seclearn_session")
    csrf = csrf_of(client.get("/ui").text)
    assert client.post("/ui/logout", data={}, follow_redirects=False).status_code == 403
    response = client.post("/ui/logout", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui/login"
    client.cookies.set("seclearn_session", session_id, path="/ui")  # replaying the old id
    assert client.get("/ui", follow_redirects=False).status_code == 303


def test_a_session_expires(client, clock):
    sign_in(client)
    assert client.get("/ui", follow_redirects=False).status_code == 200
    clock.t += 8 * 3600 + 1
    assert client.get("/ui", follow_redirects=False).status_code == 303


# ------------------------------------------------------------------------- browser
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(
    importlib.util.find_spec("playwright") is None or not CHROMIUM.exists(),
    reason="needs the playwright package and /usr/bin/chromium for the browser test",
)
def test_an_analyst_records_a_verdict_in_a_real_browser(store, tmp_path):
    import uvicorn
    from playwright.sync_api import sync_playwright

    settings = ServiceSettings(base=load_settings(tmp_path), tokens=parse_tokens(TOKENS))
    app = create_app(settings, catalog=FakeCatalog(), store=lambda: store)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        target = alert_id(store, "10.0.0.1")
        args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
            try:
                page = browser.new_page()
                page.goto(f"{base}/ui")
                assert page.url.endswith("/ui/login")
                page.fill("#token", ANALYST)
                page.click("button[type=submit]")
                page.click(f"a[href='/ui/alerts/{target}']")
                page.fill("#note", "seen in the browser")
                page.click("button[value=true_positive]")
                page.wait_for_url(f"{base}/ui/alerts/{target}")
                assert "seen in the browser" in page.content()
            finally:
                browser.close()
        verdicts = api_alert(TestClient(app), target)["verdicts"]
        assert [(v["verdict"], v["analyst"]) for v in verdicts] == [("true_positive", "analyst")]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
