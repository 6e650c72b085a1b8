"""The gateway's fault stage: queued faults answer the requests they match.

:mod:`..faults.book` says what a fault is and keeps the book of queued ones; which request is
which is :func:`..faults.targets.classify`.  :func:`intercept` (called by :mod:`.gateway` only
while a fault is queued) spends the first matching fault and answers for it: ``latency`` is spent
on the app's clock (:func:`.request_parts.wait_on_clock`) before the request goes on;
``disconnect`` aborts the socket with no answer (journalled with status 0); ``malformed`` sends
half a JSON body, then aborts; ``ingress`` answers nginx's HTML page; the error kinds answer fal's
error body.  Where there is no socket to abort (an ASGI server other than uvicorn, or
``httpx.ASGITransport`` used directly) it raises :class:`InjectedDisconnect`.  The in-process
transport of ``fal_mock.fixtures`` acts out the transport kinds itself, before a request reaches
the app (:meth:`..control.MockControl.transport_fault`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

from ..control import MockControl
from ..faults.book import REQUEST_KINDS
from ..faults.targets import classify
from .request_parts import wait_on_clock

# --- the HTTP stage -----------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Receive = Any
Send = Any


def header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


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
        await wait_on_clock(mock, min(fault.seconds or 0.0, mock.settings.fault_latency_cap_seconds))
        await app(scope, receive, send)
    elif fault.kind == "disconnect":
        MockControl(mock).record_cut_off(method=scope["method"], host=header(scope, b"host"), path=path,
                                         query=scope.get("query_string", b"").decode("latin-1"),
                                         namespace=target.namespace, fault=fault, request_id=target.request_id)
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
