"""The generated per-endpoint OpenAPI documents."""

from __future__ import annotations

import importlib.util
import json
from typing import Any
from urllib.parse import unquote

import pytest
from fal_mock import contracts
from fal_mock.contracts.openapi import app_path, component_name
from jsonschema import Draft202012Validator

ENDPOINTS = contracts.endpoint_ids()
APPS = {
    "fal-ai/decart/lucy-5b/image-to-video": ("fal-ai/decart", "DecartLucy5bImageToVideo"),
    "fal-ai/minimax-video/image-to-video": ("fal-ai/minimax-video", "MinimaxVideoImageToVideo"),
}


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in refs(item)]
    return []


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"non-local $ref {ref!r}"
    node: Any = document
    for token in ref[2:].split("/"):
        token = unquote(token).replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def schema_at(document: dict[str, Any], operation: dict[str, Any], status: str) -> Any:
    return operation["responses"][status]["content"]["application/json"]["schema"]


@pytest.fixture(params=ENDPOINTS)
def endpoint_id(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_shape(endpoint_id: str) -> None:
    document = contracts.openapi(endpoint_id)
    app, stem = APPS[endpoint_id]
    assert document["openapi"].startswith("3.")
    assert document["info"]["x-fal-metadata"]["endpointId"] == endpoint_id
    assert document["info"]["x-fal-metadata"]["category"] == "image-to-video"
    assert document["servers"] == [{"url": "https://queue.fal.run"}]
    assert document["security"] == [{"apiKeyAuth": []}]
    assert document["components"]["securitySchemes"]["apiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "Fal Key: `Key <key_id>:<key_secret>`",
    }
    operations = {(method, path) for path, item in document["paths"].items() for method in item}
    assert operations == {
        ("post", f"/{endpoint_id}"),
        ("get", f"/{app}/requests/{{request_id}}/status"),
        ("put", f"/{app}/requests/{{request_id}}/cancel"),
        ("get", f"/{app}/requests/{{request_id}}"),
    }
    schemas = document["components"]["schemas"]
    assert {f"{stem}Input", f"{stem}Output", "QueueStatus", "File"} <= set(schemas)
    json.dumps(document)  # plain JSON data


def test_queue_base(endpoint_id: str) -> None:
    document = contracts.openapi(endpoint_id, queue_base="http://127.0.0.1:8000/queue/")
    assert document["servers"] == [{"url": "http://127.0.0.1:8000/queue"}]


def test_every_ref_resolves_inside_the_document(endpoint_id: str) -> None:
    document = contracts.openapi(endpoint_id)
    found = refs(document)
    assert found
    for ref in found:
        assert isinstance(resolve(document, ref), dict), ref
    for schema in document["components"]["schemas"].values():
        assert "$id" not in schema
        assert "$schema" not in schema
        Draft202012Validator.check_schema(schema)


def test_submit_body_is_the_input_contract(endpoint_id: str) -> None:
    document = contracts.openapi(endpoint_id)
    submit = document["paths"][f"/{endpoint_id}"]["post"]
    assert submit["requestBody"]["required"] is True
    body = resolve(document, submit["requestBody"]["content"]["application/json"]["schema"]["$ref"])
    expected = contracts.schema(contracts.endpoint_contract(endpoint_id, "input"))
    del expected["$id"], expected["$schema"]
    assert body == expected


def test_response_schemas_come_from_the_contracts(endpoint_id: str) -> None:
    document = contracts.openapi(endpoint_id)
    app, stem = APPS[endpoint_id]
    paths = document["paths"]
    component = "#/components/schemas/{}".format
    submit = paths[f"/{endpoint_id}"]["post"]
    status = paths[f"/{app}/requests/{{request_id}}/status"]["get"]
    cancel = paths[f"/{app}/requests/{{request_id}}/cancel"]["put"]
    result = paths[f"/{app}/requests/{{request_id}}"]["get"]

    assert schema_at(document, submit, "200") == {"$ref": component("QueueSubmitResponse")}
    assert schema_at(document, status, "200") == {"$ref": component("QueueStatusCompleted")}
    assert schema_at(document, status, "202") == {
        "oneOf": [{"$ref": component("QueueStatusInQueue")}, {"$ref": component("QueueStatusInProgress")}]
    }
    for operation in (status, result):
        assert schema_at(document, operation, "404") == {"$ref": component("HttpError")}
        assert schema_at(document, operation, "405") == {"$ref": component("HttpError")}
    assert schema_at(document, cancel, "202") == {"$ref": component("QueueCancelResponse")}
    assert schema_at(document, cancel, "400") == {"$ref": component("QueueCancelResponse")}
    assert schema_at(document, result, "200") == {"$ref": component(f"{stem}Output")}
    assert schema_at(document, result, "400") == {"$ref": component("HttpError")}
    assert schema_at(document, result, "422") == {"$ref": component("ValidationError")}
    for operation in (submit, status, cancel, result):
        assert schema_at(document, operation, "default") == {"$ref": component("Error")}
        assert schema_at(document, operation, "401") == {"$ref": component("HttpError")}
    output = document["components"]["schemas"][f"{stem}Output"]
    assert output["properties"]["video"]["$ref"] == component("File")
    assert document["components"]["schemas"]["QueueStatus"]["oneOf"][0] == {
        "$ref": component("QueueStatusInQueue")
    }


def test_unknown_endpoint() -> None:
    with pytest.raises(KeyError):
        contracts.openapi("fal-ai/flux/dev")


@pytest.mark.parametrize(
    ("endpoint_id", "app"),
    [
        ("fal-ai/decart/lucy-5b/image-to-video", "fal-ai/decart"),
        ("fal-ai/minimax-video", "fal-ai/minimax-video"),
        ("workflows/me/flow/run", "workflows/me/flow"),
        ("1234-my-app", "1234/my-app"),
    ],
)
def test_app_path(endpoint_id: str, app: str) -> None:
    assert app_path(endpoint_id) == app


@pytest.mark.parametrize("endpoint_id", ["nope", "fal-ai/", "workflows/me"])
def test_app_path_rejects_invalid_ids(endpoint_id: str) -> None:
    with pytest.raises(ValueError, match="invalid endpoint id"):
        app_path(endpoint_id)


def test_component_names() -> None:
    assert (
        component_name("endpoints/fal-ai/decart/lucy-5b/image-to-video/input")
        == "DecartLucy5bImageToVideoInput"
    )
    assert component_name("queue/status-in-queue") == "QueueStatusInQueue"
    assert component_name("log-entry") == "LogEntry"
    assert component_name("errors/http-error") == "HttpError"


@pytest.mark.skipif(
    importlib.util.find_spec("openapi_spec_validator") is None,
    reason="openapi-spec-validator is not installed (optional)",
)
def test_openapi_spec_validator(endpoint_id: str) -> None:
    from openapi_spec_validator import validate  # type: ignore[import-not-found, unused-ignore]

    validate(contracts.openapi(endpoint_id))


def test_schemathesis_loads_every_operation(endpoint_id: str) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    schema = schemathesis.openapi.from_dict(contracts.openapi(endpoint_id, queue_base="http://127.0.0.1:9"))
    operations = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert len(operations) == 4
