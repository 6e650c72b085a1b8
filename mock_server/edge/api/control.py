"""The control API (``/_mock``): the mock's own endpoints, for tests that drive a standalone server.

fal has none of these.  They are what the pytest fixture's handle does in-process
(both go through :class:`...control.MockControl`), over HTTP, and are described by the OpenAPI
document at ``GET /_mock/openapi.json``:

======  ==============================  ===================================================
GET     ``/``                           the dashboard (HTML, :mod:`.dashboard`)
GET     ``/dashboard.json``             the dashboard's parts (JSON), for its in-place updates
GET     ``/health``                     liveness, served endpoints, the clock's time, fal-mock's version
GET     ``/openapi.json``               this API's OpenAPI 3.1 document
GET     ``/settings``                   the settings (secrets masked)
POST    ``/reset``                      forget jobs, journal, files, faults, webhooks
GET     ``/jobs``                       jobs (``?state=``; ``?full=1`` for inputs/outputs/logs, paged)
POST    ``/jobs/complete-all``          complete every unfinished job
GET     ``/jobs/{id}``                  one job in full
POST    ``/jobs/{id}/advance``          one state forward
POST    ``/jobs/{id}/fail``             complete it with an error now (``{error_type, status, ...}``)
GET     ``/jobs/{id}/result``           what its fal result URL answers (not counted as collecting it)
GET     ``/jobs/{id}/video``            its output video's bytes (ranges supported)
GET     ``/jobs/{id}/files/{n}``        its n-th output file's bytes (served or inline; ranges supported)
GET     ``/jobs/{id}/input``            its input image's bytes (data URI or stored file)
GET     ``/faults``                     queued faults (``?pending=1``) and their firings
POST    ``/faults``                     queue a fault (``{on, endpoint, error_type, status, times, ...}``)
DELETE  ``/faults``                     forget queued faults
GET     ``/clock``                      the clock's time and whether it can be moved
POST    ``/clock/advance``              ``{"seconds": N}`` — manual clock only (``--set clock=manual``)
GET     ``/requests``                   the request journal
GET     ``/files``                      stored files (uploads, generated videos)
======  ==============================  ===================================================

(and the webhook routes of :mod:`.webhooks_control`).  The OpenAPI document is built from
``routes.CONTROL_ROUTES`` and :data:`OPERATIONS` (request/answer contracts per route): a new
control route needs its row there — a test checks.  Everything is scoped by
``X-Fal-Mock-Namespace`` (or a ``Key ns-<namespace>:...`` key) when sent: a test
on a shared server only sees and touches its own jobs, files, faults and journal.

**Control token.**  With ``Settings.control_token`` set, every route except
``/health`` needs it — in ``X-Fal-Mock-Control-Token``, ``Authorization: Bearer``
or (for the dashboard's links and media, which a browser cannot add headers to)
a ``token`` query parameter.  :class:`ControlGuard` checks it, for the whole
``/_mock`` mount, in one place.

**Cross-site requests** (a web page in the user's browser reaching the loopback server:
issue 13).  After the token, :class:`ControlGuard` refuses with **403** ``{"detail": ...}``
(:func:`cross_site_error`; ``/health`` stays open):

* an unknown ``Host`` (DNS rebinding: a page on ``evil.example`` whose name now resolves to
  127.0.0.1) — allowed are loopback names and addresses (``localhost``, ``*.localhost``,
  127.0.0.0/8, ``::1``, ``0.0.0.0``), the address the request arrived at (the bound host),
  fal's host names, and ``Settings.allowed_hosts`` (exact names, ``*.suffix`` or ``*``).  A
  request without ``Host`` (HTTP/1.0 tools) passes: browsers always send one;
* an ``Origin`` that is not the server's own (``scheme://Host`` of the request; ``null`` too);
* a state change (any method but GET, HEAD and OPTIONS) that carries none of
  ``Content-Type: application/json``, ``X-Fal-Mock-Control`` (:data:`CONTROL_HEADER`, any value —
  the dashboard sends ``X-Fal-Mock-Control: 1``), ``X-Fal-Mock-Control-Token`` or
  ``Authorization``: a browser sends each of these cross-site only after a CORS preflight, which
  the control API never grants, so a form or ``no-cors`` POST cannot change state.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import re
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ...control import MockControl, job_summary
from ...files.store import parse_key
from ...hostnames import host_allowed, host_of, is_fal_host
from ...jobs.errors import PlainError, ResultNotReady
from ...jobs.model import JobState
from ...services import MockServices
from ...webhooks.policy import is_loopback_alias
from ..render import fal_json
from ..request_parts import bases, control, loads_json, namespace, read_body, services
from ..wire_errors import error_response
from .files import CORS, byte_range
from .queue import outcome_response

TOKEN_HEADER = "x-fal-mock-control-token"
#: Largest JSON body a control request may carry.
MAX_CONTROL_BODY_BYTES = 64 * 1024
#: Routes reachable without the control token.
OPEN_PATHS = frozenset({"/health", "/health/"})
#: Input images the dashboard shows (never SVG or HTML: they could run script on this origin).
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp"})
#: Headers on every byte answer of the control API (user-supplied bytes must never be sniffed or run).
SAFE_MEDIA_HEADERS = {"x-content-type-options": "nosniff", "content-security-policy": "sandbox; default-src 'none'"}


# --- the guard ----------------------------------------------------------------------------


def token_error(scope: Scope, token: str | None) -> PlainError | None:
    """Why this control request may not proceed (None when it may)."""
    path, root = str(scope.get("path", "")), str(scope.get("root_path", ""))
    if not token or (path[len(root) :] if path.startswith(root) else path) in OPEN_PATHS:
        return None
    headers = {key.lower(): value.decode("latin-1") for key, value in scope.get("headers", ())}
    given = headers.get(TOKEN_HEADER.encode(), "")
    scheme, _, value = headers.get(b"authorization", "").partition(" ")
    if not given and scheme.lower() == "bearer":
        given = value.strip()
    if not given:
        query = dict(_query_pairs(scope.get("query_string", b"").decode("latin-1")))
        given = query.get("token", "")
    if given and hmac.compare_digest(given.encode(), token.encode()):
        return None
    return PlainError(
        401,
        "fal-mock control API: this server needs its control token — send it in the X-Fal-Mock-Control-Token "
        "header or as Authorization: Bearer <token> (browsers: add ?token=<token> to the dashboard URL)",
        headers={"www-authenticate": 'Bearer realm="fal-mock control"'},
    )


def _query_pairs(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query, keep_blank_values=True)


#: A header that marks a control request as sent by a program (or the dashboard), never by a cross-site form.
CONTROL_HEADER = "x-fal-mock-control"
#: Methods that change nothing on the control API.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Headers a browser sends cross-site only after a preflight (any one makes a state change acceptable).
PREFLIGHTED_HEADERS = (CONTROL_HEADER.encode(), TOKEN_HEADER.encode(), b"authorization")


def _control_path(scope: Scope) -> str:
    path, root = str(scope.get("path", "")), str(scope.get("root_path", ""))
    return path[len(root) :] if path.startswith(root) else path


def host_allowed_for_control(host: str, scope: Scope, allowed: tuple[str, ...]) -> bool:
    """Whether a control request sent to ``Host: host`` may proceed (see the module docstring)."""
    name = host_of(host).rstrip(".")
    server = scope.get("server") or ("", None)
    return (is_loopback_alias(name) or name == host_of(str(server[0])) or is_fal_host(name)
            or host_allowed(name, allowed))  # fmt: skip


def _origin_parts(origin: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(origin)
        return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:
        return None


def same_origin(origin: str, scope: Scope, host: str | None) -> bool:
    """Whether ``Origin: origin`` is this server's own origin (``scheme://Host``)."""
    scheme = str(scope.get("scheme", "http"))
    if host is None:
        server = scope.get("server") or ("", None)
        host = f"{server[0]}:{server[1]}" if server[1] else str(server[0])
    given, own = _origin_parts(origin), _origin_parts(f"{scheme}://{host}")
    if given is None or own is None or not given[1] or given[1] != own[1]:
        return False
    if given[2] is None and own[2] is None:  # default ports: a TLS-terminating proxy may change the scheme
        return True
    defaults = {"http": 80, "https": 443}
    return (given[2] or defaults.get(given[0])) == (own[2] or defaults.get(own[0]))


