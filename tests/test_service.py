"""The HTTP service: auth, routes, limits, the one error shape, metrics, no leaked tokens."""

from __future__ import annotations

import logging
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from seclearn.config import load_settings
from seclearn.datasets import create_dataset, simulate_enterprise, write_zeek_conn
from seclearn.errors import ConfigError
from seclearn.lifecycle import DEMO_START, train_model
from seclearn.service import (
    ModelCatalog,
    ServiceLimits,
    ServiceSettings,
    create_app,
    load_service_settings,
    parse_tokens,
)
from seclearn.store import StateStore

SCORER = "scorer-secret-0123456789abcdef"
ANALYST = "analyst-secret-0123456789abcdef"
ADMIN = "admin-secret-0123456789abcdef:with-colon"
SECRETS = (SCORER, ANALYST, ADMIN)
TOKENS = f"scorer:{SCORER}:score;analyst:{ANALYST}:triage;ops:{ADMIN}:admin"

#: One request per protected route, and the scope it needs.
PROTECTED = [
    ("POST", "/v1/score", "score"),
    ("GET", "/v1/models", "score"),
    ("GET", "/v1/alerts", "triage"),
    ("GET", "/v1/alerts/1", "triage"),
    ("POST", "/v1/alerts/1/verdict", "triage"),
    ("GET", "/metrics", "admin"),
]
ERROR_KEYS = {"ok", "error", "status", "request_id"}


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def assert_error(response, status: int) -> dict:
    """The one error shape, with the X-Request-ID header equal to the body's id."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert body["request_id"] and response.headers["x-request-id"] == body["request_id"]
    return body


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A workspace with one signed model, ``flows``, trained on a simulated day."""
    ws = tmp_path_factory.mktemp("ws")
    train = ws.parent / "train.conn.log"
    write_zeek_conn(simulate_enterprise(days=1, hosts=12, seed=22, start=DEMO_START), train)
    settings = load_settings(ws)
    create_dataset(settings.workspace, "train", [train])
    train_model(settings.workspace, "train", "flows", key=settings.key())
    return ws, ModelCatalog(ws, settings.key)


@pytest.fixture(scope="module")
def events():
    """Flow records of another simulated day: attacks first, then benign traffic."""
    frame = simulate_enterprise(days=1, hosts=12, seed=21, start=DEMO_START)
    attacks = frame[frame["label"] == 1].head(40)
    benign = frame[frame["label"] == 0].head(40)
    rows = [*attacks.to_dict("records"), *benign.to_dict("records")]
    out = []
    for row in rows:
        row = {k: v for k, v in row.items() if k not in ("label", "attack_type") and v == v}
        out.append(orjson.loads(orjson.dumps(row, default=str)))
    return out


@pytest.fixture
def make_client(served, tmp_path):
    """Build a client on a fresh state database; keyword arguments tune the settings."""
    ws, catalog = served

    def make(clock=None, store=None, catalog_=None, **limits) -> TestClient:
        settings = ServiceSettings(
            base=load_settings(ws), tokens=parse_tokens(TOKENS), limits=ServiceLimits(**limits)
        )
        app = create_app(
            settings,
            clock=clock or FakeClock(),
            catalog=catalog_ or catalog,
            store=store or (lambda: StateStore(tmp_path / "state.db")),
        )
        return TestClient(app, raise_server_exceptions=False)

    return make


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


def score(client: TestClient, events: list[dict], model: str = "flows"):
    return client.post("/v1/score", json={"model": model, "events": events}, headers=auth(SCORER))


# --------------------------------------------------------------------------- settings
def test_tokens_parse_from_the_environment_format():
    tokens = {t.name: t for t in parse_tokens(TOKENS)}
    assert tokens["scorer"].scopes == {"score"} and tokens["ops"].scopes == {"admin"}
    assert tokens["ops"].allows("triage") and not tokens["scorer"].allows("triage")
    assert all(s not in repr(tokens) for s in SECRETS)


@pytest.mark.parametrize(
    "text",
    ["alice:short:score", "alice:0123456789abcdef:root", "alice:0123456789abcdef", ":x:score"],
)
def test_bad_token_entries_are_refused_without_echoing_the_secret(text):
    with pytest.raises(ConfigError) as info:
        parse_tokens(text)
    assert "0123456789abcdef" not in str(info.value) and "short" not in str(info.value)


