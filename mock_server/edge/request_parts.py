"""What every handler reads from a request: the app's services, its URL bases, its namespace, its body.

``create_app`` hangs one :class:`~..services.MockServices` on ``app.state.mock`` (there is no
module-level state anywhere).  The namespace (``X-Fal-Mock-Namespace``, or a ``Key ns-<name>:…``
key) is checked once, by the gateway (:func:`namespace_refusal`); handlers only read it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from starlette.requests import HTTPConnection, Request

from ..clock import ManualClock
from ..control import MockControl
from ..jobs.errors import PlainError
from ..redaction import plain_pairs
from ..services import MockServices
from ..strict_json import loads_strict
from .hosts import Bases

NAMESPACE_HEADER = "x-fal-mock-namespace"
_NAMESPACE_HEADER_BYTES = NAMESPACE_HEADER.encode()
PROGRESSION_HEADER = "x-fal-mock-progression"
_NAMESPACE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: A key id ``ns-<namespace>`` (``FAL_KEY=ns-<namespace>:<secret>``) stands for ``X-Fal-Mock-Namespace: <namespace>``.
KEY_NAMESPACE_PREFIX = "ns-"


def services(connection: HTTPConnection) -> MockServices:
    mock: MockServices = connection.app.state.mock
    return mock


def bases(connection: HTTPConnection) -> Bases:
    return Bases.from_scope(connection.scope)


#: Where :func:`header` keeps a request's headers by name (in its scope, made on first use, after the gateway).
HEADER_INDEX_KEY = "fal_mock.header_index"


def header(connection: HTTPConnection, name: str) -> str | None:
    """The first value of the request header ``name`` (lower case), as ``connection.headers.get`` gives it.

    Handlers that read several headers (a submit reads nine) look each up in one index of the request's
    headers, made once, instead of walking and decoding the whole list for each.
    """
    scope = connection.scope
    headers = scope["headers"]
    cached: tuple[Any, dict[bytes, bytes]] | None = scope.get(HEADER_INDEX_KEY)
    if cached is None or cached[0] is not headers:  # made for this very list (a stage that replaces it starts anew)
        index: dict[bytes, bytes] = {}
        for key, value in headers:
            index.setdefault(key, value)  # ASGI names are lower-case bytes; the first value counts, as in Starlette
        cached = scope[HEADER_INDEX_KEY] = (headers, index)
    value = cached[1].get(name.encode("latin-1"))
    return None if value is None else value.decode("latin-1")


def query_value(connection: HTTPConnection, name: str) -> str | None:
    """``connection.query_params.get(name)`` (the last value), without parsing a plain query such as ``logs=false``."""
    raw = connection.scope.get("query_string")
    if not raw:
        return None
    pairs = plain_pairs(raw.decode("latin-1"))
    if pairs is None:
        return connection.query_params.get(name)
    found = None
    for key, value in pairs:
        if key == name:
            found = value
    return found


def namespace(connection: HTTPConnection) -> str:
    """The caller's namespace (``X-Fal-Mock-Namespace``, checked by the gateway), "" when none was sent."""
    return (header(connection, NAMESPACE_HEADER) or "").strip()


def control(connection: HTTPConnection) -> MockControl:
    """The control plane of the request's app."""
    return MockControl(services(connection))


def namespace_refusal(scope: Any) -> PlainError | None:
    """The gateway's namespace stage: a malformed ``X-Fal-Mock-Namespace`` is a 400 for every route."""
    for key, value in scope.get("headers") or ():
        if key == _NAMESPACE_HEADER_BYTES:
            text = value.decode("latin-1").strip()
            if text and not _NAMESPACE.match(text):
                return PlainError(400, f"Invalid {NAMESPACE_HEADER} header: use 1-64 characters of A-Z a-z 0-9 . _ -")
    return None


def loads_json(raw: bytes | str) -> Any:
    """Parse a request body as strict JSON (:func:`~..strict_json.loads_strict`): ``NaN``, ``Infinity``,
    out-of-range numbers, invalid Unicode (lone surrogates) and nesting deeper than
    :data:`~..strict_json.MAX_JSON_DEPTH` raise :class:`~..strict_json.JsonRefused` (a ``ValueError``).

    (Python's json module accepts them, and a value like ``inf`` echoed back in a 422's ``input``
    cannot be rendered as JSON — found by fuzzing: it turned validation errors into 500s.)
    """
    return loads_strict(raw)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = header(request, "content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise PlainError(413, f"Request body too large: {int(declared)} bytes (limit {limit} bytes)")
        except ValueError:
            raise PlainError(400, "Invalid Content-Length header") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PlainError(413, f"Request body too large: more than {limit} bytes (limit {limit} bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


async def wait_on_clock(mock: MockServices, seconds: float) -> None:
    """Let ``seconds`` pass on the app's clock: really waited on the wall clock, advanced on a manual one."""
    if seconds <= 0:
        return
    if isinstance(mock.clock, ManualClock):
        await asyncio.to_thread(MockControl(mock).spend, seconds)
    else:
        await asyncio.sleep(seconds)


def key_namespace(authorization: str) -> str | None:
    """The namespace a ``Key ns-<namespace>:<secret>`` authorization stands for, else None."""
    scheme, _, value = authorization.strip().partition(" ")
    key_id = value.strip().partition(":")[0]
    if scheme.lower() != "key" or not key_id.startswith(KEY_NAMESPACE_PREFIX):
        return None
    return key_id[len(KEY_NAMESPACE_PREFIX) :] or None


def apply_key_namespace(scope: Any, token_namespace: Callable[[str], str | None] | None = None) -> None:
    """Give a request without ``X-Fal-Mock-Namespace`` whose key id is ``ns-<namespace>`` that header.

    So clients that cannot send extra headers (the official clients in a subprocess,
    pointed at a shared server with ``FAL_KEY=ns-<namespace>:<secret>``) are isolated
    too; everything downstream (handlers, journal, faults) only reads the header.
    Uploads made with a CDN token (``Bearer``) get the namespace the token was issued in
    (``token_namespace``: the file store's authority, which only believes tokens whose MAC
    verifies), so the Python client's uploads land in its namespace.
    """
    headers = scope.get("headers") or []
    authorization = b""
    for key, value in headers:  # ASGI header names are lower-case bytes
        if key == _NAMESPACE_HEADER_BYTES:
            return
        if key == b"authorization":
            authorization = value
    space = key_namespace(authorization.decode("latin-1")) if authorization else None
    if space is None and token_namespace is not None and authorization[:7].lower() == b"bearer ":
        token = authorization[7:].decode("latin-1").strip()
        space = token_namespace(token) or None if token else None
    if space:
        scope["headers"] = [*headers, (_NAMESPACE_HEADER_BYTES, space.encode("latin-1"))]