def cross_site_error(scope: Scope, allowed_hosts: tuple[str, ...]) -> PlainError | None:
    """Why this control request looks cross-site (None when it does not); see the module docstring."""
    if _control_path(scope) in OPEN_PATHS:
        return None
    host: str | None = None
    origin: str | None = None
    content_type = ""
    preflighted = False
    for key, value in scope.get("headers", ()):
        name = key.lower()
        if name == b"host":
            host = value.decode("latin-1")
        elif name == b"origin":
            origin = value.decode("latin-1")
        elif name == b"content-type":
            content_type = value.decode("latin-1")
        elif name in PREFLIGHTED_HEADERS:
            preflighted = True
    if host is not None and not host_allowed_for_control(host, scope, allowed_hosts):
        return PlainError(
            403,
            f"fal-mock control API: Host {host!r} is not a name of this server (a DNS-rebinding page?); "
            "add it to the allowed_hosts setting (--set allowed_hosts=name) to use the control API under it",
        )
    if origin is not None and not same_origin(origin, scope, host):
        return PlainError(403, f"fal-mock control API: cross-site request refused (Origin {origin!r} is not this "
                               "server's origin)")  # fmt: skip
    if str(scope.get("method", "GET")).upper() in SAFE_METHODS or preflighted:
        return None
    if content_type.split(";", 1)[0].strip().lower() == "application/json":
        return None
    return PlainError(
        403,
        "fal-mock control API: a state-changing request needs Content-Type: application/json or the "
        "X-Fal-Mock-Control: 1 header (so that no web page can send it from a browser)",
    )


