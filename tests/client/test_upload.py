"""upload: the CDN-token flow, token caching, and the initiate + PUT fallback (which never sends the key)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fal_mock.client import AsyncFalClient, FalClient, FalHTTPError

from tests.client.fakes import KEY, FakeFal, json_response

ACCESS = "https://v3.fal.media/files/zebra/abc_a.txt"
FILE_URL = "https://v3.fal.media/files/lion/def_upload.bin"
UPLOAD_URL = "https://storage.example/upload/def?sig=1"


def token(expires: datetime | None = None, **extra: str) -> dict[str, str]:
    when = expires or datetime.now(UTC) + timedelta(hours=1)
    return {"token": "tok", "token_type": "Bearer", "base_url": "https://v3.fal.media",
            "expires_at": when.isoformat(), **extra}  # fmt: skip


def cdn_fake(*tokens: httpx.Response) -> FakeFal:
    fake = FakeFal().add("POST /storage/auth/token", *(tokens or (json_response(200, token()),)))
    fake.add("POST /files/upload", json_response(200, {"access_url": ACCESS}))
    return fake


def make(fake: FakeFal) -> FalClient:
    return FalClient(KEY, http=httpx.Client(transport=fake.transport()), sleep=lambda _: None, validate=True)


def test_cdn_token_flow_sends_the_bytes_with_the_token_not_the_key() -> None:
    fake = cdn_fake()
    url = make(fake).upload(b"hello", "text/plain", "a.txt")
    assert url == ACCESS
    (token_request,) = fake.sent("POST", "/storage/auth/token")
    assert token_request.url.params["storage_type"] == "fal-cdn-v3"
    assert token_request.headers["authorization"] == f"Key {KEY}"
    assert json.loads(token_request.content) == {}
    (upload,) = fake.sent("POST", "/files/upload")
    assert str(upload.url) == "https://v3.fal.media/files/upload"
    assert upload.headers["authorization"] == "Bearer tok"
    assert upload.headers["content-type"] == "text/plain"
    assert upload.headers["x-fal-file-name"] == "a.txt"
    assert upload.content == b"hello"


def test_the_token_is_cached_until_it_nearly_expires() -> None:
    soon = datetime.now(UTC) + timedelta(seconds=30)
    fake = cdn_fake(json_response(200, token(soon)), json_response(200, token()))
    fal = make(fake)
    for _ in range(3):
        fal.upload(b"x", "application/octet-stream")
    # the first token expires within the safety margin, so it is renewed once; the second is reused
    assert len(fake.sent("POST", "/storage/auth/token")) == 2
    assert "x-fal-file-name" not in fake.sent("POST", "/files/upload")[0].headers


def test_fallback_initiate_and_put_without_the_key() -> None:
    no_user = json_response(401, {"detail": "No user found for Key ID and Secret"})
    fake = FakeFal().add("POST /storage/auth/token", no_user)
    fake.add("POST /storage/upload/initiate", json_response(200, {"upload_url": UPLOAD_URL, "file_url": FILE_URL}))
    fake.add("PUT /upload/def", httpx.Response(200))
    url = make(fake).upload(b"\x00\x01", "application/octet-stream")
    assert url == FILE_URL
    (initiate,) = fake.sent("POST", "/storage/upload/initiate")
    assert initiate.url.params["storage_type"] == "fal-cdn-v3"
    assert json.loads(initiate.content) == {"file_name": "upload.bin", "content_type": "application/octet-stream"}
    (put,) = fake.sent("PUT", "/upload/def")
    assert str(put.url) == UPLOAD_URL
    assert "authorization" not in put.headers
    assert put.content == b"\x00\x01"
    assert put.headers["content-type"] == "application/octet-stream"


def test_a_naive_expiry_is_a_broken_token_and_falls_back() -> None:
    naive = token()
    naive["expires_at"] = "2099-01-01T00:00:00"
    fake = FakeFal().add("POST /storage/auth/token", json_response(200, naive))
    fake.add("POST /storage/upload/initiate", json_response(200, {"upload_url": UPLOAD_URL, "file_url": FILE_URL}))
    fake.add("PUT /upload/def", httpx.Response(204))
    # validate=True would already reject the token's contract; without it the parser does
    fal = FalClient(KEY, http=httpx.Client(transport=fake.transport()))
    assert fal.upload(b"x", "text/plain") == FILE_URL


def test_when_both_flows_fail_the_fallbacks_error_is_raised_with_the_first_as_cause() -> None:
    fake = FakeFal().add("POST /storage/auth/token", json_response(403, {"detail": "User is locked."}))
    fake.add("POST /storage/upload/initiate", json_response(200, {"upload_url": UPLOAD_URL, "file_url": FILE_URL}))
    fake.add("PUT /upload/def", httpx.Response(403, text="<Error>SignatureDoesNotMatch</Error>"))
    with pytest.raises(FalHTTPError) as raised:
        make(fake).upload(b"x", "text/plain")
    assert raised.value.status_code == 403
    assert "SignatureDoesNotMatch" in raised.value.detail
    assert isinstance(raised.value.__cause__, FalHTTPError)
    assert raised.value.__cause__.detail == "User is locked."


async def test_async_upload_both_flows() -> None:
    fake = cdn_fake()
    fal = AsyncFalClient(KEY, http=httpx.AsyncClient(transport=fake.transport()), validate=True)
    assert await fal.upload(b"hello", "text/plain", "a.txt") == ACCESS
    broken = FakeFal().add("POST /storage/auth/token", httpx.ConnectError("refused"))
    broken.add("POST /storage/upload/initiate", json_response(200, {"upload_url": UPLOAD_URL, "file_url": FILE_URL}))
    broken.add("PUT /upload/def", httpx.Response(200))

    async def no_sleep(_: float) -> None:
        return None

    fal = AsyncFalClient(KEY, http=httpx.AsyncClient(transport=broken.transport()), sleep=no_sleep)
    assert await fal.upload(b"hello", "text/plain") == FILE_URL
