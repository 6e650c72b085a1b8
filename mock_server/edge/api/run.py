"""Handlers of the sync-run host (``fal.run`` / ``/run``).

``POST /{endpoint_id}`` runs the model and answers its output directly (or the error directly:
the 422 of invalid input, a 5xx of a model failure), with ``x-fal-request-id``.
``POST /{endpoint_id}/stream`` is fal's streaming variant: a ``text/event-stream`` whose single
``data:`` event is the output (these models produce one final result, no partial ones).  Sync
runs are recorded as finished jobs so the control plane and fixtures can inspect them.

Under the ``realistic`` progression a run takes its queue wait and inference time on the
clock, as real ``fal.run`` blocks for the inference (a client timeout can be tested: on the
wall clock it is waited for; on a manual clock the time passes at once).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ...jobs.progression import REALISTIC
from ...jobs.results import result_body
from ..request_parts import bases, services, wait_on_clock
from .queue import check_output, outcome_response, read_submission

STREAM_SUFFIX = "/stream"


async def run(request: Request) -> Response:
    mock = services(request)
    endpoint_id = request.path_params["endpoint"].strip("/")
    streaming = endpoint_id.endswith(STREAM_SUFFIX) and mock.registry.get(endpoint_id) is None
    if streaming:
        endpoint_id = endpoint_id[: -len(STREAM_SUFFIX)]
    submission = await read_submission(request, mock, endpoint_id)
    job = mock.queue.create(submission, mode="run")
    outcome = job.final_outcome() or await mock.runner.run_now(job)
    if job.progression == REALISTIC:
        await wait_on_clock(mock, job.planned_queue_seconds + job.planned_inference_seconds)
    job = mock.queue.record_run(job, outcome)
    if not streaming or not outcome.ok:
        return outcome_response(mock, job, bases(request))
    body = result_body(outcome, bases(request).cdn, mock.files)
    check_output(mock, submission.endpoint.endpoint_id, body)
    event = f"data: {json.dumps(body, separators=(',', ':'))}\n\n".encode()

    async def once() -> AsyncIterator[bytes]:
        yield event

    return StreamingResponse(once(), media_type="text/event-stream", headers={"x-fal-request-id": job.request_id})
