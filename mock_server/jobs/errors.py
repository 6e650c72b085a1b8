"""The core's errors: fal's error answers, and the mock's domain exceptions. No HTTP here.

Two families, both plain Python:

* **fal's error answers** (:class:`FalError`) — what a failed job *is*: the status, body and
  headers fal replays for it (protocol reference, §3).  A job's stored outcome, a sync run's
  answer and a webhook's ``ERROR`` payload all come from one of these:

  - :class:`ModelError` — ``{"detail": [{"loc", "msg", "type", "url", "ctx"?, "input"?}]}``,
    422 for validation and input problems, 5xx/400 for some model failures;
  - :class:`RequestError` — ``{"detail": "<text>", "error_type": "<type>"}`` plus an
    ``X-Fal-Error-Type`` header (infrastructure errors: ``runner_disconnected``, ...);
  - :class:`PlainError` — ``{"detail": "<text>"}`` with a status (fal's gateway refusals:
    401, 404, 413, ...; faults that answer any status).

* **domain exceptions** (:class:`DomainError`) — a request to the core that cannot be carried
  out: an unknown job, a full queue, a job that already completed, a bad control request.
  They subclass the builtin a Python caller expects (``LookupError``, ``ValueError``,
  ``TimeoutError``), so the pytest fixtures get them as they are; the HTTP edge turns each into
  fal's wire answer in one place (:mod:`..edge.wire_errors`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

ERROR_DOCS_URL = "https://docs.fal.ai/errors#{type}"

#: Short texts that fal's queue status shows in ``error`` for request error types.
REQUEST_ERROR_TEXT = {
    "request_timeout": "Request timed out",
    "startup_timeout": "Runner startup timed out",
    "runner_scheduling_failure": "Runner scheduling failure",
    "runner_connection_timeout": "Runner connection timed out",
    "runner_disconnected": "Runner disconnected",
    "runner_connection_refused": "Runner connection refused",
    "runner_connection_error": "Runner connection error",
    "runner_incomplete_response": "Runner returned an incomplete response",
    "runner_server_error": "Runner server error",
    "internal_error": "Internal error",
    "client_disconnected": "Client disconnected",
    "client_cancelled": "Request cancelled by the client",
    "bad_request": "Bad request",
}

#: The HTTP status fal uses for each request error type (protocol reference §3.4).
REQUEST_ERROR_STATUS = {
    "request_timeout": 504,
    "startup_timeout": 504,
    "runner_scheduling_failure": 503,
    "runner_connection_timeout": 503,
    "runner_disconnected": 503,
    "runner_connection_refused": 503,
    "runner_connection_error": 503,
    "runner_incomplete_response": 502,
    "runner_server_error": 500,
    "internal_error": 500,
    "client_disconnected": 499,
    "client_cancelled": 499,
    "bad_request": 400,
}


@dataclass(frozen=True)
class ErrorPayload:
    """A rendered error: what a response, a stored job outcome or a webhook carries."""

    status_code: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    #: The short text and type shown in a COMPLETED status of a failed job.
    error: str = ""
    error_type: str = ""


# --- fal's error answers --------------------------------------------------------------------


class FalError(Exception, ABC):
    """An error answer of fal's: a status, a JSON body and headers."""

    status_code: int = 500
    #: The contract (``contracts/``) its body satisfies.
    contract = "errors/error"

    def __init__(self, status_code: int, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.headers: dict[str, str] = dict(headers or {})

    @abstractmethod
    def body(self) -> Any:
        """The JSON body of the answer."""

    @abstractmethod
    def summary(self) -> tuple[str, str]:
        """``(error, error_type)`` for a COMPLETED status of a job that failed with this."""

    def payload(self) -> ErrorPayload:
        error, error_type = self.summary()
        return ErrorPayload(self.status_code, self.body(), dict(self.headers), error, error_type)

    def __str__(self) -> str:
        return f"{self.status_code} {self.body()!r}"


class PlainError(FalError):
    """``{"detail": "<text>"}`` with optional extra keys (``status``, ``error_type``)."""

    contract = "errors/http-error"

    def __init__(self, status_code: int, detail: str, *, headers: Mapping[str, str] | None = None,
                 **extra: str) -> None:  # fmt: skip
        super().__init__(status_code, headers)
        self.detail = detail
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, **self.extra}

    def summary(self) -> tuple[str, str]:
        return self.detail, self.extra.get("error_type", status_slug(self.status_code))


