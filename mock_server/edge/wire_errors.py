"""The one place where the core's errors become fal's wire answers.

Everything the mock refuses or fails with reaches the client through :func:`wire_error`:

* fal's error answers (:class:`~..jobs.errors.FalError`) are already fal-shaped: their payload as is;
* domain exceptions of the core (:class:`~..jobs.errors.DomainError`: the job queue, the control
  plane, storage, webhooks) are mapped by the table in :func:`_domain_error` — each to the shape
  fal (or, for the control API, the mock) answers with;
* anything else is not an error of ours to answer (the app's handler turns it into a 500).

Choices where fal documents nothing: a full queue (``max_queue_size``, ``fal_max_queue_length``)
answers ``429 {"detail": ...}`` — the plain shape of fal's gateway refusals, with no invented
``error_type``; an unknown request id answers ``404 {"detail", "status": "NOT_FOUND"}``.
"""

from __future__ import annotations

from starlette.responses import Response

from ..catalogue import DocumentError
from ..files.errors import FileExists, FileTooLarge, InvalidParts, StorageError, StoreFull, TooManyParts, UnknownUpload
from ..jobs.errors import (
    ClockNotAdjustable,
    ControlLimitReached,
    DomainError,
    ErrorPayload,
    FalError,
    InvalidControlRequest,
    JobAlreadyCompleted,
    JobNotFound,
    OutputTimeout,
    PlainError,
    QueueFull,
    QueueLengthReached,
    RequestError,
    ResultNotReady,
    UnknownEndpoint,
)
from ..webhooks.errors import DeliveryNotFound, DeliveryStateError
from .render import SafeJSONResponse


def wire_error(error: Exception) -> FalError | None:
    """fal's answer for ``error`` (None: not one of the mock's errors — a bug, answered with a 500)."""
    if isinstance(error, FalError):
        return error
    if isinstance(error, DomainError):
        return _domain_error(error)
    if isinstance(error, DocumentError):  # a user document that fails on first use (see jobs/endpoints.py)
        return RequestError("internal_server_error", f"fal-mock cannot serve this endpoint, its document is broken: "
                            f"{error}", status_code=500)  # fmt: skip
    return None


def _domain_error(error: DomainError) -> FalError:
    text = str(error)
    if isinstance(error, JobNotFound):
        return PlainError(404, text, status="NOT_FOUND")
    if isinstance(error, JobAlreadyCompleted):
        return PlainError(409, text, status="ALREADY_COMPLETED")
    if isinstance(error, ResultNotReady):
        return PlainError(400, text, headers={"x-fal-request-id": error.request_id})
    if isinstance(error, QueueFull | QueueLengthReached | ControlLimitReached):
        return PlainError(429, text)
    if isinstance(error, UnknownEndpoint):
        return PlainError(404, text, status="NOT_FOUND")
    if isinstance(error, InvalidControlRequest):
        return PlainError(422, text)
    if isinstance(error, ClockNotAdjustable | DeliveryStateError):
        return PlainError(409, text)
    if isinstance(error, OutputTimeout):
        return PlainError(504, text)
    if isinstance(error, DeliveryNotFound):
        return PlainError(404, text)
    if isinstance(error, StorageError):
        return _storage_error(error)
    return PlainError(400, text)


def _storage_error(error: StorageError) -> FalError:
    if isinstance(error, FileTooLarge | TooManyParts):
        return PlainError(413, f"Payload too large: {error}")
    if isinstance(error, StoreFull):
        return PlainError(507, f"fal-mock {error}")
    if isinstance(error, UnknownUpload):
        return PlainError(404, f"Upload not found: {error}")
    if isinstance(error, InvalidParts):
        return PlainError(400, f"Invalid multipart upload: {error}")
    if isinstance(error, FileExists):
        return PlainError(409, f"Conflict: {error}")
    return PlainError(400, str(error))


def payload_response(payload: ErrorPayload, *, request_id: str | None = None) -> Response:
    """The wire answer for a rendered error (also used to replay a failed job's result)."""
    headers = dict(payload.headers)
    if request_id:
        headers["x-fal-request-id"] = request_id
    return SafeJSONResponse(payload.body, status_code=payload.status_code, headers=headers)


def error_response(error: FalError, *, request_id: str | None = None) -> Response:
    """Render ``error`` the way fal would answer it."""
    return payload_response(error.payload(), request_id=request_id)
