"""Normalise one fal per-endpoint OpenAPI document into an :class:`EndpointSpec`.

fal publishes one OpenAPI document per endpoint
(``https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=<id>``): ``openapi: "3.0.4"``,
``info.x-fal-metadata`` (``endpointId``, ``category``, ...), ``components.schemas`` (``QueueStatus``,
``<Name>Input``, ``<Name>Output`` and shared types) and four paths: submit ``POST /{id}`` whose
request body is the Input, status, cancel, and result ``GET /{id}/requests/{request_id}`` whose 200
response is the Output. :func:`normalise` turns such a document into two standalone JSON Schema
2020-12 documents and a few facts about the endpoint.

The normalised schemas (the contract other code relies on)::

    {"$schema": "https://json-schema.org/draft/2020-12/schema",
     <the Input (resp. Output) component's own keywords>,
     "$defs": {<every component it references, transitively, under its original component name>}}

Rules:

- ``$ref: "#/components/schemas/<Name>[/<pointer>]"`` becomes ``"#/$defs/<Name>[/<pointer>]"``; a
  reference to the root component itself (recursion) becomes ``"#[/<pointer>]"``. Recursive and
  mutually recursive components stay references: each component is converted once. ``$defs`` is
  always present (possibly empty) and lists components in discovery order.
- ``nullable: true`` (OpenAPI 3.0) becomes ``anyOf: [<the schema without nullable>, {"type": "null"}]``;
  the annotations (``title``, ``description``, ``default``, ``examples``, ``deprecated``, ``readOnly``,
  ``writeOnly``, ``$comment``, ``x-*``) stay on the outer schema so a reader finds them where they were.
  ``nullable: false`` is dropped.
- ``example: X`` (3.0, singular) becomes ``examples: [X]`` (appended to ``examples`` when both exist);
  an OpenAPI-style ``examples`` map becomes the list of its values (``value`` of Example Objects).
- ``exclusiveMinimum: true`` / ``exclusiveMaximum: true`` (3.0 boolean form) take the number from
  ``minimum`` / ``maximum`` (which is then dropped); ``false`` is dropped; the numeric 2020-12 form
  (which fal's 3.0.4 documents already use) is kept. ``true`` without the number is an error.
- ``items`` given as a list (draft-4 tuples) becomes ``prefixItems`` (and ``additionalItems`` ``items``).
- Everything else is kept as written: ``title``, ``description``, ``format``, ``anyOf: [T, {type: null}]``
  (fal writes 3.1-style nullability in 3.0.4 documents), ``x-fal-order-properties``, ``_fal_ui_field``,
  any ``x-*``. Instance data (``default``, ``enum``, ``const``, ``examples``) is copied, never rewritten.
- Both results pass ``jsonschema.Draft202012Validator.check_schema`` (checked: the root and each
  ``$defs`` entry apart, which is the same check; a :class:`SchemaChecker` shared between calls skips
  definitions it already found valid, as a catalogue does — about half the cost, since fal's shared
  types recur in most documents).

Where the submit and result operations are: ``paths["/<endpointId>"].post`` and
``paths["/<endpointId>/requests/{request_id}"].get``; when a document lists them under another prefix,
the one POST operation outside ``/requests/`` and the one GET on a path ending
``/requests/{request_id}`` are used. The input is the request body's ``application/json`` schema and
the output the 200 response's; both must be a ``$ref`` to ``components.schemas``.

Malformed documents raise :class:`DocumentError` naming the source and the JSON path of the fault
(``docs/x.json: $.paths["/fal-ai/x"].post.requestBody: no schema $ref for the input``): a document
that is not an object, a missing or invalid ``openapi`` version, ``info``, ``x-fal-metadata`` or
``endpointId``, no POST operation, no output schema, a dangling or external ``$ref``, a schema that
is neither an object nor a boolean, ``$id``/``$anchor`` inside components (they would change how
the rewritten references resolve), schemas nested deeper than :data:`MAX_DEPTH` levels, a result
that fails ``check_schema``.

Limits: :data:`MAX_DEPTH` = 200 nested schema levels. Endpoint ids: one or more ``/``-separated
segments of ``A-Z a-z 0-9 . _ -``, no segment ``.`` or ``..``, at most :data:`MAX_ENDPOINT_ID_LENGTH`
characters. ``category`` defaults to ``"other"`` when the metadata has none (fal's documents always
have one); ``title`` and ``description`` are ``info.title`` / ``info.description`` as fal writes them
(``"Queue OpenAPI for <id>"``); fal's documents carry no display name.

File inputs (:attr:`EndpointSpec.file_inputs`) are found among the *top-level* properties of the
normalised input schema (``$ref``s followed, ``anyOf``/``oneOf`` with ``null`` unwrapped). A property is
a file input when its name contains neither ``webhook`` nor ``callback``, its value is a string
(``is_list`` false) or an array of strings (``is_list`` true) or has no ``type`` at all, and one of:

1. its name ends with ``_url`` or ``_urls``;
2. it, or its ``items``, carries fal's UI marker ``_fal_ui_field`` (or ``x-fal-ui-field``) naming a
   media kind (``image``, ``video``, ``audio``, ``mesh``/``3d``/``model``, ``file``);
3. its description starts with "URL"/"URI" (after any of: the, a, an, one or more, public, list of:
   "URL of the image...", "List of URLs of input images") and names a media word.

Its media kind is the first of: the UI marker; a media word among the name's ``_``-separated
tokens; the earliest media word in its description; else ``"any"``. Media words (a trailing ``s`` ignored):
image (image, img, photo, picture, mask, frame, face, portrait, sketch, drawing, texture, png, jpg,
jpeg, webp), video (video, clip, footage, movie, mp4, mov), audio (audio, voice, speech, music,
sound, song, mp3, wav, m4a, flac), model (mesh, glb, gltf, obj, fbx, stl, usdz, 3d, object). Nested file URLs
(e.g. ``loras[].path``) are not reported.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, unquote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
MAX_DEPTH = 200
MAX_ENDPOINT_ID_LENGTH = 256
DEFAULT_CATEGORY = "other"
COMPONENT_PREFIX = "#/components/schemas/"

MediaKind = Literal["image", "video", "audio", "model", "any"]
PathPart = str | int

_SEGMENT = re.compile(r"[A-Za-z0-9._-]+\Z")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_RESULT_SUFFIX = "/requests/{request_id}"
# Keywords whose value is one subschema / a list of subschemas / a map of names to subschemas.
_SCHEMA_ONE = frozenset(
    {
        "items",
        "additionalItems",
        "additionalProperties",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "propertyNames",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contentSchema",
    }
)
_SCHEMA_LIST = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_MAP = frozenset({"properties", "patternProperties", "dependentSchemas", "$defs", "definitions"})
_FORBIDDEN = frozenset({"$id", "$anchor", "$dynamicAnchor", "$recursiveAnchor"})
# Kept on the outer schema when ``nullable: true`` is rewritten into an ``anyOf``.
_ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly", "$comment"}
)


class DocumentError(ValueError):
    """A document that cannot be normalised: ``<source>: <JSON path>: <what is wrong>``."""

    def __init__(self, source: str, path: str, message: str) -> None:
        self.source = source
        self.path = path
        self.reason = message
        super().__init__(f"{source}: {path}: {message}")


@dataclass(frozen=True)
class FileInput:
    """An input property that takes a file URL (or a list of them)."""

    name: str
    media: MediaKind
    is_list: bool
    required: bool


@dataclass(frozen=True, eq=False)
class EndpointSpec:
    """One endpoint, normalised. Treat the mappings as read-only: a catalogue hands the same object to every caller.

    Compared and hashed by identity (its fields hold dicts, which have no hash).
    """

    endpoint_id: str
    category: str
    title: str
    description: str
    input_schema: Mapping[str, Any]
    output_schema: Mapping[str, Any]
    input_name: str
    output_name: str
    source: str
    document: Mapping[str, Any]
    metadata: Mapping[str, Any]
    file_inputs: tuple[FileInput, ...]


def json_path(parts: Sequence[PathPart]) -> str:
    """``("paths", "/fal-ai/x", "post")`` → ``$.paths["/fal-ai/x"].post``."""
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.match(part):
            out.append(f".{part}")
        else:
            out.append(f"[{json.dumps(part, ensure_ascii=False)}]")
    return "".join(out)


def check_endpoint_id(endpoint_id: object) -> str | None:
    """Why ``endpoint_id`` is not a valid endpoint id, or None when it is."""
    if not isinstance(endpoint_id, str):
        return f"must be a string, not {_kind(endpoint_id)}"
    if not endpoint_id:
        return "must not be empty"
    if len(endpoint_id) > MAX_ENDPOINT_ID_LENGTH:
        return f"is longer than {MAX_ENDPOINT_ID_LENGTH} characters"
    for segment in endpoint_id.split("/"):
        if not _SEGMENT.match(segment) or segment in (".", ".."):
            return f"{endpoint_id!r} is not '/'-separated segments of A-Z a-z 0-9 . _ -"
    return None


def metadata_fields(info: object, source: str) -> tuple[str, str, str, str, Mapping[str, Any]]:
    """(endpoint id, category, title, description, x-fal-metadata) of a document's ``info`` object.

    Shared by :func:`normalise` and the catalogue's load-time index, so both fail alike.
    """
    if not isinstance(info, Mapping):
        raise DocumentError(source, "$.info", f"must be an object, not {_kind(info)}")
    metadata = info.get("x-fal-metadata")
    if metadata is None:
        raise DocumentError(source, '$.info["x-fal-metadata"]', "missing (fal's per-endpoint metadata)")
    if not isinstance(metadata, Mapping):
        raise DocumentError(source, '$.info["x-fal-metadata"]', f"must be an object, not {_kind(metadata)}")
    endpoint_id = metadata.get("endpointId")
    where = '$.info["x-fal-metadata"].endpointId'
    if endpoint_id is None:
        raise DocumentError(source, where, "missing")
    problem = check_endpoint_id(endpoint_id)
    if problem is not None:
        raise DocumentError(source, where, problem)
    assert isinstance(endpoint_id, str)
    category = metadata.get("category", DEFAULT_CATEGORY)
    if not isinstance(category, str) or not category:
        raise DocumentError(source, '$.info["x-fal-metadata"].category', "must be a non-empty string")
    title = info.get("title", endpoint_id)
    if not isinstance(title, str):
        raise DocumentError(source, "$.info.title", f"must be a string, not {_kind(title)}")
    description = info.get("description", "")
    if not isinstance(description, str):
        raise DocumentError(source, "$.info.description", f"must be a string, not {_kind(description)}")
    return endpoint_id, category, title, description, metadata


def normalise(document: Mapping[str, Any], *, source: str, checker: SchemaChecker | None = None) -> EndpointSpec:
    """Normalise a parsed fal OpenAPI document; ``source`` (a path, ``bundled:<name>``, a URL) names it in errors.

    ``checker`` (optional) remembers the components it has already checked, across documents.
    """
    if not isinstance(document, Mapping):
        raise DocumentError(source, "$", f"the document must be a JSON object, not {_kind(document)}")
    version = document.get("openapi")
    if not isinstance(version, str) or not re.match(r"3\.[01]\.", version):
        raise DocumentError(source, "$.openapi", f"must be an OpenAPI 3.0.x or 3.1.x version, not {version!r}")
    if "info" not in document:
        raise DocumentError(source, "$.info", "missing")
    endpoint_id, category, title, description, metadata = metadata_fields(document["info"], source)
    components = document.get("components")
    if not isinstance(components, Mapping):
        raise DocumentError(source, "$.components", f"must be an object, not {_kind(components)}")
    schemas = components.get("schemas")
    if not isinstance(schemas, Mapping):
        raise DocumentError(source, "$.components.schemas", f"must be an object, not {_kind(schemas)}")
    paths = document.get("paths")
    if not isinstance(paths, Mapping):
        raise DocumentError(source, "$.paths", f"must be an object, not {_kind(paths)}")

    input_name = _input_component(paths, endpoint_id, schemas, source)
    output_name = _output_component(paths, endpoint_id, schemas, source)
    input_schema = _Converter(schemas, input_name, source).standalone()
    output_schema = _Converter(schemas, output_name, source).standalone()
    checker = checker if checker is not None else SchemaChecker(max_entries=0)
    for name, schema in ((input_name, input_schema), (output_name, output_schema)):
        checker.check(schema, name, source)
    return EndpointSpec(
        endpoint_id=endpoint_id,
        category=category,
        title=title,
        description=description,
        input_schema=input_schema,
        output_schema=output_schema,
        input_name=input_name,
        output_name=output_name,
        source=source,
        document=document,
        metadata=metadata,
        file_inputs=find_file_inputs(input_schema),
    )


class SchemaChecker:
    """``Draft202012Validator.check_schema`` for normalised schemas, remembering what it has checked.

    The 2020-12 metaschema checks each ``$defs`` entry as a schema of its own, so checking the root (without
    ``$defs``) and every definition apart is the same check; definitions already found valid (fal's
    ``File``, ``Image``, ``ImageSize``... recur in most documents) are not checked again. At most
    ``max_entries`` definitions are remembered (then new ones are checked every time); 0 remembers none.
    Safe to share between threads.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        self._max_entries = max_entries
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def check(self, schema: Mapping[str, Any], component: str, source: str) -> None:
        """Raise :class:`DocumentError` (naming ``component``, or the failing definition) when invalid."""
        root = {key: value for key, value in schema.items() if key != "$defs"}
        self._check_one(root, component, source)
        for name, definition in schema.get("$defs", {}).items():
            key = json.dumps(definition, sort_keys=True, separators=(",", ":"))
            if key in self._seen:
                continue
            self._check_one(definition, name, source)
            with self._lock:
                if len(self._seen) < self._max_entries:
                    self._seen.add(key)

    @staticmethod
    def _check_one(schema: Any, component: str, source: str) -> None:
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            where = json_path(["components", "schemas", component])
            inner = json_path(list(exc.path))
            message = f"not a valid JSON Schema once normalised (at {inner}): {exc.message}"
            raise DocumentError(source, where, message) from exc


