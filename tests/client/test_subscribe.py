"""subscribe, stream_status and the async client, against the scripted fake (no real waiting)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fal_mock.client import (
    AsyncFalClient,
    Completed,
    FalClient,
    FalConnectionError,
    FalContractError,
    FalHTTPError,
    FalProtocolError,
    FalTimeoutError,
    FalValidationError,
    InProgress,
    Queued,
    RequestHandle,
    Status,
    VideoOutput,
)

from tests.client.fakes import KEY, MINIMAX, RID, VIDEO, FakeFal, json_response, sse, status, submitted

LOG = {"message": "step", "level": "INFO", "source": "USER", "timestamp": "2026-01-01T00:00:00+00:00", "labels": {}}


def queue_fake(*statuses: httpx.Response, result: httpx.Response | None = None) -> FakeFal:
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(200, submitted()))
    fake.add("GET /status", *statuses)
    fake.add(f"GET /requests/{RID}", result or json_response(200, VIDEO))
    return fake


def progression() -> tuple[httpx.Response, ...]:
    return (
        json_response(202, status("IN_QUEUE", queue_position=1)),
        json_response(202, status("IN_PROGRESS", logs=[LOG])),
        json_response(200, status("COMPLETED", logs=[LOG], metrics={"inference_time": 2.0})),
    )


def sync_client(fake: FakeFal, sleeps: list[float], **options: Any) -> FalClient:
    return FalClient(KEY, http=httpx.Client(transport=fake.transport()), sleep=sleeps.append, validate=True, **options)


def test_polling_reports_every_status_and_sleeps_between_polls() -> None:
    fake = queue_fake(*progression())
    sleeps: list[float] = []
    updates: list[Status] = []
    enqueued: list[RequestHandle] = []
    output = sync_client(fake, sleeps, poll_interval=0.25).subscribe(
        MINIMAX, {"prompt": "p"}, with_logs=True, on_update=updates.append, on_enqueue=enqueued.append
    )
    assert isinstance(output, VideoOutput)
    assert output.request_id == RID
    assert [type(u) for u in updates] == [Queued, InProgress, Completed]
    assert enqueued[0].request_id == RID
    assert sleeps == [0.25, 0.25]
    assert [r.url.params["logs"] for r in fake.sent("GET", "/status")] == ["1", "1", "1"]


def test_poll_interval_per_call() -> None:
    fake = queue_fake(*progression())
    sleeps: list[float] = []
    sync_client(fake, sleeps).subscribe(MINIMAX, {}, poll_interval=0)
    assert sleeps == [0, 0]


def test_streaming_reads_the_status_stream() -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(200, submitted()))
    fake.add("GET /status/stream", sse(status("IN_QUEUE", queue_position=0), status("IN_PROGRESS", logs=[LOG]),
                                        status("COMPLETED", logs=[LOG])))  # fmt: skip
    fake.add(f"GET /requests/{RID}", json_response(200, VIDEO))
    updates: list[Status] = []
    sleeps: list[float] = []
    output = sync_client(fake, sleeps).subscribe(MINIMAX, {}, mode="streaming", with_logs=True,
                                                 on_update=updates.append)  # fmt: skip
    assert isinstance(output, VideoOutput)
    assert [type(u) for u in updates] == [Queued, InProgress, Completed]
    (stream,) = fake.sent("GET", "/status/stream")
    assert stream.headers["accept"] == "text/event-stream"
    assert stream.url.params["logs"] == "1"
    assert fake.sent("GET", "/status") == []
    assert sleeps == []


def test_streaming_accumulates_the_logs_of_every_event() -> None:
    second = {**LOG, "message": "step 2"}
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(200, submitted()))
    fake.add("GET /status/stream", sse(status("IN_PROGRESS", logs=[LOG]), status("COMPLETED", logs=[second])))
    fake.add(f"GET /requests/{RID}", json_response(200, VIDEO))
    updates: list[Status] = []
    fal = sync_client(fake, [])
    fal.subscribe(MINIMAX, {}, mode="streaming", with_logs=True, on_update=updates.append)
    assert [[entry.message for entry in u.logs or []] for u in updates if not isinstance(u, Queued)] == [
        ["step"],
        ["step", "step 2"],
    ]
    # stream_status itself reports each event as sent
    raw = list(fal.stream_status(fal.get_handle(MINIMAX, RID), with_logs=True))
    per_event = [[entry.message for entry in u.logs or []] for u in raw if not isinstance(u, Queued)]
    assert per_event == [["step"], ["step 2"]]


def test_a_stream_that_ends_early_continues_by_polling() -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(200, submitted()))
    fake.add("GET /status/stream", sse(status("IN_PROGRESS", logs=None)))
    fake.add("GET /status", json_response(200, status("COMPLETED")))
    fake.add(f"GET /requests/{RID}", json_response(200, VIDEO))
    updates: list[Status] = []
    sync_client(fake, []).subscribe(MINIMAX, {}, mode="streaming", on_update=updates.append)
    assert [type(u) for u in updates] == [InProgress, Completed]


def test_stream_status_stops_at_completed() -> None:
    fake = FakeFal().add("GET /status/stream", sse(status("COMPLETED"), status("IN_QUEUE", queue_position=0)))
    fal = sync_client(fake, [])
    assert [type(s) for s in fal.stream_status(fal.get_handle(MINIMAX, RID))] == [Completed]


def test_stream_status_errors() -> None:
    fake = FakeFal().add(
        "GET /status/stream",
        json_response(404, {"detail": "Request x not found", "status": "NOT_FOUND"}),
        httpx.Response(200, json=status("COMPLETED")),
        httpx.Response(200, content=b"data: {not json\n\n", headers={"content-type": "text/event-stream"}),
        sse({"status": "IN_QUEUE"}),
    )
    fal = sync_client(fake, [])
    handle = fal.get_handle(MINIMAX, RID)
    with pytest.raises(FalHTTPError) as raised:
        list(fal.stream_status(handle))
    assert raised.value.status_code == 404
    with pytest.raises(FalProtocolError, match="text/event-stream"):
        list(fal.stream_status(handle))
    with pytest.raises(FalProtocolError, match="not JSON"):
        list(fal.stream_status(handle))
    with pytest.raises(FalContractError, match="queue/status"):
        list(fal.stream_status(handle))


def test_a_failed_request_raises_its_replayed_error() -> None:
    detail = [{"loc": ["body", "image_url"], "msg": "File download error", "type": "file_download_error",
               "url": "https://docs.fal.ai/errors#file_download_error"}]  # fmt: skip
    fake = queue_fake(
        json_response(200, status("COMPLETED", error="File download error", error_type="file_download_error")),
        result=json_response(422, {"detail": detail}),
    )
    updates: list[Status] = []
    with pytest.raises(FalValidationError) as raised:
        sync_client(fake, []).subscribe(MINIMAX, {}, on_update=updates.append)
    assert raised.value.errors_for("image_url")[0].type == "file_download_error"
    assert isinstance(updates[-1], Completed)
    assert updates[-1].error_type == "file_download_error"


def test_client_timeout_cancels_and_raises() -> None:
    now = [0.0]
    fake = queue_fake(json_response(202, status("IN_QUEUE", queue_position=0)))
    fake.add("PUT /cancel", json_response(202, {"status": "CANCELLATION_REQUESTED"}))

    def sleep(seconds: float) -> None:
        now[0] += seconds

    fal = FalClient(KEY, http=httpx.Client(transport=fake.transport()), sleep=sleep, clock=lambda: now[0],
                    poll_interval=1.0)  # fmt: skip
    with pytest.raises(FalTimeoutError) as raised:
        fal.subscribe(MINIMAX, {}, client_timeout=3.0)
    assert raised.value.request_id == RID
    assert raised.value.timeout == 3.0
    assert len(fake.sent("GET", "/status")) == 4
    assert len(fake.sent("PUT", "/cancel")) == 1


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mode"):
        sync_client(FakeFal(), []).subscribe(MINIMAX, {}, mode="sse")  # type: ignore[arg-type]


# --- the async twin -------------------------------------------------------------------------


def async_client(fake: FakeFal, sleeps: list[float], **options: Any) -> AsyncFalClient:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return AsyncFalClient(KEY, http=httpx.AsyncClient(transport=fake.transport()), sleep=sleep, validate=True,
                          **options)  # fmt: skip


async def test_async_subscribe_polling_with_coroutine_callbacks() -> None:
    fake = queue_fake(*progression())
    sleeps: list[float] = []
    updates: list[Status] = []

    async def on_update(update: Status) -> None:
        updates.append(update)

    async with async_client(fake, sleeps, poll_interval=0.5) as fal:
        output = await fal.subscribe(MINIMAX, {}, with_logs=True, on_update=on_update)
    assert isinstance(output, VideoOutput)
    assert [type(u) for u in updates] == [Queued, InProgress, Completed]
    assert sleeps == [0.5, 0.5]


async def test_async_subscribe_streaming_with_plain_callbacks() -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(200, submitted()))
    fake.add("GET /status/stream", sse(status("IN_PROGRESS", logs=[]), status("COMPLETED", logs=[LOG])))
    fake.add(f"GET /requests/{RID}", json_response(200, VIDEO))
    updates: list[Status] = []
    fal = async_client(fake, [])
    output = await fal.subscribe(MINIMAX, {}, mode="streaming", on_update=updates.append)
    assert isinstance(output, VideoOutput)
    assert [type(u) for u in updates] == [InProgress, Completed]


async def test_async_queue_calls_and_errors() -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(200, submitted()))
    fake.add("GET /status", json_response(202, status("IN_QUEUE", queue_position=2)))
    fake.add("GET /status/stream", sse(status("IN_PROGRESS", logs=None), status("COMPLETED")))
    fake.add("PUT /cancel", json_response(202, {"status": "CANCELLATION_REQUESTED"}))
    fake.add(f"GET /requests/{RID}", json_response(400, {"detail": "Request is still in progress"}))
    fal = async_client(fake, [])
    handle = await fal.submit(MINIMAX, {}, priority="normal")
    assert await fal.status(handle) == Queued(position=2, request_id=RID)
    assert [type(s) async for s in fal.stream_status(handle)] == [InProgress, Completed]
    assert await fal.cancel(handle) == "CANCELLATION_REQUESTED"
    with pytest.raises(FalHTTPError) as raised:
        await fal.result(handle)
    assert raised.value.status_code == 400


async def test_async_retries_use_the_injected_sleep() -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", httpx.ConnectError("refused"), json_response(200, VIDEO))
    sleeps: list[float] = []
    output = await async_client(fake, sleeps).run(MINIMAX, {})
    assert isinstance(output, VideoOutput)
    assert len(sleeps) == 1


async def test_async_connection_errors_are_wrapped() -> None:
    fake = FakeFal().add(f"GET /requests/{RID}", httpx.ConnectError("refused"))
    fal = async_client(fake, [])
    with pytest.raises(FalConnectionError):
        await fal.result(fal.get_handle(MINIMAX, RID))


async def test_async_client_timeout() -> None:
    now = [0.0]
    fake = queue_fake(json_response(202, status("IN_QUEUE", queue_position=0)))
    fake.add("PUT /cancel", json_response(400, {"status": "ALREADY_COMPLETED"}))

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    fal = AsyncFalClient(KEY, http=httpx.AsyncClient(transport=fake.transport()), sleep=sleep, clock=lambda: now[0])
    with pytest.raises(FalTimeoutError):
        await fal.subscribe(MINIMAX, {}, poll_interval=1.0, client_timeout=1.5)
    assert len(fake.sent("PUT", "/cancel")) == 1

