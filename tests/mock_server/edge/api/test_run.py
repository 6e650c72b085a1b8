"""The sync-run host, and the fidelity points of issue 14 item 6 next to it: a realistic ``fal.run`` blocks for
the inference time on the clock; a ``fal_max_queue_length`` 429 has the plain gateway shape; a realistic job's
``queue_position`` counts only the jobs that really stand before it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
from fal_mock.mock_server.control import MockControl
from starlette.applications import Starlette

from tests.support import AUTH, both_stores, data_uri, png_bytes  # noqa: F401 - every test on both stores

MINIMAX = "fal-ai/minimax-video/image-to-video"
QUEUE = "https://queue.fal.run"
RUN = "https://fal.run"
GOOD = {"prompt": "a cat walks slowly", "image_url": data_uri(png_bytes())}


def http(app: Starlette, **kwargs: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH, **kwargs)  # type: ignore[arg-type]


async def test_a_realistic_sync_run_takes_its_queue_wait_and_inference_on_the_clock(
    make_app: Callable[..., Starlette],
) -> None:
    app = make_app(progression="realistic")
    control = MockControl(app.state.mock)
    before = control.now()
    async with http(app) as client:
        response = await client.post(f"{RUN}/{MINIMAX}", json=GOOD)
    assert response.status_code == 200
    (job,) = control.jobs()
    spent = control.now() - before
    assert job.planned_inference_seconds > 1
    assert spent >= job.planned_queue_seconds + job.planned_inference_seconds  # blocked like fal.run
    assert job.completed_at is not None
    assert job.completed_at - job.submitted_at >= job.planned_inference_seconds


async def test_an_immediate_sync_run_takes_no_clock_time(make_app: Callable[..., Starlette]) -> None:
    app = make_app(progression="immediate")
    control = MockControl(app.state.mock)
    before = control.now()
    async with http(app) as client:
        assert (await client.post(f"{RUN}/{MINIMAX}", json=GOOD)).status_code == 200
    assert control.now() == before


async def test_a_fal_max_queue_length_refusal_is_fals_plain_429(make_app: Callable[..., Starlette]) -> None:
    async with http(make_app(progression="manual")) as client:
        first = await client.post(f"{QUEUE}/{MINIMAX}", json=GOOD, params={"fal_max_queue_length": "1"})
        assert first.status_code == 200
        refused = await client.post(f"{QUEUE}/{MINIMAX}", json=GOOD, params={"fal_max_queue_length": "1"})
    assert refused.status_code == 429
    assert set(refused.json()) == {"detail"}  # no invented error_type ...
    assert "x-fal-error-type" not in refused.headers  # ... and so no X-Fal-Error-Type either
    assert "fal_max_queue_length=1" in refused.json()["detail"]


async def test_a_realistic_job_is_not_counted_behind_manual_jobs(make_app: Callable[..., Starlette]) -> None:
    """Manual jobs wait for the test, not for a runner: a realistic job neither queues behind them nor jumps them."""
    app = make_app(progression="realistic", realistic_concurrency=1)
    async with http(app) as client:
        for _ in range(4):
            manual = await client.post(f"{QUEUE}/{MINIMAX}", json=GOOD, headers={"X-Fal-Mock-Progression": "manual"})
            assert manual.status_code == 200
        realistic = (await client.post(f"{QUEUE}/{MINIMAX}", json=GOOD)).json()
        status = (await client.get(realistic["status_url"])).json()
        assert (status["status"], status["queue_position"]) == ("IN_QUEUE", 0)
        await asyncio.to_thread(MockControl(app.state.mock).advance_clock, 120)
        status = (await client.get(realistic["status_url"])).json()
    assert status["status"] == "COMPLETED"
