"""Hypothesis on the endpoints OpenAPI does not describe well: uploads, file serving, the proxy,
the control API and the queue's platform headers — odd headers, bodies, ranges and names.

Every test drives one in-process app through many generated requests (fixed seed, bounded
examples) and asserts what a user relies on: never a 5xx (the suite's contract self-check
turns any body that breaks its contract into one), the answer is one of the statuses the
endpoint documents, and the app's state is intact afterwards — files keep their bytes, a
normal job still runs to its result.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from tests.support import AUTH, data_uri, png_bytes

BASE = "http://127.0.0.1:8000"
MINIMAX = "fal-ai/minimax-video/image-to-video"
FUZZ = settings(max_examples=150, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip

#: Header values a client can send: printable latin-1 without CR/LF, as bytes (httpx refuses the rest).
header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=80
)
ODD_NAMES = [
    "", ".", "..", "../../etc/passwd", "a/b/c.png", "C:\\x\\y.png", "%2e%2e%2f", "名前.mp4", "x" * 300,
    ".hidden", "file name with spaces.png", "emoji-😀.png", "a\u0000b",
]
odd_names = st.one_of(header_text, st.sampled_from(ODD_NAMES))


def as_json(value: object) -> bytes:
    return json.dumps(value).encode()


def raw(headers: dict[str, Any]) -> dict[str, bytes]:
    """Header values as the bytes sent (UTF-8: any octet a client could put on the wire)."""
    return {name: value if isinstance(value, bytes) else str(value).encode() for name, value in headers.items()}


@pytest.fixture
async def setup(make_app: Callable[..., Starlette]) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    app = make_app(max_upload_bytes=1024 * 1024, max_request_body_bytes=256 * 1024)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        yield app, http


async def stored_file(http: httpx.AsyncClient, data: bytes) -> str:
    """Upload ``data`` the Python client's way; returns its URL."""
    token = (await http.post("/rest/storage/auth/token?storage_type=fal-cdn-v3", json={}, headers=AUTH)).json()
    response = await http.post("/cdn/files/upload", content=data,
                               headers={"Authorization": f"Bearer {token['token']}", "Content-Type": "video/mp4",
                                        "X-Fal-File-Name": "clip.mp4"})  # fmt: skip
    assert response.status_code == 200, response.text
    return str(response.json()["access_url"])


async def job_still_runs(http: httpx.AsyncClient) -> None:
    body = {"prompt": "after the fuzz", "image_url": data_uri(png_bytes())}
    submitted = await http.post(f"/queue/{MINIMAX}", json=body, headers={**AUTH, "X-Fal-Mock-Progression": "immediate"})
    assert submitted.status_code == 200
    result = await http.get(submitted.json()["response_url"], headers=AUTH)
    assert result.status_code == 200, result.text


def no_server_error(response: httpx.Response, allowed: set[int]) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    assert response.status_code in allowed, (response.status_code, response.text[:500])


# --- file serving: odd keys and ranges ----------------------------------------------------------------
range_bound = st.one_of(st.just(""), st.integers(0, 5000).map(str))
ODD_RANGES = ["bytes=-0", "bytes=0-", "bytes=--1", "bytes=9999999999999999999999-", "items=0-1", "bytes= 1 - 2"]
ranges = st.one_of(
    header_text,
    st.builds(lambda a, b: f"bytes={a}-{b}", range_bound, range_bound),
    st.builds(lambda a, b: f"bytes={a}-{b},{b}-", st.integers(0, 3000), st.integers(0, 3000)),
    st.sampled_from(ODD_RANGES),
)


@FUZZ
@given(range_header=ranges, etag=st.one_of(st.none(), header_text, st.just("*")), head=st.booleans())
async def test_file_ranges(setup: tuple[Starlette, httpx.AsyncClient], range_header: str, etag: str | None,
                           head: bool) -> None:  # fmt: skip
    _, http = setup
    data = bytes(range(256)) * 16  # 4096 bytes
    url = await stored_file(http, data)
    headers = {"Range": range_header}
    if etag is not None:
        headers["If-None-Match"] = etag
    response = await http.request("HEAD" if head else "GET", url, headers=raw(headers))
    no_server_error(response, {200, 206, 304, 416})
    if response.status_code == 206 and not head:
        match = re.fullmatch(r"bytes (\d+)-(\d+)/4096", response.headers["content-range"])
        assert match, response.headers["content-range"]
        start, end = int(match[1]), int(match[2])
        assert response.content == data[start : end + 1]
    if response.status_code == 200 and not head:
        assert response.content == data
    if response.status_code == 416:
        assert response.headers["content-range"] == "bytes */4096"
    assert (await http.get(url)).content == data  # the file is intact


@FUZZ
@given(key=st.one_of(odd_names, st.builds(lambda a, b: f"{a}/{b}", odd_names, odd_names)))
async def test_file_keys(setup: tuple[Starlette, httpx.AsyncClient], key: str) -> None:
    _, http = setup
    response = await http.get(f"/cdn/files/{urllib.parse.quote(key, safe='/%:@')}")
    # 307: Starlette's slash redirect for "/cdn/files/" (an empty key) — to a 404
    no_server_error(response, {200, 307, 400, 404, 405})
    assert response.status_code != 200 or response.headers["content-type"]