class RequestError(FalError):
    """fal's flat infrastructure error: ``{"detail", "error_type"}`` + ``X-Fal-Error-Type``."""

    contract = "errors/request-error"

    def __init__(
        self,
        error_type: str,
        detail: str | None = None,
        *,
        status_code: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        status = status_code or REQUEST_ERROR_STATUS.get(error_type, 500)
        merged = {"X-Fal-Error-Type": error_type, **(headers or {})}
        super().__init__(status, merged)
        self.error_type = error_type
        self.detail = detail or REQUEST_ERROR_TEXT.get(error_type, error_type.replace("_", " ").capitalize())

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, "error_type": self.error_type}

    def summary(self) -> tuple[str, str]:
        return self.detail, self.error_type


@dataclass(frozen=True)
class DetailEntry:
    """One entry of a model error's ``detail`` list."""

    loc: Sequence[str | int]
    msg: str
    type: str
    ctx: Mapping[str, Any] | None = None
    input: Any = None
    has_input: bool = False

    def to_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "loc": list(self.loc),
            "msg": self.msg,
            "type": self.type,
            "url": ERROR_DOCS_URL.format(type=self.type),
        }
        if self.ctx is not None:
            item["ctx"] = dict(self.ctx)
        if self.has_input:
            item["input"] = self.input
        return item


def entry(
    loc: Sequence[str | int],
    msg: str,
    type: str,
    *,
    ctx: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> DetailEntry:
    """Build a :class:`DetailEntry`; pass ``input=...`` to include the offending input."""
    if "input" in kwargs:
        return DetailEntry(loc, msg, type, ctx, kwargs["input"], True)
    return DetailEntry(loc, msg, type, ctx)


class ModelError(FalError):
    """fal's model error: ``{"detail": [entries]}`` (422 unless the type says otherwise)."""

    contract = "errors/validation-error"

    def __init__(
        self,
        entries: Sequence[DetailEntry],
        *,
        status_code: int = 422,
        retryable: bool | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        merged = dict(headers or {})
        if retryable is not None:
            merged["X-Fal-Retryable"] = "true" if retryable else "false"
        if status_code == 422:
            merged.setdefault("x-fal-billable-units", "0")
        super().__init__(status_code, merged)
        if not entries:
            raise ValueError("a model error needs at least one detail entry")
        self.entries = list(entries)

    def body(self) -> dict[str, Any]:
        return {"detail": [item.to_json() for item in self.entries]}

    def summary(self) -> tuple[str, str]:
        first = self.entries[0]
        return first.msg, first.type


def status_slug(status_code: int) -> str:
    """``not_found`` for 404, ``too_many_requests`` for 429, ... (``error`` when not an HTTP status)."""
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


# --- domain exceptions ----------------------------------------------------------------------


class DomainError(Exception):
    """A request to the core that cannot be carried out (the edge answers it; Python callers catch it)."""


class JobNotFound(DomainError, LookupError):
    """No such job (never submitted, in another namespace, forgotten after retention, reset)."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"Request {request_id} not found")
        self.request_id = request_id


class JobAlreadyCompleted(DomainError, ValueError):
    """The operation needs an unfinished job."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"Request {request_id} is already completed")
        self.request_id = request_id


class ResultNotReady(DomainError):
    """A result was asked for before the job completed."""

    def __init__(self, request_id: str) -> None:
        super().__init__("Request is still in progress")
        self.request_id = request_id


class QueueFull(DomainError):
    """The mock's own cap on unfinished jobs (``max_queue_size``) is reached."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"fal-mock queue is full ({limit} unfinished jobs; raise max_queue_size)")
        self.limit = limit


class QueueLengthReached(DomainError):
    """More jobs wait for the endpoint than the submit's ``fal_max_queue_length`` allows."""

    def __init__(self, waiting: int, limit: int) -> None:
        super().__init__(f"Queue length {waiting} reached fal_max_queue_length={limit}")
        self.waiting = waiting
        self.limit = limit


class UnknownEndpoint(DomainError, LookupError):
    """The endpoint id names no endpoint the mock serves."""

    def __init__(self, endpoint_id: str, hint: str) -> None:
        super().__init__(f"Application '{endpoint_id}' not found. {hint}")
        self.endpoint_id = endpoint_id


class InvalidControlRequest(DomainError, ValueError):
    """A control operation (fault, failure, clock move, ...) with options that make no sense."""


class ControlLimitReached(DomainError):
    """A control-plane cap (``max_queued_faults``) is reached."""


class ClockNotAdjustable(DomainError, ValueError):
    """The app runs on the wall clock, which nobody moves."""


class OutputTimeout(DomainError, TimeoutError):
    """A control operation waited too long for a job's output to be generated."""
