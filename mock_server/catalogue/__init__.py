"""fal endpoints defined as data: fal's per-endpoint OpenAPI documents, normalised into JSON Schema.

- :mod:`.normalise` — ``normalise(document, source=...) -> EndpointSpec`` (input/output as standalone
  JSON Schema 2020-12, file inputs, metadata), :class:`DocumentError` for malformed documents.
- :mod:`.registry` — :class:`Catalogue`: the bundled documents (``documents/``, provenance in its
  README) plus user files or directories, indexed at load and normalised lazily on ``get``.
- :mod:`.download` — ``download_documents(ids, directory)``: fetch fal's documents for ids, validate,
  write.

This package knows no HTTP server and imports nothing else from ``mock_server``.
"""

from __future__ import annotations

from .download import DEFAULT_BASE_URL, DownloadError, document_filename, download_documents
from .normalise import (
    JSON_SCHEMA_DIALECT,
    DocumentError,
    EndpointSpec,
    FileInput,
    MediaKind,
    SchemaChecker,
    find_file_inputs,
    normalise,
)
from .registry import Catalogue, EndpointSummary, Override, bundled_documents

__all__ = [
    "DEFAULT_BASE_URL",
    "JSON_SCHEMA_DIALECT",
    "Catalogue",
    "DocumentError",
    "DownloadError",
    "EndpointSpec",
    "EndpointSummary",
    "FileInput",
    "MediaKind",
    "Override",
    "SchemaChecker",
    "bundled_documents",
    "document_filename",
    "download_documents",
    "find_file_inputs",
    "normalise",
]
