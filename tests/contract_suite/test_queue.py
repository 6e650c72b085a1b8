"""The queue protocol: submit, status (codes, logs, stream), result, cancel, unknown ids, wrong paths.

Every answer is validated against its contract by the client (``validate=True``).  Tests that
would run a paid generation on fal call ``target.spend()``; the others submit an input fal
rejects in the runner (no ``prompt``), which is never billed, and cancel or wait for it.
"""

from __future__ import annotations

import re

import pytest
from fal_mock import contracts
from fal_mock.client import (
    Completed,
    FalHTTPError,
    FalValidationError,
    InProgress,
    Queued,
    RequestHandle,
    Status,
    VideoOutput,
)

from tests.contract_suite.targets import HELD, MINIMAX, STEP_BY_STEP, UNKNOWN_ID, Target, free_input, valid_input

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def assert_handle_shape(target: Target, handle: RequestHandle) -> None:
    assert UUID.match(handle.request_id)
    assert handle.status_url == handle.response_url + "/status"
    assert handle.cancel_url == handle.response_url + "/cancel"
    # status/result/cancel URLs drop the endpoint's sub-path: {queue}/{owner}/{alias}/requests/{id}
    assert handle.response_url == f"{target.fal.core.queue_url}/fal-ai/minimax-video/requests/{handle.request_id}"


def test_submit_status_result(target: Target) -> None:
    target.spend()
    handle = target.fal.submit(MINIMAX, valid_input(), headers=STEP_BY_STEP)
    assert_handle_shape(target, handle)
    assert target.answers("POST")[-1].status_code == 200
    seen = target.follow(handle)
    for status, code in seen:
        assert code == (200 if isinstance(status, Completed) else 202)
        assert status.request_id == handle.request_id
    if target.mock:
        assert [type(status) for status, _ in seen] == [Queued, InProgress, Completed]
    done = seen[-1][0]
    assert isinstance(done, Completed)
    assert not done.failed
    output = target.fal.result(handle)
    assert isinstance(output, VideoOutput)
    assert output.request_id == handle.request_id
    assert output.video.url.startswith(("https://", "http://", "data:video/mp4"))
    assert output.video.content_type in (None, "video/mp4")


def test_submit_status_cancel(target: Target) -> None:
    """The cost-safe round trip: queue a request fal would reject anyway, look at it, cancel it."""
    handle = target.fal.submit(MINIMAX, free_input(), priority="low", headers=HELD)
    assert_handle_shape(target, handle)
    status = target.fal.status(handle)
    code = target.answers("GET", "/status")[-1].status_code
    assert code == (200 if isinstance(status, Completed) else 202)
    if target.mock:
        assert status == Queued(position=0, request_id=handle.request_id)
    target.discard(handle)  # on fal the rejected request may already be over: 400 ALREADY_COMPLETED
    cancelled = target.answers("PUT", "/cancel")[-1]
    if target.mock or cancelled.status_code != 400:
        assert cancelled.status_code == 202
        assert cancelled.json() == {"status": "CANCELLATION_REQUESTED"}
    after = target.fal.status(handle)
    if target.mock:
        assert isinstance(after, Completed)
        assert after.error_type == "client_cancelled"


def test_status_logs_only_when_asked(target: Target) -> None:
    target.spend()
    handle = target.fal.submit(MINIMAX, valid_input(), headers=STEP_BY_STEP)
    first = target.fal.status(handle)
    assert first.raw["logs"] is None
    done = target.follow(handle, with_logs=True)[-1][0]
    assert isinstance(done, Completed)
    assert isinstance(done.logs, list)
    for entry in done.logs:
        assert entry.message
    if target.mock:
        assert done.logs


def test_queue_position_only_while_queued(target: Target) -> None:
    handle = target.fal.submit(MINIMAX, free_input(), priority="low", headers=HELD)
    status = target.fal.status(handle)
    if isinstance(status, Queued):
        assert "queue_position" in status.raw
        assert status.position >= 0
    else:
        assert "queue_position" not in status.raw
    target.discard(handle)


