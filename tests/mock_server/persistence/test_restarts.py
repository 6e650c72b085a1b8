"""``--data-dir``: jobs, states, outputs, the journal and files survive a restart and a ``kill -9``.

The subprocess tests start ``fal-mock serve`` on port 0 and wait for its ready file; the
in-process tests reopen a data directory with a new app, as a restart does.  Nothing
waits on time: progression is ``polls:N`` or ``immediate``, driven by the requests.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from fal_mock.mock_server import Settings, create_app
from fal_mock.mock_server.clock import ManualClock
from fal_mock.mock_server.jobs.model import JobState
from fal_mock.mock_server.persistence.sqlite import SqliteStore
from starlette.applications import Starlette

from tests.support import AUTH, ServeProcess, data_uri, png_bytes

MINIMAX = "fal-ai/minimax-video/image-to-video"
LUCY = "fal-ai/decart/lucy-5b/image-to-video"
IMMEDIATE = {"X-Fal-Mock-Progression": "immediate"}


def poll_until_completed(http: httpx.Client, status_url: str, limit: int = 20) -> list[str]:
    """Status reads until COMPLETED (bounded); returns the states seen."""
    seen = []
    for _ in range(limit):
        response = http.get(status_url)
        assert response.status_code in (200, 202), response.text
        seen.append(response.json()["status"])
        if seen[-1] == "COMPLETED":
            return seen
    raise AssertionError(f"not completed after {limit} reads: {seen}")


# --- a graceful restart ------------------------------------------------------------------------
@pytest.mark.slow
def test_restart_keeps_jobs_states_outputs_files_and_journal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    image = data_uri(png_bytes())
    args = ("--data-dir", str(data), "--progression", "polls:2", "--no-access-log")
    with ServeProcess(tmp_path, *args) as first, httpx.Client(headers=AUTH, timeout=30) as http:
        done = http.post(f"{first.url}/queue/{MINIMAX}", json={"prompt": "done", "image_url": image},
                         headers=IMMEDIATE).json()  # fmt: skip
        assert poll_until_completed(http, done["status_url"]) == ["COMPLETED"]
        done_result = http.get(done["response_url"]).json()
        done_video = http.get(done_result["video"]["url"]).content
        inline = http.post(f"{first.url}/queue/{LUCY}", json={"prompt": "inline", "image_url": image},
                           headers=IMMEDIATE).json()  # fmt: skip
        inline_result = http.get(inline["response_url"]).json()
        assert inline_result["video"]["url"].startswith("data:video/mp4;base64,")
        halfway = http.post(f"{first.url}/queue/{MINIMAX}", json={"prompt": "halfway", "image_url": image}).json()
        assert http.get(halfway["status_url"]).json()["status"] == "IN_QUEUE"  # one read of polls:2 counted
        before_ids = {done["request_id"], inline["request_id"], halfway["request_id"]}
        assert first.stop() == 0

    with ServeProcess(tmp_path, *args) as second, httpx.Client(headers=AUTH, timeout=30) as http:
        base = second.url
        # the finished job answers the same result, and its file is still served, byte for byte
        again = http.get(done["response_url"].replace(first.url, base))
        assert again.status_code == 200
        assert again.json()["video"]["file_size"] == done_result["video"]["file_size"]
        assert http.get(again.json()["video"]["url"]).content == done_video
        # the inline (data URI) result too
        assert http.get(inline["response_url"].replace(first.url, base)).json() == inline_result
        # the half-way job kept its read count: the next read is its 2nd (still IN_QUEUE), then it moves on
        status_url = halfway["status_url"].replace(first.url, base)
        assert poll_until_completed(http, status_url) == ["IN_QUEUE", "IN_PROGRESS", "IN_PROGRESS", "COMPLETED"]
        assert http.get(halfway["response_url"].replace(first.url, base)).status_code == 200
        # the journal still holds the first run's requests, and new ids never repeat old ones
        journal = http.get(f"{base}/_mock/requests").json()["requests"]
        assert {entry.get("request_id") for entry in journal} >= before_ids
        fresh = http.post(f"{base}/queue/{MINIMAX}", json={"prompt": "fresh", "image_url": image}).json()
        assert fresh["request_id"] not in before_ids


# --- kill -9 in the middle of a load --------------------------------------------------------------
def expected_outputs(image: str, prompts: list[str]) -> dict[str, str]:
    """SHA-256 of the MiniMax video for each prompt, from a fresh in-process mock (videos are pure functions)."""
    import asyncio

    async def render() -> dict[str, str]:
        app = create_app(Settings(progression="immediate"), clock=ManualClock())
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as http:
                shas = {}
                for prompt in prompts:
                    body = {"prompt": prompt, "image_url": image}
                    output = (await http.post(f"https://fal.run/{MINIMAX}", json=body)).json()
                    shas[prompt] = hashlib.sha256((await http.get(output["video"]["url"])).content).hexdigest()
                return shas
        finally:
            app.state.mock.close()

    return asyncio.run(render())


def _submit_until(url: str, image: str, acked: list[dict[str, Any]], lock: threading.Lock, stop: threading.Event,
                  worker: int, enough: threading.Event, target: int) -> None:  # fmt: skip
    with httpx.Client(headers=AUTH, timeout=10) as http:
        index = 0
        while not stop.is_set():
            index += 1
            try:
                response = http.post(f"{url}/queue/{MINIMAX}",
                                     json={"prompt": f"w{worker}-{index}", "image_url": image})  # fmt: skip
                if response.status_code != 200:
                    continue
                body = response.json()
                # a read or two moves some jobs on before the crash
                if index % 3:
                    http.get(body["status_url"])
            except httpx.HTTPError:
                return  # the server died under us: this request was never acknowledged
            with lock:
                acked.append({"id": body["request_id"], "prompt": f"w{worker}-{index}", **body})
                if len(acked) >= target:
                    enough.set()


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_kill_9_during_load_loses_no_acknowledged_request(tmp_path: Path, workers: int) -> None:
    data = tmp_path / "data"
    image = data_uri(png_bytes())
    args = ("--data-dir", str(data), "--progression", "polls:2", "--no-access-log", "--workers", str(workers))
    server = ServeProcess(tmp_path, *args).start()
    acked: list[dict[str, Any]] = []
    lock, stop, enough = threading.Lock(), threading.Event(), threading.Event()
    threads = [
        threading.Thread(target=_submit_until, args=(server.url, image, acked, lock, stop, n, enough, 60))
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    assert enough.wait(120), "the load never got going"
    server.kill()  # kill -9 while the clients are still submitting and polling
    stop.set()
    for thread in threads:
        thread.join()
    assert len(acked) >= 60

    with ServeProcess(tmp_path, *args) as restarted, httpx.Client(headers=AUTH, timeout=30) as http:
        ids = [job["id"] for job in acked]
        assert len(set(ids)) == len(ids)
        served_sha = {}
        for job in acked:
            status_url = job["status_url"].replace(server.url, restarted.url)
            poll_until_completed(http, status_url)
            result = http.get(job["response_url"].replace(server.url, restarted.url))
            assert result.status_code == 200, (job["id"], result.text)
            assert result.headers["x-fal-request-id"] == job["id"]
            video = result.json()["video"]
            served = http.get(video["url"])
            assert served.status_code == 200
            assert len(served.content) == video["file_size"]  # never half-written
            served_sha[job["prompt"]] = hashlib.sha256(served.content).hexdigest()
    assert "Traceback" not in restarted.output()
    # every job got its own output: the video of its own input, as any fresh mock renders it
    assert served_sha == expected_outputs(image, list(served_sha))


# --- recovery of a job whose generation died with the process (in-process) ---------------------------
def _app(data: Path, clock: ManualClock, **overrides: Any) -> Starlette:
    settings = Settings.from_mapping({"check_contracts": True, "data_dir": str(data), **overrides})
    return create_app(settings, clock=clock)


async def _crash_mid_generation(data: Path, clock: ManualClock, progression: str) -> str:
    """A job acknowledged by a server that died before its output was stored (and held a live claim)."""
    app = _app(data, clock, progression=progression)
    store = app.state.mock.store
    assert isinstance(store, SqliteStore)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as http:
        response = await http.post(f"https://queue.fal.run/{MINIMAX}",
                                   json={"prompt": "crash", "image_url": data_uri(png_bytes())})  # fmt: skip
        request_id = str(response.json()["request_id"])
    app.state.mock.runner.close()  # let the pool finish, then undo its work as a crash would have
    with store.transaction():
        job = store.get_job(request_id)
        assert job is not None
        job.outcome = None
        job.state, job.started_at, job.completed_at, job.result_expires_at = JobState.IN_QUEUE, None, None, None
        store.save_job(job)
    assert store.claim(request_id, "dead-run/4242", now=0.0, until=1e12)  # a lease that would outlive us
    app.state.mock.close()
    return request_id


async def test_orphaned_job_is_regenerated_on_startup(tmp_path: Path) -> None:
    clock = ManualClock()
    request_id = await _crash_mid_generation(tmp_path, clock, "immediate")
    app = _app(tmp_path, clock, progression="immediate")
    try:
        async with app.router.lifespan_context(app):
            # startup recovery re-ran the generation (nobody polls) and, the job being time-driven, completed it
            job = app.state.mock.store.get_job(request_id)
            assert request_id in app.state.mock.runner._pending or (job is not None and job.outcome is not None)
            await app.state.mock.runner.wait(request_id)
            job = app.state.mock.store.get_job(request_id)
            assert job is not None
            assert job.outcome is not None
            assert job.finished
    finally:
        app.state.mock.close()


async def test_orphaned_job_completes_when_polled(tmp_path: Path) -> None:
    clock = ManualClock()
    request_id = await _crash_mid_generation(tmp_path, clock, "polls:1")
    app = _app(tmp_path, clock, progression="polls:1")
    try:
        async with app.router.lifespan_context(app), \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as http:  # fmt: skip
            await app.state.mock.runner.wait(request_id)  # startup recovery asked for the output again
            base = f"https://queue.fal.run/fal-ai/minimax-video/requests/{request_id}"
            states = [(await http.get(f"{base}/status")).json()["status"] for _ in range(3)]
            assert states == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]
            assert (await http.get(base)).status_code == 200
    finally:
        app.state.mock.close()


async def test_two_apps_on_one_store_generate_each_job_once(tmp_path: Path) -> None:
    """Two workers of one run share a store: the one that holds the claim generates, the other waits."""
    clock = ManualClock()
    first_store = SqliteStore.open(tmp_path)
    second_store = SqliteStore.open(tmp_path, run_id=first_store.run_id)
    settings = Settings.from_mapping({"check_contracts": True, "data_dir": str(tmp_path), "progression": "polls:1"})
    first = create_app(settings, clock=clock, store=first_store)
    second = create_app(settings, clock=clock, store=second_store)
    try:
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=first), headers=AUTH) as one,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=second), headers=AUTH) as two,
        ):
            body = {"prompt": "once", "image_url": data_uri(png_bytes())}
            submitted = (await one.post(f"https://queue.fal.run/{MINIMAX}", json=body)).json()
            job = second_store.get_job(submitted["request_id"])
            assert job is not None
            second.state.mock.runner.request(job, urgent=True, on_ready=lambda _rid: None)  # asked twice: one render
            states = [(await two.get(submitted["status_url"])).json()["status"] for _ in range(3)]
            assert states == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]
            assert (await two.get(submitted["response_url"])).status_code == 200
            assert first.state.mock.runner.generator.cache.misses == 1
            assert second.state.mock.runner.generator.cache.misses == 0  # the second never rendered it
    finally:
        first.state.mock.close()
        second.state.mock.close()


# --- the webhook journal survives a restart, and a pending retry is sent by the next run ---------------
async def test_webhook_deliveries_and_attempts_survive_a_restart(tmp_path: Path) -> None:
    from tests.mock_server.edge.api._receiver import Receiver

    clock = ManualClock()
    with Receiver(statuses=[500, 200]) as hook:
        first = _app(tmp_path, clock, progression="immediate")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first), headers=AUTH) as http:
            response = await http.post(f"https://queue.fal.run/{MINIMAX}", params={"fal_webhook": hook.url},
                                       json={"prompt": "hook", "image_url": data_uri(png_bytes())})  # fmt: skip
            request_id = response.json()["request_id"]
            await http.get(response.json()["status_url"])
        failed_once = await first.state.mock.webhooks.wait_for_async(request_id, attempts=1)
        assert failed_once.state == "pending"
        assert [attempt.status_code for attempt in failed_once.attempts] == [500]
        first.state.mock.close()

        second = _app(tmp_path, clock, progression="immediate")
        try:
            restored = second.state.mock.webhooks.deliveries(request_id=request_id)
            assert [(d.id, d.state, len(d.attempts)) for d in restored] == [(failed_once.id, "pending", 1)]
            assert restored[0].body == failed_once.body  # the exact bytes, to be re-signed and sent again
            clock.advance(failed_once.next_attempt_at - clock.now())  # type: ignore[operator]
            second.state.mock.webhooks.deliver_due()
            delivered = await second.state.mock.webhooks.wait_for_async(request_id, attempts=2)
            assert delivered.state == "delivered"
            assert [attempt.status_code for attempt in delivered.attempts] == [500, 200]
            assert [received.body for received in hook.wait(2)] == [failed_once.body, failed_once.body]
        finally:
            second.state.mock.close()



@pytest.mark.parametrize("lease", [5.0, 3600.0])
def test_generation_claims_last_generation_lease_seconds(tmp_path: Path, lease: float) -> None:
    """A runner claims a job for ``generation_lease_seconds`` of wall time (renewed by the ticker)."""
    import time

    from tests.mock_server.persistence.test_sqlite import make_job

    store = SqliteStore.open(tmp_path)
    app = create_app(Settings(data_dir=str(tmp_path), generation_lease_seconds=lease), store=store)
    try:
        job = make_job(1)
        job.inputs = dict(job.arguments)
        store.add_job(job)
        before = time.time()
        app.state.mock.runner.request(job, urgent=False, on_ready=lambda _rid: None)
        assert app.state.mock.runner.wait_blocking("req-00001", timeout=60)
        until = store._read("SELECT claim_until FROM jobs WHERE request_id = 'req-00001'")[0][0]
        assert before + lease <= until <= time.time() + lease
    finally:
        app.state.mock.close()
