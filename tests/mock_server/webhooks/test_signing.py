"""The webhook signing key: derived from the seed, published as a JWKS, signing fal's exact message."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fal_mock import contracts
from fal_mock.mock_server.webhooks.signing import WebhookSigner, signed_message

RID = "019b76da-a800-7bbf-a670-15f9a5ac66de"
BODY = b'{"request_id":"019b76da-a800-7bbf-a670-15f9a5ac66de","status":"OK","payload":{}}'


def public_key(jwk: dict[str, str]) -> Ed25519PublicKey:
    x = jwk["x"]
    return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))


def test_key_is_a_pure_function_of_the_seed() -> None:
    assert WebhookSigner(0).jwks() == WebhookSigner(0).jwks()
    assert WebhookSigner(0).jwk()["x"] != WebhookSigner(1).jwk()["x"]
    assert WebhookSigner(0).kid != WebhookSigner(1).kid


def test_jwks_has_fals_shape_and_satisfies_its_contract() -> None:
    jwks = WebhookSigner(7).jwks()
    contracts.validate("webhooks/jwks", jwks)
    [key] = jwks["keys"]
    assert {key["kty"], key["crv"], key["alg"], key["use"]} == {"OKP", "Ed25519", "EdDSA", "sig"}
    assert len(key["x"]) == 43
    assert "=" not in key["x"]


def test_signed_message_is_fals_recipe() -> None:
    message = signed_message(RID, "user-1", "1767225600", BODY)
    assert message == f"{RID}\nuser-1\n1767225600\n{hashlib.sha256(BODY).hexdigest()}".encode()


def test_headers_carry_a_hex_signature_over_the_exact_body() -> None:
    signer = WebhookSigner(3)
    headers = signer.headers(RID, "user-1", 1767225600, BODY)
    assert headers["X-Fal-Webhook-Request-Id"] == RID
    assert headers["X-Fal-Webhook-User-Id"] == "user-1"
    assert headers["X-Fal-Webhook-Timestamp"] == "1767225600"
    signature = bytes.fromhex(headers["X-Fal-Webhook-Signature"])
    assert len(signature) == 64
    key = public_key(signer.jwk())
    key.verify(signature, f"{RID}\nuser-1\n1767225600\n{hashlib.sha256(BODY).hexdigest()}".encode())
    with pytest.raises(InvalidSignature):
        key.verify(signature, signed_message(RID, "user-1", "1767225600", BODY + b" "))
    with pytest.raises(InvalidSignature):
        public_key(WebhookSigner(4).jwk()).verify(signature, signed_message(RID, "user-1", "1767225600", BODY))