# ---------------------------------------------------------------------------------------------------------
# Locating the input and output components


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )


def _submit_path(paths: Mapping[str, Any], endpoint_id: str, source: str) -> str:
    own = f"/{endpoint_id}"
    if own in paths:
        item = paths[own]
        if not isinstance(item, Mapping) or "post" not in item:
            raise DocumentError(source, json_path(["paths", own]), "no POST operation (the submit)")
        return own
    candidates = [
        key for key, item in paths.items() if isinstance(item, Mapping) and "post" in item and "/requests/" not in key
    ]
    if len(candidates) != 1:
        found = "none" if not candidates else ", ".join(sorted(candidates))
        raise DocumentError(source, "$.paths", f"no POST operation for {own!r} (the submit); POST paths: {found}")
    return candidates[0]


def _result_path(paths: Mapping[str, Any], endpoint_id: str, source: str) -> str:
    own = f"/{endpoint_id}{_RESULT_SUFFIX}"
    if own in paths:
        return own
    candidates = [
        key
        for key, item in paths.items()
        if key.endswith(_RESULT_SUFFIX) and isinstance(item, Mapping) and "get" in item
    ]
    if len(candidates) != 1:
        raise DocumentError(
            source, "$.paths", f"no output schema: no GET {own!r} (the result) and no single other result path"
        )
    return candidates[0]


