"""What the sync and async clients share: configuration, request building, response reading.

:class:`ClientCore` knows fal's URLs and headers and how to read every answer, and does
no I/O: it turns a call into a :class:`RequestSpec` (built into an ``httpx.Request`` by
the client's own ``httpx.Client``/``AsyncClient``, so that client's default headers and
settings apply) and turns an ``httpx.Response`` into a typed result or an exception from
:mod:`._errors`.  The two clients only add the sending, retrying and waiting.

URLs (protocol reference §1): submit ``POST {queue}/{endpoint_id}``; status, result and
cancel use the URLs the submit answer returned (fal's are ``{queue}/{owner}/{alias}/requests/{id}``
— the endpoint's sub-path is dropped); the status stream is ``{status_url}/stream``; sync
run ``POST {run}/{endpoint_id}``.  Headers: ``Authorization: Key <key>``,
``X-Fal-Queue-Priority`` and ``X-Fal-Runner-Hint`` only when given,
``X-Fal-Request-Timeout`` as ``str(float(seconds))`` like the Python client, the
``logs`` flag as ``1``/``0`` like the JS client.

With ``validate=True`` every JSON answer is checked against its contract in
``fal_mock.contracts`` (errors too: any non-2xx JSON body against ``errors/error``) and a
violation raises :class:`~._errors.FalContractError` naming the contract.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import httpx
from fal_mock import contracts

from ._errors import FalContractError, FalProtocolError, error_from_response
from ._models import Output, RequestHandle, Status, parse_output, parse_status
from ._sse import SSEvent

QUEUE_URL = "https://queue.fal.run"
RUN_URL = "https://fal.run"
REST_URL = "https://rest.fal.ai"
CDN_URL = "https://v3.fal.media"
USER_AGENT = "fal-mock-client/0.1 (python)"
#: Default timeouts of a client the fal client creates itself (fal_client uses 120 s, connect 30 s).
DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=30.0)
PRIORITIES = ("normal", "low")
_UNSET: Any = object()


def key_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """``FAL_KEY``, else ``FAL_KEY_ID:FAL_KEY_SECRET``, else None (as both official clients read them)."""
    env = os.environ if environ is None else environ
    if env.get("FAL_KEY"):
        return env["FAL_KEY"]
    if env.get("FAL_KEY_ID") and env.get("FAL_KEY_SECRET"):
        return f"{env['FAL_KEY_ID']}:{env['FAL_KEY_SECRET']}"
    return None


@dataclass(frozen=True)
class RequestSpec:
    """One HTTP request to make (the client builds it with its own httpx client)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] | None = None
    json: Any = _UNSET
    content: bytes | None = None
    #: httpx timeout of this request; unset means the http client's default.
    timeout: httpx.Timeout | None = None

    def build(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        kwargs: dict[str, Any] = {"headers": self.headers}
        if self.params is not None:
            kwargs["params"] = self.params
        if self.json is not _UNSET:
            kwargs["content"] = json.dumps(self.json, separators=(",", ":")).encode()
            kwargs["headers"] = {"Content-Type": "application/json", **self.headers}
        elif self.content is not None:
            kwargs["content"] = self.content
        if self.timeout is not None:
            kwargs["timeout"] = self.timeout
        return http.build_request(self.method, self.url, **kwargs)


@dataclass(frozen=True)
class ClientCore:
    """Configuration and the pure parts of every call."""

    key: str | None
    queue_url: str = QUEUE_URL
    run_url: str = RUN_URL
    rest_url: str = REST_URL
    cdn_url: str = CDN_URL
    validate: bool = False

    # --- headers -----------------------------------------------------------------------
    def headers(self, extra: Mapping[str, str] | None = None, *, auth: bool = True) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if auth and self.key:
            headers["Authorization"] = f"Key {self.key}"
        headers.update(extra or {})
        return headers

    @staticmethod
    def platform_headers(*, priority: str | None, hint: str | None, start_timeout: float | None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if priority is not None:
            if priority not in PRIORITIES:
                raise ValueError(f"priority must be 'normal' or 'low', not {priority!r}")
            headers["X-Fal-Queue-Priority"] = priority
        if hint is not None:
            headers["X-Fal-Runner-Hint"] = hint
        if start_timeout is not None:
            if not start_timeout > 0:
                raise ValueError(f"start_timeout must be a positive number of seconds, not {start_timeout!r}")
            headers["X-Fal-Request-Timeout"] = str(float(start_timeout))
        return headers

    # --- requests ----------------------------------------------------------------------
    def submit_request(
        self,
        endpoint_id: str,
        arguments: Any,
        *,
        webhook_url: str | None = None,
        priority: str | None = None,
        hint: str | None = None,
        start_timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> RequestSpec:
        extra = {**self.platform_headers(priority=priority, hint=hint, start_timeout=start_timeout), **(headers or {})}
        return RequestSpec(
            "POST",
            f"{self.queue_url.rstrip('/')}/{endpoint_id.strip('/')}",
            headers=self.headers(extra),
            params={"fal_webhook": webhook_url} if webhook_url else None,
            json=arguments,
        )

    def status_request(self, handle: RequestHandle, *, with_logs: bool) -> RequestSpec:
        return RequestSpec("GET", handle.status_url, headers=self.headers(), params={"logs": "1" if with_logs else "0"})

    def stream_request(self, handle: RequestHandle, *, with_logs: bool) -> RequestSpec:
        return RequestSpec(
            "GET",
            handle.status_url.rstrip("/") + "/stream",
            headers=self.headers({"Accept": "text/event-stream"}),
            params={"logs": "1" if with_logs else "0"},
            timeout=httpx.Timeout(DEFAULT_TIMEOUT.connect, read=None, write=None, pool=None),
        )

    def result_request(self, handle: RequestHandle) -> RequestSpec:
        return RequestSpec("GET", handle.response_url, headers=self.headers())

    def cancel_request(self, handle: RequestHandle) -> RequestSpec:
        return RequestSpec("PUT", handle.cancel_url, headers=self.headers())

    def run_request(
        self,
        endpoint_id: str,
        arguments: Any,
        *,
        hint: str | None = None,
        start_timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> RequestSpec:
        extra = {**self.platform_headers(priority=None, hint=hint, start_timeout=start_timeout), **(headers or {})}
        return RequestSpec(
            "POST",
            f"{self.run_url.rstrip('/')}/{endpoint_id.strip('/')}",
            headers=self.headers(extra),
            json=arguments,
        )

    def handle(self, endpoint_id: str, request_id: str) -> RequestHandle:
        return RequestHandle.for_request(endpoint_id, request_id, self.queue_url)

    # --- reading -----------------------------------------------------------------------
    @cached_property
    def _known_outputs(self) -> frozenset[str]:
        return frozenset(contracts.endpoint_ids())

    def output_contract(self, endpoint_id: str) -> str | None:
        endpoint_id = endpoint_id.strip("/")
        return contracts.endpoint_contract(endpoint_id, "output") if endpoint_id in self._known_outputs else None

    def check(self, contract: str | None, body: Any, response: httpx.Response) -> None:
        """With ``validate``: raise :class:`FalContractError` if ``body`` breaks ``contract``."""
        if not self.validate or contract is None:
            return
        try:
            contracts.validate(contract, body)
        except contracts.ContractViolation as violation:
            raise FalContractError(
                contract, list(violation.errors), url=_url_of(response), status_code=response.status_code
            ) from None

    def json_body(self, response: httpx.Response) -> Any:
        """The parsed JSON body (None when it is not JSON)."""
        if not response.content:
            return None
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError):
            return None

    def read(self, response: httpx.Response, contract: str | None, *, error_contract: str | None = None) -> Any:
        """The JSON of a 2xx ``response`` (checked against ``contract``), or raise the fal error it carries."""
        body = self.json_body(response)
        if not response.is_success:
            if body is not None:
                self.check(error_contract or "errors/error", body, response)
            raise error_from_response(response, body)
        if body is None and response.content.strip() != b"null":
            raise FalProtocolError(
                f"{_url_of(response)} answered {response.status_code} with a body that is not JSON "
                f"(content-type {response.headers.get('content-type', 'none')!r})"
            )
        self.check(contract, body, response)
        return body

    def read_submit(self, endpoint_id: str, response: httpx.Response) -> RequestHandle:
        return RequestHandle.from_submit(endpoint_id, self.read(response, "queue/submit-response"))

    def read_status(self, response: httpx.Response) -> Status:
        return parse_status(self.read(response, "queue/status"))

    def read_output(self, endpoint_id: str, response: httpx.Response) -> Output:
        body = self.read(response, self.output_contract(endpoint_id))
        return parse_output(endpoint_id, body, response.headers.get("x-fal-request-id"))

    def read_cancel(self, response: httpx.Response) -> str:
        """``CANCELLATION_REQUESTED`` (202); a 400 ``ALREADY_COMPLETED`` raises FalHTTPError."""
        body = self.read(response, "queue/cancel-response", error_contract=_cancel_error_contract(response, self))
        status = body.get("status") if isinstance(body, Mapping) else None
        return str(status or "OK")

    def check_stream(self, response: httpx.Response) -> None:
        """Raise unless ``response`` (headers read, body not yet) is a 2xx event stream."""
        if not response.is_success:
            return  # the caller reads the body and raises the error
        content_type = response.headers.get("content-type", "")
        if not content_type.startswith("text/event-stream"):
            raise FalProtocolError(
                f"{_url_of(response)} answered {content_type!r}, not text/event-stream (fal's status stream)"
            )

    def read_event(self, event: SSEvent, response: httpx.Response) -> Status:
        try:
            body = json.loads(event.data)
        except ValueError:
            raise FalProtocolError(f"a status stream event is not JSON: {event.data[:200]!r}") from None
        self.check("queue/status", body, response)
        return parse_status(body)


def _cancel_error_contract(response: httpx.Response, core: ClientCore) -> str:
    body = core.json_body(response)
    if response.status_code == 400 and isinstance(body, Mapping) and "detail" not in body:
        return "queue/cancel-response"
    return "errors/error"


def _url_of(response: httpx.Response) -> str:
    request = response._request
    return str(request.url) if request is not None else ""
