"""``FalClient`` and ``AsyncFalClient``: the queue, sync run and storage on httpx.

Both take an optional ``http`` client (``httpx.Client`` / ``httpx.AsyncClient``) — the seam
for tests, TLS settings (``verify=ssl.create_default_context(cafile=...)``), proxies and
default headers — and own (and close) one they create themselves.  Base URLs default to
fal's and can point anywhere, e.g. a ``fal-mock serve`` at ``https://127.0.0.1:PORT/queue``,
``.../run``, ``.../rest``, ``.../cdn``.

Request building and response reading live in :class:`~._core.ClientCore`; the two classes
here differ only in how they send (with :mod:`._retry`'s policy), sleep and wait.  Sleeping
(``sleep``), the retry jitter (``rng``) and the clock ``subscribe(client_timeout=...)`` reads
(``clock``) are injectable, so tests never wait.

``subscribe`` submits, follows the request by polling ``status`` (``mode="polling"``,
every ``poll_interval`` seconds, first poll right away) or by the SSE status stream
(``mode="streaming"``; if the stream ends before COMPLETED it continues by polling), calls
``on_update`` with every status (in streaming mode with the logs accumulated across events,
as the JS client does, so both modes report the same logs), then fetches the result — which
raises the replayed error of a failed request.  Unlike the official Python client it does not
poll once more after COMPLETED: the status already says the request finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, Literal

import httpx

from . import _upload
from ._core import DEFAULT_TIMEOUT, ClientCore, RequestSpec, key_from_env
from ._errors import FalConnectionError, FalError, FalTimeoutError, error_from_response
from ._models import Completed, LogEntry, Output, Queued, RequestHandle, Status
from ._retry import RetryPolicy, retry_after_seconds, should_retry_error, should_retry_response
from ._sse import SSEDecoder

Mode = Literal["polling", "streaming"]
UpdateCallback = Callable[[Status], Any]
EnqueueCallback = Callable[[RequestHandle], Any]
DEFAULT_POLL_INTERVAL = 0.1


class _Base:
    def __init__(
        self,
        key: str | None,
        *,
        queue_url: str | None,
        run_url: str | None,
        rest_url: str | None,
        cdn_url: str | None,
        validate: bool,
        retry: RetryPolicy | None,
        poll_interval: float,
        rng: random.Random | None,
        clock: Callable[[], float],
    ) -> None:
        defaults = ClientCore(key=None)
        self.core = ClientCore(
            key=key if key is not None else key_from_env(),
            queue_url=queue_url or defaults.queue_url,
            run_url=run_url or defaults.run_url,
            rest_url=rest_url or defaults.rest_url,
            cdn_url=cdn_url or defaults.cdn_url,
            validate=validate,
        )
        self.retry = retry or RetryPolicy()
        if poll_interval < 0:
            raise ValueError("poll_interval must be >= 0")
        self.poll_interval = poll_interval
        self._rng = rng or random.Random()
        self._clock = clock
        self._token: _upload.CDNToken | None = None

    @property
    def validate(self) -> bool:
        return self.core.validate

    def get_handle(self, endpoint_id: str, request_id: str) -> RequestHandle:
        """A handle for a request submitted elsewhere (URLs built from the queue base, as fal's by-id calls do)."""
        return self.core.handle(endpoint_id, request_id)

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        after = retry_after_seconds(response) if response is not None else None
        return self.retry.delay(attempt, self._rng.random(), after)

    def _deadline(self, timeout: float | None) -> float | None:
        return None if timeout is None else self._clock() + timeout

    def _expired(self, deadline: float | None) -> bool:
        return deadline is not None and self._clock() >= deadline


class FalClient(_Base):
    """A synchronous fal client. Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        key: str | None = None,
        *,
        http: httpx.Client | None = None,
        queue_url: str | None = None,
        run_url: str | None = None,
        rest_url: str | None = None,
        cdn_url: str | None = None,
        validate: bool = False,
        retry: RetryPolicy | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(key, queue_url=queue_url, run_url=run_url, rest_url=rest_url, cdn_url=cdn_url,
                         validate=validate, retry=retry, poll_interval=poll_interval, rng=rng, clock=clock)  # fmt: skip
        self._owns_http = http is None
        self.http = http if http is not None else httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._sleep = sleep

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> FalClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- sending -------------------------------------------------------------------------
    def _send(self, spec: RequestSpec, *, stream: bool = False) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self.retry.max_attempts
            try:
                response = self.http.send(spec.build(self.http), stream=stream)
            except httpx.TransportError as error:
                if last or not should_retry_error(error, spec.method):
                    raise FalConnectionError(f"{spec.method} {spec.url} failed: {error!r}") from error
                self._sleep(self._delay(attempt, None))
                continue
            if not last and should_retry_response(response):
                response.close()
                self._sleep(self._delay(attempt, response))
                continue
            return response

    # --- the queue -------------------------------------------------------------------------
    def submit(
        self,
        endpoint_id: str,
        arguments: Mapping[str, Any],
        *,
        webhook_url: str | None = None,
        priority: str | None = None,
        hint: str | None = None,
        start_timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> RequestHandle:
        """Queue a request; the handle carries its id and the status/result/cancel URLs fal returned."""
        spec = self.core.submit_request(endpoint_id, arguments, webhook_url=webhook_url, priority=priority,
                                        hint=hint, start_timeout=start_timeout, headers=headers)  # fmt: skip
        return self.core.read_submit(endpoint_id, self._send(spec))

    def status(self, handle: RequestHandle, *, with_logs: bool = False) -> Status:
        return self.core.read_status(self._send(self.core.status_request(handle, with_logs=with_logs)))

    def stream_status(self, handle: RequestHandle, *, with_logs: bool = False) -> Iterator[Status]:
        """Statuses from fal's SSE status stream, until COMPLETED (or until the server closes the stream).

        Each event's ``logs`` holds only the entries that are new since the previous event (as fal
        sends them); ``subscribe(mode="streaming")`` hands ``on_update`` the accumulated logs instead.
        """
        response = self._send(self.core.stream_request(handle, with_logs=with_logs), stream=True)
        try:
            if not response.is_success:
                response.read()
                raise error_from_response(response, self.core.json_body(response))
            self.core.check_stream(response)
            decoder = SSEDecoder()
            try:
                for line in response.iter_lines():
                    event = decoder.feed(line)
                    if event is not None:
                        status = self.core.read_event(event, response)
                        yield status
                        if isinstance(status, Completed):
                            return
            except httpx.TransportError as error:
                raise FalConnectionError(f"the status stream of {handle.request_id} broke: {error!r}") from error
            event = decoder.flush()
            if event is not None:
                yield self.core.read_event(event, response)
        finally:
            response.close()

    def result(self, handle: RequestHandle) -> Output:
        """The output of a completed request (a failed request raises its replayed error; 400 if not done)."""
        return self.core.read_output(handle.endpoint_id, self._send(self.core.result_request(handle)))

    def cancel(self, handle: RequestHandle) -> str:
        """Ask fal to cancel: ``"CANCELLATION_REQUESTED"``; raises FalHTTPError 400 if already completed."""
        return self.core.read_cancel(self._send(self.core.cancel_request(handle)))

    def subscribe(
        self,
        endpoint_id: str,
        arguments: Mapping[str, Any],
        *,
        mode: Mode = "polling",
        with_logs: bool = False,
        on_enqueue: EnqueueCallback | None = None,
        on_update: UpdateCallback | None = None,
        poll_interval: float | None = None,
        client_timeout: float | None = None,
        webhook_url: str | None = None,
        priority: str | None = None,
        hint: str | None = None,
        start_timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Output:
        """Submit, follow the request until COMPLETED, return its output (see the module docstring)."""
        if mode not in ("polling", "streaming"):
            raise ValueError(f"mode must be 'polling' or 'streaming', not {mode!r}")
        handle = self.submit(endpoint_id, arguments, webhook_url=webhook_url, priority=priority, hint=hint,
                             start_timeout=start_timeout, headers=headers)  # fmt: skip
        if on_enqueue is not None:
            on_enqueue(handle)
        deadline = self._deadline(client_timeout)
        interval = self.poll_interval if poll_interval is None else poll_interval
        if mode == "streaming":
            logs: list[LogEntry] = []
            for event in self.stream_status(handle, with_logs=with_logs):
                status = _accumulate(event, logs)
                if on_update is not None:
                    on_update(status)
                if isinstance(status, Completed):
                    return self.result(handle)
                if self._expired(deadline):
                    self._give_up(handle, client_timeout)
        while True:
            status = self.status(handle, with_logs=with_logs)
            if on_update is not None:
                on_update(status)
            if isinstance(status, Completed):
                return self.result(handle)
            if self._expired(deadline):
                self._give_up(handle, client_timeout)
            self._sleep(interval)

    def _give_up(self, handle: RequestHandle, waited: float | None) -> None:
        with contextlib.suppress(FalError):
            self.cancel(handle)
        raise FalTimeoutError(waited or 0.0, handle.request_id)

    # --- sync run ----------------------------------------------------------------------------
    def run(
        self,
        endpoint_id: str,
        arguments: Mapping[str, Any],
        *,
        hint: str | None = None,
        start_timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Output:
        """``POST {run}/{endpoint_id}``: the output directly (errors raised directly)."""
        spec = self.core.run_request(endpoint_id, arguments, hint=hint, start_timeout=start_timeout, headers=headers)
        return self.core.read_output(endpoint_id, self._send(spec))

    # --- storage -----------------------------------------------------------------------------
    def upload(self, data: bytes, content_type: str, file_name: str | None = None) -> str:
        """Store ``data`` on fal's CDN; returns its URL (CDN-token flow, initiate + PUT as fallback)."""
        try:
            token = self._cdn_token()
            spec = _upload.cdn_upload_request(self.core, token, data, content_type, file_name)
            return _upload.access_url(self.core.read(self._send(spec), "storage/upload-response"))
        except FalError as primary:
            self._token = None
            try:
                return self._upload_initiated(data, content_type, file_name)
            except FalError as fallback:
                raise fallback from primary

    def _upload_initiated(self, data: bytes, content_type: str, file_name: str | None) -> str:
        initiate = _upload.initiate_request(self.core, content_type, file_name)
        upload_url, file_url = _upload.initiated(self.core.read(self._send(initiate), "storage/initiate-response"))
        response = self._send(_upload.put_request(self.core, upload_url, data, content_type))
        if not response.is_success:
            raise error_from_response(response, self.core.json_body(response))
        return file_url

    def _cdn_token(self) -> _upload.CDNToken:
        if self._token is None or not self._token.fresh(_upload.now_utc()):
            body = self.core.read(self._send(_upload.token_request(self.core)), "storage/cdn-token-response")
            self._token = _upload.CDNToken.from_json(body)
        return self._token


