"""The model endpoints the mock serves, as data: one fal OpenAPI document per endpoint.

:class:`EndpointRegistry` wraps a :class:`~..catalogue.Catalogue` (the bundled documents plus the
user's ``--openapi`` paths); it names no endpoint itself. Each :class:`Endpoint` says how its id
splits into fal's ``owner/alias/path`` (status, result and cancel use only ``owner/alias``), validates
arguments against the document's Input schema (the validator is compiled on first use, once), checks
outputs against its Output schema, says whether its files come back inline (a ``sync_mode`` boolean
in the Input schema, with the schema's default) and how long it takes in ``realistic`` progression.

``realistic`` timings, in seconds (queue wait, inference), per category; an endpoint's document may
override them with ``info["x-fal-mock"]["realistic_seconds"] = {"queue": [lo, hi], "inference":
[lo, hi]}`` (the bundled Lucy-5B and MiniMax documents do):

=====================================  ============  ==============
category                               queue         inference
=====================================  ============  ==============
text-to-image, image-to-image          0.2 – 1.0     1.5 – 5.0
text-to-video, image-to-video          0.5 – 3.0     20 – 60
video-to-video                         0.5 – 2.0     15 – 45
text-to-speech, text-to-audio, audio   0.1 – 0.5     1.0 – 4.0
speech-to-text, audio-to-text          0.1 – 0.5     1.0 – 5.0
image-to-3d, text-to-3d                0.5 – 2.0     10 – 30
llm, vision, text (JSON outputs)       0.05 – 0.3    0.5 – 3.0
training                               1.0 – 5.0     60 – 300
any other                              0.3 – 1.5     2.0 – 10
=====================================  ============  ==============

A category not in the table uses its ``*-to-<family>`` part (``image-to-audio`` → the audio row) and
then "any other".
"""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from jsonschema import Draft202012Validator

from ..catalogue import Catalogue, EndpointSpec, EndpointSummary
from ..outputs import SchemaDoc, classify_file, is_file_schema
from ..regex_guard import BoundedDraft202012Validator
from .validation import validate_with

_LEGACY_ID = re.compile(r"^([0-9]+)-([a-zA-Z0-9-]+)$")
_NAMESPACES = ("workflows", "comfy")


@dataclass(frozen=True)
class EndpointId:
    """An endpoint id split the way both official clients split it."""

    owner: str
    alias: str
    path: str
    namespace: str | None = None

    @property
    def app_id(self) -> str:
        """``owner/alias`` — the part status, result and cancel URLs use."""
        prefix = f"{self.namespace}/" if self.namespace else ""
        return f"{prefix}{self.owner}/{self.alias}"

    @classmethod
    def parse(cls, endpoint_id: str) -> EndpointId:
        parts = [part for part in endpoint_id.strip("/").split("/") if part]
        if len(parts) == 1:
            match = _LEGACY_ID.match(parts[0])
            if not match:
                raise ValueError(f"Invalid app id: {endpoint_id!r}")
            return cls(match.group(1), match.group(2), "")
        if parts and parts[0] in _NAMESPACES:
            if len(parts) < 3:
                raise ValueError(f"Invalid app id: {endpoint_id!r}")
            return cls(parts[1], parts[2], "/".join(parts[3:]), parts[0])
        if len(parts) < 2:
            raise ValueError(f"Invalid app id: {endpoint_id!r}")
        return cls(parts[0], parts[1], "/".join(parts[2:]))



_CATEGORY_TIMINGS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "image": ((0.2, 1.0), (1.5, 5.0)),
    "video": ((0.5, 3.0), (20.0, 60.0)),
    "video-to-video": ((0.5, 2.0), (15.0, 45.0)),
    "audio": ((0.1, 0.5), (1.0, 4.0)),
    "text": ((0.1, 0.5), (1.0, 5.0)),
    "3d": ((0.5, 2.0), (10.0, 30.0)),
    "json": ((0.05, 0.3), (0.5, 3.0)),
    "training": ((1.0, 5.0), (60.0, 300.0)),
    "other": ((0.3, 1.5), (2.0, 10.0)),
}
_FAMILY_OF = {"image": "image", "video": "video", "speech": "audio", "audio": "audio", "music": "audio",
              "text": "text", "3d": "3d", "json": "json", "llm": "json", "vision": "json", "training": "training",
              "train": "training", "lora": "training"}  # fmt: skip


