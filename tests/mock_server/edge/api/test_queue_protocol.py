"""The queue and run protocol, one test per "surprise" of the protocol reference (§9) that concerns them.

All in-process through httpx.ASGITransport, with the contract self-check on (a response that
broke its contract would come back as a 500 naming it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fal_mock.mock_server.clock import ManualClock
from fal_mock.mock_server.control import MockControl
from starlette.applications import Starlette

from tests.support import (
    AUTH,
    both_stores,  # noqa: F401 - every test on both stores
    count_validations,
    data_uri,
    png_bytes,
)

LUCY = "fal-ai/decart/lucy-5b/image-to-video"
MINIMAX = "fal-ai/minimax-video/image-to-video"
QUEUE = "https://queue.fal.run"
RUN = "https://fal.run"
IMAGE = data_uri(png_bytes())
GOOD = {"prompt": "a cat walks slowly", "image_url": IMAGE}


def http(app: Starlette, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers={**AUTH, **headers})


async def submit(client: httpx.AsyncClient, endpoint: str = MINIMAX, body: Any = None, **kw: Any) -> dict[str, Any]:
    response = await client.post(f"{QUEUE}/{endpoint}", json=GOOD if body is None else body, **kw)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


# --- 1. the sub-path is dropped for status/result/cancel ------------------------------------
async def test_status_result_cancel_urls_use_owner_and_alias_only(client: httpx.AsyncClient) -> None:
    body = await submit(client, LUCY)
    rid = body["request_id"]
    assert body["status_url"] == f"{QUEUE}/fal-ai/decart/requests/{rid}/status"
    assert body["response_url"] == f"{QUEUE}/fal-ai/decart/requests/{rid}"
    assert body["cancel_url"] == f"{QUEUE}/fal-ai/decart/requests/{rid}/cancel"


@pytest.mark.parametrize("suffix", ["/status", "", "/cancel", "/status/stream"])
async def test_long_form_with_sub_path_is_405(client: httpx.AsyncClient, suffix: str) -> None:
    body = await submit(client, LUCY)
    method = "PUT" if suffix == "/cancel" else "GET"
    response = await client.request(method, f"{QUEUE}/{LUCY}/requests/{body['request_id']}{suffix}")
    assert response.status_code == 405
    assert "owner and the app" in response.json()["detail"]


# --- 2. 202 until COMPLETED, then 200; failures are COMPLETED with error/error_type -----------
async def test_status_codes_follow_the_state(make_app: Callable[..., Starlette]) -> None:
    async with http(make_app(progression="polls:1")) as client:
        body = await submit(client)
        seen = []
        for _ in range(4):
            response = await client.get(body["status_url"])
            seen.append((response.status_code, response.json()["status"]))
        assert seen == [(202, "IN_QUEUE"), (202, "IN_PROGRESS"), (200, "COMPLETED"), (200, "COMPLETED")]


async def test_invalid_input_is_accepted_then_completes_with_error(client: httpx.AsyncClient) -> None:
    body = await submit(client, MINIMAX, {"image_url": IMAGE})  # prompt is required
    status = await client.get(body["status_url"])
    assert status.status_code == 200
    assert status.json()["status"] == "COMPLETED"
    assert status.json()["error_type"] == "missing"
    assert status.json()["error"] == "Field required"


# --- 3. errors surface at the result endpoint; result before completion is 400 ----------------
async def test_result_replays_the_422(client: httpx.AsyncClient) -> None:
    body = await submit(client, MINIMAX, {"image_url": IMAGE, "prompt_optimizer": "maybe"})
    result = await client.get(body["response_url"])
    assert result.status_code == 422
    assert result.headers["x-fal-request-id"] == body["request_id"]
    detail = result.json()["detail"]
    assert {tuple(entry["loc"]) for entry in detail} == {("body", "prompt"), ("body", "prompt_optimizer")}
    by_loc = {entry["loc"][-1]: entry for entry in detail}
    assert by_loc["prompt"]["type"] == "missing"
    assert by_loc["prompt_optimizer"]["type"] == "bool_type"
    assert all(entry["url"].startswith("https://docs.fal.ai/errors#") for entry in detail)


async def test_enum_violation_is_one_of_with_expected(client: httpx.AsyncClient) -> None:
    body = await submit(client, LUCY, {**GOOD, "aspect_ratio": "4:3"})
    result = await client.get(body["response_url"])
    entry = result.json()["detail"][0]
    assert entry["type"] == "one_of"
    assert entry["loc"] == ["body", "aspect_ratio"]
    assert entry["ctx"] == {"expected": ["9:16", "16:9"]}
    assert entry["msg"] == "Input should be '9:16' or '16:9'"


async def test_body_that_is_not_json_fails_in_the_runner(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{QUEUE}/{MINIMAX}", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    result = await client.get(response.json()["response_url"])
    assert result.status_code == 422
    assert result.json()["detail"][0]["type"] == "json_invalid"


async def test_result_before_completion_is_400(make_app: Callable[..., Starlette]) -> None:
    async with http(make_app(progression="manual")) as client:
        body = await submit(client)
        result = await client.get(body["response_url"])
        assert result.status_code == 400
        assert result.json() == {"detail": "Request is still in progress"}


async def test_strict_submit_rejects_at_submit(make_app: Callable[..., Starlette]) -> None:
    async with http(make_app(strict_submit=True)) as client:
        response = await client.post(f"{QUEUE}/{MINIMAX}", json={"image_url": IMAGE})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "prompt"]


@pytest.mark.parametrize("strict", [False, True])
async def test_a_repeated_body_is_validated_once(make_app: Callable[..., Starlette], monkeypatch: pytest.MonkeyPatch,
                                                 strict: bool) -> None:  # fmt: skip
    """The same body again: answered from the memo of validated inputs, with the same job inputs (and 422s stay)."""
    runs = count_validations(monkeypatch)
    app = make_app(strict_submit=strict)
    async with http(app) as client:
        first, second = await submit(client), await submit(client)
        assert len(runs) == 1
        jobs = [app.state.mock.queue.find(body["request_id"]) for body in (first, second)]
        assert jobs[0].arguments == jobs[1].arguments == GOOD
        results = [(await client.get(body["response_url"])).json() for body in (first, second)]
        assert results[0]["video"]["url"] != results[1]["video"]["url"]  # each job its own file
        for _ in range(2):
            response = await client.post(f"{QUEUE}/{MINIMAX}", json={"image_url": IMAGE})
            if strict:
                assert response.status_code == 422
            else:
                refused = await client.get(response.json()["response_url"])
                assert refused.status_code == 422
        assert len(runs) == 3


# --- 4. every key the Python client indexes is present -------------------------------------
async def test_every_state_carries_the_keys_python_indexes(make_app: Callable[..., Starlette]) -> None:
    async with http(make_app(progression="polls:2")) as client:
        body = await submit(client)
        assert {"request_id", "response_url", "status_url", "cancel_url", "queue_position"} <= body.keys()
        states: dict[str, dict[str, Any]] = {}
        for _ in range(5):
            status = (await client.get(body["status_url"], params={"logs": "1"})).json()
            states[status["status"]] = status
        assert set(states) == {"IN_QUEUE", "IN_PROGRESS", "COMPLETED"}
        assert states["IN_QUEUE"]["queue_position"] == 0
        assert states["IN_QUEUE"]["logs"] is None
        assert isinstance(states["IN_PROGRESS"]["logs"], list)
        assert states["IN_PROGRESS"]["logs"]
        assert len(states["COMPLETED"]["logs"]) > len(states["IN_PROGRESS"]["logs"])
        assert states["COMPLETED"]["metrics"]["inference_time"] > 0


async def test_logs_are_null_unless_asked_and_deterministic(make_app: Callable[..., Starlette]) -> None:
    async def run_once() -> tuple[Any, Any]:
        # the log names the output's file key, which mixes in the server secret: pinned for identical runs
        async with http(make_app(progression="polls:1", seed=7, signing_secret="pinned")) as client:
            body = await submit(client)
            without = (await client.get(body["status_url"])).json()["logs"]
            await client.get(body["status_url"])
            with_logs = (await client.get(body["status_url"], params={"logs": "true"})).json()["logs"]
            return without, with_logs

    first, second = await run_once(), await run_once()
    assert first[0] is None
    assert {"message", "level", "source", "timestamp", "labels"} <= first[1][0].keys()
    assert any("H.264" in line["message"] for line in first[1])
    assert first == second


# --- 5. URLs point at the mock, in the style the request came in ----------------------------
async def test_prefix_style_urls_on_a_plain_host(app: Starlette) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as client:
        response = await client.post(f"http://127.0.0.1:8000/queue/{MINIMAX}", json=GOOD)
        body = response.json()
        assert body["status_url"].startswith("http://127.0.0.1:8000/queue/fal-ai/minimax-video/requests/")
        result = await client.get(body["response_url"])
        assert result.json()["video"]["url"].startswith("http://127.0.0.1:8000/cdn/files/")
        video = await client.get(result.json()["video"]["url"])
        assert video.status_code == 200
        assert video.content[4:8] == b"ftyp"


# --- 6. logs flag spellings and trailing slashes ----------------------------------------------
@pytest.mark.parametrize(("flag", "expect_logs"), [("1", True), ("true", True), ("0", False), ("false", False)])
async def test_logs_flag_spellings(client: httpx.AsyncClient, flag: str, expect_logs: bool) -> None:
    body = await submit(client)
    status = (await client.get(body["status_url"], params={"logs": flag})).json()
    assert (status["logs"] is not None) is expect_logs


async def test_trailing_slashes_are_accepted(client: httpx.AsyncClient) -> None:
    body = await submit(client, f"{MINIMAX}/")
    assert (await client.get(body["status_url"] + "/")).status_code == 200
    assert (await client.get(body["response_url"] + "/")).status_code == 200
    assert (await client.put(body["cancel_url"] + "/")).status_code == 400


# --- 8. platform headers ------------------------------------------------------------------
@pytest.mark.parametrize("seconds", ["30", "30.0"])
async def test_request_timeout_header_parses_as_float(client: httpx.AsyncClient, seconds: str) -> None:
    """JS sends "30", Python "30.0": both are start deadlines, stored as seconds."""
    body = await submit(client, headers={"x-fal-request-timeout": seconds, "x-fal-queue-priority": "normal"})
    job = client._transport.app.state.mock.store.get_job(body["request_id"])  # type: ignore[attr-defined]
    assert job.start_timeout == 30.0


@pytest.mark.parametrize(
    "headers",
    [{"x-fal-request-timeout": "soon"}, {"x-fal-request-timeout": "0.05"}, {"x-fal-queue-priority": "urgent"}],
)
async def test_bad_platform_headers_are_request_errors(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.post(f"{QUEUE}/{MINIMAX}", json=GOOD, headers=headers)
    assert response.status_code == 400
    assert response.json()["error_type"] == "bad_request"
    assert response.headers["x-fal-error-type"] == "bad_request"


def advance(app: Starlette, seconds: float) -> None:
    """Move the app's manual clock as the control plane does (jobs whose moment came complete, outputs awaited)."""
    MockControl(app.state.mock).advance_clock(seconds)


