"""A real browser plays the videos: Playwright driving Debian's Chromium (never a downloaded one).

The page and the videos come from one threaded ``http.server`` on 127.0.0.1 (same origin; not
``file://``). Every video must fire ``loadeddata`` with the promised size and duration, then
play to ``ended`` with ``error == null`` and no corrupted frames. Waits are Playwright
``wait_for_function`` calls on page state, never sleeps.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fal_mock.mock_server.video import RenderedVideo, render_video_from_bytes

from tests.mock_server.video._support import LUCY, MINIMAX, canonical, encode, request_input, sample_image

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]

PAGE_SCRIPT = """
const results = {};
for (const v of document.querySelectorAll("video")) {
  const r = results[v.id] = {loaded: false, ended: false, error: null};
  v.addEventListener("loadeddata", () => {
    Object.assign(r, {loaded: true, videoWidth: v.videoWidth, videoHeight: v.videoHeight, duration: v.duration});
  });
  v.addEventListener("error", () => { r.error = v.error ? `${v.error.code}: ${v.error.message}` : "error"; });
  v.addEventListener("ended", () => {
    const q = v.getVideoPlaybackQuality();
    Object.assign(r, {ended: true, errorAtEnd: v.error, total: q.totalVideoFrames,
                      dropped: q.droppedVideoFrames, corrupted: q.corruptedVideoFrames});
  });
}
window.results = results;
window.playAll = () => Promise.all([...document.querySelectorAll("video")].map(v => v.play()));
"""


def _videos() -> dict[str, RenderedVideo]:
    landscape = encode(sample_image(640, 400), "PNG")
    odd = encode(sample_image(333, 500, seed=3), "PNG")  # 214x320 preview: cropped, not a multiple of 16
    portrait = canonical({"aspect_ratio": "9:16", "image_url": "u", "prompt": "tall"})
    return {
        "preview": render_video_from_bytes(landscape, endpoint_id=LUCY, canonical_input=request_input("p")),
        "preview_odd": render_video_from_bytes(odd, endpoint_id=MINIMAX, canonical_input=request_input("q")),
        "realistic_lucy": render_video_from_bytes(
            landscape, endpoint_id=LUCY, canonical_input=request_input("r"), profile="realistic"
        ),
        "realistic_lucy_9x16": render_video_from_bytes(
            landscape, endpoint_id=LUCY, canonical_input=portrait, profile="realistic"
        ),
        "realistic_minimax": render_video_from_bytes(
            landscape, endpoint_id=MINIMAX, canonical_input=request_input("s"), profile="realistic"
        ),
    }


def _page(videos: dict[str, RenderedVideo]) -> bytes:
    tags = "\n".join(
        f'<video id="{html.escape(name)}" src="/v/{html.escape(name)}.mp4" muted playsinline preload="auto"></video>'
        for name in videos
    )
    return f"<!doctype html><html><body>{tags}<script>{PAGE_SCRIPT}</script></body></html>".encode()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, dict[str, RenderedVideo]]]:
    videos = _videos()
    files = {"/": (_page(videos), "text/html; charset=utf-8")}
    files.update({f"/v/{name}.mp4": (video.data, "video/mp4") for name, video in videos.items()})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            entry = files.get(self.path)
            if entry is None:
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            body, content_type = entry
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", videos
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_chromium_plays_every_profile(served: tuple[str, dict[str, RenderedVideo]]) -> None:
    from playwright.sync_api import sync_playwright

    url, videos = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(url)
            for video in videos.values():
                mime = f'video/mp4; codecs="{video.codec}"'
                support = page.evaluate("t => document.createElement('video').canPlayType(t)", mime)
                assert support == "probably", video.codec

            page.wait_for_function("Object.values(window.results).every(r => r.loaded || r.error)", timeout=30_000)
            loaded = page.evaluate("window.results")
            for name, video in videos.items():
                state = loaded[name]
                assert state["error"] is None, (name, state)
                assert (state["videoWidth"], state["videoHeight"]) == (video.width, video.height), name
                assert state["duration"] == pytest.approx(video.duration, abs=1e-3), name

            page.evaluate("window.playAll()")
            longest = max(v.duration for v in videos.values())
            page.wait_for_function(
                "Object.values(window.results).every(r => r.ended || r.error)", timeout=int(1000 * (longest + 30))
            )
            ended = page.evaluate("window.results")
            for name, video in videos.items():
                state = ended[name]
                assert state["ended"], (name, state)
                assert state["error"] is None, (name, state)
                assert state["errorAtEnd"] is None, (name, state)
                assert state["corrupted"] == 0, (name, state)
                assert 0 < state["total"] <= video.frame_count + 1, (name, state)
        finally:
            browser.close()
