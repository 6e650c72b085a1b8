"""download_documents against a local stand-in for fal (httpx.MockTransport): no test touches the network."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fal_mock.mock_server.catalogue import (
    DEFAULT_BASE_URL,
    Catalogue,
    DownloadError,
    bundled_documents,
    document_filename,
    download,
    download_documents,
)

from .builders import simple_document

BUNDLED = {
    json.loads(d.read_text(encoding="utf-8"))["info"]["x-fal-metadata"]["endpointId"]: d for d in bundled_documents()
}
Handler = Callable[[httpx.Request], httpx.Response]


class FakeFal:
    """Serves documents by ``endpoint_id`` like fal's openapi.json route, and records the requests."""

    def __init__(self, documents: dict[str, bytes] | None = None) -> None:
        self.documents = documents if documents is not None else {k: v.read_bytes() for k, v in BUNDLED.items()}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        endpoint_id = request.url.params.get("endpoint_id", "")
        body = self.documents.get(endpoint_id)
        if body is None:
            return httpx.Response(404, json={"detail": f"Endpoint {endpoint_id} not found"})
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


def test_downloads_validates_and_writes_one_file_per_id(tmp_path: Path) -> None:
    fal = FakeFal()
    target = tmp_path / "docs" / "nested"
    ids = ["fal-ai/flux/dev", "fal-ai/wizper", "fal-ai/flux/dev"]
    with fal.client() as client:
        written = download_documents(ids, target, client=client)
    assert written == [target / "fal-ai__flux__dev.json", target / "fal-ai__wizper.json"]
    for path, endpoint_id in zip(written, ["fal-ai/flux/dev", "fal-ai/wizper"], strict=True):
        assert path.read_bytes() == BUNDLED[endpoint_id].read_bytes()  # byte for byte as served
    assert len(fal.requests) == 2  # duplicates fetched once
    request = fal.requests[0]
    assert str(request.url).startswith(DEFAULT_BASE_URL + "?")
    assert request.url.params["endpoint_id"] == "fal-ai/flux/dev"
    assert sorted(p.name for p in target.iterdir()) == ["fal-ai__flux__dev.json", "fal-ai__wizper.json"]
    catalogue = Catalogue([target], include_bundled=False)
    assert catalogue.ids() == ["fal-ai/flux/dev", "fal-ai/wizper"]
    assert catalogue.get("fal-ai/wizper") is not None


def test_base_url_is_configurable(tmp_path: Path) -> None:
    fal = FakeFal()
    with fal.client() as client:
        download_documents(["fal-ai/trellis"], tmp_path, base_url="http://127.0.0.1:9/openapi.json", client=client)
    assert str(fal.requests[0].url) == "http://127.0.0.1:9/openapi.json?endpoint_id=fal-ai%2Ftrellis"


def _answers(handler: Handler) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_a_non_200_answer_names_the_id_and_status_and_writes_nothing(tmp_path: Path) -> None:
    fal = FakeFal()
    with fal.client() as client, pytest.raises(DownloadError) as caught:
        download_documents(["fal-ai/flux/dev", "fal-ai/nope"], tmp_path / "out", client=client)
    error = caught.value
    assert (error.endpoint_id, error.status) == ("fal-ai/nope", 404)
    assert str(error) == 'fal-ai/nope: HTTP 404: expected 200; body: \'{"detail":"Endpoint fal-ai/nope not found"}\''
    assert not (tmp_path / "out").exists()  # the valid first document was not written either


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html>rate limited</html>", "not a JSON document"),
        (json.dumps({"openapi": "3.0.4", "info": {}}).encode(), "invalid document: "),
        (json.dumps(simple_document("acme/other")).encode(), "the answer is the document of 'acme/other'"),
    ],
)
def test_a_bad_document_is_refused(tmp_path: Path, body: bytes, words: str) -> None:
    (tmp_path / "acme__x.json").write_text("previous", encoding="utf-8")
    with _answers(lambda request: httpx.Response(200, content=body)) as client, pytest.raises(DownloadError) as caught:
        download_documents(["acme/x"], tmp_path, client=client)
    assert caught.value.endpoint_id == "acme/x"
    assert caught.value.status == 200
    assert words in str(caught.value)
    assert (tmp_path / "acme__x.json").read_text(encoding="utf-8") == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["acme__x.json"]  # no temporary file left


def test_the_normalisers_message_is_kept(tmp_path: Path) -> None:
    document = simple_document("acme/x")
    del document["paths"]["/acme/x/requests/{request_id}"]
    with _answers(lambda r: httpx.Response(200, json=document)) as client, pytest.raises(DownloadError) as caught:
        download_documents(["acme/x"], tmp_path, client=client)
    assert "$.paths: no output schema" in str(caught.value)
    assert f"{DEFAULT_BASE_URL}?endpoint_id=acme/x" in str(caught.value)


def test_a_transport_failure_is_a_download_error(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with _answers(refuse) as client, pytest.raises(DownloadError) as caught:
        download_documents(["acme/x"], tmp_path, client=client)
    assert caught.value.status is None
    assert str(caught.value) == "acme/x: no answer: ConnectError: connection refused"


def test_an_oversized_answer_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(download, "MAX_DOCUMENT_BYTES", 1000)
    document = json.dumps(simple_document("acme/x")).encode() + b" " * 2000
    with _answers(lambda r: httpx.Response(200, content=document)) as client, pytest.raises(DownloadError) as caught:
        download_documents(["acme/x"], tmp_path, client=client)
    assert "larger than 1000 bytes" in str(caught.value)


def test_an_existing_file_is_replaced_whole(tmp_path: Path) -> None:
    old = tmp_path / "fal-ai__trellis.json"
    old.write_text("stale", encoding="utf-8")
    fal = FakeFal()
    with fal.client() as client:
        download_documents(["fal-ai/trellis"], tmp_path, client=client)
    assert old.read_bytes() == BUNDLED["fal-ai/trellis"].read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["fal-ai__trellis.json"]


@pytest.mark.parametrize("bad", ["", "../etc/passwd", "fal-ai//x", "fal-ai/x y", "/fal-ai/x", "fal-ai/./x"])
def test_invalid_ids_are_refused_before_any_request(tmp_path: Path, bad: str) -> None:
    fal = FakeFal()
    with fal.client() as client, pytest.raises(ValueError, match="endpoint id"):
        download_documents(["fal-ai/flux/dev", bad], tmp_path, client=client)
    assert fal.requests == []


def test_ids_mapping_to_one_file_name_are_refused(tmp_path: Path) -> None:
    with FakeFal().client() as client, pytest.raises(ValueError, match=r"both map to the file name 'a__b\.json'"):
        download_documents(["a/b", "a__b"], tmp_path, client=client)


def test_document_filename() -> None:
    assert document_filename("fal-ai/flux/dev") == "fal-ai__flux__dev.json"
    assert document_filename("openrouter/router") == "openrouter__router.json"
    for bundled in bundled_documents():
        endpoint_id = json.loads(bundled.read_text(encoding="utf-8"))["info"]["x-fal-metadata"]["endpointId"]
        assert document_filename(endpoint_id) == bundled.name


def test_no_ids_no_requests(tmp_path: Path) -> None:
    fal = FakeFal()
    with fal.client() as client:
        assert download_documents([], tmp_path / "x", client=client) == []
    assert fal.requests == []
