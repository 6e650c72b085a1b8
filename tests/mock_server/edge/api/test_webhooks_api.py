"""Webhooks through the app: ``?fal_webhook=`` on submit, the JWKS on the REST hosts, the control API.

In-process: requests go through ``httpx.ASGITransport`` and deliveries into a
:class:`Recorder` routed with ``mock.webhooks.route`` (no sockets); the contract
self-check is on, so a body that broke its contract would come back as a 500.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fal_mock.mock_server.clock import ManualClock
from fal_mock.mock_server.jobs.errors import ModelError, entry
from fal_mock.mock_server.jobs.model import JobState
from fal_mock.mock_server.jobs.runner import failure_outcome
from fal_mock.mock_server.webhooks.dispatcher import WebhookDispatcher
from fal_mock.mock_server.webhooks.policy import PAYLOAD_ERROR_TEXT
from starlette.applications import Starlette

from tests.mock_server.edge.api._receiver import Recorder
from tests.support import AUTH, data_uri, png_bytes

MINIMAX = "fal-ai/minimax-video/image-to-video"
LUCY = "fal-ai/decart/lucy-5b/image-to-video"
QUEUE = "https://queue.fal.run"
LOCAL = "http://127.0.0.1:8000"
CONTROL = f"{LOCAL}/_mock/webhooks"
HOOK = "http://hooks.test/fal"
GOOD = {"prompt": "a paper boat on a pond", "image_url": data_uri(png_bytes())}


def http(app: Starlette, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers={**AUTH, **headers})


def webhooks(app: Starlette) -> WebhookDispatcher:
    dispatcher: WebhookDispatcher = app.state.mock.webhooks
    return dispatcher


def receiver(app: Starlette, *statuses: int) -> Recorder:
    recorder = Recorder(*statuses)
    webhooks(app).route("hooks.test", recorder.app)
    return recorder


async def submit(client: httpx.AsyncClient, body: Any = None, *, url: str = QUEUE, endpoint: str = MINIMAX,
                 hook: str = HOOK, **kw: Any) -> dict[str, Any]:  # fmt: skip
    response = await client.post(f"{url}/{endpoint}", params={"fal_webhook": hook}, json=GOOD if body is None else body,
                                 **kw)  # fmt: skip
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def signature_ok(jwks: dict[str, Any], headers: dict[str, str], body: bytes) -> bool:
    x = jwks["keys"][0]["x"]
    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
    message = "\n".join([headers["x-fal-webhook-request-id"], headers["x-fal-webhook-user-id"],
                         headers["x-fal-webhook-timestamp"], hashlib.sha256(body).hexdigest()])  # fmt: skip
    try:
        key.verify(bytes.fromhex(headers["x-fal-webhook-signature"]), message.encode())
    except Exception:
        return False
    return True


# --- deliveries -------------------------------------------------------------------------------
async def test_completed_job_posts_its_result_signed(app: Starlette, clock: ManualClock) -> None:
    hook = receiver(app)
    async with http(app) as client:
        submitted = await submit(client)
        rid = submitted["request_id"]
        delivery = await webhooks(app).wait_for_async(rid)
        result = (await client.get(submitted["response_url"])).json()
        jwks = await client.get("https://rest.fal.ai/.well-known/jwks.json")
    assert delivery.state == "delivered"
    [(_path, headers, body)] = hook.requests
    assert json.loads(body) == {"request_id": rid, "gateway_request_id": rid, "status": "OK", "payload": result}
    assert headers["x-fal-webhook-request-id"] == rid
    assert headers["x-fal-webhook-user-id"] == "fal-mock-user"
    assert headers["x-fal-webhook-timestamp"] == str(int(clock.now()))
    assert signature_ok(jwks.json(), headers, body)


async def test_jwks_is_served_on_both_rest_hosts_and_the_rest_prefix(client: httpx.AsyncClient) -> None:
    answers = [
        await client.get("https://rest.fal.ai/.well-known/jwks.json"),
        await client.get("https://rest.alpha.fal.ai/.well-known/jwks.json"),
        await client.get(f"{LOCAL}/rest/.well-known/jwks.json", headers={"authorization": ""}),
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert answers[0].json()["keys"][0]["kty"] == "OKP"
    assert "max-age" in answers[0].headers["cache-control"]


async def test_the_key_follows_the_seed(make_app: Callable[..., Starlette]) -> None:
    keys = []
    for seed in (0, 0, 1):
        async with http(make_app(seed=seed)) as client:
            keys.append((await client.get("https://rest.fal.ai/.well-known/jwks.json")).json())
    assert keys[0] == keys[1] != keys[2]


async def test_payload_urls_follow_the_submit_origin(app: Starlette) -> None:
    receiver(app)
    async with http(app) as client:
        submitted = await submit(client, url=f"{LOCAL}/queue", body={**GOOD, "sync_mode": False}, endpoint=LUCY)
        delivery = await webhooks(app).wait_for_async(submitted["request_id"])
        url = delivery.json()["payload"]["video"]["url"]
        assert url.startswith(f"{LOCAL}/cdn/files/")
        video = await client.get(url)
    assert video.headers["content-type"] == "video/mp4"


async def test_a_422_job_posts_an_error_delivery(app: Starlette) -> None:
    receiver(app)
    async with http(app) as client:
        submitted = await submit(client, {"prompt": "no image"})
        delivery = await webhooks(app).wait_for_async(submitted["request_id"])
        result = await client.get(submitted["response_url"])
    assert result.status_code == 422
    body = delivery.json()
    assert body["status"] == "ERROR"
    assert body["error"] == "Invalid status code: 422"
    assert body["payload"] == result.json()
    assert body["payload"]["detail"][0]["loc"] == ["body", "image_url"]


async def test_an_injected_model_error_posts_an_error_delivery(make_app: Callable[..., Starlette]) -> None:
    app = make_app(progression="manual")
    receiver(app)
    error = ModelError([entry(["body"], "The model ran out of memory", "internal_server_error")], status_code=500)
    async with http(app) as client:
        submitted = await submit(client)
        rid = submitted["request_id"]
        assert webhooks(app).deliveries() == []  # not completed: nothing sent
        app.state.mock.queue.push(rid, JobState.COMPLETED, outcome=failure_outcome(error))
        delivery = await webhooks(app).wait_for_async(rid)
        result = await client.get(submitted["response_url"])
    assert result.status_code == 500
    assert delivery.json() == {"request_id": rid, "gateway_request_id": rid, "status": "ERROR",
                               "error": "Invalid status code: 500", "payload": result.json()}  # fmt: skip


async def test_unserializable_payload_on_request(app: Starlette) -> None:
    receiver(app)
    async with http(app) as client:
        submitted = await submit(client, headers={"X-Fal-Mock-Webhook-Unserializable": "true"})
        delivery = await webhooks(app).wait_for_async(submitted["request_id"])
        result = await client.get(submitted["response_url"])
    assert result.status_code == 200  # the queue still has the result
    assert delivery.json()["payload"] is None
    assert delivery.json()["payload_error"] == PAYLOAD_ERROR_TEXT


async def test_non_loopback_targets_are_refused_and_journaled(client: httpx.AsyncClient, app: Starlette) -> None:
    submitted = await submit(client, hook="https://hooks.example.com/fal?token=abc")
    await webhooks(app).wait_for_async(submitted["request_id"])
    journal = (await client.get(CONTROL)).json()
    [delivery] = journal["deliveries"]
    assert delivery["request_id"] == submitted["request_id"]
    assert delivery["state"] == "failed"
    assert delivery["attempts"] == []
    assert "webhook_allow_hosts" in delivery["error"]
    assert delivery["url"] == "https://hooks.example.com/fal?token=***"


# --- control API ------------------------------------------------------------------------------
async def test_control_api_shows_retries_on_the_clock(make_app: Callable[..., Starlette], clock: ManualClock) -> None:
    app = make_app(webhook_retry_base_seconds=60)
    hook = receiver(app, 500, 200)
    async with http(app) as client:
        rid = (await submit(client))["request_id"]
        await webhooks(app).wait_for_async(rid)
        [pending] = (await client.get(CONTROL, params={"state": "pending"})).json()["deliveries"]
        assert pending["next_attempt_at"] == clock.now() + 60
        assert (await client.post(f"{CONTROL}/deliver-due")).json()["deliveries"] == []
        clock.advance(60)
        started = (await client.post(f"{CONTROL}/deliver-due")).json()["deliveries"]
        assert [d["id"] for d in started] == [pending["id"]]
        idle = (await client.get(f"{CONTROL}/idle", params={"timeout": 10})).json()
        assert idle["idle"] is True
        [done] = idle["deliveries"]
    assert done["state"] == "delivered"
    assert [(a["at"], a["status_code"]) for a in done["attempts"]] == [(clock.now() - 60, 500), (clock.now(), 200)]
    assert done["attempts"][1]["headers"]["X-Fal-Webhook-Timestamp"] == str(int(clock.now()))
    assert len(hook.requests) == 2


async def test_control_api_operations(app: Starlette) -> None:
    hook = receiver(app, 500)
    async with http(app) as client:
        rid = (await submit(client))["request_id"]
        await webhooks(app).wait_for_async(rid)
        [first] = (await client.get(CONTROL)).json()["deliveries"]
        assert "body" not in first
        one = (await client.get(f"{CONTROL}/{first['id']}")).json()
        assert one["body"]["request_id"] == rid
        assert (await client.get(CONTROL, params={"include_body": 1})).json()["deliveries"][0]["body"] == one["body"]

        delayed = await client.post(f"{CONTROL}/{first['id']}/delay", json={"seconds": 100})
        assert delayed.json()["next_attempt_at"] == first["next_attempt_at"] + 100

        triggered = await client.post(f"{CONTROL}/{first['id']}/trigger")
        assert triggered.status_code == 200
        await webhooks(app).wait_for_async(rid, attempts=2)

        resent = (await client.post(f"{CONTROL}/{first['id']}/resend")).json()
        assert resent["resend_of"] == first["id"]
        assert resent["id"] != first["id"]
        await webhooks(app).wait_idle_async()
        assert hook.requests[0][2] == hook.requests[2][2]  # the same body bytes

        dropped = (await client.post(f"{CONTROL}/{first['id']}/drop")).json()
        assert dropped["state"] == "dropped"
        assert (await client.post(f"{CONTROL}/{first['id']}/trigger")).status_code == 409

        paused = (await client.post(f"{CONTROL}/pause")).json()
        assert paused["paused"] is True
        held = await webhooks(app).wait_for_async((await submit(client))["request_id"], attempts=0)
        assert held.state == "pending"
        assert (await client.get(f"{CONTROL}/{held.id}")).json()["body"] is None  # built at the first attempt
        resumed = (await client.post(f"{CONTROL}/resume")).json()
        assert resumed["paused"] is False
        assert [d["id"] for d in resumed["deliveries"]] == [held.id]
        await webhooks(app).wait_for_async(held.request_id)

        cleared = (await client.delete(CONTROL)).json()
        assert cleared["cleared"] == 3
        assert (await client.get(CONTROL)).json()["deliveries"] == []


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/whd_unknown", None, 404),
        ("POST", "/whd_unknown/trigger", None, 404),
        ("GET", "?state=bogus", None, 400),
        ("GET", "/idle?timeout=soon", None, 400),
        ("POST", "/{id}/delay", {"seconds": -1}, 422),
        ("POST", "/{id}/delay", {"seconds": "10"}, 422),
        ("POST", "/{id}/delay", {"seconds": 1, "minutes": 2}, 422),
        ("POST", "/{id}/delay", "not json", 400),
        ("POST", "/{id}/delay", None, 422),
    ],
)
async def test_control_api_errors_are_fal_shaped(
    app: Starlette, method: str, path: str, body: Any, status: int
) -> None:
    receiver(app, 500)
    async with http(app) as client:
        rid = (await submit(client))["request_id"]
        delivery = await webhooks(app).wait_for_async(rid)
        content = body if isinstance(body, str) else (json.dumps(body) if body is not None else None)
        response = await client.request(method, CONTROL + path.replace("{id}", delivery.id), content=content)
    assert response.status_code == status
    assert isinstance(response.json()["detail"], str)


async def test_control_api_is_scoped_by_namespace(app: Starlette) -> None:
    receiver(app)
    async with http(app, **{"X-Fal-Mock-Namespace": "team-a"}) as team_a, http(app) as anyone:
        rid = (await submit(team_a))["request_id"]
        delivery = await webhooks(app).wait_for_async(rid)
        mine = (await team_a.get(CONTROL)).json()["deliveries"]
        theirs = await anyone.get(CONTROL, headers={"X-Fal-Mock-Namespace": "team-b"})
        everything = (await anyone.get(CONTROL)).json()["deliveries"]
        hidden = await anyone.get(f"{CONTROL}/{delivery.id}", headers={"X-Fal-Mock-Namespace": "team-b"})
    assert [d["namespace"] for d in mine] == ["team-a"]
    assert theirs.json()["deliveries"] == []
    assert [d["id"] for d in everything] == [delivery.id]
    assert hidden.status_code == 404


# --- the server's own control API is no webhook target (issue 13) ----------------------------------------------
@pytest.mark.parametrize(
    "hook",
    [
        "http://127.0.0.1:8000/_mock/reset",
        "http://localhost:8000/_mock/reset",
        "http://127.0.0.2:8000/_mock/jobs/complete-all",
        "http://[::1]:8000/_mock/reset",
        "http://[::ffff:127.0.0.1]:8000/_mock/reset",
        "http://0.0.0.0:8000/_mock/reset",
        "http://127.0.0.1:8000/%5Fmock/reset",
        "http://127.0.0.1:8000/%255Fmock/reset",
        "http://127.0.0.1:8000//_mock/faults",
    ],
)
async def test_a_webhook_to_the_servers_own_control_api_is_refused_at_submit(make_app: Any, hook: str) -> None:
    app = make_app()
    async with http(app) as client:
        response = await client.post(f"{LOCAL}/queue/{MINIMAX}", params={"fal_webhook": hook}, json=GOOD)
        assert response.status_code == 400, response.text
        assert response.json()["error_type"] == "bad_request"
        assert "own control API" in response.json()["detail"]
        assert (await client.get(f"{LOCAL}/_mock/jobs")).json()["jobs"] == []


@pytest.mark.parametrize(
    "hook", ["http://127.0.0.1:9000/_mock/reset", "http://127.0.0.1:8000/hooks/fal", "http://127.0.0.1:8000/queue/x"]
)
async def test_other_ports_and_paths_stay_valid_webhook_targets(make_app: Any, hook: str) -> None:
    async with http(make_app()) as client:
        response = await client.post(f"{LOCAL}/queue/{MINIMAX}", params={"fal_webhook": hook}, json=GOOD)
        assert response.status_code == 200, response.text
