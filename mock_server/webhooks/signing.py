"""The webhook signing key: derived from the seed, published as a JWKS, used to sign deliveries.

fal signs every webhook with Ed25519 (protocol reference §4, surprise 24): the
signature is **hex** over the UTF-8 bytes of ::

    "{X-Fal-Webhook-Request-Id}\\n{X-Fal-Webhook-User-Id}\\n{X-Fal-Webhook-Timestamp}\\n{sha256hex(raw body)}"

and the public keys are published as a JWKS at ``/.well-known/jwks.json`` on
fal's REST host.  The mock does the same with its own key:

* the private key is ``Ed25519PrivateKey.from_private_bytes(sha256("fal-mock
  webhook signing key v1:<seed>"))`` — the same seed gives the same key in any
  process, so a receiver that cached the JWKS of one run verifies the next;
* the JWKS entry carries ``kty``/``crv``/``x`` (what fal's docs show and
  verifiers read) plus ``kid``/``alg``/``use``, which verifiers ignore (they try
  every key); the ``kid`` is ``fal-mock-`` + the first 16 hex digits of the public
  key's SHA-256 — our choice, fal's key ids are not documented.

Nothing here knows about HTTP: :mod:`.dispatcher` signs with it, the REST handler
publishes :meth:`WebhookSigner.jwks`.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

REQUEST_ID_HEADER = "X-Fal-Webhook-Request-Id"
USER_ID_HEADER = "X-Fal-Webhook-User-Id"
TIMESTAMP_HEADER = "X-Fal-Webhook-Timestamp"
SIGNATURE_HEADER = "X-Fal-Webhook-Signature"
#: Where fal publishes its webhook keys (on ``rest.fal.ai`` and, in older docs, ``rest.alpha.fal.ai``).
JWKS_PATH = "/.well-known/jwks.json"


def signed_message(request_id: str, user_id: str, timestamp: str, body: bytes) -> bytes:
    """The exact bytes fal signs: the three header strings and the body's SHA-256 hex, newline-joined."""
    return "\n".join((request_id, user_id, timestamp, hashlib.sha256(body).hexdigest())).encode("utf-8")


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 §2), as JWK ``x`` values are written."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class WebhookSigner:
    """One Ed25519 key derived from ``seed``: signs deliveries and describes itself as a JWK."""

    def __init__(self, seed: int) -> None:
        secret = hashlib.sha256(f"fal-mock webhook signing key v1:{seed}".encode()).digest()
        self._private = Ed25519PrivateKey.from_private_bytes(secret)
        self.public_bytes = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.kid = "fal-mock-" + hashlib.sha256(self.public_bytes).hexdigest()[:16]

    def jwk(self) -> dict[str, Any]:
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(self.public_bytes), "kid": self.kid,
                "alg": "EdDSA", "use": "sig"}  # fmt: skip

    def jwks(self) -> dict[str, Any]:
        """The key set served at :data:`JWKS_PATH`."""
        return {"keys": [self.jwk()]}

    def sign(self, request_id: str, user_id: str, timestamp: str, body: bytes) -> str:
        """Hex signature of :func:`signed_message` (128 lowercase hex digits)."""
        return self._private.sign(signed_message(request_id, user_id, timestamp, body)).hex()

    def headers(self, request_id: str, user_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        """The four ``X-Fal-Webhook-*`` headers fal sends with ``body`` at ``timestamp`` (Unix seconds)."""
        stamp = str(int(timestamp))
        return {
            REQUEST_ID_HEADER: request_id,
            USER_ID_HEADER: user_id,
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: self.sign(request_id, user_id, stamp, body),
        }

    def __repr__(self) -> str:
        return f"WebhookSigner(kid={self.kid!r})"
