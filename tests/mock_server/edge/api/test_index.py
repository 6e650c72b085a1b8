"""``GET /`` and ``GET /_mock``: a small index (HTML for browsers, JSON on request) instead of a 404."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from starlette.applications import Starlette

SERVER = "http://127.0.0.1:8000"


def http(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SERVER)


@pytest.mark.parametrize("path", ["/", "/_mock"])
async def test_the_index_as_json_links_everything_a_newcomer_needs(
    make_app: Callable[..., Starlette], path: str
) -> None:
    async with http(make_app(progression="polls:2")) as client:
        answer = await client.get(path, headers={"Accept": "application/json"})
        assert answer.status_code == 200
        data = answer.json()
        assert data["links"]["dashboard"] == f"{SERVER}/_mock/"
        assert data["links"]["health"] == f"{SERVER}/_mock/health"
        assert data["links"]["control_api"] == f"{SERVER}/_mock/openapi.json"
        assert "fal-ai/minimax-video/image-to-video" in data["endpoints"]
        assert data["progression"] == "polls:2"
        assert "fal-mock env" in data["python_client"]
        for name in ("dashboard", "health", "control_api", "endpoint_openapi", "settings"):  # every link answers
            assert (await client.get(data["links"][name])).status_code == 200, name


async def test_a_browser_gets_html_with_the_links(make_app: Callable[..., Starlette]) -> None:
    app = make_app()
    ids = app.state.mock.registry.ids()
    async with http(app) as client:
        answer = await client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert answer.headers["content-type"].startswith("text/html")
    assert f'<a href="{SERVER}/_mock/">dashboard</a>' in answer.text
    assert f"<h2>Served endpoints ({len(ids)})</h2>" in answer.text
    assert f"<li><code>{ids[0]}</code></li>" in answer.text


async def test_links_follow_a_root_path(make_app: Callable[..., Starlette]) -> None:
    transport = httpx.ASGITransport(app=make_app(), root_path="/mock")
    async with httpx.AsyncClient(transport=transport, base_url=SERVER) as client:
        data = (await client.get("/mock/_mock", params={"format": "json"})).json()
    assert data["links"]["dashboard"] == f"{SERVER}/mock/_mock/"


async def test_fal_hosts_and_other_paths_are_unchanged(make_app: Callable[..., Starlette]) -> None:
    async with http(make_app()) as client:
        assert (await client.get("https://queue.fal.run/")).status_code == 405  # fal's own answer
        assert (await client.get("/nothing-here")).status_code == 404
        assert (await client.post("/_mock", headers={"X-Fal-Mock-Control": "1"})).status_code == 404
        assert (await client.post("/_mock")).status_code == 403  # a state change without JSON or the header
