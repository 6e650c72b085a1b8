"""The control plane: what ``/_mock`` and the pytest fixtures do to one mock — the one seam they share.

:class:`MockControl` wraps an app's :class:`~.services.MockServices`.  The HTTP control API
(:mod:`.edge.api.control`, :mod:`.edge.api.webhooks_control`) and the fixtures' handle
(``fal_mock.fixtures``) both go through it, so a job looks the same whether a test reads it
from ``fal_mock.jobs`` in-process or from ``GET /_mock/jobs/{id}`` on a shared server.

Failures are Python exceptions (the core's :class:`~.jobs.errors.DomainError` family):
``LookupError`` for an unknown job or delivery, ``ValueError`` for a request that makes no sense
or a job that already completed, ``TimeoutError`` when an output took too long; the edge answers
each with fal's shape (:mod:`.edge.wire_errors`).  Namespaces: ``None`` means every namespace.

A job counts as **collected** once its result was fetched after it completed (or it was
cancelled, or it was a sync run): the opt-in teardown check ``assert_all_jobs_collected``
reports the others.  This is read from the request journal, so it covers any client.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from .clock import ManualClock
from .faults.book import TRANSPORT_KINDS, Fault, FaultBookFull, make_fault
from .faults.targets import classify
from .hostnames import FAL_HOST_SERVICES
from .jobs.errors import (
    ClockNotAdjustable,
    ControlLimitReached,
    InvalidControlRequest,
    JobAlreadyCompleted,
    OutputTimeout,
)
from .jobs.model import STATES, Job, JobState
from .jobs.results import result_body
from .services import MockServices
from .standalone import bundle_for, client_environment
from .webhooks.records import Delivery

__all__ = [
    "FAL_HOST_NAMES",
    "Delivery",
    "Fault",
    "MockControl",
    "MockServices",
    "TransportFault",
    "bundle_for",
    "client_environment",
    "job_summary",
]

#: The latest time a clock may be moved to (9999-12-31T23:59:59Z: datetimes and ISO timestamps stay valid).
LATEST_CLOCK = 253_402_300_799.0
#: Wall seconds the control plane waits for a job's output to be generated before moving it to COMPLETED.
OUTCOME_TIMEOUT_SECONDS = 120.0
_RESULT_PATH = re.compile(r"/requests/(?P<rid>[^/]+)/?$")
FAIL_KEYS = ("kind", "error_type", "status", "detail", "msg", "loc", "ctx", "headers", "retryable")
#: fal's host names: what the in-process transport routes to the app.
FAL_HOST_NAMES = tuple(FAL_HOST_SERVICES)


@dataclass(frozen=True)
class TransportFault:
    """A fault the in-process transport acts out itself (the request never reaches the app)."""

    #: ``timeout`` (a latency that reached the client's read timeout), ``disconnect`` or ``malformed``.
    kind: str
    fault_id: str


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
        "mode": job.mode,
        "fault": job.fault_id,
    }


class MockControl:
    """Operations on one mock's services (see the module docstring)."""

    def __init__(self, services: MockServices) -> None:
        self.services = services

    # --- reading -----------------------------------------------------------------------------
    def jobs(self, namespace: str | None = None) -> list[Job]:
        """The jobs (of one namespace, or all), in submission order."""
        return sorted(self.services.store.jobs(namespace=namespace), key=lambda job: job.seq)

    def job(self, request_id: str, namespace: str | None = None) -> Job:
        return self.services.queue.find(request_id, namespace)

    def job_view(self, job: Job, files_url: str, *, collected: bool) -> dict[str, Any]:
        """The full view of a job: inputs, state, output or error (as the result endpoint answers), logs."""
        mock = self.services
        outcome = job.final_outcome() if job.finished else None
        files = outcome.files if outcome is not None else ()
        video = next((item for item in files if item.content_type.startswith("video/")), None)
        return {
            **job_summary(job),
            "arguments": job.arguments,
            "output": result_body(outcome, files_url, mock.files) if outcome is not None and outcome.ok else None,
            "error": outcome.body if outcome is not None and not outcome.ok else None,
            "error_message": outcome.error if outcome is not None and not outcome.ok else None,
            "logs": mock.queue.logs(job),
            "collected": collected,
            "video": None if video is None else {
                **video.facts, "size": video.size, "sha256": video.sha256, "file_key": video.key,
                "data_uri": video.key is None,
            },
        }  # fmt: skip

    def views(self, files_url: str, namespace: str | None = None) -> list[dict[str, Any]]:
        found = self.jobs(namespace)
        done = self.collected_ids(found, namespace)
        return [self.job_view(job, files_url, collected=job.request_id in done) for job in found]

    def view(self, request_id: str, files_url: str, namespace: str | None = None) -> dict[str, Any]:
        job = self.job(request_id, namespace)
        return self.job_view(job, files_url, collected=job.request_id in self.collected_ids([job], namespace))

    def collected_ids(self, candidates: Iterable[Job], namespace: str | None = None) -> set[str]:
        """Which of ``candidates`` were collected (see the module docstring)."""
        wanted = {job.request_id: job for job in candidates}
        done = {rid for rid, job in wanted.items() if job.cancel_requested or job.mode == "run"}
        for record in self.services.store.journal(namespace=namespace):
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

    def journal(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """The request journal, each entry with the ``kind`` faults use (submit, status, ...) and its app id."""
        entries = []
        for record in self.services.store.journal(namespace=namespace):
            target = classify(str(record.get("method", "")), str(record.get("host", "")), str(record.get("path", "")))
            entries.append({**record, "kind": target.kind if target else None,
                            "app_id": target.app_id if target else None})  # fmt: skip
        return entries

    def files(self, files_url: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Stored files (uploads and generated outputs) with the URL they are served at under ``files_url``."""
        return [
            {**stored.to_json(), "url": f"{files_url}/files/{stored.key}"}
            for stored in sorted(self.services.files.files(namespace), key=lambda f: f.created_at)
        ]

    def file_bytes(self, key_or_url: str) -> bytes:
        """The bytes of a stored file, by key or by any URL ending in ``/files/<key>`` (LookupError if none)."""
        key = key_or_url.split("/files/", 1)[1] if "/files/" in key_or_url else key_or_url
        stored = self.services.files.get(key.split("?", 1)[0])
        if stored is None:
            raise LookupError(f"fal-mock holds no file {key_or_url!r}")
        return self.services.files.read(stored)

    def now(self) -> float:
        return self.services.clock.now()

    def clock(self) -> dict[str, Any]:
        return {"now": self.now(), "manual": isinstance(self.services.clock, ManualClock)}

    def logs(self, job: Job) -> list[dict[str, Any]]:
        return self.services.queue.logs(job)

    # --- moving jobs ---------------------------------------------------------------------------
    def advance_job(self, request_id: str, namespace: str | None = None) -> Job:
        """Move an unfinished job one state forward (IN_QUEUE → IN_PROGRESS → COMPLETED), waiting for its output."""
        job = self.job(request_id, namespace)
        if job.finished:
            raise JobAlreadyCompleted(request_id)
        target = STATES[min(2, STATES.index(job.state) + 1)]
        self.services.queue.push(request_id, target)
        return self._completed_when_ready(request_id) if target is JobState.COMPLETED else self.job(request_id)

    def complete_all(self, namespace: str | None = None) -> list[Job]:
        """Complete every unfinished job (of one namespace, or all), waiting for their outputs; returns them."""
        pending = [job for job in self.jobs(namespace) if not job.finished]
        for job in pending:
            try:
                self.services.queue.push(job.request_id, JobState.COMPLETED)
            except JobAlreadyCompleted:
                continue
        return [self._completed_when_ready(job.request_id) for job in pending]

    def _completed_when_ready(self, request_id: str) -> Job:
        """Wait for the job's output (it is due), then let it complete."""
        queue = self.services.queue
        if not self.services.runner.wait_blocking(request_id, OUTCOME_TIMEOUT_SECONDS):
            raise OutputTimeout(f"fal-mock: the output of {request_id} was not generated within "
                                f"{OUTCOME_TIMEOUT_SECONDS:g} s")  # fmt: skip
        queue.settle([request_id])
        return self.job(request_id)

    def fail_job(self, request_id: str, spec: Mapping[str, Any], namespace: str | None = None) -> Job:
        """Complete an unfinished job with an error now (``spec``: error_type, status, detail, msg, loc, ctx, ...)."""
        unknown = sorted(set(spec) - set(FAIL_KEYS))
        if unknown:
            raise InvalidControlRequest(f"unknown option(s) {unknown} for failing a job; known options: "
                                        f"{', '.join(FAIL_KEYS)}")  # fmt: skip
        values = {key: value for key, value in spec.items() if value is not None}
        if "error_type" not in values and "status" not in values and "kind" not in values:
            values["error_type"] = "internal_server_error"
        job = self.job(request_id, namespace)
        if job.finished:
            raise JobAlreadyCompleted(request_id)
        try:
            fault = make_fault(values, self.services.settings, fault_id="fail", namespace=job.namespace,
                               now=self.now())  # fmt: skip
        except ValueError as error:
            raise InvalidControlRequest(str(error)) from None
        if fault.kind not in ("model", "request", "http"):
            raise InvalidControlRequest(f"a job can fail with a model, request or http error, not kind={fault.kind!r}")
        return self.services.queue.push(request_id, JobState.COMPLETED, outcome=fault.outcome())

    # --- the clock ---------------------------------------------------------------------------
    def advance_clock(self, seconds: Any) -> dict[str, Any]:
        """Move a manual clock forward; jobs whose moment came complete (their outputs awaited), due webhooks go out.

        The clock moves from one job event (a start, an end, a start deadline) to the next, generating each
        output when its job needs it, so every job moves at its planned moment, exactly as on the wall clock.
        """
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 <= seconds < float("inf"):
            raise InvalidControlRequest(f"seconds must be a finite number >= 0, not {seconds!r}")
        clock = self.services.clock
        if not isinstance(clock, ManualClock):
            raise ClockNotAdjustable(f"the app runs on {clock!r}, which cannot be advanced; start the server with "
                                     "--set clock=manual to control its clock")  # fmt: skip
        if clock.now() + float(seconds) > LATEST_CLOCK:  # found by fuzzing: 1e308 twice made the clock inf
            raise InvalidControlRequest(f"seconds={seconds!r} would move the clock past 9999-12-31 "
                                        "(timestamps must stay valid)")  # fmt: skip
        target = clock.now() + float(seconds)
        queue = self.services.queue
        self._settle_due()
        while (moment := queue.next_moment()) is not None and clock.now() < moment <= target:
            clock.set(moment)  # one event at a time: each job moves at its moment, its output ready
            self._settle_due()
        clock.set(target)
        self._settle_due()
        self.services.queue.prune()
        self.services.webhooks.deliver_due()
        return self.clock()

    def _settle_due(self) -> None:
        """Settle every job; those whose moment came but whose output is still being generated are awaited."""
        queue = self.services.queue
        queue.settle()
        for request_id in queue.awaiting_output():
            if not self.services.runner.wait_blocking(request_id, OUTCOME_TIMEOUT_SECONDS):
                raise OutputTimeout(f"fal-mock: the output of {request_id} was not generated within "
                                    f"{OUTCOME_TIMEOUT_SECONDS:g} s")  # fmt: skip
            queue.settle([request_id])

    # --- faults ------------------------------------------------------------------------------
    def add_fault(self, spec: Mapping[str, Any], namespace: str = "") -> Fault:
        """Queue a fault (see :func:`~.faults.book.make_fault`); ValueError names what is wrong with it."""
        endpoint = spec.get("endpoint")
        if isinstance(endpoint, str) and endpoint.strip() and not self.services.registry.matches_app(endpoint):
            served = ", ".join(self.services.registry.ids())
            raise InvalidControlRequest(f"fal-mock fault: endpoint {endpoint!r} is not served (served: {served})")
        try:
            return self.services.faults.add(spec, namespace=namespace)
        except FaultBookFull as error:
            raise ControlLimitReached(str(error)) from None
        except ValueError as error:
            raise InvalidControlRequest(f"fal-mock fault: {error}") from None

    def faults(self, namespace: str | None = None, *, pending: bool = False) -> list[Fault]:
        book = self.services.faults
        return book.pending(namespace) if pending else book.faults(namespace)

    def fired_faults(self, namespace: str | None = None) -> list[dict[str, Any]]:
        return self.services.faults.fired(namespace)

    def clear_faults(self, namespace: str | None = None) -> int:
        return self.services.faults.clear(namespace)

    def transport_fault(self, method: str, host: str, path: str, query: str, namespace: str,
                        read_timeout: float | None) -> TransportFault | None:  # fmt: skip
        """For an in-process transport: spend the first transport fault (latency, disconnect, malformed)
        matching this request, before it reaches the app.

        Latency is spent on the clock (nothing sleeps); a latency that reaches ``read_timeout`` comes
        back as a ``timeout``.  A request cut off is journalled with status 0.
        """
        book = self.services.faults
        if not book.armed:
            return None
        target = classify(method, host, path, namespace)
        fault = book.take(target, TRANSPORT_KINDS) if target is not None else None
        if fault is None or target is None:
            return None
        kind = fault.kind
        if kind == "latency":
            seconds = min(fault.seconds or 0.0, self.services.settings.fault_latency_cap_seconds)
            if read_timeout is None or seconds < read_timeout:
                self.spend(seconds)
                return None
            self.spend(read_timeout)
            kind = "timeout"
        self.record_cut_off(method=method, host=host, path=path, query=query, namespace=namespace,
                            fault=fault, request_id=target.request_id)  # fmt: skip
        return TransportFault(kind, fault.id)

    def spend(self, seconds: float) -> None:
        """Let ``seconds`` pass on a manual clock (latency on the clock; no-op on the wall clock)."""
        if isinstance(self.services.clock, ManualClock) and seconds > 0:
            self.advance_clock(seconds)

    def record_cut_off(self, *, method: str, host: str, path: str, query: str, namespace: str, fault: Fault,
                       request_id: str | None) -> None:  # fmt: skip
        """Journal a request a fault cut off before any answer (status 0)."""
        mock = self.services
        mock.store.journal_append({
            "seq": mock.store.next_sequence("journal"), "at": self.now(), "method": method, "host": host,
            "path": path, "query": query, "status": 0, "request_id": request_id, "namespace": namespace,
            "proxied": False, "headers": {}, "fault": fault.kind,
        }, mock.settings.journal_size)  # fmt: skip

    # --- webhooks ------------------------------------------------------------------------------
    def deliveries(self, namespace: str | None = None, *, wait_seconds: float = 0.0) -> list[Delivery]:
        """Webhook deliveries with every attempt, oldest first (after waiting for attempts in flight)."""
        if wait_seconds:
            self.services.webhooks.wait_idle(wait_seconds)
        return self.services.webhooks.deliveries(namespace=namespace)

    def route_webhooks(self, target: str, app: Any = None, *,
                       transport: httpx.AsyncBaseTransport | None = None) -> None:  # fmt: skip
        self.services.webhooks.route(target, app, transport=transport)

    def resend_webhook(self, delivery_id: str) -> Delivery:
        return self.services.webhooks.resend(delivery_id)

    def trigger_webhook(self, delivery_id: str) -> Delivery:
        return self.services.webhooks.trigger(delivery_id)

    def deliver_due_webhooks(self) -> list[Delivery]:
        return self.services.webhooks.deliver_due()

    # --- everything ----------------------------------------------------------------------------
    def reset(self, namespace: str | None = None) -> dict[str, Any]:
        """Forget jobs, journal entries, files, faults and webhook deliveries (of one namespace, or all)."""
        mock = self.services
        dropped = mock.store.clear(namespace)
        for job in dropped:
            mock.runner.release(job.outcome)
        mock.files.clear(namespace)
        faults = mock.faults.clear(namespace)
        deliveries = mock.webhooks.clear(namespace)
        return {"status": "reset", "jobs_dropped": len(dropped), "faults_dropped": faults,
                "webhooks_dropped": deliveries}  # fmt: skip

    def close(self) -> None:
        self.services.close()