def _json_schema_ref(operation: Any, keys: Sequence[str]) -> object:
    node = operation
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _component_ref(ref: object, schemas: Mapping[str, Any], source: str, where: list[PathPart], what: str) -> str:
    if not isinstance(ref, str) or not ref.startswith(COMPONENT_PREFIX):
        raise DocumentError(source, json_path(where), f"no schema $ref for the {what}")
    tokens = _pointer_tokens(ref[1:])
    if len(tokens) != 3:
        raise DocumentError(source, json_path([*where, "schema", "$ref"]), f"{ref!r} is not a whole component")
    name = tokens[2]
    if name not in schemas:
        raise DocumentError(source, json_path([*where, "schema", "$ref"]), f"dangling $ref {ref!r}")
    return name


def _input_component(paths: Mapping[str, Any], endpoint_id: str, schemas: Mapping[str, Any], source: str) -> str:
    key = _submit_path(paths, endpoint_id, source)
    where: list[PathPart] = ["paths", key, "post", "requestBody"]
    body = paths[key]["post"].get("requestBody") if isinstance(paths[key]["post"], Mapping) else None
    content = _json_schema_ref(body, ["content"])
    if isinstance(content, Mapping) and "application/json" not in content and content:
        others = ", ".join(sorted(str(k) for k in content))
        raise DocumentError(source, json_path(where), f"no application/json request body (found {others})")
    ref = _json_schema_ref(body, ["content", "application/json", "schema", "$ref"])
    if ref is None:
        raise DocumentError(source, json_path(where), "no schema $ref for the input")
    return _component_ref(ref, schemas, source, [*where, "content", "application/json"], "input")


