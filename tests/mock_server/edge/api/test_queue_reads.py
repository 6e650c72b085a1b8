"""What a status poll costs the store through the whole app: one read of the job (plus, while it is queued, the count
of the jobs ahead of it for ``queue_position``)."""

from __future__ import annotations

import httpx
import pytest
from fal_mock.mock_server import Settings, create_app
from fal_mock.mock_server.clock import ManualClock
from fal_mock.mock_server.control import MockControl
from fal_mock.mock_server.persistence import MemoryStore, StateStore
from fal_mock.mock_server.persistence.sqlite import SqliteStore

from tests.support import AUTH, CountingStore, data_uri, png_bytes

MINIMAX = "fal-ai/minimax-video/image-to-video"


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("progression", ["manual", "polls:5", "realistic"])
async def test_a_status_poll_of_an_unfinished_job_reads_it_once(kind: str, progression: str, tmp_path: str) -> None:
    inner: StateStore = MemoryStore() if kind == "memory" else SqliteStore.open(f"{tmp_path}/state")
    counting = CountingStore(inner)
    store: StateStore = counting  # type: ignore[assignment]  # passes every call through
    app = create_app(Settings(progression=progression, check_contracts=True), clock=ManualClock(), store=store)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as http:
            job = (await http.post(f"https://queue.fal.run/{MINIMAX}",
                                   json={"prompt": "p", "image_url": data_uri(png_bytes())})).json()  # fmt: skip
            counting.reads.clear()
            queued = await http.get(job["status_url"])
            assert queued.json()["status"] == "IN_QUEUE"
            assert counting.reads == ["update_job", "queued_ahead"]
            mock = app.state.mock
            if progression == "manual":
                MockControl(mock).advance_job(job["request_id"])
            else:
                for _ in range(5 if progression == "polls:5" else 0):
                    await http.get(job["status_url"])
                mock.clock.advance(mock.queue.find(job["request_id"]).planned_queue_seconds)
                mock.tick()  # what the server's ticker does between polls
            assert mock.runner.wait_blocking(job["request_id"], 30)  # the runner's own reads are done
            counting.reads.clear()
            running = await http.get(job["status_url"])
            assert running.json()["status"] == "IN_PROGRESS"
            assert counting.reads == ["update_job"]
    finally:
        app.state.mock.close()


@pytest.mark.parametrize("progression", ["manual", "realistic"])
async def test_status_polls_never_wait_on_a_render_backlog(progression: str) -> None:
    """200 unique jobs waiting: the last one's poll answers at once, and nothing was rendered to answer it
    (renders start when a job starts, in the background; the issue saw 26 s for this poll)."""
    app = create_app(Settings(progression=progression, realistic_concurrency=1), clock=ManualClock())
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as http:
            image = data_uri(png_bytes())
            jobs = [(await http.post(f"https://queue.fal.run/{MINIMAX}", json={"prompt": f"p{n}", "image_url": image}))
                    .json() for n in range(200)]  # fmt: skip
            last = await http.get(jobs[-1]["status_url"])
            assert last.json()["status"] == "IN_QUEUE"
            assert last.json()["queue_position"] == 199
            assert app.state.mock.runner.generator.cache.misses == 0  # no render was needed (or awaited)
    finally:
        app.state.mock.close()
