"""Resolving ``image_url``: data URIs, the mock's own storage under any host name, and the policies."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fal_mock.mock_server.clock import ManualClock
from fal_mock.mock_server.files.store import FileStore
from fal_mock.mock_server.jobs.errors import ModelError
from fal_mock.mock_server.jobs.inputs import InputResolver, placeholder_image, storage_key_in

from tests.support import png_bytes

OWN = {"127.0.0.1"}


@pytest.fixture
def files(clock: ManualClock) -> Iterator[FileStore]:
    store = FileStore(clock, seed=0, max_file_bytes=1 << 20, max_total_bytes=1 << 22)
    yield store
    store.close()


def no_network(url: str, field: str) -> bytes:
    raise AssertionError(f"the network was used for {url}")


def resolver(files: FileStore, policy: str = "placeholder", max_size: int = 1 << 20) -> InputResolver:
    return InputResolver(files=files, policy=policy, max_size=max_size, fetcher=no_network)


def error_of(raised: pytest.ExceptionInfo[ModelError]) -> dict[str, object]:
    body = raised.value.body()
    assert raised.value.status_code == 422
    entry: dict[str, object] = body["detail"][0]
    assert entry["loc"] == ["body", "image_url"]
    return entry


def test_data_uris(files: FileStore) -> None:
    png = png_bytes()
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    assert resolver(files).resolve(uri, field="image_url", own_hosts=OWN).data == png
    assert resolver(files).resolve("data:text/plain,hi%20there", field="image_url", own_hosts=OWN).data == b"hi there"
    with pytest.raises(ModelError) as raised:
        resolver(files, max_size=len(png) - 1).resolve(uri, field="image_url", own_hosts=OWN)
    entry = error_of(raised)
    assert entry["type"] == "file_too_large"
    assert entry["ctx"] == {"max_size": len(png) - 1}
    with pytest.raises(ModelError) as raised:
        resolver(files).resolve("data:image/png;base64,@@@", field="image_url", own_hosts=OWN)
    assert error_of(raised)["type"] == "file_download_error"


@pytest.mark.parametrize(
    "base",
    [
        "https://v3.fal.media/files/",  # in-process: fal's own CDN names
        "https://v3b.fal.media/files/",
        "http://127.0.0.1:8123/cdn/files/",  # a standalone server
        "https://127.0.0.1:8443/cdn/files/",
        "http://devbox.internal:3000/api/cdn/files/",  # a proxy's origin, or a name the mock never saw
    ],
)
def test_stored_files_are_read_internally_whatever_the_host(files: FileStore, base: str) -> None:
    stored = files.put(png_bytes(), file_name="in.png", content_type="image/png")
    resolved = resolver(files, policy="fetch").resolve(base + stored.key, field="image_url", own_hosts=OWN)
    assert resolved.kind == "storage"
    assert resolved.data == png_bytes()


def test_missing_files_on_the_mock_are_download_errors(files: FileStore, clock: ManualClock) -> None:
    stored = files.put(b"x", file_name="gone.png", content_type="image/png", expires_at=clock.now() + 5)
    clock.advance(5)
    for url in (f"http://127.0.0.1:8123/cdn/files/{stored.key}", "http://127.0.0.1:8123/cdn/files/not/a/key"):
        with pytest.raises(ModelError) as raised:
            resolver(files).resolve(url, field="image_url", own_hosts=OWN)
        entry = error_of(raised)
        assert entry["type"] == "file_download_error"
        assert "404" in str(entry["msg"])


def test_unknown_fal_cdn_urls_follow_the_policy(files: FileStore) -> None:
    url = "https://v3.fal.media/files/kangaroo/rIFaCsyWvBxYBKw3cPbOU_example.png"  # a doc example
    resolved = resolver(files).resolve(url, field="image_url", own_hosts=OWN)
    assert resolved.kind == "placeholder"
    assert resolved.data == placeholder_image(url)
    with pytest.raises(ModelError) as raised:
        resolver(files, policy="error").resolve(url, field="image_url", own_hosts=OWN)
    assert error_of(raised)["type"] == "file_download_error"


def test_stored_file_over_the_input_cap(files: FileStore) -> None:
    stored = files.put(b"y" * 2000, file_name="big.png", content_type="image/png")
    with pytest.raises(ModelError) as raised:
        resolver(files, max_size=1000).resolve(f"https://v3.fal.media/files/{stored.key}", field="image_url",
                                               own_hosts=OWN)  # fmt: skip
    entry = error_of(raised)
    assert entry["type"] == "file_too_large"
    assert entry["ctx"] == {"max_size": 1000}


def test_fetch_policy_hands_other_urls_to_the_fetcher(files: FileStore) -> None:
    seen: list[str] = []

    def fetcher(url: str, field: str) -> bytes:
        seen.append(url)
        return b"fetched"

    chosen = InputResolver(files=files, policy="fetch", max_size=100, fetcher=fetcher)
    assert chosen.resolve("https://example.com/cat.png", field="image_url", own_hosts=OWN).data == b"fetched"
    assert seen == ["https://example.com/cat.png"]
    with pytest.raises(ModelError):
        chosen.resolve("ftp://example.com/cat.png", field="image_url", own_hosts=OWN)
    assert seen == ["https://example.com/cat.png"]


def test_storage_key_in() -> None:
    key = "lion/" + "a" * 21 + "_x.png"
    assert storage_key_in(f"https://anything.example/some/prefix/files/{key}") == key
    assert storage_key_in(f"https://h/files/{key.replace('/', '%2F')}") == key
    assert storage_key_in("https://h/files/../../etc/passwd") is None
    assert storage_key_in(f"ftp://h/files/{key}") is None