async def test_low_priority_waits_behind_normal(make_app: Callable[..., Starlette]) -> None:
    app = make_app(progression="realistic", realistic_concurrency=1)
    async with http(app) as client:
        first = await submit(client)
        advance(app, 3.0)  # past its queue latency: the first job takes the only runner
        assert (await client.get(first["status_url"])).json()["status"] == "IN_PROGRESS"
        low = await submit(client, headers={"x-fal-queue-priority": "low"})
        normal = await submit(client, headers={"x-fal-queue-priority": "normal"})
        advance(app, 3.0)  # both are eligible now, and both wait for the runner
        positions = {name: (await client.get(b["status_url"])).json()["queue_position"] for name, b in
                     [("low", low), ("normal", normal)]}  # fmt: skip
        assert positions == {"normal": 0, "low": 1}
        order: list[str] = []
        for _ in range(4):
            advance(app, 30.0)
            for name, b in [("low", low), ("normal", normal)]:
                status = (await client.get(b["status_url"])).json()
                if status["status"] == "COMPLETED" and name not in order:
                    order.append(name)
        assert order == ["normal", "low"]
        jobs = {job.request_id: job for job in app.state.mock.store.jobs()}
        assert jobs[normal["request_id"]].started_at < jobs[low["request_id"]].started_at


