"""Handlers of the queue host (``queue.fal.run`` / ``/queue``): submit, status, stream, result, cancel.

Each handler reads the request into typed values, asks the job queue (:mod:`...jobs.queue`) and
renders the answer; the route table checked the caller's key first (:mod:`..auth`), and the
core's errors become fal's answers in :mod:`..wire_errors`.  Status, result and cancel live under
``/{owner}/{alias}/requests/{id}`` (the endpoint's sub-path is dropped); the long form with the
sub-path answers 405 as on fal.  Trailing slashes are accepted everywhere.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ...contract_check import ContractSelfCheckFailed, check_contract
from ...files.store import lifecycle_seconds
from ...jobs.endpoints import Endpoint
from ...jobs.errors import ErrorPayload, PlainError, RequestError, ResultNotReady, UnknownEndpoint
from ...jobs.model import Job
from ...jobs.progression import check_progression, generated_at_submit
from ...jobs.queue import CancelResult, Submission, validate_input
from ...jobs.results import result_body
from ...services import MockServices
from ...webhooks.policy import targets_own_control
from ..hosts import PINNED_ORIGIN_KEY, Bases
from ..render import fal_json, status_body, submit_body
from ..request_parts import (
    PROGRESSION_HEADER,
    bases,
    header,
    loads_json,
    namespace,
    query_value,
    read_body,
    services,
)
from ..wire_errors import payload_response

#: Seconds between looks at a job while a status stream waits for its next state.
STREAM_TICK_SECONDS = 0.02
#: The request header with the lifecycle of generated files (``{"expiration_duration_seconds": N}``).
LIFECYCLE_PREFERENCE = "x-fal-object-lifecycle-preference"
#: Submit header (mock only) that makes the job's webhook carry ``payload: null`` + ``payload_error``.
UNSERIALIZABLE_HEADER = "x-fal-mock-webhook-unserializable"


def endpoint_for(mock: MockServices, endpoint_id: str) -> Endpoint:
    endpoint = mock.registry.get(endpoint_id)
    if endpoint is None:
        raise UnknownEndpoint(endpoint_id.strip("/"), served_hint(mock, endpoint_id))
    return endpoint


def served_hint(mock: MockServices, endpoint_id: str) -> str:
    """What to tell a caller of an endpoint the mock does not serve: near ids, and how to add one."""
    close = mock.registry.suggestions(endpoint_id)
    ids = mock.registry.ids()
    served = f"fal-mock serves: {', '.join(ids)}" if len(ids) <= 20 else f"fal-mock serves {len(ids)} endpoints"
    guess = f" Did you mean {' or '.join(close)}?" if close else ""
    return (f"{served}.{guess} Add one with `fal-mock serve --openapi FILE` (its fal OpenAPI document; "
            "`fal-mock fetch-openapi ID` downloads it).")  # fmt: skip


def app_id_of(request: Request) -> str:
    params = request.path_params
    return f"{params['owner']}/{params['alias']}"


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _start_timeout(request: Request) -> float | None:
    raw = header(request, "x-fal-request-timeout")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise RequestError("bad_request", f"Invalid X-Fal-Request-Timeout header: {raw!r}") from None
    if not 0.1 < value < float("inf"):
        raise RequestError("bad_request", f"X-Fal-Request-Timeout must be greater than 0.1 seconds, got {raw!r}")
    return value


def _priority(request: Request) -> str:
    value = (header(request, "x-fal-queue-priority") or "normal").strip().lower() or "normal"
    if value not in ("normal", "low"):
        raise RequestError("bad_request", f"Invalid X-Fal-Queue-Priority header: {value!r} (use normal or low)")
    return value


def _output_lifetime(request: Request) -> float | None:
    """A malformed ``X-Fal-Object-Lifecycle-Preference`` is a bad request (as on uploads), not ignored."""
    try:
        return lifecycle_seconds(header(request, LIFECYCLE_PREFERENCE))
    except ValueError as error:
        raise RequestError("bad_request", f"Invalid X-Fal-Object-Lifecycle-Preference header: {error}") from None


def own_addresses(request: Request) -> list[tuple[str, int]]:
    """``(host, port)`` pairs this server is reached at: its socket, the ``Host`` it was sent to, the proxy's origin."""
    found: list[tuple[str, int]] = []
    server = request.scope.get("server")
    if server and server[1] is not None:
        found.append((str(server[0]), int(server[1])))
    origins = [f"{request.url.scheme}://{request.headers.get('host', '')}", request.scope.get(PINNED_ORIGIN_KEY) or ""]
    for origin in origins:
        try:
            parts = urlsplit(origin)
            if parts.hostname:
                found.append((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)))
        except ValueError:
            continue
    return found


