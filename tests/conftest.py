"""Suite-wide fixtures: fresh in-process apps on a manual clock, with the contract self-check on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from fal_mock.mock_server import Settings, create_app
from fal_mock.mock_server.clock import ManualClock
from starlette.applications import Starlette

from tests.support import AUTH

AppFactory = Callable[..., Starlette]


def pytest_addoption(parser: pytest.Parser) -> None:
    # The contract suite's options live here: pytest only reads options from rootdir-level conftests.
    group = parser.getgroup("fal-mock contract suite", "tests/contract_suite against real fal")
    group.addoption("--live", action="store_true", help="also run the contract suite against real fal (needs FAL_KEY)")
    group.addoption("--live-generate", action="store_true",
                    help="with --live: also run full generations on real fal (costs money)")  # fmt: skip


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_app(clock: ManualClock) -> Iterator[AppFactory]:
    """Build apps with the given settings (contract self-check on, manual clock); closed at teardown."""
    apps: list[Starlette] = []

    def factory(**overrides: Any) -> Starlette:
        settings = Settings.from_mapping({"check_contracts": True, **overrides})
        app = create_app(settings, clock=clock)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.state.mock.close()


@pytest.fixture
def app(make_app: AppFactory) -> Starlette:
    return make_app()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client wired to ``app`` in-process (fal host names route to the right service)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, headers=AUTH) as http:
        yield http
