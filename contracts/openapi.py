"""Per-endpoint OpenAPI documents generated from the contracts, shaped like fal's.

fal serves one queue OpenAPI document per endpoint
(``https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=<id>``): ``info`` with
``x-fal-metadata``, ``servers`` = the queue host, an ``apiKeyAuth`` security scheme on the
``Authorization`` header, the submit / status / cancel / result paths and
``components.schemas`` (``QueueStatus``, ``<Name>Input``, ``<Name>Output``, ``File``...).
Differences from fal's own documents (see contracts/README.md): OpenAPI 3.1.0 instead of
3.0.4 (the contracts are JSON Schema 2020-12), status/cancel/result under the short
``/{owner}/{alias}/requests/{request_id}`` form the service actually answers on, and response
schemas for the error statuses, all taken from the contracts.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag, urljoin

from ._loader import Contracts, default_contracts

DEFAULT_QUEUE_BASE = "https://queue.fal.run"
OPENAPI_VERSION = "3.1.0"
_NAMESPACES = ("workflows", "comfy")
_DATA_KEYWORDS = frozenset({"examples", "default", "const", "enum"})
# keywords whose value maps arbitrary names (which may be "default", "$ref"...) to subschemas
_SCHEMA_MAP_KEYWORDS = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
_LEGACY_ID = re.compile(r"([0-9]+)-([a-zA-Z0-9-]+)")
# Contracts every document carries besides the endpoint's own input and output.
_PROTOCOL_CONTRACTS = (
    "queue/submit-response",
    "queue/status",
    "queue/status-in-queue",
    "queue/status-in-progress",
    "queue/status-completed",
    "queue/cancel-response",
    "errors/error",
    "errors/validation-error",
    "errors/request-error",
    "errors/http-error",
)


def app_path(endpoint_id: str) -> str:
    """``owner/alias`` (with a namespace if any) as the clients split an endpoint id.

    Status, result and cancel live under ``/{app_path}/requests/{request_id}``.
    """
    parts = endpoint_id.split("/")
    if len(parts) == 1:
        match = _LEGACY_ID.fullmatch(endpoint_id)
        if not match:
            raise ValueError(f"invalid endpoint id {endpoint_id!r}")
        return f"{match[1]}/{match[2]}"
    if parts[0] in _NAMESPACES:
        if len(parts) < 3:
            raise ValueError(f"invalid endpoint id {endpoint_id!r}")
        return "/".join(parts[:3])
    if not all(parts[:2]):
        raise ValueError(f"invalid endpoint id {endpoint_id!r}")
    return "/".join(parts[:2])


def _pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def component_name(contract: str) -> str:
    """The ``components.schemas`` key of a contract, following fal's naming.

    ``endpoints/fal-ai/decart/lucy-5b/image-to-video/input`` → ``DecartLucy5bImageToVideoInput``,
    ``queue/status`` → ``QueueStatus``, ``file`` → ``File``, ``errors/http-error`` → ``HttpError``.
    """
    if contract.startswith("endpoints/"):
        endpoint_id, _, kind = contract[len("endpoints/") :].rpartition("/")
        return _pascal(endpoint_id.removeprefix("fal-ai/")) + _pascal(kind)
    if contract.startswith("queue/"):
        return "Queue" + _pascal(contract[len("queue/") :])
    return _pascal(contract.rpartition("/")[2])


class _Inliner:
    """Copies contracts into ``components.schemas`` with ``$ref``s rewritten to local pointers."""

    def __init__(self, contracts: Contracts) -> None:
        self._contracts = contracts
        self._by_id = {contracts.schema(name)["$id"]: name for name in contracts.names()}
        self.components: dict[str, dict[str, Any]] = {}
        self._names: dict[str, str] = {}  # component name -> contract

    def ref(self, contract: str) -> dict[str, str]:
        """A ``$ref`` to ``contract``'s component, inlining it (and what it references) first."""
        return {"$ref": f"#/components/schemas/{self._include(contract)}"}

    def _include(self, contract: str) -> str:
        component = component_name(contract)
        owner = self._names.setdefault(component, contract)
        if owner != contract:
            raise ValueError(f"contracts {owner!r} and {contract!r} both map to component {component!r}")
        if component not in self.components:
            document = self._contracts.schema(contract)
            base = document.pop("$id")
            document.pop("$schema", None)
            self.components[component] = {}  # reserve the name before recursing (cycles)
            self.components[component] = self._rewrite(document, base, component)
        return component

    def _rewrite(self, node: Any, base: str, component: str) -> Any:
        if isinstance(node, list):
            return [self._rewrite(item, base, component) for item in node]
        if not isinstance(node, dict):
            return node
        result: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                result[key] = self._pointer(value, base, component)
            elif key in _DATA_KEYWORDS:
                result[key] = copy.deepcopy(value)  # instance data, never rewritten
            elif key in _SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
                result[key] = {name: self._rewrite(sub, base, component) for name, sub in value.items()}
            else:
                result[key] = self._rewrite(value, base, component)
        return result

    def _pointer(self, ref: str, base: str, component: str) -> str:
        target, fragment = urldefrag(urljoin(base, ref))
        if fragment and not fragment.startswith("/"):
            raise ValueError(f"{component}: only JSON-pointer fragments are supported, not {ref!r}")
        if target == base:
            name = component
        elif target in self._by_id:
            name = self._include(self._by_id[target])
        else:
            raise ValueError(f"{component}: $ref {ref!r} resolves to {target!r}, which is no contract")
        return f"#/components/schemas/{name}{fragment}"


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


