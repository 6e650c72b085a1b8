"""Suite-wide fixtures: fresh in-process apps on a manual clock, with the contract self-check on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fal_mock.mock_server import Settings, create_app
from fal_mock.mock_server.clock import ManualClock
from fal_mock.mock_server.persistence import MemoryStore, StateStore
from fal_mock.mock_server.persistence.sqlite import SqliteStore
from starlette.applications import Starlette

from tests.support import AUTH

AppFactory = Callable[..., Starlette]


def pytest_addoption(parser: pytest.Parser) -> None:
    # The contract suite's options live here: pytest only reads options from rootdir-level conftests.
    group = parser.getgroup("fal-mock contract suite", "tests/contract_suite against real fal")
    group.addoption("--live", action="store_true", help="also run the contract suite against real fal (needs FAL_KEY)")
    group.addoption("--live-generate", action="store_true",
                    help="with --live: also run full generations on real fal (costs money)")  # fmt: skip


#: Why ``--live`` cannot run here (None: it can): a live run without a key must fail, never pass by skipping.
def live_refusal(config: pytest.Config, environ: Any) -> str | None:
    if not config.getoption("--live", default=False) and not config.getoption("--live-generate", default=False):
        return None
    if environ.get("FAL_KEY") or (environ.get("FAL_KEY_ID") and environ.get("FAL_KEY_SECRET")):
        return None
    return ("--live runs the contract suite against real fal and needs a fal key: export FAL_KEY=key_id:key_secret "
            "(or FAL_KEY_ID and FAL_KEY_SECRET), then run it again; without --live only the mock targets run")


def pytest_configure(config: pytest.Config) -> None:
    import os

    refusal = live_refusal(config, os.environ)
    if refusal is not None:
        raise pytest.UsageError(refusal)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store_kind() -> str:
    """Which state store apps and stores of a test use: memory, unless the module imports
    :func:`tests.support.both_stores` (then every test runs on memory and on SQLite)."""
    return "memory"


@pytest.fixture
def state_store(store_kind: str, tmp_path: Path) -> Iterator[StateStore]:
    """A fresh state store of ``store_kind`` (SQLite in a temporary data directory)."""
    store = MemoryStore() if store_kind == "memory" else SqliteStore.open(tmp_path / "state-store")
    yield store
    store.close()


@pytest.fixture(scope="session")
def shared_endpoints() -> dict[tuple[str, ...], Any]:
    """The endpoints (normalised documents, compiled validators) the session's apps share, by ``openapi``."""
    return {}


@pytest.fixture
def make_app(
    clock: ManualClock, store_kind: str, tmp_path: Path, shared_endpoints: dict[tuple[str, ...], Any]
) -> Iterator[AppFactory]:
    """Build apps with the given settings (contract self-check on, manual clock, the test's store kind);
    closed at teardown."""
    apps: list[Starlette] = []

    def factory(**overrides: Any) -> Starlette:
        values: dict[str, Any] = {"check_contracts": True}
        if store_kind == "sqlite":
            values["data_dir"] = str(tmp_path / f"data-{len(apps)}")
        settings = Settings.from_mapping({**values, **overrides})
        app = create_app(settings, clock=clock, endpoints=shared_endpoints.get(settings.openapi))
        shared_endpoints.setdefault(settings.openapi, app.state.mock.registry)
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
