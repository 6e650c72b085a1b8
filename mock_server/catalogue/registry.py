"""The catalogue: every endpoint the mock knows, from bundled and user-supplied fal OpenAPI documents.

``Catalogue(paths)`` indexes the bundled documents (``documents/*.json`` in this package) and then each
user path in order: a file is read whatever its name; a directory contributes its ``*.json`` files
(sorted by name, not recursive; other files, sub-directories and names starting with ``.`` are
ignored, so a README or an editor's backup next to the documents is harmless). A path that does not
exist is a :class:`~.normalise.DocumentError`.

Loading is an index, not a parse: for each file it reads the text and decodes only the ``info``
object (found by a scan for the first ``"info":`` key, trusted only when it comes before any
``"components"``, ``"paths"`` or ``"webhooks"``, as in fal's documents; otherwise the whole file is
parsed once), taking ``endpointId``, ``category`` and
``info.title`` for :meth:`Catalogue.summaries`. Schemas are normalised lazily, on the first
:meth:`Catalogue.get` of an id, once (a per-entry lock makes concurrent first calls share one
result) and cached for the catalogue's life; the catalogue's one
:class:`~.normalise.SchemaChecker` spares re-checking shared components. A document whose full parse
disagrees with the index (its ``endpointId`` differs from the scanned one) fails at that ``get``.

Decisions:

- Same id twice: the later document wins: bundled first, then the user paths in the order given,
  then file names in sorted order within a directory. Every replacement is listed in
  :attr:`Catalogue.overrides` (id, replaced source, winning source) for the caller to log.
- A document without ``info.x-fal-metadata.endpointId`` (or that is not JSON at all, or not UTF-8)
  fails the whole load with a :class:`~.normalise.DocumentError` naming the file: a catalogue never
  silently drops a document it was given.
- A document that indexes but does not normalise (bad ``$ref``, no output schema...) raises its
  :class:`~.normalise.DocumentError` from ``get`` (each time; failures are not cached), or for all
  documents at once from :meth:`Catalogue.normalise_all`, which a strict start-up can call.

Limits: a document file may be at most :data:`MAX_DOCUMENT_BYTES` (16 MiB); larger ones are a
``DocumentError`` at load. Sources are ``bundled:<file name>`` for bundled documents and the path as
given (``str(path)``, joined with the file name for directories) for user ones.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from .normalise import DocumentError, EndpointSpec, SchemaChecker, metadata_fields, normalise

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
BUNDLED_PREFIX = "bundled:"

_INFO_KEY = re.compile(r'"info"\s*:\s*')
_NESTING_KEYS = ('"components"', '"paths"', '"webhooks"')
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class EndpointSummary:
    """What the catalogue knows of an endpoint without normalising it."""

    endpoint_id: str
    category: str
    title: str
    source: str


@dataclass(frozen=True)
class Override:
    """``endpoint_id`` was declared by ``replaced`` and again, later, by ``by`` (which wins)."""

    endpoint_id: str
    replaced: str
    by: str


class _Entry:
    """One indexed document: where to read it and, once normalised, its spec."""

    __slots__ = ("location", "lock", "spec", "summary")

    def __init__(self, summary: EndpointSummary, location: Path | Traversable) -> None:
        self.summary = summary
        self.location = location
        self.lock = threading.Lock()
        self.spec: EndpointSpec | None = None


def bundled_documents() -> list[Traversable]:
    """The bundled document files, sorted by name."""
    folder = resources.files(__package__).joinpath("documents")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".json") and f.is_file()), key=lambda f: f.name)


def _read_text(location: Path | Traversable, source: str) -> str:
    try:
        if isinstance(location, Path) and location.stat().st_size > MAX_DOCUMENT_BYTES:
            raise DocumentError(source, "$", f"larger than {MAX_DOCUMENT_BYTES} bytes")
        data = location.read_bytes()
    except OSError as exc:
        raise DocumentError(source, "$", f"cannot be read: {exc.strerror or exc}") from exc
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError(source, "$", f"larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(source, "$", f"not UTF-8 text (byte {exc.start})") from exc


def parse_document(text: str, source: str) -> Any:
    """``json.loads`` with its failures as :class:`DocumentError`."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentError(source, "$", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
    except RecursionError as exc:
        raise DocumentError(source, "$", "JSON nested too deeply") from exc


