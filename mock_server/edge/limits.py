"""Size limits on the request line and headers, at two depths, with fal-shaped answers.

* :func:`check_request` (a stage of the gateway, :mod:`.gateway`, after the journal
  so that it still records the refusal) checks every request, in-process or served: a request target longer
  than ``Settings.max_url_bytes`` gets **414**, header lines beyond
  ``Settings.max_header_bytes`` get **431**, and a declared ``Content-Length``
  beyond the largest body any route accepts (``max_request_body_bytes`` /
  ``max_upload_bytes``) gets **413** before a byte of it is read.  Bodies are
  ``{"detail": "..."}`` as fal's other HTTP errors.
* :class:`BoundedHttpToolsProtocol` (``fal-mock serve``) enforces the same two
  limits while httptools parses, so an oversized request is refused before it is
  buffered whole: uvicorn's httptools protocol has no header limit of its own
  (measured: a 20 MB header line is accepted), only h11 has
  ``h11_max_incomplete_event_size``.  It answers the same JSON and closes the
  connection, without uvicorn's misleading "Invalid HTTP request received." warning; a TLS
  ClientHello on this plain-HTTP port (an https client, ``--tls`` forgotten) is logged as one
  line that says so (:func:`tls_on_plain_http`) and the connection closed.

Sizes count what is on the wire: the target is ``path[?query]`` as sent; a header
line counts ``len(name) + len(value) + 4`` (``": "`` and CRLF).  fal documents no
such limits; these defaults (16 KiB target, 64 KiB headers) are generous for any
client and small enough that a flood of huge headers cannot take memory.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httptools
from starlette.types import Scope
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from ..jobs.errors import PlainError
from ..settings import Settings
from .access_log import access_log_for
from .coalescing import CoalescingTransport

#: The first byte of a TLS record carrying a handshake (a ClientHello): ``0x16``, then version ``0x03 ..``.
TLS_HANDSHAKE = b"\x16"


def tls_on_plain_http(client: Any) -> str:
    """The one log line for an https client talking to a plain-HTTP server (uvicorn's own is "Invalid HTTP")."""
    peer = f"{client[0]}:{client[1]}" if isinstance(client, tuple) and len(client) >= 2 else "a client"
    return (f"fal-mock: {peer} started a TLS handshake on this plain-HTTP port: it speaks https (the official "
            "Python client only does) — restart with 'fal-mock serve --tls' and point it at the https URL "
            "(eval \"$(fal-mock env --ready-file FILE)\" sets SSL_CERT_FILE too)")  # fmt: skip


def url_too_long(size: int, limit: int) -> PlainError:
    return PlainError(414, f"Request URL too long: {size} bytes (limit {limit} bytes)")


def headers_too_large(size: int, limit: int) -> PlainError:
    return PlainError(431, f"Request header fields too large: {size} bytes (limit {limit} bytes)")


def body_too_large(size: int, limit: int) -> PlainError:
    return PlainError(413, f"Request body too large: {size} bytes (limit {limit} bytes)")


def target_bytes(scope: Scope) -> int:
    raw = scope.get("raw_path") or str(scope.get("path", "")).encode("utf-8", "surrogateescape")
    query = scope.get("query_string", b"")
    return len(raw) + (1 + len(query) if query else 0)


def check_request(scope: Scope, settings: Settings) -> PlainError | None:
    """The limit ``scope`` breaks, or None."""
    size = target_bytes(scope)
    if size > settings.max_url_bytes:
        return url_too_long(size, settings.max_url_bytes)
    size = 0
    declared_length: bytes | None = None
    for name, value in scope.get("headers", ()):  # one pass: this runs on every request
        size += len(name) + len(value) + 4
        if name == b"content-length":
            declared_length = value
    if size > settings.max_header_bytes:
        return headers_too_large(size, settings.max_header_bytes)
    if declared_length is not None:
        largest_body = max(settings.max_request_body_bytes, settings.max_upload_bytes)
        try:
            declared = int(declared_length)
        except ValueError:
            return PlainError(400, "Invalid Content-Length header")
        if declared > largest_body:
            return body_too_large(declared, largest_body)
    return None


def settings_of(app: Any) -> Settings:
    """The mock's settings behind uvicorn's wrappers (each wrapper keeps the next as ``.app``)."""
    for _ in range(16):
        mock = getattr(getattr(app, "state", None), "mock", None)
        if mock is not None:
            settings: Settings = mock.settings
            return settings
        app = getattr(app, "app", None)
        if app is None:
            break
    return Settings()


class _OversizedRequest(Exception):
    """Raised from a parser callback to stop parsing an oversized request."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the mock's URL and header limits enforced while parsing.

    It also writes each response in one socket write (:mod:`.coalescing`) and the access log
    without :mod:`logging`'s per-line cost (:mod:`.access_log`): ``fal-mock serve``'s hot path.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = settings_of(self.app)
        self._max_url = settings.max_url_bytes
        self._max_headers = settings.max_header_bytes
        self._header_total = 0
        self._refused: PlainError | None = None
        fast_log = access_log_for(self.server_state, self.access_logger) if self.access_log else None
        if fast_log is not None:
            self.access_logger = fast_log  # type: ignore[assignment]  # same lines, far cheaper (.access_log)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._raw_transport = transport
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]  # .coalescing

    def handle_websocket_upgrade(self) -> None:
        self.transport = self._raw_transport  # a WebSocket protocol gets the real transport
        super().handle_websocket_upgrade()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_total = 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self._max_url:
            self._refused = url_too_long(len(self.url), self._max_url)
            raise _OversizedRequest

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_total += len(name) + len(value) + 4
        if self._header_total > self._max_headers:
            self._refused = headers_too_large(self._header_total, self._max_headers)
            raise _OversizedRequest
        super().on_header(name, value)

    def data_received(self, data: bytes) -> None:
        if self._refused is not None:
            return
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            refused = self._refusal()  # set by a parser callback during feed_data
            if refused is not None:
                self._send_refusal(refused)
                return
            if data[:1] == TLS_HANDSHAKE and data[1:2] == b"\x03":
                self.logger.warning(tls_on_plain_http(self.client))
                self.transport.close()  # no plain-text answer: the client would only see garbage
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def _refusal(self) -> PlainError | None:
        return self._refused

    def _send_refusal(self, error: PlainError) -> None:
        body = json.dumps(error.body(), separators=(",", ":")).encode()
        content = [STATUS_LINE[error.status_code]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/json\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()
