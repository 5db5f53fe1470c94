"""The HTTP routes: each parses, calls one library function, and renders.

No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations at
runtime, and some of them are aliases local to :func:`build_router`.
"""

from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response

from seclearn.config import Limits
from seclearn.errors import RecordNotFoundError
from seclearn.service._catalog import ModelCatalog
from seclearn.service._errors import JSONBody
from seclearn.service._guard import (
    ApiError,
    Principal,
    RateLimiter,
    authenticate,
    check_depth,
    read_body,
)
from seclearn.service._metrics import ServiceMetrics
from seclearn.service._scoring import score_events
from seclearn.service._settings import ServiceSettings
from seclearn.store import SEVERITIES, STATUSES, StateStore

_MAX_ID = 2**63 - 1


class ScoreRequest(BaseModel):
    """``model`` and either ``events`` (a list of flow records) or one ``event``."""

    model_config = ConfigDict(extra="forbid")
    model: str = Field(min_length=1, max_length=64)
    events: list[dict[str, Any]] | None = None
    event: dict[str, Any] | None = None


class VerdictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict: Literal["true_positive", "false_positive", "benign_true_positive"]
    note: str = Field(default="", max_length=4000)


def _body_doc(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _validation_text(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors(include_input=False)[:5]:
        loc = ".".join(str(p) for p in e.get("loc", ()))
        parts.append(f"{loc}: {e['msg']}" if loc else e["msg"])
    return "invalid request: " + "; ".join(parts)


async def parse_body(request: Request, model: type[BaseModel], settings: ServiceSettings) -> Any:
    """Read (capped), check the depth, parse and validate a JSON body, in that order."""
    body = await read_body(request, settings.limits.max_body_bytes)
    check_depth(body, settings.limits.max_json_depth)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ApiError(400, "malformed JSON body") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, _validation_text(exc)) from None


def build_router(
    settings: ServiceSettings,
    *,
    catalog: ModelCatalog,
    store: Callable[[], StateStore],
    limiter: RateLimiter,
    metrics: ServiceMetrics,
) -> APIRouter:
    """The routes of one app, bound to its settings, models, store, limiter and metrics."""
    router = APIRouter(default_response_class=JSONBody)
    bearer = HTTPBearer(auto_error=False, description="NAME:SECRET:SCOPES tokens; send the SECRET")

    def require(scope: str) -> Callable[..., Principal]:
        def check(
            request: Request,
            _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        ) -> Principal:
            try:
                token = authenticate(settings.tokens, request.headers.get("authorization"))
            except ApiError:
                # failed attempts share one budget per client address: no cheap guessing
                limiter.take(f"unauthenticated:{request.client.host if request.client else '-'}")
                raise
            request.state.caller = token.name
            if not token.allows(scope):
                raise ApiError(403, f"this token lacks the {scope!r} scope")
            limiter.take(token.name)
            return Principal(token.name, token.scopes)

        return check

    def get_store() -> StateStore:
        return store()

    Store = Annotated[StateStore, Depends(get_store)]
    parse_limits = Limits(max_json_depth=settings.limits.max_json_depth)

    @router.get("/healthz")
    def healthz() -> dict[str, Any]:
        """Liveness: open to everyone, says nothing about the models."""
        return {"ok": True, "status": "up"}

    @router.get("/metrics", response_class=Response)
    def prometheus(_: Annotated[Principal, Depends(require("admin"))]) -> Response:
        """Prometheus text exposition of this app's metrics (admin scope)."""
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @router.get("/v1/models")
    def models(_: Annotated[Principal, Depends(require("score"))]) -> dict[str, Any]:
        """Served models, each with its champion (newest) version."""
        return {"ok": True, "models": catalog.describe()}

    @router.post("/v1/score", openapi_extra=_body_doc(ScoreRequest))
    async def score(
        request: Request, _: Annotated[Principal, Depends(require("score"))], db: Store
    ) -> dict[str, Any]:
        """Score posted flow records; positive decisions become alerts in the state store."""
        body = await parse_body(request, ScoreRequest, settings)
        if (body.events is None) == (body.event is None):
            raise ApiError(422, "invalid request: send exactly one of 'events' or 'event'")
        events = body.events if body.events is not None else [body.event]
        if len(events) > settings.limits.max_events:
            raise ApiError(413, f"more than {settings.limits.max_events} events in one request")
        served = await run_in_threadpool(catalog.get, body.model)
        result = await run_in_threadpool(
            score_events,
            served,
            events,
            store=db,
            limits=parse_limits,
            explain_top_k=settings.explain_top_k,
        )
        for row in result["results"]:
            metrics.scores.labels(model=served.name).observe(row["score"])
        metrics.alerts.labels(model=served.name).inc(result["alerts"])
        metrics.quarantined.labels(model=served.name).inc(len(result["quarantined"]))
        return result

    @router.get("/v1/alerts")
    def alerts(
        _: Annotated[Principal, Depends(require("triage"))],
        db: Store,
        status: Annotated[Literal[STATUSES] | None, Query()] = None,  # type: ignore[valid-type]
        severity: Annotated[Literal[SEVERITIES] | None, Query()] = None,  # type: ignore[valid-type]
        min_score: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
        entity: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
        detector: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
        since: Annotated[float | None, Query(description="epoch seconds", ge=0, le=1e11)] = None,
        until: Annotated[float | None, Query(description="epoch seconds", ge=0, le=1e11)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    ) -> dict[str, Any]:
        """Alerts matching every filter, most severe first; page with limit and offset."""
        found = db.list_alerts(
            status=status,
            severity=severity,
            min_score=min_score,
            entity=entity,
            detector=detector,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )
        return {
            "ok": True,
            "alerts": [a.to_dict() for a in found],
            "limit": limit,
            "offset": offset,
        }

    AlertId = Annotated[int, Path(ge=1, le=_MAX_ID)]

    @router.get("/v1/alerts/{alert_id}")
    def alert(
        alert_id: AlertId, _: Annotated[Principal, Depends(require("triage"))], db: Store
    ) -> dict[str, Any]:
        """One alert and its verdicts, oldest first."""
        try:
            found = db.get_alert(alert_id)
            verdicts = db.verdicts(alert_id)
        except RecordNotFoundError:
            raise ApiError(404, f"no alert {alert_id}") from None
        return {
            "ok": True,
            "alert": found.to_dict(),
            "verdicts": [asdict(v) for v in verdicts],
        }

    @router.post("/v1/alerts/{alert_id}/verdict", openapi_extra=_body_doc(VerdictRequest))
    async def verdict(
        alert_id: AlertId,
        request: Request,
        who: Annotated[Principal, Depends(require("triage"))],
        db: Store,
    ) -> dict[str, Any]:
        """Record the caller's verdict on an alert (closing it); the analyst is the token name."""
        body = await parse_body(request, VerdictRequest, settings)
        try:
            recorded = await run_in_threadpool(
                db.record_verdict, alert_id, body.verdict, analyst=who.name, note=body.note
            )
        except RecordNotFoundError:
            raise ApiError(404, f"no alert {alert_id}") from None
        metrics.verdicts.labels(verdict=recorded.verdict).inc()
        return {"ok": True, "verdict": asdict(recorded)}

    return router
