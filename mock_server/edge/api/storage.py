"""Upload handlers: the REST storage calls (``rest.fal.ai`` / ``/rest``) and the CDN's upload URLs.

The two official clients upload differently (protocol reference §5):

Python (``fal_client.upload*``)
    ``POST /storage/auth/token?storage_type=fal-cdn-v3`` → a bearer token and the CDN
    ``base_url``; ``POST /files/upload`` on the CDN with the token, ``X-Fal-File-Name``
    and lifecycle headers → ``{"access_url"}``.  Over 100 MiB:
    ``POST {base_url}/files/upload/multipart`` → ``{access_url, uploadId}``, part PUTs to
    ``{access_url}/multipart/{uploadId}/{n}`` (the ``ETag`` header is read), then
    ``POST .../complete`` with ``{"parts"}``.  If the direct upload fails, it falls back
    to ``POST /storage/upload/initiate?storage_type=gcs`` + ``PUT upload_url``.
JS (``fal.storage.upload``)
    ``POST /storage/upload/initiate?storage_type=fal-cdn-v3`` → ``{upload_url, file_url}``,
    then ``PUT upload_url`` with no Authorization.  Over 90 MiB:
    ``POST /storage/upload/initiate-multipart`` → ``{upload_url, file_url}``; parts are
    PUT to ``{origin}{pathname}/{n}{search}`` and the JSON body ``{partNumber, etag}`` of
    each answer is used; then ``POST {origin}{pathname}/complete{search}``.

Choices where fal's behaviour is unknown (documented in the README):

* URLs handed out: ``upload_url`` = ``{cdn}/files/upload/<key>?<signed query>`` (single
  PUT) or ``{cdn}/files/<key>/multipart/<uploadId>?<signed query>`` (JS multipart), so
  a client without credentials can use them, like a signed bucket URL; ``file_url`` /
  ``access_url`` = ``{cdn}/files/<key>``.  ``{cdn}`` is this request's CDN base, so the
  same flow works in-process (``https://v3.fal.media``), on a standalone server
  (``http://127.0.0.1:PORT/cdn``) and through ``/proxy`` (the proxy's origin).
* The CDN accepts a bearer token issued by ``/storage/auth/token`` (checked, with its
  expiry on the mock's clock) or a fal key; a signed URL needs neither.  ``auth=off``
  turns every check off.
* Namespaces: a file lands in the namespace of the call that made its credentials — the token
  call for the Python client's CDN token (the token carries it), ``initiate`` for a signed URL
  (signed into it), the begin call for a multipart upload; part and complete calls made with a
  key or token must come from that namespace (else 404).
* Stored files are immutable: a signed PUT or a multipart completion naming a key that already
  holds a file answers 409 (a retry with the same bytes answers the stored file again).
* Lifecycle: ``X-Fal-Object-Lifecycle`` (or ``-Preference``) ``expiration_duration_seconds``
  sets the file's expiry on the clock; an invalid header is a 400.
* Limits: a body over ``max_upload_bytes`` (``max_multipart_part_bytes`` for a part, a
  part number over ``max_multipart_parts``) is a 413 ``{"detail"}``, decided from
  ``Content-Length`` or while the bytes stream in; a full store that eviction cannot
  relieve is a 507.  Nothing is stored by a rejected request.
* ``Settings.cdn_upload_fault_status`` (or :meth:`FileStore.set_cdn_upload_fault`) makes
  ``POST /files/upload`` fail, so the Python client's fallback can be exercised.
"""

from __future__ import annotations

import contextlib
import functools
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ...clock import isoformat
from ...files.blobs import BlobSink
from ...files.errors import FileTooLarge
from ...files.store import MultipartSession, default_file_name, lifecycle_seconds, parse_key, safe_file_name
from ...jobs.errors import DomainError, FalError, ModelError, PlainError, entry
from ...services import MockServices
from .. import auth
from ..render import fal_json
from ..request_parts import bases, loads_json, namespace, read_body, services

