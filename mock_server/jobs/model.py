"""Jobs and what they produce — plain data, no I/O.

A job moves ``IN_QUEUE → IN_PROGRESS → COMPLETED`` (fal has no FAILED state: a failed job is
COMPLETED with ``error``/``error_type`` and its result replays the error).  *When* it moves is
:mod:`.progression`'s business; *what* it answers is its :class:`Outcome`.

Jobs are values: the stores hand out copies and take copies back (``save_job``), so a change
counts only once it is saved.  ``arguments``, ``inputs`` and outcomes are never changed in place
(a new value replaces the old one), which is why :meth:`Job.copy` can be shallow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class JobState(StrEnum):
    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


#: The states in order: a job only ever moves forward through them.
STATES = (JobState.IN_QUEUE, JobState.IN_PROGRESS, JobState.COMPLETED)
PRIORITY_RANK = {"normal": 0, "low": 1}


def later(state: JobState, than: JobState) -> bool:
    return STATES.index(state) > STATES.index(than)


@dataclass(frozen=True)
class Origin:
    """Where the client reached the mock — all the core needs to know about URLs.

    ``files_url`` is the base of the file links the job's webhook hands out (the result endpoint
    renders them for whoever asks); ``own_hosts`` are the mock's own host names, whose ``/files/``
    URLs are resolved from the store rather than fetched.
    """

    files_url: str
    own_hosts: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"files_url": self.files_url, "own_hosts": list(self.own_hosts)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Origin:
        return cls(str(data["files_url"]), tuple(data.get("own_hosts") or ()))


@dataclass(frozen=True)
class OutputFile:
    """A file a job generated: where it sits in the output, and where its bytes are."""

    #: JSON path of the file object in the output body (``("video",)``, ``("images", 0)``).
    path: tuple[str | int, ...]
    sha256: str
    size: int
    content_type: str
    file_name: str
    #: Key of the served file (``<bucket>/<id>_<name>``); None when returned inline as a data URI.
    key: str | None
    #: What was generated (width, height, fps, frame_count, duration, ...) — for views, not the wire.
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def inline(self) -> bool:
        return self.key is None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": list(self.path),
            "sha256": self.sha256,
            "size": self.size,
            "content_type": self.content_type,
            "file_name": self.file_name,
            "key": self.key,
            "facts": dict(self.facts),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OutputFile:
        return cls(
            path=tuple(data["path"]),
            sha256=data["sha256"],
            size=int(data["size"]),
            content_type=data["content_type"],
            file_name=data["file_name"],
            key=data.get("key"),
            facts=dict(data.get("facts") or {}),
        )


@dataclass(frozen=True)
class Outcome:
    """What a finished job answers: an output (2xx) or a replayed error."""

    status_code: int
    #: The output JSON with its file objects lacking ``url`` (filled in per request), or the error body.
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    files: tuple[OutputFile, ...] = ()
    #: Size in bytes of the rendered result body (drives result retention).
    result_bytes: int = 0
    #: Log lines the runner produced (message, level) — stamped with times when reported.
    log_lines: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    def to_json(self) -> dict[str, Any]:
        return {
            "status_code": self.status_code,
            "body": self.body,
            "headers": dict(self.headers),
            "error": self.error,
            "error_type": self.error_type,
            "files": [item.to_json() for item in self.files],
            "result_bytes": self.result_bytes,
            "log_lines": [list(line) for line in self.log_lines],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Outcome:
        return cls(
            status_code=data["status_code"],
            body=data["body"],
            headers=dict(data.get("headers") or {}),
            error=data.get("error"),
            error_type=data.get("error_type"),
            files=tuple(OutputFile.from_json(item) for item in data.get("files") or ()),
            result_bytes=int(data.get("result_bytes", 0)),
            log_lines=tuple((line[0], line[1]) for line in data.get("log_lines") or ()),
        )


def with_urls(outcome: Outcome, url_of: Mapping[str, str]) -> Any:
    """The output body with each file's ``url`` put first in its object (``url_of``: sha256/key → URL).

    The stored outcome is never changed: the objects on the way to each file are copied.
    """
    body = outcome.body
    for item in outcome.files:
        body = _set_url(body, item.path, url_of[item.key or item.sha256])
    return body


def _set_url(node: Any, path: Sequence[str | int], url: str) -> Any:
    if not path:
        return {"url": url, **node} if isinstance(node, dict) else url  # a file object, or a plain URL string
    head, rest = path[0], path[1:]
    if isinstance(node, dict) and isinstance(head, str) and head in node:
        return {**node, head: _set_url(node[head], rest, url)}
    if isinstance(node, list) and isinstance(head, int) and 0 <= head < len(node):
        return [*node[:head], _set_url(node[head], rest, url), *node[head + 1 :]]
    return node


@dataclass
class Job:
    """One request to a model endpoint (queued or a sync run) and everything the mock knows about it."""

    request_id: str
    endpoint_id: str
    app_id: str
    namespace: str
    seq: int
    submitted_at: float
    #: The request body as parsed JSON (None with ``body_error`` when it was not JSON).
    arguments: Any
    progression: str
    origin: Origin
    #: ``queue`` (submitted) or ``run`` (a sync ``fal.run`` call).
    mode: str = "queue"
    body_error: str | None = None
    #: The validated arguments with defaults filled in (None when invalid: the outcome is then the 422).
    inputs: dict[str, Any] | None = None
    priority: str = "normal"
    runner_hint: str | None = None
    start_timeout: float | None = None
    no_retry: bool = False
    webhook_url: str | None = None
    #: Seconds the generated files live (``X-Fal-Object-Lifecycle-Preference``); None: as long as the result.
    output_lifetime: float | None = None
    #: The webhook carries fal's ``payload: null`` + ``payload_error`` (mock header on submit).
    webhook_payload_error: bool = False
    state: JobState = JobState.IN_QUEUE
    #: Status reads so far (``polls:N``).
    reads: int = 0
    started_at: float | None = None
    completed_at: float | None = None
    cancel_requested: bool = False
    #: Planned queue wait and inference seconds (realistic timings; inference also feeds metrics).
    planned_queue_seconds: float = 0.0
    planned_inference_seconds: float = 0.0
    #: The generated output (or error), set by the runner as soon as it is ready — before it is reported.
    outcome: Outcome | None = None
    #: When (app clock) the outcome became ready.
    rendered_at: float | None = None
    #: An outcome forced by the control plane or a fault (wins over the runner's).
    forced_outcome: Outcome | None = None
    #: Whether the output was asked to be generated (a process that dies while on it leaves an orphan).
    render_wanted: bool = False
    result_expires_at: float | None = None
    #: The next clock time the job may move by time alone (realistic timings, a start deadline); None: never.
    #: A status read at or after it settles the job first, so polls see the clock's truth between ticks.
    check_at: float | None = None
    #: How far the control plane pushed the job (``manual`` progression, ``complete_all``, failures).
    pushed_to: JobState | None = None
    #: The queued fault that failed it, if one did.
    fault_id: str | None = None
    #: The size of ``arguments`` as compact UTF-8 JSON (:func:`.budgets.argument_bytes`), measured once when the
    #: job is made; None (a job read back from a database, which does not keep it): measured when needed.
    argument_bytes: int | None = None

    @property
    def finished(self) -> bool:
        return self.state is JobState.COMPLETED

    def final_outcome(self) -> Outcome | None:
        return self.forced_outcome or self.outcome

    def copy(self) -> Job:
        """A shallow copy (``copy.copy``'s), made directly: the stores hand one out on every read (~1 µs, not ~8)."""
        twin = object.__new__(Job)
        twin.__dict__.update(self.__dict__)
        return twin

    def to_json(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _JOB_FIELDS}
        data["state"] = self.state.value
        data["origin"] = self.origin.to_json()
        data["outcome"] = self.outcome.to_json() if self.outcome else None
        data["forced_outcome"] = self.forced_outcome.to_json() if self.forced_outcome else None
        data["pushed_to"] = self.pushed_to.value if self.pushed_to else None
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Job:
        values = dict(data)
        values["state"] = JobState(values["state"])
        values["origin"] = Origin.from_json(values["origin"])
        values["outcome"] = Outcome.from_json(values["outcome"]) if values.get("outcome") else None
        forced = values.get("forced_outcome")
        values["forced_outcome"] = Outcome.from_json(forced) if forced else None
        pushed = values.get("pushed_to")
        values["pushed_to"] = JobState(pushed) if pushed else None
        return cls(**values)


#: The fields a stored job keeps (``argument_bytes`` is measured again when needed: a data directory stays
#: readable by versions without that field).
_JOB_FIELDS = tuple(name for name in Job.__dataclass_fields__ if name != "argument_bytes")


def queue_order_key(job: Job) -> tuple[int, int]:
    """Order in which queued jobs of one endpoint are picked: normal before low, then FIFO."""
    return (PRIORITY_RANK.get(job.priority, 0), job.seq)


def queue_position(job: Job, queued: Sequence[Job]) -> int:
    """How many queued jobs of the same app and namespace are ahead of ``job`` (0 = next)."""
    mine = queue_order_key(job)
    return sum(
        1
        for other in queued
        if other.request_id != job.request_id and other.state is JobState.IN_QUEUE and queue_order_key(other) < mine
    )
