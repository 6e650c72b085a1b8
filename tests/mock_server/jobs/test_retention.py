"""Bounded resources on the clock: results expire as on fal (1 h; 6 min from 10 KB), caps drop the
oldest finished jobs, never an unfinished one, and the journal is capped and aged — in memory and on disk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fal_mock.mock_server.clock import ManualClock
from starlette.applications import Starlette

from tests.support import (
    AUTH,
    both_stores,  # noqa: F401 - every test on both stores
    data_uri,
    png_bytes,
)

MINIMAX = "fal-ai/minimax-video/image-to-video"
LUCY = "fal-ai/decart/lucy-5b/image-to-video"
QUEUE = "https://queue.fal.run"
IMAGE = data_uri(png_bytes())


@pytest.fixture
def build(make_app: Callable[..., Starlette]) -> Callable[..., Starlette]:
    """``make_app``: on the memory store and on a fresh data directory (``both_stores``)."""
    return make_app


async def submit(http: httpx.AsyncClient, endpoint: str = MINIMAX, **headers: str) -> dict[str, Any]:
    """Submit, then read the status once (so an ``immediate`` job is COMPLETED before the next submit)."""
    response = await http.post(f"{QUEUE}/{endpoint}", json={"prompt": "p", "image_url": IMAGE}, headers=headers)
    assert response.status_code == 200
    assert (await http.get(response.json()["status_url"])).status_code in (200, 202)
    return dict(response.json())


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH)


async def test_small_results_are_kept_an_hour_then_404(build: Callable[..., Starlette], clock: ManualClock) -> None:
    async with client(build()) as http:
        job = await submit(http)
        clock.advance(3599)
        assert (await http.get(job["response_url"])).status_code == 200
        clock.advance(1)
        status, result = await http.get(job["status_url"]), await http.get(job["response_url"])
    assert (status.status_code, result.status_code) == (404, 404)
    assert status.json()["detail"] == f"Request {job['request_id']} not found"


async def test_large_results_are_kept_six_minutes(build: Callable[..., Starlette], clock: ManualClock) -> None:
    async with client(build()) as http:
        job = await submit(http, LUCY)  # sync_mode: the video inline as a data URI, far beyond 10 KB
        result = await http.get(job["response_url"])
        assert len(result.content) >= 10_000
        clock.advance(359)
        assert (await http.get(job["response_url"])).status_code == 200
        clock.advance(1)
        assert (await http.get(job["response_url"])).status_code == 404
        assert (await http.get(job["status_url"])).status_code == 404


async def test_retention_is_configurable(build: Callable[..., Starlette], clock: ManualClock) -> None:
    async with client(build(result_ttl_seconds=30, large_result_ttl_seconds=5)) as http:
        small, large = await submit(http), await submit(http, LUCY)
        clock.advance(5)
        assert (await http.get(large["response_url"])).status_code == 404
        assert (await http.get(small["response_url"])).status_code == 200
        clock.advance(25)
        assert (await http.get(small["response_url"])).status_code == 404


async def test_expired_jobs_leave_the_store(build: Callable[..., Starlette], clock: ManualClock) -> None:
    app = build()
    async with client(app) as http:
        old = await submit(http)
        clock.advance(3601)
        await submit(http)  # each submit prunes
    assert app.state.mock.store.get_job(old["request_id"]) is None
    assert len(app.state.mock.store.jobs()) == 1


async def test_caps_drop_the_oldest_finished_never_an_unfinished_job(
    build: Callable[..., Starlette], clock: ManualClock
) -> None:
    app = build(max_finished_jobs=2)
    manual = {"X-Fal-Mock-Progression": "manual"}
    async with client(app) as http:
        waiting = [await submit(http, **manual) for _ in range(4)]
        finished = []
        for _ in range(5):
            finished.append(await submit(http))
            clock.advance(1)
        await submit(http, **manual)  # one more submit prunes after the last completion
        # even a long time later the unfinished jobs are all there
        clock.advance(10 * 3600)
        await submit(http, **manual)
        for job in waiting:
            response = await http.get(job["status_url"])
            assert response.status_code == 202
            assert response.json()["status"] == "IN_QUEUE"
        codes = [(await http.get(job["response_url"])).status_code for job in finished]
    assert codes == [404] * 5  # expired by now; before that, only the 2 newest were kept
    assert app.state.mock.store.count_unfinished() == 6


async def test_count_cap_keeps_the_newest_finished(build: Callable[..., Starlette]) -> None:
    app = build(max_finished_jobs=2)
    async with client(app) as http:
        finished = [await submit(http) for _ in range(5)]
        codes = [(await http.get(job["response_url"])).status_code for job in finished]
    assert codes == [404, 404, 404, 200, 200]


async def test_result_bytes_cap(build: Callable[..., Starlette]) -> None:
    app = build(max_result_bytes=400_000)  # room for two inline Lucy results (~160 KB each), not three
    async with client(app) as http:
        jobs = [await submit(http, LUCY) for _ in range(4)]
        codes = [(await http.get(job["response_url"])).status_code for job in jobs]
    assert codes == [404, 404, 200, 200]


async def test_journal_is_capped_and_aged(build: Callable[..., Starlette], clock: ManualClock) -> None:
    app = build(journal_size=5, journal_ttl_seconds=60)
    async with client(app) as http:
        for _ in range(8):
            await http.get(f"{QUEUE}/fal-ai/minimax-video/requests/nope/status")
        assert len(app.state.mock.store.journal()) == 5
        clock.advance(61)
        await submit(http)  # housekeeping runs with each submit (and every second on a server)
    entries = app.state.mock.store.journal()
    assert [entry["status"] for entry in entries] == [200, 200]  # the submit and its status read