#: ``storage_type`` values accepted by the token and initiate calls (fal-cdn-v3 is what both clients send).
STORAGE_TYPES = ("fal-cdn-v3", "fal-cdn", "gcs")
#: Largest JSON body of a storage call (file name and content type, or a parts list).
JSON_LIMIT = 1024 * 1024
#: Bytes of a rejected upload that are still read (and dropped) so the client can see the 413.
DRAIN_LIMIT = 64 * 1024 * 1024
CORS = {"access-control-allow-origin": "*", "access-control-expose-headers": "etag, content-length"}
LIFECYCLE_HEADERS = ("X-Fal-Object-Lifecycle", "X-Fal-Object-Lifecycle-Preference")


# --- helpers -------------------------------------------------------------------------------------
def storage_type(request: Request, default: str) -> str:
    value = request.query_params.get("storage_type", default)
    if value not in STORAGE_TYPES:
        raise PlainError(400, f"Unsupported storage_type {value!r}; use one of {', '.join(STORAGE_TYPES)}")
    return value


def lifetime_of(request: Request) -> float | None:
    """Seconds until an upload expires, from the lifecycle headers (None: no expiry)."""
    for name in LIFECYCLE_HEADERS:
        value = request.headers.get(name)
        if value is not None:
            try:
                return lifecycle_seconds(value)
            except ValueError as error:
                raise PlainError(400, f"Invalid {name} header: {error}") from None
    return None


def header_file_name(request: Request, content_type: str) -> str:
    raw = request.headers.get("x-fal-file-name")
    return safe_file_name(urllib.parse.unquote(raw)) if raw else default_file_name(content_type)


