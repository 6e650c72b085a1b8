"""``create_app``: build one self-contained mock of fal.

Everything the app owns — settings, clock, state store, file store, runner
threads, queue — is created here and hung on ``app.state.mock``
(:class:`~.context.MockServices`); nothing lives at module level, so any number
of apps can run side by side (one per test).

Errors are rendered in one place: the exception handlers below turn the mock's
error family into fal's wire shapes, routing misses into fal's ``404 Path ...
not found`` / 405, and anything unexpected into a 500 with fal's body (a bug in
the mock; the test suite turns those into failures).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..clock import Clock, ManualClock, SystemClock
from ..faults.book import FaultBook
from ..files.store import FileStore
from ..jobs.endpoints import EndpointRegistry
from ..jobs.errors import FalMockError, HTTPError, error_response
from ..jobs.fetch import Fetcher
from ..jobs.inputs import InputResolver, referenced_files
from ..jobs.queue import JobQueue
from ..jobs.runner import Runner
from ..persistence.memory import StateStore
from ..persistence.sqlite import SqliteStore, store_for
from ..settings import Settings
from ..webhooks.dispatcher import WebhookDispatcher
from ..webhooks.journal import WebhookJournal
from .context import MockServices
from .gateway import Gateway
from .render import ContractSelfCheckFailed, check_contract
from .routes import build_routes

log = logging.getLogger("fal_mock")

#: Seconds between settling time-driven (``realistic``) jobs when nobody asks about them.
TICK_SECONDS = 0.1
#: Seconds between housekeeping rounds: retention on the clock, generation claims, orphaned jobs.
HOUSEKEEPING_SECONDS = 1.0


def build_services(settings: Settings, clock: Clock, store: StateStore | None = None) -> MockServices:
    """Wire the app's parts together (no web framework involved)."""
    state = store if store is not None else store_for(settings)
    files = FileStore.from_settings(settings, clock)
    files.set_reference_provider(lambda: referenced_files(state))
    registry = EndpointRegistry()
    resolver = InputResolver(files=files, policy=settings.image_url_policy, max_size=settings.max_input_file_bytes,
                             fetcher=Fetcher.from_settings(settings))  # fmt: skip
    runner = Runner(settings=settings, store=state, files=files, registry=registry, resolver=resolver)
    queue = JobQueue(settings=settings, clock=clock, store=state, runner=runner, registry=registry)
    journal = WebhookJournal(state, runner.owner) if isinstance(state, SqliteStore) else None
    webhooks = WebhookDispatcher(settings=settings, clock=clock, files=files, journal=journal)
    queue.add_completion_listener(webhooks.on_job_completed)
    faults = FaultBook(settings, clock)
    queue.add_creation_hook(faults.on_new_job)
    return MockServices(settings=settings, clock=clock, store=state, files=files, registry=registry,
                        runner=runner, queue=queue, webhooks=webhooks, faults=faults)  # fmt: skip


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, store: StateStore | None = None
) -> Starlette:
    """A fresh mock fal app. ``settings`` default to :class:`Settings`(); ``clock`` to the wall clock.

    ``store`` defaults to memory, or to the SQLite store of ``settings.data_dir`` when one is set.
    """
    settings = settings or Settings()
    mock = build_services(settings, clock or (ManualClock() if settings.clock == "manual" else SystemClock()), store)

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

    app = Starlette(
        routes=build_routes(),
        middleware=[Middleware(Gateway)],
        exception_handlers={
            FalMockError: _fal_error,
            HTTPException: _routing_error,
            ContractSelfCheckFailed: _self_check_failed,
            Exception: _unexpected,
        },
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
        due = mock.store.unfinished_ids(progression="realistic")
        if due:
            await asyncio.to_thread(mock.queue.settle, due)
        if loop.time() >= next_housekeeping:
            next_housekeeping = loop.time() + HOUSEKEEPING_SECONDS
            await asyncio.to_thread(_housekeeping, mock)


def _housekeeping(mock: MockServices) -> None:
    """Drop expired results, journal entries and files; renew this process's claims; adopt orphaned jobs."""
    mock.queue.prune()
    mock.files.purge_expired()
    mock.runner.renew_claims()
    mock.runner.adopt_orphans()


def _fal_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FalMockError)
    mock: MockServices = request.app.state.mock
    check_contract(mock.settings.check_contracts, exc.contract, exc.body())
    return error_response(exc)


def _routing_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = HTTPError(404, f"Path {request.url.path} not found")
    elif exc.status_code == 405:
        error = HTTPError(405, "Method Not Allowed", headers=dict(exc.headers or {}))
    else:
        error = HTTPError(exc.status_code, str(exc.detail))
    return error_response(error)


def _self_check_failed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ContractSelfCheckFailed)
    log.error("%s", exc)
    return JSONResponse({"detail": str(exc), "error_type": "contract_self_check"}, status_code=500)


def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error answering %s %s", request.method, request.url.path, exc_info=exc)
    body: dict[str, Any] = {"detail": "Internal Server Error"}
    return JSONResponse(body, status_code=500)
