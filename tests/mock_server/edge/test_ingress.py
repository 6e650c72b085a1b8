"""Ingress property: whatever JSON and headers a client sends, the server never answers 500 — neither
to the request itself nor on any later read of what it stored, on memory and on SQLite, and across a
restart (a new app on the same data directory).

Bodies mix valid inputs with what used to break the mock: lone surrogates (escaped, and as raw
UTF-8-encoded surrogate bytes), ``NaN``/``Infinity``/``1e400`` anywhere, nesting up to a few
thousand levels; headers carry the same in ``X-Fal-Object-Lifecycle-Preference``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fal_mock.mock_server.strict_json import MAX_JSON_DEPTH
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from tests.support import AUTH, both_stores, data_uri, png_bytes

__all__ = ["both_stores"]

BASE = "http://127.0.0.1:8000"
MINIMAX = "fal-ai/minimax-video/image-to-video"
APP = "fal-ai/minimax-video"
IMAGE = data_uri(png_bytes((16, 16)))
PROPERTY = settings(max_examples=15, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip

#: Any code point, surrogates included (hypothesis leaves them out of text by default).
any_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
odd_text = st.one_of(st.text(max_size=12), st.text(any_char, max_size=6), st.sampled_from(["\ud800", "a\udfffb"]))
#: Numbers as literal JSON text (json.dumps would write NaN/Infinity for the floats).
number_text = st.one_of(
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda value: json.dumps(value)),
    st.sampled_from(["1e400", "-1e400", "NaN", "Infinity", "-Infinity", "1" * 5000]),
)


def _encode(text: str) -> str:
    """A JSON string literal, lone surrogates written as ``\\uXXXX`` escapes (as a client would)."""
    return json.dumps(text)


json_text: st.SearchStrategy[str] = st.recursive(
    st.one_of(st.just("null"), st.just("true"), number_text, odd_text.map(_encode)),
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda items: "[" + ",".join(items) + "]"),
        st.lists(st.tuples(odd_text, children), max_size=3).map(
            lambda pairs: "{" + ",".join(f"{_encode(key)}:{value}" for key, value in pairs) + "}"
        ),
    ),
    max_leaves=8,
)
nested = st.integers(1, 3000).map(lambda depth: "[" * depth + "1" + "]" * depth)
extra_value = st.one_of(json_text, nested)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """A submit body: a valid input plus an arbitrary extra field (kept in the stored arguments)."""
    extra = draw(extra_value)
    prompt = draw(odd_text)
    text = f'{{"prompt":{_encode(prompt)},"image_url":"{IMAGE}","extra":{extra}}}'
    if draw(st.booleans()):  # raw UTF-8 bytes instead of escapes (surrogates as their 3-byte encoding)
        return (
            json.dumps(json.loads(text, parse_constant=str), ensure_ascii=False).encode("utf-8", "surrogatepass")
            if _parsable(text)
            else text.encode("utf-8", "surrogatepass")
        )
    return text.encode("utf-8", "surrogatepass")


def _parsable(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


lifecycle_headers = st.one_of(
    st.none(),
    number_text.map(lambda number: f'{{"expiration_duration_seconds": {number}}}'),
    json_text,
)


def header(value: str) -> bytes:
    """Header values as a client can send them: latin-1 octets without CR/LF (others are escaped)."""
    return value.encode("ascii", "backslashreplace").replace(b"\r", b" ").replace(b"\n", b" ")


READ_ROUTES = [
    "/_mock/jobs",
    "/_mock/jobs?full=1",
    "/_mock/",
    "/_mock/requests",
    "/_mock/files",
    "/_mock/webhooks",
    "/_mock/faults",
]


async def read_everything(http: httpx.AsyncClient, request_ids: list[str]) -> None:
    for path in READ_ROUTES:
        response = await http.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    for request_id in request_ids:
        for path in (f"/queue/{APP}/requests/{request_id}", f"/queue/{APP}/requests/{request_id}/status",
                     f"/_mock/jobs/{request_id}", f"/_mock/jobs/{request_id}/input"):  # fmt: skip
            response = await http.get(path, headers=AUTH)
            assert response.status_code < 500, (path, response.status_code, response.text[:300])
            assert response.status_code in (200, 202, 400, 404, 422), (path, response.status_code, response.text[:300])


async def drive(http: httpx.AsyncClient, body: bytes, lifecycle: str | None, route: str) -> list[str]:
    """Send one generated request; the request ids it stored."""
    # queued jobs stay queued (a render per example would dominate the run); sync runs render and complete
    headers: dict[str, Any] = {**AUTH, "Content-Type": "application/json", "X-Fal-Mock-Progression": "manual"}
    if lifecycle is not None:
        headers["X-Fal-Object-Lifecycle-Preference"] = header(lifecycle)
    if route == "upload":
        token = (await http.post("/rest/storage/auth/token?storage_type=fal-cdn-v3", json={}, headers=AUTH)).json()
        headers = {**headers, "Authorization": f"Bearer {token['token']}"}
        response = await http.post("/cdn/files/upload", content=body, headers=headers)
        assert response.status_code in (200, 400), (response.status_code, response.text[:300])
        if response.status_code == 200:
            served = await http.get(response.json()["access_url"])
            assert served.status_code in (200, 404), served.text  # 404: a lifecycle of (almost) 0 s expired it
            assert served.status_code == 404 or served.content == body
        return []
    if route == "initiate":
        response = await http.post("/rest/storage/upload/initiate?storage_type=fal-cdn-v3", content=body,
                                   headers=headers)  # fmt: skip
        assert response.status_code in (200, 400, 422), (response.status_code, response.text[:300])
        return []
    if route == "proxy":
        headers["x-fal-target-url"] = f"https://queue.fal.run/{MINIMAX}"
        response = await http.post("/proxy", content=body, headers=headers)
    else:
        response = await http.post(f"/{route}/{MINIMAX}", content=body, headers=headers)
    assert response.status_code in (200, 400, 422), (response.status_code, response.text[:300])
    request_id = response.headers.get("x-fal-request-id") or (
        response.json().get("request_id") if response.status_code == 200 else None
    )
    return [request_id] if request_id else []


class Served:
    """One app at a time on a data directory (or in memory); ``restart`` closes it and opens a new one."""

    def __init__(self, make_app: Callable[..., Starlette], overrides: dict[str, Any]) -> None:
        self.make_app, self.overrides = make_app, overrides
        self.app = make_app(**overrides)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE)

    def restart(self) -> None:
        self.app.state.mock.close()
        self.app = self.make_app(**self.overrides)


@pytest.fixture
def served(make_app: Callable[..., Starlette], store_kind: str, tmp_path: Any) -> Served:
    return Served(make_app, {"data_dir": str(tmp_path / "data")} if store_kind == "sqlite" else {})


@pytest.mark.parametrize("route", ["queue", "run", "proxy", "upload", "initiate"])
@PROPERTY
@given(body=bodies(), lifecycle=lifecycle_headers)
async def test_no_input_makes_a_route_fail(served: Served, route: str, body: bytes, lifecycle: str | None) -> None:
    async with served.client() as http:
        ids = await drive(http, body, lifecycle, route)
        await read_everything(http, ids)
    if served.overrides:  # a restart: a new app on the same data directory serves all of it
        served.restart()
        async with served.client() as http:
            await read_everything(http, ids)


async def test_the_refusals_are_fal_shaped(make_app: Callable[..., Starlette]) -> None:
    app = make_app()
    deep = ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)).encode()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        headers = {**AUTH, "Content-Type": "application/json"}
        for body in (deep, b'{"prompt":"\\ud800"}', b'{"prompt":"\xed\xa0\x80"}', b'{"seed":NaN}', b'{"x":1e400}'):
            response = await http.post(f"/run/{MINIMAX}", content=body, headers=headers)
            assert response.status_code == 422, response.text
            assert response.json()["detail"][0]["type"] == "json_invalid"
            response = await http.post("/_mock/faults", content=body, headers=headers)
            assert response.status_code == 400, response.text
        fine = ("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH).encode()
        response = await http.post(f"/run/{MINIMAX}", content=fine, headers=headers)
        assert response.json()["detail"][0]["type"] == "dict_type"  # parsed: only the schema refuses it
        token = (await http.post("/rest/storage/auth/token?storage_type=fal-cdn-v3", json={}, headers=AUTH)).json()
        for preference in ('{"expiration_duration_seconds": Infinity}', '{"expiration_duration_seconds": 1e400}',
                           '{"expiration_duration_seconds": NaN}'):  # fmt: skip
            response = await http.post(
                "/cdn/files/upload",
                content=b"x",
                headers={"Authorization": f"Bearer {token['token']}", "X-Fal-Object-Lifecycle-Preference": preference},
            )
            assert response.status_code == 400, response.text
            assert "X-Fal-Object-Lifecycle-Preference" in response.json()["detail"]
        assert (await http.get("/_mock/files")).status_code == 200
