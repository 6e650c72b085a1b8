"""Handlers of the REST host (``rest.fal.ai`` / ``rest.alpha.fal.ai`` / ``/rest``) that belong to webhooks.

``GET /.well-known/jwks.json`` publishes the public half of the mock's webhook
signing key (:mod:`...webhooks.signing`), where fal publishes its own (protocol reference
§4).  Like fal's, it needs no credentials; receivers may cache it (fal's docs say
up to 24 h), hence the ``Cache-Control`` header — our choice, fal's is not documented.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..render import fal_json
from ..request_parts import services

JWKS_MAX_AGE_SECONDS = 86_400


async def jwks(request: Request) -> Response:
    mock = services(request)
    return fal_json(
        mock.webhooks.jwks(),
        contract="webhooks/jwks",
        check=mock.settings.check_contracts,
        headers={"cache-control": f"public, max-age={JWKS_MAX_AGE_SECONDS}"},
    )
