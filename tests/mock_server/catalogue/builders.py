"""Builders of fal-shaped OpenAPI documents for the catalogue tests (the layout of fal's real documents)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

QUEUE_STATUS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]},
        "request_id": {"type": "string", "description": "The request id."},
    },
    "required": ["status", "request_id"],
}


def _request_id() -> dict[str, Any]:
    return {"name": "request_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def fal_document(
    endpoint_id: str,
    input_schema: dict[str, Any],
    output_schema: dict[str, Any],
    *,
    components: dict[str, Any] | None = None,
    category: str = "text-to-image",
    input_name: str = "ThingInput",
    output_name: str = "ThingOutput",
    openapi: str = "3.0.4",
) -> dict[str, Any]:
    """A document shaped like fal's: metadata, QueueStatus, the four paths, the given components."""
    schemas = {"QueueStatus": QUEUE_STATUS, input_name: input_schema, output_name: output_schema}
    schemas.update(components or {})
    return copy.deepcopy(
        {
            "openapi": openapi,
            "info": {
                "title": f"Queue OpenAPI for {endpoint_id}",
                "version": "1.0.0",
                "description": f"The OpenAPI schema for the {endpoint_id} queue.",
                "x-fal-metadata": {
                    "endpointId": endpoint_id,
                    "category": category,
                    "playgroundUrl": f"https://fal.ai/models/{endpoint_id}",
                    "documentationUrl": f"https://fal.ai/models/{endpoint_id}/api",
                },
            },
            "components": {"schemas": schemas},
            "paths": {
                f"/{endpoint_id}/requests/{{request_id}}/status": {
                    "get": {
                        "parameters": [_request_id(), {"name": "logs", "in": "query", "schema": {"type": "number"}}],
                        "responses": {"200": {"content": {"application/json": {"schema": _ref("QueueStatus")}}}},
                    }
                },
                f"/{endpoint_id}/requests/{{request_id}}/cancel": {
                    "put": {"parameters": [_request_id()], "responses": {"200": {"description": "cancelled"}}}
                },
                f"/{endpoint_id}": {
                    "post": {
                        "requestBody": {
                            "required": True,
                            "content": {"application/json": {"schema": _ref(input_name)}},
                        },
                        "responses": {"200": {"content": {"application/json": {"schema": _ref("QueueStatus")}}}},
                    }
                },
                f"/{endpoint_id}/requests/{{request_id}}": {
                    "get": {
                        "parameters": [_request_id()],
                        "responses": {"200": {"content": {"application/json": {"schema": _ref(output_name)}}}},
                    }
                },
            },
            "servers": [{"url": "https://queue.fal.run"}],
        }
    )


def simple_document(endpoint_id: str = "acme/thing", **kwargs: Any) -> dict[str, Any]:
    """A small valid document: a prompt in, an image file out."""
    return fal_document(
        endpoint_id,
        {"type": "object", "properties": {"prompt": {"type": "string"}}, "required": ["prompt"]},
        {
            "type": "object",
            "properties": {"image": {"$ref": "#/components/schemas/File"}},
            "required": ["image"],
        },
        components={"File": {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]}},
        **kwargs,
    )


def write_json(path: Path, document: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path
