"""FalClient against a scripted fake of fal: what it sends, how it reads every answer, its errors."""

from __future__ import annotations

import json

import httpx
import pytest
from fal_mock.client import (
    Completed,
    FalClient,
    FalContractError,
    FalHTTPError,
    FalProtocolError,
    FalValidationError,
    InProgress,
    LogEntry,
    Queued,
    RawOutput,
    VideoOutput,
)
from fal_mock.contracts import ContractViolation

from tests.client.fakes import BASE, KEY, MINIMAX, RID, VIDEO, FakeFal, json_response, status, submitted


def make(fake: FakeFal, **options: object) -> FalClient:
    return FalClient(KEY, http=httpx.Client(transport=fake.transport()), sleep=lambda _: None, **options)  # type: ignore[arg-type]


def test_submit_sends_fals_headers_and_returns_the_handle() -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(200, submitted()))
    handle = make(fake).submit(
        MINIMAX,
        {"prompt": "p", "image_url": "https://x/y.png"},
        webhook_url="https://hook.example/x?a=1",
        priority="low",
        hint="h1",
        start_timeout=30,
        headers={"X-Custom": "yes"},
    )
    (sent,) = fake.requests
    assert str(sent.url).startswith(f"https://queue.fal.run/{MINIMAX}?")
    assert sent.url.params["fal_webhook"] == "https://hook.example/x?a=1"
    assert sent.headers["authorization"] == f"Key {KEY}"
    assert sent.headers["x-fal-queue-priority"] == "low"
    assert sent.headers["x-fal-runner-hint"] == "h1"
    assert sent.headers["x-fal-request-timeout"] == "30.0"
    assert sent.headers["x-custom"] == "yes"
    assert sent.headers["content-type"] == "application/json"
    assert json.loads(sent.content) == {"prompt": "p", "image_url": "https://x/y.png"}
    assert handle.request_id == RID
    assert handle.status_url == f"{BASE}/status"
    assert handle.queue_position == 0


def test_optional_platform_headers_are_only_sent_when_given() -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(200, submitted()))
    make(fake).submit(MINIMAX, {})
    (sent,) = fake.requests
    assert not {"x-fal-queue-priority", "x-fal-runner-hint", "x-fal-request-timeout"} & set(sent.headers)
    assert "fal_webhook" not in sent.url.params


@pytest.mark.parametrize(("option", "value"), [("priority", "urgent"), ("start_timeout", 0)])
def test_bad_options_are_refused_before_sending(option: str, value: object) -> None:
    fake = FakeFal()
    with pytest.raises(ValueError, match=option):
        make(fake).submit(MINIMAX, {}, **{option: value})  # type: ignore[arg-type]
    assert fake.requests == []


def test_status_reads_every_state_and_sends_the_logs_flag() -> None:
    log = {"message": "m", "level": "INFO", "source": "USER", "timestamp": "2024-12-20T15:37:17.120314", "labels": {}}
    fake = FakeFal().add(
        "GET /status",
        json_response(202, status("IN_QUEUE", queue_position=3)),
        json_response(202, status("IN_PROGRESS", logs=[log])),
        json_response(200, status("COMPLETED", logs=[], metrics={"inference_time": 1.5})),
        json_response(200, status("COMPLETED", error="Runner disconnected", error_type="runner_disconnected")),
    )
    fal = make(fake)
    handle = fal.get_handle(MINIMAX, RID)
    assert fal.status(handle) == Queued(position=3, request_id=RID)
    entry = LogEntry("m", "INFO", "USER", "2024-12-20T15:37:17.120314")
    assert fal.status(handle, with_logs=True) == InProgress(logs=[entry], request_id=RID)
    done = fal.status(handle)
    assert done == Completed(logs=[], metrics={"inference_time": 1.5}, request_id=RID)
    assert isinstance(done, Completed)
    assert not done.failed
    failed = fal.status(handle)
    assert isinstance(failed, Completed)
    assert failed.failed
    assert failed.error_type == "runner_disconnected"
    assert [r.url.params["logs"] for r in fake.requests] == ["0", "1", "0", "0"]


