"""Queued faults: the spec and its defaults, which request is which, the book, and the HTTP stage.

The fault middleware is exercised through ``httpx.ASGITransport`` (no in-process
routing, no socket); what the official client makes of each fault is in
tests/fixtures/test_faults_client.py, and the real-socket variants in
tests/fixtures/test_server.py.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fal_mock.mock_server.clock import ManualClock
from fal_mock.mock_server.edge.fault_stage import InjectedDisconnect, classify
from fal_mock.mock_server.faults.book import ARMED_DOCUMENT, MODEL_ERRORS, FaultBook, FaultBookFull, Target, make_fault
from fal_mock.mock_server.persistence.sqlite import SqliteStore
from fal_mock.mock_server.settings import Settings
from starlette.applications import Starlette

from tests.support import (
    AUTH,
    both_stores,  # noqa: F401 - every test on both stores
    data_uri,
    png_bytes,
)

MINIMAX = "fal-ai/minimax-video/image-to-video"
LUCY = "fal-ai/decart/lucy-5b/image-to-video"
RID = "019b76da-a800-7bbf-a670-15f9a5ac66de"
GOOD = {"prompt": "a cat", "image_url": data_uri(png_bytes())}


def fault(**spec: Any) -> Any:
    return make_fault(spec, Settings(), fault_id="flt_1", namespace="", now=0.0)


# --- the spec -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error_type", "status", "loc", "ctx"),
    [
        ("image_too_small", 422, ["body", "image_url"], {"min_height": 16, "min_width": 16}),
        ("content_policy_violation", 422, ["body", "prompt"], None),
        ("generation_timeout", 504, ["body"], None),
        ("internal_server_error", 500, ["body"], None),
        ("downstream_service_error", 400, ["body"], None),
        ("file_too_large", 422, ["body", "image_url"], {"max_size": Settings().max_input_file_bytes}),
    ],
)
def test_model_error_defaults_follow_fal_docs(error_type: str, status: int, loc: list[str], ctx: Any) -> None:
    made = fault(error_type=error_type)
    assert (made.kind, made.on, made.status) == ("model", "job", status)
    body = made.error().body()
    assert body["detail"][0]["loc"] == loc
    assert body["detail"][0]["type"] == error_type
    assert body["detail"][0]["url"] == f"https://docs.fal.ai/errors#{error_type}"
    assert body["detail"][0].get("ctx") == ctx


def test_model_error_ctx_loc_msg_can_be_given() -> None:
    made = fault(error_type="image_too_small", ctx={"min_height": 512, "min_width": 512}, msg="too small!",
                 loc=["body", "image_url"], retryable=False)  # fmt: skip
    error = made.error()
    assert error.body()["detail"][0] == {
        "loc": ["body", "image_url"], "msg": "too small!", "type": "image_too_small",
        "url": "https://docs.fal.ai/errors#image_too_small", "ctx": {"min_height": 512, "min_width": 512},
    }  # fmt: skip
    assert error.headers["X-Fal-Retryable"] == "false"


def test_request_error_defaults() -> None:
    made = fault(error_type="runner_disconnected")
    assert (made.kind, made.on, made.status) == ("request", "job", 503)
    error = made.error()
    assert error.body() == {"detail": "Runner disconnected", "error_type": "runner_disconnected"}
    assert error.headers["X-Fal-Error-Type"] == "runner_disconnected"


def test_http_ingress_transport_kinds_are_inferred_or_named() -> None:
    assert (fault(status=429).kind, fault(status=429).on) == ("http", "any")
    assert fault(kind="ingress").status == 502
    assert b"nginx" in fault(kind="ingress", status=503).ingress_page()
    assert fault(seconds=2.5).kind == "latency"
    assert fault(kind="disconnect", on="submit").on == "submit"
    assert set(MODEL_ERRORS) >= {"image_too_small", "content_policy_violation", "generation_timeout"}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "say what should go wrong"),
        ({"error_type": "bogus"}, "unknown error_type 'bogus'"),
        ({"status": 200}, "status must be an HTTP error status"),
        ({"status": 429, "times": 0}, "times must be an integer >= 1"),
        ({"status": 429, "on": "nowhere"}, "on must be one of"),
        ({"status": 429, "on": "job"}, "on='job' fails a job"),
        ({"kind": "disconnect", "status": 500}, "status has no meaning"),
        ({"seconds": -1}, "seconds must be between 0"),
        ({"seconds": 10_000}, "fault_latency_cap_seconds"),
        ({"kind": "request"}, "needs an error_type"),
        ({"kind": "http"}, "needs a status"),
        ({"status": 500, "endpoint": "nope"}, "endpoint: Invalid app id"),
        ({"status": 500, "frequency": 2}, "unknown fault option(s) ['frequency']"),
        ({"status": 500, "headers": {"a": 1}}, "headers must map strings to strings"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        fault(**spec)


def test_unknown_type_with_explicit_kind_is_allowed() -> None:
    made = fault(error_type="face_swap_refused", kind="model")
    assert made.error().body()["detail"][0]["msg"] == "Face swap refused"
    assert made.status == 422


# --- which request is which ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "host", "path", "expected"),
    [
        ("POST", "queue.fal.run", f"/{MINIMAX}", Target("submit", "fal-ai/minimax-video", MINIMAX)),
        ("GET", "queue.fal.run", f"/fal-ai/decart/requests/{RID}/status", Target("status", "fal-ai/decart", None, RID)),
        ("GET", "127.0.0.1:8000", f"/queue/fal-ai/decart/requests/{RID}/status/stream",
         Target("stream", "fal-ai/decart", None, RID)),
        ("GET", "queue.fal.run", f"/fal-ai/decart/requests/{RID}", Target("result", "fal-ai/decart", None, RID)),
        ("PUT", "queue.falrun.com", f"/fal-ai/decart/requests/{RID}/cancel",
         Target("cancel", "fal-ai/decart", None, RID)),
        ("POST", "fal.run", f"/{LUCY}", Target("run", "fal-ai/decart", LUCY)),
        ("POST", "localhost", f"/run/{LUCY}/stream", Target("run", "fal-ai/decart", LUCY)),
        ("POST", "rest.fal.ai", "/storage/auth/token", Target("token")),
        ("POST", "rest.alpha.fal.ai", "/storage/upload/initiate", Target("upload")),
        ("POST", "v3.fal.media", "/files/upload", Target("upload")),
        ("GET", "v3b.fal.media", "/files/b/0a99d90a/abc_x.mp4", Target("file")),
        ("GET", "127.0.0.1", "/rest/.well-known/jwks.json", Target("rest")),
        ("GET", "127.0.0.1", "/_mock/jobs", None),
        ("POST", "127.0.0.1", "/proxy/anything", None),
    ],
)  # fmt: skip
def test_classify(method: str, host: str, path: str, expected: Target | None) -> None:
    assert classify(method, host, path) == expected


# --- the book -----------------------------------------------------------------------------


def test_faults_fire_in_order_the_given_number_of_times() -> None:
    book = FaultBook(Settings(), ManualClock())
    book.add({"on": "submit", "status": 429, "times": 2})
    book.add({"on": "submit", "status": 500})
    submit = Target("submit", "fal-ai/minimax-video", MINIMAX)
    fired = [book.take(submit, {"http"}) for _ in range(4)]
    assert [f.status if f else None for f in fired] == [429, 429, 500, None]
    assert not book.armed
    assert [item["fault"] for item in book.fired()] == ["flt_1", "flt_1", "flt_2"]


def test_two_books_over_one_database_see_each_others_faults(tmp_path: Path) -> None:
    # worker processes share the book through the database: the armed check must follow the other's writes
    first = FaultBook(Settings(), ManualClock(), SqliteStore(tmp_path / "state.sqlite3"))
    second = FaultBook(Settings(), ManualClock(), SqliteStore(tmp_path / "state.sqlite3"))
    assert not first.armed
    assert not second.armed
    second.add({"on": "submit", "status": 429})
    assert first.armed
    fired = first.take(Target("submit", "fal-ai/minimax-video", MINIMAX), {"http"})
    assert fired is not None
    assert fired.status == 429
    assert not second.armed
    first.add({"on": "status", "status": 503, "times": 3})
    assert second.armed
    assert second.clear() == 1
    assert not first.armed


def test_an_armed_document_that_is_not_an_object_arms_nothing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.sqlite3")
    book = FaultBook(Settings(), ManualClock(), store)
    book.add({"on": "submit", "status": 429})
    assert book.armed
    with sqlite3.connect(tmp_path / "state.sqlite3") as db:  # a hand-edited data directory
        db.execute("UPDATE documents SET value = 'null' WHERE name = ?", (ARMED_DOCUMENT,))
    assert not book.armed


def test_matching_by_kind_endpoint_and_namespace() -> None:
    book = FaultBook(Settings(), ManualClock())
    book.add({"on": "status", "status": 503, "endpoint": LUCY})
    book.add({"status": 502, "endpoint": "fal-ai/minimax-video"}, namespace="worker-1")
    assert book.take(Target("result", "fal-ai/decart"), {"http"}) is None
    assert book.take(Target("status", "fal-ai/minimax-video"), {"http"}) is None
    assert book.take(Target("status", "fal-ai/decart", namespace="x"), {"http"}) is None
    taken = book.take(Target("status", "fal-ai/decart"), {"http"})
    assert taken is not None
    assert taken.status == 503
    assert book.take(Target("token"), {"http"}) is None  # an endpoint fault never hits storage
    other = book.take(Target("submit", "fal-ai/minimax-video", MINIMAX, namespace="worker-1"), {"http"})
    assert other is not None
    assert other.status == 502


def test_job_faults_only_fire_on_jobs() -> None:
    book = FaultBook(Settings(), ManualClock())
    book.add({"error_type": "generation_timeout", "endpoint": MINIMAX})
    assert book.take(Target("submit", "fal-ai/minimax-video", MINIMAX), {"model", "http"}) is None
    assert book.take_job(LUCY, "fal-ai/decart", "") is None
    taken = book.take_job(MINIMAX, "fal-ai/minimax-video", "")
    assert taken is not None
    assert taken.outcome().status_code == 504


def test_book_is_bounded_and_clear_is_per_namespace() -> None:
    book = FaultBook(Settings(max_queued_faults=2), ManualClock())
    book.add({"status": 500}, namespace="a")
    book.add({"status": 500}, namespace="b")
    with pytest.raises(FaultBookFull, match="max_queued_faults=2"):
        book.add({"status": 500})
    assert book.clear("a") == 1
    assert [f.namespace for f in book.pending()] == ["b"]
    book.add({"status": 501})
    assert len(book.faults()) == 2


# --- the HTTP stage -----------------------------------------------------------------------


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH)


async def test_http_fault_answers_with_request_id_and_is_journaled(app: Starlette) -> None:
    app.state.mock.faults.add({"on": "submit", "status": 503})
    async with client(app) as http:
        answer = await http.post(f"https://queue.fal.run/{MINIMAX}", json=GOOD)
        again = await http.post(f"https://queue.fal.run/{MINIMAX}", json=GOOD)
    assert answer.status_code == 503
    assert answer.json() == {"detail": "Service Unavailable"}
    assert answer.headers["x-fal-request-id"]
    assert again.status_code == 200
    assert [entry["status"] for entry in app.state.mock.store.journal()] == [503, 200]
    assert len(app.state.mock.store.jobs()) == 1  # the faulted submit never reached the queue


async def test_http_fault_without_request_id(app: Starlette) -> None:
    app.state.mock.faults.add({"on": "status", "status": 502, "with_request_id": False, "error_type": "bad_gateway"})
    async with client(app) as http:
        rid = (await http.post(f"https://queue.fal.run/{MINIMAX}", json=GOOD)).json()["request_id"]
        answer = await http.get(f"https://queue.fal.run/fal-ai/minimax-video/requests/{rid}/status")
    assert answer.status_code == 502
    assert "x-fal-request-id" not in answer.headers
    assert answer.json() == {"detail": "Bad Gateway", "error_type": "bad_gateway"}


async def test_ingress_fault_is_nginx_html_without_request_id(app: Starlette) -> None:
    app.state.mock.faults.add({"kind": "ingress", "status": 504, "on": "run"})
    async with client(app) as http:
        answer = await http.post(f"https://fal.run/{MINIMAX}", json=GOOD)
    assert answer.status_code == 504
    assert answer.headers["content-type"] == "text/html"
    assert "nginx" in answer.text
    assert "x-fal-request-id" not in answer.headers


async def test_request_error_fault_on_a_request(app: Starlette) -> None:
    app.state.mock.faults.add({"error_type": "request_timeout", "on": "result"})
    async with client(app) as http:
        rid = (await http.post(f"https://queue.fal.run/{MINIMAX}", json=GOOD)).json()["request_id"]
        answer = await http.get(f"https://queue.fal.run/fal-ai/minimax-video/requests/{rid}")
    assert answer.status_code == 504
    assert answer.headers["x-fal-error-type"] == "request_timeout"
    assert answer.headers["x-fal-request-id"] == rid
    assert answer.json() == {"detail": "Request timed out", "error_type": "request_timeout"}


async def test_job_fault_completes_the_job_with_the_error(app: Starlette) -> None:
    app.state.mock.faults.add({"error_type": "image_too_small", "ctx": {"min_height": 512, "min_width": 512}})
    async with client(app) as http:
        submitted = await http.post(f"https://queue.fal.run/{MINIMAX}", json=GOOD)
        rid = submitted.json()["request_id"]
        status = await http.get(f"https://queue.fal.run/fal-ai/minimax-video/requests/{rid}/status")
        result = await http.get(f"https://queue.fal.run/fal-ai/minimax-video/requests/{rid}")
        fine = await http.post(f"https://fal.run/{MINIMAX}", json=GOOD)
    assert submitted.status_code == 200
    assert status.json()["status"] == "COMPLETED"
    assert status.json()["error_type"] == "image_too_small"
    assert result.status_code == 422
    assert result.json()["detail"][0]["ctx"] == {"min_height": 512, "min_width": 512}
    assert app.state.mock.store.get_job(rid).fault_id == "flt_1"
    assert fine.status_code == 200  # times=1: spent


async def test_job_fault_on_a_sync_run_answers_directly(app: Starlette) -> None:
    app.state.mock.faults.add({"error_type": "generation_timeout", "endpoint": LUCY})
    async with client(app) as http:
        other = await http.post(f"https://fal.run/{MINIMAX}", json=GOOD)
        answer = await http.post(f"https://fal.run/{LUCY}", json=GOOD)
    assert other.status_code == 200
    assert answer.status_code == 504
    assert answer.json()["detail"][0]["type"] == "generation_timeout"


async def test_latency_on_a_manual_clock_moves_the_clock(make_app: Callable[..., Starlette]) -> None:
    app = make_app(progression="realistic")
    mock = app.state.mock
    async with client(app) as http:
        rid = (await http.post(f"https://queue.fal.run/{MINIMAX}", json=GOOD)).json()["request_id"]
        start = mock.clock.now()
        mock.faults.add({"on": "status", "seconds": 45})
        status = await http.get(f"https://queue.fal.run/fal-ai/minimax-video/requests/{rid}/status")
    assert mock.clock.now() == start + 45
    assert status.json()["status"] == "COMPLETED"  # MiniMax's realistic run (≤ 42 s) finished meanwhile


async def test_transport_faults_without_a_socket_raise(app: Starlette) -> None:
    app.state.mock.faults.add({"kind": "disconnect", "on": "submit"})
    async with client(app) as http:
        with pytest.raises(InjectedDisconnect, match="no socket to abort"):
            await http.post(f"https://queue.fal.run/{MINIMAX}", json=GOOD)
    assert [entry["status"] for entry in app.state.mock.store.journal()] == [0]
    assert app.state.mock.store.jobs() == []


async def test_control_requests_are_never_faulted(app: Starlette) -> None:
    app.state.mock.faults.add({"status": 500})
    async with client(app) as http:
        assert (await http.get("http://127.0.0.1/_mock/jobs")).status_code == 200
        assert (await http.post(f"https://queue.fal.run/{MINIMAX}", json=GOOD)).status_code == 500


async def test_no_fault_no_cost_path_leaves_answers_untouched(app: Starlette) -> None:
    assert not app.state.mock.faults.armed
    async with client(app) as http:
        answer = await http.post(f"https://queue.fal.run/{MINIMAX}", json=GOOD)
    assert answer.status_code == 200
