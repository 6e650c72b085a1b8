"""The official JavaScript client against one endpoint of each output family on ``fal-mock serve``: the example
input completes, the output validates against the endpoint's Output schema, and every file decodes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fal_mock.mock_server.catalogue import Catalogue
from fal_mock.mock_server.jobs.endpoints import EndpointRegistry

from tests.contract_suite.targets import MOCK_KEY, contract_server
from tests.mock_server.jobs.test_any_endpoint import check_decodes, file_objects
from tests.support import node_checks, require_node

pytestmark = [pytest.mark.node, pytest.mark.slow]
REGISTRY = EndpointRegistry(Catalogue())
#: One endpoint per category of the bundled catalogue.
PER_CATEGORY = sorted({endpoint.category: endpoint.endpoint_id for endpoint in reversed(list(REGISTRY))}.values())


def test_one_endpoint_per_category(tmp_path_factory: pytest.TempPathFactory) -> None:
    require_node()
    jobs = [{"id": endpoint_id, "input": REGISTRY.get(endpoint_id).example_input()} for endpoint_id in PER_CATEGORY]  # type: ignore[union-attr]
    assert len({REGISTRY.get(i).category for i in PER_CATEGORY}) >= 9  # type: ignore[union-attr]
    with contract_server(tmp_path_factory.mktemp("fal-mock-js-any"), tls=False) as server:
        facts = node_checks("endpoints.mjs", server.url, MOCK_KEY, json.dumps(jobs))
        with httpx.Client(timeout=30) as http:
            for endpoint_id in PER_CATEGORY:
                seen: dict[str, Any] = facts[("fetch", endpoint_id)]
                assert seen["ok"], seen
                assert seen["states"][-1] == "COMPLETED"
                endpoint = REGISTRY.get(endpoint_id)
                assert endpoint is not None
                assert endpoint.output_problems(seen["data"]) == []
                for _, meta in file_objects(seen["data"]):
                    assert meta["url"].startswith(f"{server.url}/cdn/files/") or meta["url"].startswith("data:")
                    if meta["url"].startswith("data:"):
                        continue
                    response = http.get(meta["url"])
                    assert response.status_code == 200
                    check_decodes(response.content, meta)
