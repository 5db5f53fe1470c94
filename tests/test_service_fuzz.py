"""Schema-driven fuzzing of the HTTP service, in process: no input yields a 5xx.

Schemathesis generates requests from the app's own OpenAPI document (``app.openapi()``,
served over ASGI, never the network), with a bounded number of examples per operation.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from seclearn.config import load_settings  # noqa: E402
from seclearn.datasets import create_dataset, simulate_enterprise, write_zeek_conn  # noqa: E402
from seclearn.lifecycle import DEMO_START, train_model  # noqa: E402
from seclearn.service import (  # noqa: E402
    ModelCatalog,
    ServiceLimits,
    ServiceSettings,
    create_app,
    parse_tokens,
)
from seclearn.store import StateStore  # noqa: E402

ADMIN = "fuzz-admin-secret-0123456789abcdef"
ERROR_KEYS = {"ok", "error", "status", "request_id"}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    ws = tmp_path_factory.mktemp("ws")
    log = ws.parent / "train.conn.log"
    write_zeek_conn(simulate_enterprise(days=1, hosts=8, seed=5, start=DEMO_START), log)
    base = load_settings(ws)
    create_dataset(ws, "train", [log])
    train_model(ws, "train", "flows", key=base.key())
    service = ServiceSettings(
        base=base,
        tokens=parse_tokens(f"ops:{ADMIN}:admin"),
        limits=ServiceLimits(rate_per_minute=1_000_000),
    )
    app = create_app(
        service,
        catalog=ModelCatalog(ws, base.key),
        store=lambda: StateStore(ws / "state.db"),
    )
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _check(case, headers: dict[str, str]) -> None:
    response = case.call(headers=headers)
    assert response.status_code < 500, (case.method, case.path, response.text)
    assert response.headers.get("x-request-id")
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == ERROR_KEYS and body["status"] == response.status_code
    assert ADMIN not in response.text


def _fuzz(schema, headers: dict[str, str]) -> list[str]:
    """Run every operation's generated cases (bounded, derandomized); the labels run."""
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case):
            _check(case, headers)

        run()
        labels.append(operation.label)
    return labels


def test_no_authorized_request_yields_a_server_error(api_schema):
    labels = _fuzz(api_schema, {"Authorization": f"Bearer {ADMIN}"})
    assert "POST /v1/score" in labels and "POST /v1/alerts/{alert_id}/verdict" in labels


def test_no_anonymous_request_yields_a_server_error(api_schema):
    assert len(_fuzz(api_schema, {})) == 7