# --- uploads: odd names, types, lifecycles, bodies ---------------------------------------------------------
lifecycle_seconds = st.one_of(st.integers(-10, 10**12).map(str), st.sampled_from(["1e309", "null", '"x"', "NaN"]))
lifecycles = st.one_of(
    st.none(), header_text, lifecycle_seconds.map(lambda seconds: f'{{"expiration_duration_seconds": {seconds}}}')
)
content_types = st.one_of(header_text, st.sampled_from(["image/png", "application/json", "", "x/y; charset=utf-8"]))


@FUZZ
@given(name=odd_names, content_type=content_types, lifecycle=lifecycles, body=st.binary(max_size=2048))
async def test_cdn_uploads(setup: tuple[Starlette, httpx.AsyncClient], name: str, content_type: str,
                           lifecycle: str | None, body: bytes) -> None:  # fmt: skip
    _, http = setup
    headers = {**AUTH, "X-Fal-File-Name": name, "Content-Type": content_type}
    if lifecycle is not None:
        headers["X-Fal-Object-Lifecycle"] = lifecycle
    response = await http.post("/cdn/files/upload", content=body, headers=raw(headers))
    no_server_error(response, {200, 400, 401, 413, 422})
    if response.status_code == 200:
        url = response.json()["access_url"]
        key = url.split("/files/", 1)[1]
        name_part = key.split("_", 1)[1]
        assert "/" not in name_part  # a safe name: one path segment, never "." or ".."
        assert name_part not in (".", "..")
        served = await http.get(url)
        assert served.status_code == 200
        assert hashlib.sha256(served.content).digest() == hashlib.sha256(body).digest()


any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=10,
)
initiate_bodies = st.one_of(
    st.binary(max_size=300),
    any_json.map(as_json),
    st.fixed_dictionaries({}, optional={"file_name": odd_names, "content_type": header_text}).map(as_json),
)
INITIATE_ROUTES = [
    "initiate?storage_type=gcs", "initiate?storage_type=fal-cdn-v3", "initiate-multipart?storage_type=fal-cdn-v3",
    "initiate?storage_type=nope", "initiate",
]


@FUZZ
@given(payload=initiate_bodies, route=st.sampled_from(INITIATE_ROUTES))
async def test_upload_initiation(setup: tuple[Starlette, httpx.AsyncClient], payload: bytes, route: str) -> None:
    _, http = setup
    response = await http.post(f"/rest/storage/upload/{route}", content=payload,
                               headers={**AUTH, "Content-Type": "application/json"})  # fmt: skip
    no_server_error(response, {200, 400, 413, 415, 422})
    if response.status_code == 200 and "multipart" not in route:
        put = await http.put(response.json()["upload_url"], content=b"hello")
        no_server_error(put, {200, 400, 413, 422})
        if put.status_code == 200:
            assert (await http.get(response.json()["file_url"])).content == b"hello"


# --- the proxy: odd targets, methods, bodies ---------------------------------------------------------------
HOSTS = [
    "queue.fal.run", "fal.run", "rest.fal.ai", "v3.fal.media", "evil.example", "127.0.0.1",
    "queue.fal.run.evil.example", "[::1]", "QUEUE.FAL.RUN", "queue.fal.run:444", "",
]
PATHS = [
    MINIMAX, f"{MINIMAX}/", "fal-ai/minimax-video/requests/x/status", "_mock/reset", "../_mock/reset",
    "%2e%2e/_mock/reset", "proxy/x",
]
targets = st.one_of(
    header_text,
    st.builds(
        lambda scheme, user, host, path, query: f"{scheme}://{user}{host}/{path}{query}",
        st.sampled_from(["https", "http", "ftp", "file", "HTTPS", ""]),
        st.sampled_from(["", "fal.run@", "u:p@", "@"]),
        st.sampled_from(HOSTS),
        st.one_of(st.sampled_from(PATHS), header_text),
        st.sampled_from(["", "?fal_webhook=http://127.0.0.1/x", "?logs=1", "#frag"]),
    ),
)
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
proxy_bodies = st.one_of(st.just(b""), st.just(b'{"prompt": "p"}'), st.binary(max_size=100))
proxy_types = st.sampled_from(["application/json", "text/plain", "", "application/json; charset=utf-8"])


@FUZZ
@given(target=targets, method=methods, body=proxy_bodies, content_type=proxy_types)
async def test_proxy_targets(setup: tuple[Starlette, httpx.AsyncClient], target: str, method: str, body: bytes,
                             content_type: str) -> None:  # fmt: skip
    app, http = setup
    before = len(app.state.mock.store.journal())
    headers = {**AUTH, "x-fal-target-url": target, "content-type": content_type}
    response = await http.request(method, "/proxy/", content=body, headers=raw(headers))
    no_server_error(response, {200, 202, 400, 401, 404, 405, 412, 413, 415, 422})
    for entry in app.state.mock.store.journal()[before:]:
        if entry.get("proxied"):  # whatever was dispatched went to a fal host, inside this app
            assert entry["host"].split(":")[0].lower() in ("queue.fal.run", "fal.run", "rest.fal.ai", "v3.fal.media")
    assert not any(job.namespace == "_mock" for job in app.state.mock.store.jobs())