async def json_object(request: Request) -> dict[str, Any]:
    raw = await read_body(request, JSON_LIMIT)
    if not raw.strip():
        return {}
    try:
        value = loads_json(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise ModelError([entry(["body"], "JSON decode error", "json_invalid", ctx={"error": str(error)})]) from None
    if not isinstance(value, dict):
        raise ModelError([entry(["body"], "Input should be a valid dictionary", "dict_type", input=value)])
    return value


def _string_field(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is not None and not isinstance(value, str):
        raise ModelError([entry(["body", name], "Input should be a valid string", "string_type", input=value)])
    return value


async def receive_into(request: Request, sink: BlobSink) -> None:
    """Stream the request body into ``sink`` (FileTooLarge as soon as it is known to be too big)."""
    declared = declared_length(request)
    if declared is not None and declared > sink.limit:
        raise FileTooLarge(declared, sink.limit, sink.what)
    async for chunk in request.stream():
        sink.write(chunk)
    sink.finish()


def declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.strip().isdigit():
        raise PlainError(400, "Invalid Content-Length header")
    return int(raw)


async def _drain(request: Request) -> None:
    """Read and drop the rest of a rejected body (up to DRAIN_LIMIT) so the client gets to read the answer."""
    with contextlib.suppress(Exception):
        declared = declared_length(request)
        if declared is not None and declared > DRAIN_LIMIT:
            return
        seen = 0
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > DRAIN_LIMIT:
                return


Handler = Callable[[Request], Awaitable[Response]]


def draining(handler: Handler) -> Handler:
    """On an error answer, first read what is left of the body: a client still sending sees the answer, not a reset."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except (FalError, DomainError):
            await _drain(request)
            raise

    return wrapper


def _signed_query(mock: MockServices, purpose: str, fields: dict[str, str]) -> str:
    return urllib.parse.urlencode(mock.files.authority.sign(purpose, fields))


def _check_signed(mock: MockServices, request: Request, purpose: str) -> None:
    why = mock.files.authority.verify(purpose, dict(request.query_params))
    if why is not None:
        raise PlainError(403, f"Forbidden: {why}")


# --- REST: token and initiate --------------------------------------------------------------------
async def cdn_token(request: Request) -> Response:
    """``POST /storage/auth/token?storage_type=fal-cdn-v3`` (Python client)."""
    mock = services(request)
    storage_type(request, "fal-cdn-v3")
    await json_object(request)
    token = mock.files.issue_token(namespace(request))
    body = {
        "token": token.token,
        "token_type": token.token_type,
        "base_url": bases(request).cdn,
        "expires_at": isoformat(token.expires_at),
    }
    return fal_json(body, contract="storage/cdn-token-response", check=mock.settings.check_contracts, headers=CORS)


async def _initiate_fields(request: Request) -> tuple[str, str]:
    payload = await json_object(request)
    content_type = _string_field(payload, "content_type") or "application/octet-stream"
    file_name = _string_field(payload, "file_name") or default_file_name(content_type)
    return content_type, file_name


async def initiate(request: Request) -> Response:
    """``POST /storage/upload/initiate`` → a signed ``upload_url`` for one PUT, and the ``file_url``."""
    mock = services(request)
    storage_type(request, "gcs")
    content_type, file_name = await _initiate_fields(request)
    lifetime = lifetime_of(request)
    key = mock.files.new_key(file_name)
    fields = {"content_type": content_type}
    if lifetime is not None:
        fields["lifetime"] = f"{lifetime:g}"
    if space := namespace(request):
        fields["namespace"] = space
    cdn = bases(request).cdn
    body = {
        "upload_url": f"{cdn}/files/upload/{key}?{_signed_query(mock, 'put:' + key, fields)}",
        "file_url": f"{cdn}/files/{key}",
    }
    return fal_json(body, contract="storage/initiate-response", check=mock.settings.check_contracts, headers=CORS)


async def initiate_multipart(request: Request) -> Response:
    """``POST /storage/upload/initiate-multipart`` (JS, > 90 MiB) → a signed multipart ``upload_url``."""
    mock = services(request)
    storage_type(request, "fal-cdn-v3")
    content_type, file_name = await _initiate_fields(request)
    session = mock.files.begin_multipart(file_name=file_name, content_type=content_type,
                                         namespace=namespace(request), lifetime=lifetime_of(request))  # fmt: skip
    cdn = bases(request).cdn
    query = _signed_query(mock, "multipart:" + session.upload_id, {})
    body = {
        "upload_url": f"{cdn}/files/{session.key}/multipart/{session.upload_id}?{query}",
        "file_url": f"{cdn}/files/{session.key}",
    }
    return fal_json(body, contract="storage/initiate-response", check=mock.settings.check_contracts, headers=CORS)


# --- CDN: uploads ----------------------------------------------------------------------------------
@draining
async def cdn_upload(request: Request) -> Response:
    """``POST /files/upload`` (Python, ≤ 100 MiB): raw bytes with a CDN token → ``{"access_url"}``."""
    mock = services(request)
    fault = mock.files.cdn_upload_fault_status
    if fault:
        raise PlainError(fault, f"fal-mock: the CDN upload is failing on purpose (cdn_upload_fault_status={fault})")
    content_type = request.headers.get("content-type") or "application/octet-stream"
    file_name = header_file_name(request, content_type)
    lifetime = lifetime_of(request)
    with mock.files.sink() as sink:
        await receive_into(request, sink)
        expires_at = None if lifetime is None else mock.clock.now() + lifetime
        stored = mock.files.put_sink(sink, file_name=file_name, content_type=content_type,
                                     namespace=namespace(request), expires_at=expires_at)  # fmt: skip
    body = {"access_url": f"{bases(request).cdn}/files/{stored.key}"}
    return fal_json(body, contract="storage/upload-response", check=mock.settings.check_contracts, headers=CORS)


@draining
async def signed_put(request: Request) -> Response:
    """``PUT /files/upload/<key>?<signed>``: the bytes for an ``upload_url`` from ``initiate``."""
    mock = services(request)
    key = request.path_params["key"]
    match = parse_key(key)
    if match is None:
        raise PlainError(404, f"Path {request.url.path} not found")
    _check_signed(mock, request, "put:" + key)
    query = request.query_params
    content_type = request.headers.get("content-type") or query.get("content_type") or "application/octet-stream"
    lifetime = float(query["lifetime"]) if query.get("lifetime") else None
    with mock.files.sink() as sink:
        await receive_into(request, sink)
        expires_at = None if lifetime is None else mock.clock.now() + lifetime
        stored = mock.files.put_sink(sink, file_name=match.group("name"), content_type=content_type,
                                     namespace=query.get("namespace", ""), expires_at=expires_at, key=key)  # fmt: skip
    return Response(status_code=200, headers={"etag": stored.etag, **CORS})


@draining
async def multipart_begin(request: Request) -> Response:
    """``POST /files/upload/multipart`` (Python, > 100 MiB) → ``{access_url, uploadId}``."""
    mock = services(request)
    content_type = request.headers.get("content-type") or "application/octet-stream"
    session = mock.files.begin_multipart(file_name=header_file_name(request, content_type),
                                         content_type=content_type, namespace=namespace(request),
                                         lifetime=lifetime_of(request))  # fmt: skip
    body = {"access_url": f"{bases(request).cdn}/files/{session.key}", "uploadId": session.upload_id}
    return fal_json(body, contract="storage/multipart-initiate-response", check=mock.settings.check_contracts,
                    headers=CORS)  # fmt: skip


def _session_for(mock: MockServices, request: Request) -> MultipartSession:
    """The multipart upload a part/complete URL names, after checking who may use it."""
    upload_id = request.path_params["upload_id"]
    session = mock.files.multipart(upload_id)
    if session is None or session.key != request.path_params["key"]:
        raise PlainError(404, f"Upload not found: multipart upload {upload_id[:40]} is unknown, completed or expired")
    if "signature" in request.query_params:
        _check_signed(mock, request, "multipart:" + upload_id)
    else:
        auth.check_cdn(request)
        if namespace(request) != session.namespace:  # another namespace's upload: as unknown as none at all
            raise PlainError(404, f"Upload not found: multipart upload {upload_id[:40]} is unknown, completed or "
                             "expired")  # fmt: skip
    return session


@draining
async def multipart_part(request: Request) -> Response:
    """``PUT .../multipart/<uploadId>/<n>`` → ``ETag`` header (Python) and ``{partNumber, etag}`` (JS)."""
    mock = services(request)
    session = _session_for(mock, request)
    raw = request.path_params["part"]
    if not raw.isdigit() or len(raw) > 9:
        raise PlainError(400, f"Invalid multipart upload: part number {raw[:20]!r} is not a positive integer")
    part_number = int(raw)
    mock.files.check_part_number(part_number)
    with mock.files.part_sink() as sink:
        await receive_into(request, sink)
        info = mock.files.put_part(session.upload_id, part_number, sink)
    body = {"partNumber": info.part_number, "etag": info.etag}
    return fal_json(body, contract="storage/multipart-part-response", check=mock.settings.check_contracts,
                    headers={"etag": info.etag, **CORS})  # fmt: skip


@draining
async def multipart_complete(request: Request) -> Response:
    """``POST .../multipart/<uploadId>/complete`` with ``{"parts": [{partNumber, etag}]}`` → ``{"access_url"}``."""
    mock = services(request)
    session = _session_for(mock, request)
    payload = await json_object(request)
    parts = payload.get("parts")
    if not isinstance(parts, list) or not parts:
        raise ModelError([entry(["body", "parts"], "Input should be a non-empty list", "list_type", input=parts)])
    listed: list[tuple[int, str]] = []
    for index, part in enumerate(parts):
        number = part.get("partNumber") if isinstance(part, dict) else None
        etag = part.get("etag") if isinstance(part, dict) else None
        if isinstance(number, bool) or not isinstance(number, int) or not isinstance(etag, str):
            raise ModelError([entry(["body", "parts", index], "Each part needs an integer partNumber and a string "
                                    "etag", "model_type", input=part)])  # fmt: skip
        listed.append((number, etag))
    stored = mock.files.complete_multipart(session.upload_id, listed)
    body = {"access_url": f"{bases(request).cdn}/files/{stored.key}"}
    return fal_json(body, contract="storage/upload-response", check=mock.settings.check_contracts, headers=CORS)


async def preflight(request: Request) -> Response:
    """CORS preflight for browser uploads (fal's CDN and REST answer cross-origin requests)."""
    asked = request.headers.get("access-control-request-headers", "authorization, content-type")
    return Response(
        status_code=204,
        headers={
            "access-control-allow-origin": "*",
            "access-control-allow-methods": "GET, HEAD, PUT, POST, OPTIONS",
            "access-control-allow-headers": asked,
            "access-control-max-age": "600",
        },
    )
