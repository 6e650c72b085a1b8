"""Byte budgets of retained jobs: arguments kept whole up to a limit, a marked summary beyond it (the job
still runs on its full inputs), finished jobs evicted by bytes including their arguments, and
``/_mock/jobs?full=1`` answered in bounded pages — on memory and on SQLite."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fal_mock.mock_server.jobs.budgets import (
    TRUNCATED_KEY,
    argument_bytes,
    is_truncated,
    kept_arguments,
    retained_arguments,
    retained_bytes,
)
from starlette.applications import Starlette

from tests.support import AUTH, both_stores, data_uri, png_bytes

__all__ = ["both_stores"]

MINIMAX = "fal-ai/minimax-video/image-to-video"
QUEUE = "https://queue.fal.run"
IMAGE = data_uri(png_bytes((32, 32)))


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH)


def test_small_arguments_are_kept_whole() -> None:
    arguments = {"prompt": "a cat", "image_url": IMAGE, "seed": 3}
    assert retained_arguments(arguments, 64 * 1024) is arguments


def test_large_arguments_become_a_marked_summary_within_the_limit() -> None:
    arguments = {"prompt": "p" * (1 << 20), "image_url": IMAGE, "seed": 3}
    kept = retained_arguments(arguments, 64 * 1024)
    assert argument_bytes(kept) <= 64 * 1024
    assert is_truncated(kept)
    assert not is_truncated(arguments)
    original = json.dumps(arguments, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()
    assert kept[TRUNCATED_KEY] == {"bytes": len(original), "sha256": hashlib.sha256(original).hexdigest(),
                                   "limit": 64 * 1024}  # fmt: skip
    assert kept["seed"] == 3
    assert kept["prompt"].startswith("p" * 4096)
    assert "not retained" in kept["prompt"]


def test_many_small_values_keep_only_the_marker_and_the_keys() -> None:
    arguments = {f"k{index:05d}": index for index in range(20_000)}
    kept = retained_arguments(arguments, 4096)
    assert argument_bytes(kept) <= 4096
    assert list(kept) == [TRUNCATED_KEY]
    assert kept[TRUNCATED_KEY]["keys"][:2] == ["k00000", "k00001"]


@pytest.mark.parametrize(("arguments", "limit"), [
    ({"prompt": "a cat", "image_url": IMAGE, "seed": 3}, 64 * 1024),
    ({"prompt": "p" * (1 << 20), "image_url": IMAGE, "seed": 3}, 64 * 1024),
    ({f"k{index:05d}": index for index in range(20_000)}, 4096),
    (None, 10),
])  # fmt: skip
def test_kept_arguments_come_with_their_size(arguments: Any, limit: int) -> None:
    kept, size = kept_arguments(arguments, limit)
    assert kept == retained_arguments(arguments, limit)
    assert size == argument_bytes(kept)


async def test_a_job_is_weighed_by_the_arguments_it_keeps(make_app: Callable[..., Starlette]) -> None:
    app = make_app(max_retained_argument_bytes=4096)
    async with client(app) as http:
        for body in ({"prompt": "short", "image_url": IMAGE}, {"prompt": "p" * 50_000, "image_url": IMAGE}):
            submitted = await http.post(f"{QUEUE}/{MINIMAX}", json=body)
            assert (await http.get(submitted.json()["response_url"])).status_code == 200
            job = app.state.mock.store.get_job(submitted.json()["request_id"])
            in_memory = app.state.mock.store.run_id == "memory"  # a stored job does not keep the measure
            assert job.argument_bytes == (argument_bytes(job.arguments) if in_memory else None)
            outcome = job.final_outcome()
            assert retained_bytes(job) == outcome.result_bytes + argument_bytes(job.arguments)
            older = job.copy()
            older.argument_bytes = None  # stored by a version that did not measure it: measured when needed
            assert retained_bytes(older) == retained_bytes(job)


async def test_a_job_runs_on_its_full_inputs_and_keeps_a_summary(make_app: Callable[..., Starlette]) -> None:
    prompt = "a long prompt " * 80_000  # ~1.1 MB
    small = make_app(max_retained_argument_bytes=16 * 1024)
    whole = make_app(max_retained_argument_bytes=8 * 1024 * 1024)
    results = []
    for app in (small, whole):
        async with client(app) as http:
            submitted = await http.post(f"{QUEUE}/{MINIMAX}", json={"prompt": prompt, "image_url": IMAGE})
            result = await http.get(submitted.json()["response_url"])
            assert result.status_code == 200, result.text
            video = await http.get(result.json()["video"]["url"])
            results.append(video.content)
            view = (await http.get(f"http://127.0.0.1/_mock/jobs/{submitted.json()['request_id']}")).json()
            if app is small:
                assert is_truncated(view["arguments"])
                assert len(json.dumps(view["arguments"])) <= 16 * 1024
                assert view["arguments"]["image_url"] == IMAGE  # short values stay whole
                stored = app.state.mock.store.get_job(submitted.json()["request_id"])
                assert stored.inputs is None  # dropped once finished
            else:
                assert view["arguments"]["prompt"] == prompt
    assert results[0] == results[1]  # the same output: generated from the full prompt both times


async def test_finished_jobs_are_evicted_by_the_bytes_of_their_arguments(make_app: Callable[..., Starlette]) -> None:
    app = make_app(max_result_bytes=400_000, max_finished_jobs=1000, max_retained_argument_bytes=64 * 1024)
    ids = []
    async with client(app) as http:
        for index in range(12):
            body = {"prompt": f"job {index}", "image_url": IMAGE, "notes": "n" * 60_000}
            submitted = await http.post(f"{QUEUE}/{MINIMAX}", json=body)
            assert (await http.get(submitted.json()["response_url"])).status_code == 200
            ids.append(submitted.json()["request_id"])
        statuses = [(await http.get(f"{QUEUE}/fal-ai/minimax-video/requests/{rid}/status")).status_code for rid in ids]
    assert statuses[-1] == 200
    assert statuses[0] == 404
    assert 5 <= statuses.count(200) <= 7


async def test_full_job_views_come_in_bounded_pages(make_app: Callable[..., Starlette]) -> None:
    app = make_app(max_full_jobs_page=2)
    async with client(app) as http:
        ids = []
        for index in range(5):
            submitted = await http.post(f"{QUEUE}/{MINIMAX}", json={"prompt": f"p{index}", "image_url": IMAGE},
                                        headers={"X-Fal-Mock-Progression": "manual"})  # fmt: skip
            ids.append(submitted.json()["request_id"])
        seen: list[str] = []
        after: Any = 0
        pages = 0
        while after is not None:
            page = (await http.get(f"http://127.0.0.1/_mock/jobs?full=1&after={after}")).json()
            assert len(page["jobs"]) <= 2
            seen += [job["request_id"] for job in page["jobs"]]
            after = page.get("next_after")
            pages += 1
        assert seen == ids
        assert pages == 3
        assert (await http.get("http://127.0.0.1/_mock/jobs?full=1&after=x")).status_code == 400
        assert len((await http.get("http://127.0.0.1/_mock/jobs")).json()["jobs"]) == 5  # summaries: not paged