def _scan_info(text: str) -> dict[str, Any] | None:
    """The value of the first ``"info":`` key, decoded alone, when it is an object with ``x-fal-metadata``.

    Only trusted when no ``"components"``, ``"paths"`` or ``"webhooks"`` string comes before it (then it
    is the top-level ``info``, as in fal's documents, which put ``openapi`` and ``info`` first); otherwise
    the caller parses the whole document.
    """
    match = _INFO_KEY.search(text)
    if match is None:
        return None
    if any(text.find(key, 0, match.start()) != -1 for key in _NESTING_KEYS):
        return None  # this "info" may be a property name inside a schema
    try:
        value, _ = _DECODER.raw_decode(text, match.end())
    except (json.JSONDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) and "x-fal-metadata" in value else None


def _index(text: str, source: str) -> EndpointSummary:
    info = _scan_info(text)
    if info is None:  # unusual layout or a broken document: a full parse gives the precise error
        document = parse_document(text, source)
        if not isinstance(document, dict):
            raise DocumentError(source, "$", "the document must be a JSON object")
        if "info" not in document:
            raise DocumentError(source, "$.info", "missing")
        info = document["info"]
    endpoint_id, category, title, _, _ = metadata_fields(info, source)
    return EndpointSummary(endpoint_id=endpoint_id, category=category, title=title, source=source)


class Catalogue:
    """Endpoints by id, from the bundled documents (unless ``include_bundled`` is false) and ``paths``."""

    def __init__(self, paths: Iterable[str | os.PathLike[str]] = (), *, include_bundled: bool = True) -> None:
        self._entries: dict[str, _Entry] = {}
        self._checker = SchemaChecker()
        overrides: list[Override] = []
        for location, source in self._locations(paths, include_bundled):
            summary = _index(_read_text(location, source), source)
            previous = self._entries.get(summary.endpoint_id)
            if previous is not None:
                overrides.append(Override(summary.endpoint_id, previous.summary.source, source))
            self._entries[summary.endpoint_id] = _Entry(summary, location)
        self.overrides: tuple[Override, ...] = tuple(overrides)

    @staticmethod
    def _locations(
        paths: Iterable[str | os.PathLike[str]], include_bundled: bool
    ) -> Iterator[tuple[Path | Traversable, str]]:
        if include_bundled:
            for item in bundled_documents():
                yield item, BUNDLED_PREFIX + item.name
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                for child in sorted(path.iterdir(), key=lambda p: p.name):
                    if child.name.endswith(".json") and not child.name.startswith(".") and child.is_file():
                        yield child, str(child)
            elif path.is_file():
                yield path, str(path)
            else:
                raise DocumentError(str(raw), "$", "no such file or directory")

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, endpoint_id: object) -> bool:
        return endpoint_id in self._entries

    def ids(self) -> list[str]:
        """Every endpoint id, sorted."""
        return sorted(self._entries)

    def summaries(self) -> list[EndpointSummary]:
        """(id, category, title, source) of every endpoint, sorted by id; nothing is normalised."""
        return [self._entries[endpoint_id].summary for endpoint_id in sorted(self._entries)]

    def summary(self, endpoint_id: str) -> EndpointSummary | None:
        entry = self._entries.get(endpoint_id)
        return entry.summary if entry is not None else None

    def get(self, endpoint_id: str) -> EndpointSpec | None:
        """The normalised endpoint (normalised on the first call, then cached), or None for an unknown id.

        Raises :class:`DocumentError` when the document does not normalise.
        """
        entry = self._entries.get(endpoint_id)
        if entry is None:
            return None
        spec = entry.spec
        if spec is not None:
            return spec
        with entry.lock:
            if entry.spec is None:
                entry.spec = self._normalise(entry)
            return entry.spec

    def normalise_all(self) -> list[EndpointSpec]:
        """Every endpoint normalised (sorted by id); the first failure raises its DocumentError."""
        specs = [self.get(endpoint_id) for endpoint_id in self.ids()]
        return [spec for spec in specs if spec is not None]

    def _normalise(self, entry: _Entry) -> EndpointSpec:
        source = entry.summary.source
        document = parse_document(_read_text(entry.location, source), source)
        spec = normalise(document, source=source, checker=self._checker)
        if spec.endpoint_id != entry.summary.endpoint_id:
            raise DocumentError(
                source,
                '$.info["x-fal-metadata"].endpointId',
                f"declares {spec.endpoint_id!r}, but the file was indexed as {entry.summary.endpoint_id!r}",
            )
        return spec
