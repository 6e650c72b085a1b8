"""Every bundled endpoint through the unmodified ``fal_client`` against a real ``fal-mock serve --tls`` socket
(the ``fal_mock_server`` fixture): the example input completes, the output validates against the endpoint's
Output schema, and every file downloads over HTTPS from the server and decodes."""

from __future__ import annotations

import base64
from pathlib import Path

import fal_client
import httpx
import pytest
from fal_mock.fixtures import FalMockServer
from fal_mock.mock_server.catalogue import Catalogue
from fal_mock.mock_server.jobs.endpoints import EndpointRegistry

from tests.mock_server.jobs.test_any_endpoint import check_decodes, file_objects
from tests.support import AUTH, ServeProcess

pytestmark = pytest.mark.slow
REGISTRY = EndpointRegistry(Catalogue())


def test_every_bundled_endpoint_on_serve_tls(fal_mock_server: FalMockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    fal_mock_server.configure_fal_client(monkeypatch)
    with fal_mock_server.http() as http:
        for endpoint in REGISTRY:
            output = fal_client.subscribe(endpoint.endpoint_id, endpoint.example_input())
            assert endpoint.output_problems(output) == [], endpoint.endpoint_id
            for _, meta in file_objects(output):
                url = meta["url"]
                if url.startswith("data:"):
                    data = base64.b64decode(url.split(",", 1)[1])
                else:
                    assert url.startswith(fal_mock_server.cdn_url + "/files/"), url
                    response = http.get(url)
                    assert response.status_code == 200, url
                    data = response.content
                check_decodes(data, meta)
    assert {job.endpoint_id for job in fal_mock_server.jobs} == set(REGISTRY.ids())
    assert all(job.state == "COMPLETED" for job in fal_mock_server.jobs)


def test_third_party_documents_through_serve_openapi(tmp_path: Path) -> None:
    """``fal-mock serve --openapi DIR``: the documents' endpoints answer over the wire like bundled ones."""
    data = Path(__file__).parents[1] / "catalogue" / "data"
    with ServeProcess(tmp_path, "--openapi", str(data), "--progression", "immediate") as server, \
            httpx.Client(base_url=server.url, headers=AUTH, timeout=30) as http:  # fmt: skip
        assert "acme/podcast/tts" in http.get("/_mock/health").json()["endpoints"]
        for endpoint_id in ("acme/podcast/tts", "acme/scene/to-3d", "acme/sketch-to-image"):
            endpoint = EndpointRegistry(Catalogue([data])).get(endpoint_id)
            assert endpoint is not None
            output = http.post(f"/run/{endpoint_id}", json=endpoint.example_input())
            assert output.status_code == 200, output.text
            assert endpoint.output_problems(output.json()) == []
            for _, meta in file_objects(output.json()):
                if meta["url"].startswith("data:"):
                    data_bytes = base64.b64decode(meta["url"].split(",", 1)[1])
                else:
                    assert meta["url"].startswith(server.url)
                    data_bytes = http.get(meta["url"]).content
                check_decodes(data_bytes, meta)
        document = http.get("/queue/openapi.json", params={"endpoint_id": "acme/podcast/tts"}).json()
        assert document["servers"] == [{"url": f"{server.url}/queue"}]
        assert document["info"]["x-fal-metadata"]["endpointId"] == "acme/podcast/tts"