# --- the control API: odd JSON bodies and namespaces -------------------------------------------------------
CONTROL_KEYS = [
    "kind", "on", "times", "status", "error_type", "detail", "seconds", "endpoint", "msg", "loc", "ctx", "headers",
    "retryable", "with_request_id", "x",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(CONTROL_KEYS), children, max_size=5),
    max_leaves=12,
)
CONTROL_ROUTES = [
    "/_mock/faults", "/_mock/jobs/{rid}/fail", "/_mock/clock/advance", "/_mock/jobs/{rid}/advance", "/_mock/reset",
    "/_mock/jobs/complete-all", "/_mock/webhooks/deliver-due",
]


@FUZZ
@given(
    route=st.sampled_from(CONTROL_ROUTES),
    payload=st.one_of(json_values.map(as_json), st.binary(max_size=64)),
    space=st.one_of(st.none(), header_text),
)
async def test_control_bodies(setup: tuple[Starlette, httpx.AsyncClient], route: str, payload: bytes,
                              space: str | None) -> None:  # fmt: skip
    _, http = setup
    submitted = await http.post(f"/queue/{MINIMAX}", json={"prompt": "p", "image_url": data_uri(png_bytes())},
                                headers={**AUTH, "X-Fal-Mock-Progression": "manual"})  # fmt: skip
    headers: dict[str, Any] = {"Content-Type": "application/json"}
    if space is not None:
        headers["X-Fal-Mock-Namespace"] = space
    response = await http.post(route.format(rid=submitted.json()["request_id"]), content=payload, headers=raw(headers))
    no_server_error(response, {200, 202, 400, 404, 409, 413, 415, 422})
    await http.delete("/_mock/faults")
    await job_still_runs(http)


# --- the queue's platform headers ----------------------------------------------------------------------------
PLATFORM_HEADERS = [
    "authorization", "x-fal-queue-priority", "x-fal-request-timeout", "x-fal-runner-hint", "x-fal-no-retry",
    "x-fal-mock-progression", "x-fal-mock-namespace", "x-fal-mock-webhook-unserializable", "content-type",
    "x-fal-store-io",
]


@FUZZ
@given(
    headers=st.dictionaries(st.sampled_from(PLATFORM_HEADERS), header_text, max_size=4),
    query=st.dictionaries(st.sampled_from(["fal_webhook", "fal_max_queue_length", "logs"]), header_text, max_size=2),
)
async def test_submit_headers(setup: tuple[Starlette, httpx.AsyncClient], headers: dict[str, str],
                              query: dict[str, str]) -> None:  # fmt: skip
    _, http = setup
    merged = {**AUTH, "Content-Type": "application/json", **headers}
    response = await http.post(f"/queue/{MINIMAX}", params=query, headers=raw(merged),
                               content=b'{"prompt": "p", "image_url": "https://v3.fal.media/files/x.png"}')  # fmt: skip
    no_server_error(response, {200, 400, 401, 404, 422, 429})
    if response.status_code == 200:
        logs = {"logs": query.get("logs", "1")}
        status = await http.get(response.json()["status_url"], headers=raw(merged), params=logs)
        no_server_error(status, {200, 202, 400, 401, 404})


# --- regressions the fuzzing found ---------------------------------------------------------------------------
@pytest.mark.parametrize("number", [b"1e999", b"-1e999", b"NaN", b"Infinity"])
async def test_non_finite_numbers_are_json_errors_not_500s(make_app: Callable[..., Starlette], number: bytes) -> None:
    """``inf`` in a body used to reach a 422's ``input`` and fail to render (500)."""
    body = b'{"prompt": "p", "image_url": ' + number + b"}"
    json_headers = {**AUTH, "Content-Type": "application/json"}
    lax, strict = make_app(), make_app(strict_submit=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=lax), base_url=BASE, headers=json_headers) as http:
        submitted = await http.post(f"/queue/{MINIMAX}", content=body)
        assert submitted.status_code == 200  # accepted as fal does; the runner finds it is not JSON
        result = await http.get(submitted.json()["response_url"])
        run = await http.post(f"/run/{MINIMAX}", content=body)
        initiate = await http.post("/rest/storage/upload/initiate?storage_type=gcs", content=b'{"x": ' + number + b"}")
    strict_transport = httpx.ASGITransport(app=strict)
    async with httpx.AsyncClient(transport=strict_transport, base_url=BASE, headers=json_headers) as http:
        refused = await http.post(f"/queue/{MINIMAX}", content=body)
    for response in (result, run, initiate, refused):
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["type"] == "json_invalid"


async def test_strict_submit_refuses_a_body_that_is_not_json(make_app: Callable[..., Starlette]) -> None:
    app = make_app(strict_submit=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers=AUTH) as http:
        response = await http.post(f"/queue/{MINIMAX}", content=b"\x00", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert app.state.mock.store.jobs() == []
