"""A first end-to-end look at the queue in-process.

The full protocol suite is ``tests/mock_server/edge/api/test_queue_protocol.py``; the queue core on its own
(no HTTP) is ``test_queue.py`` here.
"""

from __future__ import annotations

import httpx

from tests.support import data_uri, png_bytes

MINIMAX = "fal-ai/minimax-video/image-to-video"


async def test_submit_then_result_immediate(client: httpx.AsyncClient) -> None:
    submitted = await client.post(
        f"https://queue.fal.run/{MINIMAX}", json={"prompt": "p", "image_url": data_uri(png_bytes())}
    )
    assert submitted.status_code == 200
    body = submitted.json()
    status = await client.get(body["status_url"])
    assert status.status_code == 200
    assert status.json()["status"] == "COMPLETED"
    result = await client.get(body["response_url"])
    assert result.status_code == 200
    assert result.headers["x-fal-request-id"] == body["request_id"]
    video = await client.get(result.json()["video"]["url"])
    assert video.headers["content-type"] == "video/mp4"
    assert len(video.content) == result.json()["video"]["file_size"]
