"""The job queue: submit, observe (status/stream/result), cancel, advance.

This is the state machine of :mod:`.jobs` applied to stored jobs, with the
rules fal follows (protocol reference §1.4–§1.9, §3.6):

* submit always answers 200 with the request's URLs (invalid input is found "in
  the runner" and replayed by the result endpoint), unless ``strict_submit`` is on;
  ``fal_max_queue_length`` and the mock's own ``max_queue_size`` answer 429;
* status is 202 until COMPLETED, then 200; a failed job is COMPLETED with
  ``error``/``error_type``;
* result before completion is 400; a failed job's result replays its error;
* cancel: 202 ``CANCELLATION_REQUESTED`` (queued jobs then complete as
  ``client_cancelled``; a running job keeps running, as fal warns it may),
  400 ``ALREADY_COMPLETED``, 404 for unknown ids;
* ``X-Fal-Request-Timeout`` is a start deadline on the clock: a job that would
  start later completes with 504 and ``X-Fal-Request-Timeout-Type: user``.

Nothing here knows about HTTP frameworks: handlers pass a :class:`SubmitRequest`
and render what comes back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..clock import Clock, isoformat
from ..ids import digest_int, uuid7_like
from ..persistence.memory import StateStore
from ..settings import Settings, check_progression, polls_per_step
from .endpoints import Endpoint, EndpointRegistry
from .errors import HTTPError, RequestError
from .model import Job, JobState, Outcome, plan_realistic
from .runner import Runner, failure_outcome

CompletionListener = Callable[[Job], None]
log = logging.getLogger("fal_mock.queue")
CreationHook = Callable[[Job], None]
STATES = (JobState.IN_QUEUE, JobState.IN_PROGRESS, JobState.COMPLETED)
#: Log lines shown while a job is IN_PROGRESS (the rest appear when it completes).
PROGRESS_LOG_LINES = 2


@dataclass
class SubmitRequest:
    endpoint: Endpoint
    arguments: Any
    body_error: str | None
    bases: dict[str, Any]
    namespace: str = ""
    priority: str = "normal"
    runner_hint: str | None = None
    start_timeout: float | None = None
    no_retry: bool = False
    webhook_url: str | None = None
    max_queue_length: int | None = None
    progression: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class JobQueue:
    """Jobs of one app: creation, progression, reading and cancelling."""

    def __init__(
        self,
        *,
        settings: Settings,
        clock: Clock,
        store: StateStore,
        runner: Runner,
        registry: EndpointRegistry,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.store = store
        self.runner = runner
        self.registry = registry
        self._listeners: list[CompletionListener] = []
        self._creation_hooks: list[CreationHook] = []
        runner.add_listener(self._on_outcome)

    def add_completion_listener(self, listener: CompletionListener) -> None:
        """Call ``listener(job)`` whenever a job becomes COMPLETED (from any thread)."""
        self._listeners.append(listener)

    def add_creation_hook(self, hook: CreationHook) -> None:
        """Call ``hook(job)`` for every new job (queued or sync run) before it is stored or run.

        Faults use it to give the job a forced outcome (``Job.forced_outcome``) from the start.
        """
        self._creation_hooks.append(hook)

    # --- submit ------------------------------------------------------------------------
    def new_job(self, request: SubmitRequest, *, queued: bool = True) -> Job:
        """Create (and for queued jobs, store and start) a job; raises 429 errors when full."""
        settings = self.settings
        progression = check_progression(request.progression or settings.progression)
        now = self.clock.now()
        if queued:
            if self.store.count_unfinished() >= settings.max_queue_size:
                raise HTTPError(429, f"fal-mock queue is full ({settings.max_queue_size} unfinished jobs)",
                                error_type="queue_full")  # fmt: skip
            if request.max_queue_length is not None:
                waiting = [
                    job
                    for job in self.store.unfinished_jobs(app_id=request.endpoint.app_id, namespace=request.namespace)
                    if job.state is JobState.IN_QUEUE
                ]
                if len(waiting) >= request.max_queue_length:
                    raise HTTPError(
                        429,
                        f"Queue length {len(waiting)} reached fal_max_queue_length={request.max_queue_length}",
                        error_type="queue_full",
                    )
        seq = self.store.next_sequence("request")
        request_id = uuid7_like(now, settings.seed, "request", seq)
        endpoint = request.endpoint
        job = Job(
            request_id=request_id,
            endpoint_id=endpoint.endpoint_id,
            app_id=endpoint.app_id,
            namespace=request.namespace,
            seq=seq,
            submitted_at=now,
            arguments=request.arguments,
            body_error=request.body_error,
            progression=progression,
            bases=request.bases,
            priority=request.priority,
            runner_hint=request.runner_hint,
            start_timeout=request.start_timeout,
            no_retry=request.no_retry,
            webhook_url=request.webhook_url,
            headers=dict(request.headers),
            planned_queue_seconds=_between(endpoint.queue_seconds, settings, request_id, "queue"),
            planned_inference_seconds=_between(endpoint.inference_seconds, settings, request_id, "inference"),
        )
        for hook in self._creation_hooks:
            hook(job)
        if queued:
            self.store.add_job(job)
            self.runner.start(request_id)
            self.prune()
        return job

    def record_finished(self, job: Job) -> None:
        """Store a job that ran synchronously (``fal.run``) as already COMPLETED."""
        job.labels["mode"] = "run"
        job.started_at = job.submitted_at
        self._complete_unsaved(job, job.submitted_at)
        self.store.add_job(job)
        self.prune()

    def queue_position(self, job: Job) -> int:
        if job.state is not JobState.IN_QUEUE:
            return 0
        return self.store.queued_ahead(job)

    # --- reading -------------------------------------------------------------------------
    def find(self, request_id: str, *, app_id: str | None, namespace: str = "") -> Job:
        job = self.store.get_job(request_id)
        if job is None or (app_id is not None and job.app_id != app_id) or (namespace and job.namespace != namespace):
            raise HTTPError(404, f"Request {request_id} not found", status="NOT_FOUND")
        if job.finished and job.result_expires_at is not None and job.result_expires_at <= self.clock.now():
            # Retention is on the clock, whether or not a prune has run since (fal: 404 once expired).
            raise HTTPError(404, f"Request {request_id} not found", status="NOT_FOUND")
        return job

    async def observe(self, request_id: str, *, app_id: str | None, namespace: str = "", read: bool) -> Job:
        """The job after its progression is applied; ``read`` counts a status read (``polls:N``)."""
        job = self.find(request_id, app_id=app_id, namespace=namespace)
        if job.finished:
            return job  # the hot path: polls and result fetches of a finished job
        await self.runner.wait(request_id)
        if read:
            with self.store.transaction():
                current = self.store.get_job(request_id)
                if current is not None and not current.finished:
                    current.reads += 1
                    self.store.save_job(current)
        self.settle([request_id])
        return self.find(request_id, app_id=app_id, namespace=namespace)

    def settle(self, request_ids: Iterable[str] | None = None) -> list[Job]:
        """Apply due transitions to the given (or all unfinished) jobs; returns the newly completed."""
        now = self.clock.now()
        completed: list[Job] = []
        with self.store.transaction():
            if request_ids is None:
                candidates = self.store.unfinished_jobs()
            else:
                candidates = [job for rid in request_ids if (job := self.store.get_job(rid)) is not None]
            due = {job.request_id: job for job in candidates if not job.finished}
            plans: dict[str, tuple[float, float]] = {}
            for app_id, namespace in {(j.app_id, j.namespace) for j in due.values() if j.progression == "realistic"}:
                group = [job for job in self.store.unfinished_jobs(app_id=app_id, namespace=namespace)
                         if job.progression == "realistic"]  # fmt: skip
                due.update((job.request_id, job) for job in group)
                for plan in plan_realistic(group, self.settings.realistic_concurrency, now):
                    plans[plan.request_id] = (plan.start, plan.end)
            for job in sorted(due.values(), key=lambda j: j.seq):
                if self._advance(job, now, plans.get(job.request_id)):
                    completed.append(job)
        self._notify(completed)
        if completed:
            self.prune()  # the caps hold at every completion, not only at the next submit
        return completed

    def _target(self, job: Job, plan: tuple[float, float] | None, now: float) -> JobState:
        computed = JobState.IN_QUEUE
        if job.progression == "immediate":
            computed = JobState.COMPLETED
        elif job.progression == "realistic" and plan is not None:
            computed = JobState.COMPLETED if plan[1] <= now else JobState.IN_PROGRESS
        elif (per_step := polls_per_step(job.progression)) is not None:
            computed = STATES[min(2, job.reads // per_step)]
        forced = job.labels.get("target_state")
        if forced is not None and STATES.index(JobState(forced)) > STATES.index(computed):
            return JobState(forced)
        return computed

    def _advance(self, job: Job, now: float, plan: tuple[float, float] | None) -> bool:
        """Move ``job`` as far as its progression allows (and store it); True if it became COMPLETED."""
        if job.state is JobState.IN_QUEUE and job.start_timeout is not None:
            deadline = job.submitted_at + job.start_timeout
            planned_start = plan[0] if plan else (job.submitted_at if job.progression == "immediate" else now)
            if planned_start > deadline:
                job.forced_outcome = failure_outcome(
                    RequestError(
                        "request_timeout",
                        f"Request did not start within the requested timeout of {job.start_timeout:g} seconds",
                        headers={"X-Fal-Request-Timeout-Type": "user"},
                    )
                )
                return self._complete(job, deadline)
        target = self._target(job, plan, now)
        if STATES.index(target) <= STATES.index(job.state):
            return False
        if job.state is JobState.IN_QUEUE:
            if plan is not None:
                job.started_at = plan[0]
            else:
                job.started_at = job.submitted_at if job.progression == "immediate" else now
            job.state = JobState.IN_PROGRESS
        if target is JobState.COMPLETED:
            if job.final_outcome() is None:
                self.store.save_job(job)
                return False
            if plan is not None:
                end = plan[1]
            else:
                end = job.started_at if job.progression == "immediate" and job.started_at is not None else now
            return self._complete(job, end)
        self.store.save_job(job)
        return False

    def _complete(self, job: Job, moment: float) -> bool:
        self._complete_unsaved(job, moment)
        self.store.save_job(job)
        return True

    def _complete_unsaved(self, job: Job, moment: float) -> None:
        outcome = job.final_outcome()
        job.state = JobState.COMPLETED
        job.completed_at = moment
        size = outcome.result_bytes if outcome else 0
        ttl = (
            self.settings.large_result_ttl_seconds
            if size >= self.settings.large_result_bytes
            else self.settings.result_ttl_seconds
        )
        job.result_expires_at = moment + ttl

    def _on_outcome(self, request_id: str) -> None:
        job = self.store.get_job(request_id)
        if job is None or job.finished:
            return
        time_driven = job.progression in ("immediate", "realistic")
        if time_driven or job.labels.get("target_state") == JobState.COMPLETED.value:
            self.settle([request_id])

    def _notify(self, completed: list[Job]) -> None:
        for job in completed:
            for listener in self._listeners:
                listener(job)

    # --- control -------------------------------------------------------------------------
    def push(self, request_id: str, target: JobState, *, outcome: Outcome | None = None) -> Job:
        """Force a job toward ``target`` (manual progression, control API); optionally with an outcome."""
        with self.store.transaction():
            job = self.store.get_job(request_id)
            if job is None:
                raise HTTPError(404, f"Request {request_id} not found", status="NOT_FOUND")
            if job.finished:
                raise HTTPError(409, f"Request {request_id} is already completed", status="ALREADY_COMPLETED")
            if outcome is not None:
                job.forced_outcome = outcome
            current = job.labels.get("target_state")
            if current is None or STATES.index(JobState(current)) < STATES.index(target):
                job.labels["target_state"] = target.value
            self.store.save_job(job)
        self.settle([request_id])
        # A store may hand out copies: answer with the job as settle left it.
        return self.store.get_job(request_id) or job

    def next_state(self, job: Job) -> JobState:
        return STATES[min(2, STATES.index(job.state) + 1)]

    def cancel(self, request_id: str, *, app_id: str | None, namespace: str = "") -> int:
        """Cancel; returns the HTTP status (202 or 400); raises 404 for unknown ids."""
        self.find(request_id, app_id=app_id, namespace=namespace)
        cancelled = failure_outcome(RequestError("client_cancelled"))
        with self.store.transaction():
            # Re-read inside the transaction: a store may hand out copies, and the runner (or another
            # worker) may have stored the outcome since find().
            job = self.store.get_job(request_id)
            if job is None:
                raise HTTPError(404, f"Request {request_id} not found", status="NOT_FOUND")
            if job.finished:
                return 400
            queued = job.state is JobState.IN_QUEUE
            job.cancel_requested = True
            if queued:
                job.forced_outcome = cancelled
                job.labels["target_state"] = JobState.COMPLETED.value
                job.started_at = None
                job.state = JobState.COMPLETED
                job.completed_at = self.clock.now()
                job.result_expires_at = job.completed_at + self.settings.result_ttl_seconds
            self.store.save_job(job)
        if queued:
            self._notify([job])
        return 202

    # --- housekeeping --------------------------------------------------------------------
    def prune(self) -> list[Job]:
        settings = self.settings
        now = self.clock.now()
        removed = self.store.prune(now, settings.max_finished_jobs, settings.max_result_bytes)
        for job in removed:
            self.runner.release(job.outcome)
        self.store.journal_prune(now - settings.journal_ttl_seconds)
        return removed

    def recover(self) -> list[str]:
        """After a (re)start on a persistent store: regenerate orphaned jobs and apply due transitions.

        A job whose process died while generating it (or before it started) has no outcome and no
        live claim: it is generated again.  Jobs whose outcome was stored but which were not yet
        reported COMPLETED (``immediate``, ``realistic``) are settled now, so their webhooks fire.
        """
        adopted = self.runner.adopt_orphans()
        if adopted:
            log.info("fal-mock restarted the generation of %d job(s) interrupted by a stop", len(adopted))
        self.settle()
        return adopted

    def logs(self, job: Job) -> list[dict[str, Any]]:
        """The job's log entries as fal reports them (union shape, times from the clock)."""
        outcome = job.final_outcome()
        if job.state is JobState.IN_QUEUE or outcome is None or job.started_at is None:
            return []
        lines = outcome.log_lines if job.finished else outcome.log_lines[:PROGRESS_LOG_LINES]
        return [
            {
                "message": message,
                "level": level,
                "source": "USER",
                "timestamp": isoformat(job.started_at + index * 0.001),
                "labels": {},
            }
            for index, (message, level) in enumerate(lines)
        ]


def _between(bounds: tuple[float, float], settings: Settings, request_id: str, kind: str) -> float:
    low, high = bounds
    fraction = (digest_int(settings.seed, request_id, kind) % 10_000) / 10_000
    return round((low + (high - low) * fraction) * settings.realistic_time_scale, 3)
