"""The unmodified official ``fal_client`` against the mock: in-process and over TLS in a subprocess.

These are the issue's acceptance flows: subscribe with logs and queue updates
(Queued → InProgress → Completed), submit + status + result, cancel, run, for both
endpoints; the downloaded video decodes; a missing prompt is a FalClientHTTPError 422
carrying fal's detail list.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fal_client
import httpx
import pytest
from fal_mock.fixtures import FalRouting
from fal_mock.mock_server.cli import env_lines
from fal_mock.mock_server.edge.hosts import FAL_HOSTS
from fal_mock.mock_server.standalone import BOOT_DIR, client_environment
from starlette.applications import Starlette

from tests.mock_server import official_flows as flows
from tests.support import ServeProcess
from tests.videocheck import decode_strict

KEY = "fal-mock-key:fal-mock-secret"


@pytest.fixture
def routed(make_app: Callable[..., Starlette]) -> Iterator[Starlette]:
    app = make_app(progression="polls:2")
    with FalRouting(app, FAL_HOSTS):
        yield app


def check_video(video: dict[str, Any], data: bytes) -> None:
    assert video["content_type"] == "video/mp4"
    assert video["file_size"] == len(data)
    decoded = decode_strict(data)
    assert decoded.frame_count == 48
    assert decoded.codec == "h264"


@pytest.mark.parametrize("endpoint", flows.ENDPOINTS)
def test_subscribe_sees_every_state_with_logs(routed: Starlette, endpoint: str) -> None:
    outcome = flows.subscribe_flow(fal_client.SyncClient(key=KEY), endpoint)
    kinds = [update["kind"] for update in outcome["updates"]]
    assert kinds[0] == "Queued"
    assert kinds[-1] == "Completed"
    assert "InProgress" in kinds
    assert next(u["logs"] for u in outcome["updates"] if u["kind"] == "InProgress") > 0
    assert len(outcome["enqueued"]) == 1
    check_video(outcome["video"], flows.download(outcome["video"]["url"]))


@pytest.mark.parametrize("endpoint", flows.ENDPOINTS)
def test_submit_status_result(routed: Starlette, endpoint: str) -> None:
    outcome = flows.submit_status_result_flow(fal_client.SyncClient(key=KEY), endpoint)
    assert outcome["statuses"] == ["Queued", "Queued", "InProgress", "InProgress", "Completed", "Completed"]
    check_video(outcome["video"], flows.download(outcome["video"]["url"]))


@pytest.mark.parametrize("endpoint", flows.ENDPOINTS)
def test_cancel(routed: Starlette, endpoint: str) -> None:
    outcome = flows.cancel_flow(fal_client.SyncClient(key=KEY), endpoint)
    assert outcome == {"status": "Completed", "error_type": "client_cancelled", "second_cancel": "400"}


@pytest.mark.parametrize("endpoint", flows.ENDPOINTS)
def test_run(routed: Starlette, endpoint: str) -> None:
    outcome = flows.run_flow(fal_client.SyncClient(key=KEY), endpoint)
    check_video(outcome["video"], flows.download(outcome["video"]["url"]))


def test_missing_prompt_is_a_422_with_the_detail_list(routed: Starlette) -> None:
    outcome = flows.missing_prompt_flow(fal_client.SyncClient(key=KEY))
    for how in ("run", "subscribe"):
        assert outcome[how]["status"] == 422
        message = outcome[how]["message"]
        assert isinstance(message, list)
        assert message[0]["loc"] == ["body", "prompt"]
        assert message[0]["type"] == "missing"


def test_lucy_default_sync_mode_returns_a_playable_data_uri(routed: Starlette) -> None:
    result = fal_client.SyncClient(key=KEY).run(flows.LUCY, {"prompt": "p", "image_url": flows.image_data_uri()})
    assert result["video"]["url"].startswith("data:video/mp4;base64,")
    check_video(result["video"], flows.download(result["video"]["url"]))


async def test_async_client_flows(routed: Starlette) -> None:
    client = fal_client.AsyncClient(key=KEY)
    updates: list[str] = []
    result = await client.subscribe(
        flows.MINIMAX,
        flows.arguments(flows.MINIMAX),
        with_logs=True,
        on_queue_update=lambda update: updates.append(type(update).__name__),
        interval=0,
    )
    assert updates[0] == "Queued"
    assert updates[-1] == "Completed"
    handle = await client.submit(flows.LUCY, flows.arguments(flows.LUCY))
    assert isinstance(await client.status(flows.LUCY, handle.request_id), fal_client.Queued)
    ran = await client.run(flows.MINIMAX, flows.arguments(flows.MINIMAX))
    async with httpx.AsyncClient() as http:
        video = (await http.get(ran["video"]["url"])).content
    check_video(ran["video"], video)
    assert result["video"]["file_size"] > 0


def test_sync_client_inside_a_running_loop(routed: Starlette) -> None:
    """A sync client called from a coroutine (a loop is running on this thread) is still served."""
    import asyncio

    async def inside() -> dict[str, Any]:
        return flows.run_flow(fal_client.SyncClient(key=KEY), flows.MINIMAX)

    outcome = asyncio.run(inside())
    assert outcome["video"]["content_type"] == "video/mp4"


def test_a_422_is_not_retried_by_the_official_client(make_app: Callable[..., Starlette]) -> None:
    """Surprise 21/23: the Python client retries 408/409/429 and ingress 5xx, never a model 422."""
    app = make_app()
    with FalRouting(app, FAL_HOSTS):
        with pytest.raises(fal_client.FalClientHTTPError) as refused:
            fal_client.SyncClient(key=KEY).run(flows.MINIMAX, {"prompt": 1})
        assert refused.value.status_code == 422
    attempts = [entry for entry in app.state.mock.store.journal() if entry["path"].startswith("/fal-ai")]
    assert [entry["status"] for entry in attempts] == [422]


@pytest.mark.slow
def test_official_client_over_tls_against_fal_mock_serve(tmp_path: Path) -> None:
    with ServeProcess(tmp_path, "--tls", "--progression", "polls:2") as server:
        environment = dict(os.environ)
        environment.pop("FAL_KEY", None)
        environment.update(client_environment(server.url, ssl_cert_file=str(server.info["ca_bundle"]),
                                              key="fal-mock-key:fal-mock-secret"))  # fmt: skip
        script = Path(flows.__file__)
        completed = subprocess.run(
            [sys.executable, str(script)], env=environment, capture_output=True, text=True, timeout=300, check=False
        )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    for endpoint in flows.ENDPOINTS:
        flow = report[endpoint]
        kinds = [update["kind"] for update in flow["subscribe"]["updates"]]
        assert kinds[0] == "Queued"
        assert kinds[-1] == "Completed"
        assert "InProgress" in kinds
        assert flow["subscribe"]["video"]["url"].startswith(server.url + "/cdn/files/")
        assert flow["subscribe"]["bytes"] == flow["subscribe"]["video"]["file_size"]
        assert flow["submit"]["statuses"] == ["Queued", "Queued", "InProgress", "InProgress", "Completed", "Completed"]
        assert flow["cancel"] == {"status": "Completed", "error_type": "client_cancelled", "second_cancel": "400"}
        assert flow["run"]["video"]["content_type"] == "video/mp4"
    assert report["missing_prompt"]["run"]["status"] == 422
    assert report["missing_prompt"]["subscribe"]["message"][0]["loc"] == ["body", "prompt"]
    # The downloaded video decodes (fetch it again through the CA the server made).
    url = report[flows.MINIMAX]["run"]["video"]["url"]
    assert url.startswith("https://127.0.0.1:")


def test_env_prints_what_the_official_client_needs() -> None:
    lines = env_lines("https://127.0.0.1:8443", "/tmp/ca.pem", "/tmp/bundle.pem")
    text = "\n".join(lines)
    assert "export FAL_RUN_HOST=127.0.0.1:8443/run" in text
    assert "export FAL_QUEUE_RUN_HOST=127.0.0.1:8443/queue" in text  # must be set: default is queue.<FAL_RUN_HOST>
    assert "export SSL_CERT_FILE=/tmp/bundle.pem" in text  # the usual roots plus the CA
    assert "export FAL_MOCK_URL=https://127.0.0.1:8443" in text  # storage URLs follow it (the start-up hook)
    assert f'export PYTHONPATH={BOOT_DIR}"${{PYTHONPATH:+:$PYTHONPATH}}"' in text
