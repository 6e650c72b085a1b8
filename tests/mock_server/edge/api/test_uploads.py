"""Uploads end to end: the official Python client unmodified (in-process and over TLS), the JS client's
wire flows, file serving, lifecycle, eviction and every body limit."""

from __future__ import annotations

import hashlib
import io
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import fal_client
import fal_client.client as fal_client_module
import httpx
import numpy as np
import pytest
from fal_mock.fixtures import FalRouting
from fal_mock.mock_server.clock import ManualClock
from fal_mock.mock_server.control import MockControl
from fal_mock.mock_server.edge.hosts import FAL_HOSTS
from fal_mock.mock_server.video.yuv import fit_image
from PIL import Image
from starlette.applications import Starlette

from tests.conftest import AppFactory
from tests.mock_server.video._support import bt601_limited_luma
from tests.support import AUTH, ServeProcess, data_uri, png_bytes
from tests.videocheck import decode_strict, psnr

MINIMAX = "fal-ai/minimax-video/image-to-video"
KEY = "fal-mock-key:fal-mock-secret"
KiB = 1024


def first_frame_psnr(video: bytes, image: bytes) -> float:
    """PSNR (dB) of the video's first-frame luma against ``image`` fitted to the video's size.

    The first frame is stored losslessly (I_PCM), so luma matches to rounding (≥ 45 dB in the video
    tests); a different picture — a placeholder, another upload — scores far lower (< 20 dB).
    """
    decoded = decode_strict(video, keep=[0])
    expected = np.asarray(fit_image(Image.open(io.BytesIO(image)).convert("RGB"), decoded.width, decoded.height))
    return psnr(decoded.frames[0].y, bt601_limited_luma(expected))


def noisy_png(width: int, height: int, seed: int = 1) -> bytes:
    """A gradient with grey noise: PNG cannot compress it much (a small picture makes a large-ish file),
    and the noise is the same in R, G and B, so the video's 4:2:0 chroma keeps the picture recognisable."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    base = np.stack([xs * 255 // max(1, width - 1), ys * 255 // max(1, height - 1), (xs + ys) % 256], axis=-1)
    noise = rng.integers(-14, 15, size=(height, width, 1))
    pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, format="PNG")
    return out.getvalue()


# --- the official Python client, in-process -----------------------------------------------------------


@pytest.fixture
def routed(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """``app`` behind fal's host names for every httpx client; yields the (method, url) of each request."""
    monkeypatch.setenv("FAL_KEY", KEY)
    seen: list[tuple[str, str]] = []
    with FalRouting(app, hosts=FAL_HOSTS, hook=lambda request: seen.append((request.method, str(request.url)))):
        yield seen


def fresh_client() -> fal_client.SyncClient:
    """A new client each time: fal_client caches its CDN token on the client object."""
    return fal_client.SyncClient(key=KEY)


def fetch(url: str, **kwargs: Any) -> httpx.Response:
    with httpx.Client(**kwargs) as http:
        return http.get(url)


def generate(client: fal_client.SyncClient, image_url: str) -> bytes:
    result = client.subscribe(MINIMAX, arguments={"prompt": "a slow pan", "image_url": image_url})
    video = fetch(result["video"]["url"])
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    return video.content


def test_upload_file_then_generate(routed: list[tuple[str, str]], tmp_path: Path) -> None:
    png = png_bytes((160, 96), (20, 160, 90))
    path = tmp_path / "my picture.png"
    path.write_bytes(png)
    url = fresh_client().upload_file(path)
    parsed = urllib.parse.urlsplit(url)
    assert parsed.scheme == "https"
    assert parsed.hostname == "v3.fal.media"
    assert parsed.path.startswith("/files/")
    assert parsed.path.endswith("_my_picture.png")
    served = fetch(url)
    assert served.content == png
    assert served.headers["content-type"] == "image/png"
    methods = [(method, urllib.parse.urlsplit(u).path) for method, u in routed]
    assert methods[:2] == [("POST", "/storage/auth/token"), ("POST", "/files/upload")]
    assert first_frame_psnr(generate(fresh_client(), url), png) >= 40.0


