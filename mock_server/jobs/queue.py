"""The job queue: submit, read, cancel and move jobs — fal's queue rules on stored jobs. No HTTP here.

What fal does (protocol reference §1.4–§1.9, §3.6), as the core sees it:

* :meth:`JobQueue.submit` stores a job and always succeeds — invalid input is found "in the
  runner" (validated once, here, and kept on the job; the job completes with the 422; an input
  seen before is answered from :attr:`JobQueue.validated`, ``validated_input_cache_bytes``) — unless
  the mock's ``max_queue_size`` (:class:`~.errors.QueueFull`) or the submit's
  ``fal_max_queue_length`` (:class:`~.errors.QueueLengthReached`) says no;
* :meth:`JobQueue.read` answers status polls, status-stream ticks and result fetches from the
  stored job — one store read, and never waiting for an output to be generated;
* :meth:`JobQueue.cancel`: a queued job completes as ``client_cancelled``; a running one keeps
  running (fal warns it may); a completed one answers :data:`CancelResult.ALREADY_COMPLETED`;
* a start deadline (``X-Fal-Request-Timeout``) that passes in the queue completes the job with
  fal's 504.

When a job moves is :mod:`.progression`'s decision; this module applies it.  Who hears of it:

* the **runner** is asked for a job's output with :meth:`~.runner.Runner.request` (at submit
  for client-driven progressions, when the job starts otherwise) and reports back through
  :meth:`JobQueue.outcome_ready` — except when the output is bookkeeping (a cached output over
  bytes already stored): then :meth:`~.runner.Runner.outcome_now` hands it over at submit and the
  job is stored with it in one write (an ``immediate`` job already COMPLETED);
* every job that becomes COMPLETED is announced to the queue's **completion subscribers**
  (:class:`CompletionSubscriber`: the webhook dispatcher), in :meth:`_announce` — the one place;
* **faults** queued for jobs are asked once, at submit (:class:`JobFaults`).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..clock import Clock, isoformat
from ..ids import InOrderBatches, digest_int, id_digest, uuid7_from
from ..persistence.protocol import StateStore
from ..settings import Settings
from . import progression
from .budgets import kept_arguments
from .endpoints import Endpoint
from .errors import (
    FalError,
    JobAlreadyCompleted,
    JobNotFound,
    ModelError,
    QueueFull,
    QueueLengthReached,
    RequestError,
    entry,
)
from .model import Job, JobState, Origin, Outcome, later
from .progression import RealisticPlan, Step, plan_realistic
from .runner import Runner, failure_outcome
from .validation import ValidatedMemo

log = logging.getLogger("fal_mock.queue")
#: Log lines shown while a job is IN_PROGRESS (the rest appear when it completes).
PROGRESS_LOG_LINES = 2
#: A realistic job logs its progress every 1/PROGRESS_STEPS of its planned inference (10%, 20%, ... 90%).
PROGRESS_STEPS = 10


class CompletionSubscriber(Protocol):
    """Told of every job that becomes COMPLETED (from any thread)."""

    def job_completed(self, job: Job) -> None: ...


class JobFaults(Protocol):
    """Queued faults that fail jobs: asked once per new job."""

    def outcome_for_new_job(self, job: Job) -> tuple[Outcome, str] | None:
        """The outcome the job is forced to and the fault's id, or None."""


class CancelResult(enum.Enum):
    REQUESTED = "CANCELLATION_REQUESTED"
    ALREADY_COMPLETED = "ALREADY_COMPLETED"


@dataclass(frozen=True)
class Submission:
    """A request for a model endpoint, as the edge read it (typed values, no headers)."""

    endpoint: Endpoint
    arguments: Any
    origin: Origin
    #: Why the body is not JSON (then ``arguments`` is None).
    body_error: str | None = None
    #: The JSON text ``arguments`` were parsed from (the request body), if any: a repeated text is validated once.
    arguments_json: bytes | None = None
    namespace: str = ""
    priority: str = "normal"
    runner_hint: str | None = None
    start_timeout: float | None = None
    no_retry: bool = False
    webhook_url: str | None = None
    max_queue_length: int | None = None
    progression: str | None = None
    output_lifetime: float | None = None
    webhook_payload_error: bool = False