# --- 9. x-fal-request-id on result and run -------------------------------------------------
async def test_run_answers_output_directly_with_request_id(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{RUN}/{MINIMAX}", json=GOOD)
    assert response.status_code == 200
    assert response.headers["x-fal-request-id"]
    assert response.json()["video"]["content_type"] == "video/mp4"


async def test_run_answers_the_422_directly(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{RUN}/{MINIMAX}", json={"prompt": "x"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "image_url"]
    assert response.headers["x-fal-request-id"]


async def test_run_stream_sends_one_event_with_the_output(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{RUN}/{MINIMAX}/stream", json=GOOD)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")]
    assert len(events) == 1
    assert events[0]["video"]["content_type"] == "video/mp4"


# --- 10. the status stream ------------------------------------------------------------------
async def test_status_stream_sends_each_state_once_then_closes(make_app: Callable[..., Starlette]) -> None:
    async with http(make_app(progression="polls:2")) as client:
        body = await submit(client)
        response = await client.get(body["status_url"] + "/stream", params={"logs": "1"})
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")]
        assert [event["status"] for event in events] == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]
        assert events[-1]["logs"]


async def test_status_stream_sends_ping_comments(make_app: Callable[..., Starlette]) -> None:
    async with http(make_app(progression="polls:3", sse_ping_seconds=0)) as client:
        body = await submit(client)
        response = await client.get(body["status_url"] + "/stream")
        assert ": ping" in response.text.splitlines()
        assert response.text.rstrip().splitlines()[-1].startswith("data: ")


