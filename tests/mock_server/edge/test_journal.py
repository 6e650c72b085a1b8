"""The request journal is bounded in bytes: long paths, queries and header values are cut."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
from fal_mock.mock_server.edge.journal import MAX_JOURNAL_TEXT
from starlette.applications import Starlette

from tests.support import AUTH


async def test_an_entry_stays_small_whatever_the_request(make_app: Callable[..., Starlette]) -> None:
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
        long_path = "/queue/fal-ai/minimax-video/requests/" + "x" * 12_000 + "/status"
        headers = {**AUTH, "User-Agent": "u" * 30_000, "Content-Type": "c" * 20_000}
        await http.get(long_path + "?q=" + "v" * 12_000, headers=headers)
        entries = (await http.get("/_mock/requests")).json()["requests"]
    entry = entries[0]
    assert len(json.dumps(entry)) < 6 * MAX_JOURNAL_TEXT
    assert entry["path"].startswith(long_path[:MAX_JOURNAL_TEXT])
    assert entry["path"].endswith(f"…[+{len(long_path) - MAX_JOURNAL_TEXT}]")
    assert entry["headers"]["user-agent"] == "u" * MAX_JOURNAL_TEXT + f"…[+{30_000 - MAX_JOURNAL_TEXT}]"
