"""The triage UI's review page: the active-learning queue, labelled by analysts.

``GET /ui/review`` lists the open items of the review queue (built by ``seclearn review
MODEL DATA --store``); each has a "malicious" and a "benign" button, a POST form that
carries the session's CSRF token, exactly like the verdict buttons of an alert. A
label is recorded with ``source="review"`` and the signed-in token's name as ``who``,
and the item leaves the open queue, in one transaction
(:func:`seclearn.store.label_review_item`).

No ``from __future__ import annotations`` here, for the reason given in ``_routes.py``.
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from seclearn.errors import RecordNotFoundError
from seclearn.store import StateStore, get_review_item, label_review_item, review_items

#: Open items shown on the page, lowest rank first.
REVIEW_PAGE_SIZE = 100
_MAX_ID = 2**63 - 1
_MAX_NOTE_CHARS = 4000
_RAW_FIELDS_SHOWN = 12
_LABELS = {"malicious": 1, "benign": 0}


def _raw_fields(raw: Any) -> list[tuple[str, Any]]:
    """The first fields of an item's raw event, by name (the whole event is in the store)."""
    event = raw if isinstance(raw, dict) else {"event": raw}
    return sorted(event.items())[:_RAW_FIELDS_SHOWN]


def add_review_routes(
    router: APIRouter,
    *,
    store: Callable[[], StateStore],
    render: Callable[..., HTMLResponse],
    signed_in: Callable[[Request], Any],
    csrf_ok: Callable[[Any, Mapping[str, str]], bool],
    error_page: Callable[[Any, int, str], HTMLResponse],
    to_login: Callable[[], Response],
    read_form: Callable[[Request], Awaitable[dict[str, str]]],
    headers: Mapping[str, str],
) -> None:
    """Add ``GET /review`` and ``POST /review/{item_id}/label`` to the /ui router."""

    @router.get("/review")
    def review_page(request: Request) -> Response:
        session = signed_in(request)
        if session is None:
            return to_login()
        items = review_items(store(), status="open", limit=REVIEW_PAGE_SIZE)
        return render(
            "ui_review.html.j2",
            session=session,
            items=[{"item": i, "raw_fields": _raw_fields(i.raw_event)} for i in items],
            page_size=REVIEW_PAGE_SIZE,
        )

    ItemId = Annotated[int, Path(ge=1, le=_MAX_ID)]

    @router.post("/review/{item_id}/label")
    async def review_label(item_id: ItemId, request: Request) -> Response:
        session = signed_in(request)
        if session is None:
            return to_login()
        form = await read_form(request)
        if not csrf_ok(session, form):
            return error_page(session, 403, "The form was stale or forged; reload and retry.")
        chosen, note = form.get("label", ""), form.get("note", "")
        if chosen not in _LABELS:
            return error_page(session, 422, "Choose malicious or benign.")
        if len(note) > _MAX_NOTE_CHARS:
            return error_page(
                session, 422, f"The note is longer than {_MAX_NOTE_CHARS} characters."
            )
        db = store()
        try:
            item = await run_in_threadpool(get_review_item, db, item_id)
            if item.status != "open":  # e.g. a second analyst's click
                return error_page(session, 409, f"Review item {item_id} was already labelled.")
            await run_in_threadpool(
                label_review_item, db, item_id, _LABELS[chosen], who=session.name, reason=note
            )
        except RecordNotFoundError:
            return error_page(session, 404, f"There is no review item {item_id}.")
        return RedirectResponse("/ui/review", status_code=303, headers=dict(headers))
