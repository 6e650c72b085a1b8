"""Download fal's per-endpoint OpenAPI documents into a directory a :class:`~.registry.Catalogue` can load.

``download_documents(ids, directory)`` asks ``<base_url>?endpoint_id=<id>`` (fal's public
``https://fal.ai/api/openapi/queue/openapi.json`` unless told otherwise) for each id, in order, and
writes each answer to ``directory/<document_filename(id)>``.

Rules:

- File names: the id with every ``/`` replaced by ``__`` plus ``.json``
  (``fal-ai/flux/dev`` → ``fal-ai__flux__dev.json``), as the bundled documents are named. Ids must be
  valid endpoint ids (``/``-separated segments of ``A-Z a-z 0-9 . _ -``, no ``.``/``..``), so a name
  never leaves the directory. Two ids that map to one file name are refused before any request.
- Every answer must be a 200 whose body is a JSON document that :func:`~.normalise.normalise`
  accepts and that declares the requested id; anything else raises :class:`DownloadError` naming the
  id and the HTTP status (and the start of the body, or the normaliser's message).
- Nothing is half-written: every document is fetched and validated before the first file is
  written, so one failure leaves the directory as it was; each file is written to a temporary file in
  the same directory and renamed over the target. (A disk error while writing the k-th file leaves
  the k-1 before it in place, each whole.) Files are written byte for byte as fal sent them.
- Duplicate ids are fetched once. The directory (and its parents) is created when missing.

Limits: a document may be at most :data:`MAX_DOCUMENT_BYTES` (16 MiB, as the catalogue reads);
the client this module creates when none is given uses a :data:`DEFAULT_TIMEOUT` of 30 s and
follows redirects. A client passed in is used as it is and not closed.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import httpx

from .normalise import DocumentError, check_endpoint_id, normalise
from .registry import MAX_DOCUMENT_BYTES

DEFAULT_BASE_URL = "https://fal.ai/api/openapi/queue/openapi.json"
DEFAULT_TIMEOUT = 30.0
_BODY_EXCERPT = 200


class DownloadError(Exception):
    """A document that could not be fetched or is not a valid document for its id."""

    def __init__(self, endpoint_id: str, status: int | None, reason: str) -> None:
        self.endpoint_id = endpoint_id
        self.status = status
        self.reason = reason
        answer = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"{endpoint_id}: {answer}: {reason}")


def document_filename(endpoint_id: str) -> str:
    """``fal-ai/flux/dev`` → ``fal-ai__flux__dev.json`` (ValueError for an invalid id)."""
    problem = check_endpoint_id(endpoint_id)
    if problem is not None:
        raise ValueError(f"endpoint id {problem}")
    return endpoint_id.replace("/", "__") + ".json"


def _fetch(client: httpx.Client, base_url: str, endpoint_id: str) -> bytes:
    try:
        with client.stream("GET", base_url, params={"endpoint_id": endpoint_id}) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_DOCUMENT_BYTES:
                    raise DownloadError(
                        endpoint_id, response.status_code, f"answer larger than {MAX_DOCUMENT_BYTES} bytes"
                    )
                chunks.append(chunk)
            body = b"".join(chunks)
            status = response.status_code
    except httpx.HTTPError as exc:
        raise DownloadError(endpoint_id, None, f"{type(exc).__name__}: {exc}") from exc
    if status != 200:
        excerpt = body[:_BODY_EXCERPT].decode("utf-8", "replace").strip()
        raise DownloadError(endpoint_id, status, f"expected 200; body: {excerpt!r}")
    source = f"{base_url}?endpoint_id={endpoint_id}"
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DownloadError(endpoint_id, status, f"the answer is not a JSON document ({exc})") from exc
    try:
        spec = normalise(document, source=source)
    except DocumentError as exc:
        raise DownloadError(endpoint_id, status, f"invalid document: {exc}") from exc
    if spec.endpoint_id != endpoint_id:
        raise DownloadError(endpoint_id, status, f"the answer is the document of {spec.endpoint_id!r}")
    return body


def _write_atomically(target: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def download_documents(
    endpoint_ids: Iterable[str],
    directory: str | os.PathLike[str],
    *,
    base_url: str = DEFAULT_BASE_URL,
    client: httpx.Client | None = None,
) -> list[Path]:
    """Fetch, validate and write one document per id; returns the written paths in the ids' order."""
    ids = list(dict.fromkeys(endpoint_ids))
    names: dict[str, str] = {}
    for endpoint_id in ids:
        name = document_filename(endpoint_id)
        if name in names:
            raise ValueError(f"endpoint ids {names[name]!r} and {endpoint_id!r} both map to the file name {name!r}")
        names[name] = endpoint_id
    own_client = client is None
    http = client if client is not None else httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=True)
    try:
        bodies = [(endpoint_id, _fetch(http, base_url, endpoint_id)) for endpoint_id in ids]
    finally:
        if own_client:
            http.close()
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for endpoint_id, body in bodies:
        target = folder / document_filename(endpoint_id)
        _write_atomically(target, body)
        written.append(target)
    return written
