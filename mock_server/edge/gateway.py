"""The request's way in: the stages every HTTP request passes before routing, in one place.

In order (each stage's logic lives in its own module; this is only the sequence):

1. **namespace from key** (:func:`.request_parts.apply_key_namespace`) — ``Key ns-<name>:…``
   stands for ``X-Fal-Mock-Namespace`` for clients that cannot send headers, and so does the
   namespace a genuine CDN token (``Bearer``) was issued in;
2. **journal** (:func:`.journal.recording`) — every answer, including the refusals and
   faults below, is recorded when its response starts;
3. **limits** (:func:`.limits.check_request`) — 414 / 431 / 413 before a byte of the body is read;
4. **namespace** (:func:`.request_parts.namespace_refusal`) — a malformed namespace is a 400;
5. **faults** (:func:`.fault_stage.intercept`) — queued faults answer the requests they match
   (skipped at no cost while none is queued);

then the hot path (:mod:`.hot_path`: status polls and result fetches, straight to their route) or
Starlette's exception handling and the routes (:mod:`.routes`), each of which checks its
access (:mod:`.auth`: fal's key, a CDN token, a signed URL, or nothing) before its handler runs.  One pure ASGI
middleware rather than four keeps streaming responses untouched and costs a single
layer on the hot path (status polls), where every microsecond shows in the throughput.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from .fault_stage import intercept
from .hot_path import HotPath
from .journal import recording
from .limits import check_request
from .request_parts import apply_key_namespace, namespace_refusal
from .wire_errors import error_response


class Gateway:
    """Pure ASGI middleware running the gateway stages of the app's ``MockServices``."""

    def __init__(self, app: ASGIApp, hot_path: HotPath | None = None) -> None:
        self.app = app
        self.hot_path = hot_path
        #: The app's services (``app.state.mock``, set once by :func:`.app.create_app`), looked up on first use.
        self._mock: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        mock = self._mock
        if mock is None:
            mock = self._mock = scope["app"].state.mock
        scope.setdefault("fal_mock.app_root", scope.get("root_path", ""))
        apply_key_namespace(scope, mock.files.authority.token_namespace)
        send = recording(mock, scope, send)
        refused = check_request(scope, mock.settings) or namespace_refusal(scope)
        if refused is not None:
            await error_response(refused)(scope, receive, send)
        elif mock.faults.armed:
            await intercept(mock, scope, receive, send, self.app)
        elif self.hot_path is not None and (hot := self.hot_path.match(scope)) is not None:
            await self.hot_path.answer(*hot, receive, send)
        else:
            await self.app(scope, receive, send)
