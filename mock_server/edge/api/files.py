"""File serving on the CDN host (``v3.fal.media`` / ``/cdn``): GET and HEAD ``/files/<key>``.

Answers with the stored ``Content-Type``, ``Content-Length``, a strong ``ETag``
(``If-None-Match`` → 304), ``Accept-Ranges: bytes`` and single byte ranges
(206 with ``Content-Range``; 416 with ``Content-Range: bytes */<size>`` when
unsatisfiable — browsers need ranges to play video).  A malformed or
multi-range ``Range`` header (or one with absurdly long numbers) is ignored and
the whole file is sent, as RFC 9110 allows.  Keys must match fal's shape
(``<bucket>/<id>_<name>``, at most 256 characters) before the store is even asked,
and bytes are found by content hash, never by a path built from the URL — so
``..``, ``%2e%2e``, encoded slashes or NUL bytes cannot climb out of the store:
they are 404s.  Unknown, expired and evicted files are 404.  Large bodies are
streamed from the blob in chunks.  CORS is open, as on
fal's CDN, so pages on other origins can draw the video on a canvas.

Uploaded bytes are served from the same origin as the control API (``/_mock``) on a standalone
server, so they must never run there (issue 13: an uploaded ``text/html`` was served inline).
Every file answer carries ``X-Content-Type-Options: nosniff`` and ``Content-Security-Policy:
sandbox`` (a document in a sandbox without ``allow-scripts`` runs no script and has an opaque
origin).  Only passive media types are served ``inline`` (:data:`INLINE_TYPES`: raster images,
video, audio, plain text, JSON) — so browsers and the dashboard still show and play outputs; every
other type (HTML, SVG, XML, XHTML, scripts, PDF, anything unknown) is served with
``Content-Disposition: attachment``: a browser saves it instead of rendering it.  The stored
``Content-Type`` is kept as is (clients read it).

Namespaces: a request that names one (``X-Fal-Mock-Namespace`` or a ``ns-`` key) only sees
that namespace's files — another namespace's key is a 404, like a key never stored.  A request
naming none (a browser, a ``<video>`` tag, a plain download) may read any file by its URL, as on
fal's public CDN: the URL is the capability, and its key is unguessable (HMAC of the server
secret, :mod:`...files.secret`).
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ...files.store import StoredFile, safe_content_type
from ...jobs.errors import PlainError
from ..request_parts import namespace, services

_RANGE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")
#: Ranges up to this size are answered from one buffer; larger ones are streamed in chunks.
INLINE_BYTES = 1024 * 1024
CORS = {"access-control-allow-origin": "*", "access-control-expose-headers": "content-length, content-range, etag"}
#: On every file answer: no sniffing, and a sandboxed document (no scripts, opaque origin) if a browser renders it.
SAFE_FILE_HEADERS = {"x-content-type-options": "nosniff", "content-security-policy": "sandbox"}
#: Types a browser only displays (never runs): served inline.  Every other type is an attachment.
INLINE_PREFIXES = ("video/", "audio/")
INLINE_TYPES = frozenset({
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/avif", "image/x-icon",
    "image/vnd.microsoft.icon", "image/tiff", "text/plain", "application/json",
})  # fmt: skip


def disposition(content_type: str, file_name: str) -> str:
    """``inline`` for passive media (:data:`INLINE_TYPES`), ``attachment`` for anything a browser could run."""
    mime = content_type.split(";", 1)[0].strip().lower()
    inline = mime in INLINE_TYPES or (mime.startswith(INLINE_PREFIXES) and "xml" not in mime)
    return f'{"inline" if inline else "attachment"}; filename="{file_name}"'


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end_exclusive)`` for a satisfiable single range; None to send everything.

    Raises ``ValueError`` for a well-formed but unsatisfiable range.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0:
            raise ValueError("empty suffix range")
        return max(0, size - suffix), size
    start = int(first)
    end = size if not last else min(size, int(last) + 1)
    if last and int(last) < start:
        return None
    if start >= size:
        raise ValueError("range starts past the end")
    return start, end


def lookup(request: Request) -> StoredFile:
    key = request.path_params["key"]
    stored = services(request).files.get(key)
    space = namespace(request)
    if stored is not None and space and stored.namespace != space:
        stored = None  # another namespace's file: as unknown as a key never stored
    if stored is None:
        shown = key if len(key) <= 160 else key[:160] + "…"
        raise PlainError(404, f"File not found: /files/{shown}")
    return stored


async def serve_file(request: Request) -> Response:
    mock = services(request)
    stored = lookup(request)
    headers = {
        "content-type": safe_content_type(stored.content_type),  # also for rows stored before it was checked
        "etag": stored.etag,
        "accept-ranges": "bytes",
        "cache-control": "public, max-age=3600",
        "content-disposition": disposition(stored.content_type, stored.file_name),
        **SAFE_FILE_HEADERS,
        **CORS,
    }
    if request.headers.get("if-none-match") in (stored.etag, "*"):
        return Response(status_code=304, headers={"etag": stored.etag, **CORS})
    try:
        span = byte_range(request.headers.get("range"), stored.size)
    except ValueError:
        return Response(
            status_code=416, headers={"content-range": f"bytes */{stored.size}", "accept-ranges": "bytes", **CORS}
        )
    status = 200
    start, end = 0, stored.size
    if span is not None:
        start, end = span
        status = 206
        headers["content-range"] = f"bytes {start}-{end - 1}/{stored.size}"
    headers["content-length"] = str(end - start)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    try:
        if end - start <= INLINE_BYTES:
            return Response(mock.files.read(stored, start, end), status_code=status, headers=headers)
        chunks = mock.files.iter_chunks(stored, start, end)
    except KeyError:  # evicted between the lookup and the read
        raise PlainError(404, f"File not found: /files/{stored.key}") from None
    return StreamingResponse(chunks, status_code=status, headers=headers)
