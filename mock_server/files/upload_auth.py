"""Upload credentials: the CDN tokens the Python client asks for and the signed upload URLs of the JS client.

Both are stateless HMAC-SHA256 values under a key derived from the server secret
(:mod:`.secret`: random per server, kept in the data directory; never the public seed
alone): a token or signature carries its own expiry on the mock's clock and is checked by
recomputing its MAC, so any worker process sharing the data directory (and a restart with
it) accepts what another issued, and nobody without the secret can forge one.  A CDN token
carries the namespace it was issued in (``X-Fal-Mock-Namespace`` or a ``ns-`` key of the token
call), so what the Python client uploads with it lands in that namespace.  Nothing is
stored; the file store (:class:`~.store.FileStore`) owns one authority and numbers the
tokens it issues.
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
    """CDN tokens and upload-URL signatures: HMAC-SHA256 under a key derived from the server secret.

    Nothing is remembered: a token or signature carries its own expiry (on the
    mock's clock) and is checked by recomputing its MAC, so it works across worker
    processes and restarts that share the secret.
    """

    TOKEN_PREFIX = "fmcdn"

    def __init__(self, clock: Clock, *, secret: bytes, token_ttl: float, url_ttl: float) -> None:
        self._clock = clock
        self._key = hmac.new(secret, b"fal-mock:upload-authority", hashlib.sha256).digest()
        self.token_ttl = token_ttl
        self.url_ttl = url_ttl

    def _mac(self, text: str) -> str:
        return _b64(hmac.digest(self._key, text.encode(), "sha256"))

    def issue_token(self, sequence: int, namespace: str = "") -> CdnToken:
        """A CDN token valid for ``token_ttl`` seconds; it carries (and signs) the issuer's ``namespace``."""
        expires = int(self._clock.now() + self.token_ttl) + 1
        payload = _b64(f"{expires}:{sequence}:{namespace}".encode())
        token = f"{self.TOKEN_PREFIX}.{payload}.{self._mac('token:' + payload)}"
        return CdnToken(token=token, token_type="Bearer", expires_at=float(expires))

    def _claims(self, token: str) -> tuple[int, str] | str:
        """``(expires, namespace)`` of a token whose MAC verifies, else why not."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != self.TOKEN_PREFIX:
            return "not a CDN token issued by this server"
        if not _same(parts[2], self._mac("token:" + parts[1])):
            return "CDN token signature does not match"
        try:
            fields = _unb64(parts[1]).decode().split(":", 2)
            return int(fields[0]), fields[2] if len(fields) == 3 else ""
        except (ValueError, UnicodeDecodeError):
            return "CDN token is malformed"

    def check_token(self, token: str) -> str | None:
        """None when ``token`` is one we issued and still valid, else why not."""
        claims = self._claims(token)
        if isinstance(claims, str):
            return claims
        if claims[0] <= self._clock.now():
            return "CDN token has expired"
        return None

    def token_namespace(self, token: str) -> str | None:
        """The namespace a genuine CDN token was issued in ("" for none); None for a token we did not issue."""
        claims = self._claims(token)
        return None if isinstance(claims, str) else claims[1]

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
        if not _same(signature, self._mac(purpose + "?" + _canonical(fields))):
            return "the upload URL's signature does not match"
        try:
            expires = int(fields.get("expires", ""))
        except ValueError:
            return "the upload URL is malformed"
        if expires <= self._clock.now():
            return "the upload URL has expired"
        return None


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison that also takes non-ASCII text (``hmac.compare_digest`` refuses it for str)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


def _canonical(fields: dict[str, str]) -> str:
    return json.dumps(sorted(fields.items()), separators=(",", ":"))

