"""Verifying fal's webhook signatures: the check fal documents, for your webhook handler.

fal signs every webhook delivery (protocol reference §4) with Ed25519 and sends
four headers.  :func:`verify_webhook` implements the documented check:

1. ``X-Fal-Webhook-Request-Id``, ``X-Fal-Webhook-User-Id``,
   ``X-Fal-Webhook-Timestamp`` and ``X-Fal-Webhook-Signature`` are all present
   (names are matched case-insensitively);
2. the timestamp (Unix seconds) is within ``tolerance`` (300 s) of ``now``;
3. the signed message is the UTF-8 of
   ``"{request id}\\n{user id}\\n{timestamp}\\n{sha256 hex of the raw body}"`` — the
   header strings exactly as received and the body bytes exactly as received
   (never re-serialised JSON);
4. the signature is hex; it must verify under *some* Ed25519 key of the JWKS
   (``kty: OKP``, ``crv: Ed25519``, ``x`` = unpadded base64url) — every key is
   tried, ``kid``/``alg``/``use`` are ignored, keys of other types are skipped.

Two spellings, pick what suits your handler: :func:`verify_webhook` answers
``True``/``False``; :func:`check_webhook` raises :class:`WebhookVerificationError`
whose ``reason`` says which step failed.  The JWKS lives at
:data:`JWKS_URL` (fal's docs: cache it, for up to 24 h); against fal-mock fetch it
from the mock (``/rest/.well-known/jwks.json`` on a standalone server).

>>> jwks = fetch_jwks(httpx.Client(), "http://127.0.0.1:8000/rest/.well-known/jwks.json")
>>> verify_webhook(request.headers, await request.body(), jwks)
True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Mapping
from typing import Any, Literal

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

#: fal's webhook key set (older docs: ``https://rest.alpha.fal.ai/.well-known/jwks.json``).
JWKS_URL = "https://rest.fal.ai/.well-known/jwks.json"
REQUEST_ID_HEADER = "X-Fal-Webhook-Request-Id"
USER_ID_HEADER = "X-Fal-Webhook-User-Id"
TIMESTAMP_HEADER = "X-Fal-Webhook-Timestamp"
SIGNATURE_HEADER = "X-Fal-Webhook-Signature"
HEADERS = (REQUEST_ID_HEADER, USER_ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)
#: Seconds a delivery's timestamp may differ from now (fal's docs: ±5 minutes).
DEFAULT_TOLERANCE_SECONDS = 300

Reason = Literal["missing_header", "bad_timestamp", "stale_timestamp", "bad_signature", "no_keys", "mismatch"]
_TIMESTAMP = re.compile(r"^-?[0-9]{1,15}$")
_HEX_SIGNATURE = re.compile(r"^[0-9a-fA-F]{128}$")


class WebhookVerificationError(ValueError):
    """A webhook that does not pass fal's check; ``reason`` names the failed step.

    ``missing_header`` · ``bad_timestamp`` (not integer seconds) · ``stale_timestamp``
    (outside the tolerance) · ``bad_signature`` (not 128 hex digits) · ``no_keys`` (the
    JWKS has no Ed25519 key) · ``mismatch`` (no key verifies the signature).
    """

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason


def signed_message(request_id: str, user_id: str, timestamp: str, body: bytes) -> bytes:
    """The bytes fal signs for a delivery."""
    return "\n".join((request_id, user_id, timestamp, hashlib.sha256(body).hexdigest())).encode("utf-8")


def ed25519_keys(jwks: Mapping[str, Any]) -> list[Ed25519PublicKey]:
    """The usable Ed25519 public keys of a JWKS (others, and malformed entries, are skipped)."""
    keys: list[Ed25519PublicKey] = []
    entries = jwks.get("keys") if isinstance(jwks, Mapping) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping) or entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
            continue
        x = entry.get("x")
        if not isinstance(x, str):
            continue
        try:
            raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
        except (binascii.Error, ValueError):
            continue
        if len(raw) == 32:
            keys.append(Ed25519PublicKey.from_public_bytes(raw))
    return keys


def check_webhook(
    headers: Mapping[str, str],
    body: bytes,
    jwks: Mapping[str, Any],
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise :class:`WebhookVerificationError` unless ``body`` + ``headers`` are a genuine fal delivery.

    ``now`` defaults to ``time.time()``; pass your test clock's time when it is not the wall clock.
    """
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}
    missing = [name for name in HEADERS if name.lower() not in lowered]
    if missing:
        raise WebhookVerificationError("missing_header", f"missing webhook header(s): {', '.join(missing)}")
    request_id, user_id, timestamp, signature = (lowered[name.lower()] for name in HEADERS)
    if not _TIMESTAMP.match(timestamp):
        raise WebhookVerificationError("bad_timestamp", f"{TIMESTAMP_HEADER} is not integer seconds: {timestamp!r}")
    moment = time.time() if now is None else now
    if abs(moment - int(timestamp)) > tolerance:
        raise WebhookVerificationError(
            "stale_timestamp",
            f"{TIMESTAMP_HEADER} {timestamp} is {abs(moment - int(timestamp)):.0f} s away from now "
            f"(tolerance {tolerance} s)",
        )
    if not _HEX_SIGNATURE.match(signature):
        raise WebhookVerificationError("bad_signature", f"{SIGNATURE_HEADER} is not 128 hex digits")
    keys = ed25519_keys(jwks)
    if not keys:
        raise WebhookVerificationError("no_keys", "the JWKS holds no Ed25519 (OKP) key")
    message = signed_message(request_id, user_id, timestamp, body)
    signature_bytes = bytes.fromhex(signature)
    for key in keys:
        try:
            key.verify(signature_bytes, message)
        except InvalidSignature:
            continue
        return
    raise WebhookVerificationError("mismatch", f"the signature matches none of the JWKS's {len(keys)} key(s)")


def verify_webhook(
    headers: Mapping[str, str],
    body: bytes,
    jwks: Mapping[str, Any],
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """True when ``body`` + ``headers`` pass fal's documented check (see :func:`check_webhook` for why not)."""
    try:
        check_webhook(headers, body, jwks, now=now, tolerance=tolerance)
    except WebhookVerificationError:
        return False
    return True


def fetch_jwks(http: httpx.Client, url: str = JWKS_URL) -> dict[str, Any]:
    """GET the key set at ``url`` with ``http`` (raises ``httpx.HTTPStatusError`` for non-2xx)."""
    response = http.get(url)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data