# --- 11. cancel ---------------------------------------------------------------------------
async def test_cancel_queued_job(make_app: Callable[..., Starlette]) -> None:
    async with http(make_app(progression="manual")) as client:
        body = await submit(client)
        response = await client.put(body["cancel_url"])
        assert (response.status_code, response.json()) == (202, {"status": "CANCELLATION_REQUESTED"})
        status = (await client.get(body["status_url"])).json()
        assert (status["status"], status["error_type"]) == ("COMPLETED", "client_cancelled")
        again = await client.put(body["cancel_url"])
        assert (again.status_code, again.json()) == (400, {"status": "ALREADY_COMPLETED"})
        result = await client.get(body["response_url"])
        assert result.status_code == 499
        assert result.json()["error_type"] == "client_cancelled"
        assert result.headers["x-fal-error-type"] == "client_cancelled"


async def test_cancel_running_job_lets_it_finish(make_app: Callable[..., Starlette]) -> None:
    async with http(make_app(progression="polls:1")) as client:
        body = await submit(client)
        assert (await client.get(body["status_url"])).json()["status"] == "IN_QUEUE"
        assert (await client.get(body["status_url"])).json()["status"] == "IN_PROGRESS"
        assert (await client.put(body["cancel_url"])).status_code == 202
        status = (await client.get(body["status_url"])).json()
        assert status["status"] == "COMPLETED"
        assert "error" not in status
        assert (await client.get(body["response_url"])).status_code == 200


async def test_unknown_request_id_is_404(client: httpx.AsyncClient) -> None:
    for method, suffix in [("GET", "/status"), ("GET", ""), ("PUT", "/cancel"), ("GET", "/status/stream")]:
        response = await client.request(method, f"{QUEUE}/fal-ai/minimax-video/requests/nope{suffix}")
        assert response.status_code == 404, suffix
        assert response.json()["status"] == "NOT_FOUND"


async def test_request_id_under_another_app_is_404(client: httpx.AsyncClient) -> None:
    body = await submit(client, MINIMAX)
    response = await client.get(f"{QUEUE}/fal-ai/decart/requests/{body['request_id']}/status")
    assert response.status_code == 404