def test_service_settings_come_from_the_environment(tmp_path):
    env = {
        "SECLEARN_TOKENS": TOKENS,
        "SECLEARN_MODELS": "flows, other",
        "SECLEARN_RATE_PER_MINUTE": "5",
    }
    settings = load_service_settings(tmp_path, env)
    assert settings.workspace == tmp_path and settings.models == ("flows", "other")
    assert settings.limits.rate_per_minute == 5 and len(settings.tokens) == 3
    assert load_service_settings(tmp_path, {}).tokens == ()  # closed by default
    with pytest.raises(ConfigError):
        load_service_settings(tmp_path, {"SECLEARN_RATE_PER_MINUTE": "fast"})


# ------------------------------------------------------------------------------- auth
def test_healthz_is_open(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["ok"] is True
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(("method", "path", "scope"), PROTECTED)
def test_a_missing_or_wrong_token_is_refused_with_401(client, method, path, scope):
    for headers in ({}, auth("not-a-configured-token-at-all"), {"Authorization": "Basic abc"}):
        response = client.request(method, path, headers=headers)
        assert_error(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "scope"), PROTECTED)
def test_a_token_without_the_scope_is_refused_with_403(client, method, path, scope):
    wrong = ANALYST if scope == "score" else SCORER
    assert_error(client.request(method, path, headers=auth(wrong)), 403)


@pytest.mark.parametrize(("method", "path", "scope"), PROTECTED)
def test_the_admin_token_passes_auth_on_every_route(client, method, path, scope):
    response = client.request(method, path, headers=auth(ADMIN))
    assert response.status_code not in (401, 403), response.text


def test_no_configured_tokens_means_every_protected_route_refuses(served, tmp_path):
    ws, catalog = served
    app = create_app(ServiceSettings(base=load_settings(ws)), catalog=catalog)
    with TestClient(app) as c:
        for method, path, _ in PROTECTED:
            assert_error(c.request(method, path, headers=auth(SCORER)), 401)
        assert c.get("/healthz").status_code == 200


# ------------------------------------------------------------------------------ score
def test_a_scored_batch_records_its_alerts_and_lists_them(client, events):
    response = score(client, events)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True and body["model"]["name"] == "flows"
    assert body["scored"] == len(events) and body["quarantined"] == []
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(events)))
    for r in results:
        assert 0.0 <= r["score"] <= 1.0 and r["severity"] in ("low", "medium", "high", "critical")
        assert len(r["top_features"]) == 3 and r["reason"]
        assert (r["alert_id"] is not None) == r["decision"]
    attacks, benign = results[:40], results[40:]
    assert sum(r["decision"] for r in attacks) > sum(r["decision"] for r in benign)
    ids = {r["alert_id"] for r in results if r["alert_id"] is not None}
    assert ids and body["alerts"] == sum(r["decision"] for r in results)

    listed = client.get("/v1/alerts", params={"limit": 1000}, headers=auth(ANALYST)).json()
    assert {a["id"] for a in listed["alerts"]} == ids
    one = client.get(f"/v1/alerts/{min(ids)}", headers=auth(ANALYST)).json()
    assert one["alert"]["detector"] == "flows" and one["alert"]["status"] == "open"
    assert one["verdicts"] == []


def test_one_event_can_be_posted_alone(client, events):
    response = client.post(
        "/v1/score", json={"model": "flows", "event": events[0]}, headers=auth(SCORER)
    )
    assert response.status_code == 200 and response.json()["scored"] == 1


def test_bad_events_are_quarantined_with_their_reasons_and_the_rest_scored(client, events):
    bad = {"ts": "yesterday", "src_ip": "10.0.0.5", "dst_port": 22}
    response = score(client, [events[0], bad, events[1]])
    body = response.json()
    assert response.status_code == 200 and body["scored"] == 2
    assert [r["index"] for r in body["results"]] == [0, 2]
    assert len(body["quarantined"]) == 1 and body["quarantined"][0]["index"] == 1
    assert "ts 'yesterday'" in body["quarantined"][0]["reason"]


def test_an_unknown_model_is_404(client, events):
    for name in ("nope", "../../etc", "FLOWS"):
        assert_error(score(client, events[:1], model=name), 404)


