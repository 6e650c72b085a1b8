"""The shipped schema documents: well-formed, self-describing, examples valid, key rules enforced."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fal_mock import contracts
from jsonschema import Draft202012Validator

NAMES = contracts.names()
BASE = "https://fal-mock.invalid/contracts/"
RID = "019e1951-c778-7120-9c82-16efcf40ec82"
URL = f"https://queue.fal.run/fal-ai/decart/requests/{RID}"

EXPECTED_NAMES = {
    "file",
    "log-entry",
    "endpoints/fal-ai/decart/lucy-5b/image-to-video/input",
    "endpoints/fal-ai/decart/lucy-5b/image-to-video/output",
    "endpoints/fal-ai/minimax-video/image-to-video/input",
    "endpoints/fal-ai/minimax-video/image-to-video/output",
    "queue/submit-response",
    "queue/status",
    "queue/status-in-queue",
    "queue/status-in-progress",
    "queue/status-completed",
    "queue/cancel-response",
    "errors/validation-error",
    "errors/request-error",
    "errors/http-error",
    "errors/error",
    "storage/cdn-token-response",
    "storage/upload-response",
    "storage/initiate-request",
    "storage/initiate-response",
    "storage/multipart-initiate-response",
    "storage/multipart-part-response",
    "storage/multipart-complete-request",
    "webhooks/delivery",
    "webhooks/jwks",
}


def test_every_expected_contract_exists() -> None:
    """fal's protocol payloads all have a contract (the mock's own control/journal payloads add more)."""
    assert set(NAMES) >= EXPECTED_NAMES
    areas = {name.split("/", 1)[0] for name in NAMES if "/" in name}
    assert areas <= {"endpoints", "queue", "errors", "storage", "webhooks", "control"}


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_2020_12(name: str) -> None:
    document = contracts.schema(name)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(document)


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_self_describing(name: str) -> None:
    document = contracts.schema(name)
    assert document["$id"] == f"{BASE}{name}.schema.json"
    assert isinstance(document["title"], str)
    assert document["title"]
    assert isinstance(document["description"], str)
    assert "Source" in document["description"]
    assert isinstance(document["examples"], list)
    assert document["examples"]


@pytest.mark.parametrize("name", NAMES)
def test_examples_validate(name: str) -> None:
    for example in contracts.schema(name)["examples"]:
        contracts.validate(name, example)


def test_status_examples_cover_every_state() -> None:
    states = {example["status"] for example in contracts.schema("queue/status")["examples"]}
    assert states == {"IN_QUEUE", "IN_PROGRESS", "COMPLETED"}


# --- hand-written cases ---------------------------------------------------------------------


def example(name: str, index: int = 0) -> dict[str, Any]:
    return copy.deepcopy(contracts.schema(name)["examples"][index])


def without(instance: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in instance.items() if key not in keys}


def updated(instance: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**instance, **changes}


LUCY_IN = "endpoints/fal-ai/decart/lucy-5b/image-to-video/input"
LUCY_OUT = "endpoints/fal-ai/decart/lucy-5b/image-to-video/output"
MINIMAX_IN = "endpoints/fal-ai/minimax-video/image-to-video/input"
IN_QUEUE: dict[str, Any] = {
    "status": "IN_QUEUE",
    "request_id": RID,
    "response_url": URL,
    "status_url": f"{URL}/status",
    "cancel_url": f"{URL}/cancel",
    "logs": None,
    "metrics": {},
    "queue_position": 0,
}
IN_PROGRESS = updated(without(IN_QUEUE, "queue_position"), status="IN_PROGRESS", logs=[])
COMPLETED = updated(without(IN_QUEUE, "queue_position"), status="COMPLETED", metrics={"inference_time": 1.5})
DATA_URI = "data:video/mp4;base64,AAAAIGZ0eXBpc29tAAACAGlzb21pc28yYXZjMW1wNDE="
TOKEN = {"token": "t", "token_type": "Bearer", "base_url": "https://v3.fal.media"}
ENTRY = {
    "loc": ["body", "prompt"],
    "msg": "Field required",
    "type": "missing",
    "url": "https://docs.fal.ai/errors#missing",
}
WEBHOOK = {"request_id": RID, "gateway_request_id": RID, "status": "OK", "payload": {"video": {"url": URL}}}
X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"

VALID: list[tuple[str, str, Any]] = [
    ("file data URI", "file", {"url": DATA_URI, "content_type": "video/mp4", "file_size": 32}),
    ("file mock http URL", "file", {"url": "http://127.0.0.1:8000/cdn/files/a/b_output.mp4"}),
    ("file VideoFile superset", "file", {"url": URL, "width": 1280, "height": 720, "fps": 24.0}),
    ("lucy output data URI", LUCY_OUT, {"video": {"url": DATA_URI}}),
    ("lucy input minimal", LUCY_IN, {"prompt": "p", "image_url": "https://a/b.png"}),
    ("lucy input extra field ignored", LUCY_IN, {"prompt": "p", "image_url": "https://a/b.png", "seed": 3}),
    ("minimax input data URI", MINIMAX_IN, {"prompt": "p", "image_url": "data:image/png;base64,AAAA"}),
    ("in queue", "queue/status", IN_QUEUE),
    ("in queue with logs array", "queue/status", updated(IN_QUEUE, logs=[])),
    ("in queue without metrics", "queue/status", without(IN_QUEUE, "metrics")),
    ("in progress, logs null", "queue/status", updated(IN_PROGRESS, logs=None)),
    (
        "in progress, naive log time",
        "queue/status",
        updated(
            IN_PROGRESS, logs=[{"message": "m", "timestamp": "2024-12-20T15:37:17.120314", "labels": {}}]
        ),
    ),
    ("completed", "queue/status", COMPLETED),
    (
        "completed failed",
        "queue/status",
        updated(COMPLETED, error="Runner disconnected", error_type="runner_disconnected"),
    ),
    ("completed error null", "queue/status", updated(COMPLETED, error=None, error_type=None)),
    (
        "submit minimal",
        "queue/submit-response",
        without(IN_QUEUE, "status", "logs", "metrics", "queue_position"),
    ),
    ("token with offset", "storage/cdn-token-response", {**TOKEN, "expires_at": "2099-01-01T00:00:00+00:00"}),
    (
        "token with fraction",
        "storage/cdn-token-response",
        {**TOKEN, "expires_at": "2025-10-20T13:00:00.123456-05:30"},
    ),
    (
        "webhook error",
        "webhooks/delivery",
        {**WEBHOOK, "status": "ERROR", "error": "Invalid status code: 422", "payload": {"detail": [ENTRY]}},
    ),
    (
        "webhook payload error",
        "webhooks/delivery",
        {**WEBHOOK, "payload": None, "payload_error": "not serialisable"},
    ),
    ("error: detail list", "errors/error", {"detail": [ENTRY]}),
    (
        "error: request error",
        "errors/error",
        {"detail": "Request timed out", "error_type": "request_timeout"},
    ),
    ("error: 404 body", "errors/error", {"detail": "Request not found", "status": "NOT_FOUND"}),
    (
        "validation entry with ctx and input",
        "errors/validation-error",
        {"detail": [{**ENTRY, "loc": ["body", "x", 0], "ctx": {"max_size": 1}, "input": None}]},
    ),
    (
        "cancel not found with detail",
        "queue/cancel-response",
        {"status": "NOT_FOUND", "detail": "Request not found"},
    ),
    (
        "jwks full key",
        "webhooks/jwks",
        {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": X, "kid": "k", "alg": "EdDSA", "use": "sig"}]},
    ),
    (
        "multipart complete",
        "storage/multipart-complete-request",
        {"parts": [{"partNumber": 1, "etag": '"e"'}]},
    ),
    ("initiate request without name", "storage/initiate-request", {"content_type": "image/png"}),
]

INVALID: list[tuple[str, str, Any]] = [
    ("submit without request_id", "queue/submit-response", without(IN_QUEUE, "request_id")),
    ("submit without cancel_url", "queue/submit-response", without(IN_QUEUE, "cancel_url")),
    ("submit with non-URL status_url", "queue/submit-response", updated(IN_QUEUE, status_url="not-a-url")),
    (
        "submit with relative status_url",
        "queue/submit-response",
        updated(IN_QUEUE, status_url="/fal-ai/decart/requests/x/status"),
    ),
    ("submit with non-UUID request_id", "queue/submit-response", updated(IN_QUEUE, request_id="req-1")),
    ("submit with negative queue position", "queue/submit-response", updated(IN_QUEUE, queue_position=-1)),
    ("in queue without queue_position", "queue/status-in-queue", without(IN_QUEUE, "queue_position")),
    ("status: in queue without queue_position", "queue/status", without(IN_QUEUE, "queue_position")),
    ("status: in queue without logs key", "queue/status", without(IN_QUEUE, "logs")),
    ("status: in progress without logs key", "queue/status", without(IN_PROGRESS, "logs")),
    ("status: completed without logs key", "queue/status", without(COMPLETED, "logs")),
    ("status: FAILED does not exist", "queue/status", updated(COMPLETED, status="FAILED")),
    ("status: without request_id", "queue/status", without(IN_PROGRESS, "request_id")),
    ("status: bad cancel_url", "queue/status", updated(IN_PROGRESS, cancel_url="not-a-url")),
    ("status: negative inference_time", "queue/status", updated(COMPLETED, metrics={"inference_time": -1})),
    ("status: error_type not a string", "queue/status", updated(COMPLETED, error_type=5)),
    (
        "status: bad log level",
        "queue/status",
        updated(IN_PROGRESS, logs=[{"message": "m", "level": "TRACE"}]),
    ),
    ("status: log entry without message", "queue/status", updated(IN_PROGRESS, logs=[{"level": "INFO"}])),
    ("naive expires_at", "storage/cdn-token-response", {**TOKEN, "expires_at": "2099-01-01T00:00:00"}),
    (
        "Z expires_at (py<3.11 fromisoformat)",
        "storage/cdn-token-response",
        {**TOKEN, "expires_at": "2099-01-01T00:00:00Z"},
    ),
    (
        "impossible expires_at",
        "storage/cdn-token-response",
        {**TOKEN, "expires_at": "2099-13-01T00:00:00+00:00"},
    ),
    (
        "token without token_type",
        "storage/cdn-token-response",
        {"token": "t", "base_url": "https://x", "expires_at": "2099-01-01T00:00:00+00:00"},
    ),
    ("aspect ratio 4:3", LUCY_IN, {"prompt": "p", "image_url": "https://a/b.png", "aspect_ratio": "4:3"}),
    ("resolution 1080p", LUCY_IN, {"prompt": "p", "image_url": "https://a/b.png", "resolution": "1080p"}),
    ("sync_mode as string", LUCY_IN, {"prompt": "p", "image_url": "https://a/b.png", "sync_mode": "true"}),
    ("lucy input without prompt", LUCY_IN, {"image_url": "https://a/b.png"}),
    ("minimax input without image_url", MINIMAX_IN, {"prompt": "p"}),
    (
        "minimax prompt_optimizer as int",
        MINIMAX_IN,
        {"prompt": "p", "image_url": "https://a/b.png", "prompt_optimizer": 1},
    ),
    ("output without video", LUCY_OUT, {}),
    ("file without url", "file", {"content_type": "video/mp4"}),
    ("file with relative url", "file", {"url": "files/output.mp4"}),
    ("file with negative size", "file", {"url": URL, "file_size": -1}),
    ("file with float size", "file", {"url": URL, "file_size": 1.5}),
    ("webhook ERROR without error", "webhooks/delivery", {**WEBHOOK, "status": "ERROR", "payload": None}),
    ("webhook COMPLETED status", "webhooks/delivery", {**WEBHOOK, "status": "COMPLETED"}),
    ("webhook without payload key", "webhooks/delivery", without(WEBHOOK, "payload")),
    ("validation entry without url", "errors/validation-error", {"detail": [without(ENTRY, "url")]}),
    ("validation entry without loc", "errors/validation-error", {"detail": [without(ENTRY, "loc")]}),
    ("validation loc with float", "errors/validation-error", {"detail": [{**ENTRY, "loc": ["body", 1.5]}]}),
    ("validation empty detail", "errors/validation-error", {"detail": []}),
    ("request error without error_type", "errors/request-error", {"detail": "Runner disconnected"}),
    ("http error with list detail", "errors/http-error", {"detail": ["x"]}),
    ("error: no detail", "errors/error", {"status": "NOT_FOUND"}),
    ("cancel unknown status", "queue/cancel-response", {"status": "CANCELLED"}),
    ("jwks empty", "webhooks/jwks", {"keys": []}),
    ("jwks padded x", "webhooks/jwks", {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": X + "="}]}),
    ("jwks RSA key", "webhooks/jwks", {"keys": [{"kty": "RSA", "crv": "Ed25519", "x": X}]}),
    ("multipart complete without parts", "storage/multipart-complete-request", {"parts": []}),
    ("multipart part number 0", "storage/multipart-part-response", {"partNumber": 0, "etag": "e"}),
    ("upload response non-URL", "storage/upload-response", {"access_url": "not-a-url"}),
    ("initiate response missing file_url", "storage/initiate-response", {"upload_url": "https://u"}),
    (
        "multipart initiate snake_case id",
        "storage/multipart-initiate-response",
        {"access_url": "https://a", "upload_id": "1"},
    ),
]


@pytest.mark.parametrize(("case", "name", "instance"), VALID, ids=[case for case, _, _ in VALID])
def test_valid_cases(case: str, name: str, instance: Any) -> None:
    contracts.validate(name, instance)


@pytest.mark.parametrize(("case", "name", "instance"), INVALID, ids=[case for case, _, _ in INVALID])
def test_invalid_cases(case: str, name: str, instance: Any) -> None:
    assert not contracts.is_valid(name, instance)
    with pytest.raises(contracts.ContractViolation) as caught:
        contracts.validate(name, instance)
    assert caught.value.contract == name
    assert caught.value.errors


def test_large_data_uri_is_accepted() -> None:
    url = "data:video/mp4;base64," + "A" * 2_000_000
    contracts.validate(LUCY_OUT, {"video": {"url": url, "content_type": "video/mp4", "file_size": 1_500_000}})