def test_stream_status(target: Target) -> None:
    target.spend()
    handle = target.fal.submit(MINIMAX, valid_input(), headers=STEP_BY_STEP)
    statuses: list[Status] = list(target.fal.stream_status(handle, with_logs=True))
    stream = target.answers("GET", "/status/stream")[-1]
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert isinstance(statuses[-1], Completed)
    assert all(not isinstance(status, Completed) for status in statuses[:-1])
    if target.mock:
        assert [type(status) for status in statuses] == [Queued, InProgress, Completed]
    # each event carries only the log entries that are new: together they are what a poll reports
    streamed = [entry for status in statuses if not isinstance(status, Queued) for entry in status.logs or []]
    polled = target.fal.status(handle, with_logs=True)
    assert isinstance(polled, Completed)
    assert streamed == polled.logs
    assert isinstance(target.fal.result(handle), VideoOutput)


@pytest.mark.parametrize("mode", ["polling", "streaming"])
def test_subscribe(target: Target, mode: str) -> None:
    target.spend()
    updates: list[Status] = []
    output = target.fal.subscribe(MINIMAX, valid_input(), mode=mode, with_logs=True,  # type: ignore[arg-type]
                                  on_update=updates.append, headers=STEP_BY_STEP)  # fmt: skip
    assert isinstance(output, VideoOutput)
    assert isinstance(updates[-1], Completed)
    if target.mock:
        assert [type(update) for update in updates] == [Queued, InProgress, Completed]


def test_result_before_completion_is_400(target: Target) -> None:
    handle = target.fal.submit(MINIMAX, free_input(), priority="low", headers=HELD)
    status = target.fal.status(handle)
    if isinstance(status, Completed):
        pytest.skip("the request finished before its result could be asked for early")
    with pytest.raises(FalHTTPError) as raised:
        target.fal.result(handle)
    assert raised.value.status_code == 400
    assert isinstance(raised.value.detail, str)
    target.discard(handle)


def test_a_failed_request_completes_and_replays_its_error(target: Target) -> None:
    handle = target.fal.submit(MINIMAX, free_input(), headers=STEP_BY_STEP)
    assert target.answers("POST")[-1].status_code == 200  # invalid input is accepted at submit
    done = target.follow(handle)[-1][0]
    assert isinstance(done, Completed)
    if target.mock:
        assert done.failed
        assert done.error_type == "missing"
    with pytest.raises(FalValidationError) as raised:
        target.fal.result(handle)
    assert raised.value.status_code == 422
    assert [error.loc for error in raised.value.field_errors] == [("body", "prompt")]
    assert raised.value.field_errors[0].type == "missing"


def test_cancel_after_completion_is_400(target: Target) -> None:
    handle = target.fal.submit(MINIMAX, free_input(), headers=STEP_BY_STEP)
    target.follow(handle)
    with pytest.raises(FalHTTPError) as raised:
        target.fal.cancel(handle)
    assert raised.value.status_code == 400
    assert raised.value.body == {"status": "ALREADY_COMPLETED"}


@pytest.mark.parametrize("call", ["status", "result", "cancel"])
def test_unknown_request_id_is_404(target: Target, call: str) -> None:
    handle = target.fal.get_handle(MINIMAX, UNKNOWN_ID)
    with pytest.raises(FalHTTPError) as raised:
        getattr(target.fal, call)(handle)
    assert raised.value.status_code == 404


def test_status_path_with_the_sub_path_is_405(target: Target) -> None:
    url = f"{target.fal.core.queue_url}/{MINIMAX}/requests/{UNKNOWN_ID}/status"
    response = target.http.get(url, headers=target.fal.core.headers())
    assert response.status_code == 405
    if response.headers.get("content-type", "").startswith("application/json"):
        contracts.validate("errors/error", response.json())


def test_trailing_slashes_are_accepted(target: Target) -> None:
    handle = target.fal.submit(MINIMAX, free_input(), headers=STEP_BY_STEP)
    response = target.http.get(handle.status_url + "/", headers=target.fal.core.headers())
    assert response.status_code in (200, 202)
    contracts.validate("queue/status", response.json())
