"""Where queued faults meet requests: which request is which, and the gateway's fault stage.

:mod:`.faults` says what a fault is and keeps the book of queued ones; this module
applies them to traffic.

Which requests are which (:func:`classify`, a request's :class:`~.faults.Target`):
``submit``, ``status``, ``stream``, ``result``, ``cancel`` on the queue host; ``run`` on
``fal.run``; ``token`` (CDN token), ``upload`` (every upload call) and ``rest`` on the
REST/CDN hosts; ``file`` (GET/HEAD of a stored file); ``any`` matches all of these.
The control API and the ``/proxy`` envelope are never faulted (what the proxy
dispatches is).  The control API's request list (:mod:`.control_plane`) labels
journal records with it too.

The HTTP stage (:func:`intercept`, called by :mod:`.gateway` only while a fault is
queued) spends the first matching fault and answers for it: ``latency`` is spent on
the app's clock (:func:`spend_latency`) before the request goes on; ``disconnect``
aborts the socket with no answer (journalled with status 0, :func:`journal_entry`);
``malformed`` sends half a JSON body, then aborts; ``ingress`` answers nginx's HTML
page; the error kinds answer fal's error body.  Where there is no socket to abort
(an ASGI server other than uvicorn, or ``httpx.ASGITransport`` used directly) it
raises :class:`InjectedDisconnect`.  The in-process transport of ``fal_mock.fixtures``
fires the transport kinds itself, before a request reaches the app, with the same
:func:`classify` and :func:`journal_entry`.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import MutableMapping
from typing import Any

from ..faults.book import REQUEST_KINDS, Fault, Target
from ..jobs.endpoints import EndpointId
from .hosts import FAL_HOSTS, PREFIX, Service, host_of

_REQUESTS = re.compile(r"^/(?P<app>.+?)/requests/(?P<rid>[^/]+)(?P<suffix>/status/stream|/status|/cancel)?/?$")
_SUFFIX_KIND = {None: "result", "/status": "status", "/status/stream": "stream", "/cancel": "cancel"}


def service_and_path(host: str, path: str) -> tuple[Service | None, str]:
    """The service a request reaches (by fal host name, else by path prefix) and its path within it."""
    service = FAL_HOSTS.get(host_of(host)) if host else None
    if service is not None:
        return service, path
    for candidate, prefix in PREFIX.items():
        if path == prefix or path.startswith(prefix + "/"):
            return candidate, path[len(prefix) :] or "/"
    return None, path


def classify(method: str, host: str, path: str, namespace: str = "") -> Target | None:
    """The :class:`Target` of a request to the mock; None for the control API, the proxy envelope and the rest."""
    service, inner = service_and_path(host, path)
    method = method.upper()
    if service is Service.QUEUE:
        match = _REQUESTS.match(inner)
        if match:
            app_id = _app_id(match["app"])
            return Target(_SUFFIX_KIND[match["suffix"]], app_id, None, match["rid"], namespace)
        if method == "POST":
            endpoint = inner.strip("/")
            return Target("submit", _app_id(endpoint), endpoint, None, namespace)
        return None
    if service is Service.RUN and method == "POST":
        endpoint = inner.strip("/")
        endpoint = endpoint[: -len("/stream")] if endpoint.endswith("/stream") else endpoint
        return Target("run", _app_id(endpoint), endpoint, None, namespace)
    if service is Service.REST:
        if inner.startswith("/storage/auth/token"):
            return Target("token", namespace=namespace)
        if inner.startswith("/storage/upload") or method == "PUT":
            return Target("upload", namespace=namespace)
        return Target("rest", namespace=namespace)
    if service is Service.CDN:
        if inner.startswith("/files/upload") or method in ("POST", "PUT"):
            return Target("upload", namespace=namespace)
        return Target("file", namespace=namespace)
    return None


def _app_id(text: str) -> str | None:
    try:
        return EndpointId.parse(text).app_id
    except ValueError:
        return None


# --- the HTTP stage -----------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Receive = Any
Send = Any


def header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


def journal_entry(mock: Any, *, method: str, host: str, path: str, query: str, namespace: str,
                  fault: Fault, request_id: str | None = None) -> dict[str, Any]:  # fmt: skip
    """A journal record for a request that got no HTTP answer (status 0), naming the fault."""
    return {
        "seq": mock.store.next_sequence("journal"),
        "at": mock.clock.now(),
        "method": method,
        "host": host,
        "path": path,
        "query": query,
        "status": 0,
        "request_id": request_id,
        "namespace": namespace,
        "proxied": False,
        "headers": {},
        "fault": fault.kind,
    }


async def spend_latency(mock: Any, seconds: float) -> None:
    """Spend ``seconds`` on the app's clock: advance a manual clock, really wait on the system clock."""
    from ..clock import ManualClock

    seconds = min(seconds, mock.settings.fault_latency_cap_seconds)
    if isinstance(mock.clock, ManualClock):
        await asyncio.to_thread(mock.advance_clock, seconds)
    else:
        await asyncio.sleep(seconds)


async def intercept(mock: Any, scope: Scope, receive: Receive, send: Send, app: Any) -> None:
    """The gateway's fault stage (only called while a fault is queued): answer a matching request, else pass it on."""
    path, root = str(scope.get("path", "")), str(scope.get("root_path", ""))
    path = path[len(root) :] if root and path.startswith(root) else path
    target = classify(scope["method"], header(scope, b"host"), path, header(scope, b"x-fal-mock-namespace"))
    fault = mock.faults.take(target, REQUEST_KINDS) if target is not None else None
    if fault is None:
        await app(scope, receive, send)
        return
    assert target is not None
    if fault.kind == "latency":
        await spend_latency(mock, fault.seconds or 0.0)
        await app(scope, receive, send)
    elif fault.kind == "disconnect":
        mock.store.journal_append(
            journal_entry(mock, method=scope["method"], host=header(scope, b"host"), path=path,
                          query=scope.get("query_string", b"").decode("latin-1"),
                          namespace=target.namespace, fault=fault, request_id=target.request_id),
            mock.settings.journal_size,
        )  # fmt: skip
        await _abort(receive, "connection reset")
    elif fault.kind == "malformed":
        body = json.dumps({"request_id": target.request_id or "", "status": "IN_QUEUE"}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        await _abort(receive, "malformed response")
    elif fault.kind == "ingress":
        await _send(send, fault.status or 502, [(b"content-type", b"text/html")], fault.ingress_page())
    else:
        error = fault.error()
        payload = error.payload()
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in payload.headers.items()]
        headers.append((b"content-type", b"application/json"))
        if fault.with_request_id:
            rid = target.request_id or f"fault-{fault.id}-{fault.fired}"
            headers.append((b"x-fal-request-id", rid.encode("latin-1")))
        await _send(send, payload.status_code, headers, json.dumps(payload.body).encode())


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class InjectedDisconnect(ConnectionResetError):
    """Raised by the gateway's fault stage where it cannot reach the socket (an ASGI server other than uvicorn,
    or ``httpx.ASGITransport`` used directly)."""


async def _abort(receive: Receive, what: str) -> None:
    """Abort the client's connection (uvicorn: its transport hangs off ``receive``); else raise.

    After the abort the server notices the lost connection on the next loop turn and
    then lets the app return without answering (and without logging an error).
    """
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    abort = getattr(transport, "abort", None)
    if not callable(abort):
        raise InjectedDisconnect(f"fal-mock: injected {what} (no socket to abort here)")
    abort()
    for _ in range(3):
        await asyncio.sleep(0)
