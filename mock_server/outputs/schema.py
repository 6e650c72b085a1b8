"""The normalised output schema as a document: references, wrappers, validation, and the typed errors.

A schema handed to this package is a standalone JSON Schema 2020-12 document (see the package
docstring): the Output component's keywords at the root, components under ``$defs`` by their original
fal names, every ``$ref`` local (``#/$defs/<Name>``, ``#`` for the root, or any other ``#/...`` JSON
pointer into the same document). :class:`SchemaDoc` wraps one such document:

- ``deref(node)`` follows ``$ref`` chains and single-element ``allOf`` wrappers (the shape fal uses to
  attach a description to a reference) down to the schema that carries structure, merging the wrappers'
  non-annotation keywords on top, and reports the last ``$defs`` name met (the *type name* used by the
  file classifier). Circular chains of pure references (``A -> B -> A``) raise :class:`OutputSchemaError`.
- ``alternatives(node)`` lists the non-null alternatives of a node (``anyOf`` / ``oneOf`` branches and
  ``type`` lists), each dereferenced; ``nullable(node)`` says whether ``null`` is admitted.
- ``is_valid(instance, node)`` validates against a subschema *in the context of the whole document*
  (so ``$ref`` inside it resolves), ``errors(instance)`` validates a finished output against the root
  with Draft 2020-12 and its format checker.

A ``SchemaDoc`` checks its document against the 2020-12 metaschema once, when made (a few ms for a
fal schema); ``build_output`` accepts one in place of the raw schema, so a caller that builds many
outputs for one endpoint prepares it once. It keeps a cache of subschema validators (at most
``_MAX_CACHED_VALIDATORS`` = 4096 entries, cleared when full); it holds no other state.

Errors: :class:`OutputBuildError` carries the JSON path (``$.images[0].url``) and a reason; the
integrator treats it as a bug (a schema that cannot be satisfied, or a media maker returning facts
that do not fit the schema). :class:`OutputSchemaError` is the subclass for documents that are not
valid JSON Schema, use non-local references, or point at missing definitions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError
from jsonschema.protocols import Validator

from ..regex_guard import BoundedDraft202012Validator

__all__ = [
    "ANNOTATIONS",
    "Deref",
    "JsonPath",
    "OutputBuildError",
    "OutputSchemaError",
    "SchemaDoc",
    "render_path",
]

JsonPath = tuple[str | int, ...]

# Keywords that describe rather than constrain; they are not merged from a wrapper onto a ref target.
ANNOTATIONS = frozenset(
    {"$ref", "allOf", "title", "description", "examples", "default", "deprecated", "readOnly", "writeOnly",
     "$comment", "x-fal-order-properties", "$defs", "$schema", "$id"}
)  # fmt: skip
_MAX_REF_CHAIN = 64
_MAX_CACHED_VALIDATORS = 4096


def render_path(path: Sequence[str | int]) -> str:
    """``("images", 0, "url")`` -> ``$.images[0].url`` (the form jsonschema's ``json_path`` uses)."""
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out




class OutputBuildError(Exception):
    """An output could not be built to satisfy its schema; ``path`` says where, ``reason`` why."""

    def __init__(self, path: Sequence[str | int], reason: str) -> None:
        self.path: JsonPath = tuple(path)
        self.reason = reason
        super().__init__(f"{render_path(self.path)}: {reason}")


class OutputSchemaError(OutputBuildError):
    """The schema document itself is unusable (invalid, non-local ``$ref``, missing definition)."""


@dataclass(frozen=True)
class Deref:
    """A dereferenced node: the structural ``schema``, its ``$defs`` ``name`` (if any), the outer wrappers."""

    schema: Mapping[str, Any]
    name: str | None
    wrappers: tuple[Mapping[str, Any], ...]
    refs: tuple[str, ...]


class SchemaDoc:
    """One normalised output schema; see the module docstring."""

    def __init__(self, root: Any) -> None:
        if not isinstance(root, Mapping):
            raise OutputSchemaError((), f"the output schema must be a JSON object, got {type(root).__name__}")
        try:
            Draft202012Validator.check_schema(root)
        except SchemaError as exc:
            raise OutputSchemaError(
                tuple(str(p) for p in exc.absolute_path), f"invalid JSON Schema: {exc.message}"
            ) from None
        self.root: Mapping[str, Any] = root
        self.validator = BoundedDraft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)
        self._validators: dict[int, tuple[Any, Validator]] = {}

    # -- references -------------------------------------------------------------------------------

    def target(self, ref: str, path: Sequence[str | int]) -> tuple[Any, str | None]:
        """The node a local ``$ref`` points at, and its ``$defs`` name when it names a definition."""
        if not ref.startswith("#"):
            raise OutputSchemaError(path, f"only local references are supported, got $ref {ref!r}")
        pointer = unquote(ref[1:])
        if pointer == "":
            return self.root, None
        if not pointer.startswith("/"):
            raise OutputSchemaError(path, f"unsupported $ref {ref!r} (anchors are not supported)")
        node: Any = self.root
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]
        for part in parts:
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise OutputSchemaError(path, f"$ref {ref!r} points at nothing")
        name = parts[1] if len(parts) == 2 and parts[0] in ("$defs", "definitions") else None
        return node, name

    def deref(self, node: Any, path: Sequence[str | int] = ()) -> Deref:
        """Follow ``$ref`` / single ``allOf`` wrappers to the structural schema (see module docstring)."""
        wrappers: list[Mapping[str, Any]] = []
        refs: list[str] = []
        name: str | None = None
        current: Any = node
        for _ in range(_MAX_REF_CHAIN):
            if isinstance(current, bool):
                current = {} if current else {"not": {}}
            if not isinstance(current, Mapping):
                raise OutputSchemaError(path, f"a schema must be an object or a boolean, got {current!r}")
            ref = current.get("$ref")
            all_of = current.get("allOf")
            if isinstance(ref, str):
                if ref in refs:
                    raise OutputSchemaError(path, f"circular $ref chain {' -> '.join([*refs, ref])}")
                refs.append(ref)
                wrappers.append(current)
                current, target_name = self.target(ref, path)
                name = target_name or name
                continue
            if isinstance(all_of, list) and len(all_of) == 1 and not _has_structure(current):
                wrappers.append(current)
                current = all_of[0]
                continue
            break
        else:
            raise OutputSchemaError(path, f"$ref chain longer than {_MAX_REF_CHAIN}")
        merged: dict[str, Any] = dict(current)
        for wrapper in reversed(wrappers):
            for key, value in wrapper.items():
                if key not in ANNOTATIONS:
                    merged[key] = value
        if isinstance(merged.get("allOf"), list) and merged["allOf"]:
            merged = self._merge_all_of(merged, path)
        return Deref(schema=merged, name=name, wrappers=tuple(wrappers), refs=tuple(refs))

    def _merge_all_of(self, schema: Mapping[str, Any], path: Sequence[str | int]) -> dict[str, Any]:
        """Intersect ``allOf`` members into one schema for generation (validation still checks all)."""
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for member in schema["allOf"]:
            part = self.deref(member, path).schema
            for key, value in part.items():
                if key in ANNOTATIONS and key not in ("x-fal-order-properties",):
                    merged.setdefault(key, value)
                elif key == "properties" and isinstance(value, Mapping):
                    props = dict(merged.get("properties", {}))
                    for prop, sub in value.items():
                        props[prop] = {"allOf": [props[prop], sub]} if prop in props else sub
                    merged["properties"] = props
                elif key == "required" and isinstance(value, list):
                    merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
                elif key in ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"):
                    merged[key] = max(merged[key], value) if key in merged else value
                elif key in ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"):
                    merged[key] = min(merged[key], value) if key in merged else value
                elif key == "enum" and "enum" in merged:
                    merged["enum"] = [v for v in merged["enum"] if v in value]
                else:
                    merged.setdefault(key, value)
        return merged

    # -- alternatives -----------------------------------------------------------------------------

    def alternatives(self, node: Any, path: Sequence[str | int] = ()) -> list[Deref]:
        """The non-null alternatives of ``node``: dereferenced ``anyOf`` / ``oneOf`` branches, else itself."""
        found = self.deref(node, path)
        for keyword in ("anyOf", "oneOf"):
            branches = found.schema.get(keyword)
            if isinstance(branches, list):
                shared = {k: v for k, v in found.schema.items() if k not in (keyword, *ANNOTATIONS)}
                out: list[Deref] = []
                for branch in branches:
                    for alt in self.alternatives(branch, path):
                        if _is_null_only(alt.schema):
                            continue
                        schema = {**shared, **alt.schema} if shared else alt.schema
                        out.append(Deref(schema, alt.name or found.name, found.wrappers + alt.wrappers, alt.refs))
                return out
        if _is_null_only(found.schema):
            return []
        return [found]

    def nullable(self, node: Any, path: Sequence[str | int] = ()) -> bool:
        """Whether ``null`` is admitted by ``node`` (checked by validation, so every form counts)."""
        return self.is_valid(None, node)

    # -- validation -------------------------------------------------------------------------------

    def is_valid(self, instance: Any, node: Any) -> bool:
        """``instance`` is valid against subschema ``node`` with references resolved in this document."""
        key = id(node)
        cached = self._validators.get(key)
        if cached is None or cached[0] is not node:
            if len(self._validators) >= _MAX_CACHED_VALIDATORS:
                self._validators.clear()
            validator: Validator = self.validator.evolve(schema=node)
            cached = (node, validator)
            self._validators[key] = cached  # the node is kept alive with it, so its id cannot be reused
        return bool(cached[1].is_valid(instance))

    def errors(self, instance: Any) -> Iterator[ValidationError]:
        """Validation errors of a finished output against the whole document (Draft 2020-12 + formats)."""
        return iter(sorted(self.validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))))


def _has_structure(schema: Mapping[str, Any]) -> bool:
    return any(key not in ANNOTATIONS for key in schema)


def _is_null_only(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "null" or kind == ["null"] or schema.get("const", 0) is None or schema.get("enum") == [None]