class JobQueue:
    """The jobs of one app: creation, progression, reading and cancelling."""

    def __init__(
        self,
        *,
        settings: Settings,
        clock: Clock,
        store: StateStore,
        runner: Runner,
        faults: JobFaults,
        completion_subscribers: Sequence[CompletionSubscriber],
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.store = store
        self.runner = runner
        self.faults = faults
        self.completion_subscribers = tuple(completion_subscribers)
        #: Validated inputs of repeated inputs (``validated_input_cache_bytes``): each input is validated once.
        self.validated = ValidatedMemo(settings.validated_input_cache_bytes)
        #: The seeded part of request ids (:func:`~..ids.id_digest`), made in batches while requests come in order.
        self._request_digests = InOrderBatches(lambda seq: id_digest(self.settings.seed, "request", seq))

    # --- submit ------------------------------------------------------------------------------
    def create(self, submission: Submission, *, mode: str = "queue") -> Job:
        """A new job, validated, with its fault (if one is queued) — not stored yet."""
        settings = self.settings
        endpoint = submission.endpoint
        now = self.clock.now()
        seq = self.store.next_sequence("request")
        request_id = uuid7_from(now, self._request_digests.get(seq))
        arguments, size = kept_arguments(submission.arguments, settings.max_retained_argument_bytes)
        job = Job(
            request_id=request_id,
            endpoint_id=endpoint.endpoint_id,
            app_id=endpoint.app_id,
            namespace=submission.namespace,
            seq=seq,
            submitted_at=now,
            arguments=arguments,
            argument_bytes=size,
            progression=progression.check_progression(submission.progression or settings.progression),
            origin=submission.origin,
            mode=mode,
            body_error=submission.body_error,
            priority=submission.priority,
            runner_hint=submission.runner_hint,
            start_timeout=submission.start_timeout,
            no_retry=submission.no_retry,
            webhook_url=submission.webhook_url,
            output_lifetime=submission.output_lifetime,
            webhook_payload_error=submission.webhook_payload_error,
            planned_queue_seconds=_between(endpoint.queue_seconds, settings, request_id, "queue"),
            planned_inference_seconds=_between(endpoint.inference_seconds, settings, request_id, "inference"),
        )
        try:
            job.inputs = validate_input(endpoint, submission, self.validated)
        except FalError as error:
            job.forced_outcome = failure_outcome(error, [(f"Request failed: {error.summary()[0]}", "ERROR")])
        forced = self.faults.outcome_for_new_job(job)
        if forced is not None:
            job.forced_outcome, job.fault_id = forced
        return job

    def submit(self, submission: Submission) -> Job:
        """Store a new queued job and set it going; raises QueueFull / QueueLengthReached."""
        if self.store.count_unfinished() >= self.settings.max_queue_size:
            raise QueueFull(self.settings.max_queue_size)
        limit = submission.max_queue_length
        if limit is not None:
            waiting = self.store.count_queued(app_id=submission.endpoint.app_id, namespace=submission.namespace)
            if waiting >= limit:
                raise QueueLengthReached(waiting, limit)
        job = self.create(submission)
        if progression.generated_at_submit(job.progression):
            if job.final_outcome() is None:
                job.render_wanted = True
                outcome = self.runner.outcome_now(job)  # bookkeeping (a cached output): stored with the job
                if outcome is not None:
                    job.outcome, job.rendered_at = outcome, self.clock.now()
            if job.final_outcome() is not None and (step := progression.next_step(job, self.clock.now())):
                self._apply(job, step)  # immediate: COMPLETED before anyone can look, in the job's one write
        try:
            self.store.add_job(job)
        except BaseException:
            self.runner.release(job.outcome)
            raise
        if job.finished:  # stored as it is: nothing moves it any more
            self._announce([job])
            self.prune()
            return job
        if job.render_wanted and job.outcome is None:
            self.runner.request(job, urgent=True, on_ready=self.outcome_ready)
        self.settle([job.request_id])
        self.prune()
        return self.store.get_job(job.request_id) or job

    def record_run(self, job: Job, outcome: Outcome) -> Job:
        """Store a sync run (``fal.run``) that produced ``outcome`` as a COMPLETED job."""
        if job.forced_outcome is None:
            job.outcome = outcome
            job.rendered_at = self.clock.now()
        job.started_at = job.submitted_at
        self._complete(job, self.clock.now())
        self.store.add_job(job)
        self.prune()
        return job

    def queue_position(self, job: Job) -> int:
        """Queued jobs of the same endpoint, namespace and progression ahead of ``job`` (0 = next)."""
        if job.state is not JobState.IN_QUEUE:
            return 0
        return self.store.queued_ahead(job)

    # --- reading -----------------------------------------------------------------------------
    def read(self, request_id: str, *, app_id: str | None, namespace: str, status_read: bool) -> Job:
        """The job as a status poll (``status_read``) or a result fetch sees it: one store read, no waiting.

        A status read of a ``polls:N`` job counts toward its next state (atomically, across workers).
        """
        now = self.clock.now()
        job = self._read_once(request_id, now, status_read=status_read, app_id=app_id, namespace=namespace)
        if not job.finished and job.check_at is not None and job.check_at <= now:
            self.settle([request_id])  # its moment came between two ticks of the clock
            job = self._read_once(request_id, now, status_read=False, app_id=app_id, namespace=namespace)
        return job

    def _read_once(self, request_id: str, now: float, *, status_read: bool, app_id: str | None,
                   namespace: str) -> Job:  # fmt: skip
        if not status_read:
            return self._visible(self.store.get_job(request_id), request_id, app_id=app_id, namespace=namespace,
                                 now=now)  # fmt: skip
        completed: list[bool] = []

        def count(job: Job) -> bool:
            self._visible(job, request_id, app_id=app_id, namespace=namespace, now=now)
            if job.finished or not progression.counts_reads(job.progression):
                return False
            step = progression.next_step(job, now)
            job.reads += 1
            if step is not None:
                self._apply(job, step)
                completed.append(job.finished)
            return True

        job = self.store.update_job(request_id, count)
        job = self._visible(job, request_id, app_id=app_id, namespace=namespace, now=now)
        if any(completed):
            self._announce([job])
            self.prune()
        return job

    def _visible(self, job: Job | None, request_id: str, *, app_id: str | None, namespace: str, now: float) -> Job:
        if job is None or (app_id is not None and job.app_id != app_id) or job.namespace != namespace:
            raise JobNotFound(request_id)
        if job.finished and job.result_expires_at is not None and job.result_expires_at <= now:
            raise JobNotFound(request_id)  # retention is on the clock, whether or not a prune has run since
        return job

    def find(self, request_id: str, namespace: str | None = None) -> Job:
        """Any job by id (the control plane: ``namespace`` None sees every namespace)."""
        job = self.store.get_job(request_id)
        if job is None or (namespace is not None and job.namespace != namespace):
            raise JobNotFound(request_id)
        return job

    # --- moving ------------------------------------------------------------------------------
    def settle(self, request_ids: Iterable[str] | None = None) -> list[Job]:
        """Apply due transitions to the given (or all unfinished) jobs; returns the newly completed.

        A job that started (or is due) without its output gets it asked for — urgently when the
        job's moment to complete has come.
        """
        now = self.clock.now()
        completed: list[Job] = []
        wanted: list[tuple[Job, bool]] = []
        with self.store.transaction():
            if request_ids is None:
                candidates = self.store.unfinished_jobs()
            else:
                candidates = [job for rid in request_ids if (job := self.store.get_job(rid)) is not None]
            due = {job.request_id: job for job in candidates if not job.finished}
            plans = self._realistic_plans(due, now)
            free_at = _runners_free_at(due.values(), plans, now, self.settings.realistic_concurrency)
            for job in sorted(due.values(), key=lambda j: j.seq):
                plan = plans.get(job.request_id)
                step = progression.next_step(job, now, plan)
                if step is not None:
                    self._apply(job, step)
                check_at = progression.next_check(job, now, plan, free_at.get((job.app_id, job.namespace)))
                changed = step is not None or check_at != job.check_at
                job.check_at = check_at
                if job.state is JobState.IN_PROGRESS and job.final_outcome() is None:
                    urgent = progression.progression_state(job, now, plan) is JobState.COMPLETED
                    if not job.render_wanted:
                        job.render_wanted = changed = True
                        wanted.append((job, urgent))
                    elif urgent:
                        self.runner.hurry(job.request_id)
                if changed:
                    self.store.save_job(job)
                if job.finished:
                    completed.append(job)
        for job, urgent in wanted:
            self.runner.request(job, urgent=urgent, on_ready=self.outcome_ready)
        self._announce(completed)
        if completed:
            self.prune()  # the caps hold at every completion, not only at the next submit
        return completed

    def next_moment(self) -> float | None:
        """The earliest clock time at which an unfinished job moves by time alone (None: none will)."""
        moments = [job.check_at for job in self.store.unfinished_jobs() if job.check_at is not None]
        return min(moments) if moments else None

    def awaiting_output(self) -> list[str]:
        """Unfinished jobs whose moment to complete has come but whose output is not stored yet."""
        now = self.clock.now()
        due = {job.request_id: job for job in self.store.unfinished_jobs()}
        plans = self._realistic_plans(due, now)
        return [
            job.request_id
            for job in sorted(due.values(), key=lambda j: j.seq)
            if job.final_outcome() is None
            and progression.progression_state(job, now, plans.get(job.request_id)) is JobState.COMPLETED
        ]

    def _realistic_plans(self, due: dict[str, Job], now: float) -> dict[str, RealisticPlan]:
        """Plans for the realistic jobs among ``due`` (their whole endpoint-and-namespace groups join ``due``)."""
        plans: dict[str, RealisticPlan] = {}
        groups = {(job.app_id, job.namespace) for job in due.values() if job.progression == progression.REALISTIC}
        for app_id, namespace in groups:
            group = [job for job in self.store.unfinished_jobs(app_id=app_id, namespace=namespace)
                     if job.progression == progression.REALISTIC]  # fmt: skip
            due.update((job.request_id, job) for job in group)
            plans.update(plan_realistic(group, self.settings.realistic_concurrency, now))
        return plans

    def _apply(self, job: Job, step: Step) -> None:
        """Move ``job`` (unsaved) as ``step`` says."""
        if step.timed_out:
            job.forced_outcome = failure_outcome(RequestError(
                "request_timeout",
                f"Request did not start within the requested timeout of {job.start_timeout:g} seconds",
                headers={"X-Fal-Request-Timeout-Type": "user"},
            ))  # fmt: skip
            job.started_at = None
        else:
            job.started_at = step.started_at
        if step.state is JobState.COMPLETED:
            assert step.completed_at is not None
            self._complete(job, step.completed_at)
        else:
            job.state = step.state

    def _complete(self, job: Job, moment: float) -> None:
        outcome = job.final_outcome()
        job.state = JobState.COMPLETED
        job.completed_at = moment
        if outcome is not None:
            job.inputs = None  # nothing reads them once the outcome is final (see .budgets)
        size = outcome.result_bytes if outcome else 0
        large = size >= self.settings.large_result_bytes
        job.result_expires_at = moment + (
            self.settings.large_result_ttl_seconds if large else self.settings.result_ttl_seconds
        )

    def outcome_ready(self, request_id: str) -> None:
        """The runner stored the job's outcome: complete it if its moment has come."""
        self.settle([request_id])

    def push(self, request_id: str, target: JobState, *, outcome: Outcome | None = None,
             namespace: str | None = None) -> Job:  # fmt: skip
        """Move a job at least to ``target`` now (manual progression, the control plane), optionally failing it."""
        with self.store.transaction():
            job = self.find(request_id, namespace)
            if job.finished:
                raise JobAlreadyCompleted(request_id)
            if outcome is not None:
                job.forced_outcome = outcome
            if job.pushed_to is None or later(target, job.pushed_to):
                job.pushed_to = target
            self.store.save_job(job)
        self.settle([request_id])
        return self.find(request_id)

    def cancel(self, request_id: str, *, app_id: str | None, namespace: str) -> CancelResult:
        """Cancel a job: a queued one completes as ``client_cancelled``; raises JobNotFound."""
        now = self.clock.now()
        result: list[CancelResult] = []

        def change(job: Job) -> bool:
            self._visible(job, request_id, app_id=app_id, namespace=namespace, now=now)
            if job.finished:
                result.append(CancelResult.ALREADY_COMPLETED)
                return False
            result.append(CancelResult.REQUESTED)
            job.cancel_requested = True
            if job.state is JobState.IN_QUEUE:
                job.forced_outcome = failure_outcome(RequestError("client_cancelled"))
                job.started_at = None
                job.state = JobState.COMPLETED
                job.completed_at = now
                job.result_expires_at = now + self.settings.result_ttl_seconds
            return True

        job = self.store.update_job(request_id, change)
        if job is None:
            raise JobNotFound(request_id)
        if job.finished and result == [CancelResult.REQUESTED]:
            self._announce([job])
        return result[0]

    # --- announcing ----------------------------------------------------------------------------
    def _announce(self, completed: Iterable[Job]) -> None:
        """Tell every completion subscriber of every job that became COMPLETED (the one place).

        A subscriber that raises is logged and the others still hear: the job has completed either way, and
        the request that completed it (a submit, a poll) must not fail for a listener's bug.
        """
        for job in completed:
            for subscriber in self.completion_subscribers:
                try:
                    subscriber.job_completed(job)
                except Exception:
                    log.exception("fal-mock: telling %r that %s completed failed", subscriber, job.request_id)

    # --- housekeeping --------------------------------------------------------------------------
    def prune(self) -> list[Job]:
        settings = self.settings
        now = self.clock.now()
        removed = self.store.prune(now, settings.max_finished_jobs, settings.max_result_bytes)
        for job in removed:
            self.runner.release(job.outcome)
        self.store.journal_prune(now - settings.journal_ttl_seconds)
        return removed

    def recover(self) -> list[str]:
        """After a (re)start on a persistent store: generate again what a dead process left, settle what is due.

        A job whose output was wanted when its process died has no outcome and no live claim: it is
        asked for again.  Jobs whose outcome was stored but which were not yet reported COMPLETED
        (``immediate``, ``realistic``) are settled now, so their webhooks fire.
        """
        orphans = self.recover_orphans()
        if orphans:
            log.info("fal-mock restarted the generation of %d job(s) interrupted by a stop", len(orphans))
        self.settle()
        return orphans

    def recover_orphans(self) -> list[str]:
        """Ask again for the outputs that a dead process was generating (housekeeping; after a restart)."""
        orphans = self.runner.orphans()
        for request_id in orphans:
            job = self.store.get_job(request_id)
            if job is not None:
                self.runner.request(job, urgent=False, on_ready=self.outcome_ready)
        return orphans

    def logs(self, job: Job) -> list[dict[str, Any]]:
        """The job's log entries as fal reports them (union shape, times from the clock).

        A ``realistic`` job also logs its progress as the clock passes through its planned inference
        (:func:`progress_lines`: one line per :data:`PROGRESS_STEPS` th), so a poller with ``logs=1``
        sees it move — whether or not its output has been rendered yet (renders run in the background and a
        poll never waits on one); the outcome's remaining lines follow at completion.
        """
        outcome = job.final_outcome()
        if job.state is JobState.IN_QUEUE or job.started_at is None:
            return []
        if outcome is None:  # still rendering in the background: the clock's progress lines alone
            lines: tuple[tuple[str, str], ...] = ()
        else:
            lines = tuple(outcome.log_lines if job.finished else outcome.log_lines[:PROGRESS_LOG_LINES])
        entries = [(message, level, job.started_at + index * 0.001) for index, (message, level) in enumerate(lines)]
        if job.progression == progression.REALISTIC and job.planned_inference_seconds > 0:
            until = job.completed_at if job.finished and job.completed_at is not None else self.clock.now()
            head = entries[:PROGRESS_LOG_LINES]
            tail = [(message, level, max(until, moment) + index * 0.001)
                    for index, (message, level, moment) in enumerate(entries[PROGRESS_LOG_LINES:])]  # fmt: skip
            entries = [*head, *progress_lines(job.started_at, job.planned_inference_seconds, until), *tail]
        return [
            {"message": message, "level": level, "source": "USER", "timestamp": isoformat(moment), "labels": {}}
            for message, level, moment in entries
        ]


def progress_lines(started_at: float, inference_seconds: float, until: float) -> list[tuple[str, str, float]]:
    """``Inference progress: N%`` lines of a realistic job, one per step its clock has passed by ``until``."""
    found: list[tuple[str, str, float]] = []
    for step in range(1, PROGRESS_STEPS):
        moment = started_at + inference_seconds * step / PROGRESS_STEPS
        if moment > until:
            break
        percent = 100 * step // PROGRESS_STEPS
        found.append((f"Inference progress: {percent}% ({moment - started_at:.1f} s of about "
                      f"{inference_seconds:.1f} s)", "INFO", moment))  # fmt: skip
    return found


def _runners_free_at(jobs: Iterable[Job], plans: dict[str, RealisticPlan], now: float,
                     runners: int) -> dict[tuple[str, str], float | None]:  # fmt: skip
    """Per realistic group: when its first busy runner frees (None when a runner is free now)."""
    ends: dict[tuple[str, str], list[float]] = {}
    for job in jobs:
        plan = plans.get(job.request_id)
        if job.progression == progression.REALISTIC:
            group = ends.setdefault((job.app_id, job.namespace), [])
            if plan is not None and plan.end > now:
                group.append(plan.end)
    return {key: (min(found) if len(found) >= runners else None) for key, found in ends.items()}


def validate_input(endpoint: Endpoint, submission: Submission, memo: ValidatedMemo | None = None) -> dict[str, Any]:
    """The submission's validated arguments with defaults (raises ModelError with fal's 422 entries); ``memo``:
    answered from it when the same JSON text validated before."""
    if submission.body_error is not None:
        error = submission.body_error
        raise ModelError([entry(["body"], "JSON decode error", "json_invalid", ctx={"error": error})])
    if memo is not None and submission.arguments_json is not None:
        return memo.validate(endpoint.input_validator, submission.arguments, submission.arguments_json)
    return endpoint.validate(submission.arguments)


def _between(bounds: tuple[float, float], settings: Settings, request_id: str, kind: str) -> float:
    low, high = bounds
    fraction = (digest_int(settings.seed, request_id, kind) % 10_000) / 10_000
    return round((low + (high - low) * fraction) * settings.realistic_time_scale, 3)
