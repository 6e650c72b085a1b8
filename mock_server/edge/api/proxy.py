"""The JS client's proxy protocol (``/proxy``), dispatched inside the app.

``@fal-ai/client`` configured with ``proxyUrl`` sends every request to the proxy
with the original method and body and the real target in ``x-fal-target-url``.
This endpoint follows fal's documented "proxy formula": 400 without the header,
412 when the target is not a fal host (it never dispatches anywhere else — there
is no outbound request at all) or carries user info (``user:pw@queue.fal.run``) or a
backslash in its authority (``evil.com\\@queue.fal.run``: a browser's URL parser reads
``evil.com`` as the host), 415 for a non-JSON body, 405 for other methods.
It then hands the request to this same app as if it had arrived on the target
host, with the proxy's origin pinned for every URL the answer contains (so file
and upload URLs point back at this server, which a browser can reach).  If the
client sent no ``Authorization``, the proxy adds one, as a server-side proxy adds
the server's key: the first of ``Settings.keys``, or a well-formed dummy key.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from ...jobs.errors import PlainError
from ..hosts import PINNED_ORIGIN_KEY, PREFIX, Service, is_fal_host
from ..request_parts import read_body, services
from ..wire_errors import error_response

TARGET_HEADER = "x-fal-target-url"
METHODS = ("GET", "POST", "PUT", "DELETE")
DUMMY_KEY = "fal-mock-proxy:not-a-secret"
_DROP = {b"host", b"x-fal-target-url", b"content-length", b"transfer-encoding", b"connection"}


def proxy_origin(scope: Scope) -> str:
    """Scheme, host and root path the proxy was reached at (without ``/proxy``)."""
    headers = dict(scope.get("headers", ()))
    host = headers.get(b"host", b"127.0.0.1").decode("latin-1")
    root = str(scope.get("root_path", ""))
    prefix = PREFIX[Service.PROXY]
    if root.endswith(prefix):
        root = root[: -len(prefix)]
    return f"{scope.get('scheme', 'http')}://{host}{root}"


class ProxyEndpoint:
    """An ASGI endpoint (any sub-path) that re-dispatches into the app."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            inner, body = await self._prepare(request)
        except PlainError as error:
            await error_response(error)(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await scope["app"](inner, replay, send)

    async def _prepare(self, request: Request) -> tuple[dict[str, Any], bytes]:
        mock = services(request)
        target = request.headers.get(TARGET_HEADER)
        if not target:
            raise PlainError(400, f"Missing the {TARGET_HEADER} header")
        try:
            parsed = urllib.parse.urlsplit(target)
        except ValueError:  # e.g. a bracketed host that is no IP address: ``http://[queue.fal.run]/``
            raise PlainError(412, f"Invalid {TARGET_HEADER}: {target!r} is not a fal host") from None
        if parsed.scheme not in ("http", "https") or not parsed.hostname or not is_fal_host(parsed.hostname):
            raise PlainError(412, f"Invalid {TARGET_HEADER}: {target!r} is not a fal host")
        if "@" in parsed.netloc or "\\" in parsed.netloc:  # user info, or a WHATWG parser's other host
            raise PlainError(412, f"Invalid {TARGET_HEADER}: {target!r} carries user info (or a backslash) in its host")
        if request.method not in METHODS:
            raise PlainError(405, f"Method {request.method} is not supported by the proxy")
        body = await read_body(request, mock.settings.max_request_body_bytes)
        content_type = request.headers.get("content-type", "")
        if body and "json" not in content_type.lower():
            raise PlainError(415, "The proxy only forwards JSON bodies")
        headers = [(k, v) for k, v in request.scope["headers"] if k.lower() not in _DROP]
        headers.append((b"host", parsed.hostname.encode()))
        headers.append((b"content-length", str(len(body)).encode()))
        if not any(k.lower() == b"authorization" for k, _ in headers):
            key = mock.settings.keys[0] if mock.settings.keys else DUMMY_KEY
            headers.append((b"authorization", f"Key {key}".encode()))
        path = urllib.parse.unquote(parsed.path) or "/"
        inner = {
            "type": "http",
            "asgi": request.scope.get("asgi", {"version": "3.0"}),
            "http_version": request.scope.get("http_version", "1.1"),
            "method": request.method,
            "scheme": "https",
            "path": path,
            "raw_path": (parsed.path or "/").encode(),
            "query_string": parsed.query.encode(),
            "root_path": "",
            "headers": headers,
            "client": request.scope.get("client"),
            "server": (parsed.hostname, 443),
            "state": dict(request.scope.get("state", {})),
            PINNED_ORIGIN_KEY: proxy_origin(request.scope),
            "fal_mock.proxied": True,
        }
        return inner, body
