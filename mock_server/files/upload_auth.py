"""Upload credentials: the CDN tokens the Python client asks for and the signed upload URLs of the JS client.

Both are stateless HMAC-SHA256 values under a key derived from ``Settings.seed``
(:class:`UploadAuthority`): a token or signature carries its own expiry on the mock's
clock and is checked by recomputing its MAC, so any worker process (and a restart with
the same seed) accepts what another issued.  Nothing is stored; the file store
(:class:`~.store.FileStore`) owns one authority and numbers the tokens it issues.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from ..clock import Clock


@dataclass(frozen=True)
class CdnToken:
    token: str
    token_type: str
    expires_at: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class UploadAuthority:
    """CDN tokens and upload-URL signatures: HMAC-SHA256 under a key derived from the seed.

    Nothing is remembered: a token or signature carries its own expiry (on the
    mock's clock) and is checked by recomputing its MAC, so it works across worker
    processes and restarts with the same seed.
    """

    TOKEN_PREFIX = "fmcdn"

    def __init__(self, clock: Clock, *, seed: int, token_ttl: float, url_ttl: float) -> None:
        self._clock = clock
        self._key = hashlib.sha256(f"fal-mock:{seed}:upload-authority".encode()).digest()
        self.token_ttl = token_ttl
        self.url_ttl = url_ttl

    def _mac(self, text: str) -> str:
        return _b64(hmac.new(self._key, text.encode(), hashlib.sha256).digest())

    def issue_token(self, sequence: int) -> CdnToken:
        expires = int(self._clock.now() + self.token_ttl) + 1
        payload = _b64(f"{expires}:{sequence}".encode())
        token = f"{self.TOKEN_PREFIX}.{payload}.{self._mac('token:' + payload)}"
        return CdnToken(token=token, token_type="Bearer", expires_at=float(expires))

    def check_token(self, token: str) -> str | None:
        """None when ``token`` is one we issued and still valid, else why not."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != self.TOKEN_PREFIX:
            return "not a CDN token issued by this server"
        if not hmac.compare_digest(parts[2], self._mac("token:" + parts[1])):
            return "CDN token signature does not match"
        try:
            expires = int(_unb64(parts[1]).decode().split(":", 1)[0])
        except (ValueError, UnicodeDecodeError):
            return "CDN token is malformed"
        if expires <= self._clock.now():
            return "CDN token has expired"
        return None

    def sign(self, purpose: str, fields: dict[str, str]) -> dict[str, str]:
        """Query parameters (``fields`` + ``expires`` + ``signature``) that :meth:`verify` accepts."""
        signed = {**fields, "expires": str(int(self._clock.now() + self.url_ttl) + 1)}
        signed["signature"] = self._mac(purpose + "?" + _canonical(signed))
        return signed

    def verify(self, purpose: str, query: dict[str, str]) -> str | None:
        """None when ``query`` carries a valid, unexpired signature for ``purpose``, else why not."""
        signature = query.get("signature")
        if not signature:
            return "the upload URL is not signed"
        fields = {name: value for name, value in query.items() if name != "signature"}
        if not hmac.compare_digest(signature, self._mac(purpose + "?" + _canonical(fields))):
            return "the upload URL's signature does not match"
        try:
            expires = int(fields.get("expires", ""))
        except ValueError:
            return "the upload URL is malformed"
        if expires <= self._clock.now():
            return "the upload URL has expired"
        return None


def _canonical(fields: dict[str, str]) -> str:
    return json.dumps(sorted(fields.items()), separators=(",", ":"))

