"""The one JSON error shape, request ids, and the per-request log and metrics.

Every error body is ``{"ok": false, "error": message, "status": code, "request_id": id}``;
every response carries ``X-Request-ID`` equal to that id. An unexpected exception is
logged (with its traceback, server side) and answered with ``"internal error"``.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from seclearn.errors import (
    ConfigError,
    FeatureMismatchError,
    IntegrityError,
    LimitExceededError,
    ModelNotFoundError,
    RecordNotFoundError,
    SchemaError,
    SeclearnError,
)
from seclearn.service._guard import ApiError
from seclearn.service._metrics import ServiceMetrics

log = logging.getLogger("seclearn.service")

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

#: Library errors whose message is about the caller's input, shown as they are.
_SHOWN: tuple[tuple[type[SeclearnError], int], ...] = (
    (FeatureMismatchError, 422),
    (ConfigError, 422),
    (SchemaError, 422),
    (LimitExceededError, 413),
)
#: Library errors answered with a fixed text (their messages name server paths).
_HIDDEN: tuple[tuple[type[SeclearnError], int, str], ...] = (
    (ModelNotFoundError, 404, "model not found"),
    (RecordNotFoundError, 404, "not found"),
    (IntegrityError, 503, "model failed verification; see the server log"),
)


class JSONBody(Response):
    """A JSON response rendered with orjson (numpy values allowed, NaN as null)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY, default=str)


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "")


def error_response(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    rid = request_id(request)
    body = {"ok": False, "error": message, "status": status, "request_id": rid}
    return JSONBody(body, status_code=status, headers={**(headers or {}), REQUEST_ID_HEADER: rid})


def _validation_text(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors()[:5]:
        loc = ".".join(str(p) for p in e.get("loc", ()))
        parts.append(f"{loc}: {e.get('msg', 'invalid')}" if loc else str(e.get("msg", "invalid")))
    return "invalid request: " + "; ".join(parts)


def _seclearn_status(exc: SeclearnError) -> tuple[int, str]:
    for cls, hidden_status, text in _HIDDEN:
        if isinstance(exc, cls):
            return hidden_status, text
    for cls, status in _SHOWN:
        if isinstance(exc, cls):
            return status, str(exc)
    return 500, "internal error"


def install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(request, exc.status, exc.message, exc.headers)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        headers = dict(exc.headers or {})
        return error_response(request, exc.status_code, str(exc.detail), headers)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(request, 422, _validation_text(exc))

    async def on_seclearn(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SeclearnError)
        status, text = _seclearn_status(exc)
        if status >= 500:
            log.error("request %s failed: %s", request_id(request), type(exc).__name__)
        return error_response(request, status, text)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(SeclearnError, on_seclearn)


class RequestContext(BaseHTTPMiddleware):
    """Gives each request an id, turns any escaped exception into a 500, logs and counts it."""

    def __init__(self, app: Any, metrics: ServiceMetrics) -> None:
        super().__init__(app)
        self.metrics = metrics

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        request.state.request_id = sent if _SAFE_ID.fullmatch(sent) else secrets.token_hex(16)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:
            log.exception("request %s: unexpected error", request.state.request_id)
            response = error_response(request, 500, "internal error")
        response.headers[REQUEST_ID_HEADER] = request.state.request_id
        route = getattr(request.scope.get("route"), "path", None) or "unmatched"
        elapsed_s = time.perf_counter() - started
        self.metrics.observe_request(route, request.method, response.status_code, elapsed_s)
        log.info(
            "%s %s %s %.1fms id=%s caller=%s",
            request.method,
            route,
            response.status_code,
            elapsed_s * 1000,
            request.state.request_id,
            getattr(request.state, "caller", "-"),
        )
        return response
