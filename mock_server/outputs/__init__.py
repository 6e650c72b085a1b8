"""Realistic, schema-valid fal outputs built from an endpoint's Output JSON Schema.

Pure: no HTTP, no I/O, no imports from the rest of ``mock_server``. The entry point is
:func:`build_output`; media bytes are made behind the :class:`MediaMaker` seam (``make(FileRequest)
-> FileFacts``, ``url_for(UrlRequest) -> str``), implemented by the media package.

The schema contract (the *normalised form* the OpenAPI loader produces): a standalone JSON Schema
2020-12 document with the Output component's keywords at the root and every component it uses under
``$defs`` by its original fal name (``Image``, ``VideoFile``, ``File``, ``AudioFile``...); all ``$ref``s
local (``#/$defs/<Name>`` or ``#``); nullable fields as ``anyOf: [T, {"type": "null"}]``; ``examples``
as arrays; ``x-fal-order-properties`` kept. Recursive references are allowed.

Modules: :mod:`.schema` (document, references, errors), :mod:`.files` (file recognition, the media
classification table, the maker seam), :mod:`.values` (seeded values under constraints),
:mod:`.patterns` (strings matching a regex), :mod:`.text` (sentences, replies, transcripts),
:mod:`.builder` (the walker and fal's conventions).
"""

from .builder import build_output
from .files import (
    FileFacts,
    FileRequest,
    FileSpec,
    InputFacts,
    MediaKind,
    MediaMaker,
    UrlRequest,
    classify_file,
    is_file_schema,
    requested_dimensions,
    requested_duration,
    requested_format,
    requested_fps,
)
from .schema import OutputBuildError, OutputSchemaError, SchemaDoc
from .values import OutputLimits

__all__ = [
    "FileFacts",
    "FileRequest",
    "FileSpec",
    "InputFacts",
    "MediaKind",
    "MediaMaker",
    "OutputBuildError",
    "OutputLimits",
    "OutputSchemaError",
    "SchemaDoc",
    "UrlRequest",
    "build_output",
    "classify_file",
    "is_file_schema",
    "requested_dimensions",
    "requested_duration",
    "requested_format",
    "requested_fps",
]
