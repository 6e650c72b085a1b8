"""fal_mock.respx: a fresh mock of fal answering fal's hosts from a respx router, with respx's other routes intact."""

from __future__ import annotations

import fal_client
import httpx
import pytest
import respx
from fal_mock.fixtures import UnservedFalHost
from fal_mock.respx import ROUTE_NAME, mock_fal

SUBMIT = "https://queue.fal.run/fal-ai/minimax-video/image-to-video"
ARGS = {"prompt": "a cat walks", "image_url": "https://v3.fal.media/files/penguin/example.png"}
AUTH = {"Authorization": "Key fal-mock-key:fal-mock-secret"}


@pytest.mark.parametrize("using", ["httpx", "httpcore"])
def test_sync_requests_reach_the_mock_and_other_routes_still_answer(using: str) -> None:
    with respx.mock(using=using) as router, mock_fal(router, {"seed": 7}) as fal:
        router.get("https://api.example.com/me").respond(json={"id": 1})
        with httpx.Client() as client:
            submitted = client.post(SUBMIT, json=ARGS, headers=AUTH).json()
            status = client.get(submitted["status_url"], headers=AUTH).json()
            result = client.get(submitted["response_url"], headers=AUTH).json()
            assert client.get("https://api.example.com/me").json() == {"id": 1}
            video = client.get(result["video"]["url"])
        assert status["status"] == "COMPLETED"
        assert video.headers["content-type"] == "video/mp4"
        assert video.content[4:8] == b"ftyp"
        assert [job.request_id for job in fal.jobs] == [submitted["request_id"]]
        assert fal.settings.seed == 7
        assert router.routes[ROUTE_NAME].call_count == 4
        with pytest.raises(respx.models.AllMockedAssertionError):
            httpx.get("https://unrouted.example.com/")


async def test_async_requests_reach_the_mock() -> None:
    async with respx.mock(using="httpx") as router:
        with mock_fal(router) as fal:
            async with httpx.AsyncClient() as client:
                submitted = (await client.post(SUBMIT, json=ARGS, headers=AUTH)).json()
                result = await client.get(submitted["response_url"], headers=AUTH)
    assert result.status_code == 200
    assert fal.jobs[0].collected


def test_the_official_client_and_faults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAL_KEY", "fal-mock-key:fal-mock-secret")
    with respx.mock(using="httpx") as router, mock_fal(router) as fal:
        fal.fail_next("internal_server_error", on="submit")
        with pytest.raises(fal_client.client.FalClientHTTPError):
            fal_client.SyncClient().submit("fal-ai/minimax-video/image-to-video", ARGS)
        out = fal_client.SyncClient().subscribe("fal-ai/minimax-video/image-to-video", ARGS)
    assert out["video"]["url"].startswith("https://v3.fal.media/files/")
    assert [job.state for job in fal.jobs] == ["COMPLETED"]


def test_fal_hosts_the_mock_does_not_serve_fail_loudly() -> None:
    with respx.mock(using="httpx") as router, mock_fal(router), pytest.raises(UnservedFalHost, match=r"api\.fal\.ai"):
        httpx.get("https://api.fal.ai/v1/models")
