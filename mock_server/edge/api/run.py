"""Handlers of the sync-run host (``fal.run`` / ``/run``).

``POST /{endpoint_id}`` runs the model and answers its output directly (or the
error directly: the 422 of invalid input, a 5xx of a model failure), with
``x-fal-request-id``.  ``POST /{endpoint_id}/stream`` is fal's streaming variant:
a ``text/event-stream`` whose single ``data:`` event is the output (these models
produce one final result, no partial ones).  Sync runs are recorded as finished
jobs so the control plane and fixtures can inspect them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ...jobs.model import Job
from ...jobs.queue import SubmitRequest
from .. import auth
from ..context import bases, services
from ..render import check_contract, output_body
from .queue import build_submit, outcome_response

STREAM_SUFFIX = "/stream"


async def run(request: Request) -> Response:
    mock = services(request)
    auth.check(mock.settings, request)
    endpoint_id = request.path_params["endpoint"].strip("/")
    streaming = endpoint_id.endswith(STREAM_SUFFIX) and mock.registry.get(endpoint_id) is None
    if streaming:
        endpoint_id = endpoint_id[: -len(STREAM_SUFFIX)]
    submission = await build_submit(request, mock, endpoint_id)
    job = await execute(request, submission)
    if not streaming:
        return outcome_response(mock, job, bases(request))
    outcome = job.final_outcome()
    if outcome is None or not outcome.ok:
        return outcome_response(mock, job, bases(request))
    body = output_body(outcome, bases(request), mock.files)
    check_contract(mock.settings.check_contracts, submission.endpoint.output_contract, body)
    event = f"data: {json.dumps(body, separators=(',', ':'))}\n\n".encode()

    async def once() -> AsyncIterator[bytes]:
        yield event

    return StreamingResponse(once(), media_type="text/event-stream", headers={"x-fal-request-id": job.request_id})


async def execute(request: Request, submission: SubmitRequest) -> Job:
    """Run ``submission`` now (off the event loop) and record it as a finished job."""
    mock = services(request)
    job = mock.queue.new_job(submission, queued=False)
    job.outcome = await mock.runner.run_now(job)
    mock.queue.record_finished(job)
    return job
