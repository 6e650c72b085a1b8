"""The dashboard at ``/_mock/``: what the page and its JSON hold (links, filters, actions, durations, webhook
retry times), that nothing from a request can inject markup, and — in a real browser (Playwright driving Debian's
Chromium) — that it plays every job's video, filters, moves a job by a button and updates in place without
restarting a playing video."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fal_mock
import httpx
import pytest
from fal_mock.mock_server.control import MockControl
from fal_mock.mock_server.edge.api import dashboard
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
#: What the page's script sends with every POST (a control API refusing cross-site requests accepts it).
CONTROL = {"X-Fal-Mock-Control": "1"}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]  # fmt: skip


def http(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers=AUTH)


async def submit(client: httpx.AsyncClient, endpoint: str, body: Any, **params: str) -> str:
    answer = await client.post(f"/queue/{endpoint}", json=body, params=params)
    assert answer.status_code == 200, answer.text
    rid: str = answer.json()["request_id"]
    return rid


async def control(client: httpx.AsyncClient, path: str, body: dict[str, Any] | None = None,
                  **headers: str) -> httpx.Response:  # fmt: skip
    answer = await client.post(f"/_mock{path}", json=body or {}, headers={**CONTROL, **headers})
    assert answer.status_code in (200, 201), answer.text
    return answer


def card_of(text: str, rid: str) -> str:
    found = re.search(rf'<article class="job" id="job-{re.escape(rid)}".*?</article>', text, re.S)
    assert found is not None, f"no card for {rid}"
    return found.group(0)


def shown_ids(text: str) -> list[str]:
    return re.findall(r'<article class="job" id="job-([^"]+)"', text)


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
    assert 'http-equiv="refresh"' not in text  # never: the script updates the page in place
    assert 'data-live="0"' in text  # nothing is running, so the script does not poll
    assert "/cdn/files/" in text  # MiniMax's output is listed among the stored files
    assert "_output.mp4" in text


async def test_every_job_links_to_its_json_result_video_and_files(app: Starlette) -> None:
    async with http(app) as client:
        rid = await submit(client, MINIMAX, {"prompt": "a cat", "image_url": IMAGE})
        await client.get(f"/queue/fal-ai/minimax-video/requests/{rid}/status")
        page = await client.get("/_mock/")
        job_json = await client.get(f"/_mock/jobs/{rid}")
        result = await client.get(f"/_mock/jobs/{rid}/result")
        video = await client.get(f"/_mock/jobs/{rid}/video")
        collected = MockControl(app.state.mock).collected_ids(MockControl(app.state.mock).jobs())
        card = card_of(page.text, rid)
        output_links = re.findall(r'<a class="output" href="([^"]+)"', card)
        file_bytes = [await client.get(link) for link in output_links]
    assert f'<a class="json" href="/_mock/jobs/{rid}">JSON</a>' in card
    assert f'<a class="result" href="/_mock/jobs/{rid}/result">result</a>' in card
    assert f'<a class="video" href="/_mock/jobs/{rid}/video">video</a>' in card
    assert job_json.json()["request_id"] == rid
    assert result.status_code == 200
    assert result.json() == job_json.json()["output"]  # what fal's result answers
    assert rid not in collected  # reading it on the dashboard is not the client collecting its result
    assert video.headers["content-type"] == "video/mp4"
    assert output_links, "the output video's CDN URL is linked"
    assert [answer.status_code for answer in file_bytes] == [200] * len(file_bytes)
    assert all(answer.content == video.content for answer in file_bytes)
    files_table = page.text.split('<div id="files">', 1)[1]
    assert f'<a class="job-link" href="#job-{rid}">{rid}</a>' in files_table  # the stored output names its job


async def test_the_result_link_of_an_unfinished_job_says_so(make_app: Callable[..., Starlette]) -> None:
    app = make_app(progression="manual")
    async with http(app) as client:
        rid = await submit(client, MINIMAX, {"prompt": "p", "image_url": IMAGE})
        early = await client.get(f"/_mock/jobs/{rid}/result")
        page = await client.get("/_mock/")
    assert early.status_code == 400
    assert "in progress" in early.text
    assert f"/_mock/jobs/{rid}/result" not in page.text  # no result link before it completes


async def test_the_page_is_live_while_jobs_run_and_offers_actions(make_app: Callable[..., Starlette]) -> None:
    app = make_app(progression="manual")
    async with http(app) as client:
        rid = await submit(client, MINIMAX, {"prompt": "p", "image_url": IMAGE})
        running = await client.get("/_mock/")
        running_json = (await client.get("/_mock/dashboard.json")).json()
        await control(client, "/jobs/complete-all")
        done = await client.get("/_mock/")
        done_json = (await client.get("/_mock/dashboard.json")).json()
    assert 'data-state="IN_QUEUE"' in running.text
    assert 'data-live="1"' in running.text
    assert running_json["live"] is True
    assert 'http-equiv="refresh"' not in running.text
    buttons = re.findall(r'<button type="button" data-action="(\w+)" data-id="([^"]+)"', card_of(running.text, rid))
    assert buttons == [("advance", rid), ("complete", rid), ("fail", rid)]
    assert 'data-live="0"' in done.text
    assert done_json["live"] is False
    assert "data-action" not in card_of(done.text, rid)  # a finished job cannot be moved
    assert f'id="video-{rid}"' in done.text


async def test_the_page_and_its_json_agree(make_app: Callable[..., Starlette]) -> None:
    app = make_app(progression="manual")
    async with http(app) as client:
        rids = [await submit(client, MINIMAX, {"prompt": f"job {n}", "image_url": IMAGE}) for n in range(3)]
        await control(client, f"/jobs/{rids[0]}/advance")
        # the started job renders in the background and its first log lines appear with the output: let it
        # finish, or the page and the JSON (two requests) could see it before and after
        await app.state.mock.runner.wait(rids[0])
        page = await client.get("/_mock/")
        doc = (await client.get("/_mock/dashboard.json")).json()
    assert [job["request_id"] for job in doc["jobs"]] == rids[::-1]  # newest first
    assert [job["state"] for job in doc["jobs"]] == ["IN_QUEUE", "IN_QUEUE", "IN_PROGRESS"]
    for job in doc["jobs"]:
        assert dashboard.card(job) in page.text  # the script builds exactly what the server rendered
    assert doc["meta"] in page.text
    assert doc["webhooks"] in page.text


async def test_durations_queued_running_and_total(make_app: Callable[..., Starlette]) -> None:
    app = make_app(progression="manual")
    async with http(app) as client:
        rid = await submit(client, MINIMAX, {"prompt": "p", "image_url": IMAGE})
        await control(client, "/clock/advance", {"seconds": 5})
        queued = card_of((await client.get("/_mock/")).text, rid)
        await control(client, f"/jobs/{rid}/advance")
        await control(client, "/clock/advance", {"seconds": 3})
        running = card_of((await client.get("/_mock/")).text, rid)
        await control(client, f"/jobs/{rid}/advance")
        await control(client, "/clock/advance", {"seconds": 100})
        done = card_of((await client.get("/_mock/")).text, rid)
    assert "<dt>queued</dt><dd>5.0 s so far</dd>" in queued
    assert "<dt>running</dt>" not in queued
    assert "<dt>total</dt><dd>5.0 s so far</dd>" in queued
    assert "<dt>queued</dt><dd>5.0 s</dd><dt>running</dt><dd>3.0 s so far</dd>" in running
    assert "<dt>total</dt><dd>8.0 s so far</dd>" in running
    assert "<dt>queued</dt><dd>5.0 s</dd><dt>running</dt><dd>3.0 s</dd><dt>total</dt><dd>8.0 s</dd>" in done


def test_durations_are_written_for_people() -> None:
    assert [dashboard.duration(s) for s in (0, 1.25, 59.94, 65, 3599, 3725, -2)] == [
        "0.0 s", "1.2 s", "59.9 s", "1 min 05 s", "59 min 59 s", "1 h 02 min", "0.0 s"]  # fmt: skip


async def test_the_page_is_bounded(make_app: Callable[..., Starlette]) -> None:
    app = make_app(max_dashboard_jobs=2)
    async with http(app) as client:
        rids = [await submit(client, MINIMAX, {"prompt": str(n), "image_url": IMAGE}) for n in range(3)]
        for rid in rids:
            assert (await client.get(f"/queue/fal-ai/minimax-video/requests/{rid}")).status_code == 200
        page = await client.get("/_mock/")
    assert [f'id="job-{rid}"' in page.text for rid in rids] == [False, True, True]  # newest first
    assert "2 job(s) shown of 3" in page.text
    files = page.text.split('<div id="files">', 1)[1]
    assert files.count('<a class="file"') == 2
    assert "the newest 2 of 3 shown" in files


async def test_nothing_from_a_request_can_inject_markup(app: Starlette) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    async with http(app) as client:
        await submit(client, MINIMAX, {"prompt": evil, "image_url": "javascript:alert(1)//" + evil})
        await submit(client, MINIMAX, {"prompt": "p", "image_url": "data:text/html;base64,PHNjcmlwdD4="})
        page = await client.get("/_mock/")
        doc = await client.get("/_mock/dashboard.json")
    fragments = " ".join(str(part) for job in doc.json()["jobs"] for part in job.values())
    for text in (page.text.replace("<script>" + _script(page.text) + "</script>", ""), fragments):
        assert "<script" not in text
        assert "onerror=alert" not in text.replace("onerror=alert(1)&gt;", "")
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
        assert "data:text/html" not in re.sub(r"<dd>.*?</dd>", "", text)  # never an <img>/<video> source
    assert page.text.count("<script>") == 1  # the page's own script, nothing else
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "'unsafe-inline'" not in _directive(policy, "script-src")
    digest = base64.b64encode(hashlib.sha256(_script(page.text).encode()).digest()).decode()
    assert _directive(policy, "script-src") == f"script-src 'sha256-{digest}'"  # only that script may run
    assert page.headers["x-content-type-options"] == "nosniff"
    assert doc.headers["content-type"] == "application/json"


async def test_any_accepted_body_renders(app: Starlette) -> None:
    """Arguments of any shape, refused bodies and huge values: the page renders them (escaped, cut), never fails.
    (Lone surrogates are refused at ingress; old data dirs holding some: test_strict_json's views test.)"""
    async with http(app) as client:
        listed = await submit(client, MINIMAX, ["<b>not</b>", {"an": "object"}])
        surrogate = await client.post(f"/queue/{MINIMAX}", content=b'{"prompt": "half \\ud800 <i>x</i>"}',
                                      headers={"content-type": "application/json"})  # fmt: skip
        huge = await submit(client, MINIMAX, {"prompt": "<u>" * 10_000, "image_url": IMAGE})
        nested = await submit(client, MINIMAX, {"prompt": {"<tag>": ["</dd>"]}, "image_url": IMAGE})
        page = await client.get("/_mock/")
        doc = await client.get("/_mock/dashboard.json")
    assert surrogate.status_code == 200, surrogate.text
    assert page.status_code == 200
    assert doc.status_code == 200
    assert "&lt;b&gt;not&lt;/b&gt;" in card_of(page.text, listed)
    refused = card_of(page.text, surrogate.json()["request_id"])  # ingress refuses lone surrogates: a 422 job
    assert "json_invalid" in refused
    huge_card = card_of(page.text, huge)
    assert "&lt;u&gt;" * 100 in huge_card
    assert "&lt;u&gt;" * 200 not in huge_card  # cut, with an ellipsis
    assert "…" in huge_card
    assert "&lt;tag&gt;" in card_of(page.text, nested)
    assert "<tag>" not in page.text
    assert len(doc.json()["jobs"]) == 4


async def test_namespace_filter_and_token_in_links(make_app: Callable[..., Starlette]) -> None:
    app = make_app(control_token="tok")
    headers = {"X-Fal-Mock-Control-Token": "tok"}
    async with http(app) as client:
        mine = await submit(client, MINIMAX, {"prompt": "p", "image_url": IMAGE})
        other = await client.post(f"/queue/{MINIMAX}", json={"prompt": "q", "image_url": IMAGE},
                                  headers={"X-Fal-Mock-Namespace": "other"})  # fmt: skip
        await client.get(f"/queue/fal-ai/minimax-video/requests/{mine}")
        page = await client.get("/_mock/?namespace=other&token=tok")
        doc = await client.get("/_mock/dashboard.json?namespace=other&token=tok")
        refused = await client.get("/_mock/dashboard.json?namespace=other")
        everything = await client.get("/_mock/", headers=headers)
        bad = await client.get("/_mock/?namespace=../x", headers=headers)
    theirs = other.json()["request_id"]
    assert f'id="job-{mine}"' not in page.text
    assert f'id="job-{theirs}"' in page.text
    assert "namespace other" in page.text
    assert f'href="/_mock/jobs/{theirs}?token=tok"' in page.text
    assert f'src="/_mock/jobs/{theirs}/input?token=tok"' in page.text
    assert 'data-token="tok"' in page.text  # the script's requests carry it too
    assert '<input type="hidden" name="token" value="tok">' in page.text  # and the filter form
    assert [job["request_id"] for job in doc.json()["jobs"]] == [theirs]
    assert refused.status_code == 401
    assert everything.text.count('class="job"') == 2
    assert bad.status_code == 400


async def test_endpoint_and_state_filters(make_app: Callable[..., Starlette]) -> None:
    app = make_app(progression="manual")
    async with http(app) as client:
        lucy = await submit(client, LUCY, {"prompt": "a dog", "image_url": IMAGE})
        minimax = await submit(client, MINIMAX, {"prompt": "a cat", "image_url": IMAGE})
        failing = await submit(client, MINIMAX, {"prompt": "a bird", "image_url": IMAGE})
        await control(client, f"/jobs/{lucy}/advance")
        await control(client, f"/jobs/{failing}/fail", {"error_type": "internal_server_error"})
        pages = {
            query: (await client.get(f"/_mock/?{query}")).text
            for query in (f"endpoint={LUCY}", f"endpoint={MINIMAX}", "state=IN_PROGRESS", "state=IN_QUEUE",
                          "state=FAILED", "state=COMPLETED", f"endpoint={MINIMAX}&state=IN_QUEUE")
        }  # fmt: skip
        doc = (await client.get("/_mock/dashboard.json", params={"endpoint": MINIMAX})).json()
        bad_state = await client.get("/_mock/?state=DONE")
        bad_endpoint = await client.get("/_mock/dashboard.json", params={"endpoint": "x" * 201})
    assert shown_ids(pages[f"endpoint={LUCY}"]) == [lucy]
    assert shown_ids(pages[f"endpoint={MINIMAX}"]) == [failing, minimax]
    assert shown_ids(pages["state=IN_PROGRESS"]) == [lucy]
    assert shown_ids(pages["state=IN_QUEUE"]) == [minimax]
    assert shown_ids(pages["state=FAILED"]) == [failing]
    assert shown_ids(pages["state=COMPLETED"]) == []
    assert shown_ids(pages[f"endpoint={MINIMAX}&state=IN_QUEUE"]) == [minimax]
    assert [job["request_id"] for job in doc["jobs"]] == [failing, minimax]
    assert doc["filters"] == {"endpoint": MINIMAX}
    assert doc["options"]["endpoint"] == sorted([LUCY, MINIMAX])
    assert doc["options"]["state"] == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED", "FAILED"]
    assert "500 internal_server_error" in card_of(pages["state=FAILED"], failing)
    form = pages["state=FAILED"].split('<form id="filters"', 1)[1].split("</form>", 1)[0]
    assert '<option value="FAILED" selected>FAILED</option>' in form
    assert f'<option value="{LUCY}">{LUCY}</option>' in form
    assert bad_state.status_code == 400
    assert "IN_QUEUE, IN_PROGRESS, COMPLETED, FAILED" in bad_state.text
    assert bad_endpoint.status_code == 400


async def test_webhooks_link_to_jobs_both_ways_with_next_retry_and_resend(app: Starlette) -> None:
    received: list[bytes] = []

    async def hook(request: Request) -> Response:
        received.append(await request.body())
        return Response(status_code=500 if len(received) == 1 else 200)

    receiver = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    mock = app.state.mock
    mock.webhooks.route("http://receiver.test", receiver)
    async with http(app) as client:
        rid = await submit(
            client, MINIMAX, {"prompt": "p", "image_url": IMAGE}, fal_webhook="http://receiver.test/hook"
        )
        other = await submit(client, MINIMAX, {"prompt": "q", "image_url": IMAGE})
        await client.get(f"/queue/fal-ai/minimax-video/requests/{rid}/status")
        first = mock.webhooks.wait_for(rid)
        pending = await client.get("/_mock/")
        pending_doc = (await client.get("/_mock/dashboard.json")).json()
        resent = (await control(client, f"/webhooks/{first.id}/resend")).json()
        mock.webhooks.wait_for(rid, attempts=2)
        after = await client.get("/_mock/")
        filtered = await client.get(f"/_mock/?state=IN_QUEUE&endpoint={MINIMAX}")
    assert "http://receiver.test/hook" in pending.text
    assert "HTTP 500" in pending.text
    row = re.search(rf'<tr id="delivery-{first.id}" data-state="pending">.*?</tr>', pending.text, re.S)
    assert row is not None
    assert f'<a class="job-link" href="#job-{rid}">{rid}</a>' in row.group(0)  # delivery → job card
    assert f'href="/_mock/jobs/{rid}"' in row.group(0)  # delivery → job JSON
    assert f'href="/_mock/webhooks/{first.id}"' in row.group(0)  # its own JSON
    assert f'data-action="resend" data-id="{first.id}"' in row.group(0)
    retry = mock.webhooks.get(first.id).next_attempt_at
    assert retry is not None
    assert "next attempt " + dashboard.isoformat(retry) in row.group(0)  # when the retry is due (manual clock)
    assert f'<a class="webhook" href="#delivery-{first.id}">webhook pending</a>' in card_of(pending.text, rid)
    assert "webhook" not in re.sub(r"<dl>.*</dl>", "", card_of(pending.text, other))  # job → its deliveries only
    assert pending_doc["live"] is True  # a pending delivery keeps the page polling
    assert f'<tr id="delivery-{resent["id"]}" data-state="delivered">' in after.text
    assert f'resend of <a href="#delivery-{first.id}">' in after.text
    assert len(received) == 2
    assert "No webhook deliveries." in filtered.text  # narrowed to the deliveries of the jobs shown


async def test_version_is_shown_when_the_package_has_one(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> None:
    installed = fal_mock.__version__
    async with http(app) as client:
        page = await client.get("/_mock/")
        monkeypatch.setattr(fal_mock, "__version__", "9.8.7<b>", raising=False)
        with_version = (await client.get("/_mock/dashboard.json")).json()
    assert f"fal-mock {installed}" in page.text.split('id="meta">', 1)[1].split("</div>", 1)[0]
    assert with_version["meta"].startswith("fal-mock 9.8.7&lt;b&gt; · clock ")
    assert with_version["version"] == "9.8.7<b>"


def test_files_a_browser_could_run_are_downloaded_not_opened() -> None:
    links = dashboard._Links("/_mock", "http://h/cdn", None)
    html_link = dashboard._file_link("b/x_<p>.html", "text/html", links, label="<p>.html", kind="file")
    video_link = dashboard._file_link("b/v.mp4", "video/mp4", links, label="v.mp4", kind="file")
    svg_link = dashboard._file_link("b/i.svg", "image/svg+xml; charset=utf-8", links, label="i.svg", kind="file")
    assert html_link == ('<a class="file" href="http://h/cdn/files/b/x_%3Cp%3E.html" rel="noopener noreferrer" '
                         "download>&lt;p&gt;.html</a>")  # fmt: skip
    assert " download" not in video_link
    assert " download" in svg_link


def _script(page: str) -> str:
    found = re.search(r"<script>(.*?)</script>", page, re.S)
    assert found is not None
    return found.group(1)


def _directive(policy: str, name: str) -> str:
    return next(part.strip() for part in policy.split(";") if part.strip().startswith(name + " "))


# --- in a real browser ---------------------------------------------------------------------------


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


def _manual_job(client: httpx.Client, endpoint: str, prompt: str) -> str:
    submitted = client.post(f"/queue/{endpoint}", json={"prompt": prompt, "image_url": IMAGE},
                            headers={"X-Fal-Mock-Progression": "manual"})  # fmt: skip
    assert submitted.status_code == 200, submitted.text
    rid: str = submitted.json()["request_id"]
    return rid


@pytest.mark.browser
@pytest.mark.slow
def test_a_browser_filters_and_moves_a_job_without_reloading(fal_mock_server: FalMockServer) -> None:
    chromium = require_chromium()
    from playwright.sync_api import Request as BrowserRequest
    from playwright.sync_api import sync_playwright

    with fal_mock_server.http() as client:
        waiting = _manual_job(client, MINIMAX, "waits for a button")
        other = _manual_job(client, LUCY, "another endpoint")
    url = f"{fal_mock_server.control_url}/?namespace={fal_mock_server.namespace}"
    posts: list[dict[str, str]] = []

    def seen(request: BrowserRequest) -> None:
        if request.method == "POST":
            posts.append({**request.headers, "url": request.url})

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(ignore_https_errors=True).new_page()
            page.on("request", seen)
            page.goto(url)
            page.evaluate("() => { window.sameDocument = true; }")  # lost if the page reloaded
            assert page.locator("body").get_attribute("data-polling") == "1"  # a manual job waits: polling
            page.select_option("#filter-endpoint", MINIMAX)
            page.wait_for_function("id => !document.getElementById(id)", arg=f"job-{other}")
            assert page.locator("article.job").count() == 1
            assert f"endpoint={MINIMAX.replace('/', '%2F')}" in page.url  # the filter is in the address
            page.locator(f'#job-{waiting} button[data-action="advance"]').click()
            page.wait_for_function(
                "id => document.getElementById(id).dataset.state === 'IN_PROGRESS'", arg=f"job-{waiting}"
            )
            page.locator(f'#job-{waiting} button[data-action="fail"]').click()
            page.wait_for_function("id => document.getElementById(id).dataset.state === 'FAILED'", arg=f"job-{waiting}")
            page.select_option("#filter-endpoint", "")
            page.wait_for_function("id => !!document.getElementById(id)", arg=f"job-{other}")
            page.locator(f'#job-{other} button[data-action="complete"]').click()
            page.wait_for_function(
                "id => document.getElementById(id).dataset.state === 'COMPLETED'", arg=f"job-{other}"
            )
            page.wait_for_function("() => document.body.dataset.polling === '0'")  # nothing can change any more
            status = page.locator("#live").inner_text()
            same_document = page.evaluate("() => window.sameDocument === true")
            message = page.locator("#message").inner_text()
        finally:
            browser.close()
    assert same_document, "the page reloaded"
    assert "nothing can change" in status
    assert "failed" not in message, message
    assert len(posts) >= 4  # advance, fail, complete (two steps)
    for sent in posts:
        assert sent["content-type"] == "application/json", sent
        assert sent["x-fal-mock-control"] == "1", sent
    with fal_mock_server.http() as client:
        states = {rid: client.get(f"/_mock/jobs/{rid}").json() for rid in (waiting, other)}
    assert states[waiting]["state"] == "COMPLETED"
    assert states[waiting]["error_type"] == "internal_server_error"
    assert states[other]["state"] == "COMPLETED"
    assert states[other]["error_type"] is None


@pytest.mark.browser
@pytest.mark.slow
def test_a_playing_video_keeps_playing_across_updates(fal_mock_server: FalMockServer) -> None:
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    with fal_mock_server.http() as client:
        done = client.post(f"/queue/{MINIMAX}", json={"prompt": "plays on", "image_url": IMAGE}).json()
        assert client.get(done["response_url"]).status_code == 200
        waiting = _manual_job(client, LUCY, "moved from outside the page")
    rid = done["request_id"]
    url = f"{fal_mock_server.control_url}/?namespace={fal_mock_server.namespace}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(ignore_https_errors=True).new_page()
            page.goto(url)
            page.wait_for_function(
                "id => { const v = document.getElementById(id); return v && v.readyState >= 2 && !v.paused"
                " && v.currentTime > 0; }",
                arg=f"video-{rid}",
                timeout=30_000,
            )
            before = page.evaluate(
                "id => { const v = document.getElementById(id); v.dataset.marked = 'yes'; window.theVideo = v;"
                " window.restarts = 0; for (const name of ['emptied', 'loadstart', 'abort'])"
                " v.addEventListener(name, () => { window.restarts += 1; });"
                " return [v.getVideoPlaybackQuality().totalVideoFrames, Number(document.body.dataset.updates || 0)]; }",
                f"video-{rid}",
            )
            with fal_mock_server.http() as client:  # moved by another client: only polling can show it
                moved = client.post(f"/_mock/jobs/{waiting}/advance", json={}, headers=CONTROL)
                assert moved.status_code == 200, moved.text
            page.wait_for_function(
                "id => document.getElementById(id).dataset.state === 'IN_PROGRESS'", arg=f"job-{waiting}",
                timeout=15_000,
            )  # fmt: skip
            page.locator("#pause").click()
            paused = page.evaluate("() => [document.body.dataset.polling, document.getElementById('live').innerText]")
            page.locator("#pause").click()  # resume: updates at once
            page.wait_for_function(
                "n => Number(document.body.dataset.updates) > n + 1", arg=before[1], timeout=15_000
            )  # fmt: skip
            after = page.evaluate(
                "id => { const v = document.getElementById(id);"
                " return [v === window.theVideo, v.dataset.marked, v.getVideoPlaybackQuality().totalVideoFrames,"
                " v.paused, v.error === null, window.restarts]; }",
                f"video-{rid}",
            )
        finally:
            browser.close()
    assert paused == ["0", "paused"]
    same_element, marked, frames, was_paused, no_error, restarts = after
    assert same_element
    assert marked == "yes", "the video element was re-created"
    assert restarts == 0, "the video was reloaded"
    assert frames > before[0]
    assert not was_paused
    assert no_error  # it kept playing (frames shown only grow)


@pytest.mark.browser
@pytest.mark.slow
def test_a_browser_resends_a_webhook_delivery(fal_mock_server: FalMockServer) -> None:
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    refused = "http://127.0.0.1:9/hook"  # the discard port: nothing listens, so every attempt fails
    with fal_mock_server.http() as client:
        submitted = client.post(f"/queue/{MINIMAX}", params={"fal_webhook": refused},
                                json={"prompt": "hooked", "image_url": IMAGE})  # fmt: skip
        assert submitted.status_code == 200, submitted.text
        rid = submitted.json()["request_id"]
        assert client.get(submitted.json()["response_url"]).status_code == 200
    url = f"{fal_mock_server.control_url}/?namespace={fal_mock_server.namespace}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(ignore_https_errors=True).new_page()
            page.goto(url)
            page.wait_for_function(  # the job's card links to its delivery row, which links back
                "rid => { const a = document.querySelector('#job-' + rid + ' a.webhook');"
                " const row = a && document.querySelector(a.getAttribute('href'));"
                " return row && row.querySelector('a.job-link').getAttribute('href') === '#job-' + rid; }",
                arg=rid,
                timeout=15_000,
            )
            first = page.locator("#job-" + rid + " a.webhook").first.get_attribute("href")
            assert first is not None
            page.locator(f'{first} button[data-action="resend"]').click()
            page.wait_for_function(
                "first => [...document.querySelectorAll('tr[id^=delivery-]')].some(row =>"
                " row.textContent.includes('resend of ' + first.slice('#delivery-'.length)))",
                arg=first,
                timeout=15_000,
            )
            rows = page.locator("tr[id^=delivery-]").count()
            message = page.locator("#message").inner_text()
        finally:
            browser.close()
    assert rows == 2
    assert message.endswith(": done"), message
    with fal_mock_server.http() as client:
        deliveries = client.get("/_mock/webhooks", params={"request_id": rid}).json()["deliveries"]
    assert [item["resend_of"] for item in deliveries] == [None, first.removeprefix("#delivery-")]


async def test_image_and_audio_outputs_are_shown(app: Starlette) -> None:
    async with http(app) as client:
        image_job = (await client.post("/run/fal-ai/flux/dev", json={"prompt": "fox", "num_images": 2,
                                                                     "image_size": "square"})).json()  # fmt: skip
        audio_job = await client.post("/run/fal-ai/minimax/speech-02-hd", json={"text": "Hello."})
        assert audio_job.status_code == 200
        page = (await client.get("/_mock/")).text
        assert page.count('<img class="output"') == 2
        assert page.count('<audio class="output"') == 1
        jobs = (await client.get("/_mock/jobs")).json()["jobs"]
        first = next(job for job in jobs if job["endpoint_id"] == "fal-ai/flux/dev")["request_id"]
        response = await client.get(f"/_mock/jobs/{first}/files/1")
        assert response.status_code == 200
        assert response.headers["content-type"] == image_job["images"][1]["content_type"]
        assert response.content in [await (await client.get(image["url"])).aread() for image in image_job["images"]]
        assert (await client.get(f"/_mock/jobs/{first}/files/9")).status_code == 404
