"""Jobs and their state machine — plain data and pure functions, no I/O.

A job moves ``IN_QUEUE → IN_PROGRESS → COMPLETED`` (fal has no FAILED state: a
failed job is COMPLETED with ``error``/``error_type`` and its result replays the
error).  *When* it moves is the progression's business:

``immediate``
    The job is done as soon as it is submitted; the first look at it sees COMPLETED.
``polls:N``
    Every N status reads (polls or status-stream ticks) advance it one state.
``realistic``
    Queue wait and inference time on the app's clock, with a fixed number of
    runners per endpoint and ``low`` priority waiting behind ``normal``
    (see :func:`plan_realistic`).
``manual``
    Only the control API / fixture moves it.

The generated output (an :class:`Outcome`) is prepared in the background from the
moment of submission; a job is only ever *reported* COMPLETED once its outcome
exists, so what a client sees depends on the progression alone, never on how
fast a thread happened to run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class JobState(StrEnum):
    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


PRIORITY_RANK = {"normal": 0, "low": 1}


@dataclass
class VideoRef:
    """Where a job's output video lives and what it is."""

    sha256: str
    size: int
    width: int
    height: int
    fps: int
    frame_count: int
    duration: float
    #: Key of the served file (``<bucket>/<id>_<name>``) or None when returned inline.
    file_key: str | None
    file_name: str
    data_uri: bool


@dataclass
class Outcome:
    """What a finished job answers: an output (status 200) or a replayed error."""

    status_code: int
    #: The output JSON without the video URL (filled in per request), or the error body.
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    video: VideoRef | None = None
    #: Size in bytes of the rendered result body (drives result retention).
    result_bytes: int = 0
    #: Log lines the runner produced (message, level) — stamped with times when reported.
    log_lines: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["log_lines"] = [list(line) for line in self.log_lines]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        video = data.get("video")
        return cls(
            status_code=data["status_code"],
            body=data["body"],
            headers=dict(data.get("headers") or {}),
            error=data.get("error"),
            error_type=data.get("error_type"),
            video=VideoRef(**video) if video else None,
            result_bytes=int(data.get("result_bytes", 0)),
            log_lines=[(line[0], line[1]) for line in data.get("log_lines", [])],
        )


@dataclass
class Job:
    """One queued request and everything the mock knows about it."""

    request_id: str
    endpoint_id: str
    app_id: str
    namespace: str
    seq: int
    submitted_at: float
    #: The request body as parsed JSON (None with ``body_error`` when it was not JSON).
    arguments: Any
    progression: str
    bases: dict[str, Any]
    body_error: str | None = None
    priority: str = "normal"
    runner_hint: str | None = None
    start_timeout: float | None = None
    no_retry: bool = False
    webhook_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    state: JobState = JobState.IN_QUEUE
    #: Status reads counted toward the next ``polls:N`` step.
    reads: int = 0
    started_at: float | None = None
    completed_at: float | None = None
    cancel_requested: bool = False
    #: Planned queue wait and inference seconds (realistic timings; inference also feeds metrics).
    planned_queue_seconds: float = 0.0
    planned_inference_seconds: float = 0.0
    #: Set by the runner as soon as the output (or error) is ready — before it is reported.
    outcome: Outcome | None = None
    #: An outcome forced by the control plane or a fault (wins over the runner's).
    forced_outcome: Outcome | None = None
    result_expires_at: float | None = None
    #: Free-form labels (the control plane and faults use them).
    labels: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.state is JobState.COMPLETED

    def final_outcome(self) -> Outcome | None:
        return self.forced_outcome or self.outcome

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["state"] = self.state.value
        data["outcome"] = self.outcome.to_json() if self.outcome else None
        data["forced_outcome"] = self.forced_outcome.to_json() if self.forced_outcome else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        values = dict(data)
        values["state"] = JobState(values["state"])
        values["outcome"] = Outcome.from_json(values["outcome"]) if values.get("outcome") else None
        forced = values.get("forced_outcome")
        values["forced_outcome"] = Outcome.from_json(forced) if forced else None
        return cls(**values)


def queue_order_key(job: Job) -> tuple[int, int]:
    """Order in which queued jobs of one endpoint are picked: normal before low, then FIFO."""
    return (PRIORITY_RANK.get(job.priority, 0), job.seq)


def queue_position(job: Job, queued: Iterable[Job]) -> int:
    """How many queued jobs of the same app and namespace are ahead of ``job`` (0 = next)."""
    mine = queue_order_key(job)
    return sum(
        1
        for other in queued
        if other.request_id != job.request_id and other.state is JobState.IN_QUEUE and queue_order_key(other) < mine
    )


@dataclass(frozen=True)
class RealisticPlan:
    """When a job starts and ends under the realistic schedule (None: not yet known)."""

    request_id: str
    start: float
    end: float


def plan_realistic(jobs: Iterable[Job], runners: int, now: float) -> list[RealisticPlan]:
    """Schedule the unfinished jobs of one endpoint on ``runners`` runners.

    Jobs already IN_PROGRESS keep their start; queued jobs become eligible at
    ``submitted_at + planned_queue_seconds`` and, whenever a runner is free, the
    eligible job with the best :func:`queue_order_key` starts.  Returns a plan for
    every job whose start is at or before ``now`` (their ends may lie in the future);
    jobs that have not started by ``now`` are left out (they are still queued).
    """
    running = [job for job in jobs if job.state is JobState.IN_PROGRESS]
    queued = sorted(
        (job for job in jobs if job.state is JobState.IN_QUEUE),
        key=lambda job: job.submitted_at + job.planned_queue_seconds,
    )
    plans: list[RealisticPlan] = []
    for job in running:
        start = job.started_at if job.started_at is not None else job.submitted_at
        plans.append(RealisticPlan(job.request_id, start, start + job.planned_inference_seconds))
    free_at = sorted(plan.end for plan in plans)
    free_at += [float("-inf")] * max(0, runners - len(free_at))
    free_at.sort()
    pending = list(queued)
    while pending:
        runner_free = free_at[0]
        earliest_eligible = min(job.submitted_at + job.planned_queue_seconds for job in pending)
        moment = max(runner_free, earliest_eligible)
        if moment > now:
            break
        expired = [
            job for job in pending if job.start_timeout is not None and job.submitted_at + job.start_timeout < moment
        ]
        if expired:
            # A job past its start deadline never takes a runner: it completes with a 504.
            for job in expired:
                pending.remove(job)
            continue
        eligible = [job for job in pending if job.submitted_at + job.planned_queue_seconds <= moment]
        chosen = min(eligible, key=queue_order_key)
        end = moment + chosen.planned_inference_seconds
        plans.append(RealisticPlan(chosen.request_id, moment, end))
        pending.remove(chosen)
        free_at[0] = end
        free_at.sort()
    return plans
