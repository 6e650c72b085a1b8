"""Every bundled endpoint through the unmodified ``fal_client`` against a real ``fal-mock serve --tls`` socket
(the ``fal_mock_server`` fixture): the example input completes, the output validates against the endpoint's
Output schema, and every file downloads over HTTPS from the server and decodes."""

from __future__ import annotations

import base64

import fal_client
import pytest
from fal_mock.fixtures import FalMockServer
from fal_mock.mock_server.catalogue import Catalogue
from fal_mock.mock_server.jobs.endpoints import EndpointRegistry

from tests.mock_server.jobs.test_any_endpoint import check_decodes, file_objects

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
