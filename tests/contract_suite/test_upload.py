"""Storage: the CDN-token upload, the initiate + PUT fallback, and uploaded files as model inputs."""

from __future__ import annotations

import base64

from fal_mock.client import FalClient, VideoOutput

from tests.contract_suite.targets import MINIMAX, Target, png_data_uri


def png() -> bytes:
    return base64.b64decode(png_data_uri().partition(",")[2])


def test_upload_then_download(target: Target) -> None:
    target.store()
    url = target.fal.upload(b"hello from the contract suite", "text/plain", "hello.txt")
    assert url.startswith(("https://", "http://"))
    assert url.endswith("hello.txt")
    assert [r.is_success for r in target.answers("POST", "/storage/auth/token")] == [True]
    assert [r.is_success for r in target.answers("POST", "/files/upload")] == [True]
    fetched = target.http.get(url)
    assert fetched.status_code == 200
    assert fetched.content == b"hello from the contract suite"
    assert fetched.headers["content-type"].startswith("text/plain")


def test_upload_falls_back_to_initiate_and_put(target: Target) -> None:
    target.store()
    core = target.fal.core
    broken_cdn = FalClient(core.key, http=target.http, validate=True, rest_url=core.rest_url,
                           cdn_url=core.cdn_url + "/no-such-prefix", sleep=target.sleep)  # fmt: skip
    url = broken_cdn.upload(png(), "image/png", "first-frame.png")
    assert target.answers("POST", "/no-such-prefix/files/upload")[-1].status_code >= 400
    assert target.answers("POST", "/storage/upload/initiate")[-1].is_success
    (put,) = target.answers("PUT")
    assert put.is_success
    assert "authorization" not in put.request.headers
    fetched = target.http.get(url)
    assert fetched.status_code == 200
    assert fetched.content == png()


def test_an_uploaded_file_is_a_model_input(target: Target) -> None:
    target.spend()
    url = target.fal.upload(png(), "image/png", "first-frame.png")
    output = target.fal.run(MINIMAX, {"prompt": "a slow pan", "image_url": url})
    assert isinstance(output, VideoOutput)