def test_get_handle_drops_the_endpoint_sub_path() -> None:
    handle = make(FakeFal()).get_handle("fal-ai/decart/lucy-5b/image-to-video", RID)
    assert handle.status_url == f"https://queue.fal.run/fal-ai/decart/requests/{RID}/status"
    assert handle.response_url == f"https://queue.fal.run/fal-ai/decart/requests/{RID}"


def test_result_is_typed_and_carries_the_request_id() -> None:
    fake = FakeFal().add(f"GET /requests/{RID}", json_response(200, VIDEO))
    fal = make(fake)
    output = fal.result(fal.get_handle(MINIMAX, RID))
    assert isinstance(output, VideoOutput)
    assert output.video.url.endswith("_output.mp4")
    assert output.video.file_size == 1234
    assert output.request_id == RID


def test_unknown_endpoints_give_raw_output() -> None:
    fake = FakeFal().add("POST /fal-ai/other/app", json_response(200, {"images": []}))
    output = make(fake).run("fal-ai/other/app", {})
    assert output == RawOutput(data={"images": []}, request_id=RID)


def test_cancel_answers_and_already_completed_raises() -> None:
    fake = FakeFal().add(
        "PUT /cancel",
        json_response(202, {"status": "CANCELLATION_REQUESTED"}),
        json_response(400, {"status": "ALREADY_COMPLETED"}),
    )
    fal = make(fake, validate=True)
    handle = fal.get_handle(MINIMAX, RID)
    assert fal.cancel(handle) == "CANCELLATION_REQUESTED"
    with pytest.raises(FalHTTPError) as raised:
        fal.cancel(handle)
    assert raised.value.status_code == 400
    assert raised.value.detail == "ALREADY_COMPLETED"
    assert fake.requests[0].headers["content-length"] == "0"


def test_run_posts_to_the_run_host() -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(200, VIDEO))
    output = make(fake, run_url="http://127.0.0.1:9/run").run(MINIMAX, {"prompt": "p"}, hint="h")
    assert str(fake.requests[0].url) == f"http://127.0.0.1:9/run/{MINIMAX}"
    assert fake.requests[0].headers["x-fal-runner-hint"] == "h"
    assert isinstance(output, VideoOutput)


def test_a_422_is_a_validation_error_with_field_errors() -> None:
    detail = [
        {"loc": ["body", "prompt"], "msg": "Field required", "type": "missing", "url": "https://docs.fal.ai/errors#missing"},
        {"loc": ["body", "image_url"], "msg": "File download error", "type": "file_download_error",
         "url": "https://docs.fal.ai/errors#file_download_error", "input": "x"},
    ]  # fmt: skip
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(422, {"detail": detail}, **{"x-fal-billable-units": "0"}))
    with pytest.raises(FalValidationError) as raised:
        make(fake, validate=True).run(MINIMAX, {})
    error = raised.value
    assert error.status_code == 422
    assert error.detail == detail
    assert error.error_type == "missing"
    assert error.request_id == RID
    assert error.headers["x-fal-billable-units"] == "0"
    assert [e.field for e in error.field_errors] == ["prompt", "image_url"]
    assert error.errors_for("image_url")[0].type == "file_download_error"
    assert isinstance(error, FalHTTPError)


def test_a_422_with_a_string_detail_has_one_body_field_error() -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(422, {"detail": "bad input"}))
    with pytest.raises(FalValidationError) as raised:
        make(fake).run(MINIMAX, {})
    (only,) = raised.value.field_errors
    assert only.loc == ("body",)
    assert only.msg == "bad input"
    assert only.type == "value_error"
    assert only.field is None


def test_request_errors_take_their_type_from_body_or_header() -> None:
    fake = FakeFal().add(
        f"POST /{MINIMAX}",
        json_response(503, {"detail": "Runner disconnected", "error_type": "runner_disconnected"}),
        httpx.Response(500, json={"detail": "Internal Server Error"}, headers={"X-Fal-Error-Type": "internal_error"}),
    )
    fal = make(fake)
    with pytest.raises(FalHTTPError) as first:
        fal.run(MINIMAX, {})
    assert (first.value.status_code, first.value.error_type) == (503, "runner_disconnected")
    assert "runner_disconnected" in str(first.value)
    with pytest.raises(FalHTTPError) as second:
        fal.run(MINIMAX, {})
    assert (second.value.status_code, second.value.error_type, second.value.request_id) == (500, "internal_error", None)


