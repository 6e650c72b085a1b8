"""Strict JSON at the door (refusals) and safe JSON on the way out (data stored before the refusals existed)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import httpx
import pytest
from fal_mock.mock_server.jobs.model import Job, Origin
from fal_mock.mock_server.strict_json import MAX_JSON_DEPTH, JsonRefused, loads_strict, nesting_depth, renderable
from starlette.applications import Starlette

from tests.support import AUTH, both_stores

__all__ = ["both_stores"]


@pytest.mark.parametrize(
    "raw",
    [b'"\\ud800"', b'{"\\udfff": 1}', b'["a\\ud83d"]', b'"\xed\xa0\x80"', b"\xff", b"[NaN]", b'{"a": -Infinity}',
     b"1e400", b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), b"[" * 100_000, b"1" * 5000,
     b"\xef\xbb\xbf{}", b"[1.5, 2.5e3, NaN]", b'{"a": }'],
)  # fmt: skip
def test_refused(raw: bytes) -> None:
    with pytest.raises(JsonRefused):
        loads_strict(raw)


def test_accepted() -> None:
    assert loads_strict('"\\ud83d\\ude00"') == "😀"  # a valid pair is one character
    assert loads_strict(b'{"s": "[[[[{{{{", "n": 1.5}') == {"s": "[[[[{{{{", "n": 1.5}  # brackets in strings
    many = "[{" * MAX_JSON_DEPTH  # more brackets than the depth limit, all inside a string: not nesting
    assert loads_strict(f'{{"s": "{many}"}}') == {"s": many}
    deepest = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert nesting_depth(deepest) == MAX_JSON_DEPTH
    assert loads_strict(deepest) is not None


def test_renderable_copies_encode_as_utf8_json() -> None:
    value = {"a\ud800": ["x\udfff", math.inf, -math.nan, 1, True, None], "deep": [[[1]]]}
    text = json.dumps(renderable(value), allow_nan=False).encode("utf-8")
    assert json.loads(text) == {"a\ufffd": ["x\ufffd", None, None, 1, True, None], "deep": [[[1]]]}


async def test_views_render_data_stored_before_the_checks(make_app: Callable[..., Starlette]) -> None:
    """A job whose stored arguments hold a lone surrogate and a NaN (an older data directory) still renders."""
    app = make_app()
    job = Job(request_id="019b76da-a800-7bbf-a670-000000000001", endpoint_id="fal-ai/minimax-video/image-to-video",
              app_id="fal-ai/minimax-video", namespace="", seq=1, submitted_at=1.0,
              arguments={"prompt": "old \ud800 data", "n": math.nan}, progression="manual",
              origin=Origin("https://v3.fal.media"))  # fmt: skip
    app.state.mock.store.add_job(job)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
        for path in ("/_mock/jobs?full=1", f"/_mock/jobs/{job.request_id}", "/_mock/"):
            response = await http.get(path, headers=AUTH)
            assert response.status_code == 200, (path, response.text[:200])
        view = (await http.get(f"/_mock/jobs/{job.request_id}")).json()
    assert view["arguments"] == {"prompt": "old \ufffd data", "n": None}
