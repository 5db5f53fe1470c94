"""The analyst triage pages at ``/ui``: server-rendered from the same library calls as the API.

Sign-in takes a bearer token's secret in a form and checks it exactly as the API does
(:func:`~seclearn.service._guard.authenticate`, triage scope). The browser then holds
only an opaque random session id, in an ``HttpOnly; SameSite=Strict`` cookie; the
session (token name, CSRF token, expiry) lives in this app's memory, in a
:class:`SessionBook`. Every form that changes something carries the session's CSRF
token, compared with ``hmac.compare_digest``.

The review page (:mod:`~seclearn.service._ui_review`) lists the active-learning
queue with the same session and CSRF checks.

Pages are self-contained (inline CSS, no script) and sent with a strict
Content-Security-Policy; Jinja2 autoescapes every value taken from the data.

No ``from __future__ import annotations`` here, for the reason given in ``_routes.py``.
"""

import hashlib
import hmac
import math
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

import jinja2
from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from seclearn.errors import RecordNotFoundError, SeclearnError
from seclearn.service._catalog import ModelCatalog
from seclearn.service._guard import ApiError, Clock, RateLimiter, authenticate, read_body
from seclearn.service._metrics import ServiceMetrics
from seclearn.service._settings import ServiceSettings
from seclearn.service._ui_review import add_review_routes
from seclearn.store import SEVERITIES, STATUSES, VERDICT_LABELS, StateStore

SESSION_COOKIE = "seclearn_session"
#: Sent with every /ui response.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
PAGE_SIZE = 50
_MAX_ID = 2**63 - 1
_MAX_NOTE_CHARS = 4000
_MAX_OPEN_COUNTED = 10_000
_VERDICT_TEXT = {
    "true_positive": "True positive",
    "false_positive": "False positive",
    "benign_true_positive": "Benign true positive",
}


@dataclass(frozen=True)
class Session:
    """A signed-in analyst: the token's name (never its secret) and the form token."""

    name: str
    csrf: str
    expires_at: float


