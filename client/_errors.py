"""The client's one exception family.

::

    Exception
     └── FalError                      anything this client raises about a call to fal
          ├── FalHTTPError             a non-2xx answer: status_code, detail, error_type, request_id, headers, body
          │    └── FalValidationError  a 422: field_errors (fal's ``detail`` list as FieldError)
          ├── FalConnectionError       the request never got an answer (after the retries)
          ├── FalProtocolError         an answer that is not what fal's protocol says (not JSON, stream cut, ...)
          ├── FalContractError         with ``validate=True``: a response broke its contract in ``contracts/``
          │                            (also a ``fal_mock.contracts.ContractViolation``)
          └── FalTimeoutError          ``subscribe(client_timeout=...)`` gave up waiting (the request was cancelled)

``detail`` is fal's ``detail`` exactly as sent: a string for request and HTTP errors
(``"No user found for Key ID and Secret"``), a list of entries for model errors.
``error_type`` comes from the body or, failing that, the ``X-Fal-Error-Type`` header
(request errors carry both), or from the first entry's ``type`` for model errors.
Like the JS client's ``ValidationError.fieldErrors``, a 422 whose ``detail`` is a string
becomes one field error at ``loc == ("body",)`` with type ``value_error``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from fal_mock.contracts import ContractViolation

_DETAIL_SHOWN = 300


class FalError(Exception):
    """Base of every error this client raises."""


@dataclass(frozen=True)
class FieldError:
    """One entry of a model error's ``detail`` list."""

    loc: tuple[str | int, ...]
    msg: str
    type: str
    url: str | None = None
    ctx: Mapping[str, Any] | None = None
    input: Any = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def field(self) -> str | None:
        """The input field the entry is about (``loc`` after ``"body"``, dotted), None for the whole body."""
        path = self.loc[1:] if self.loc and self.loc[0] == "body" else self.loc
        return ".".join(str(part) for part in path) or None

    @classmethod
    def from_json(cls, data: Any) -> FieldError:
        if not isinstance(data, Mapping):
            return cls(loc=("body",), msg=str(data), type="value_error")
        loc = data.get("loc")
        parts = tuple(part for part in loc if isinstance(part, str | int)) if isinstance(loc, list) else ("body",)
        ctx = data.get("ctx")
        return cls(
            loc=parts,
            msg=str(data.get("msg", "")),
            type=str(data.get("type", "value_error")),
            url=data.get("url") if isinstance(data.get("url"), str) else None,
            ctx=ctx if isinstance(ctx, Mapping) else None,
            input=data.get("input"),
            raw=dict(data),
        )


class FalHTTPError(FalError):
    """fal answered with a non-2xx status."""

    def __init__(
        self,
        status_code: int,
        detail: Any,
        *,
        error_type: str | None = None,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        url: str = "",
        method: str = "",
    ) -> None:
        self.status_code = status_code
        self.detail = detail
        self.error_type = error_type
        self.request_id = request_id
        self.headers: dict[str, str] = {name.lower(): value for name, value in (headers or {}).items()}
        self.body = body
        self.url = url
        self.method = method
        shown = detail if isinstance(detail, str) else repr(detail)
        if len(shown) > _DETAIL_SHOWN:
            shown = shown[:_DETAIL_SHOWN] + "…"
        where = f" ({method} {url})" if url else ""
        kind = f" [{error_type}]" if error_type else ""
        super().__init__(f"fal answered {status_code}{kind}: {shown}{where}")

    @property
    def timeout_type(self) -> str | None:
        """``X-Fal-Request-Timeout-Type`` (``user`` for a start timeout the caller asked for)."""
        return self.headers.get("x-fal-request-timeout-type")

    @property
    def is_user_timeout(self) -> bool:
        return self.status_code == 504 and self.timeout_type == "user"


class FalValidationError(FalHTTPError):
    """A 422: the input (or the model's view of it) was rejected; ``field_errors`` say where."""

    @property
    def field_errors(self) -> list[FieldError]:
        if isinstance(self.detail, str):
            return [FieldError(loc=("body",), msg=self.detail, type="value_error")]
        if isinstance(self.detail, Sequence):
            return [FieldError.from_json(item) for item in self.detail]
        return []

    def errors_for(self, field_name: str) -> list[FieldError]:
        """The entries about ``field_name`` (dotted path below ``body``)."""
        return [error for error in self.field_errors if error.field == field_name]


class FalConnectionError(FalError):
    """No answer: connection refused, reset, timed out (after the retries); ``__cause__`` is httpx's error."""


class FalProtocolError(FalError):
    """An answer this client cannot read as fal's protocol (wrong content type, not JSON, stream cut short)."""


class FalContractError(FalError, ContractViolation):
    """With ``validate=True``: a response body does not satisfy its contract.

    ``contract`` names the contract (``queue/status``, ``endpoints/<id>/output``, ...),
    ``errors`` lists the problems, ``url`` is the request that got the answer.
    """

    def __init__(self, contract: str, errors: list[str], *, url: str = "", status_code: int | None = None) -> None:
        ContractViolation.__init__(self, contract, errors)
        self.url = url
        self.status_code = status_code
        where = f" in the {status_code} answer to {url}" if url else ""
        self.args = (f"{self.args[0]}{where}",)


class FalTimeoutError(FalError):
    """``subscribe`` waited longer than its ``client_timeout``; the request was cancelled (best effort)."""

    def __init__(self, timeout: float, request_id: str) -> None:
        self.timeout = timeout
        self.request_id = request_id
        super().__init__(f"request {request_id} did not complete within {timeout:g} seconds (cancelled)")


def error_from_response(response: httpx.Response, body: Any) -> FalHTTPError:
    """The exception for a non-2xx ``response`` whose body was parsed to ``body`` (None if not JSON)."""
    headers = dict(response.headers.items())
    if isinstance(body, Mapping) and "detail" in body:
        detail: Any = body["detail"]
    elif isinstance(body, Mapping):
        detail = body.get("status") or dict(body)
    else:
        detail = response.text[:_DETAIL_SHOWN * 4] if response.text else response.reason_phrase
    error_type = None
    if isinstance(body, Mapping) and isinstance(body.get("error_type"), str):
        error_type = body["error_type"]
    elif response.headers.get("x-fal-error-type"):
        error_type = response.headers["x-fal-error-type"]
    elif isinstance(detail, list) and detail and isinstance(detail[0], Mapping):
        first_type = detail[0].get("type")
        error_type = first_type if isinstance(first_type, str) else None
    kind = FalValidationError if response.status_code == 422 else FalHTTPError
    request = response._request  # None for a hand-built response
    return kind(
        response.status_code,
        detail,
        error_type=error_type,
        request_id=response.headers.get("x-fal-request-id"),
        headers=headers,
        body=body,
        url=str(request.url) if request is not None else "",
        method=request.method if request is not None else "",
    )
