"""Webhooks end to end: a real receiver on 127.0.0.1, ``fal-mock serve``, and both official clients.

The receiver is a Starlette app under uvicorn (``_receiver.Receiver``).  Signatures are
checked twice: by :func:`fal_docs_verify`, written here from fal's webhook documentation
(protocol reference §4: fetch the JWKS, ±300 s, message = request id, user id, timestamp
and the body's SHA-256 hex joined by newlines, hex Ed25519 signature, try every key) —
not the project's helper — and then by ``fal_mock.client.webhooks.verify_webhook``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import fal_client
import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fal_mock.client.webhooks import verify_webhook
from fal_mock.fixtures import FalRouting
from fal_mock.mock_server.clock import ManualClock
from fal_mock.mock_server.edge.hosts import FAL_HOSTS
from starlette.applications import Starlette

from tests.mock_server.edge.api._receiver import Receiver
from tests.support import AUTH, JS_DIR, ServeProcess, data_uri, png_bytes, require_node

MINIMAX = "fal-ai/minimax-video/image-to-video"
LUCY = "fal-ai/decart/lucy-5b/image-to-video"
GOOD = {"prompt": "a lighthouse at dusk", "image_url": data_uri(png_bytes())}
KEY = "fal-mock-key:fal-mock-secret"


def fal_docs_verify(headers: Mapping[str, str], body: bytes, keys: list[dict[str, Any]], now: float) -> bool:
    """fal's documented verification, written independently of fal_mock's helper."""
    request_id = headers.get("x-fal-webhook-request-id")
    user_id = headers.get("x-fal-webhook-user-id")
    timestamp = headers.get("x-fal-webhook-timestamp")
    signature_hex = headers.get("x-fal-webhook-signature")
    if not (request_id and user_id and timestamp and signature_hex):
        return False
    if abs(int(now) - int(timestamp)) > 300:
        return False
    message = "\n".join([request_id, user_id, timestamp, hashlib.sha256(body).hexdigest()]).encode("utf-8")
    signature = bytes.fromhex(signature_hex)
    for key in keys:
        x = key["x"]
        public = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        except InvalidSignature:
            continue
        return True
    return False


def other_key() -> dict[str, Any]:
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode()}


def lowered(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


@pytest.mark.slow
def test_serve_delivers_a_signed_webhook_to_a_real_receiver(tmp_path: Path) -> None:
    args = ("--progression", "immediate", "--no-access-log", "--log-level", "warning")
    with Receiver() as hook, ServeProcess(tmp_path, *args) as server, httpx.Client(base_url=server.url) as http:
        submitted = http.post(f"/queue/{MINIMAX}", params={"fal_webhook": hook.url}, json=GOOD, headers=AUTH)
        assert submitted.status_code == 200, submitted.text
        rid = submitted.json()["request_id"]
        [got] = hook.wait(1)
        now = time.time()
        jwks = http.get("/rest/.well-known/jwks.json").json()
        headers = lowered(got.headers)

        # the delivery, as fal documents it
        assert got.path == "/hook"
        assert headers["content-type"] == "application/json"
        assert headers["x-fal-webhook-request-id"] == rid
        assert headers["x-fal-webhook-user-id"] == "fal-mock-user"
        assert abs(int(headers["x-fal-webhook-timestamp"]) - now) <= 60
        assert len(headers["x-fal-webhook-signature"]) == 128
        assert "authorization" not in headers
        result = http.get(submitted.json()["response_url"], headers=AUTH).json()
        assert json.loads(got.body) == {"request_id": rid, "gateway_request_id": rid, "status": "OK", "payload": result}
        video = http.get(result["video"]["url"])
        assert video.headers["content-type"] == "video/mp4"
        assert len(video.content) == result["video"]["file_size"]

        # verified from the fetched JWKS: fal's documented recipe, then the project's helper
        assert fal_docs_verify(headers, got.body, jwks["keys"], now)
        assert verify_webhook(got.headers, got.body, jwks)

        # and rejected when anything is off
        tampered = got.body.replace(b'"status":"OK"', b'"status":"ERROR"')
        assert tampered != got.body
        shifted = {**headers, "x-fal-webhook-timestamp": str(int(headers["x-fal-webhook-timestamp"]) + 1)}
        stale_now = int(headers["x-fal-webhook-timestamp"]) + 301
        foreign = {"keys": [other_key()]}
        for check in (
            lambda h, b, k, n: fal_docs_verify(h, b, k["keys"], n),
            lambda h, b, k, n: verify_webhook(h, b, k, now=n),
        ):
            assert check(headers, got.body, jwks, now)
            assert not check(headers, tampered, jwks, now), "tampered body"
            assert not check(shifted, got.body, jwks, now), "wrong timestamp"
            assert not check(headers, got.body, jwks, stale_now), "stale timestamp"
            assert not check(headers, got.body, foreign, now), "other key"

        # The receiver has answered, but the dispatcher records the attempt only after it reads that answer:
        # a plain GET /_mock/webhooks may still see "sending". /idle returns once no attempt is in flight.
        journal = http.get("/_mock/webhooks/idle", params={"timeout": 30}).json()
        [delivery] = journal["deliveries"]
        assert delivery["request_id"] == rid
        assert delivery["state"] == "delivered"
        assert [attempt["status_code"] for attempt in delivery["attempts"]] == [200]


def test_official_python_client_submit_with_webhook_url(make_app: Callable[..., Starlette], clock: ManualClock) -> None:
    app = make_app()
    with Receiver() as hook, FalRouting(app, hosts=FAL_HOSTS):
        client = fal_client.SyncClient(key=KEY)
        handle = client.submit(MINIMAX, GOOD, webhook_url=hook.url)
        [got] = hook.wait(1)
        output = handle.get()
        jwks = httpx.get("https://rest.fal.ai/.well-known/jwks.json").json()
    body = json.loads(got.body)
    assert body == {"request_id": handle.request_id, "gateway_request_id": handle.request_id, "status": "OK",
                    "payload": output}  # fmt: skip
    assert int(lowered(got.headers)["x-fal-webhook-timestamp"]) == int(clock.now())
    assert fal_docs_verify(lowered(got.headers), got.body, jwks["keys"], clock.now())
    assert verify_webhook(got.headers, got.body, jwks, now=clock.now())


@pytest.mark.slow
@pytest.mark.node
def test_official_js_client_queue_submit_with_webhook_url(tmp_path: Path) -> None:
    node = require_node()
    args = ("--progression", "immediate", "--no-access-log", "--log-level", "warning")
    with Receiver() as hook, ServeProcess(tmp_path, *args) as server:
        env = {**os.environ, "FAL_MOCK_URL": server.url, "FAL_ENDPOINT": LUCY, "WEBHOOK_URL": hook.url,
               "FAL_INPUT": json.dumps({**GOOD, "sync_mode": False})}  # fmt: skip
        run = subprocess.run([node, str(JS_DIR / "webhook.mjs")], cwd=JS_DIR, env=env, capture_output=True,
                             text=True, timeout=120, check=False)  # fmt: skip
        assert run.returncode == 0, run.stderr
        printed = json.loads(run.stdout.strip().splitlines()[-1])
        [got] = hook.wait(1)
        jwks = httpx.get(f"{server.url}/rest/.well-known/jwks.json").json()
    rid = printed["submitted"]["request_id"]
    assert printed["requestId"] == rid
    body = json.loads(got.body)
    assert body == {"request_id": rid, "gateway_request_id": rid, "status": "OK", "payload": printed["result"]}
    assert body["payload"]["video"]["url"].startswith(f"{server.url}/cdn/files/")
    assert fal_docs_verify(lowered(got.headers), got.body, jwks["keys"], time.time())
    assert verify_webhook(got.headers, got.body, jwks)