async def test_unknown_endpoint_names_the_served_ones(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{QUEUE}/fal-ai/minimax/image-to-video", json={})
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert LUCY in detail
    assert MINIMAX in detail
    assert "Did you mean" in detail
    assert "--openapi" in detail


# --- 12. Lucy's sync_mode returns a data URI; otherwise a URL served by the mock ---------------
async def test_lucy_sync_mode_default_is_a_data_uri(client: httpx.AsyncClient) -> None:
    body = await submit(client, LUCY)
    video = (await client.get(body["response_url"])).json()["video"]
    assert video["url"].startswith("data:video/mp4;base64,")
    assert video["file_size"] > 1000


async def test_lucy_without_sync_mode_and_minimax_return_urls(client: httpx.AsyncClient) -> None:
    for endpoint, extra in [(LUCY, {"sync_mode": False}), (MINIMAX, {})]:
        body = await submit(client, endpoint, {**GOOD, **extra})
        video = (await client.get(body["response_url"])).json()["video"]
        assert video["url"].startswith("https://v3.fal.media/files/")
        assert video["url"].endswith("_output.mp4")
        served = await client.get(video["url"])
        assert served.status_code == 200
        assert len(served.content) == video["file_size"]


async def test_lucy_realistic_profile_uses_aspect_ratio(make_app: Callable[..., Starlette]) -> None:
    async with http(make_app(video_profile="realistic")) as client:
        body = await submit(client, LUCY, {**GOOD, "aspect_ratio": "9:16", "sync_mode": False})
        status = (await client.get(body["status_url"], params={"logs": 1})).json()
        assert any("720x1280" in line["message"] for line in status["logs"])


# --- 20. auth ------------------------------------------------------------------------------
async def test_missing_and_malformed_keys_are_401(app: Starlette) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        assert (await client.post(f"{QUEUE}/{MINIMAX}", json=GOOD)).status_code == 401
        bad = await client.post(f"{QUEUE}/{MINIMAX}", json=GOOD, headers={"Authorization": "Key nocolon"})
        assert bad.status_code == 401
        assert bad.json()["detail"].startswith("Invalid Key Authorization header format")
        bearer = await client.post(f"{QUEUE}/{MINIMAX}", json=GOOD, headers={"Authorization": "Bearer token"})
        assert bearer.status_code == 200


async def test_keys_mode_answers_falls_no_user_body(make_app: Callable[..., Starlette]) -> None:
    app = make_app(auth="keys", keys=("good:secret",))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        wrong = await client.post(f"{QUEUE}/{MINIMAX}", json=GOOD, headers={"Authorization": "Key other:secret"})
        assert (wrong.status_code, wrong.json()) == (401, {"detail": "No user found for Key ID and Secret"})
        right = await client.post(f"{QUEUE}/{MINIMAX}", json=GOOD, headers={"Authorization": "Key good:secret"})
        assert right.status_code == 200


async def test_auth_off(make_app: Callable[..., Starlette]) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(auth="off"))) as client:
        assert (await client.post(f"{QUEUE}/{MINIMAX}", json=GOOD)).status_code == 200


# --- 21. queue length limits ---------------------------------------------------------------
async def test_fal_max_queue_length_answers_429(make_app: Callable[..., Starlette]) -> None:
    async with http(make_app(progression="manual")) as client:
        await submit(client, params={"fal_max_queue_length": "1"})
        refused = await client.post(f"{QUEUE}/{MINIMAX}", json=GOOD, params={"fal_max_queue_length": "1"})
        assert refused.status_code == 429
        assert "fal_max_queue_length" in refused.json()["detail"]
        await submit(client)  # without the limit the queue keeps accepting: requests wait, never rejected


async def test_mock_queue_size_limit(make_app: Callable[..., Starlette]) -> None:
    app = make_app(progression="manual", max_queue_size=2)
    async with http(app) as client:
        first = await submit(client)
        await submit(client)
        refused = await client.post(f"{QUEUE}/{MINIMAX}", json=GOOD)
        assert refused.status_code == 429
        assert (await client.get(first["status_url"])).status_code == 202  # state intact


# --- 22. a start timeout is a user 504 ------------------------------------------------------
async def test_start_timeout_expires_on_the_clock(make_app: Callable[..., Starlette], clock: ManualClock) -> None:
    async with http(make_app(progression="manual")) as client:
        body = await submit(client, headers={"x-fal-request-timeout": "2"})
        clock.advance(3)
        status = (await client.get(body["status_url"])).json()
        assert (status["status"], status["error_type"]) == ("COMPLETED", "request_timeout")
        result = await client.get(body["response_url"])
        assert result.status_code == 504
        assert result.headers["x-fal-request-timeout-type"] == "user"
        assert result.json()["error_type"] == "request_timeout"


async def test_start_timeout_met_runs_normally(make_app: Callable[..., Starlette], clock: ManualClock) -> None:
    async with http(make_app(progression="polls:1")) as client:
        body = await submit(client, headers={"x-fal-request-timeout": "2"})
        clock.advance(1)
        assert (await client.get(body["status_url"])).json()["status"] == "IN_QUEUE"  # read 1 of polls:1
        assert (await client.get(body["status_url"])).json()["status"] == "IN_PROGRESS"  # started inside the deadline
        clock.advance(100)
        assert (await client.get(body["status_url"])).json()["status"] == "COMPLETED"
        assert (await client.get(body["response_url"])).status_code == 200


