"""The app factory: one FastAPI app per call, with its own store, limiter and metrics."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from seclearn import __version__
from seclearn.service._catalog import ModelCatalog
from seclearn.service._errors import RequestContext, install_error_handlers
from seclearn.service._guard import Clock, RateLimiter
from seclearn.service._metrics import ServiceMetrics
from seclearn.service._routes import build_router
from seclearn.service._settings import ServiceSettings
from seclearn.service._ui import build_ui_router
from seclearn.store import StateStore, state_path


class _LazyStore:
    """The workspace's StateStore, opened on first use (so creating an app writes nothing)."""

    def __init__(self, open_store: Callable[[], StateStore]) -> None:
        self._open = open_store
        self._store: StateStore | None = None
        self._lock = threading.Lock()

    def __call__(self) -> StateStore:
        with self._lock:
            if self._store is None:
                self._store = self._open()
            return self._store

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


def create_app(
    settings: ServiceSettings,
    *,
    clock: Clock = time.monotonic,
    catalog: ModelCatalog | None = None,
    store: Callable[[], StateStore] | None = None,
) -> FastAPI:
    """A seclearn scoring and triage API for ``settings``.

    ``clock`` drives the per-token rate limit; ``catalog`` and ``store`` replace the
    workspace's registry and state database (tests pass fakes).
    """
    lazy = _LazyStore(store or (lambda: StateStore(state_path(settings.workspace))))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        lazy.close()

    app = FastAPI(
        title="seclearn",
        version=__version__,
        description="Score security telemetry and triage the alerts it raises.",
        lifespan=lifespan,
    )
    metrics = ServiceMetrics()
    served = catalog or ModelCatalog(settings.workspace, settings.base.key, settings.models)
    limiter = RateLimiter(settings.limits.rate_per_minute, clock)
    router = build_router(settings, catalog=served, store=lazy, limiter=limiter, metrics=metrics)
    app.include_router(router)
    app.include_router(
        build_ui_router(
            settings, catalog=served, store=lazy, limiter=limiter, metrics=metrics, clock=clock
        )
    )
    install_error_handlers(app)
    app.add_middleware(RequestContext, metrics=metrics)
    state: Any = app.state
    state.settings, state.metrics, state.catalog = settings, metrics, served
    return app
