"""``create_app``: one mock of fal behind its HTTP edge.

The parts (:func:`~..services.build_services`) hang on ``app.state.mock``; nothing lives at module
level, so any number of apps can run side by side (one per test).  Errors are answered in one
place: the exception handlers below give the core's errors their wire shape through
:func:`~.wire_errors.wire_error`, routing misses fal's ``404 Path ... not found`` / 405, and
anything unexpected a 500 with fal's body (a bug in the mock; the test suite turns those into
failures).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..catalogue import DocumentError
from ..clock import Clock, ManualClock, SystemClock
from ..contract_check import ContractSelfCheckFailed, check_contract
from ..jobs.endpoints import EndpointRegistry
from ..jobs.errors import DomainError, FalError, PlainError
from ..persistence.protocol import StateStore
from ..services import MockServices, build_services
from ..settings import Settings
from .gateway import Gateway
from .hot_path import HotPath
from .routes import ServiceDispatch, build_routes
from .wire_errors import error_response, wire_error

log = logging.getLogger("fal_mock")

#: Seconds between settling time-driven (``realistic``) jobs when nobody asks about them.
TICK_SECONDS = 0.1
#: Seconds between housekeeping rounds: retention on the clock, generation claims, orphaned jobs.
HOUSEKEEPING_SECONDS = 1.0


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    store: StateStore | None = None,
    endpoints: EndpointRegistry | None = None,
) -> Starlette:
    """A fresh mock fal app. ``settings`` default to :class:`Settings`(); ``clock`` to the wall clock
    (a manual one with ``settings.clock == "manual"``).

    ``store`` defaults to memory, or to the SQLite store of ``settings.data_dir`` when one is set.
    ``endpoints``: the served endpoints of another app (``app.state.mock.registry``) to share — their
    normalised documents and compiled validators — instead of loading the bundled documents and
    ``settings.openapi`` again (what the pytest fixtures do for each test).
    """
    settings = settings or Settings()
    if clock is None and settings.clock == "manual":
        clock = ManualClock() if settings.clock_start is None else ManualClock(settings.clock_start)
    mock = build_services(settings, clock or SystemClock(), store, registry=endpoints)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(mock.queue.recover)
        ticker = asyncio.create_task(_tick_forever(mock))
        try:
            yield
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            mock.close()

    routes = build_routes()
    dispatch = routes[0]
    assert isinstance(dispatch, ServiceDispatch)
    handlers: dict[Any, Callable[[Request, Exception], Response]] = {
        FalError: _mock_error,
        DomainError: _mock_error,
        DocumentError: _mock_error,
        HTTPException: _routing_error,
        ContractSelfCheckFailed: _self_check_failed,
        Exception: _unexpected,
    }
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Gateway, hot_path=HotPath(dispatch, handlers))],
        exception_handlers=handlers,
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # fal answers paths as sent; a redirect would break PUT/POST clients
    app.state.mock = mock
    return app


async def _tick_forever(mock: MockServices) -> None:
    """Complete ``realistic`` jobs on time (so webhooks fire) even when nobody polls; keep house."""
    loop = asyncio.get_running_loop()
    next_housekeeping = loop.time() + HOUSEKEEPING_SECONDS
    while True:
        await asyncio.sleep(TICK_SECONDS)
        await asyncio.to_thread(mock.tick)
        if loop.time() >= next_housekeeping:
            next_housekeeping = loop.time() + HOUSEKEEPING_SECONDS
            await asyncio.to_thread(mock.keep_house)


def _mock_error(request: Request, exc: Exception) -> Response:
    error = wire_error(exc)
    if error is None:  # pragma: no cover - the handler is only registered for the mock's errors
        return _unexpected(request, exc)
    mock: MockServices = request.app.state.mock
    check_contract(mock.settings.check_contracts, error.contract, error.body())
    return error_response(error)


def _routing_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = PlainError(404, f"Path {request.url.path} not found")
    elif exc.status_code == 405:
        error = PlainError(405, "Method Not Allowed", headers=dict(exc.headers or {}))
    else:
        error = PlainError(exc.status_code, str(exc.detail))
    return error_response(error)


def _self_check_failed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ContractSelfCheckFailed)
    log.error("%s", exc)
    return JSONResponse({"detail": str(exc), "error_type": "contract_self_check"}, status_code=500)


def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error answering %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
