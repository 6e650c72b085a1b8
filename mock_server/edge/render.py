"""Building response bodies: queue URLs and status envelopes, checked against their contracts.

Every JSON body the mock sends goes through :func:`fal_json` with the name of the
contract it must satisfy.  With ``Settings.check_contracts`` on (the test suite
turns it on), the body is validated before it leaves and a violation becomes a
500 that names the contract — a bug in the mock, never the client's fault.

Bodies are written by :class:`SafeJSONResponse`: when a value cannot be encoded (a lone
surrogate or a non-finite float that reached the state before ingress refused them — a data
directory written by an older mock), the answer is written from
:func:`~..strict_json.renderable`'s copy instead of failing with a 500 on every read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

from ..contract_check import check_contract
from ..jobs.model import Job, JobState
from ..strict_json import renderable
from .hosts import Bases


class SafeJSONResponse(JSONResponse):
    """A JSONResponse that renders any stored value (see the module docstring)."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except (ValueError, UnicodeEncodeError, RecursionError):  # NaN/inf, lone surrogates, too deep
            return super().render(renderable(content))


def fal_json(
    body: Any,
    *,
    contract: str | None,
    check: bool,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> SafeJSONResponse:
    """A JSON response, validated against ``contract`` when ``check`` is on."""
    check_contract(check, contract, body)
    return _CompactJSON(body, status_code=status_code, headers=dict(headers or {}))


class _CompactJSON(SafeJSONResponse):
    """Starlette's JSON response, byte for byte and header for header, made with less work per response.

    The encoder is made once (not once per response) and the headers are put together directly:
    the given ones (lower-cased names), then ``content-length`` and ``content-type`` — what
    Starlette's ``init_headers`` builds when neither of those two is given (they never are here;
    when one is, Starlette's own path runs).
    """

    #: No check for circular references (the mock's bodies are trees built from JSON; a cycle would be too deep
    #: and answered from :func:`~..strict_json.renderable`'s copy, as any over-deep value is).
    _encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"),
                               check_circular=False).encode  # fmt: skip

    def __init__(self, content: Any, status_code: int, headers: dict[str, str]) -> None:
        raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
        if any(name in (b"content-length", b"content-type") for name, _ in raw):
            super().__init__(content, status_code=status_code, headers=headers)
            return
        self.status_code = status_code
        self.background = None
        self.body = self.render(content)
        raw.append((b"content-length", str(len(self.body)).encode("latin-1")))
        raw.append((b"content-type", b"application/json"))
        self.raw_headers = raw

    def render(self, content: Any) -> bytes:
        try:
            return self._encode(content).encode("utf-8")
        except (ValueError, UnicodeEncodeError, RecursionError):  # NaN/inf, lone surrogates, too deep
            return self._encode(renderable(content)).encode("utf-8")


def request_urls(job: Job, bases: Bases) -> dict[str, str]:
    base = f"{bases.queue}/{job.app_id}/requests/{job.request_id}"
    return {"response_url": base, "status_url": f"{base}/status", "cancel_url": f"{base}/cancel"}


def submit_body(job: Job, bases: Bases, queue_position: int) -> dict[str, Any]:
    return {
        "status": "IN_QUEUE",
        "request_id": job.request_id,
        **request_urls(job, bases),
        "gateway_request_id": job.request_id,
        "logs": None,
        "metrics": {},
        "queue_position": queue_position,
    }


def status_body(job: Job, bases: Bases, *, queue_position: int, logs: list[dict[str, Any]] | None) -> dict[str, Any]:
    """fal's status envelope for the job's current state (``logs`` None when not requested)."""
    body: dict[str, Any] = {"status": job.state.value, "request_id": job.request_id, **request_urls(job, bases)}
    if job.state is JobState.IN_QUEUE:
        body["logs"] = None
        body["metrics"] = {}
        body["queue_position"] = queue_position
        return body
    body["logs"] = logs
    if job.state is JobState.IN_PROGRESS:
        body["metrics"] = {}
        return body
    outcome = job.final_outcome()
    ran = job.started_at is not None and outcome is not None and outcome.ok and job.forced_outcome is None
    body["metrics"] = {"inference_time": job.planned_inference_seconds} if ran else {}
    if outcome is not None and not outcome.ok:
        body["error"] = outcome.error
        body["error_type"] = outcome.error_type
    return body
