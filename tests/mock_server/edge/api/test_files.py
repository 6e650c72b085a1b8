"""Serving stored files: uploaded bytes never run on the mock's origin; generated media still play inline."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fal_mock.mock_server.edge.api.files import disposition
from playwright.sync_api import Error as PlaywrightError
from starlette.applications import Starlette

from tests.mock_server.edge.api.test_dashboard import CHROMIUM_ARGS
from tests.support import AUTH, ServeProcess, require_chromium

MINIMAX = "fal-ai/minimax-video/image-to-video"
CDN = "http://127.0.0.1:8000/cdn"
ACTIVE = ["text/html", "text/html; charset=utf-8", "TEXT/HTML", "image/svg+xml", "application/xhtml+xml",
          "text/xml", "application/xml", "application/javascript", "application/pdf", "video/vnd.x+xml",
          "application/x-unknown"]  # fmt: skip
PASSIVE = ["image/png", "image/jpeg", "image/webp", "video/mp4", "audio/mpeg", "text/plain", "application/json"]


async def upload(http: httpx.AsyncClient, data: bytes, content_type: str) -> str:
    answer = await http.post(f"{CDN}/files/upload", content=data,
                             headers={"content-type": content_type, "x-fal-file-name": "page.html"})  # fmt: skip
    assert answer.status_code == 200
    url: str = answer.json()["access_url"]
    return url


@pytest.mark.parametrize("content_type", ACTIVE)
async def test_active_uploads_are_attachments_in_a_sandbox(make_app: Callable[..., Starlette],
                                                           content_type: str) -> None:  # fmt: skip
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), headers=AUTH) as http:
        url = await upload(http, b"<html><script>alert(document.domain)</script></html>", content_type)
        for method in ("GET", "HEAD"):
            served = await http.request(method, url)
            assert served.status_code == 200
            assert served.headers["content-disposition"] == 'attachment; filename="page.html"'
            assert served.headers["x-content-type-options"] == "nosniff"
            assert served.headers["content-security-policy"] == "sandbox"
            assert served.headers["content-type"] == content_type  # what was stored, unchanged


@pytest.mark.parametrize("content_type", PASSIVE)
async def test_passive_media_stay_inline(make_app: Callable[..., Starlette], content_type: str) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), headers=AUTH) as http:
        served = await http.get(await upload(http, b"bytes", content_type))
    assert served.headers["content-disposition"].startswith("inline;")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == "sandbox"


async def test_a_generated_video_is_served_inline(make_app: Callable[..., Starlette]) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), headers=AUTH) as http:
        submitted = await http.post(
            f"http://127.0.0.1:8000/queue/{MINIMAX}",
            json={"prompt": "p", "image_url": "https://v3.fal.media/files/penguin/x.png"},
        )
        video_url = (await http.get(submitted.json()["response_url"])).json()["video"]["url"]
        served = await http.get(video_url, headers={"range": "bytes=0-99"})
    assert served.status_code == 206
    assert served.headers["content-type"] == "video/mp4"
    assert served.headers["content-disposition"] == 'inline; filename="output.mp4"'
    assert served.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("content_type", ["text/html\r\nSet-Cookie: a=1", "image/\u2603", "x" * 5000])
async def test_a_hostile_content_type_is_served_as_bytes(make_app: Callable[..., Starlette], content_type: str) -> None:
    """``initiate``'s JSON may name any type; the signed PUT without its own header used it (a 500 when served)."""
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as http:
        initiated = (await http.post(f"{CDN.replace('/cdn', '/rest')}/storage/upload/initiate",
                                     json={"content_type": content_type, "file_name": "a.png"})).json()  # fmt: skip
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as anonymous:
            assert (await anonymous.put(initiated["upload_url"], content=b"x", headers={"content-type": ""})).is_success
            served = await anonymous.get(initiated["file_url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment;")
    assert "set-cookie" not in served.headers


def test_disposition_rule() -> None:
    assert disposition("video/mp4", "a.mp4") == 'inline; filename="a.mp4"'
    assert disposition(" Image/PNG ; q=1", "a.png") == 'inline; filename="a.png"'
    assert disposition("image/svg+xml", "a.svg") == 'attachment; filename="a.svg"'
    assert disposition("", "a.bin") == 'attachment; filename="a.bin"'


@pytest.mark.browser
@pytest.mark.slow
def test_a_browser_plays_an_output_but_only_downloads_an_uploaded_page(tmp_path: Path) -> None:
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    page_html = b"<html><body><script>document.title = 'ran'</script></body></html>"
    with ServeProcess(tmp_path, "--progression", "immediate", "--no-access-log") as server:
        with httpx.Client(headers=AUTH, timeout=30) as http:
            submitted = http.post(
                f"{server.url}/queue/{MINIMAX}",
                json={"prompt": "p", "image_url": "https://v3.fal.media/files/penguin/x.png"},
            )
            video_url = http.get(submitted.json()["response_url"]).json()["video"]["url"]
            uploaded = http.post(f"{server.url}/cdn/files/upload", content=page_html,
                                 headers={"content-type": "text/html", "x-fal-file-name": "page.html"})  # fmt: skip
            page_url = uploaded.json()["access_url"]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(accept_downloads=True)
                player = context.new_page()
                player.goto(video_url)
                player.wait_for_function("() => { const v = document.querySelector('video');"
                                         " return v && v.readyState >= 2 && v.videoWidth > 0 && v.error === null; }",
                                         timeout=30_000)  # fmt: skip
                visitor = context.new_page()
                # goto reports "Download is starting": the page is saved, never rendered
                with visitor.expect_download(timeout=30_000) as download, contextlib.suppress(PlaywrightError):
                    visitor.goto(page_url)
                assert download.value.suggested_filename == "page.html"
                assert visitor.title() != "ran"
            finally:
                browser.close()
