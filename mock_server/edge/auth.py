"""The authorization stage: what fal's gateway checks before anything else.

Modes (``Settings.auth``):

``format`` (default)
    ``Authorization: Key <key_id>:<key_secret>`` or ``Bearer <token>`` is required;
    any value of that shape passes.  A ``Key`` without a colon gets fal's format
    error; a missing header gets 401.
``keys``
    As ``format``, and the key (or bearer token) must be one of ``Settings.keys``;
    others get fal's ``No user found for Key ID and Secret``.
``off``
    Nothing is checked.

The bodies are fal's (protocol reference §3.1); the one for a missing header is
not documented and is our choice.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from ..jobs.errors import HTTPError
from ..settings import Settings

NO_USER = "No user found for Key ID and Secret"
BAD_FORMAT = "Invalid Key Authorization header format. Expected '<key_id>:<key_secret>'."
MISSING = "Missing Authorization header: send 'Authorization: Key <key_id>:<key_secret>'"


def credential(header: str | None) -> tuple[str, str] | None:
    """``(scheme, value)`` of an Authorization header (scheme lower-cased), or None."""
    if not header or not header.strip():
        return None
    scheme, _, value = header.strip().partition(" ")
    return scheme.lower(), value.strip()


def check(settings: Settings, request: HTTPConnection) -> str:
    """The caller's identity (the key id or ``bearer``), or raise a 401 :class:`HTTPError`."""
    if settings.auth == "off":
        return "anonymous"
    parsed = credential(request.headers.get("authorization"))
    if parsed is None:
        raise HTTPError(401, MISSING)
    scheme, value = parsed
    if scheme == "key":
        if ":" not in value or value.startswith(":") or value.endswith(":"):
            raise HTTPError(401, BAD_FORMAT)
        if settings.auth == "keys" and value not in settings.keys:
            raise HTTPError(401, NO_USER)
        return value.split(":", 1)[0]
    if scheme == "bearer" and value:
        if settings.auth == "keys" and value not in settings.keys:
            raise HTTPError(401, NO_USER)
        return "bearer"
    raise HTTPError(401, BAD_FORMAT)