class ControlGuard:
    """ASGI wrapper of the whole ``/_mock`` router: the control token and cross-site checks, in one place."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            settings = scope["app"].state.mock.settings
            problem = token_error(scope, settings.control_token) or cross_site_error(scope, settings.allowed_hosts)
            if problem is not None:
                await error_response(problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)


# --- helpers ------------------------------------------------------------------------------


def _scope(request: Request) -> str | None:
    return namespace(request) or None


def _json(mock: MockServices, body: Any, contract: str, status_code: int = 200) -> Response:
    return fal_json(body, contract=contract, check=mock.settings.check_contracts, status_code=status_code)


async def json_body(request: Request) -> dict[str, Any]:
    raw = await read_body(request, MAX_CONTROL_BODY_BYTES)
    if not raw.strip():
        return {}
    try:
        data = loads_json(raw)
    except ValueError as error:
        raise PlainError(400, f"fal-mock control API: the body must be a JSON object ({error})") from None
    if not isinstance(data, dict):
        raise PlainError(400, "fal-mock control API: the body must be a JSON object")
    return data


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").strip().lower() in ("1", "true", "yes")


# --- handlers -----------------------------------------------------------------------------


async def health(request: Request) -> Response:
    """Liveness: the served endpoints, the clock's time and fal-mock's version (no token needed)."""
    from fal_mock import __version__

    mock = services(request)
    body = {"status": "ok", "endpoints": mock.registry.ids(), "now": mock.clock.now(), "version": __version__}
    return _json(mock, body, "control/health")


async def settings(request: Request) -> Response:
    """The app's settings (control token and keys masked)."""
    mock = services(request)
    return _json(mock, mock.settings.to_json(), "control/settings")


async def reset(request: Request) -> Response:
    """Forget jobs, journal entries, files, faults and webhook deliveries (of the caller's namespace)."""
    mock = services(request)
    return _json(mock, await asyncio.to_thread(MockControl(mock).reset, _scope(request)), "control/reset")


async def list_jobs(request: Request) -> Response:
    """Jobs in submission order (``?state=IN_QUEUE|IN_PROGRESS|COMPLETED``; ``?full=1`` adds inputs, outputs, logs)."""
    mock = services(request)
    state = request.query_params.get("state")
    if state is not None and state not in {s.value for s in JobState}:
        raise PlainError(400, f"Invalid state {state!r}: use one of {', '.join(s.value for s in JobState)}")
    if _flag(request, "full"):
        after = _after(request)
        views, next_after = await asyncio.to_thread(_full_page, mock, bases(request).cdn, _scope(request), state, after)
        body: dict[str, Any] = {"jobs": views}
        if next_after is not None:
            body["next_after"] = next_after
        return _json(mock, body, "control/jobs")
    found = [job_summary(job) for job in MockControl(mock).jobs(_scope(request))]
    return _json(mock, {"jobs": [job for job in found if state is None or job["state"] == state]}, "control/jobs")


