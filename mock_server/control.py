"""The control plane's operations on one app: what ``/_mock`` and the pytest fixture's handle do.

Both faces share these functions, so a job looks the same whether a test reads it
from ``fal_mock.jobs`` in-process or from ``GET /_mock/jobs/{id}`` on a shared
server.  Nothing here knows about Starlette; every function takes the app's
:class:`~.context.MockServices` and, where it matters, a namespace (None = all).
Failures raise the mock's :class:`~.errors.HTTPError` (404 unknown job, 409 job
already finished, 422 bad fault or clock request) so the HTTP layer can render
them as they are; the fixture turns them into ``LookupError``/``ValueError``.

A job counts as **collected** once its result was fetched after it completed (or
it was cancelled, or it was a sync run): the opt-in teardown check
``assert_all_jobs_collected`` reports the others.  This is read from the request
journal, so it covers any client.
"""

from __future__ import annotations

import concurrent.futures
import re
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .edge.fault_stage import classify
from .edge.hosts import Bases
from .edge.render import output_body
from .faults.book import FaultBookFull
from .jobs.errors import HTTPError
from .jobs.model import Job, JobState

if TYPE_CHECKING:
    from .edge.context import MockServices

#: The latest time a clock may be moved to (9999-12-31T23:59:59Z: datetimes and ISO timestamps stay valid).
LATEST_CLOCK = 253_402_300_799.0
#: Wall seconds the control plane waits for a job's output to be generated before moving it to COMPLETED.
OUTCOME_TIMEOUT_SECONDS = 120.0
_RESULT_PATH = re.compile(r"/requests/(?P<rid>[^/]+)/?$")
FAIL_KEYS = ("kind", "error_type", "status", "detail", "msg", "loc", "ctx", "headers", "retryable")


# --- reading ------------------------------------------------------------------------------


def job_summary(job: Job) -> dict[str, Any]:
    """The short view of a job (lists)."""
    outcome = job.final_outcome()
    return {
        "request_id": job.request_id,
        "endpoint_id": job.endpoint_id,
        "namespace": job.namespace,
        "state": job.state.value,
        "progression": job.progression,
        "submitted_at": job.submitted_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "priority": job.priority,
        "webhook_url": job.webhook_url,
        "cancel_requested": job.cancel_requested,
        "status_code": outcome.status_code if outcome and job.finished else None,
        "error_type": outcome.error_type if outcome and job.finished else None,
        "mode": job.labels.get("mode", "queue"),
        "fault": job.labels.get("fault"),
    }


def job_view(mock: MockServices, job: Job, bases: Bases, *, collected: bool) -> dict[str, Any]:
    """The full view of a job: inputs, state, output or error (as the result endpoint would answer), logs."""
    outcome = job.final_outcome() if job.finished else None
    video = outcome.video if outcome is not None else None
    return {
        **job_summary(job),
        "arguments": job.arguments,
        "output": output_body(outcome, bases, mock.files) if outcome is not None and outcome.ok else None,
        "error": outcome.body if outcome is not None and not outcome.ok else None,
        "error_message": outcome.error if outcome is not None and not outcome.ok else None,
        "logs": mock.queue.logs(job),
        "collected": collected,
        "video": None
        if video is None
        else {
            "width": video.width,
            "height": video.height,
            "fps": video.fps,
            "frame_count": video.frame_count,
            "duration": video.duration,
            "size": video.size,
            "sha256": video.sha256,
            "file_key": video.file_key,
            "data_uri": video.data_uri,
        },
    }


def jobs(mock: MockServices, namespace: str | None = None) -> list[Job]:
    """The jobs (of one namespace, or all), in submission order."""
    return sorted(mock.store.jobs(namespace=namespace), key=lambda job: job.seq)


def find_job(mock: MockServices, request_id: str, namespace: str | None = None) -> Job:
    job = mock.store.get_job(request_id)
    if job is None or (namespace is not None and job.namespace != namespace):
        raise HTTPError(404, f"Request {request_id} not found", status="NOT_FOUND")
    return job


