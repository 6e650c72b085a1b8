"""The control API (``/_mock``) over HTTP, in-process, with the contract self-check on.

Every JSON answer is validated against its ``control/*`` contract before it leaves
(a violation would be a 500 naming the contract), so these tests also hold the
contracts to what the API really sends.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fal_mock import contracts
from fal_mock.mock_server.edge.api.control import OPERATIONS
from fal_mock.mock_server.edge.routes import CONTROL_ROUTES
from starlette.applications import Starlette

from tests.support import AUTH, data_uri, png_bytes

BASE = "http://127.0.0.1:8000"
MINIMAX = "fal-ai/minimax-video/image-to-video"
LUCY = "fal-ai/decart/lucy-5b/image-to-video"
GOOD = {"prompt": "a cat", "image_url": data_uri(png_bytes())}


def http(app: Starlette, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers={**AUTH, **headers})


async def submit(client: httpx.AsyncClient, endpoint: str = MINIMAX, **headers: str) -> str:
    answer = await client.post(f"/queue/{endpoint}", json=GOOD, headers=headers)
    assert answer.status_code == 200, answer.text
    rid: str = answer.json()["request_id"]
    return rid


@pytest.fixture
def manual(make_app: Callable[..., Starlette]) -> Starlette:
    return make_app(progression="manual")


async def test_jobs_list_and_full_views(manual: Starlette) -> None:
    async with http(manual) as client:
        rid = await submit(client)
        listed = (await client.get("/_mock/jobs")).json()["jobs"]
        full = (await client.get("/_mock/jobs?full=1")).json()["jobs"]
        one = (await client.get(f"/_mock/jobs/{rid}")).json()
        queued = (await client.get("/_mock/jobs?state=IN_QUEUE")).json()["jobs"]
        done = (await client.get("/_mock/jobs?state=COMPLETED")).json()["jobs"]
    assert [job["request_id"] for job in listed] == [rid]
    assert "arguments" not in listed[0]
    assert full[0]["arguments"] == GOOD
    assert one["state"] == "IN_QUEUE"
    assert one["output"] is None
    assert one["collected"] is False
    assert [job["request_id"] for job in queued] == [rid]
    assert done == []


async def test_advance_moves_one_state_then_409(manual: Starlette) -> None:
    async with http(manual) as client:
        rid = await submit(client)
        states = [(await client.post(f"/_mock/jobs/{rid}/advance")).json()["state"] for _ in range(2)]
        again = await client.post(f"/_mock/jobs/{rid}/advance")
        result = await client.get(f"/queue/fal-ai/minimax-video/requests/{rid}")
        job = (await client.get(f"/_mock/jobs/{rid}")).json()
    assert states == ["IN_PROGRESS", "COMPLETED"]
    assert again.status_code == 409
    assert result.status_code == 200
    assert job["output"] == result.json()
    assert job["output"]["video"]["url"].startswith(f"{BASE}/cdn/files/")  # URLs for the caller's host
    assert job["collected"] is True
    assert job["video"]["width"] > 0


async def test_complete_all_and_fail(manual: Starlette) -> None:
    async with http(manual) as client:
        first, second, third = [await submit(client) for _ in range(3)]
        failed = await client.post(f"/_mock/jobs/{first}/fail", json={"error_type": "generation_timeout"})
        plain = await client.post(f"/_mock/jobs/{second}/fail", json={"status": 500, "detail": "boom"})
        done = (await client.post("/_mock/jobs/complete-all")).json()["jobs"]
        result = await client.get(f"/queue/fal-ai/minimax-video/requests/{first}")
        status = await client.get(f"/queue/fal-ai/minimax-video/requests/{second}/status")
        late = await client.post(f"/_mock/jobs/{third}/fail", json={})
    assert failed.json()["error_type"] == "generation_timeout"
    assert failed.json()["status_code"] == 504
    assert plain.json()["error"] == {"detail": "boom"}
    assert [job["request_id"] for job in done] == [third]
    assert result.status_code == 504
    assert result.json()["detail"][0]["type"] == "generation_timeout"
    assert status.json()["error"] == "boom"
    assert late.status_code == 409


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"error_type": "nope"}, 422, "unknown error_type"),
        ({"seconds": 1}, 422, "unknown option(s) ['seconds']"),
        ({"kind": "disconnect"}, 422, "not kind='disconnect'"),
    ],
)
async def test_fail_refuses_bad_bodies(manual: Starlette, body: dict[str, Any], status: int, needle: str) -> None:
    async with http(manual) as client:
        rid = await submit(client)
        answer = await client.post(f"/_mock/jobs/{rid}/fail", json=body)
        bad_json = await client.post(f"/_mock/jobs/{rid}/fail", content=b"[1, 2", headers={"content-type": "x"})
        unknown = await client.post("/_mock/jobs/00000000-0000-7000-8000-000000000000/fail", json={})
    assert answer.status_code == status
    assert needle in answer.json()["detail"]
    assert bad_json.status_code == 400
    assert unknown.status_code == 404


async def test_faults_queue_list_fire_and_clear(app: Starlette) -> None:
    async with http(app) as client:
        queued = await client.post("/_mock/faults", json={"on": "submit", "status": 429, "times": 2})
        bad = await client.post("/_mock/faults", json={"on": "submit"})
        refused = [(await client.post(f"/queue/{MINIMAX}", json=GOOD)).status_code for _ in range(3)]
        listed = (await client.get("/_mock/faults")).json()
        await client.post("/_mock/faults", json={"status": 500})
        pending = (await client.get("/_mock/faults?pending=1")).json()["faults"]
        cleared = (await client.delete("/_mock/faults")).json()
    assert queued.status_code == 201
    assert queued.json()["remaining"] == 2
    assert bad.status_code == 422
    assert "say what should go wrong" in bad.json()["detail"]
    assert refused == [429, 429, 200]
    assert listed["faults"][0]["fired"] == 2
    assert [item["on"] for item in listed["fired"]] == ["submit", "submit"]
    assert [fault["status"] for fault in pending] == [500]
    assert cleared["cleared"] == 1


async def test_the_fault_book_is_bounded(make_app: Callable[..., Starlette]) -> None:
    async with http(make_app(max_queued_faults=1)) as client:
        first = await client.post("/_mock/faults", json={"status": 500, "on": "cancel"})
        second = await client.post("/_mock/faults", json={"status": 500, "on": "cancel"})
    assert first.status_code == 201
    assert second.status_code == 429
    assert "max_queued_faults=1" in second.json()["detail"]


async def test_namespaces_isolate_jobs_faults_journal_and_reset(app: Starlette) -> None:
    async with http(app, **{"X-Fal-Mock-Namespace": "a"}) as a, http(app, **{"X-Fal-Mock-Namespace": "b"}) as b:
        await b.post("/_mock/faults", json={"on": "submit", "status": 503})
        mine = await submit(a)
        theirs_refused = await b.post(f"/queue/{MINIMAX}", json=GOOD)
        theirs = await submit(b)
        a_jobs = [job["request_id"] for job in (await a.get("/_mock/jobs")).json()["jobs"]]
        b_requests = (await b.get("/_mock/requests")).json()["requests"]
        peek = await b.get(f"/_mock/jobs/{mine}")
        reset = (await a.post("/_mock/reset")).json()
        b_after = [job["request_id"] for job in (await b.get("/_mock/jobs")).json()["jobs"]]
    assert theirs_refused.status_code == 503
    assert a_jobs == [mine]
    fal_calls = [(entry["kind"], entry["status"]) for entry in b_requests if entry["kind"] is not None]
    assert fal_calls == [("submit", 503), ("submit", 200)]
    assert peek.status_code == 404
    assert reset["jobs_dropped"] == 1
    assert b_after == [theirs]


async def test_a_key_id_ns_prefix_stands_for_the_namespace_header(app: Starlette) -> None:
    async with http(app) as plain, http(app, Authorization="Key ns-gw1-7:secret") as keyed:
        rid = await submit(keyed)
        seen_by_key = [job["namespace"] for job in (await keyed.get("/_mock/jobs")).json()["jobs"]]
        seen_by_header = await plain.get("/_mock/jobs", headers={"X-Fal-Mock-Namespace": "gw1-7"})
        other = await plain.get("/_mock/jobs", headers={"X-Fal-Mock-Namespace": "gw0-1"})
        bad = await plain.post(f"/queue/{MINIMAX}", json=GOOD, headers={"Authorization": "Key ns-no/pe:s"})
    assert seen_by_key == ["gw1-7"]
    assert [job["request_id"] for job in seen_by_header.json()["jobs"]] == [rid]
    assert other.json()["jobs"] == []
    assert bad.status_code == 400


async def test_clock_needs_a_manual_clock(make_app: Callable[..., Starlette]) -> None:
    from fal_mock.mock_server import Settings, create_app

    system = create_app(Settings(check_contracts=True))
    manual = create_app(Settings(check_contracts=True, clock="manual", progression="realistic"))
    try:
        async with http(system) as client:
            refused = await client.post("/_mock/clock/advance", json={"seconds": 1})
            shown = (await client.get("/_mock/clock")).json()
        async with http(manual) as client:
            rid = await submit(client)
            start = (await client.get("/_mock/clock")).json()
            negative = await client.post("/_mock/clock/advance", json={"seconds": -1})
            extra = await client.post("/_mock/clock/advance", json={"seconds": 1, "at": 2})
            moved = (await client.post("/_mock/clock/advance", json={"seconds": 60})).json()
            job = (await client.get(f"/_mock/jobs/{rid}")).json()
    finally:
        system.state.mock.close()
        manual.state.mock.close()
    assert refused.status_code == 409
    assert "clock=manual" in refused.json()["detail"]
    assert shown["manual"] is False
    assert start["manual"] is True
    assert negative.status_code == 422
    assert extra.status_code == 422
    assert moved["now"] == start["now"] + 60
    assert job["state"] == "COMPLETED"  # the realistic job finished on the moved clock


async def test_requests_and_files(app: Starlette) -> None:
    async with http(app) as client:
        rid = await submit(client)
        await client.get(f"/queue/fal-ai/minimax-video/requests/{rid}")
        journal = (await client.get("/_mock/requests")).json()["requests"]
        stored = (await client.get("/_mock/files")).json()["files"]
        served = await client.get(stored[0]["url"])
    assert [(entry["kind"], entry["app_id"]) for entry in journal] == [
        ("submit", "fal-ai/minimax-video"), ("result", "fal-ai/minimax-video")
    ]  # fmt: skip
    assert "authorization" not in journal[0]["headers"]
    assert [item["origin"] for item in stored] == ["output"]
    assert served.headers["content-type"] == "video/mp4"


async def test_job_media_for_the_dashboard(app: Starlette) -> None:
    async with http(app) as client:
        rid = await submit(client)
        await client.get(f"/queue/fal-ai/minimax-video/requests/{rid}/status")
        video = await client.get(f"/_mock/jobs/{rid}/video")
        part = await client.get(f"/_mock/jobs/{rid}/video", headers={"range": "bytes=0-99"})
        image = await client.get(f"/_mock/jobs/{rid}/input")
        svg_uri = "data:image/svg+xml;base64,PHN2Zz4="
        svg = await client.post(f"/queue/{MINIMAX}", json={"prompt": "p", "image_url": svg_uri})
        no_image = await client.get(f"/_mock/jobs/{svg.json()['request_id']}/input")
    assert video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"
    assert part.status_code == 206
    assert len(part.content) == 100
    assert image.content == png_bytes()
    assert image.headers["x-content-type-options"] == "nosniff"
    assert no_image.status_code == 404  # never served back as SVG


async def test_health_settings_and_reset(app: Starlette) -> None:
    async with http(app) as client:
        health = (await client.get("/_mock/health")).json()
        settings = (await client.get("/_mock/settings")).json()
        await submit(client)
        reset = (await client.post("/_mock/reset")).json()
    assert health["status"] == "ok"
    assert MINIMAX in health["endpoints"]
    assert health["version"] == importlib.metadata.version("fal-mock")
    assert settings["check_contracts"] is True
    assert reset["jobs_dropped"] == 1


@pytest.mark.parametrize("how", ["header", "bearer", "query"])
async def test_control_token_guards_every_route_but_health(make_app: Callable[..., Starlette], how: str) -> None:
    app = make_app(control_token="s3cret")
    given = {"header": ({"X-Fal-Mock-Control-Token": "s3cret"}, ""),
             "bearer": ({"Authorization": "Bearer s3cret"}, ""), "query": ({}, "?token=s3cret")}[how]  # fmt: skip
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        open_health = await client.get("/_mock/health")
        paths = ("/_mock/jobs", "/_mock/", "/_mock/webhooks", "/_mock/openapi.json")
        denied = [await client.get(path) for path in paths]
        wrong = await client.get("/_mock/jobs", headers={"X-Fal-Mock-Control-Token": "nope"})
        allowed = await client.get("/_mock/jobs" + given[1], headers=given[0])
    assert open_health.status_code == 200
    assert {answer.status_code for answer in denied} == {401}
    assert "X-Fal-Mock-Control-Token" in denied[0].json()["detail"]
    assert wrong.status_code == 401
    assert allowed.status_code == 200


async def test_openapi_documents_every_control_route(app: Starlette) -> None:
    async with http(app) as client:
        document = (await client.get("/_mock/openapi.json")).json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": f"{BASE}/_mock"}]
    routes = {
        (method, route.path)  # type: ignore[attr-defined]
        for route in CONTROL_ROUTES
        for method in (route.methods or set()) - {"HEAD"}  # type: ignore[attr-defined]
    }
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert documented == {(method, re.sub(r"\{(\w+):\w+\}", r"{\1}", path)) for method, path in routes}
    assert routes <= set(OPERATIONS), "every control route needs its entry in control.OPERATIONS"
    schemas = document["components"]["schemas"]
    for path, item in document["paths"].items():
        for operation in item.values():
            for answer in operation["responses"].values():
                for media in answer.get("content", {}).values():
                    ref = media["schema"].get("$ref")
                    if ref:
                        assert ref.split("/")[-1] in schemas, (path, ref)
    assert schemas["control.job"]["$id"] == contracts.schema("control/job")["$id"]
    assert "control.job-summary" in schemas  # referenced by control/jobs: embedded too


def test_request_contract_examples_are_accepted_by_the_fault_spec() -> None:
    from fal_mock.mock_server.faults.book import make_fault
    from fal_mock.mock_server.settings import Settings

    for example in contracts.schema("control/fault-request")["examples"]:
        make_fault(example, Settings(), fault_id="x", namespace="", now=0)
    for example in contracts.schema("control/fail-request")["examples"]:
        contracts.validate("control/fail-request", example)


# --- cross-site requests are refused (issue 13) ----------------------------------------------------------------
def browser(app: Starlette, **headers: str) -> httpx.AsyncClient:
    """What a web page can make a browser send: no fal key, no custom headers unless a test adds them."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers=headers)


