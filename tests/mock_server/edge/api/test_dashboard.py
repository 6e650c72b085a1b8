"""The dashboard at ``/_mock/``: what the page holds, that nothing from a request can inject markup, and that
a real browser (Playwright driving Debian's Chromium) plays every job's video on it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support import AUTH, data_uri, png_bytes, require_chromium

if TYPE_CHECKING:
    from fal_mock.fixtures import FalMockServer

BASE = "http://127.0.0.1:8000"
MINIMAX = "fal-ai/minimax-video/image-to-video"
LUCY = "fal-ai/decart/lucy-5b/image-to-video"
IMAGE = data_uri(png_bytes())
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def http(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers=AUTH)


async def submit(client: httpx.AsyncClient, endpoint: str, body: dict[str, object], **params: str) -> str:
    answer = await client.post(f"/queue/{endpoint}", json=body, params=params)
    assert answer.status_code == 200, answer.text
    rid: str = answer.json()["request_id"]
    return rid


async def test_page_shows_jobs_inputs_logs_and_playing_videos(app: Starlette) -> None:
    async with http(app) as client:
        lucy = await submit(client, LUCY, {"prompt": "a dog", "image_url": IMAGE})
        minimax = await submit(client, MINIMAX, {"prompt": "a cat", "image_url": IMAGE})
        for rid, alias in ((lucy, "fal-ai/decart"), (minimax, "fal-ai/minimax-video")):
            await client.get(f"/queue/{alias}/requests/{rid}")
        page = await client.get("/_mock/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    for rid in (lucy, minimax):
        assert f'id="job-{rid}"' in text
        video = re.search(rf'<video id="video-{rid}"[^>]*>', text)
        assert video is not None
        assert all(word in video.group(0) for word in ("autoplay", "muted", "loop", "playsinline"))
        assert f'src="/_mock/jobs/{rid}/video"' in video.group(0)
        assert f'src="/_mock/jobs/{rid}/input"' in text
    assert "Rendered" in text  # the log lines
    assert "a cat" in text
    assert 'http-equiv="refresh"' not in text  # nothing is running
    assert "elephant/" in text or "/files/" not in text  # MiniMax's output is listed among the stored files


async def test_page_refreshes_while_jobs_run(make_app: Callable[..., Starlette]) -> None:
    app = make_app(progression="manual")
    async with http(app) as client:
        rid = await submit(client, MINIMAX, {"prompt": "p", "image_url": IMAGE})
        running = await client.get("/_mock/")
        await client.post("/_mock/jobs/complete-all")
        done = await client.get("/_mock/")
    assert 'data-state="IN_QUEUE"' in running.text
    assert '<meta http-equiv="refresh" content="2">' in running.text
    assert 'http-equiv="refresh"' not in done.text
    assert f'id="video-{rid}"' in done.text


async def test_the_page_is_bounded(make_app: Callable[..., Starlette]) -> None:
    app = make_app(max_dashboard_jobs=2)
    async with http(app) as client:
        rids = [await submit(client, MINIMAX, {"prompt": str(n), "image_url": IMAGE}) for n in range(3)]
        page = await client.get("/_mock/")
    assert [f'id="job-{rid}"' in page.text for rid in rids] == [False, True, True]  # newest first
    assert "2 job(s) shown" in page.text


async def test_nothing_from_a_request_can_inject_markup(app: Starlette) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    async with http(app) as client:
        await submit(client, MINIMAX, {"prompt": evil, "image_url": "javascript:alert(1)//" + evil})
        await submit(client, MINIMAX, {"prompt": "p", "image_url": "data:text/html;base64,PHNjcmlwdD4="})
        page = await client.get("/_mock/")
    assert "<script>" not in page.text
    assert "onerror=alert" not in page.text.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page.text
    assert "data:text/html" not in re.sub(r"<dd>.*?</dd>", "", page.text)  # never an <img>/<video> source
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # no script at all
    assert page.headers["x-content-type-options"] == "nosniff"


async def test_namespace_filter_and_token_in_links(make_app: Callable[..., Starlette]) -> None:
    app = make_app(control_token="tok")
    headers = {"X-Fal-Mock-Control-Token": "tok"}
    async with http(app) as client:
        mine = await submit(client, MINIMAX, {"prompt": "p", "image_url": IMAGE}, )
        await client.post(f"/queue/{MINIMAX}", json={"prompt": "q", "image_url": IMAGE},
                          headers={"X-Fal-Mock-Namespace": "other"})  # fmt: skip
        await client.get(f"/queue/fal-ai/minimax-video/requests/{mine}")
        page = await client.get("/_mock/?namespace=other&token=tok")
        everything = await client.get("/_mock/", headers=headers)
        bad = await client.get("/_mock/?namespace=../x", headers=headers)
    assert f'id="job-{mine}"' not in page.text
    assert "namespace other" in page.text
    assert "?token=tok" in page.text
    assert everything.text.count('class="job"') == 2
    assert bad.status_code == 400


async def test_webhook_attempts_are_listed(app: Starlette) -> None:
    received: list[bytes] = []

    async def hook(request: Request) -> Response:
        received.append(await request.body())
        return Response(status_code=500 if len(received) == 1 else 200)

    receiver = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    mock = app.state.mock
    mock.webhooks.route("http://receiver.test", receiver)
    async with http(app) as client:
        rid = await submit(client, MINIMAX, {"prompt": "p", "image_url": IMAGE}, fal_webhook="http://receiver.test/hook")
        await client.get(f"/queue/fal-ai/minimax-video/requests/{rid}/status")
        mock.webhooks.wait_for(rid)
        page = await client.get("/_mock/")
    assert "http://receiver.test/hook" in page.text
    assert "HTTP 500" in page.text


@pytest.mark.browser
@pytest.mark.slow
def test_a_browser_plays_every_job_video(fal_mock_server: FalMockServer, tmp_path: Path) -> None:
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    with fal_mock_server.http() as client:
        jobs = []
        for endpoint, prompt in ((LUCY, "a dog runs"), (MINIMAX, "a cat sits"), (LUCY, "waves")):
            submitted = client.post(f"/queue/{endpoint}", json={"prompt": prompt, "image_url": IMAGE})
            assert submitted.status_code == 200, submitted.text
            body = submitted.json()
            assert client.get(body["response_url"]).status_code == 200
            jobs.append(body["request_id"])
    url = f"{fal_mock_server.control_url}/?namespace={fal_mock_server.namespace}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(url)
            for rid in jobs:
                assert page.locator(f"#job-{rid}").count() == 1
                page.wait_for_function(
                    "id => { const v = document.getElementById(id);"
                    " return v && v.readyState >= 2 && v.videoWidth > 0 && !v.paused && v.error === null; }",
                    arg=f"video-{rid}",
                    timeout=30_000,
                )
            facts = page.evaluate(
                "() => [...document.querySelectorAll('video')].map(v => [v.id, v.videoWidth, v.videoHeight, v.muted])"
            )
            images = page.evaluate("() => [...document.querySelectorAll('img.input')].map(i => i.naturalWidth)")
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        finally:
            browser.close()
    assert sorted(item[0] for item in facts) == sorted(f"video-{rid}" for rid in jobs)
    assert all(width > 0 and height > 0 and muted for _, width, height, muted in facts)
    assert images == [96, 96, 96]
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