def _output_component(paths: Mapping[str, Any], endpoint_id: str, schemas: Mapping[str, Any], source: str) -> str:
    key = _result_path(paths, endpoint_id, source)
    item = paths[key]
    if not isinstance(item, Mapping) or "get" not in item:
        raise DocumentError(source, json_path(["paths", key]), "no GET operation (the result): no output schema")
    where: list[PathPart] = ["paths", key, "get", "responses", "200"]
    ref = _json_schema_ref(item["get"], ["responses", "200", "content", "application/json", "schema", "$ref"])
    if ref is None:
        raise DocumentError(source, json_path(where), "no schema $ref for the output")
    return _component_ref(ref, schemas, source, [*where, "content", "application/json"], "output")


# ---------------------------------------------------------------------------------------------------------
# Converting components


def _pointer_tokens(fragment: str) -> list[str]:
    """``/components/schemas/A~1B`` → ``["components", "schemas", "A/B"]`` (percent-decoded, then ~1, ~0)."""
    if not fragment:
        return []
    return [token.replace("~1", "/").replace("~0", "~") for token in unquote(fragment).split("/")[1:]]


def _pointer(tokens: Sequence[str]) -> str:
    return "".join("/" + quote(t.replace("~", "~0").replace("/", "~1"), safe="!$&'()*+,;=:@-._~") for t in tokens)


