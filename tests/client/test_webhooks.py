"""``verify_webhook`` / ``check_webhook``: fal's documented signature check, step by step."""

from __future__ import annotations

import base64
import hashlib
import time

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fal_mock.client.webhooks import (
    WebhookVerificationError,
    check_webhook,
    ed25519_keys,
    fetch_jwks,
    verify_webhook,
)

RID = "019b76da-a800-7bbf-a670-15f9a5ac66de"
USER = "user-42"
NOW = 1_600_000_000
BODY = b'{"request_id":"019b76da-a800-7bbf-a670-15f9a5ac66de","gateway_request_id":"x","status":"OK","payload":{}}'


def jwk(key: Ed25519PrivateKey) -> dict[str, str]:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), "kid": "k"}


def signed(key: Ed25519PrivateKey, body: bytes = BODY, timestamp: int = NOW, **override: str) -> dict[str, str]:
    """Headers signed the way fal documents it (built here, independently of the mock's signer)."""
    stamp = str(timestamp)
    message = f"{RID}\n{USER}\n{stamp}\n{hashlib.sha256(body).hexdigest()}".encode()
    headers = {
        "X-Fal-Webhook-Request-Id": RID,
        "X-Fal-Webhook-User-Id": USER,
        "X-Fal-Webhook-Timestamp": stamp,
        "X-Fal-Webhook-Signature": key.sign(message).hex(),
    }
    headers.update(override)
    return headers


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def reason(headers: dict[str, str], body: bytes, jwks: dict[str, object], now: float = NOW) -> str:
    with pytest.raises(WebhookVerificationError) as caught:
        check_webhook(headers, body, jwks, now=now)
    assert not verify_webhook(headers, body, jwks, now=now)
    return caught.value.reason


def test_genuine_delivery_verifies(key: Ed25519PrivateKey) -> None:
    jwks = {"keys": [jwk(key)]}
    assert verify_webhook(signed(key), BODY, jwks, now=NOW)
    check_webhook(signed(key), BODY, jwks, now=NOW)


def test_header_names_are_case_insensitive(key: Ed25519PrivateKey) -> None:
    headers = {name.lower(): value for name, value in signed(key).items()}
    assert verify_webhook(headers, BODY, {"keys": [jwk(key)]}, now=NOW)
    assert verify_webhook(httpx.Headers(signed(key)), BODY, {"keys": [jwk(key)]}, now=NOW)


def test_every_key_is_tried_and_foreign_keys_are_skipped(key: Ed25519PrivateKey) -> None:
    other = jwk(Ed25519PrivateKey.generate())
    rsa = {"kty": "RSA", "n": "AQAB", "e": "AQAB"}
    broken = {"kty": "OKP", "crv": "Ed25519", "x": "not base64!"}
    jwks = {"keys": [rsa, broken, other, jwk(key)]}
    assert len(ed25519_keys(jwks)) == 2
    assert verify_webhook(signed(key), BODY, jwks, now=NOW)


@pytest.mark.parametrize("missing", ["Request-Id", "User-Id", "Timestamp", "Signature"])
def test_every_header_is_required(key: Ed25519PrivateKey, missing: str) -> None:
    headers = {name: value for name, value in signed(key).items() if not name.endswith(missing)}
    assert reason(headers, BODY, {"keys": [jwk(key)]}) == "missing_header"


def test_tampered_body_is_rejected(key: Ed25519PrivateKey) -> None:
    assert reason(signed(key), BODY.replace(b"OK", b"ER"), {"keys": [jwk(key)]}) == "mismatch"


def test_wrong_timestamp_is_rejected(key: Ed25519PrivateKey) -> None:
    headers = signed(key, **{"X-Fal-Webhook-Timestamp": str(NOW + 1)})
    assert reason(headers, BODY, {"keys": [jwk(key)]}) == "mismatch"


def test_other_request_or_user_id_is_rejected(key: Ed25519PrivateKey) -> None:
    jwks = {"keys": [jwk(key)]}
    assert reason(signed(key, **{"X-Fal-Webhook-User-Id": "someone"}), BODY, jwks) == "mismatch"
    assert reason(signed(key, **{"X-Fal-Webhook-Request-Id": "other"}), BODY, jwks) == "mismatch"


def test_other_key_is_rejected(key: Ed25519PrivateKey) -> None:
    assert reason(signed(key), BODY, {"keys": [jwk(Ed25519PrivateKey.generate())]}) == "mismatch"


def test_tolerance_is_300_seconds_either_way(key: Ed25519PrivateKey) -> None:
    jwks = {"keys": [jwk(key)]}
    assert verify_webhook(signed(key), BODY, jwks, now=NOW + 300)
    assert verify_webhook(signed(key), BODY, jwks, now=NOW - 300)
    assert reason(signed(key), BODY, jwks, now=NOW + 301) == "stale_timestamp"
    assert reason(signed(key), BODY, jwks, now=NOW - 301) == "stale_timestamp"
    assert verify_webhook(signed(key), BODY, jwks, now=NOW + 1000, tolerance=1000)


def test_now_defaults_to_the_wall_clock(key: Ed25519PrivateKey) -> None:
    jwks = {"keys": [jwk(key)]}
    assert not verify_webhook(signed(key), BODY, jwks)  # NOW is in 2020: far from the wall clock
    assert verify_webhook(signed(key, timestamp=int(time.time())), BODY, jwks)


@pytest.mark.parametrize("value", ["", "12.5", "abc", "1e9"])
def test_timestamp_must_be_integer_seconds(key: Ed25519PrivateKey, value: str) -> None:
    assert reason(signed(key, **{"X-Fal-Webhook-Timestamp": value}), BODY, {"keys": [jwk(key)]}) == "bad_timestamp"


@pytest.mark.parametrize("value", ["", "zz" * 64, "ab" * 63, "ab" * 65])
def test_signature_must_be_128_hex_digits(key: Ed25519PrivateKey, value: str) -> None:
    assert reason(signed(key, **{"X-Fal-Webhook-Signature": value}), BODY, {"keys": [jwk(key)]}) == "bad_signature"


@pytest.mark.parametrize("jwks", [{}, {"keys": []}, {"keys": "nope"}, {"keys": [{"kty": "RSA"}]}])
def test_a_jwks_without_ed25519_keys_verifies_nothing(key: Ed25519PrivateKey, jwks: dict[str, object]) -> None:
    assert reason(signed(key), BODY, jwks) == "no_keys"


def test_fetch_jwks_gets_the_key_set(key: Ed25519PrivateKey) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url == "https://rest.fal.ai/.well-known/jwks.json"
        return httpx.Response(200, json={"keys": [jwk(key)]})

    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        jwks = fetch_jwks(http)
    assert verify_webhook(signed(key), BODY, jwks, now=NOW)
