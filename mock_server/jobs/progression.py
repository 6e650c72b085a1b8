"""Progression: when a job moves ``IN_QUEUE → IN_PROGRESS → COMPLETED`` — all the rules, in one place.

A setting (``Settings.progression``), overridable per request (``X-Fal-Mock-Progression``):

``immediate``
    Done at submit: its output is generated before the submit answers, and the first look at
    the job sees COMPLETED (the tests' default).
``polls:N``
    Every state is seen by exactly N status reads (polls, or status-stream ticks): reads 1…N
    answer IN_QUEUE, N+1…2N IN_PROGRESS, then COMPLETED.  The output is generated before the
    submit answers, so what a client sees depends on its reads alone.
``realistic``
    Queue wait and inference time on the app's clock, ``realistic_concurrency`` runners per
    endpoint and namespace, ``low`` priority behind ``normal`` (:func:`plan_realistic`).  The
    clock moves these jobs (the server's ticker, a test's ``clock.advance``), not the polls.
    The output is generated when the job starts; a job whose end has come while its output is
    still being generated stays IN_PROGRESS until it is ready — status tells the truth.
``manual``
    Only the control plane moves it (``advance``, ``complete_all``, ``fail``).

The control plane can push any job further than its progression would (:attr:`Job.pushed_to`).
A job with a start deadline (``X-Fal-Request-Timeout``) that would start after it completes at the
deadline with fal's 504 ``request_timeout``.  :func:`next_step` is the whole decision; the queue
applies it to stored jobs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .model import STATES, Job, JobState, later, queue_order_key

IMMEDIATE = "immediate"
REALISTIC = "realistic"
MANUAL = "manual"
_POLLS = re.compile(r"^polls:([1-9][0-9]{0,5})$")


def check_progression(value: str) -> str:
    """Return ``value`` if it names a progression, else raise ValueError saying what would."""
    if value in (IMMEDIATE, REALISTIC, MANUAL) or _POLLS.match(value):
        return value
    raise ValueError(f"unknown progression {value!r}: use 'immediate', 'polls:N' (N >= 1), 'realistic' or 'manual'")


def polls_per_state(progression: str) -> int | None:
    """N of a ``polls:N`` progression, else None."""
    match = _POLLS.match(progression)
    return int(match.group(1)) if match else None


def generated_at_submit(progression: str) -> bool:
    """Whether a job's output is generated before its submit answers (client-driven progressions)."""
    return progression == IMMEDIATE or polls_per_state(progression) is not None


def counts_reads(progression: str) -> bool:
    return polls_per_state(progression) is not None


@dataclass(frozen=True)
class RealisticPlan:
    """When a job starts and ends under the realistic schedule."""

    request_id: str
    start: float
    end: float


def plan_realistic(jobs: Iterable[Job], runners: int, now: float) -> dict[str, RealisticPlan]:
    """Schedule the unfinished realistic jobs of one endpoint and namespace on ``runners`` runners.

    Jobs already IN_PROGRESS keep their start; queued jobs become eligible at ``submitted_at +
    planned_queue_seconds`` and, whenever a runner is free, the eligible job with the best
    :func:`~.model.queue_order_key` starts.  Returns a plan for every job whose start is at or
    before ``now`` (its end may lie in the future); the others are still queued.  Decisions up to
    ``now`` never change later (later submits arrive after ``now``), so the plan is stable.
    """
    jobs = list(jobs)
    running = [job for job in jobs if job.state is JobState.IN_PROGRESS]
    queued = sorted((job for job in jobs if job.state is JobState.IN_QUEUE),
                    key=lambda job: job.submitted_at + job.planned_queue_seconds)  # fmt: skip
    plans: dict[str, RealisticPlan] = {}
    for job in running:
        start = job.started_at if job.started_at is not None else job.submitted_at
        plans[job.request_id] = RealisticPlan(job.request_id, start, start + job.planned_inference_seconds)
    ends = sorted(plan.end for plan in plans.values())
    # A runner frees each time a running job ends; with more running than runners (a job that ran late),
    # the first slot frees only when enough of them have ended.
    free_at = ends[max(0, len(ends) - runners) :] + [float("-inf")] * max(0, runners - len(ends))
    free_at.sort()
    pending = list(queued)
    while pending:
        moment = max(free_at[0], min(job.submitted_at + job.planned_queue_seconds for job in pending))
        if moment > now:
            break
        expired = [job for job in pending
                   if job.start_timeout is not None and job.submitted_at + job.start_timeout < moment]  # fmt: skip
        if expired:  # a job past its start deadline never takes a runner: it completes with a 504
            for job in expired:
                pending.remove(job)
            continue
        chosen = min((job for job in pending if job.submitted_at + job.planned_queue_seconds <= moment),
                     key=queue_order_key)  # fmt: skip
        end = moment + chosen.planned_inference_seconds
        plans[chosen.request_id] = RealisticPlan(chosen.request_id, moment, end)
        pending.remove(chosen)
        free_at[0] = end
        free_at.sort()
    return plans


