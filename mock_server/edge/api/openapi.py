"""The per-endpoint OpenAPI documents, served: ``GET /queue/openapi.json?endpoint_id=<id>``.

fal publishes one queue OpenAPI document per endpoint at
``https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=<id>``; the mock serves the document
it serves the endpoint from (bundled, or the user's ``--openapi`` file), as OpenAPI 3.1 (the
normalised Input and Output schemas, hoisted into ``components``) with the protocol's answers
(status, cancel, the error statuses) documented from the contracts by
:func:`fal_mock.contracts.openapi`, and ``servers`` set to the queue base the request came in on —
so a tool pointed at the mock (schemathesis, a code generator) talks to the mock.  In-process it is
``https://queue.fal.run/openapi.json?endpoint_id=<id>``.  An unknown endpoint is 404 naming the
served ones; a missing ``endpoint_id`` is 400.  (The control API's own document is
``/_mock/openapi.json``.)
"""

from __future__ import annotations

from fal_mock import contracts
from fal_mock.contracts.openapi import EndpointSchemas
from starlette.requests import Request
from starlette.responses import Response

from ...jobs.errors import PlainError
from ..render import fal_json
from ..request_parts import bases, services
from .queue import endpoint_for


async def queue_document(request: Request) -> Response:
    """``/openapi.json?endpoint_id=<id>`` on the queue service (fal's query form)."""
    mock = services(request)
    endpoint_id = request.query_params.get("endpoint_id", "").strip().strip("/")
    if not endpoint_id:
        raise PlainError(400, "Missing the endpoint_id query parameter (?endpoint_id=<owner>/<alias>/<path>)")
    endpoint = endpoint_for(mock, endpoint_id)
    spec = endpoint.spec
    schemas = EndpointSchemas(spec.input_name, spec.input_schema, spec.output_name, spec.output_schema, spec.metadata)
    document = contracts.openapi(endpoint.endpoint_id, queue_base=bases(request).queue, schemas=schemas)
    return fal_json(document, contract=None, check=False)  # an OpenAPI document, not a fal payload