def test_both_or_neither_of_event_and_events_is_422(client, events):
    assert_error(client.post("/v1/score", json={"model": "flows"}, headers=auth(SCORER)), 422)
    body = {"model": "flows", "event": events[0], "events": events[:1]}
    assert_error(client.post("/v1/score", json=body, headers=auth(SCORER)), 422)
    body = {"model": "flows", "events": [1, 2]}
    assert_error(client.post("/v1/score", json=body, headers=auth(SCORER)), 422)


# --------------------------------------------------------------------- alerts, verdicts
def test_alerts_page_without_overlap_and_filter(client, events):
    score(client, events)
    everything = client.get("/v1/alerts", params={"limit": 1000}, headers=auth(ANALYST))
    alerts = everything.json()["alerts"]
    assert len(alerts) >= 3
    pages = [
        client.get("/v1/alerts", params={"limit": 2, "offset": o}, headers=auth(ANALYST)).json()
        for o in range(0, len(alerts), 2)
    ]
    paged = [a["id"] for p in pages for a in p["alerts"]]
    assert paged == [a["id"] for a in alerts]
    entity = alerts[0]["entity"]
    mine = client.get("/v1/alerts", params={"entity": entity}, headers=auth(ANALYST)).json()
    assert mine["alerts"] and all(a["entity"] == entity for a in mine["alerts"])
    high = client.get("/v1/alerts", params={"min_score": 0.99}, headers=auth(ANALYST)).json()
    assert all(a["score"] >= 0.99 for a in high["alerts"])
    none = client.get("/v1/alerts", params={"detector": "other"}, headers=auth(ANALYST)).json()
    assert none["alerts"] == []
    late = client.get("/v1/alerts", params={"since": 4e9}, headers=auth(ANALYST)).json()
    assert late["alerts"] == []
    for bad in ({"limit": 0}, {"offset": -1}, {"status": "pending"}, {"min_score": 2}):
        assert_error(client.get("/v1/alerts", params=bad, headers=auth(ANALYST)), 422)


def test_a_verdict_is_recorded_with_the_token_name_and_the_previous_value(client, events):
    alert_id = next(r["alert_id"] for r in score(client, events).json()["results"] if r["alert_id"])
    url = f"/v1/alerts/{alert_id}/verdict"
    first = client.post(url, json={"verdict": "true_positive", "note": "c2"}, headers=auth(ANALYST))
    assert first.status_code == 200, first.text
    assert first.json()["verdict"]["analyst"] == "analyst"
    assert first.json()["verdict"]["previous"] is None
    second = client.post(url, json={"verdict": "benign_true_positive"}, headers=auth(ADMIN))
    assert second.json()["verdict"] | {"created_at": 0, "id": 0} == {
        "id": 0,
        "alert_id": alert_id,
        "verdict": "benign_true_positive",
        "previous": "true_positive",
        "analyst": "ops",
        "note": "",
        "created_at": 0,
    }
    shown = client.get(f"/v1/alerts/{alert_id}", headers=auth(ANALYST)).json()
    assert shown["alert"]["status"] == "closed"
    assert [v["verdict"] for v in shown["verdicts"]] == ["true_positive", "benign_true_positive"]
    bad = client.post(url, json={"verdict": "maybe"}, headers=auth(ANALYST))
    assert_error(bad, 422)
    gone = client.post(
        "/v1/alerts/999999/verdict", json={"verdict": "false_positive"}, headers=auth(ANALYST)
    )
    assert_error(gone, 404)
    assert_error(client.get("/v1/alerts/999999", headers=auth(ANALYST)), 404)


# ---------------------------------------------------------------------- models, metrics
def test_models_are_listed_with_their_champion_version(client):
    body = client.get("/v1/models", headers=auth(SCORER)).json()
    assert [m["name"] for m in body["models"]] == ["flows"]
    model = body["models"][0]
    assert model["champion"] == 1 and model["versions"] == [1]
    assert model["signature"] == "valid" and 0 < model["threshold"] < 1
    assert "path" not in model


