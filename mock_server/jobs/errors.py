"""The one error family of the mock, and the one place it is rendered.

fal answers errors in three shapes (see the protocol reference, §3):

* model errors — ``{"detail": [{"loc", "msg", "type", "url", "ctx"?, "input"?}]}``,
  422 for validation and input problems, 5xx/400 for some model failures
  (:class:`ModelError`);
* request (infrastructure) errors — ``{"detail": "<text>", "error_type": "<type>"}``
  plus an ``X-Fal-Error-Type`` header (:class:`RequestError`);
* plain HTTP errors — ``{"detail": "<text>"}`` (401, 404, 405, 413, ...)
  (:class:`HTTPError`).

Code anywhere on the request path raises one of these; :func:`error_response`
turns it into the wire answer.  A failed job stores the same triple
(status, body, headers) as an :class:`ErrorPayload` so that the result endpoint and
webhooks replay exactly what a sync run would have answered.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse, Response

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


class FalMockError(Exception, ABC):
    """Base of every error the mock answers with."""

    status_code: int = 500
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


class HTTPError(FalMockError):
    """``{"detail": "<text>"}`` with optional extra keys (``status``, ``error_type``)."""

    contract = "errors/http-error"

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: str,
    ) -> None:
        super().__init__(status_code, headers)
        self.detail = detail
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, **self.extra}

    def summary(self) -> tuple[str, str]:
        return self.detail, self.extra.get("error_type", _status_slug(self.status_code))


class RequestError(FalMockError):
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
        entry: dict[str, Any] = {
            "loc": list(self.loc),
            "msg": self.msg,
            "type": self.type,
            "url": ERROR_DOCS_URL.format(type=self.type),
        }
        if self.ctx is not None:
            entry["ctx"] = dict(self.ctx)
        if self.has_input:
            entry["input"] = self.input
        return entry


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


class ModelError(FalMockError):
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


def _status_slug(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def payload_response(payload: ErrorPayload, *, request_id: str | None = None) -> Response:
    """The wire answer for a rendered error (also used to replay a failed job's result)."""
    headers = dict(payload.headers)
    if request_id:
        headers["x-fal-request-id"] = request_id
    return JSONResponse(payload.body, status_code=payload.status_code, headers=headers)


def error_response(error: FalMockError, *, request_id: str | None = None) -> Response:
    """Render ``error`` the way fal would answer it."""
    return payload_response(error.payload(), request_id=request_id)