class _Converter:
    """Builds the standalone 2020-12 schema of one component and every component it references."""

    def __init__(self, schemas: Mapping[str, Any], root: str, source: str) -> None:
        self._schemas = schemas
        self._root = root
        self._source = source
        self._defs: dict[str, Any] = {}
        self._pending: list[str] = []

    def standalone(self) -> dict[str, Any]:
        where: list[PathPart] = ["components", "schemas", self._root]
        root = self._schema(self._schemas[self._root], where, 0)
        if isinstance(root, bool):
            root = {} if root else {"not": {}}
        if "$defs" in root:
            raise DocumentError(self._source, json_path([*where, "$defs"]), "a component's own $defs is not supported")
        while self._pending:
            name = self._pending.pop(0)
            self._defs[name] = self._schema(self._schemas[name], ["components", "schemas", name], 0)
        result: dict[str, Any] = {"$schema": JSON_SCHEMA_DIALECT}
        result.update((key, value) for key, value in root.items() if key != "$schema")
        result["$defs"] = self._defs
        return result

    def _error(self, where: Sequence[PathPart], message: str) -> DocumentError:
        return DocumentError(self._source, json_path(where), message)

    def _ref(self, ref: object, where: list[PathPart]) -> str:
        if not isinstance(ref, str):
            raise self._error(where, f"$ref must be a string, not {_kind(ref)}")
        if not ref.startswith("#"):
            raise self._error(where, f"external $ref {ref!r} is not supported (only #/components/schemas/...)")
        if not ref.startswith(COMPONENT_PREFIX):
            raise self._error(where, f"$ref {ref!r} does not point into #/components/schemas")
        tokens = _pointer_tokens(ref[1:])[2:]
        name, rest = tokens[0], tokens[1:]
        if name not in self._schemas:
            raise self._error(where, f"dangling $ref {ref!r}: no component {name!r}")
        node: Any = self._schemas[name]
        for token in rest:
            if isinstance(node, Mapping) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise self._error(where, f"dangling $ref {ref!r}: {name!r} has no {_pointer(rest)!r}")
        if name == self._root:
            return "#" + _pointer(rest)
        if name not in self._defs and name not in self._pending:
            self._defs[name] = None  # reserve the place: discovery order, and no second conversion
            self._pending.append(name)
        return "#" + _pointer(["$defs", name, *rest])

    def _schema(self, node: Any, where: list[PathPart], depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self._error(where, f"schemas nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, bool):
            return node
        if not isinstance(node, Mapping):
            raise self._error(where, f"a schema must be an object or a boolean, not {_kind(node)}")
        out: dict[str, Any] = {}
        for key, value in node.items():
            here = [*where, key]
            if key in _FORBIDDEN:
                raise self._error(here, f"{key} inside components is not supported")
            if key == "$ref":
                out[key] = self._ref(value, here)
            elif key in ("nullable", "example"):
                continue  # handled below
            elif key == "examples":
                out[key] = self._examples(value, here)
            elif key == "items" and isinstance(value, list):
                out["prefixItems"] = self._list(value, here, depth)
            elif key == "additionalItems" and isinstance(node.get("items"), list):
                out["items"] = self._schema(value, here, depth + 1)
            elif key in _SCHEMA_ONE:
                out[key] = self._schema(value, here, depth + 1)
            elif key in _SCHEMA_LIST:
                out[key] = self._list(value, here, depth)
            elif key in _SCHEMA_MAP:
                if not isinstance(value, Mapping):
                    raise self._error(here, f"must be an object of schemas, not {_kind(value)}")
                out[key] = {name: self._schema(sub, [*here, name], depth + 1) for name, sub in value.items()}
            else:
                out[key] = copy.deepcopy(value)
        if "example" in node:
            examples = out.setdefault("examples", [])
            if node["example"] not in examples:
                examples.append(copy.deepcopy(node["example"]))
        for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            flag = out.get(exclusive)
            if isinstance(flag, bool):
                if flag:
                    number = out.pop(bound, None)
                    if not isinstance(number, int | float) or isinstance(number, bool):
                        raise self._error([*where, exclusive], f"{exclusive}: true needs a numeric {bound}")
                    out[exclusive] = number
                else:
                    del out[exclusive]
        nullable = node.get("nullable", False)
        if not isinstance(nullable, bool):
            raise self._error([*where, "nullable"], f"must be a boolean, not {_kind(nullable)}")
        if nullable:
            outer = {k: v for k, v in out.items() if k in _ANNOTATIONS or k.startswith("x-")}
            inner = {k: v for k, v in out.items() if k not in outer}
            outer["anyOf"] = [inner, {"type": "null"}]
            return outer
        return out

    def _list(self, value: object, where: list[PathPart], depth: int) -> list[Any]:
        if not isinstance(value, list):
            raise self._error(where, f"must be an array of schemas, not {_kind(value)}")
        return [self._schema(sub, [*where, i], depth + 1) for i, sub in enumerate(value)]

    def _examples(self, value: object, where: list[PathPart]) -> list[Any]:
        if isinstance(value, list):
            return copy.deepcopy(value)
        if isinstance(value, Mapping):  # an OpenAPI examples map {name: Example Object}
            return [copy.deepcopy(v["value"] if isinstance(v, Mapping) and "value" in v else v) for v in value.values()]
        raise self._error(where, f"must be an array, not {_kind(value)}")


# ---------------------------------------------------------------------------------------------------------
# File inputs

_MEDIA_WORDS: dict[str, frozenset[str]] = {
    "image": frozenset(
        {"image", "img", "photo", "picture", "mask", "frame", "face", "portrait", "sketch", "drawing", "texture"}
        | {"png", "jpg", "jpeg", "webp"}
    ),
    "video": frozenset({"video", "clip", "footage", "movie", "mp4", "mov"}),
    "audio": frozenset({"audio", "voice", "speech", "music", "sound", "song", "mp3", "wav", "m4a", "flac"}),
    "model": frozenset({"mesh", "glb", "gltf", "obj", "fbx", "stl", "usdz", "3d", "object"}),
}
_UI_FIELDS: dict[str, MediaKind] = {
    "image": "image",
    "images": "image",
    "video": "video",
    "audio": "audio",
    "mesh": "model",
    "model": "model",
    "3d": "model",
    "file": "any",
}
_WORD = re.compile(r"[a-z0-9]+")
_URL_FIRST = re.compile(r"\s*(?:(?:the|a|an|one|or|more|public|list|of)\s+)*ur[il]s?\b")


def _word_kind(word: str) -> MediaKind | None:
    for kind, words in _MEDIA_WORDS.items():
        if word in words or (word.endswith("s") and word[:-1] in words):
            return kind  # type: ignore[return-value]
    return None


def _resolve(schema: Any, root: Mapping[str, Any], hops: int = 0) -> Any:
    """Follow local ``#``/``#/$defs/...`` references (at most 32 hops) of a normalised schema."""
    while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and hops < 32:
        tokens = _pointer_tokens(schema["$ref"][1:])
        target: Any = root
        for token in tokens:
            target = target.get(token) if isinstance(target, Mapping) else None
        schema, hops = target, hops + 1
    return schema


def _unwrap(schema: Any, root: Mapping[str, Any]) -> Any:
    schema = _resolve(schema, root)
    for key in ("anyOf", "oneOf"):
        if isinstance(schema, Mapping) and isinstance(schema.get(key), list):
            branches = [_resolve(b, root) for b in schema[key]]
            real = [b for b in branches if not (isinstance(b, Mapping) and b.get("type") == "null")]
            if len(real) == 1:
                return _unwrap(real[0], root)
    return schema


def _admits_string(schema: Any) -> bool:
    if not isinstance(schema, Mapping):
        return schema is True
    kind = schema.get("type")
    if kind is None:
        return "properties" not in schema and "items" not in schema and "anyOf" not in schema
    return kind == "string" or (isinstance(kind, list) and "string" in kind)


def _shape(schema: Any, root: Mapping[str, Any]) -> tuple[bool, Any] | None:
    """(is_list, the string schema) when ``schema`` takes a string or a list of strings, else None."""
    schema = _unwrap(schema, root)
    if isinstance(schema, Mapping) and schema.get("type") == "array":
        items = _unwrap(schema.get("items", True), root)
        return (True, items) if _admits_string(items) else None
    return (False, schema) if _admits_string(schema) else None


def _ui_kind(*schemas: Any) -> MediaKind | None:
    for schema in schemas:
        if isinstance(schema, Mapping):
            for key in ("_fal_ui_field", "x-fal-ui-field"):
                value = schema.get(key)
                if isinstance(value, str) and value.lower() in _UI_FIELDS:
                    return _UI_FIELDS[value.lower()]
    return None


def _description(*schemas: Any) -> str:
    texts = (s.get("description") for s in schemas if isinstance(s, Mapping))
    return " ".join(text for text in texts if isinstance(text, str))


def find_file_inputs(input_schema: Mapping[str, Any]) -> tuple[FileInput, ...]:
    """The top-level properties of a normalised input schema that take files (rules in the module docstring)."""
    root = _resolve(input_schema, input_schema)
    if not isinstance(root, Mapping) or not isinstance(root.get("properties"), Mapping):
        return ()
    listed = root.get("required")
    required = {item for item in listed if isinstance(item, str)} if isinstance(listed, list) else set()
    found: list[FileInput] = []
    for name, raw in root["properties"].items():
        shape = _shape(raw, input_schema)
        if shape is None:
            continue
        is_list, leaf = shape
        layers = (raw, _resolve(raw, input_schema), _unwrap(raw, input_schema), leaf)
        schemas = [layer for i, layer in enumerate(layers) if all(layer is not other for other in layers[:i])]
        lowered = name.lower()
        if "webhook" in lowered or "callback" in lowered:
            continue
        by_name = lowered.endswith(("_url", "_urls"))
        ui_kind = _ui_kind(*schemas)
        text = _description(*schemas).lower()
        words = _WORD.findall(text)
        by_text = bool(_URL_FIRST.match(text)) and any(_word_kind(w) for w in words)
        if not (by_name or ui_kind or by_text):
            continue
        kind: MediaKind | None = ui_kind
        if kind is None:
            kind = next((k for k in map(_word_kind, lowered.split("_")) if k), None)
        if kind is None:
            kind = next((k for k in map(_word_kind, words) if k), None)
        found.append(FileInput(name=name, media=kind or "any", is_list=is_list, required=name in required))
    return tuple(found)
