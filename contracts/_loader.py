"""Loading, caching and validating the JSON Schema contracts.

The schemas ship as package data under ``schemas/``; a contract's *name* is its path there
without the ``.schema.json`` suffix (``queue/status``, ``endpoints/<endpoint id>/input``).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from datetime import datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_SUFFIX = ".schema.json"
BASE_URI = "https://fal-mock.invalid/contracts/"
_PACKAGE = __name__.rpartition(".")[0]
_ENDPOINTS = "endpoints/"
_KINDS = ("input", "output")
_MAX_MESSAGE = 300


class ContractViolation(Exception):
    """An instance does not satisfy a contract.

    ``contract`` is the contract's name, ``errors`` one human-readable line per problem
    (JSON path of the offending value, then the message).
    """

    def __init__(self, contract: str, errors: list[str]) -> None:
        self.contract = contract
        self.errors = errors
        shown = "; ".join(errors[:5]) + (f"; … ({len(errors) - 5} more)" if len(errors) > 5 else "")
        super().__init__(f"contract {contract!r} violated: {shown}")


# --- formats -------------------------------------------------------------------------------
# jsonschema only checks "uri" and "date-time" when optional packages are installed; these
# checkers make the result independent of the environment.

_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s\"<>\\^`{|}]*")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _is_uri(instance: object) -> bool:
    """An absolute RFC 3986 URI (``data:`` URIs included); http(s) URIs need a host."""
    if not isinstance(instance, str):
        return True
    if not instance.isascii() or not _URI.fullmatch(instance) or _BAD_PERCENT.search(instance):
        return False
    scheme = instance.partition(":")[0].lower()
    if scheme in ("http", "https"):
        try:
            return bool(urlsplit(instance).hostname)
        except ValueError:
            return False
    return True


def _is_date_time(instance: object) -> bool:
    """An RFC 3339 date-time (the offset is mandatory)."""
    if not isinstance(instance, str):
        return True
    if not _DATE_TIME.fullmatch(instance):
        return False
    try:
        datetime.fromisoformat(instance.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@functools.cache
def format_checker() -> FormatChecker:
    """jsonschema's default format checker plus environment-independent ``uri`` and ``date-time``."""
    checker = FormatChecker()
    checker.checks("uri")(_is_uri)
    checker.checks("date-time")(_is_date_time)
    return checker


# --- the contract set ----------------------------------------------------------------------


def _walk(folder: Traversable, prefix: str) -> Iterator[tuple[str, Traversable]]:
    for entry in folder.iterdir():
        if entry.is_dir():
            yield from _walk(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(SCHEMA_SUFFIX):
            yield f"{prefix}{entry.name[: -len(SCHEMA_SUFFIX)]}", entry


def _describe(error: ValidationError) -> str:
    """One line: where, and what. For oneOf/anyOf failures, the most relevant branch error."""
    where = error.json_path
    if error.context:
        error = best_match(error.context)
    message = error.message
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "…"
    if error.json_path != where:
        return f"{error.json_path}: {message} (under {where})"
    return f"{where}: {message}"


class Contracts:
    """A set of contracts: the shipped ones, or those of an override ``directory``.

    Documents, the registry and validators are loaded lazily and cached on the instance.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._root: Traversable = directory if directory is not None else files(_PACKAGE) / "schemas"
        self._validators: dict[str, Validator] = {}

    def __repr__(self) -> str:
        return f"Contracts({self.directory!r})"

    @functools.cached_property
    def _documents(self) -> dict[str, dict[str, Any]]:
        documents: dict[str, dict[str, Any]] = {}
        for name, entry in _walk(self._root, ""):
            document = json.loads(entry.read_text(encoding="utf-8"))
            if not isinstance(document, dict) or not isinstance(document.get("$id"), str):
                raise ValueError(f"contract {name!r} ({entry}) is not a JSON object with a string $id")
            documents[name] = document
        if not documents:
            raise FileNotFoundError(f"no *{SCHEMA_SUFFIX} files under {self._root}")
        return dict(sorted(documents.items()))

    @functools.cached_property
    def registry(self) -> Registry[Any]:
        """A ``referencing`` registry holding every document under its ``$id``."""
        return Registry().with_resources(
            (document["$id"], Resource.from_contents(document, default_specification=DRAFT202012))
            for document in self._documents.values()
        )

    def names(self) -> list[str]:
        """Every contract name, sorted."""
        return list(self._documents)

    def schema(self, name: str) -> dict[str, Any]:
        """A copy of the parsed document of contract ``name`` (KeyError if unknown)."""
        return copy.deepcopy(self._document(name))

    def validator(self, name: str) -> Validator:
        """The cached 2020-12 validator of ``name``: every contract resolvable by ``$id``, formats checked."""
        try:
            return self._validators[name]
        except KeyError:
            pass
        document = self._document(name)
        Draft202012Validator.check_schema(document)
        validator: Validator = Draft202012Validator(
            document, registry=self.registry, format_checker=format_checker()
        )
        return self._validators.setdefault(name, validator)

    def validate(self, name: str, instance: Any) -> None:
        """Raise :class:`ContractViolation` listing every problem if ``instance`` violates ``name``."""
        errors = sorted(self.validator(name).iter_errors(instance), key=lambda e: e.json_path)
        if errors:
            raise ContractViolation(name, [_describe(error) for error in errors])

    def is_valid(self, name: str, instance: Any) -> bool:
        return self.validator(name).is_valid(instance)

    def endpoint_ids(self) -> list[str]:
        """Endpoint ids that have contracts under ``endpoints/``, sorted."""
        found = set()
        for name in self._documents:
            if name.startswith(_ENDPOINTS):
                endpoint_id, _, kind = name[len(_ENDPOINTS) :].rpartition("/")
                if kind in _KINDS and endpoint_id:
                    found.add(endpoint_id)
        return sorted(found)

    def endpoint_contract(self, endpoint_id: str, kind: Literal["input", "output"]) -> str:
        """The contract name of an endpoint's input or output (KeyError if there is none)."""
        if kind not in _KINDS:
            raise ValueError(f"kind must be 'input' or 'output', not {kind!r}")
        name = f"{_ENDPOINTS}{endpoint_id}/{kind}"
        if name not in self._documents:
            raise KeyError(f"no {kind} contract for endpoint {endpoint_id!r}; known: {self.endpoint_ids()}")
        return name

    def _document(self, name: str) -> dict[str, Any]:
        try:
            return self._documents[name]
        except KeyError:
            raise KeyError(f"unknown contract {name!r}; known: {self.names()}") from None


@functools.cache
def default_contracts() -> Contracts:
    """The shared instance over the shipped schemas (created on first use)."""
    return Contracts()