def _webhook_url(request: Request) -> str | None:
    """``fal_webhook``, refused when it points at this server's own control API (``/_mock``)."""
    url = (request.query_params.get("fal_webhook") or None) if request.scope.get("query_string") else None
    if url is not None and targets_own_control(url, own_addresses(request)):
        raise RequestError(
            "bad_request",
            "Invalid fal_webhook: it points at this fal-mock server's own control API (/_mock); a webhook may not "
            "call the control API (it could reset or fail every test's jobs)",
        )
    return url


def _max_queue_length(request: Request) -> int | None:
    raw = request.query_params.get("fal_max_queue_length") if request.scope.get("query_string") else None
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise RequestError("bad_request", f"Invalid fal_max_queue_length: {raw!r}") from None
    if value < 0:
        raise RequestError("bad_request", "fal_max_queue_length must be >= 0")
    return value


def parse_json_body(raw: bytes) -> tuple[Any, str | None]:
    """``(arguments, None)`` or ``(None, error text)`` when the body is not JSON."""
    if not raw.strip():
        return {}, None
    try:
        return loads_json(raw), None
    except (UnicodeDecodeError, ValueError) as error:
        return None, str(error)


def progression_override(request: Request) -> str | None:
    value = header(request, PROGRESSION_HEADER)
    if value is None:
        return None
    try:
        return check_progression(value.strip())
    except ValueError as error:
        raise PlainError(400, f"Invalid {PROGRESSION_HEADER} header: {error}") from None


async def read_submission(request: Request, mock: MockServices, endpoint_id: str) -> Submission:
    """The parts of a submit (or run) request the queue needs, checked and typed."""
    endpoint = endpoint_for(mock, endpoint_id)
    output_lifetime = _output_lifetime(request)
    raw = await read_body(request, mock.settings.max_request_body_bytes)
    arguments, body_error = parse_json_body(raw)
    return Submission(
        endpoint=endpoint,
        arguments=arguments,
        origin=bases(request).origin,
        body_error=body_error,
        arguments_json=raw if body_error is None and arguments is not None and raw.strip() else None,
        namespace=namespace(request),
        priority=_priority(request),
        runner_hint=header(request, "x-fal-runner-hint"),
        start_timeout=_start_timeout(request),
        no_retry=_flag(header(request, "x-fal-no-retry")),
        webhook_url=_webhook_url(request),
        max_queue_length=_max_queue_length(request),
        progression=progression_override(request),
        output_lifetime=output_lifetime,
        webhook_payload_error=_flag(header(request, UNSERIALIZABLE_HEADER)),
    )


async def submit(request: Request) -> Response:
    mock = services(request)
    submission = await read_submission(request, mock, request.path_params["endpoint"])
    if mock.settings.strict_submit:  # the runner's 422, at submit
        validate_input(submission.endpoint, submission, mock.queue.validated)
    if mock.store.run_id == "memory":
        job = mock.queue.submit(submission)
    else:  # a persistent store commits to disk: keep that off the event loop
        job = await asyncio.to_thread(mock.queue.submit, submission)
    if generated_at_submit(job.progression) and not job.finished:
        # immediate / polls:N: the output exists before anyone can look — and its job has heard of it (an
        # outcome the runner has stored but not yet announced leaves the job unfinished: the runner still
        # holds it as pending, and wait() returns once it is announced)
        await mock.runner.wait(job.request_id)
        job = mock.queue.find(job.request_id)
    body = submit_body(job, bases(request), mock.queue.queue_position(job))
    return fal_json(body, contract="queue/submit-response", check=mock.settings.check_contracts,
                    headers={"x-fal-request-id": job.request_id})  # fmt: skip


def wants_logs(request: Request) -> bool:
    return _flag(query_value(request, "logs"))


def render_status(mock: MockServices, job: Job, request_bases: Bases, with_logs: bool) -> dict[str, Any]:
    return status_body(
        job,
        request_bases,
        queue_position=mock.queue.queue_position(job),
        logs=mock.queue.logs(job) if with_logs else None,
    )