def test_upload_and_upload_image(routed: list[tuple[str, str]], app: Starlette) -> None:
    client = fresh_client()
    url = client.upload(b"plain text", "text/plain", file_name="notes.txt")
    assert fetch(url).content == b"plain text"
    assert fetch(url).headers["content-type"].startswith("text/plain")
    picture = Image.open(io.BytesIO(png_bytes((128, 128), (200, 30, 30)))).convert("RGB")
    image_url = client.upload_image(picture)
    served = fetch(image_url)
    assert served.headers["content-type"] == "image/jpeg"
    assert image_url.endswith("_upload.jpeg")
    assert first_frame_psnr(generate(client, image_url), served.content) >= 40.0
    logs = [entry for entry in app.state.mock.store.jobs()[0].final_outcome().log_lines if "image_url" in entry[0]]
    assert "stored file" in logs[0][0]  # read from the store, not a placeholder


async def test_async_client_upload(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAL_KEY", KEY)
    with FalRouting(app, hosts=FAL_HOSTS):
        url = await fal_client.AsyncClient(key=KEY).upload(b"async bytes", "application/octet-stream")
        async with httpx.AsyncClient() as http:
            assert (await http.get(url)).content == b"async bytes"


def test_lifecycle_expiry_on_the_clock(routed: list[tuple[str, str]], clock: ManualClock) -> None:
    settings = fal_client_module.StorageSettings(expires_in="immediate")  # 60 s
    url = fresh_client().upload(b"short-lived", "text/plain", lifecycle=settings)
    kept = fresh_client().upload(b"kept", "text/plain")
    clock.advance(59)
    assert fetch(url).status_code == 200
    clock.advance(1)
    gone = fetch(url)
    assert gone.status_code == 404
    assert gone.json()["detail"].startswith("File not found")
    assert fetch(kept).status_code == 200


def test_fallback_when_the_cdn_upload_fails(make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(cdn_upload_fault_status=500)
    monkeypatch.setenv("FAL_KEY", KEY)
    seen: list[tuple[str, str]] = []
    with FalRouting(app, hosts=FAL_HOSTS, hook=lambda request: seen.append((request.method, str(request.url)))):
        url = fresh_client().upload(b"via the fallback", "text/plain", file_name="fb.txt")
        assert fetch(url).content == b"via the fallback"
        flow = [(method, urllib.parse.urlsplit(u).netloc, urllib.parse.urlsplit(u).path) for method, u in seen]
        assert flow[1] == ("POST", "v3.fal.media", "/files/upload")
        assert flow[2] == ("POST", "rest.fal.ai", "/storage/upload/initiate")
        assert "storage_type=gcs" in seen[2][1]
        assert flow[3][:2] == ("PUT", "v3.fal.media")
        assert flow[3][2].startswith("/files/upload/")
        seen.clear()
        app.state.mock.files.set_cdn_upload_fault(None)  # the switch flips at runtime
        fresh_client().upload(b"direct again", "text/plain")
        assert [urllib.parse.urlsplit(u).path for _, u in seen] == ["/storage/auth/token", "/files/upload"]


def test_multipart_with_a_lowered_threshold(
    routed: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(fal_client_module, "MULTIPART_THRESHOLD", 64 * KiB)
    monkeypatch.setattr(fal_client_module, "MULTIPART_CHUNK_SIZE", 16 * KiB)
    png = noisy_png(256, 192)
    assert len(png) > 64 * KiB
    path = tmp_path / "big.png"
    path.write_bytes(png)
    url = fresh_client().upload_file(path)
    assert fetch(url).content == png
    paths = [urllib.parse.urlsplit(u).path for _, u in routed]
    assert "/files/upload/multipart" in paths
    parts = [p for p in paths if "/multipart/" in p and not p.endswith("/complete")]
    assert len(parts) == -(-len(png) // (16 * KiB))
    complete = [index for index, path in enumerate(paths) if path.endswith("/complete")]
    assert len(complete) == 1
    assert all(paths.index(part) < complete[0] for part in parts)
    data_url = fresh_client().upload(png, "image/png", file_name="bytes.png")  # the in-memory variant too
    assert fetch(data_url).content == png
    assert first_frame_psnr(generate(fresh_client(), url), png) >= 40.0


# --- the JS client's wire flows, and the CDN token, over plain HTTP --------------------------------------


@pytest.fixture
async def bare(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sends no credentials by itself (the JS client's upload PUT sends none)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        yield http


async def test_cdn_token(client: httpx.AsyncClient, clock: ManualClock) -> None:
    answer = await client.post("https://rest.fal.ai/storage/auth/token?storage_type=fal-cdn-v3", json={})
    body = answer.json()
    assert answer.status_code == 200
    assert body["token_type"] == "Bearer"
    assert body["base_url"] == "https://v3.fal.media"
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires.tzinfo is not None
    assert expires.timestamp() > clock.now()
    prefixed = await client.post("http://127.0.0.1:8000/rest/storage/auth/token?storage_type=fal-cdn-v3", json={})
    assert prefixed.json()["base_url"] == "http://127.0.0.1:8000/cdn"
    unauthorized = await client.post("https://rest.fal.ai/storage/auth/token", headers={"Authorization": ""})
    assert unauthorized.status_code == 401
    bad_type = await client.post("https://rest.fal.ai/storage/auth/token?storage_type=s3", json={})
    assert bad_type.status_code == 400


async def test_cdn_upload_needs_a_valid_token(client: httpx.AsyncClient, clock: ManualClock) -> None:
    token = (await client.post("https://rest.fal.ai/storage/auth/token", json={})).json()["token"]
    bearer = {"Authorization": f"Bearer {token}", "Content-Type": "text/plain"}
    ok = await client.post("https://v3.fal.media/files/upload", content=b"a", headers=bearer)
    assert ok.status_code == 200
    assert ok.json()["access_url"].startswith("https://v3.fal.media/files/")
    forged = await client.post("https://v3.fal.media/files/upload", content=b"a",
                               headers={"Authorization": f"Bearer {token[:-3]}abc"})  # fmt: skip
    assert forged.status_code == 401
    assert "Invalid CDN token" in forged.json()["detail"]
    with_key = await client.post("https://v3.fal.media/files/upload", content=b"a")  # a fal key is accepted too
    assert with_key.status_code == 200
    clock.advance(3601)
    expired = await client.post("https://v3.fal.media/files/upload", content=b"a", headers=bearer)
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]


@pytest.mark.parametrize("base", ["https://rest.fal.ai", "http://127.0.0.1:8000/rest"])
async def test_js_single_upload(client: httpx.AsyncClient, bare: httpx.AsyncClient, base: str) -> None:
    initiated = await client.post(f"{base}/storage/upload/initiate?storage_type=fal-cdn-v3",
                                  json={"content_type": "text/plain", "file_name": "1795309531237.plain"})  # fmt: skip
    assert initiated.status_code == 200
    upload_url, file_url = initiated.json()["upload_url"], initiated.json()["file_url"]
    cdn = "https://v3.fal.media" if base.startswith("https://rest") else "http://127.0.0.1:8000/cdn"
    assert upload_url.startswith(cdn + "/files/upload/")
    assert file_url.startswith(cdn + "/files/")
    put = await bare.put(upload_url, content=b"from js", headers={"Content-Type": "text/plain"})
    assert put.status_code == 200
    assert put.headers["etag"]
    served = await bare.get(file_url)
    assert served.content == b"from js"
    assert served.headers["content-type"] == "text/plain"
    assert file_url.endswith("_1795309531237.plain")


async def test_signed_upload_urls_are_checked(client: httpx.AsyncClient, bare: httpx.AsyncClient,
                                              clock: ManualClock) -> None:  # fmt: skip
    initiated = (await client.post("https://rest.fal.ai/storage/upload/initiate", json={})).json()
    url = initiated["upload_url"]
    tampered = url.replace("content_type=application%2Foctet-stream", "content_type=text%2Fhtml")
    assert (await bare.put(tampered, content=b"x")).status_code == 403
    unsigned = url.split("?")[0]
    assert (await bare.put(unsigned, content=b"x")).status_code == 403
    other = (await client.post("https://rest.fal.ai/storage/upload/initiate", json={})).json()["upload_url"]
    moved = other.split("?")[0] + "?" + url.split("?")[1]  # a signature for another key
    assert (await bare.put(moved, content=b"x")).status_code == 403
    clock.advance(3601)
    late = await bare.put(url, content=b"x")
    assert late.status_code == 403
    assert "expired" in late.json()["detail"]
    assert (await bare.get(initiated["file_url"])).status_code == 404


async def test_lifecycle_header_on_initiate(client: httpx.AsyncClient, bare: httpx.AsyncClient,
                                            clock: ManualClock) -> None:  # fmt: skip
    lifecycle = {"X-Fal-Object-Lifecycle": '{"expiration_duration_seconds": 30}'}
    answer = await client.post("https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3", json={},
                               headers=lifecycle)  # fmt: skip
    initiated = answer.json()
    await bare.put(initiated["upload_url"], content=b"temp")
    clock.advance(29)
    assert (await bare.get(initiated["file_url"])).status_code == 200
    clock.advance(1)
    assert (await bare.get(initiated["file_url"])).status_code == 404
    bad = await client.post("https://rest.fal.ai/storage/upload/initiate", json={},
                            headers={"X-Fal-Object-Lifecycle": "{not json"})  # fmt: skip
    assert bad.status_code == 400
    assert "X-Fal-Object-Lifecycle header" in bad.json()["detail"]


def js_part_url(upload_url: str, suffix: str) -> str:
    """``${origin}${pathname}/${suffix}${search}``, as @fal-ai/client builds part and complete URLs."""
    parsed = urllib.parse.urlsplit(upload_url)
    return f"{parsed.scheme}://{parsed.netloc}{parsed.path}/{suffix}" + (f"?{parsed.query}" if parsed.query else "")


@pytest.mark.parametrize("base", ["https://rest.fal.ai", "http://127.0.0.1:8000/rest"])
async def test_js_multipart(client: httpx.AsyncClient, bare: httpx.AsyncClient, base: str) -> None:
    answer = await client.post(f"{base}/storage/upload/initiate-multipart?storage_type=fal-cdn-v3",
                               json={"content_type": "application/octet-stream", "file_name": "big.octet"})  # fmt: skip
    initiated = answer.json()
    chunks = [bytes([k]) * (10 * KiB) for k in range(1, 4)] + [b"tail"]
    parts = []
    for number, chunk in enumerate(chunks, start=1):
        answer = await bare.put(js_part_url(initiated["upload_url"], str(number)), content=chunk)
        assert answer.status_code == 200
        assert answer.json() == {"partNumber": number, "etag": answer.headers["etag"]}
        parts.append(answer.json())
    done = await bare.post(js_part_url(initiated["upload_url"], "complete"), json={"parts": parts})
    assert done.status_code == 200
    served = await bare.get(initiated["file_url"])
    assert served.content == b"".join(chunks)
    again = await bare.post(js_part_url(initiated["upload_url"], "complete"), json={"parts": parts})
    assert again.status_code == 404  # a completed upload is gone


async def test_python_multipart_wire_checks(client: httpx.AsyncClient, bare: httpx.AsyncClient) -> None:
    token = (await client.post("https://rest.fal.ai/storage/auth/token", json={})).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    begun = await client.post("https://v3.fal.media/files/upload/multipart",
                              headers={**auth, "Content-Type": "image/png", "X-Fal-File-Name": "p.png"})  # fmt: skip
    access_url, upload_id = begun.json()["access_url"], begun.json()["uploadId"]
    part = await bare.put(f"{access_url}/multipart/{upload_id}/1", content=b"abc", headers=auth)
    assert part.status_code == 200
    assert part.headers["etag"].startswith('"')
    assert (await bare.put(f"{access_url}/multipart/{upload_id}/1", content=b"abc")).status_code == 401
    assert (await bare.put(f"{access_url}/multipart/{upload_id}/x", content=b"abc", headers=auth)).status_code == 400
    assert (await bare.put(f"{access_url}/multipart/{upload_id}/0", content=b"abc", headers=auth)).status_code == 400
    wrong = await bare.post(f"{access_url}/multipart/{upload_id}/complete", headers=auth,
                            json={"parts": [{"partNumber": 1, "etag": '"nope"'}]})  # fmt: skip
    assert wrong.status_code == 400
    missing = await bare.post(f"{access_url}/multipart/{upload_id}/complete", headers=auth,
                              json={"parts": [{"partNumber": 2, "etag": part.headers["etag"]}]})  # fmt: skip
    assert missing.status_code == 400
    shapeless = await bare.post(f"{access_url}/multipart/{upload_id}/complete", headers=auth, json={"parts": "x"})
    assert shapeless.status_code == 422
    done = await bare.post(f"{access_url}/multipart/{upload_id}/complete", headers=auth,
                           json={"parts": [{"partNumber": 1, "etag": part.headers["etag"]}]})  # fmt: skip
    assert done.status_code == 200
    assert done.json()["access_url"] == access_url
    served = await bare.get(access_url)
    assert served.content == b"abc"
    assert served.headers["content-type"] == "image/png"
    unknown = await bare.put(f"{access_url}/multipart/AAAAAAAAAAAAAAAAAAAAA/1", content=b"x", headers=auth)
    assert unknown.status_code == 404


async def test_upload_through_the_proxy(client: httpx.AsyncClient, bare: httpx.AsyncClient) -> None:
    initiated = await client.post(
        "http://127.0.0.1:8000/proxy",
        json={"content_type": "image/png", "file_name": "proxied.png"},
        headers={"x-fal-target-url": "https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3"},
    )
    assert initiated.status_code == 200
    body = initiated.json()
    assert body["upload_url"].startswith("http://127.0.0.1:8000/cdn/files/upload/")
    assert (await bare.put(body["upload_url"], content=png_bytes(), headers={"Content-Type": "image/png"})).is_success
    assert (await bare.get(body["file_url"])).content == png_bytes()
    submitted = await client.post(
        "http://127.0.0.1:8000/proxy",
        json={"prompt": "p", "image_url": body["file_url"]},
        headers={"x-fal-target-url": f"https://queue.fal.run/{MINIMAX}"},
    )
    result = await client.get(submitted.json()["response_url"])
    video = await bare.get(result.json()["video"]["url"])
    assert result.json()["video"]["url"].startswith("http://127.0.0.1:8000/cdn/files/")
    assert first_frame_psnr(video.content, png_bytes()) >= 40.0


async def test_preflight(bare: httpx.AsyncClient) -> None:
    answer = await bare.options("https://v3.fal.media/files/upload/lion/x",
                                headers={"Origin": "https://app.example", "Access-Control-Request-Method": "PUT",
                                         "Access-Control-Request-Headers": "content-type"})  # fmt: skip
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "PUT" in answer.headers["access-control-allow-methods"]


# --- file serving ------------------------------------------------------------------------------------------


@pytest.fixture
async def served_file(client: httpx.AsyncClient) -> str:
    headers = {"Content-Type": "application/x-test", "X-Fal-File-Name": "data.bin"}
    answer = await client.post("https://v3.fal.media/files/upload", content=bytes(range(256)) * 4, headers=headers)
    url: str = answer.json()["access_url"]
    return url


async def test_get_and_head(bare: httpx.AsyncClient, served_file: str) -> None:
    got = await bare.get(served_file)
    assert got.content == bytes(range(256)) * 4
    head = await bare.head(served_file)
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "accept-ranges"):
        assert head.headers[name] == got.headers[name]
    assert head.headers["content-length"] == "1024"
    assert head.headers["accept-ranges"] == "bytes"
    cached = await bare.get(served_file, headers={"If-None-Match": got.headers["etag"]})
    assert cached.status_code == 304


@pytest.mark.parametrize(
    ("header", "status", "span"),
    [("bytes=0-9", 206, (0, 10)), ("bytes=1000-", 206, (1000, 1024)), ("bytes=-24", 206, (1000, 1024)),
     ("bytes=1020-5000", 206, (1020, 1024)), ("bytes=5-2", 200, (0, 1024)), ("bytes=abc", 200, (0, 1024)),
     ("bytes=0-1,5-6", 200, (0, 1024)), ("bytes=" + "9" * 40 + "-", 200, (0, 1024))],
)  # fmt: skip
async def test_ranges(bare: httpx.AsyncClient, served_file: str, header: str, status: int,
                      span: tuple[int, int]) -> None:  # fmt: skip
    answer = await bare.get(served_file, headers={"Range": header})
    assert answer.status_code == status
    assert answer.content == (bytes(range(256)) * 4)[span[0] : span[1]]
    if status == 206:
        assert answer.headers["content-range"] == f"bytes {span[0]}-{span[1] - 1}/1024"


@pytest.mark.parametrize("header", ["bytes=1024-", "bytes=5000-6000", "bytes=-0"])
async def test_unsatisfiable_ranges(bare: httpx.AsyncClient, served_file: str, header: str) -> None:
    answer = await bare.get(served_file, headers={"Range": header})
    assert answer.status_code == 416
    assert answer.headers["content-range"] == "bytes */1024"


@pytest.mark.parametrize(
    "path",
    ["/files/../../etc/passwd", "/files/%2e%2e/%2e%2e/etc/passwd", "/files/lion%2F..%2F..%2Fetc%2Fpasswd",
     "/files/..%252f..%252fetc/passwd", "/files/lion/%00", "/files/" + "a/" * 3000 + "x", "/files/" + "b" * 20000,
     "/files/lion/" + "c" * 21 + "_..", "/files/", "/files/upload", "/files/%ff%fe"],
)  # fmt: skip
async def test_traversal_and_garbage_are_404(bare: httpx.AsyncClient, served_file: str, path: str) -> None:
    for base in ("https://v3.fal.media", "http://127.0.0.1:8000/cdn"):
        answer = await bare.get(base + path)
        assert answer.status_code in (400, 404, 405, 414), (path, answer.status_code)  # never a 500
        assert "detail" in answer.json()
    assert (await bare.get(served_file)).status_code == 200


# --- limits: every body, with the server intact afterwards ------------------------------------------------


async def assert_intact(client: httpx.AsyncClient, earlier: str) -> None:
    """Earlier files still serve, and a new upload works."""
    assert (await client.get(earlier)).status_code == 200
    fresh = await client.post("https://v3.fal.media/files/upload", content=b"still works")
    assert fresh.status_code == 200
    assert (await client.get(fresh.json()["access_url"])).content == b"still works"


async def chunked(data: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.fixture
async def limited(make_app: AppFactory) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(max_upload_bytes=64 * KiB, max_multipart_part_bytes=16 * KiB, max_multipart_parts=3,
                   max_request_body_bytes=48 * KiB, max_input_file_bytes=8 * KiB,
                   max_store_bytes=200 * KiB)  # fmt: skip
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as http:
        yield http


async def test_upload_body_limits(limited: httpx.AsyncClient) -> None:
    earlier = (await limited.post("https://v3.fal.media/files/upload", content=b"earlier")).json()["access_url"]
    declared = await limited.post("https://v3.fal.media/files/upload", content=b"x" * (64 * KiB + 1))
    assert declared.status_code == 413
    assert "65537" in declared.json()["detail"]
    streamed = await limited.post("https://v3.fal.media/files/upload", content=chunked(b"x" * (80 * KiB)))
    assert streamed.status_code == 413
    assert set(streamed.json()) == {"detail"}
    initiated = (await limited.post("https://rest.fal.ai/storage/upload/initiate", json={})).json()
    signed = await limited.put(initiated["upload_url"], content=chunked(b"y" * (70 * KiB)))
    assert signed.status_code == 413
    assert (await limited.get(initiated["file_url"])).status_code == 404
    await assert_intact(limited, earlier)


async def test_multipart_limits(limited: httpx.AsyncClient) -> None:
    earlier = (await limited.post("https://v3.fal.media/files/upload", content=b"earlier")).json()["access_url"]
    upload_url = (await limited.post("https://rest.fal.ai/storage/upload/initiate-multipart", json={})).json()[
        "upload_url"
    ]
    big_part = await limited.put(js_part_url(upload_url, "1"), content=b"p" * (16 * KiB + 1))
    assert big_part.status_code == 413
    too_many = await limited.put(js_part_url(upload_url, "4"), content=b"p")
    assert too_many.status_code == 413
    assert "limit of 3 parts" in too_many.json()["detail"]
    absurd = await limited.put(js_part_url(upload_url, "9" * 30), content=b"p")
    assert absurd.status_code == 400
    ok = [await limited.put(js_part_url(upload_url, str(n)), content=b"q" * (16 * KiB)) for n in (1, 2, 3)]
    assert [answer.status_code for answer in ok] == [200, 200, 200]
    again = await limited.put(js_part_url(upload_url, "3"), content=b"q" * (16 * KiB))  # a retried part replaces
    assert again.status_code == 200
    done = await limited.post(js_part_url(upload_url, "complete"), json={"parts": [a.json() for a in ok]})
    assert done.status_code == 200
    await assert_intact(limited, earlier)


async def test_json_and_data_uri_limits(limited: httpx.AsyncClient) -> None:
    earlier = (await limited.post("https://v3.fal.media/files/upload", content=b"earlier")).json()["access_url"]
    huge = await limited.post(f"https://queue.fal.run/{MINIMAX}",
                              json={"prompt": "p", "image_url": data_uri(b"z" * (60 * KiB))})  # fmt: skip
    assert huge.status_code == 413
    assert set(huge.json()) == {"detail"}
    big_input = await limited.post(f"https://queue.fal.run/{MINIMAX}",
                                   json={"prompt": "p", "image_url": data_uri(noisy_png(96, 96))})  # fmt: skip
    assert big_input.status_code == 200
    result = await limited.get(big_input.json()["response_url"])
    assert result.status_code == 422
    entry = result.json()["detail"][0]
    assert entry["type"] == "file_too_large"
    assert entry["ctx"] == {"max_size": 8 * KiB}
    assert entry["loc"] == ["body", "image_url"]
    initiate = await limited.post("https://rest.fal.ai/storage/upload/initiate", content=b"{" * (2 * 1024 * KiB))
    assert initiate.status_code == 413
    await assert_intact(limited, earlier)


async def test_store_full_is_507_and_changes_nothing(make_app: AppFactory) -> None:
    app = make_app(max_upload_bytes=64 * KiB, max_store_bytes=100 * KiB, progression="manual")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as http:
        first = (await http.post("https://v3.fal.media/files/upload", content=b"1" * (60 * KiB))).json()["access_url"]
        await http.post(f"https://queue.fal.run/{MINIMAX}", json={"prompt": "p", "image_url": first})  # pins it
        full = await http.post("https://v3.fal.media/files/upload", content=b"2" * (60 * KiB))
        assert full.status_code == 507
        assert "full" in full.json()["detail"]
        assert (await http.get(first)).content == b"1" * (60 * KiB)
        assert (await http.post("https://v3.fal.media/files/upload", content=b"small")).status_code == 200


async def test_eviction_keeps_inputs_of_unfinished_jobs(make_app: AppFactory) -> None:
    app = make_app(max_store_bytes=400 * KiB, progression="manual")
    png = noisy_png(96, 96, seed=5)  # ~17 KiB
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as http:

        async def upload(data: bytes) -> str:
            answer = await http.post("https://v3.fal.media/files/upload", content=data,
                                     headers={"Content-Type": "image/png"})  # fmt: skip
            url: str = answer.json()["access_url"]
            return url

        image = await upload(png)
        answer = await http.post(f"https://queue.fal.run/{MINIMAX}", json={"prompt": "p", "image_url": image})
        submitted = answer.json()
        filler = [await upload(bytes([k]) * (100 * KiB)) for k in range(6)]
        assert [(await http.get(url)).status_code for url in filler[:3]] == [404, 404, 404]  # oldest went first
        assert (await http.get(image)).status_code == 200  # older still, but an unfinished job needs it
        MockControl(app.state.mock).complete_all()  # generated now, from the input the store kept
        result = await http.get(submitted["response_url"])
        assert result.status_code == 200
        video = await http.get(result.json()["video"]["url"])
    assert first_frame_psnr(video.content, png) >= 40.0


# --- the official Python client against `fal-mock serve --tls` ---------------------------------------------


@pytest.mark.slow
def test_python_client_against_a_tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ServeProcess(tmp_path, "--tls", "--tls-dir", str(tmp_path / "tls"), "--progression", "immediate",
                      "--no-access-log") as server:  # fmt: skip
        assert server.ca_file is not None
        assert server.url.startswith("https://127.0.0.1:")
        monkeypatch.setenv("FAL_KEY", KEY)
        monkeypatch.setenv("SSL_CERT_FILE", server.ca_file)  # read by httpx when each client is created
        monkeypatch.setattr(fal_client_module, "REST_URL", server.url + "/rest")
        monkeypatch.setattr(fal_client_module, "CDN_URL", server.url + "/cdn")
        monkeypatch.setattr(fal_client_module, "QUEUE_URL_FORMAT", server.url + "/queue/")
        monkeypatch.setattr(fal_client_module, "RUN_URL_FORMAT", server.url + "/run/")
        png = png_bytes((200, 120), (40, 40, 220))
        path = tmp_path / "tls.png"
        path.write_bytes(png)
        client = fresh_client()
        url = client.upload_file(path)
        assert url.startswith(server.url + "/cdn/files/")
        assert url.endswith("_tls.png")
        assert fetch(url).content == png
        text_url = fresh_client().upload(b"over tls", "text/plain", file_name="t.txt")
        assert fetch(text_url).content == b"over tls"
        picture = Image.open(io.BytesIO(png)).convert("RGB")
        image_url = fresh_client().upload_image(picture, format="png")
        assert fetch(image_url).content.startswith(b"\x89PNG")
        monkeypatch.setattr(fal_client_module, "MULTIPART_THRESHOLD", 64 * KiB)
        monkeypatch.setattr(fal_client_module, "MULTIPART_CHUNK_SIZE", 16 * KiB)
        big = noisy_png(256, 192, seed=9)
        big_url = fresh_client().upload(big, "image/png", file_name="big.png")
        assert fetch(big_url).content == big
        result = fresh_client().subscribe(MINIMAX, arguments={"prompt": "p", "image_url": url})
        video_url = result["video"]["url"]
        assert video_url.startswith(server.url + "/cdn/files/")
        video = fetch(video_url)
    assert first_frame_psnr(video.content, png) >= 40.0


# --- data_dir: files outlive the app ------------------------------------------------------------------------


async def test_files_survive_a_restart_with_a_data_dir(make_app: AppFactory, tmp_path: Path) -> None:
    first = make_app(data_dir=str(tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first), headers=AUTH) as http:
        answer = await http.post("https://v3.fal.media/files/upload", content=png_bytes(),
                                 headers={"Content-Type": "image/png", "X-Fal-File-Name": "kept.png"})  # fmt: skip
        url = answer.json()["access_url"]
    first.state.mock.close()
    assert [path.name for path in (tmp_path / "blobs").iterdir()] == [hashlib.sha256(png_bytes()).hexdigest()]
    second = make_app(data_dir=str(tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=second), headers=AUTH) as http:
        served = await http.get(url, headers={"Range": "bytes=0-7"})
        assert served.status_code == 206
        assert served.content == png_bytes()[:8]
        submitted = (await http.post(f"https://queue.fal.run/{MINIMAX}", json={"prompt": "p", "image_url": url})).json()
        video = await http.get((await http.get(submitted["response_url"])).json()["video"]["url"])
    assert first_frame_psnr(video.content, png_bytes()) >= 40.0
