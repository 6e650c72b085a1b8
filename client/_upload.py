"""Uploads to fal's storage: the CDN-token flow, with the initiate + PUT flow as fallback.

Primary (what the official Python client does, protocol reference §5.1):

1. ``POST {rest}/storage/auth/token?storage_type=fal-cdn-v3`` with ``{}`` and the key →
   ``{"token", "token_type", "base_url", "expires_at"}``; the token is cached by the client
   until a minute before ``expires_at`` (which must carry a UTC offset);
2. ``POST {cdn}/files/upload`` with the raw bytes, ``Authorization: <token_type> <token>``,
   ``Content-Type`` and ``X-Fal-File-Name`` → ``{"access_url"}``.

The upload goes to the client's configured ``cdn_url`` (as the Python client uses its
``CDN_URL``), not to the token's ``base_url``.

Fallback, on any failure of the primary flow (what the JS client does, §5.2):

3. ``POST {rest}/storage/upload/initiate?storage_type=fal-cdn-v3`` with
   ``{"file_name", "content_type"}`` and the key → ``{"upload_url", "file_url"}``;
4. ``PUT <upload_url>`` with the bytes and ``Content-Type`` only — never the fal key: the
   upload URL is a pre-signed URL of another host (the official Python fallback leaks the
   key there; we do not).

Errors of the fallback are raised with the primary's error as their ``__cause__``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ._core import ClientCore, RequestSpec
from ._errors import FalProtocolError

TOKEN_STORAGE_TYPE = "fal-cdn-v3"
#: A token is renewed this long before it expires.
TOKEN_MARGIN = timedelta(seconds=60)
DEFAULT_FILE_NAME = "upload.bin"


@dataclass(frozen=True)
class CDNToken:
    token: str
    token_type: str
    base_url: str
    expires_at: datetime

    def fresh(self, now: datetime) -> bool:
        return now + TOKEN_MARGIN < self.expires_at

    @classmethod
    def from_json(cls, data: Any) -> CDNToken:
        if not isinstance(data, Mapping):
            raise FalProtocolError("the CDN token answer should be a JSON object")
        try:
            expires = datetime.fromisoformat(str(data["expires_at"]).replace("Z", "+00:00"))
            token = cls(str(data["token"]), str(data["token_type"]), str(data["base_url"]), expires)
        except KeyError as missing:
            raise FalProtocolError(f"the CDN token answer lacks {missing.args[0]!r}") from None
        except ValueError as error:
            raise FalProtocolError(f"the CDN token's expires_at is not an ISO date-time: {error}") from None
        if token.expires_at.tzinfo is None:
            raise FalProtocolError("the CDN token's expires_at has no UTC offset")
        return token


def now_utc() -> datetime:
    return datetime.now(UTC)


def token_request(core: ClientCore) -> RequestSpec:
    return RequestSpec(
        "POST",
        f"{core.rest_url.rstrip('/')}/storage/auth/token",
        headers=core.headers(),
        params={"storage_type": TOKEN_STORAGE_TYPE},
        json={},
    )


def cdn_upload_request(
    core: ClientCore, token: CDNToken, data: bytes, content_type: str, file_name: str | None
) -> RequestSpec:
    headers = core.headers({"Authorization": f"{token.token_type} {token.token}", "Content-Type": content_type},
                           auth=False)  # fmt: skip
    if file_name:
        headers["X-Fal-File-Name"] = file_name
    return RequestSpec("POST", f"{core.cdn_url.rstrip('/')}/files/upload", headers=headers, content=data)


def initiate_request(core: ClientCore, content_type: str, file_name: str | None) -> RequestSpec:
    return RequestSpec(
        "POST",
        f"{core.rest_url.rstrip('/')}/storage/upload/initiate",
        headers=core.headers(),
        params={"storage_type": TOKEN_STORAGE_TYPE},
        json={"file_name": file_name or DEFAULT_FILE_NAME, "content_type": content_type},
    )


def put_request(core: ClientCore, upload_url: str, data: bytes, content_type: str) -> RequestSpec:
    return RequestSpec("PUT", upload_url, headers=core.headers({"Content-Type": content_type}, auth=False),
                       content=data)  # fmt: skip


def access_url(body: Any) -> str:
    if not isinstance(body, Mapping) or not isinstance(body.get("access_url"), str):
        raise FalProtocolError("the CDN upload answer lacks 'access_url'")
    return str(body["access_url"])


def initiated(body: Any) -> tuple[str, str]:
    """``(upload_url, file_url)`` of an initiate answer."""
    if not isinstance(body, Mapping) or not isinstance(body.get("upload_url"), str):
        raise FalProtocolError("the upload initiate answer lacks 'upload_url'")
    if not isinstance(body.get("file_url"), str):
        raise FalProtocolError("the upload initiate answer lacks 'file_url'")
    return str(body["upload_url"]), str(body["file_url"])