@dataclass(frozen=True)
class Step:
    """Where a job should be now: its state, and the moments it started and completed (on the clock)."""

    state: JobState
    started_at: float | None
    completed_at: float | None
    #: The job missed its start deadline: it completes at the deadline with fal's 504.
    timed_out: bool = False


def progression_state(job: Job, now: float, plan: RealisticPlan | None) -> JobState:
    """The state the job's progression (and the control plane's pushes) call for at ``now``."""
    state = JobState.IN_QUEUE
    if job.progression == IMMEDIATE:
        state = JobState.COMPLETED
    elif job.progression == REALISTIC and plan is not None:
        state = JobState.COMPLETED if plan.end <= now else JobState.IN_PROGRESS
    elif (per_state := polls_per_state(job.progression)) is not None:
        state = STATES[min(2, job.reads // per_state)]
    if job.pushed_to is not None and later(job.pushed_to, state):
        state = job.pushed_to
    return state


def next_check(job: Job, now: float, plan: RealisticPlan | None, runner_free_at: float | None) -> float | None:
    """The next clock time at which ``job`` may move by time alone (None: only reads, pushes or its output move it).

    ``runner_free_at``: when the first busy runner of the job's realistic group frees (None: one is free now).
    """
    if job.finished:
        return None
    moments: list[float] = []
    if job.state is JobState.IN_QUEUE and job.start_timeout is not None:
        moments.append(job.submitted_at + job.start_timeout)
    if job.progression == REALISTIC:
        if plan is not None:
            if plan.end > now:
                moments.append(plan.end)
        elif job.state is JobState.IN_QUEUE:
            eligible = job.submitted_at + job.planned_queue_seconds
            moments.append(eligible if eligible > now or runner_free_at is None else max(runner_free_at, now))
    return min(moments) if moments else None


def _start_moment(job: Job, now: float, plan: RealisticPlan | None) -> float:
    """When a queued job starts if it starts now: its planned start, the submit (``immediate``), or now."""
    if plan is not None:
        return plan.start
    return job.submitted_at if job.progression == IMMEDIATE else now


def next_step(job: Job, now: float, plan: RealisticPlan | None = None) -> Step | None:
    """How ``job`` moves at ``now`` (None: it stays where it is).

    COMPLETED needs the job's outcome: without one the job goes no further than IN_PROGRESS.
    """
    if job.finished:
        return None
    if job.state is JobState.IN_QUEUE and job.start_timeout is not None:
        deadline = job.submitted_at + job.start_timeout
        if _start_moment(job, now, plan) > deadline:
            return Step(JobState.COMPLETED, None, deadline, timed_out=True)
    target = progression_state(job, now, plan)
    if not later(target, job.state):
        return None
    started_at = job.started_at
    if job.state is JobState.IN_QUEUE:
        started_at = _start_moment(job, now, plan)
    if target is JobState.COMPLETED and job.final_outcome() is None:
        target = JobState.IN_PROGRESS
        if job.state is JobState.IN_PROGRESS:
            return None
    completed_at = None
    if target is JobState.COMPLETED:
        if plan is not None:
            completed_at = max(plan.end, job.rendered_at or plan.end)
        elif job.progression == IMMEDIATE and started_at is not None and job.pushed_to is None:
            completed_at = started_at
        else:
            completed_at = now
    return Step(target, started_at, completed_at)
