"""The per-endpoint OpenAPI documents, served: ``GET /queue/openapi.json?endpoint_id=<id>``.

fal publishes one queue OpenAPI document per endpoint at
``https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=<id>``; the mock serves the same
document (generated from the contracts by :func:`fal_mock.contracts.openapi`) on its queue
service, with ``servers[0].url`` set to the queue base the request came in on — so a tool
pointed at the mock (schemathesis, a code generator) talks to the mock.  In-process it is
``https://queue.fal.run/openapi.json?endpoint_id=<id>``.  An unknown endpoint is 404 naming the
served ones; a missing ``endpoint_id`` is 400.  (The control API's own document is
``/_mock/openapi.json``.)
"""

from __future__ import annotations

from fal_mock import contracts
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
    document = contracts.openapi(endpoint.endpoint_id, queue_base=bases(request).queue)
    return fal_json(document, contract=None, check=False)  # an OpenAPI document, not a fal payload