class AsyncFalClient(_Base):
    """The asyncio twin of :class:`FalClient` (same methods, awaited; ``stream_status`` is an async iterator)."""

    def __init__(
        self,
        key: str | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        queue_url: str | None = None,
        run_url: str | None = None,
        rest_url: str | None = None,
        cdn_url: str | None = None,
        validate: bool = False,
        retry: RetryPolicy | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(key, queue_url=queue_url, run_url=run_url, rest_url=rest_url, cdn_url=cdn_url,
                         validate=validate, retry=retry, poll_interval=poll_interval, rng=rng, clock=clock)  # fmt: skip
        self._owns_http = http is None
        self.http = http if http is not None else httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)
        self._sleep = sleep

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> AsyncFalClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _send(self, spec: RequestSpec, *, stream: bool = False) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self.retry.max_attempts
            try:
                response = await self.http.send(spec.build(self.http), stream=stream)
            except httpx.TransportError as error:
                if last or not should_retry_error(error, spec.method):
                    raise FalConnectionError(f"{spec.method} {spec.url} failed: {error!r}") from error
                await self._sleep(self._delay(attempt, None))
                continue
            if not last and should_retry_response(response):
                await response.aclose()
                await self._sleep(self._delay(attempt, response))
                continue
            return response

    async def submit(
        self,
        endpoint_id: str,
        arguments: Mapping[str, Any],
        *,
        webhook_url: str | None = None,
        priority: str | None = None,
        hint: str | None = None,
        start_timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> RequestHandle:
        spec = self.core.submit_request(endpoint_id, arguments, webhook_url=webhook_url, priority=priority,
                                        hint=hint, start_timeout=start_timeout, headers=headers)  # fmt: skip
        return self.core.read_submit(endpoint_id, await self._send(spec))

    async def status(self, handle: RequestHandle, *, with_logs: bool = False) -> Status:
        return self.core.read_status(await self._send(self.core.status_request(handle, with_logs=with_logs)))

    async def stream_status(self, handle: RequestHandle, *, with_logs: bool = False) -> AsyncGenerator[Status, None]:
        response = await self._send(self.core.stream_request(handle, with_logs=with_logs), stream=True)
        try:
            if not response.is_success:
                await response.aread()
                raise error_from_response(response, self.core.json_body(response))
            self.core.check_stream(response)
            decoder = SSEDecoder()
            try:
                async for line in response.aiter_lines():
                    event = decoder.feed(line)
                    if event is not None:
                        status = self.core.read_event(event, response)
                        yield status
                        if isinstance(status, Completed):
                            return
            except httpx.TransportError as error:
                raise FalConnectionError(f"the status stream of {handle.request_id} broke: {error!r}") from error
            event = decoder.flush()
            if event is not None:
                yield self.core.read_event(event, response)
        finally:
            await response.aclose()

    async def result(self, handle: RequestHandle) -> Output:
        return self.core.read_output(handle.endpoint_id, await self._send(self.core.result_request(handle)))

    async def cancel(self, handle: RequestHandle) -> str:
        return self.core.read_cancel(await self._send(self.core.cancel_request(handle)))

    async def subscribe(
        self,
        endpoint_id: str,
        arguments: Mapping[str, Any],
        *,
        mode: Mode = "polling",
        with_logs: bool = False,
        on_enqueue: EnqueueCallback | None = None,
        on_update: UpdateCallback | None = None,
        poll_interval: float | None = None,
        client_timeout: float | None = None,
        webhook_url: str | None = None,
        priority: str | None = None,
        hint: str | None = None,
        start_timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Output:
        """As :meth:`FalClient.subscribe`; ``on_enqueue``/``on_update`` may be coroutine functions."""
        if mode not in ("polling", "streaming"):
            raise ValueError(f"mode must be 'polling' or 'streaming', not {mode!r}")
        handle = await self.submit(endpoint_id, arguments, webhook_url=webhook_url, priority=priority, hint=hint,
                                   start_timeout=start_timeout, headers=headers)  # fmt: skip
        if on_enqueue is not None:
            await _maybe_await(on_enqueue(handle))
        deadline = self._deadline(client_timeout)
        interval = self.poll_interval if poll_interval is None else poll_interval
        if mode == "streaming":
            stream = self.stream_status(handle, with_logs=with_logs)
            logs: list[LogEntry] = []
            try:
                async for event in stream:
                    status = _accumulate(event, logs)
                    if on_update is not None:
                        await _maybe_await(on_update(status))
                    if isinstance(status, Completed):
                        return await self.result(handle)
                    if self._expired(deadline):
                        await self._give_up(handle, client_timeout)
            finally:
                await stream.aclose()
        while True:
            status = await self.status(handle, with_logs=with_logs)
            if on_update is not None:
                await _maybe_await(on_update(status))
            if isinstance(status, Completed):
                return await self.result(handle)
            if self._expired(deadline):
                await self._give_up(handle, client_timeout)
            await self._sleep(interval)

    async def _give_up(self, handle: RequestHandle, waited: float | None) -> None:
        with contextlib.suppress(FalError):
            await self.cancel(handle)
        raise FalTimeoutError(waited or 0.0, handle.request_id)

    async def run(
        self,
        endpoint_id: str,
        arguments: Mapping[str, Any],
        *,
        hint: str | None = None,
        start_timeout: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Output:
        spec = self.core.run_request(endpoint_id, arguments, hint=hint, start_timeout=start_timeout, headers=headers)
        return self.core.read_output(endpoint_id, await self._send(spec))

    async def upload(self, data: bytes, content_type: str, file_name: str | None = None) -> str:
        try:
            token = await self._cdn_token()
            spec = _upload.cdn_upload_request(self.core, token, data, content_type, file_name)
            return _upload.access_url(self.core.read(await self._send(spec), "storage/upload-response"))
        except FalError as primary:
            self._token = None
            try:
                return await self._upload_initiated(data, content_type, file_name)
            except FalError as fallback:
                raise fallback from primary

    async def _upload_initiated(self, data: bytes, content_type: str, file_name: str | None) -> str:
        initiate = _upload.initiate_request(self.core, content_type, file_name)
        upload_url, file_url = _upload.initiated(
            self.core.read(await self._send(initiate), "storage/initiate-response")
        )
        response = await self._send(_upload.put_request(self.core, upload_url, data, content_type))
        if not response.is_success:
            raise error_from_response(response, self.core.json_body(response))
        return file_url

    async def _cdn_token(self) -> _upload.CDNToken:
        if self._token is None or not self._token.fresh(_upload.now_utc()):
            body = self.core.read(await self._send(_upload.token_request(self.core)), "storage/cdn-token-response")
            self._token = _upload.CDNToken.from_json(body)
        return self._token


def _accumulate(status: Status, logs: list[LogEntry]) -> Status:
    """A stream event with the logs of every event so far (each event carries only new entries)."""
    if isinstance(status, Queued) or status.logs is None:
        return status
    logs.extend(status.logs)
    return dataclasses.replace(status, logs=list(logs))


async def _maybe_await(value: Any) -> None:
    if inspect.isawaitable(value):
        await value