def _after(request: Request) -> int:
    raw = request.query_params.get("after", "0")
    try:
        value = int(raw)
    except ValueError:
        raise PlainError(400, f"Invalid after {raw[:40]!r}: use the next_after number of the previous page") from None
    if value < 0:
        raise PlainError(400, "after must be >= 0")
    return value


def _full_page(
    mock: MockServices, files_url: str, space: str | None, state: str | None, after: int
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of ``?full=1``: at most ``max_full_jobs_page`` full views of jobs after sequence number ``after``.

    The answer stays bounded whatever the backlog: each view holds at most the job's retained arguments
    (``max_retained_argument_bytes``) and its result; ``next_after`` (when more jobs follow) is the
    ``after`` of the next page.
    """
    plane = MockControl(mock)
    limit = max(1, mock.settings.max_full_jobs_page)
    found = [job for job in plane.jobs(space) if job.seq > after and (state is None or job.state.value == state)]
    chosen = found[:limit]
    done = plane.collected_ids(chosen, space)
    views = [plane.job_view(job, files_url, collected=job.request_id in done) for job in chosen]
    return views, (chosen[-1].seq if len(found) > limit else None)


async def job(request: Request) -> Response:
    """One job in full: arguments, state, output or error, logs, whether its result was collected."""
    mock = services(request)
    rid = request.path_params["request_id"]
    return _json(mock, control(request).view(rid, bases(request).cdn, _scope(request)), "control/job")


async def advance(request: Request) -> Response:
    """Move an unfinished job one state forward (waits for its output before COMPLETED)."""
    mock = services(request)
    rid = request.path_params["request_id"]
    plane = MockControl(mock)
    moved = await asyncio.to_thread(plane.advance_job, rid, _scope(request))
    return _json(mock, plane.view(moved.request_id, bases(request).cdn, _scope(request)), "control/job")


async def complete_all(request: Request) -> Response:
    """Complete every unfinished job of the caller's namespace; answers the jobs it completed."""
    mock = services(request)
    done = await asyncio.to_thread(MockControl(mock).complete_all, _scope(request))
    return _json(mock, {"jobs": [job_summary(item) for item in done]}, "control/jobs")


async def fail(request: Request) -> Response:
    """Complete an unfinished job with an error now (body: ``error_type``, ``status``, ``detail``, ``msg``, ...)."""
    mock = services(request)
    rid = request.path_params["request_id"]
    spec = await json_body(request)
    plane = MockControl(mock)
    failed = await asyncio.to_thread(plane.fail_job, rid, spec, _scope(request))
    return _json(mock, plane.view(failed.request_id, bases(request).cdn, _scope(request)), "control/job")


async def job_result(request: Request) -> Response:
    """What the job's fal result URL answers (its output with file URLs, or its error), for the dashboard's link.

    Reading it here does not count as the client collecting the result (``assert_all_jobs_collected``).
    """
    mock = services(request)
    found = control(request).job(request.path_params["request_id"], _scope(request))
    if not found.finished:
        raise ResultNotReady(found.request_id)
    return outcome_response(mock, found, bases(request))


async def job_video(request: Request) -> Response:
    """The output video of a finished job (``video/mp4``, byte ranges), for the dashboard's ``<video>``."""
    mock = services(request)
    found = control(request).job(request.path_params["request_id"], _scope(request))
    outcome = found.final_outcome() if found.finished else None
    video = next((f for f in outcome.files if f.content_type.startswith("video/")), None) if outcome else None
    data = mock.files.blob(video.sha256) if video is not None else None
    if data is None:
        raise PlainError(404, f"Request {found.request_id} has no output video")
    return _bytes(request, data, "video/mp4")


async def job_file(request: Request) -> Response:
    """Output file number ``index`` of a finished job (served or inline), for the dashboard's media."""
    mock = services(request)
    found = control(request).job(request.path_params["request_id"], _scope(request))
    outcome = found.final_outcome() if found.finished else None
    files = outcome.files if outcome is not None else ()
    index = request.path_params["index"]
    item = files[index] if 0 <= index < len(files) else None
    data = mock.files.blob(item.sha256) if item is not None else None
    if item is None or data is None:
        raise PlainError(404, f"Request {found.request_id} has no output file {index}")
    return _bytes(request, data, item.content_type)


async def job_input(request: Request) -> Response:
    """The input image of a job (a ``data:`` URI or a file of this mock), for the dashboard's ``<img>``."""
    mock = services(request)
    found = control(request).job(request.path_params["request_id"], _scope(request))
    url = found.arguments.get("image_url") if isinstance(found.arguments, dict) else None
    image = input_image(mock, url) if isinstance(url, str) else None
    if image is None:
        raise PlainError(404, f"Request {found.request_id} has no input image the mock holds")
    return _bytes(request, image[0], image[1])


def input_image(mock: MockServices, url: str) -> tuple[bytes, str] | None:
    """The bytes and type of an image URL the mock can show without the network (data URI or own file)."""
    if url.startswith("data:"):
        head, _, payload = url[5:].partition(",")
        mime = head.split(";")[0].strip().lower()
        if mime not in IMAGE_TYPES or not head.endswith(";base64"):
            return None
        try:
            return base64.b64decode(payload, validate=False), mime
        except (binascii.Error, ValueError):
            return None
    marker = "/files/"
    if marker not in url:
        return None
    key = url.split(marker, 1)[1].split("?", 1)[0]
    stored = mock.files.get(key) if parse_key(key) else None
    if stored is None or stored.content_type.split(";")[0].strip().lower() not in IMAGE_TYPES:
        return None
    return mock.files.read(stored), stored.content_type.split(";")[0].strip().lower()


def _bytes(request: Request, data: bytes, content_type: str) -> Response:
    headers = {"content-type": content_type, "accept-ranges": "bytes", "cache-control": "no-store",
               **SAFE_MEDIA_HEADERS, **CORS}  # fmt: skip
    try:
        span = byte_range(request.headers.get("range"), len(data))
    except ValueError:
        return Response(status_code=416, headers={"content-range": f"bytes */{len(data)}", **headers})
    if span is None:
        return Response(data, headers=headers)
    start, end = span
    headers["content-range"] = f"bytes {start}-{end - 1}/{len(data)}"
    return Response(data[start:end], status_code=206, headers=headers)


async def list_faults(request: Request) -> Response:
    """Queued faults (``?pending=1``: only those that can still fire) and the log of their firings."""
    mock = services(request)
    space = _scope(request)
    plane = MockControl(mock)
    found = plane.faults(space, pending=_flag(request, "pending"))
    body = {"faults": [fault.to_json() for fault in found], "fired": plane.fired_faults(space)}
    return _json(mock, body, "control/faults")


async def add_fault(request: Request) -> Response:
    """Queue a fault for the caller's namespace (body: see the ``control/fault-request`` contract)."""
    mock = services(request)
    spec = await json_body(request)
    fault = MockControl(mock).add_fault(spec, namespace(request))
    return _json(mock, fault.to_json(), "control/fault", status_code=201)


async def clear_faults(request: Request) -> Response:
    """Forget the caller's queued faults."""
    mock = services(request)
    dropped = MockControl(mock).clear_faults(_scope(request))
    return _json(mock, {"faults": [], "fired": [], "cleared": dropped}, "control/faults")


async def get_clock(request: Request) -> Response:
    """The clock's time and whether it is a manual one."""
    mock = services(request)
    return _json(mock, MockControl(mock).clock(), "control/clock")


async def advance_clock(request: Request) -> Response:
    """Move a manual clock forward (``{"seconds": N}``), settling jobs and delivering due webhooks."""
    mock = services(request)
    spec = await json_body(request)
    unknown = sorted(set(spec) - {"seconds"})
    if unknown:
        raise PlainError(422, f'unknown option(s) {unknown}: the body is {{"seconds": <number >= 0>}}')
    body = await asyncio.to_thread(MockControl(mock).advance_clock, spec.get("seconds"))
    return _json(mock, body, "control/clock")


async def journal(request: Request) -> Response:
    """The request journal (oldest first), each entry with its kind (submit, status, result, ...)."""
    mock = services(request)
    return _json(mock, {"requests": MockControl(mock).journal(_scope(request))}, "control/requests")


async def list_files(request: Request) -> Response:
    """Stored files — uploads and generated videos — with their URLs on this server."""
    mock = services(request)
    return _json(mock, {"files": MockControl(mock).files(bases(request).cdn, _scope(request))}, "control/files")


async def openapi(request: Request) -> Response:
    """This API's OpenAPI 3.1 document."""
    return fal_json(openapi_document(bases(request).control), contract=None, check=False)


# --- the OpenAPI document -----------------------------------------------------------------

#: (method, path) → (request body contract, success status, answer contract or media type) of every control route.
OPERATIONS: dict[tuple[str, str], tuple[str | None, int, str]] = {
    ("GET", "/"): (None, 200, "text/html"),
    ("GET", "/dashboard.json"): (None, 200, "application/json"),
    ("GET", "/health"): (None, 200, "control/health"),
    ("GET", "/openapi.json"): (None, 200, "application/json"),
    ("GET", "/settings"): (None, 200, "control/settings"),
    ("POST", "/reset"): (None, 200, "control/reset"),
    ("GET", "/jobs"): (None, 200, "control/jobs"),
    ("POST", "/jobs/complete-all"): (None, 200, "control/jobs"),
    ("GET", "/jobs/{request_id}"): (None, 200, "control/job"),
    ("POST", "/jobs/{request_id}/advance"): (None, 200, "control/job"),
    ("POST", "/jobs/{request_id}/fail"): ("control/fail-request", 200, "control/job"),
    ("GET", "/jobs/{request_id}/result"): (None, 200, "application/json"),
    ("GET", "/jobs/{request_id}/video"): (None, 200, "video/mp4"),
    ("GET", "/jobs/{request_id}/input"): (None, 200, "image/*"),
    ("GET", "/jobs/{request_id}/files/{index:int}"): (None, 200, "application/octet-stream"),
    ("GET", "/faults"): (None, 200, "control/faults"),
    ("POST", "/faults"): ("control/fault-request", 201, "control/fault"),
    ("DELETE", "/faults"): (None, 200, "control/faults"),
    ("GET", "/clock"): (None, 200, "control/clock"),
    ("POST", "/clock/advance"): ("control/clock-advance-request", 200, "control/clock"),
    ("GET", "/requests"): (None, 200, "control/requests"),
    ("GET", "/files"): (None, 200, "control/files"),
    ("GET", "/webhooks"): (None, 200, "webhooks/journal"),
    ("DELETE", "/webhooks"): (None, 200, "webhooks/journal"),
    ("POST", "/webhooks/deliver-due"): (None, 200, "webhooks/journal"),
    ("POST", "/webhooks/pause"): (None, 200, "webhooks/journal"),
    ("POST", "/webhooks/resume"): (None, 200, "webhooks/journal"),
    ("GET", "/webhooks/idle"): (None, 200, "webhooks/journal"),
    ("GET", "/webhooks/{delivery_id}"): (None, 200, "webhooks/journal-entry"),
    ("POST", "/webhooks/{delivery_id}/trigger"): (None, 200, "webhooks/journal-entry"),
    ("POST", "/webhooks/{delivery_id}/resend"): (None, 200, "webhooks/journal-entry"),
    ("POST", "/webhooks/{delivery_id}/drop"): (None, 200, "webhooks/journal-entry"),
    ("POST", "/webhooks/{delivery_id}/delay"): (None, 200, "webhooks/journal-entry"),
}
_ERRORS = {
    "400": "Malformed request",
    "401": "Control token missing or wrong",
    "403": "Cross-site request refused: an unknown Host, a foreign Origin, or a state change with neither "
    "Content-Type: application/json nor X-Fal-Mock-Control",
    "404": "Unknown job, delivery or file",
    "409": "Not possible in the current state",
    "422": "Invalid body (the detail says what is wrong)",
}


def openapi_document(server_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the control API, built from the route table and the contracts."""
    from fal_mock import contracts

    from ..routes import CONTROL_ROUTES

    paths: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for route in CONTROL_ROUTES:
        path, methods, endpoint = getattr(route, "path", ""), getattr(route, "methods", None) or set(), None
        endpoint = getattr(route, "endpoint", None)
        doc = (getattr(endpoint, "__doc__", None) or "").strip()
        for method in sorted(set(methods) - {"HEAD"}):
            request_contract, status, answer = OPERATIONS.get((method, path), (None, 200, "application/json"))
            operation: dict[str, Any] = {
                "operationId": f"{method.lower()}_{getattr(route, 'name', 'op')}_{len(paths)}",
                "summary": doc.split("\n")[0] if doc else f"{method} {path}",
                "parameters": [{"name": "X-Fal-Mock-Namespace", "in": "header", "required": False,
                                "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"},
                                "description": "Scope the call to one namespace (tests sharing a server)."}]
                + [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                   for name in getattr(route, "param_convertors", {})]
                + ([{"name": "X-Fal-Mock-Control", "in": "header", "required": False, "schema": {"type": "string"},
                     "description": "Any value (the dashboard sends 1): a state change needs it or a JSON "
                                    "Content-Type, so no web page can send one cross-site."}]
                   if method not in SAFE_METHODS else []),
                "responses": {str(status): _answer(answer, used)} | {
                    code: {"description": text, "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/errors.http-error"}}}}
                    for code, text in _ERRORS.items()
                },
            }  # fmt: skip
            used.add("errors/http-error")
            if request_contract is not None:
                used.add(request_contract)
                operation["requestBody"] = {"required": False, "content": {"application/json": {"schema": {
                    "$ref": f"#/components/schemas/{request_contract.replace('/', '.')}"}}}}  # fmt: skip
            if path in OPEN_PATHS:
                operation["security"] = []
            paths.setdefault(re.sub(r"\{(\w+):\w+\}", r"{\1}", path), {})[method.lower()] = operation
    schemas = {}
    pending = sorted(used)
    while pending:
        name = pending.pop()
        if name in schemas:
            continue
        document = contracts.schema(name)
        schemas[name] = document
        pending += [ref for ref in _refs(document, document["$id"]) if ref not in schemas]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "fal-mock control API",
            "version": "1",
            "description": "The mock's own endpoints (fal has none of them): inspect and drive jobs, queue faults, "
            "move a manual clock, read the request journal, files and webhook deliveries. Scoped by "
            "X-Fal-Mock-Namespace; with a control token set, every route but /health needs it. Cross-site "
            "requests are refused (403): unknown Host names (the allowed_hosts setting adds some), a foreign "
            "Origin, and state changes with neither Content-Type: application/json nor X-Fal-Mock-Control.",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": {name.replace("/", "."): schemas[name] for name in sorted(schemas)},
            "securitySchemes": {
                "controlToken": {"type": "apiKey", "in": "header", "name": "X-Fal-Mock-Control-Token"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
        "security": [{"controlToken": []}, {"bearer": []}, {}],
    }


def _answer(answer: str, used: set[str]) -> dict[str, Any]:
    if "/" in answer and not answer.startswith(("control/", "webhooks/")):
        if answer == "application/json":
            media: dict[str, Any] = {"schema": {"type": "object"}}
        elif answer.startswith("text/"):
            media = {"schema": {"type": "string"}}
        else:
            media = {"schema": {"type": "string", "contentMediaType": answer}}
        return {"description": "OK", "content": {answer: media}}
    used.add(answer)
    return {"description": "OK", "content": {"application/json": {"schema": {
        "$ref": f"#/components/schemas/{answer.replace('/', '.')}"}}}}  # fmt: skip


def _refs(node: Any, base: str) -> list[str]:
    """Names of the contracts a schema refers to (``$ref`` resolved against its ``$id``)."""
    from urllib.parse import urldefrag, urljoin

    from fal_mock.contracts import BASE_URI

    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                target = urldefrag(urljoin(base, value))[0]
                if target.startswith(BASE_URI) and target.endswith(".schema.json"):
                    found.append(target[len(BASE_URI) : -len(".schema.json")])
            else:
                found += _refs(value, base)
    elif isinstance(node, list):
        for item in node:
            found += _refs(item, base)
    return found
