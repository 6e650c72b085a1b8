"""The official JavaScript client (``@fal-ai/client``, pinned in tests/js/package.json) against ``fal-mock serve``.

``tests/js/queue.mjs`` runs every check through the ``fetch`` override (fal's hosts rewritten
to the server's path prefixes) and through ``proxyUrl: {url: <base>/proxy, when: "always"}``,
and prints one JSON line per check with what it observed; the tests here assert on those
facts.  One Node run serves the whole module (plain http: the JS client does not need TLS).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fal_mock import contracts

from tests.contract_suite.targets import MINIMAX, MOCK_KEY, UNKNOWN_ID, contract_server, png_data_uri
from tests.support import JS_DIR, Facts, node_checks, require_node

pytestmark = [pytest.mark.node, pytest.mark.slow]
MODES = ["fetch", "proxy"]
MISSING_PROMPT = [{"loc": ["body", "prompt"], "type": "missing"}]



@pytest.fixture(scope="module")
def js_facts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Facts, str]]:
    require_node()
    with contract_server(tmp_path_factory.mktemp("fal-mock-js"), tls=False) as server:
        yield node_checks("queue.mjs", server.url, MOCK_KEY, png_data_uri()), server.url


def fact(js_facts: tuple[Facts, str], mode: str, check: str) -> dict[str, Any]:
    facts, _ = js_facts
    found = facts.get((mode, check))
    assert found is not None, f"queue.mjs printed nothing for {mode}/{check}"
    assert found["ok"], found.get("error")
    assert found["redirects"] == 0  # the mock answers at the URL the client used (the proxy too)
    return found


def assert_video(video: dict[str, Any], url: str) -> None:
    contracts.validate(contracts.endpoint_contract(MINIMAX, "output"), {"video": video})
    assert video["url"].startswith(f"{url}/cdn/files/")  # fetchable from where the JS client runs
    assert video["content_type"] == "video/mp4"


def field_errors(error: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"loc": e["loc"], "type": e["type"]} for e in error["fieldErrors"]]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("check", ["subscribe_polling", "subscribe_streaming"])
def test_subscribe_reports_each_state_with_logs(js_facts: tuple[Facts, str], mode: str, check: str) -> None:
    seen = fact(js_facts, mode, check)
    # polls:1: every state is seen exactly once, IN_QUEUE included (onQueueUpdate sees it)
    assert [update["status"] for update in seen["updates"]] == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]
    _queued, in_progress, completed = (update["logs"] for update in seen["updates"])
    assert 0 < in_progress < completed  # logs grow, and streaming's accumulation does not double them
    assert seen["requestId"]
    assert_video(seen["video"], js_facts[1])


def test_streaming_and_polling_report_the_same_logs(js_facts: tuple[Facts, str]) -> None:
    for mode in MODES:
        polled = fact(js_facts, mode, "subscribe_polling")["updates"]
        streamed = fact(js_facts, mode, "subscribe_streaming")["updates"]
        # (an IN_QUEUE status carries no logs: null when polled; the JS client's stream accumulation makes it [])
        assert [(u["status"], u["logs"] or 0) for u in polled] == [(u["status"], u["logs"] or 0) for u in streamed]


@pytest.mark.parametrize("mode", MODES)
def test_queue_submit_status_stream_result_cancel(js_facts: tuple[Facts, str], mode: str) -> None:
    seen = fact(js_facts, mode, "queue_flow")
    contracts.validate("queue/submit-response", seen["submitted"])
    assert seen["submitted"]["status_url"].startswith(f"{js_facts[1]}/queue/fal-ai/minimax-video/requests/")
    assert seen["status"]["status"] == "IN_QUEUE"  # the first read of polls:1
    assert [event["status"] for event in seen["events"]] == ["IN_PROGRESS", "COMPLETED"]
    assert seen["last"]["status"] == "COMPLETED"
    assert seen["resultRequestId"] == seen["requestId"]
    assert_video(seen["video"], js_facts[1])
    cancel = seen["cancelDone"]
    assert cancel["rejected"]
    assert cancel["error"]["isApiError"]
    assert cancel["error"]["status"] == 400
    assert cancel["error"]["body"] == {"status": "ALREADY_COMPLETED"}


@pytest.mark.parametrize("mode", MODES)
def test_cancel_of_a_queued_request(js_facts: tuple[Facts, str], mode: str) -> None:
    seen = fact(js_facts, mode, "cancel_queued")
    assert (seen["before"], seen["position"]) == ("IN_QUEUE", 0)
    assert seen["cancelled"] == {"rejected": False}
    contracts.validate("queue/status", seen["after"])
    assert (seen["after"]["status"], seen["after"]["error_type"]) == ("COMPLETED", "client_cancelled")


@pytest.mark.parametrize("mode", MODES)
def test_run_takes_the_request_id_from_the_header(js_facts: tuple[Facts, str], mode: str) -> None:
    seen = fact(js_facts, mode, "run")
    assert len(seen["requestId"]) == 36
    assert_video(seen["video"], js_facts[1])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("check", ["run_validation_error", "subscribe_failed_request"])
def test_422s_are_validation_errors(js_facts: tuple[Facts, str], mode: str, check: str) -> None:
    seen = fact(js_facts, mode, check)
    assert seen["rejected"]
    error = seen["error"]
    assert (error["name"], error["isApiError"], error["isValidationError"]) == ("ValidationError", True, True)
    assert error["status"] == 422
    assert error["message"] == "Unprocessable Entity"  # fal bodies carry no "message": the reason phrase
    contracts.validate("errors/validation-error", error["body"])
    assert field_errors(error) == MISSING_PROMPT
    assert len(error["requestId"]) == 36
    if check == "subscribe_failed_request":
        assert seen["updates"][-1] == "COMPLETED"


@pytest.mark.parametrize("mode", MODES)
def test_unknown_request_is_an_api_error_404(js_facts: tuple[Facts, str], mode: str) -> None:
    error = fact(js_facts, mode, "status_not_found")["error"]
    assert (error["name"], error["status"], error["isValidationError"]) == ("ApiError", 404, False)
    contracts.validate("errors/error", error["body"])
    assert UNKNOWN_ID in error["body"]["detail"]


@pytest.mark.parametrize("mode", MODES)
def test_bad_key_is_an_api_error_401(js_facts: tuple[Facts, str], mode: str) -> None:
    error = fact(js_facts, mode, "unauthorized")["error"]
    assert (error["name"], error["status"]) == ("ApiError", 401)
    assert error["body"] == {"detail": "No user found for Key ID and Secret"}


def test_the_official_client_is_pinned() -> None:
    assert json.loads((JS_DIR / "package.json").read_text())["dependencies"]["@fal-ai/client"] == "1.10.1"
