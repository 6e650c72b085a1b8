"""The authorization stage: what fal's gateway checks before anything else, route by route.

Every route of the URL map (:mod:`.routes`) declares its :class:`Access`; :class:`AccessRoute`
checks it before the handler runs, so no handler can forget it and a new route must choose:

``KEY``
    fal's API key: ``Authorization: Key <key_id>:<key_secret>`` (or ``Bearer <token>``).
``CDN``
    a CDN token from ``/storage/auth/token`` (checked, with its expiry on the mock's clock) or a
    fal key — fal's CDN upload calls.
``SIGNED``
    a signed URL the mock handed out (``initiate``): the handler verifies the signature, which
    names what it grants (one PUT to one key, the parts of one multipart upload).
``PUBLIC``
    nothing: served files, the JWKS, CORS preflights, OpenAPI documents, the ``/proxy``
    envelope (what it dispatches is checked) and the control API (its own token:
    :class:`~.api.control.ControlGuard`).

Modes (``Settings.auth``):

``format`` (default)
    a key or bearer token of the right shape is required; any value of that shape passes.  A
    ``Key`` without a colon gets fal's format error; a missing header gets 401.
``keys``
    as ``format``, and the key (or bearer token) must be one of ``Settings.keys``; others get
    fal's ``No user found for Key ID and Secret``.
``off``
    nothing is checked.

The bodies are fal's (protocol reference §3.1); the one for a missing header is not documented
and is our choice.
"""

from __future__ import annotations

import enum
from typing import Any

from starlette.requests import HTTPConnection
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..jobs.errors import PlainError
from ..settings import Settings

NO_USER = "No user found for Key ID and Secret"
BAD_FORMAT = "Invalid Key Authorization header format. Expected '<key_id>:<key_secret>'."
MISSING = "Missing Authorization header: send 'Authorization: Key <key_id>:<key_secret>'"
MISSING_CDN = "Missing Authorization header: send 'Authorization: Bearer <token from /storage/auth/token>'"


class Access(enum.Enum):
    KEY = "key"
    CDN = "cdn"
    SIGNED = "signed"
    PUBLIC = "public"


def credential(header: str | None) -> tuple[str, str] | None:
    """``(scheme, value)`` of an Authorization header (scheme lower-cased), or None."""
    if not header or not header.strip():
        return None
    scheme, _, value = header.strip().partition(" ")
    return scheme.lower(), value.strip()


def check(settings: Settings, connection: HTTPConnection) -> str:
    """The caller's identity (the key id or ``bearer``), or raise fal's 401."""
    if settings.auth == "off":
        return "anonymous"
    parsed = credential(connection.headers.get("authorization"))
    if parsed is None:
        raise PlainError(401, MISSING)
    scheme, value = parsed
    if scheme == "key":
        if ":" not in value or value.startswith(":") or value.endswith(":"):
            raise PlainError(401, BAD_FORMAT)
        if settings.auth == "keys" and value not in settings.keys:
            raise PlainError(401, NO_USER)
        return value.split(":", 1)[0]
    if scheme == "bearer" and value:
        if settings.auth == "keys" and value not in settings.keys:
            raise PlainError(401, NO_USER)
        return "bearer"
    raise PlainError(401, BAD_FORMAT)


def check_cdn(connection: HTTPConnection) -> None:
    """A CDN token from ``/storage/auth/token`` (or a fal key) unless auth is off."""
    mock = connection.app.state.mock
    if mock.settings.auth == "off":
        return
    parsed = credential(connection.headers.get("authorization"))
    if parsed is None:
        raise PlainError(401, MISSING_CDN)
    scheme, value = parsed
    if scheme == "bearer":
        why = mock.files.authority.check_token(value)
        if why is not None:
            raise PlainError(401, f"Invalid CDN token: {why}")
        return
    check(mock.settings, connection)


class AccessRoute(Route):
    """A route that checks its :class:`Access` before its handler runs."""

    def __init__(self, path: str, endpoint: Any, *, methods: list[str], access: Access) -> None:
        super().__init__(path, endpoint, methods=methods)
        self.access = access

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            pass  # the 405 comes first, as on fal
        elif self.access is Access.KEY:
            connection = HTTPConnection(scope)
            check(connection.app.state.mock.settings, connection)
        elif self.access is Access.CDN:
            check_cdn(HTTPConnection(scope))
        await super().handle(scope, receive, send)