def collected_ids(mock: MockServices, candidates: Iterable[Job], namespace: str | None = None) -> set[str]:
    """Which of ``candidates`` were collected (see the module docstring)."""
    wanted = {job.request_id: job for job in candidates}
    done = {rid for rid, job in wanted.items() if job.cancel_requested or job.labels.get("mode") == "run"}
    for record in mock.store.journal(namespace=namespace):
        match = _RESULT_PATH.search(str(record.get("path", "")))
        if record.get("method") != "GET" or match is None or match["rid"] not in wanted:
            continue
        job = wanted[match["rid"]]
        outcome = job.final_outcome()
        if record.get("status") not in (0, 400) or (
            record.get("status") == 400
            and outcome is not None
            and outcome.status_code == 400
            and job.completed_at is not None
            and record.get("at", 0) >= job.completed_at
        ):
            done.add(job.request_id)
    return done


def views(mock: MockServices, bases: Bases, namespace: str | None = None) -> list[dict[str, Any]]:
    found = jobs(mock, namespace)
    done = collected_ids(mock, found, namespace)
    return [job_view(mock, job, bases, collected=job.request_id in done) for job in found]


def view(mock: MockServices, request_id: str, bases: Bases, namespace: str | None = None) -> dict[str, Any]:
    job = find_job(mock, request_id, namespace)
    return job_view(mock, job, bases, collected=job.request_id in collected_ids(mock, [job], namespace))


def journal(mock: MockServices, namespace: str | None = None) -> list[dict[str, Any]]:
    """The request journal, each entry with the ``kind`` faults use (submit, status, ...) and its app id."""
    entries = []
    for record in mock.store.journal(namespace=namespace):
        target = classify(str(record.get("method", "")), str(record.get("host", "")), str(record.get("path", "")))
        entries.append({**record, "kind": target.kind if target else None, "app_id": target.app_id if target else None})
    return entries


def files(mock: MockServices, bases: Bases, namespace: str | None = None) -> list[dict[str, Any]]:
    """Stored files (uploads and generated videos) with the URL they are served at for ``bases``."""
    return [
        {**stored.to_json(), "url": f"{bases.cdn}/files/{stored.key}"}
        for stored in sorted(mock.files.files(namespace), key=lambda f: f.created_at)
    ]


def clock(mock: MockServices) -> dict[str, Any]:
    return {"now": mock.clock.now(), "manual": callable(getattr(mock.clock, "advance", None))}


# --- acting -------------------------------------------------------------------------------


def wait_for_outcome(mock: MockServices, request_id: str, timeout: float = OUTCOME_TIMEOUT_SECONDS) -> None:
    """Block until the job's output (or error) is generated (starting the work if nobody is on it)."""
    deadline = time.monotonic() + timeout
    while True:
        job = mock.store.get_job(request_id)
        if job is None or job.final_outcome() is not None:
            return
        future = mock.runner.start(request_id)
        left = deadline - time.monotonic()
        if left <= 0:
            raise HTTPError(504, f"fal-mock: the output of {request_id} was not generated within {timeout:g} s")
        if future is not None:
            try:
                future.result(timeout=left)
            except concurrent.futures.TimeoutError:
                continue
            return
        time.sleep(min(0.05, left))  # another process holds the generation claim


def wait_for_time_driven(mock: MockServices) -> None:
    """Wait until every unfinished ``realistic`` job has its output, so moving the clock completes what is due.

    (Outputs are generated from submission on worker threads; without this a job
    whose time has come could still be rendering when the clock moves past its end.)
    """
    for job in mock.store.unfinished_jobs():
        if job.progression == "realistic" and job.final_outcome() is None:
            wait_for_outcome(mock, job.request_id)