# --- determinism and progression ------------------------------------------------------------
async def test_ids_are_uuid7_shaped_and_seeded(make_app: Callable[..., Starlette]) -> None:
    async def ids(seed: int) -> list[str]:
        async with http(make_app(seed=seed)) as client:
            return [(await submit(client))["request_id"] for _ in range(2)]

    first, again, other = await ids(1), await ids(1), await ids(2)
    assert first == again
    assert first != other
    assert first[0] != first[1]
    assert all(rid[14] == "7" and rid[19] in "89ab" for rid in first)


async def test_progression_header_overrides_per_request(make_app: Callable[..., Starlette]) -> None:
    async with http(make_app(progression="immediate")) as client:
        body = await submit(client, headers={"x-fal-mock-progression": "manual"})
        assert (await client.get(body["status_url"])).json()["status"] == "IN_QUEUE"
        bad = await client.post(f"{QUEUE}/{MINIMAX}", json=GOOD, headers={"x-fal-mock-progression": "soon"})
        assert bad.status_code == 400


async def test_realistic_progression_follows_the_clock(make_app: Callable[..., Starlette]) -> None:
    app = make_app(progression="realistic")
    async with http(app) as client:
        body = await submit(client, LUCY)
        assert (await client.get(body["status_url"])).json()["status"] == "IN_QUEUE"
        job = app.state.mock.store.get_job(body["request_id"])
        advance(app, job.planned_queue_seconds + 0.01)
        assert (await client.get(body["status_url"])).json()["status"] == "IN_PROGRESS"
        advance(app, job.planned_inference_seconds)
        done = (await client.get(body["status_url"])).json()
        assert done["status"] == "COMPLETED"
        assert done["metrics"]["inference_time"] == job.planned_inference_seconds


async def test_placeholder_for_remote_image_urls(client: httpx.AsyncClient) -> None:
    remote = "https://fal.media/files/elephant/8kkhB12hEZI2kkbU8pZPA_test.jpeg"
    body = await submit(client, MINIMAX, {"prompt": "p", "image_url": remote})
    status = (await client.get(body["status_url"], params={"logs": 1})).json()
    assert status.get("error") is None
    assert any("placeholder" in line["message"] for line in status["logs"])


async def test_image_errors_become_422_entries(client: httpx.AsyncClient) -> None:
    tiny = data_uri(png_bytes((4, 4)))
    body = await submit(client, MINIMAX, {"prompt": "p", "image_url": tiny})
    result = await client.get(body["response_url"])
    assert result.status_code == 422, (result.text, body, (await client.get(body["status_url"])).text)
    entry = result.json()["detail"][0]
    assert (entry["type"], entry["loc"]) == ("image_too_small", ["body", "image_url"])
    assert entry["ctx"]["min_width"] == 16


async def test_oversized_body_is_413_and_state_survives(make_app: Callable[..., Starlette]) -> None:
    async with http(make_app(max_request_body_bytes=2048)) as client:
        first = await submit(client, MINIMAX, {"prompt": "p", "image_url": "https://example.com/a.png"})
        big = await client.post(f"{QUEUE}/{MINIMAX}", json={"prompt": "x" * 5000, "image_url": "https://e/a.png"})
        assert big.status_code == 413
        assert "too large" in big.json()["detail"]
        assert (await client.get(first["response_url"])).status_code == 200


# --- lifecycle of generated files (JS storageSettings on run/submit) --------------------------
async def test_output_files_follow_the_lifecycle_preference(client: httpx.AsyncClient, clock: ManualClock) -> None:
    lifecycle = {"x-fal-object-lifecycle-preference": json.dumps({"expiration_duration_seconds": 60})}
    body = await submit(client, MINIMAX, headers=lifecycle)
    url = (await client.get(body["response_url"])).json()["video"]["url"]
    assert (await client.get(url)).status_code == 200
    other = await submit(client, MINIMAX, {**GOOD, "prompt": "no lifecycle"})
    kept_url = (await client.get(other["response_url"])).json()["video"]["url"]
    clock.advance(61)
    assert (await client.get(url)).status_code == 404  # expired on the mock's clock
    assert (await client.get(kept_url)).status_code == 200


async def test_a_malformed_lifecycle_preference_is_a_bad_request(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{QUEUE}/{MINIMAX}", json=GOOD, headers={"x-fal-object-lifecycle-preference": "soon"})
    assert response.status_code == 400
    assert response.json()["error_type"] == "bad_request"