async def count_jobs(app: Starlette) -> int:
    async with http(app) as client:
        return len((await client.get("/_mock/jobs")).json()["jobs"])


async def test_a_cross_site_text_plain_post_cannot_reset(manual: Starlette) -> None:
    async with http(manual) as client:
        await submit(client)
    async with browser(manual, origin="http://evil.example") as page:
        answer = await page.post("/_mock/reset", content=b"x", headers={"content-type": "text/plain"})
        assert answer.status_code == 403
        assert "cross-site" in answer.json()["detail"]
        # even with JSON (a preflighted request the browser would not send anyway) a foreign Origin is refused
        assert (await page.post("/_mock/reset", json={})).status_code == 403
        assert (await page.get("/_mock/jobs")).status_code == 403
    async with browser(manual, origin="null") as sandboxed:
        assert (await sandboxed.post("/_mock/reset", json={})).status_code == 403
    assert await count_jobs(manual) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"content-type": "text/plain"},
        {"content-type": "application/x-www-form-urlencoded"},
        {"content-type": "multipart/form-data; boundary=x"},
    ],
)
async def test_a_state_change_needs_json_or_the_control_header(manual: Starlette, headers: dict[str, str]) -> None:
    async with http(manual) as client:
        await submit(client)
    async with browser(manual) as page:
        answer = await page.post("/_mock/jobs/complete-all", content=b"", headers=headers)
        assert answer.status_code == 403
        assert "X-Fal-Mock-Control" in answer.json()["detail"]
        assert (await page.delete("/_mock/faults", headers=headers)).status_code == 403
    assert await count_jobs(manual) == 1