def category_timings(category: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """``((queue lo, hi), (inference lo, hi))`` seconds for a category (the table in the module docstring)."""
    category = category.strip().lower()
    if category == "video-to-video":
        return _CATEGORY_TIMINGS["video-to-video"]
    if category in ("speech-to-text", "audio-to-text"):
        return _CATEGORY_TIMINGS["text"]
    if category in ("llm", "vision", "text", "json"):
        return _CATEGORY_TIMINGS["json"]
    family = category.rsplit("-to-", 1)[-1]
    if "train" in category:
        family = "training"
    return _CATEGORY_TIMINGS[_FAMILY_OF.get(family, "other")]


def _bounds(value: Any) -> tuple[float, float] | None:
    """``[lo, hi]`` seconds (0 <= lo <= hi < a day) from a document's ``x-fal-mock``, else None."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < 86_400 for v in value):
        return None
    return (float(value[0]), float(value[1])) if value[0] <= value[1] else None


def _validator(schema: Mapping[str, Any]) -> Any:
    """A compiled validator of a normalised schema: time-bounded patterns, formats checked."""
    return BoundedDraft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


class Endpoint:
    """One served model endpoint: its summary now, its normalised document on first use."""

    def __init__(self, summary: EndpointSummary, catalogue: Catalogue) -> None:
        self.endpoint_id = summary.endpoint_id
        self.title = summary.title
        self.category = summary.category
        self.source = summary.source
        self._catalogue = catalogue
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Endpoint({self.endpoint_id!r}, category={self.category!r}, source={self.source!r})"

    @property
    def spec(self) -> EndpointSpec:
        """The normalised document (normalised once; raises ``DocumentError`` for a broken one)."""
        spec = self._catalogue.get(self.endpoint_id)
        if spec is None:  # the catalogue is immutable: cannot happen for an endpoint it listed
            raise KeyError(self.endpoint_id)
        return spec

    @cached_property
    def parsed(self) -> EndpointId:
        return EndpointId.parse(self.endpoint_id)

    @property
    def app_id(self) -> str:
        return self.parsed.app_id

    # --- timings ------------------------------------------------------------------------
    @cached_property
    def _timings(self) -> tuple[tuple[float, float], tuple[float, float]]:
        queue, inference = category_timings(self.category)
        info = self.spec.document.get("info")
        extension = info.get("x-fal-mock") if isinstance(info, Mapping) else None
        seconds = extension.get("realistic_seconds") if isinstance(extension, Mapping) else None
        if isinstance(seconds, Mapping):
            queue = _bounds(seconds.get("queue")) or queue
            inference = _bounds(seconds.get("inference")) or inference
        return queue, inference

    @property
    def queue_seconds(self) -> tuple[float, float]:
        """``realistic`` progression: seconds in the queue before a runner picks the job up (min, max)."""
        return self._timings[0]

    @property
    def inference_seconds(self) -> tuple[float, float]:
        """``realistic`` progression: inference seconds (min, max); also ``metrics.inference_time``."""
        return self._timings[1]

    # --- inputs and outputs ----------------------------------------------------------------
    @cached_property
    def input_validator(self) -> Any:
        with self._lock:
            return _validator(self.spec.input_schema)

    @cached_property
    def output_doc(self) -> SchemaDoc:
        """The Output schema prepared for :func:`..outputs.build_output` (metaschema-checked once)."""
        with self._lock:
            return SchemaDoc(self.spec.output_schema)

    @cached_property
    def output_validator(self) -> Any:
        with self._lock:
            return _validator(self.spec.output_schema)

    def validate(self, arguments: Any) -> dict[str, Any]:
        """Validated arguments with the schema's defaults, or :class:`ModelError` with fal's 422 entries."""
        return validate_with(self.input_validator, arguments)

    def output_problems(self, body: Any) -> list[str]:
        """What is wrong with an output body against the Output schema (empty: valid)."""
        return [f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
                for error in self.output_validator.iter_errors(body)]  # fmt: skip

    def example_input(self) -> dict[str, Any]:
        """An input fal documents for this endpoint: the Input schema's first example, else each required
        property's first example or default (what ``fal-mock endpoints --example`` prints)."""
        schema = self.spec.input_schema
        examples = schema.get("examples")
        if isinstance(examples, list) and examples and isinstance(examples[0], Mapping):
            return dict(examples[0])
        properties = schema.get("properties")
        properties = properties if isinstance(properties, Mapping) else {}
        example: dict[str, Any] = {}
        required = schema.get("required")
        for name in required if isinstance(required, list) else []:
            prop = properties.get(name)
            if not isinstance(prop, Mapping):
                continue
            values = prop.get("examples")
            if isinstance(values, list) and values:
                example[name] = values[0]
            elif "default" in prop:
                example[name] = prop["default"]
            else:
                example[name] = _stand_in(name, prop, self.spec.file_inputs)
        return example

    @cached_property
    def sync_mode_default(self) -> bool | None:
        """The Input schema's ``sync_mode`` default (None: the endpoint has no ``sync_mode``)."""
        properties = self.spec.input_schema.get("properties")
        prop = properties.get("sync_mode") if isinstance(properties, Mapping) else None
        if not isinstance(prop, Mapping):
            return None
        default = prop.get("default", False)
        return default if isinstance(default, bool) else False

    def returns_data_uri(self, arguments: Mapping[str, Any]) -> bool:
        """Whether output files are inlined as ``data:`` URIs for these (validated) arguments."""
        if self.sync_mode_default is None:
            return False
        value = arguments.get("sync_mode", self.sync_mode_default)
        return value is True


_STAND_IN_FILES = {"image": "input.png", "video": "input.mp4", "audio": "input.wav", "model": "input.glb"}


def _stand_in(name: str, prop: Mapping[str, Any], file_inputs: Any) -> Any:
    """A value for a required property that the document gives no example of."""
    for file_input in file_inputs:
        if file_input.name == name:
            url = f"https://v3.fal.media/files/example/{_STAND_IN_FILES.get(file_input.media, 'input.bin')}"
            return [url] if file_input.is_list else url
    enum = prop.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    kind = prop.get("type")
    if kind == "integer" or kind == "number":
        low = prop.get("minimum", prop.get("exclusiveMinimum", 0))
        return low if kind == "number" else int(low) + (1 if "exclusiveMinimum" in prop else 0)
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return {}
    return "A lighthouse on a cliff at dawn, waves below"


class EndpointRegistry:
    """The served endpoints by full id: a catalogue's documents (bundled + the user's)."""

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        self.catalogue = catalogue if catalogue is not None else Catalogue()
        self._endpoints: dict[str, Endpoint] = {}
        self._lock = threading.Lock()
        self._app_ids: frozenset[str] | None = None

    def __iter__(self) -> Iterator[Endpoint]:
        for endpoint_id in self.catalogue.ids():
            endpoint = self.get(endpoint_id)
            if endpoint is not None:
                yield endpoint

    def __len__(self) -> int:
        return len(self.catalogue)

    def ids(self) -> list[str]:
        return self.catalogue.ids()

    def get(self, endpoint_id: str) -> Endpoint | None:
        wanted = endpoint_id.strip("/")
        endpoint = self._endpoints.get(wanted)
        if endpoint is not None:
            return endpoint
        summary = self.catalogue.summary(wanted)
        if summary is None:
            return None
        with self._lock:
            return self._endpoints.setdefault(wanted, Endpoint(summary, self.catalogue))

    def matches_app(self, endpoint_or_app: str) -> bool:
        """Whether a served endpoint has this id, or this ``owner/alias`` (what faults may target)."""
        wanted = endpoint_or_app.strip("/")
        if wanted in self.catalogue:
            return True
        try:
            app_id = EndpointId.parse(wanted).app_id
        except ValueError:
            return False
        if app_id != wanted:
            return False
        if self._app_ids is None:
            app_ids = set()
            for endpoint_id in self.catalogue.ids():
                try:
                    app_ids.add(EndpointId.parse(endpoint_id).app_id)
                except ValueError:
                    continue
            self._app_ids = frozenset(app_ids)
        return wanted in self._app_ids

    def suggestions(self, endpoint_id: str, limit: int = 3) -> list[str]:
        """Served ids close to ``endpoint_id`` (for "did you mean" in errors)."""
        return difflib.get_close_matches(endpoint_id.strip("/"), self.catalogue.ids(), n=limit, cutoff=0.6)


def output_media(endpoint: Endpoint) -> list[str]:
    """The output's file fields and their media kind (``images[]:image``, ``video:video``), top level only."""
    doc = SchemaDoc(endpoint.spec.output_schema)
    found: list[str] = []
    properties = doc.root.get("properties")
    for name, node in (properties.items() if isinstance(properties, Mapping) else ()):
        target = _non_null(doc, doc.deref(node))
        is_list = target.schema.get("type") == "array" and "items" in target.schema
        if is_list:
            target = _non_null(doc, doc.deref(target.schema["items"]))
        if is_file_schema(target.schema, target.name, name):
            spec = classify_file(target, property_name=name, category=endpoint.category, arguments={},
                                 deref=lambda n: doc.deref(n).schema)  # fmt: skip
            found.append(f"{name}{'[]' if is_list else ''}:{spec.kind}")
    return found


def _non_null(doc: SchemaDoc, target: Any) -> Any:
    """``anyOf: [T, {type: null}]`` → T (dereferenced)."""
    branches = target.schema.get("anyOf")
    if isinstance(branches, list):
        others = [b for b in branches if not (isinstance(b, Mapping) and b.get("type") == "null")]
        if len(others) == 1:
            return doc.deref(others[0])
    return target


#: User documents checked (normalised) at start-up; beyond this many, each is checked on its first use.
EAGER_CHECK_DOCUMENTS = 50


def load_user_documents(catalogue: Catalogue) -> None:
    """Normalise the user's documents now (up to :data:`EAGER_CHECK_DOCUMENTS` of them), so a broken one fails
    at start-up, loudly, naming its file and JSON path. More documents than that stay lazy (normalising
    1,400 takes about 40 s): a broken one then answers its first request with a 500 that names the same."""
    user = [s.endpoint_id for s in catalogue.summaries() if not s.source.startswith("bundled:")]
    if len(user) <= EAGER_CHECK_DOCUMENTS:
        for endpoint_id in user:
            catalogue.get(endpoint_id)


def load_endpoints(openapi: Iterable[str]) -> EndpointRegistry:
    """The bundled documents plus ``openapi`` (files or directories), the user's checked now (see
    :func:`load_user_documents`); raises ``DocumentError`` for a broken one."""
    catalogue = Catalogue(openapi)
    load_user_documents(catalogue)
    return EndpointRegistry(catalogue)
