"""The app's wiring (:class:`MockServices`) and per-request facts handlers need.

``create_app`` builds one :class:`MockServices` and hangs it on ``app.state.mock``;
there is no module-level state anywhere.  Helpers here read what every handler
needs from a request: its services, its URL bases, its namespace and a body read
under the size limit.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection, Request

from ..clock import Clock
from ..jobs.endpoints import EndpointRegistry
from ..jobs.errors import HTTPError
from ..settings import Settings
from .hosts import Bases

if TYPE_CHECKING:
    from ..faults.book import FaultBook
    from ..files.store import FileStore
    from ..jobs.queue import JobQueue
    from ..jobs.runner import Runner
    from ..persistence.memory import StateStore
    from ..webhooks.dispatcher import WebhookDispatcher

NAMESPACE_HEADER = "x-fal-mock-namespace"
_NAMESPACE_HEADER_BYTES = NAMESPACE_HEADER.encode()
PROGRESSION_HEADER = "x-fal-mock-progression"
_NAMESPACE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: A key id ``ns-<namespace>`` (``FAL_KEY=ns-<namespace>:<secret>``) stands for ``X-Fal-Mock-Namespace: <namespace>``.
KEY_NAMESPACE_PREFIX = "ns-"


@dataclass
class MockServices:
    """Everything one app instance owns."""

    settings: Settings
    clock: Clock
    store: StateStore
    files: FileStore
    registry: EndpointRegistry
    runner: Runner
    queue: JobQueue
    #: Webhook deliveries: dispatcher thread, signing key, delivery journal (see webhooks.py).
    webhooks: WebhookDispatcher
    #: Queued faults (``fail_next``): the gateway's fault stage and the queue's creation hook spend them.
    faults: FaultBook

    def advance_clock(self, seconds: float) -> float:
        """Move a manual clock ``seconds`` forward, then let time-driven work catch up.

        Settles every unfinished job (``realistic`` progression, start deadlines), drops
        results that expired, and starts webhook attempts that became due.  Returns the
        new time.  Raises TypeError on the system clock, which nobody moves.
        """
        advance = getattr(self.clock, "advance", None)
        if not callable(advance):
            raise TypeError(f"the app runs on {self.clock!r}, which cannot be advanced (use the setting clock=manual)")
        now = float(advance(seconds))
        self.queue.settle()
        self.queue.prune()
        self.webhooks.deliver_due()
        return now

    def close(self) -> None:
        self.runner.close()
        self.webhooks.close()
        self.store.close()
        self.files.close()


def services(connection: HTTPConnection) -> MockServices:
    mock: MockServices = connection.app.state.mock
    return mock


def bases(connection: HTTPConnection) -> Bases:
    return Bases.from_scope(connection.scope)


def namespace(connection: HTTPConnection) -> str:
    """The caller's namespace (``X-Fal-Mock-Namespace``), "" when none was sent."""
    value = connection.headers.get(NAMESPACE_HEADER, "").strip()
    if not value:
        return ""
    if not _NAMESPACE.match(value):
        raise HTTPError(400, f"Invalid {NAMESPACE_HEADER} header: use 1-64 characters of A-Z a-z 0-9 . _ -")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def loads_json(raw: bytes | str) -> Any:
    """Parse a request body as strict JSON: ``NaN``, ``Infinity`` and out-of-range numbers are errors.

    (Python's json module accepts them, and a value like ``inf`` echoed back in a 422's ``input``
    cannot be rendered as JSON — found by fuzzing: it turned validation errors into 500s.)
    """
    return json.loads(raw, parse_constant=_no_constant, parse_float=_finite)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise HTTPError(413, f"Request body too large: {int(declared)} bytes (limit {limit} bytes)")
        except ValueError:
            raise HTTPError(400, "Invalid Content-Length header") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPError(413, f"Request body too large: more than {limit} bytes (limit {limit} bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def key_namespace(authorization: str) -> str | None:
    """The namespace a ``Key ns-<namespace>:<secret>`` authorization stands for, else None."""
    scheme, _, value = authorization.strip().partition(" ")
    key_id = value.strip().partition(":")[0]
    if scheme.lower() != "key" or not key_id.startswith(KEY_NAMESPACE_PREFIX):
        return None
    return key_id[len(KEY_NAMESPACE_PREFIX) :] or None


def apply_key_namespace(scope: Any) -> None:
    """Give a request without ``X-Fal-Mock-Namespace`` whose key id is ``ns-<namespace>`` that header.

    So clients that cannot send extra headers (the official clients in a subprocess,
    pointed at a shared server with ``FAL_KEY=ns-<namespace>:<secret>``) are isolated
    too; everything downstream (handlers, journal, faults) only reads the header.
    Uploads made with a CDN token (``Bearer``) carry no key and stay outside namespaces.
    """
    headers = scope.get("headers") or []
    authorization = b""
    for key, value in headers:  # ASGI header names are lower-case bytes
        if key == _NAMESPACE_HEADER_BYTES:
            return
        if key == b"authorization":
            authorization = value
    space = key_namespace(authorization.decode("latin-1")) if authorization else None
    if space:
        scope["headers"] = [*headers, (_NAMESPACE_HEADER_BYTES, space.encode("latin-1"))]
