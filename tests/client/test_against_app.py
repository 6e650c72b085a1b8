"""The async client against the in-process mock (httpx.ASGITransport; fal's host names route the calls)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

import httpx
import pytest
from fal_mock.client import (
    AsyncFalClient,
    Completed,
    FalHTTPError,
    FalValidationError,
    InProgress,
    Queued,
    VideoOutput,
)
from starlette.applications import Starlette

from tests.support import AUTH, data_uri, png_bytes

MINIMAX = "fal-ai/minimax-video/image-to-video"
LUCY = "fal-ai/decart/lucy-5b/image-to-video"
POLLS_1 = {"X-Fal-Mock-Progression": "polls:1"}


@pytest.fixture
async def fal(app: Starlette) -> AsyncIterator[AsyncFalClient]:
    key = AUTH["Authorization"].removeprefix("Key ")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        yield AsyncFalClient(key, http=http, validate=True, poll_interval=0)


async def test_subscribe_polling_and_streaming(fal: AsyncFalClient) -> None:
    modes: tuple[Literal["polling", "streaming"], ...] = ("polling", "streaming")
    for mode in modes:
        updates: list[object] = []
        arguments = {"prompt": "p", "image_url": data_uri(png_bytes())}
        output = await fal.subscribe(MINIMAX, arguments, mode=mode, with_logs=True, on_update=updates.append,
                                     headers=POLLS_1)  # fmt: skip
        assert isinstance(output, VideoOutput)
        assert output.video.url.startswith("https://v3.fal.media/files/")
        assert [type(u) for u in updates] == [Queued, InProgress, Completed]


async def test_lucy_returns_the_video_inline(fal: AsyncFalClient) -> None:
    output = await fal.run(LUCY, {"prompt": "p", "image_url": data_uri(png_bytes())})
    assert isinstance(output, VideoOutput)
    inline = output.video.inline_bytes()
    assert inline is not None
    assert inline[4:8] == b"ftyp"


async def test_errors_surface_in_the_family(fal: AsyncFalClient) -> None:
    with pytest.raises(FalValidationError) as invalid:
        await fal.run(MINIMAX, {"image_url": data_uri(png_bytes())})
    assert [e.field for e in invalid.value.field_errors] == ["prompt"]
    with pytest.raises(FalHTTPError) as unknown:
        await fal.status(fal.get_handle(MINIMAX, "019e1951-c778-7120-9c82-16efcf40ec82"))
    assert unknown.value.status_code == 404
