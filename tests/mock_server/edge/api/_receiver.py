"""A real webhook receiver for the tests: a small Starlette app under uvicorn on 127.0.0.1.

:class:`Recorder` is the same without a socket, for ``WebhookDispatcher.route``.

The listening socket is bound (port 0) before uvicorn starts, so the URL is known at
once and early connections wait in the backlog; :meth:`Receiver.__enter__` returns
when the app's lifespan startup ran (a ``threading.Event``, no sleeps).  Each POST is
recorded with its exact headers and body bytes; ``statuses`` scripts the answers (the
last one repeats), so a receiver can fail a few times and then accept.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    #: The status the receiver answered.
    answered: int


class Receiver:
    """``with Receiver() as hook: ... hook.url ... hook.wait(1)``."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [200])
        self.received: list[Received] = []
        self._changed = threading.Condition()
        self._started = threading.Event()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        config = uvicorn.Config(self._app(), lifespan="on", log_level="warning", access_log=False,
                                http="h11", ws="none", loop="asyncio")  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def _app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(_app: Starlette) -> AsyncIterator[None]:
            self._started.set()
            yield

        async def hook(request: Request) -> Response:
            body = await request.body()
            with self._changed:
                status = self.statuses[min(len(self.received), len(self.statuses) - 1)]
                self.received.append(Received(request.url.path, dict(request.headers), body, status))
                self._changed.notify_all()
            return Response(status_code=status)

        return Starlette(routes=[Route("/{path:path}", hook, methods=["POST"])], lifespan=lifespan)

    def __enter__(self) -> Receiver:
        self._thread.start()
        if not self._started.wait(timeout=30):
            self.__exit__()
            raise AssertionError("the webhook receiver did not start within 30 s")
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._socket.close()

    def wait(self, count: int, timeout: float = 30.0) -> list[Received]:
        """The first ``count`` deliveries, once they arrived (AssertionError after ``timeout`` s)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"the receiver got {len(self.received)} of {count} webhook(s) in {timeout} s")
            return list(self.received[:count])


class Recorder:
    """An in-process receiver: records each POST, answers the scripted statuses (the last repeats)."""

    def __init__(self, *statuses: int, gate: threading.Event | None = None) -> None:
        self.statuses = list(statuses or (200,))
        self.gate = gate
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.app = Starlette(routes=[Route("/{path:path}", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        if self.gate is not None:
            await asyncio.to_thread(self.gate.wait, 30)
        body = await request.body()
        status = self.statuses[min(len(self.requests), len(self.statuses) - 1)]
        self.requests.append((request.url.path, dict(request.headers), body))
        if 300 <= status < 400:
            return Response(status_code=status, headers={"location": "http://hooks.test/elsewhere"})
        return Response(status_code=status)