def test_a_user_start_timeout_is_recognisable() -> None:
    fake = FakeFal().add(
        f"GET /requests/{RID}",
        json_response(504, {"detail": "Request timed out", "error_type": "request_timeout"},
                      **{"X-Fal-Request-Timeout-Type": "user"}),
    )
    fal = make(fake)
    with pytest.raises(FalHTTPError) as raised:
        fal.result(fal.get_handle(MINIMAX, RID))
    assert raised.value.is_user_timeout


def test_a_non_json_error_keeps_its_text() -> None:
    page = "<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
    fake = FakeFal().add(f"POST /{MINIMAX}", httpx.Response(502, text=page, headers={"x-fal-request-id": RID}))
    with pytest.raises(FalHTTPError) as raised:
        make(fake, validate=True).run(MINIMAX, {})
    assert raised.value.status_code == 502
    assert "nginx" in raised.value.detail
    assert raised.value.body is None


def test_a_2xx_that_is_not_json_is_a_protocol_error() -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", httpx.Response(200, text="hello"))
    with pytest.raises(FalProtocolError, match="not JSON"):
        make(fake).run(MINIMAX, {})


def test_a_submit_answer_without_urls_is_a_protocol_error() -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(200, {"request_id": RID}))
    with pytest.raises(FalProtocolError, match="response_url"):
        make(fake).submit(MINIMAX, {})


def test_validate_names_the_broken_contract() -> None:
    broken = status("IN_QUEUE")
    del broken["queue_position"]
    fake = FakeFal().add("GET /status", json_response(202, broken))
    fal = make(fake, validate=True)
    with pytest.raises(FalContractError) as raised:
        fal.status(fal.get_handle(MINIMAX, RID))
    assert raised.value.contract == "queue/status"
    assert "queue/status" in str(raised.value)
    assert f"{BASE}/status" in str(raised.value)
    assert isinstance(raised.value, ContractViolation)


def test_validate_checks_outputs_against_the_endpoint_contract() -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(200, {"video": {"url": "not a url"}}))
    with pytest.raises(FalContractError) as raised:
        make(fake, validate=True).run(MINIMAX, {})
    assert raised.value.contract == f"endpoints/{MINIMAX}/output"


def test_validate_checks_error_bodies() -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(404, {"message": "nope"}))
    with pytest.raises(FalContractError) as raised:
        make(fake, validate=True).run(MINIMAX, {})
    assert raised.value.contract == "errors/error"


def test_without_validate_the_same_answers_pass() -> None:
    broken = status("IN_QUEUE")
    del broken["queue_position"]
    fake = FakeFal().add("GET /status", json_response(202, broken))
    fal = make(fake)
    assert fal.status(fal.get_handle(MINIMAX, RID)) == Queued(position=0, request_id=RID)


def test_the_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAL_KEY", raising=False)
    monkeypatch.setenv("FAL_KEY_ID", "id")
    monkeypatch.setenv("FAL_KEY_SECRET", "secret")
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(200, submitted()))
    FalClient(http=httpx.Client(transport=fake.transport())).submit(MINIMAX, {})
    monkeypatch.setenv("FAL_KEY", "env:key")
    FalClient(http=httpx.Client(transport=fake.transport())).submit(MINIMAX, {})
    assert [r.headers["authorization"] for r in fake.requests] == ["Key id:secret", "Key env:key"]


def test_without_any_key_no_authorization_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"):
        monkeypatch.delenv(name, raising=False)
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(200, submitted()))
    FalClient(http=httpx.Client(transport=fake.transport())).submit(MINIMAX, {})
    assert "authorization" not in fake.requests[0].headers


def test_the_injected_clients_defaults_apply_and_it_is_not_closed() -> None:
    fake = FakeFal().add(f"POST /{MINIMAX}", json_response(200, submitted()))
    http = httpx.Client(transport=fake.transport(), headers={"X-Fal-Mock-Namespace": "ns1"})
    with FalClient(KEY, http=http) as fal:
        fal.submit(MINIMAX, {})
    assert fake.requests[0].headers["x-fal-mock-namespace"] == "ns1"
    assert not http.is_closed


def test_an_owned_client_is_closed() -> None:
    with FalClient(KEY) as fal:
        http = fal.http
    assert http.is_closed