async def status(request: Request) -> Response:
    mock = services(request)
    rid = request.path_params["request_id"]
    job = mock.queue.read(rid, app_id=app_id_of(request), namespace=namespace(request), status_read=True)
    body = render_status(mock, job, bases(request), wants_logs(request))
    return fal_json(
        body,
        contract="queue/status",
        check=mock.settings.check_contracts,
        status_code=200 if job.finished else 202,
        headers={"x-fal-request-id": job.request_id},
    )


async def status_stream(request: Request) -> Response:
    mock = services(request)
    rid = request.path_params["request_id"]
    app_id = app_id_of(request)
    space = namespace(request)
    job = mock.queue.read(rid, app_id=app_id, namespace=space, status_read=True)
    request_bases = bases(request)
    with_logs = wants_logs(request)

    async def events() -> AsyncIterator[bytes]:
        # Each event carries only the log entries not sent before (fal's SSE example does; the JS
        # client's streaming subscribe accumulates them "to match previous polling behavior").
        current = job
        last_sent: str | None = None
        logs_sent = 0
        last_ping = time.monotonic()
        while True:
            body = render_status(mock, current, request_bases, with_logs)
            logs = body.get("logs")
            marker = json.dumps({**body, "logs": len(logs) if isinstance(logs, list) else None})
            if marker != last_sent:
                last_sent = marker
                if isinstance(logs, list):
                    body["logs"] = logs[logs_sent:]
                    logs_sent = len(logs)
                check_contract(mock.settings.check_contracts, "queue/status", body)
                yield f"data: {json.dumps(body, separators=(',', ':'))}\n\n".encode()
            if current.finished:
                return
            await asyncio.sleep(STREAM_TICK_SECONDS)
            if time.monotonic() - last_ping >= mock.settings.sse_ping_seconds:
                last_ping = time.monotonic()
                yield b": ping\n\n"
            current = mock.queue.read(rid, app_id=app_id, namespace=space, status_read=True)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"x-fal-request-id": job.request_id, "cache-control": "no-cache", "x-accel-buffering": "no"},
    )


async def result(request: Request) -> Response:
    mock = services(request)
    rid = request.path_params["request_id"]
    job = mock.queue.read(rid, app_id=app_id_of(request), namespace=namespace(request), status_read=False)
    if not job.finished:
        raise ResultNotReady(job.request_id)
    return outcome_response(mock, job, bases(request))


def outcome_response(mock: MockServices, job: Job, request_bases: Bases) -> Response:
    """What a finished job answers: its output (200) or its replayed error."""
    outcome = job.final_outcome()
    if outcome is None:  # finished jobs always have one; keep the type checker honest
        raise RequestError("internal_error", "fal-mock lost the outcome of a finished job")
    if not outcome.ok:
        check_contract(mock.settings.check_contracts, "errors/error", outcome.body)
        return payload_response(ErrorPayload(outcome.status_code, outcome.body, outcome.headers),
                                request_id=job.request_id)  # fmt: skip
    body = result_body(outcome, request_bases.cdn, mock.files)
    check_output(mock, job.endpoint_id, body)
    return fal_json(body, contract=None, check=False, headers={"x-fal-request-id": job.request_id})


def check_output(mock: MockServices, endpoint_id: str, body: Any) -> None:
    """With ``check_contracts`` on, an output that breaks its endpoint's Output schema is a 500 naming it."""
    endpoint = mock.registry.get(endpoint_id)
    if mock.settings.check_contracts and endpoint is not None:
        problems = endpoint.output_problems(body)
        if problems:
            raise ContractSelfCheckFailed(f"{endpoint_id} output", problems)


async def cancel(request: Request) -> Response:
    mock = services(request)
    rid = request.path_params["request_id"]
    answer = mock.queue.cancel(rid, app_id=app_id_of(request), namespace=namespace(request))
    code = 202 if answer is CancelResult.REQUESTED else 400
    return fal_json({"status": answer.value}, contract="queue/cancel-response", check=mock.settings.check_contracts,
                    status_code=code, headers={"x-fal-request-id": rid})  # fmt: skip


async def long_form(request: Request) -> Response:
    """The status/result/cancel paths with the endpoint's sub-path: fal answers 405."""
    raise PlainError(
        405,
        "Method Not Allowed: status, result and cancel URLs use only the owner and the app "
        f"(/{request.path_params['owner']}/{request.path_params['alias']}/requests/<id>)",
    )