async def test_programs_and_the_dashboard_still_change_state(manual: Starlette) -> None:
    async with http(manual) as client:
        await submit(client)
    async with browser(manual) as program:
        assert (await program.post("/_mock/jobs/complete-all", headers={"x-fal-mock-control": "1"})).status_code == 200
        assert (await program.post("/_mock/clock/advance", json={"seconds": 0})).status_code in (200, 409)
    async with browser(manual, origin=BASE) as dashboard:  # the page's own origin
        answer = await dashboard.post("/_mock/reset", headers={"x-fal-mock-control": "1"})
        assert answer.status_code == 200, answer.text
    assert await count_jobs(manual) == 0


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.nip.io:8000", "10.0.0.1:8000"])
async def test_unknown_host_names_are_refused_dns_rebinding(make_app: Callable[..., Starlette], host: str) -> None:
    app = make_app()
    async with browser(app, host=host) as page:
        answer = await page.get("/_mock/jobs")
        assert answer.status_code == 403
        assert "allowed_hosts" in answer.json()["detail"]
        assert (await page.post("/_mock/reset", json={})).status_code == 403
        assert (await page.get("/_mock/health")).status_code == 200  # liveness stays open
    configured = make_app(allowed_hosts=(host.split(":")[0],))
    async with browser(configured, host=host) as page:
        assert (await page.get("/_mock/jobs")).status_code == 200


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "app.localhost:8000", None])
async def test_loopback_and_bound_names_are_served(make_app: Callable[..., Starlette], host: str | None) -> None:
    headers = {"host": host} if host else {}
    async with browser(make_app(), **headers) as page:
        assert (await page.get("/_mock/jobs")).status_code == 200
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), base_url="http://mock.internal") as c:
        assert (await c.get("/_mock/jobs")).status_code == 200  # the address it was reached at (bound host)
