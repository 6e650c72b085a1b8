"""The ``/proxy`` endpoint keeps the README's promise: user info in the target is a 412 (issue 13)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from starlette.applications import Starlette

from tests.support import AUTH

BASE = "http://127.0.0.1:8000"
MINIMAX = "fal-ai/minimax-video/image-to-video"


@pytest.mark.parametrize(
    "target",
    [
        f"https://user:pw@queue.fal.run/{MINIMAX}",
        f"https://user@queue.fal.run/{MINIMAX}",
        f"https://:@queue.fal.run/{MINIMAX}",
        f"https://evil.com\\@queue.fal.run/{MINIMAX}",
        f"https://evil.com\\.@queue.fal.run/{MINIMAX}",
        f"https://queue.fal.run\\/{MINIMAX}",
    ],
)
async def test_user_info_in_the_target_is_412(make_app: Callable[..., Starlette], target: str) -> None:
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers=AUTH) as http:
        response = await http.post("/proxy", headers={"x-fal-target-url": target}, json={"prompt": "p"})
        jobs = (await http.get("/_mock/jobs")).json()["jobs"]
    assert response.status_code == 412, response.text
    assert "x-fal-target-url" in response.json()["detail"]
    assert jobs == []


async def test_a_plain_fal_target_still_dispatches(make_app: Callable[..., Starlette]) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), base_url=BASE, headers=AUTH) as http:
        target = f"https://queue.fal.run/{MINIMAX}"
        response = await http.post("/proxy", headers={"x-fal-target-url": target}, json={"prompt": "p"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "IN_QUEUE"