class SessionBook:
    """Sessions of one app, in memory, keyed by a digest of their random id.

    A session lasts ``ttl_s`` seconds of ``clock`` from sign-in; expired sessions are
    dropped when looked up or when a new one is opened. At most ``max_sessions`` are
    kept (the oldest go first).
    """

    def __init__(self, clock: Clock, ttl_s: float = 8 * 3600.0, max_sessions: int = 10_000):
        self.clock = clock
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self._sessions: dict[bytes, Session] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(session_id: str) -> bytes:
        return hashlib.sha256(session_id.encode("utf-8", errors="surrogatepass")).digest()

    def open(self, name: str) -> str:
        """A new session for token ``name``; returns its id (what the cookie holds)."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            for key in [k for k, s in self._sessions.items() if s.expires_at <= now]:
                del self._sessions[key]
            while len(self._sessions) >= self.max_sessions:
                del self._sessions[next(iter(self._sessions))]
            self._sessions[self._key(session_id)] = Session(
                name=name, csrf=secrets.token_urlsafe(32), expires_at=now + self.ttl_s
            )
        return session_id

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, or None (unknown, empty or expired)."""
        if not session_id:
            return None
        key = self._key(session_id)
        with self._lock:
            found = self._sessions.get(key)
            if found is not None and found.expires_at <= self.clock():
                del self._sessions[key]
                return None
            return found

    def close(self, session_id: str | None) -> None:
        if session_id:
            with self._lock:
                self._sessions.pop(self._key(session_id), None)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("seclearn.service", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = format_time
    env.filters["score"] = lambda v: "n/a" if v is None else f"{float(v):.3f}"
    env.filters["verdict_text"] = lambda v: _VERDICT_TEXT.get(v, v or "")
    return env


def format_time(epoch_s: float | None) -> str:
    """Epoch seconds as ``YYYY-MM-DD HH:MM:SS`` UTC (``n/a`` for none or out of range)."""
    if epoch_s is None or not math.isfinite(epoch_s):
        return "n/a"
    try:
        return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return "n/a"


def contribution_bars(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Top features with a bar width in percent of the largest |contribution|, and a side."""
    values = []
    for f in features:
        try:
            values.append(float(f.get("contribution", 0.0)))
        except (TypeError, ValueError):
            values.append(0.0)
    values = [v if math.isfinite(v) else 0.0 for v in values]
    largest = max((abs(v) for v in values), default=0.0) or 1.0
    return [
        {
            "feature": str(f.get("feature", "")),
            "value": f.get("value"),
            "contribution": v,
            "width_pct": round(100.0 * abs(v) / largest, 1),
            "side": "pos" if v >= 0 else "neg",
        }
        for f, v in zip(features, values, strict=True)
    ]


@dataclass(frozen=True)
class QueueFilters:
    """The queue's GET form: status (``any`` for all), severity, minimum score, entity, page."""

    status: str = "open"
    severity: str = ""
    min_score: float | None = None
    entity: str = ""
    page: int = 0

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> tuple["QueueFilters", list[str]]:
        errors: list[str] = []
        status = query.get("status", "open") or "open"
        if status != "any" and status not in STATUSES:
            errors.append(f"status must be any or one of {', '.join(STATUSES)}")
            status = "open"
        severity = query.get("severity", "")
        if severity and severity not in SEVERITIES:
            errors.append(f"severity must be one of {', '.join(SEVERITIES)}")
            severity = ""
        min_score: float | None = None
        if raw := query.get("min_score", "").strip():
            try:
                min_score = float(raw)
            except ValueError:
                min_score = -1.0
            if not 0.0 <= min_score <= 1.0:
                errors.append("min score must be a number from 0 to 1")
                min_score = None
        entity = query.get("entity", "").strip()[:256]
        page_text = query.get("page", "0")
        page = int(page_text) if page_text.isdigit() and len(page_text) < 7 else 0
        return cls(status, severity, min_score, entity, page), errors

    def query(self, **change: Any) -> str:
        """This filter as a query string, with ``change`` applied (for paging links)."""
        values = {
            "status": self.status,
            "severity": self.severity,
            "min_score": "" if self.min_score is None else repr(self.min_score),
            "entity": self.entity,
            "page": self.page,
        } | change
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def _form(body: bytes) -> dict[str, str]:
    """An urlencoded form body; the first value of each field."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "form body is not UTF-8") from None
    parsed = parse_qs(text, keep_blank_values=True, max_num_fields=20)
    return {k: v[0] for k, v in parsed.items()}


def _summary(db: StateStore, catalog: ModelCatalog) -> dict[str, Any]:
    """Served models, open alerts per severity and the latest verdicts."""
    try:
        models = catalog.describe()
        models_error = ""
    except SeclearnError:
        models, models_error = [], "the model registry could not be read; see the server log"
    open_alerts = db.list_alerts(status="open", limit=_MAX_OPEN_COUNTED)
    counts = {s: 0 for s in reversed(SEVERITIES)}
    for a in open_alerts:
        counts[a.severity] = counts.get(a.severity, 0) + 1
    closed = db.list_alerts(status="closed", limit=_MAX_OPEN_COUNTED)
    recent = sorted(closed, key=lambda a: a.updated_at, reverse=True)[:5]
    last_verdicts = []
    for a in recent:
        history = db.verdicts(a.id)
        if history:
            last_verdicts.append({"alert": a, "verdict": history[-1]})
    return {
        "models": models,
        "models_error": models_error,
        "open_counts": counts,
        "open_capped": len(open_alerts) >= _MAX_OPEN_COUNTED,
        "last_verdicts": last_verdicts,
    }


def build_ui_router(
    settings: ServiceSettings,
    *,
    catalog: ModelCatalog,
    store: Callable[[], StateStore],
    limiter: RateLimiter,
    metrics: ServiceMetrics,
    clock: Clock,
) -> APIRouter:
    """The /ui pages of one app, with their own in-memory sessions."""
    router = APIRouter(prefix="/ui", include_in_schema=False)
    env = _environment()
    sessions = SessionBook(clock)

    def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)

    def to_login() -> Response:
        return RedirectResponse("/ui/login", status_code=303, headers=SECURITY_HEADERS)

    def signed_in(request: Request) -> Session | None:
        found = sessions.get(request.cookies.get(SESSION_COOKIE))
        if found is not None:
            request.state.caller = found.name
            limiter.take(found.name)
        return found

    def csrf_ok(session: Session, form: Mapping[str, str]) -> bool:
        sent = form.get("csrf", "").encode("utf-8", errors="surrogatepass")
        return hmac.compare_digest(session.csrf.encode(), sent)

    def error_page(session: Session | None, status: int, message: str) -> HTMLResponse:
        return render("ui_error.html.j2", status, session=session, status=status, message=message)

    @router.get("/login")
    def login_form(request: Request) -> Response:
        if sessions.get(request.cookies.get(SESSION_COOKIE)) is not None:
            return RedirectResponse("/ui", status_code=303, headers=SECURITY_HEADERS)
        return render("ui_login.html.j2", session=None, error="")

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = _form(await read_body(request, settings.limits.max_body_bytes))
        secret = form.get("token", "")
        try:
            token = authenticate(settings.tokens, f"Bearer {secret}")
            if not token.allows("triage"):
                raise ApiError(403, "missing scope")
        except ApiError:
            host = request.client.host if request.client else "-"
            try:
                limiter.take(f"unauthenticated:{host}")
            except ApiError:
                return render("ui_login.html.j2", 429, session=None, error="Too many attempts.")
            return render("ui_login.html.j2", 401, session=None, error="Sign-in failed.")
        sessions.close(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/ui", status_code=303, headers=SECURITY_HEADERS)
        response.set_cookie(
            SESSION_COOKIE,
            sessions.open(token.name),
            max_age=int(sessions.ttl_s),
            path="/ui",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        session = signed_in(request)
        if session is None:
            return to_login()
        form = _form(await read_body(request, settings.limits.max_body_bytes))
        if not csrf_ok(session, form):
            return error_page(session, 403, "The form was stale or forged; reload and retry.")
        sessions.close(request.cookies.get(SESSION_COOKIE))
        response = to_login()
        response.delete_cookie(SESSION_COOKIE, path="/ui", httponly=True, samesite="strict")
        return response

    @router.get("")
    def queue(request: Request) -> Response:
        session = signed_in(request)
        if session is None:
            return to_login()
        filters, errors = QueueFilters.parse(request.query_params)
        db = store()
        found = db.list_alerts(
            status=None if filters.status == "any" else filters.status,
            severity=filters.severity or None,
            min_score=filters.min_score,
            entity=filters.entity or None,
            limit=PAGE_SIZE + 1,
            offset=filters.page * PAGE_SIZE,
        )
        return render(
            "ui_queue.html.j2",
            422 if errors else 200,
            session=session,
            filters=filters,
            errors=errors,
            alerts=found[:PAGE_SIZE],
            has_next=len(found) > PAGE_SIZE,
            statuses=("any", *STATUSES),
            severities=tuple(reversed(SEVERITIES)),
            summary=_summary(db, catalog),
        )

    AlertId = Annotated[int, Path(ge=1, le=_MAX_ID)]

    @router.get("/alerts/{alert_id}")
    def alert(alert_id: AlertId, request: Request) -> Response:
        session = signed_in(request)
        if session is None:
            return to_login()
        db = store()
        try:
            found = db.get_alert(alert_id)
            history = db.verdicts(alert_id)
        except RecordNotFoundError:
            return error_page(session, 404, f"There is no alert {alert_id}.")
        raw = found.raw_event if isinstance(found.raw_event, dict) else {"event": found.raw_event}
        return render(
            "ui_alert.html.j2",
            session=session,
            alert=found,
            bars=contribution_bars(found.top_features),
            raw_fields=sorted(raw.items()),
            verdicts=history,
            verdict_choices=list(_VERDICT_TEXT.items()),
        )

    @router.post("/alerts/{alert_id}/verdict")
    async def verdict(alert_id: AlertId, request: Request) -> Response:
        session = signed_in(request)
        if session is None:
            return to_login()
        form = _form(await read_body(request, settings.limits.max_body_bytes))
        if not csrf_ok(session, form):
            return error_page(session, 403, "The form was stale or forged; reload and retry.")
        chosen, note = form.get("verdict", ""), form.get("note", "")
        if chosen not in VERDICT_LABELS:
            return error_page(session, 422, "Choose one of the three verdicts.")
        if len(note) > _MAX_NOTE_CHARS:
            return error_page(
                session, 422, f"The note is longer than {_MAX_NOTE_CHARS} characters."
            )
        db = store()
        try:
            recorded = await run_in_threadpool(
                db.record_verdict, alert_id, chosen, analyst=session.name, note=note
            )
        except RecordNotFoundError:
            return error_page(session, 404, f"There is no alert {alert_id}.")
        metrics.verdicts.labels(verdict=recorded.verdict).inc()
        return RedirectResponse(f"/ui/alerts/{alert_id}", status_code=303, headers=SECURITY_HEADERS)

    async def read_form(request: Request) -> dict[str, str]:
        return _form(await read_body(request, settings.limits.max_body_bytes))

    add_review_routes(
        router,
        store=store,
        render=render,
        signed_in=signed_in,
        csrf_ok=csrf_ok,
        error_page=error_page,
        to_login=to_login,
        read_form=read_form,
        headers=SECURITY_HEADERS,
    )
    return router