def _sample(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        named = line.startswith(name + "{") or line.startswith(name + " ")
        if named and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_count_requests_scores_alerts_and_verdicts(client, events):
    before = client.get("/metrics", headers=auth(ADMIN)).text
    assert _sample(before, "seclearn_alerts_total") == 0
    body = score(client, events).json()
    alert_id = next(r["alert_id"] for r in body["results"] if r["alert_id"])
    client.post(
        f"/v1/alerts/{alert_id}/verdict", json={"verdict": "false_positive"}, headers=auth(ANALYST)
    )
    client.get("/v1/alerts", headers={})
    text = client.get("/metrics", headers=auth(ADMIN)).text
    assert _sample(text, "seclearn_http_requests_total", route="/v1/score", status="200") == 1
    assert _sample(text, "seclearn_http_requests_total", route="/v1/alerts", status="401") == 1
    assert _sample(text, "seclearn_scores_count", model="flows") == len(events)
    assert _sample(text, "seclearn_alerts_total", model="flows") == body["alerts"]
    assert _sample(text, "seclearn_verdicts_total", verdict="false_positive") == 1
    assert _sample(text, "seclearn_http_request_duration_seconds_count", route="/v1/score") == 1


def test_each_app_has_its_own_metrics(make_client):
    a, b = make_client(), make_client()
    a.get("/healthz")
    text = b.get("/metrics", headers=auth(ADMIN)).text
    assert _sample(text, "seclearn_http_requests_total", route="/healthz") == 0


# ------------------------------------------------------------------------------ limits
def test_a_body_over_the_limit_is_413_with_or_without_content_length(make_client, events):
    client = make_client(max_body_bytes=4096)
    big = orjson.dumps({"model": "flows", "events": events})
    assert len(big) > 4096
    headers = {**auth(SCORER), "Content-Type": "application/json"}
    assert_error(client.post("/v1/score", content=big, headers=headers), 413)

    def chunks():
        for i in range(0, len(big), 1000):
            yield big[i : i + 1000]

    streamed = client.post("/v1/score", content=chunks(), headers=headers)
    assert "content-length" not in streamed.request.headers
    assert_error(streamed, 413)
    lying = client.post("/v1/score", content=big, headers={**headers, "Content-Length": "10"})
    assert lying.status_code in (400, 413, 422)


@pytest.mark.parametrize("depth", [33, 1000, 200_000])
def test_deep_json_is_422(client, depth):
    body = b'{"model": "flows", "event": ' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"
    if len(body) > 1024 * 1024:
        body = b"[" * depth
    assert_error(client.post("/v1/score", content=body, headers=auth(SCORER)), 422)


def test_brackets_inside_strings_do_not_count_as_depth(client, events):
    event = {**events[0], "history": "[[[[" * 20 + '\\"{{{{' * 20}
    response = client.post(
        "/v1/score", json={"model": "flows", "event": event}, headers=auth(SCORER)
    )
    assert response.status_code == 200, response.text


def test_too_many_events_is_413(make_client, events):
    client = make_client(max_events=5)
    assert_error(score(client, events[:6]), 413)
    assert score(client, events[:5]).status_code == 200


def test_the_rate_limit_is_429_with_retry_after_and_recovers(make_client):
    clock = FakeClock()
    client = make_client(clock=clock, rate_per_minute=3)
    for _ in range(3):
        assert client.get("/v1/models", headers=auth(SCORER)).status_code == 200
    refused = client.get("/v1/models", headers=auth(SCORER))
    assert_error(refused, 429)
    assert int(refused.headers["retry-after"]) == 20
    assert client.get("/v1/alerts", headers=auth(ANALYST)).status_code == 200  # per token
    clock.t += 20
    assert client.get("/v1/models", headers=auth(SCORER)).status_code == 200


def test_failed_auth_attempts_are_rate_limited_per_client(make_client):
    client = make_client(rate_per_minute=3)
    for _ in range(3):
        assert_error(client.get("/v1/models", headers=auth("guess-" + "x" * 20)), 401)
    refused = client.get("/v1/models", headers=auth("guess-" + "y" * 20))
    assert_error(refused, 429)
    assert int(refused.headers["retry-after"]) >= 1
    assert client.get("/v1/models", headers=auth(SCORER)).status_code == 200


def test_creating_an_app_and_probing_it_writes_nothing(tmp_path):
    app = create_app(ServiceSettings(base=load_settings(tmp_path / "ws")))
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200
        assert_error(c.get("/v1/alerts"), 401)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("body", [b"{", b"not json", b'{"model": "flows", "events": [}', b"\xff"])
def test_malformed_json_is_400_in_the_error_shape(client, body):
    assert_error(client.post("/v1/score", content=body, headers=auth(SCORER)), 400)


# ----------------------------------------------------------------- errors, request ids
class _Boom:
    def __getattr__(self, name):
        raise RuntimeError("/very/secret/internal/path.db is on fire")


def test_an_unexpected_exception_is_500_without_internal_text(make_client, served, events):
    def failing_loader(*args, **kwargs):
        raise RuntimeError("/very/secret/internal/path.db is on fire")

    client = make_client(store=lambda: _Boom())
    for response in (
        client.get("/v1/alerts", headers=auth(ANALYST)),
        client.get("/v1/alerts/1", headers=auth(ANALYST)),
        score(client, events[:5]),
    ):
        body = assert_error(response, 500)
        assert body["error"] == "internal error" and "secret" not in response.text
    ws, _ = served
    broken = make_client(catalog_=ModelCatalog(ws, lambda: b"k" * 32, loader=failing_loader))
    response = score(broken, events[:1])
    assert assert_error(response, 500)["error"] == "internal error"
    assert "secret" not in response.text


def test_a_model_signed_with_another_key_is_refused_without_detail(make_client, served, events):
    ws, _ = served
    client = make_client(catalog_=ModelCatalog(ws, lambda: b"another-key-0123456789"))
    body = assert_error(score(client, events[:1]), 503)
    assert str(ws) not in body["error"]


ROUTE_ERRORS = [
    ("GET", "/healthz", {}, None, 405, "POST"),
    ("GET", "/nowhere", {}, None, 404, "GET"),
    ("POST", "/v1/score", auth(SCORER), b"[]", 422, "POST"),
    ("GET", "/v1/models", {}, None, 401, "GET"),
    ("GET", "/v1/alerts", auth(ANALYST), None, 422, "GET?limit=x"),
    ("GET", "/v1/alerts/0", auth(ANALYST), None, 422, "GET"),
    ("GET", "/v1/alerts/abc", auth(ANALYST), None, 422, "GET"),
    ("POST", "/v1/alerts/1/verdict", auth(ANALYST), b"{}", 422, "POST"),
    ("GET", "/metrics", auth(SCORER), None, 403, "GET"),
]


@pytest.mark.parametrize(("method", "path", "headers", "body", "status", "how"), ROUTE_ERRORS)
def test_every_route_answers_errors_in_the_one_shape(
    client, method, path, headers, body, status, how
):
    verb, _, query = how.partition("?")
    url = f"{path}?{query}" if query else path
    response = client.request(verb, url, headers=headers, content=body)
    assert_error(response, status)


def test_a_safe_request_id_is_echoed_and_an_unsafe_one_replaced(client):
    ok = client.get("/healthz", headers={"X-Request-ID": "abc-123.x"})
    assert ok.headers["x-request-id"] == "abc-123.x"
    bad = client.get("/v1/models", headers={"X-Request-ID": "<script>" + "x" * 100})
    body = assert_error(bad, 401)
    assert "<script>" not in body["request_id"] and len(body["request_id"]) == 32


def test_tokens_never_appear_in_responses_or_logs(make_client, events, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(rate_per_minute=4)
    seen = []
    for secret in (*SECRETS, SCORER + "x", "wrong-" + ANALYST):
        headers = {**auth(secret), "X-Request-ID": "req-1"}
        for method, path, _ in PROTECTED:
            seen.append(client.request(method, path, headers=headers))
        seen.append(score(client, events[:3]))
    seen.append(client.post("/v1/score", content=b"{", headers=auth(SCORER)))
    text = "\n".join(r.text + str(dict(r.headers)) for r in seen)
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert any("caller=scorer" in m for m in logged.splitlines())
    for secret in SECRETS:
        for part in secret.split(":"):
            assert part not in text and part not in logged


def test_the_default_store_is_the_workspace_state_db(served, events):
    ws, catalog = served
    settings = ServiceSettings(base=load_settings(ws), tokens=parse_tokens(TOKENS))
    with TestClient(create_app(settings, catalog=catalog)) as c:
        assert score(c, events[:40]).json()["alerts"] > 0
    assert (Path(ws) / "state.db").exists()


def test_every_service_setting_is_documented():
    import seclearn.service as service

    doc = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text()
    names = [getattr(service, n) for n in service.__all__ if n.startswith("ENV_")]
    assert len(names) == 3 and all(f"`{n}`" in doc for n in names), names