def advance_job(mock: MockServices, request_id: str, namespace: str | None = None) -> Job:
    """Move an unfinished job one state forward (IN_QUEUE → IN_PROGRESS → COMPLETED)."""
    job = find_job(mock, request_id, namespace)
    if job.finished:
        raise HTTPError(409, f"Request {request_id} is already completed", status="ALREADY_COMPLETED")
    target = mock.queue.next_state(job)
    if target is JobState.COMPLETED:
        wait_for_outcome(mock, request_id)
    return mock.queue.push(request_id, target)


def complete_all(mock: MockServices, namespace: str | None = None) -> list[Job]:
    """Complete every unfinished job (of one namespace, or all); returns them, completed."""
    pending = [job for job in jobs(mock, namespace) if not job.finished]
    for job in pending:
        wait_for_outcome(mock, job.request_id)
    done = []
    for job in pending:
        current = mock.store.get_job(job.request_id)
        if current is not None and not current.finished:
            done.append(mock.queue.push(job.request_id, JobState.COMPLETED))
    return done


def fail_job(mock: MockServices, request_id: str, spec: Mapping[str, Any], namespace: str | None = None) -> Job:
    """Complete an unfinished job with an error now (``spec``: error_type, status, detail, msg, loc, ctx, ...)."""
    unknown = sorted(set(spec) - set(FAIL_KEYS))
    if unknown:
        raise HTTPError(422, f"unknown option(s) {unknown} for failing a job; known options: {', '.join(FAIL_KEYS)}")
    values = {key: value for key, value in spec.items() if value is not None}
    if "error_type" not in values and "status" not in values and "kind" not in values:
        values["error_type"] = "internal_server_error"
    job = find_job(mock, request_id, namespace)
    if job.finished:
        raise HTTPError(409, f"Request {request_id} is already completed", status="ALREADY_COMPLETED")
    from .faults.book import make_fault

    try:
        fault = make_fault(values, mock.settings, fault_id="fail", namespace=job.namespace, now=mock.clock.now())
    except ValueError as error:
        raise HTTPError(422, str(error)) from None
    if fault.kind not in ("model", "request", "http"):
        raise HTTPError(422, f"a job can fail with a model, request or http error, not kind={fault.kind!r}")
    return mock.queue.push(request_id, JobState.COMPLETED, outcome=fault.outcome())


def add_fault(mock: MockServices, spec: Mapping[str, Any], namespace: str = "") -> dict[str, Any]:
    try:
        return mock.faults.add(spec, namespace=namespace).to_json()
    except ValueError as error:
        raise HTTPError(422, f"fal-mock fault: {error}") from None
    except FaultBookFull as error:
        raise HTTPError(429, str(error)) from None


def advance_clock(mock: MockServices, seconds: Any) -> dict[str, Any]:
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not seconds >= 0 or seconds == float("inf"):
        raise HTTPError(422, f"seconds must be a finite number >= 0, not {seconds!r}")
    if mock.clock.now() + float(seconds) > LATEST_CLOCK:  # found by fuzzing: 1e308 twice made the clock inf
        raise HTTPError(422, f"seconds={seconds!r} would move the clock past 9999-12-31 (timestamps must stay valid)")
    wait_for_time_driven(mock)
    try:
        mock.advance_clock(float(seconds))
    except TypeError as error:
        raise HTTPError(409, f"{error}; start the server with --set clock=manual to control its clock") from None
    return clock(mock)


def reset(mock: MockServices, namespace: str | None = None) -> dict[str, Any]:
    """Forget jobs, journal entries, files, faults and webhook deliveries (of one namespace, or all)."""
    dropped = mock.store.clear(namespace)
    for job in dropped:
        mock.runner.release(job.outcome)
    mock.files.clear(namespace)
    faults = mock.faults.clear(namespace)
    deliveries = mock.webhooks.clear(namespace)
    return {"status": "reset", "jobs_dropped": len(dropped), "faults_dropped": faults, "webhooks_dropped": deliveries}
