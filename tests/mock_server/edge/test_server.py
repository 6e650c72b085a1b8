"""edge/server.py: the event loop of ``serve`` and (below) the uvicorn options it passes on."""

from __future__ import annotations

import asyncio
import sys

import pytest
from fal_mock.mock_server.edge.server import loop_factory


def test_the_loop_is_uvloop_where_installed() -> None:
    uvloop = pytest.importorskip("uvloop")
    factory = loop_factory()
    assert factory is not None
    loop = factory()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_without_uvloop_the_loop_is_asyncio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    factory = loop_factory()
    loop = factory() if factory is not None else asyncio.new_event_loop()
    try:
        assert type(loop).__module__.startswith("asyncio")
    finally:
        loop.close()