@dataclass(frozen=True)
class EndpointSchemas:
    """An endpoint's payloads as normalised JSON Schema 2020-12 documents (``$defs`` inside), e.g. from fal's
    own OpenAPI document: used instead of the endpoint's contracts."""

    input_name: str
    input_schema: Mapping[str, Any]
    output_name: str
    output_schema: Mapping[str, Any]
    metadata: Mapping[str, Any]


def _hoist(name: str, schema: Mapping[str, Any], components: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Put a normalised schema and its ``$defs`` into ``components`` (refs rewritten); a ``$ref`` to it."""

    def rewrite(node: Any) -> Any:
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        result: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#"):
                pointer = value[1:]
                if pointer.startswith("/$defs/"):
                    result[key] = "#/components/schemas/" + pointer[len("/$defs/") :]
                else:
                    result[key] = f"#/components/schemas/{name}{pointer}"
            elif key in _DATA_KEYWORDS:
                result[key] = copy.deepcopy(value)
            elif key in _SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
                result[key] = {sub: rewrite(item) for sub, item in value.items()}
            else:
                result[key] = rewrite(value)
        return result

    root = {key: value for key, value in schema.items() if key not in ("$defs", "$schema", "$id")}
    components[name] = rewrite(root)
    defs = schema.get("$defs")
    for def_name, definition in (defs.items() if isinstance(defs, Mapping) else ()):
        components.setdefault(def_name, rewrite(definition))
    return {"$ref": f"#/components/schemas/{name}"}


def openapi(
    endpoint_id: str,
    *,
    queue_base: str = DEFAULT_QUEUE_BASE,
    contracts: Contracts | None = None,
    schemas: EndpointSchemas | None = None,
) -> dict[str, Any]:
    """The fal-shaped queue OpenAPI 3.1 document of ``endpoint_id`` (KeyError if it has no contracts).

    ``queue_base`` becomes ``servers[0].url`` (pass the mock's own queue base to serve it).
    """
    contracts = contracts if contracts is not None else default_contracts()
    app = app_path(endpoint_id)
    inliner = _Inliner(contracts)
    ref = inliner.ref
    if schemas is None:
        input_ref = ref(contracts.endpoint_contract(endpoint_id, "input"))
        output_ref = ref(contracts.endpoint_contract(endpoint_id, "output"))
    else:
        input_ref = _hoist(schemas.input_name, schemas.input_schema, inliner.components)
        output_ref = _hoist(schemas.output_name, schemas.output_schema, inliner.components)

    request_id = {
        "name": "request_id",
        "in": "path",
        "required": True,
        "description": "Request ID",
        "schema": {"type": "string"},
    }
    logs = {
        "name": "logs",
        "in": "query",
        "required": False,
        "description": "Whether to include logs in the response: `1`/`true` or `0`/`false` (JS sends 1/0, "
        "Python true/false).",
        "schema": {"type": "string", "enum": ["0", "1", "true", "false"]},
    }
    auth_errors = {
        "401": _json("Missing or unknown key.", ref("errors/http-error")),
        "403": _json("Account locked (e.g. exhausted balance).", ref("errors/http-error")),
    }
    unknown = {
        "404": _json("Unknown request id.", ref("errors/http-error")),
        "405": _json("Wrong path form (the endpoint sub-path is dropped here).", ref("errors/http-error")),
    }
    other = {"default": _json("Any other fal error body.", ref("errors/error"))}

    paths: dict[str, Any] = {
        f"/{endpoint_id}": {
            "post": {
                "operationId": "submit",
                "summary": "Submit a request to the queue",
                "description": "The body is the model input itself. Input is validated by the runner: an "
                "invalid input is accepted here and its 422 is returned by the result endpoint. The optional "
                "query parameters `fal_webhook` and `fal_max_queue_length` are not described.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": input_ref}},
                },
                "responses": {
                    "200": _json("The request status.", ref("queue/submit-response")),
                    "400": _json("Invalid platform header.", ref("errors/error")),
                    **auth_errors,
                    "413": _json("Request body too large.", ref("errors/http-error")),
                    "422": _json(
                        "Invalid input (only when the server validates at submit).",
                        ref("errors/validation-error"),
                    ),
                    "429": _json("Queue longer than fal_max_queue_length.", ref("errors/http-error")),
                    **other,
                },
            }
        },
        f"/{app}/requests/{{request_id}}/status": {
            "get": {
                "operationId": "getRequestStatus",
                "summary": "Get the status of a request",
                "parameters": [request_id, logs],
                "responses": {
                    "200": _json("The request is completed.", ref("queue/status-completed")),
                    "202": _json(
                        "The request is queued or in progress.",
                        {"oneOf": [ref("queue/status-in-queue"), ref("queue/status-in-progress")]},
                    ),
                    **auth_errors,
                    **unknown,
                    **other,
                },
            }
        },
        f"/{app}/requests/{{request_id}}/cancel": {
            "put": {
                "operationId": "cancelRequest",
                "summary": "Cancel a request",
                "parameters": [request_id],
                "responses": {
                    "200": _json("Cancelled.", ref("queue/cancel-response")),
                    "202": _json("Cancellation requested (it may still run).", ref("queue/cancel-response")),
                    "400": _json("The request already completed.", ref("queue/cancel-response")),
                    **auth_errors,
                    "404": _json(
                        "Unknown request id.",
                        {"anyOf": [ref("queue/cancel-response"), ref("errors/http-error")]},
                    ),
                    "405": unknown["405"],
                    **other,
                },
            }
        },
        f"/{app}/requests/{{request_id}}": {
            "get": {
                "operationId": "getRequestResult",
                "summary": "Get the result of a completed request",
                "description": "The model output; for a failed request, the model's error status and body.",
                "parameters": [request_id],
                "responses": {
                    "200": _json("Result of the request.", output_ref),
                    "400": _json("The request is not completed yet.", ref("errors/http-error")),
                    **auth_errors,
                    **unknown,
                    "422": _json(
                        "The request failed validation or with a model error.", ref("errors/validation-error")
                    ),
                    **other,
                },
            }
        },
    }
    for contract in _PROTOCOL_CONTRACTS:
        ref(contract)

    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": f"Queue OpenAPI for {endpoint_id}",
            "version": "1.0.0",
            "description": f"The OpenAPI schema for the {endpoint_id} queue (generated by fal-mock from "
            "its contracts).",
            "x-fal-metadata": dict(schemas.metadata) if schemas is not None else {
                "endpointId": endpoint_id,
                "category": _category(endpoint_id),
                "playgroundUrl": f"https://fal.ai/models/{endpoint_id}",
                "documentationUrl": f"https://fal.ai/models/{endpoint_id}/api",
            },
        },
        "servers": [{"url": queue_base.rstrip("/")}],
        "security": [{"apiKeyAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "apiKeyAuth": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "Fal Key: `Key <key_id>:<key_secret>`",
                }
            },
            "schemas": dict(sorted(inliner.components.items())),
        },
    }


def _category(endpoint_id: str) -> str:
    """fal's category; for these endpoints the last id segment (``image-to-video``)."""
    last = endpoint_id.rpartition("/")[2]
    return last if re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*-to-[a-z0-9]+(-[a-z0-9]+)*", last) else "other"
