"""The request journal: one bounded, redacted record per request the app answered.

A stage of the gateway (:mod:`.gateway`) that notes, after the response starts,
when (on the app's clock), what (method, host, path, query), for whom (namespace)
and how it went (status, ``x-fal-request-id``).
Secrets never enter it: no ``Authorization``, tokens or bodies are recorded, only
a short allow-list of headers, and the query is redacted (:mod:`..redaction`).
The store keeps the newest ``Settings.journal_size`` entries, each bounded in bytes: every recorded
text (host, path, query, header values) is cut to :data:`MAX_JOURNAL_TEXT` characters (a
``…[+N]`` tail says how many more there were), so an entry weighs at most ~16 KiB whatever the
request (URLs may be 16 KiB, headers 64 KiB) and the default journal at most ~16 MiB (typically
~0.5 KiB per entry).
"""

from __future__ import annotations

from typing import Any

from starlette.types import Message, Scope, Send

from ..redaction import redact_query
from .request_parts import NAMESPACE_HEADER

RECORDED_HEADERS = (
    "user-agent",
    "content-type",
    "content-length",
    "accept",
    "x-fal-queue-priority",
    "x-fal-runner-hint",
    "x-fal-request-timeout",
    "x-fal-no-retry",
    "x-fal-file-name",
    "x-fal-mock-progression",
    NAMESPACE_HEADER,
)
#: Longest text (host, path, query, one header value) a journal entry keeps, in characters.
MAX_JOURNAL_TEXT = 1024
#: Request headers the journal reads: the recorded ones, the host and the namespace.
WANTED_HEADERS = frozenset((*RECORDED_HEADERS, "host", NAMESPACE_HEADER))
_WANTED_BYTES = frozenset(name.encode("latin-1") for name in WANTED_HEADERS)
_NAMESPACE_BYTES = NAMESPACE_HEADER.encode("latin-1")


def recording(mock: Any, scope: Scope, send: Send) -> Send:
    """``send``, wrapped so that the response's start is journaled (streaming passes through untouched)."""
    recorded = False

    async def noting_send(message: Message) -> None:
        nonlocal recorded
        if not recorded and message["type"] == "http.response.start":
            recorded = True
            record(mock, scope, message)
        await send(message)

    return noting_send


def _cut(text: str) -> str:
    return text if len(text) <= MAX_JOURNAL_TEXT else f"{text[:MAX_JOURNAL_TEXT]}…[+{len(text) - MAX_JOURNAL_TEXT}]"


def record(mock: Any, scope: Scope, message: Message) -> None:
    """Append the journal entry of a request whose response starts with ``message``."""
    # One pass over the request's headers (ASGI names are lower-case bytes: compared as they come; this
    # runs on every request).
    host = namespace = ""
    found: dict[str, str] = {}
    for key, value in scope.get("headers", ()):
        if key in _WANTED_BYTES:
            text = value.decode("latin-1")
            if len(text) > MAX_JOURNAL_TEXT:
                text = _cut(text)
            if key == b"host":
                host = text  # a repeated header: the last one counts, as before
            else:
                found[key.decode("latin-1")] = text
                if key == _NAMESPACE_BYTES:
                    namespace = text
    request_id = None
    for key, value in message.get("headers", ()):
        if key == b"x-fal-request-id":
            request_id = value.decode("latin-1")
            break
    path = scope.get("path", "")
    entry: dict[str, Any] = {
        "seq": mock.store.next_sequence("journal"),
        "at": mock.clock.now(),
        "method": scope.get("method", ""),
        "host": host,
        "path": path if len(path) <= MAX_JOURNAL_TEXT else _cut(path),  # the full path (whole under mounts)
        "query": _cut(redact_query(query.decode("latin-1"))) if (query := scope.get("query_string")) else "",
        "status": message["status"],
        "request_id": request_id,
        "namespace": namespace,
        "proxied": bool(scope.get("fal_mock.proxied")),
        "headers": {name: found[name] for name in RECORDED_HEADERS if name in found} if found else {},
    }
    mock.store.journal_append(entry, mock.settings.journal_size)
