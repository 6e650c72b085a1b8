"""Property tests from each Input schema: valid input → an output valid against the Output schema; arbitrary
JSON → a 200 or fal's 422, never a 500. Driven by the unmodified ``fal_client`` (sync run) in-process."""

from __future__ import annotations

import json
from typing import Any

import fal_client
import pytest
from fal_client.client import FalClientHTTPError
from fal_mock.fixtures import FalMock
from fal_mock.mock_server.catalogue import Catalogue
from fal_mock.mock_server.jobs.endpoints import EndpointRegistry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from tests.support import data_uri, png_bytes

REGISTRY = EndpointRegistry(Catalogue())
#: Endpoints whose every input is cheap to honour (no 40-megapixel outputs): one per family.
ENDPOINTS = ["fal-ai/flux/dev", "fal-ai/wizper", "fal-ai/minimax/speech-02-hd", "openrouter/router",
             "fal-ai/trellis", "fal-ai/birefnet/v2"]  # fmt: skip
SETTINGS = settings(max_examples=8, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.filter_too_much])  # fmt: skip
WAV = "data:audio/wav;base64,UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQgAAAAAAAAAAAAAAA=="
FILES = {"image": data_uri(png_bytes()), "audio": WAV}
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def valid_inputs(endpoint_id: str) -> st.SearchStrategy[dict[str, Any]]:
    endpoint = REGISTRY.get(endpoint_id)
    assert endpoint is not None
    schema = endpoint.spec.input_schema
    defs = schema.get("$defs", {})
    files = {item.name: item for item in endpoint.spec.file_inputs}

    def prop(name: str, sub: dict[str, Any]) -> st.SearchStrategy[Any]:
        if name in files:
            value = FILES.get(files[name].media, FILES["image"])
            return st.just([value] if files[name].is_list else value)
        if name == "image_size":
            return st.sampled_from(["square", "portrait_4_3", "landscape_16_9", {"width": 256, "height": 192}])
        if name in ("text", "prompt"):
            return st.text(min_size=1, max_size=200)
        if structured(sub):  # hypothesis-jsonschema's object strategies need an old Hypothesis: use examples
            samples = [v for v in [*sub.get("examples", []), sub.get("default")] if v is not None]
            return st.sampled_from(samples) if samples else st.none()
        return from_schema({**sub, "$defs": defs})

    def structured(sub: dict[str, Any]) -> bool:
        text = json.dumps(sub)
        return '"$ref"' in text or '"object"' in text

    properties = schema["properties"]
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {name: prop(name, sub) for name, sub in properties.items() if name in required},
        optional={name: prop(name, sub) for name, sub in properties.items()
                  if name not in required and (name in files or name == "image_size" or not structured(sub))},
    )  # fmt: skip


@pytest.mark.parametrize("endpoint_id", ENDPOINTS)
def test_valid_input_gives_a_valid_output(fal_mock: FalMock, endpoint_id: str) -> None:
    endpoint = REGISTRY.get(endpoint_id)
    assert endpoint is not None

    @SETTINGS
    @given(valid_inputs(endpoint_id))
    def check(arguments: dict[str, Any]) -> None:
        output = fal_client.run(endpoint_id, arguments)
        assert endpoint.output_problems(output) == []

    check()


@pytest.mark.parametrize("endpoint_id", ENDPOINTS)
def test_arbitrary_input_is_a_422_never_a_500(fal_mock: FalMock, endpoint_id: str) -> None:
    endpoint = REGISTRY.get(endpoint_id)
    assert endpoint is not None
    names = sorted(endpoint.spec.input_schema["properties"])

    @SETTINGS
    @given(st.dictionaries(st.sampled_from(names) | st.text(max_size=6), JSON, max_size=6))
    def check(arguments: dict[str, Any]) -> None:
        try:
            output = fal_client.run(endpoint_id, arguments)
        except FalClientHTTPError as error:
            refused = error.response
        else:
            assert endpoint.output_problems(output) == []
            return
        assert refused.status_code == 422, refused.text
        assert all(entry["loc"][0] == "body" for entry in refused.json()["detail"])

    check()
