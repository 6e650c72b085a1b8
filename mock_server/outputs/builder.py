"""The output walker: a realistic, schema-valid fal output from an Output schema, an input and a seed.

``build_output(output_schema, *, arguments, category, seed, media, limits, inputs)`` walks the
normalised schema (see :mod:`.schema`) with :class:`~.values.ValueGenerator` and adds what makes an
output look like fal's:

**Files.** Every file object (see :mod:`.files` for recognition and the classification table) becomes
``media.make(FileRequest)``; its properties are filled from the returned :class:`~.files.FileFacts`
*truthfully* — never from examples. A property the maker does not know (``None``) is omitted, unless the
schema requires it; then a derived value is used: ``width``/``height`` from the input's requested size
(``image_size`` preset or ``{width, height}``, ``width``/``height``, ``aspect_ratio`` + ``resolution``),
else the first measured input dimensions, else 1024×1024; ``duration`` from the input's ``duration``
(or ``num_frames / fps``), else the first measured input duration, else 5 s; ``fps`` from the input,
else 24; ``num_frames`` = round(duration × fps); any other metadata (``sample_rate``...) is generated
like any value (this is the one place a file fact is not the maker's). A fact that does not fit its
property's schema (a string ``fps``, a ``content_type`` outside the schema's ``enum``...) raises
:class:`~.schema.OutputBuildError`: the maker and the schema disagree. Integral floats are written as
integers where the schema wants integers.

**Arrays of files** get ``n`` items: the first integer among the input's ``num_images``,
``num_outputs``, ``num_samples``, ``n``, ``num_videos``, ``num_generations``, ``batch_size``,
``number_of_images``, ``num_results``; else ``max(minItems, 1)``; then clamped into
``[minItems, maxItems]`` and cut to the files left in ``limits.max_files`` (a ``minItems`` beyond that
raises). **Optional file properties** are emitted only when their object has no *required* file-bearing
property (fal marks alternative outputs optional: ``image`` vs ``file``, Tripo's ``base_model`` /
``pbr_model``), within the file budget.

**Plain URL strings** (``format: uri``-like, or names whose last word is ``url``/``uri``/``urls``) that
are not file objects get ``media.url_for(UrlRequest)`` when required and are omitted when optional. No
string of the output comes from an example that holds a URL, so every URL in an output is the maker's.

**fal conventions** (top-level properties only; each convention value is checked against the property's
schema and falls back to generic generation when it does not fit):

- ``seed`` echoes the input's integer ``seed``; without one, a seeded value (not the example).
- ``prompt`` echoes the input ``prompt``; ``actual_prompt`` / ``revised_prompt`` / ``expanded_prompt`` /
  ``enhanced_prompt`` / ``final_prompt`` too; any other ``*prompt`` (``negative_prompt``) echoes the input
  property of the same name when there is one.
- ``has_nsfw_concepts`` / ``nsfw_content_detected`` / ``nsfw_detected``: one ``false`` per generated
  image (per generated file when there are no images), computed after the other properties.
- ``timings``: the schema's declared properties, else ``{"inference": s}``, with plausible seconds.
- text: in *transcript mode* (category ``speech-to-text`` / ``audio-to-text`` / ``*transcri*``, or an
  output with a timed array) ``text``/``output``/``transcription``/``transcript`` is the transcript's
  text, timed arrays (items with ``timestamp`` or ``start``+``end``: ``chunks``, ``segments``,
  ``diarization_segments``, ``words``) are its segments (``words``: its words), ``duration`` its length,
  ``language``/``languages``/``inferred_languages`` the input ``language`` or ``en``. Otherwise
  ``output``/``response``/``answer``/``completion``/``generated_text``/``content``/``text`` is
  ``text.reply(prompt, seed)``; ``caption``/``description``/``summary`` a few sentences on the prompt's
  topic; ``messages`` (items with ``role`` + ``content``) the user prompt and that reply; ``usage``
  token counts consistent with them (prompt/input, completion/output, total, a small ``cost``).
- The transcript covers the first measured input duration (``inputs.durations``: ``audio_url`` first,
  then names containing ``audio``, then ``video``, then any), else the input's ``duration``, else a seeded
  8–20 s; at most ``limits.max_transcript_seconds``.

**Validation.** The finished output is validated against the whole document (Draft 2020-12, formats
checked); a violation raises :class:`~.schema.OutputBuildError` naming the JSON path. Generation is
written so the shapes fal uses always pass; a raise means a contradictory schema or a maker bug.

**Determinism.** Every random choice is seeded from ``seed``, the JSON path and a purpose; the maker is
called in document order with per-field seeds. Same (schema, arguments, category, seed, inputs, maker)
→ same JSON. Exceptions raised by the maker propagate unchanged.

**Root examples are never used**: the root object is always built property by property, so conventions
and files apply.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from typing import Any

from . import text as textgen
from .files import (
    FileFacts,
    FileRequest,
    InputFacts,
    MediaKind,
    MediaMaker,
    UrlRequest,
    classify_file,
    is_file_schema,
    requested_dimensions,
    requested_duration,
    requested_fps,
)
from .schema import Deref, OutputBuildError, OutputSchemaError, SchemaDoc, render_path
from .values import MISSING, URL_FORMATS, Deferred, OutputLimits, ValueGenerator, Where

__all__ = ["build_output"]

COUNT_KEYS = (
    "num_images", "num_outputs", "num_samples", "n", "num_videos", "num_generations", "batch_size",
    "number_of_images", "num_results",
)  # fmt: skip
NSFW_NAMES = frozenset({"has_nsfw_concepts", "nsfw_content_detected", "nsfw_detected", "has_nsfw"})
REPLY_NAMES = frozenset({"output", "response", "answer", "completion", "generated_text", "content", "result"})
TRANSCRIPT_TEXT_NAMES = frozenset({"text", "transcription", "transcript", "output"})
SUMMARY_NAMES = frozenset({"caption", "description", "summary"})
PROMPT_ECHOES = frozenset(
    {"actual_prompt", "revised_prompt", "expanded_prompt", "enhanced_prompt", "final_prompt", "used_prompt",
     "rewritten_prompt"}
)  # fmt: skip
LANGUAGE_NAMES = frozenset({"language", "languages", "inferred_languages", "detected_language"})
_TOKEN_KEYS_IN = ("prompt_tokens", "input_tokens")
_TOKEN_KEYS_OUT = ("completion_tokens", "output_tokens")


def build_output(
    output_schema: Mapping[str, Any] | SchemaDoc,
    *,
    arguments: Mapping[str, Any],
    category: str,
    seed: bytes,
    media: MediaMaker,
    limits: OutputLimits | None = None,
    inputs: InputFacts | None = None,
) -> dict[str, Any]:
    """A deterministic, realistic output valid against ``output_schema`` (see the module docstring).

    ``output_schema`` is the normalised schema, or a :class:`~.schema.SchemaDoc` made from it once and
    reused across builds (it skips the metaschema check). ``inputs`` are measurements of the input media.

    Raises :class:`~.schema.OutputSchemaError` for an unusable schema, :class:`~.schema.OutputBuildError`
    when no valid output can be built, ``TypeError`` for arguments of the wrong type.
    """
    if not isinstance(arguments, Mapping):
        raise TypeError(f"arguments must be a mapping, got {type(arguments).__name__}")
    if not isinstance(category, str):
        raise TypeError(f"category must be a str, got {type(category).__name__}")
    if not isinstance(seed, bytes):
        raise TypeError(f"seed must be bytes, got {type(seed).__name__}")
    if not isinstance(media, MediaMaker):
        raise TypeError("media must implement MediaMaker (make(request) and url_for(request))")
    if limits is not None and not isinstance(limits, OutputLimits):
        raise TypeError(f"limits must be OutputLimits, got {type(limits).__name__}")
    if inputs is not None and not isinstance(inputs, InputFacts):
        raise TypeError(f"inputs must be InputFacts, got {type(inputs).__name__}")
    doc = output_schema if isinstance(output_schema, SchemaDoc) else SchemaDoc(output_schema)
    walker = _Walker(doc, arguments, category, seed, media, limits or OutputLimits(), inputs or InputFacts())
    result = walker.root()
    for error in doc.errors(result):
        path = tuple(error.absolute_path)
        raise OutputBuildError(path, f"generated output does not validate: {error.message}")
    return result


def _sub_seed(seed: bytes, *labels: str) -> bytes:
    return hashlib.sha256(seed + b"\x00" + "\x1f".join(labels).encode("utf-8")).digest()


class _Walker(ValueGenerator):
    def __init__(
        self,
        doc: SchemaDoc,
        arguments: Mapping[str, Any],
        category: str,
        seed: bytes,
        media: MediaMaker,
        limits: OutputLimits,
        inputs: InputFacts,
    ) -> None:
        prompt = arguments.get("prompt")
        self.prompt = prompt if isinstance(prompt, str) else _first_text(arguments)
        super().__init__(doc, seed=seed, limits=limits, topics=textgen.topic_words(self.prompt))
        self.arguments = arguments
        self.category = category.strip().lower()
        self.media = media
        self.inputs = inputs
        self.kinds: list[MediaKind] = []
        self._file_memo: dict[int, tuple[Any, bool]] = {}  # id -> (node kept alive, answer)
        self._reply: str | None = None
        self._transcript: textgen.Transcript | None = None
        self.transcript_mode = False

    # -- entry -------------------------------------------------------------------------------------

    def root(self) -> dict[str, Any]:
        objects = [alt for alt in self.doc.alternatives(self.doc.root) if _admits_object(alt.schema)]
        if not objects:
            raise OutputSchemaError((), "the output schema does not describe a JSON object")
        found = objects[0]
        self.transcript_mode = self._transcript_mode(found.schema)
        return self.object_value(found, Where())

    def _transcript_mode(self, schema: Mapping[str, Any]) -> bool:
        category = self.category
        if "speech-to-text" in category or "audio-to-text" in category or "transcri" in category:
            return True
        props = schema.get("properties")
        if isinstance(props, Mapping):
            return any(
                self._timed_items(node, Where(path=(name,), name=name)) is not None for name, node in props.items()
            )
        return False

    # -- text sources ------------------------------------------------------------------------------

    @property
    def reply_text(self) -> str:
        if self._reply is None:
            self._reply = textgen.reply(
                self.prompt, _sub_seed(self.seed, "reply"), max_chars=self.limits.max_reply_chars
            )
        return self._reply

    @property
    def transcript(self) -> textgen.Transcript:
        if self._transcript is None:
            duration = min(self._audio_duration(), self.limits.max_transcript_seconds)
            self._transcript = textgen.transcript(
                _sub_seed(self.seed, "transcript"),
                duration,
                topic_words=self.topics,
                max_segments=self.limits.max_transcript_segments,
            )
        return self._transcript

    def _audio_duration(self) -> float:
        durations = self.inputs.durations
        names = sorted(durations)
        for choice in (
            [n for n in names if n == "audio_url"],
            [n for n in names if "audio" in n],
            [n for n in names if "video" in n],
            names,
        ):
            for name in choice:
                value = durations[name]
                if isinstance(value, int | float) and math.isfinite(value) and value >= 0:
                    return float(value)
        requested = requested_duration(self.arguments)
        if requested is not None:
            return requested
        return round(self.rng((), "transcript-duration").uniform(8.0, 20.0), 2)

    # -- hooks -------------------------------------------------------------------------------------

    def special(self, node: Any, where: Where) -> Any:
        alternatives = self.doc.alternatives(node, where.path)
        file_alt = next((a for a in alternatives if is_file_schema(a.schema, a.name, where.name)), None)
        if file_alt is not None:
            return self.file_object(file_alt, node, where)
        array_alt = next((a for a in alternatives if self._file_items(a, where) is not None), None)
        if array_alt is not None:
            return self.file_array(array_alt, where)
        if len(where.path) == 1:
            value = self.convention(node, where, alternatives)
            if value is not MISSING:
                return value
        if self._is_url_string(alternatives, where):
            string_alt = next(a for a in alternatives if _types(a.schema) & {"string"} or not _types(a.schema))
            return self.make_url(where, string_alt)
        return MISSING

    def include_optional(self, name: str, node: Any, where: Where, owner: Mapping[str, Any]) -> bool | None:
        if self.contains_file(node, shallow=True):
            required = [r for r in owner.get("required", []) if isinstance(r, str)]
            props = owner.get("properties", {})
            if any(self.contains_file(props.get(r, {}), shallow=True) for r in required):
                return False
            return len(self.kinds) < self.limits.max_files
        alternatives = self.doc.alternatives(node, where.path)
        if self._is_url_string(alternatives, where):
            return False
        if len(where.path) == 1:
            if name == "seed" or name in NSFW_NAMES or name == "timings":
                return True
            if self._echoed_prompt(name) is not None:
                return True
            if self.transcript_mode and (
                name in TRANSCRIPT_TEXT_NAMES or name in LANGUAGE_NAMES or name == "duration"
                or self._timed_items(node, where) is not None
            ):  # fmt: skip
                return True
            if not self.transcript_mode and (name in REPLY_NAMES or name in ("text", "messages", "usage")):
                return True
        return None

    def example_allowed(self, node: Any, where: Where) -> bool:
        return not self.contains_file(node)

    def make_url(self, where: Where, found: Deref) -> str:
        spec = classify_file(found, property_name=where.name, category=self.category, arguments=self.arguments)
        request = UrlRequest(
            path=where.path,
            property_name=where.name,
            kind=spec.kind,
            content_type=spec.content_type,
            extension=spec.extension,
            category=self.category,
            arguments=self.arguments,
            seed=_sub_seed(self.seed, "url", render_path(where.path)),
        )
        url = self.media.url_for(request)
        if not isinstance(url, str) or not url:
            raise OutputBuildError(where.path, f"media.url_for returned {url!r}, not a URL string")
        return url

    # -- file detection ------------------------------------------------------------------------------

    def _file_items(self, alt: Deref, where: Where) -> Deref | None:
        schema = alt.schema
        if "array" not in _types(schema) and "items" not in schema:
            return None
        items = schema.get("items")
        if items is None or isinstance(items, bool):
            return None
        for item in self.doc.alternatives(items, where.path):
            if is_file_schema(item.schema, item.name, where.name):
                return item
        return None

    def contains_file(self, node: Any, *, shallow: bool = False, _seen: frozenset[int] = frozenset()) -> bool:
        """Whether ``node`` is a file, an array of files, or (unless ``shallow``) holds one anywhere."""
        key = id(node)
        if shallow is False and key in self._file_memo:
            return self._file_memo[key][1]
        if key in _seen:
            return False
        seen = _seen | {key}
        result = False
        for alt in self.doc.alternatives(node):
            if is_file_schema(alt.schema, alt.name) or self._file_items(alt, Where()) is not None:
                result = True
                break
            if shallow:
                continue
            subs: list[Any] = []
            props = alt.schema.get("properties")
            if isinstance(props, Mapping):
                subs.extend(props.values())
            for keyword in ("items", "additionalProperties"):
                if isinstance(alt.schema.get(keyword), Mapping):
                    subs.append(alt.schema[keyword])
            if isinstance(alt.schema.get("prefixItems"), list):
                subs.extend(alt.schema["prefixItems"])
            if any(self.contains_file(sub, _seen=seen) for sub in subs):
                result = True
                break
        if not shallow:
            self._file_memo[key] = (node, result)
        return result

    def _is_url_string(self, alternatives: list[Deref], where: Where) -> bool:
        strings = [a for a in alternatives if "string" in _types(a.schema)]
        if not strings or len(strings) != len(alternatives):
            return False
        if any(a.schema.get("format") in URL_FORMATS for a in strings):
            return True
        words = [w for w in re.split(r"[^a-z0-9]+", where.name.lower()) if w]
        return (
            bool(words) and words[-1] in ("url", "uri", "urls", "uris") and not any("enum" in a.schema for a in strings)
        )

    # -- files ---------------------------------------------------------------------------------------

    def file_object(self, found: Deref, node: Any, where: Where, index: int = 0, count: int = 1) -> dict[str, Any]:
        if len(self.kinds) >= self.limits.max_files:
            raise OutputBuildError(
                where.path, f"the schema needs more than limits.max_files={self.limits.max_files} files"
            )
        examples: list[Any] = []
        for layer in (node, *found.wrappers):
            if isinstance(layer, Mapping) and isinstance(layer.get("examples"), list):
                examples.extend(layer["examples"])
        spec = classify_file(
            found,
            property_name=where.name,
            category=self.category,
            arguments=self.arguments,
            field_examples=examples,
            deref=lambda n: self.doc.deref(n).schema,
        )
        schema = found.schema
        props: Mapping[str, Any] = schema.get("properties", {})
        required = frozenset(r for r in schema.get("required", []) if isinstance(r, str))
        request = FileRequest(
            kind=spec.kind,
            content_type=spec.content_type,
            extension=spec.extension,
            path=where.path,
            index=index,
            count=count,
            property_name=where.name,
            type_name=found.name,
            category=self.category,
            arguments=self.arguments,
            inputs=self.inputs,
            wants=frozenset(p for p in props if p != "url"),
            required=required,
            seed=_sub_seed(self.seed, "file", render_path(where.path)),
        )
        facts = self.media.make(request)
        if not isinstance(facts, FileFacts):
            raise OutputBuildError(where.path, f"media.make returned {type(facts).__name__}, not FileFacts")
        self.kinds.append(spec.kind)
        out: dict[str, Any] = {}
        for name in self.ordered_properties(schema):
            sub = props[name]
            child = where.child(name, name)
            value = facts.value(name)
            if value is None:
                if name not in required:
                    continue
                value = self._derived_fact(name, sub, child, request, facts)
            value = _fit_number(value, self.doc, sub)
            if not self.doc.is_valid(value, sub):
                raise OutputBuildError(child.path, f"the media maker's {name}={value!r} does not fit the schema")
            out[name] = value
        return out

    def _derived_fact(self, name: str, sub: Any, where: Where, request: FileRequest, facts: FileFacts) -> Any:
        if name in ("width", "height"):
            size = (
                ((facts.width, facts.height) if facts.width and facts.height else None)
                or requested_dimensions(self.arguments)
                or next(iter(self.inputs.dimensions.values()), None)
                or (1024, 1024)
            )
            return size[0] if name == "width" else size[1]
        duration = (
            facts.duration or requested_duration(self.arguments) or next(iter(self.inputs.durations.values()), 0) or 5.0
        )
        fps = facts.fps or requested_fps(self.arguments) or 24.0
        if name == "duration":
            return duration
        if name == "fps":
            return fps
        if name == "num_frames":
            return max(1, round(duration * fps))
        return self.value(sub, where, conventions=False)

    def file_array(self, found: Deref, where: Where) -> list[Any]:
        schema = found.schema
        item = self._file_items(found, where)
        assert item is not None
        min_items = int(schema.get("minItems", 0))
        max_items = schema.get("maxItems")
        requested = next(
            (v for k in COUNT_KEYS if isinstance(v := self.arguments.get(k), int) and not isinstance(v, bool)), None
        )
        count = requested if requested is not None else max(min_items, 1)
        if max_items is not None:
            count = min(count, int(max_items))
        count = max(count, min_items)
        left = self.limits.max_files - len(self.kinds)
        if min_items > left:
            raise OutputBuildError(
                where.path,
                f"minItems {min_items} files exceed what limits.max_files={self.limits.max_files} leaves ({left})",
            )
        count = min(count, left)
        items_node = schema["items"]
        return [self.file_object(item, items_node, where.child(i), index=i, count=count) for i in range(count)]

    # -- conventions -------------------------------------------------------------------------------

    def convention(self, node: Any, where: Where, alternatives: list[Deref]) -> Any:
        name = where.name
        types = set().union(*(_types(a.schema) for a in alternatives)) if alternatives else set()
        value: Any = MISSING
        if name == "seed" and types & {"integer", "number"}:
            seed = self.arguments.get("seed")
            if isinstance(seed, int) and not isinstance(seed, bool) and self.doc.is_valid(seed, node):
                return seed
            integer = next((a for a in alternatives if _types(a.schema) == {"integer"}), None)
            if integer is not None:
                return self.integer_value(integer.schema, where)
            return MISSING
        if name in NSFW_NAMES and "array" in types:
            return Deferred(lambda _siblings: self._nsfw(node, where))
        if name == "timings" and "object" in types:
            value = self._timings(alternatives[0], where)
        elif "string" in types and (echo := self._echoed_prompt(name)) is not None:
            value = echo
        elif self.transcript_mode:
            value = self._transcript_convention(node, where, alternatives, types)
        elif "string" in types and name in REPLY_NAMES | {"text"}:
            value = self.reply_text
        elif "string" in types and name in SUMMARY_NAMES:
            value = " ".join(textgen.sentences(_sub_seed(self.seed, "summary", name), 2, self.topics))
        elif name == "messages" and "array" in types:
            value = self._messages(alternatives, where)
        elif name == "usage" and "object" in types:
            value = self._usage(alternatives, where)
        if value is MISSING and name in LANGUAGE_NAMES:
            value = self._language(types)
        if value is not MISSING and self.doc.is_valid(value, node):
            return value
        return MISSING

    def _echoed_prompt(self, name: str) -> str | None:
        """The input text a prompt-like output property repeats: ``negative_prompt`` <- ``negative_prompt``;
        ``prompt`` and ``actual_/revised_/expanded_/enhanced_/final_prompt`` <- ``prompt``."""
        own = self.arguments.get(name)
        if name.endswith("prompt") and isinstance(own, str):
            return own
        prompt = self.arguments.get("prompt")
        if (name == "prompt" or name in PROMPT_ECHOES) and isinstance(prompt, str):
            return prompt
        return None

    def _nsfw(self, node: Any, where: Where) -> Any:
        images = self.kinds.count(MediaKind.IMAGE) or len(self.kinds)
        found = next((a for a in self.doc.alternatives(node) if "array" in _types(a.schema)), None)
        if found is not None:
            min_items = int(found.schema.get("minItems", 0))
            max_items = found.schema.get("maxItems")
            count = max(images, min_items)
            if max_items is not None:
                count = min(count, int(max_items))
            candidate = [False] * count
            if self.doc.is_valid(candidate, node):
                return candidate
        return self.value(node, where, conventions=False)

    def _timings(self, found: Deref, where: Where) -> Any:
        rng = self.rng(where, "timings")
        props = found.schema.get("properties")
        if isinstance(props, Mapping) and props:
            return {name: round(rng.uniform(0.05, 3.0), 4) for name in self.ordered_properties(found.schema)}
        return {"inference": round(rng.uniform(0.2, 3.0), 4)}

    def _transcript_convention(self, node: Any, where: Where, alternatives: list[Deref], types: set[str]) -> Any:
        name = where.name
        if "string" in types and name in TRANSCRIPT_TEXT_NAMES:
            return self.transcript.text
        if name == "duration" and types & {"number", "integer"}:
            return self.transcript.duration if "number" in types else round(self.transcript.duration)
        if "array" in types:
            item = self._timed_items(node, where)
            if item is not None:
                return self._timed_array(item, alternatives, where)
        return MISSING

    def _timed_items(self, node: Any, where: Where) -> Deref | None:
        for alt in self.doc.alternatives(node, where.path):
            items = alt.schema.get("items")
            if "array" not in _types(alt.schema) or not isinstance(items, Mapping | bool) or isinstance(items, bool):
                continue
            for item in self.doc.alternatives(items, where.path):
                props = item.schema.get("properties")
                if isinstance(props, Mapping) and ("timestamp" in props or {"start", "end"} <= set(props)):
                    return item
        return None

    def _timed_array(self, item: Deref, alternatives: list[Deref], where: Where) -> list[Any]:
        array = next(a for a in alternatives if "array" in _types(a.schema))
        transcript = self.transcript
        if where.name == "words":
            spans: list[tuple[float, float, str]] = [
                (w.start, w.end, w.text) for s in transcript.segments for w in s.words
            ]
        else:
            spans = [(s.start, s.end, s.text) for s in transcript.segments]
        max_items = array.schema.get("maxItems")
        if max_items is not None:
            spans = spans[: int(max_items)]
        props: Mapping[str, Any] = item.schema.get("properties", {})
        required = set(item.schema.get("required", []))
        out: list[Any] = []
        for index, (start, end, words) in enumerate(spans):
            overrides: dict[str, Any] = {"timestamp": [start, end], "start": start, "end": end}
            for key in ("text", "word", "transcript"):
                overrides[key] = words
            for key in ("speaker", "speaker_id"):
                if key in props and key in required:
                    overrides[key] = "SPEAKER_00"
            if "type" in props:
                overrides["type"] = "word"
            if "id" in props:
                overrides["id"] = index
            out.append(self.object_value(item, where.child(index), overrides=overrides))
        min_items = int(array.schema.get("minItems", 0))
        while len(out) < min_items:
            out.append(self.value(array.schema.get("items", True), where.child(len(out))))
        return out

    def _messages(self, alternatives: list[Deref], where: Where) -> Any:
        array = next(a for a in alternatives if "array" in _types(a.schema))
        items = array.schema.get("items")
        item = next(iter(self.doc.alternatives(items, where.path)), None) if isinstance(items, Mapping) else None
        if item is None or not {"role", "content"} <= set(item.schema.get("properties", {})):
            return MISSING
        turns = [("user", self.prompt), ("assistant", self.reply_text)]
        return [
            self.object_value(item, where.child(i), overrides={"role": role, "content": content})
            for i, (role, content) in enumerate(turns)
        ]

    def _usage(self, alternatives: list[Deref], where: Where) -> Any:
        found = next(a for a in alternatives if "object" in _types(a.schema) or "properties" in a.schema)
        props = found.schema.get("properties", {})
        if not isinstance(props, Mapping) or not (set(props) & {*_TOKEN_KEYS_IN, *_TOKEN_KEYS_OUT}):
            return MISSING
        prompt_tokens = max(1, math.ceil(len(self.prompt.split()) * 1.3))
        completion_tokens = max(1, math.ceil(len(self.reply_text.split()) * 1.3))
        overrides: dict[str, Any] = {key: prompt_tokens for key in _TOKEN_KEYS_IN}
        overrides.update({key: completion_tokens for key in _TOKEN_KEYS_OUT})
        overrides["total_tokens"] = prompt_tokens + completion_tokens
        overrides["cost"] = round((prompt_tokens + 4 * completion_tokens) * 1e-6, 7)
        return self.object_value(found, where, overrides={k: v for k, v in overrides.items() if k in props})

    def _language(self, types: set[str]) -> Any:
        language = self.arguments.get("language")
        code = language if isinstance(language, str) and language else "en"
        if "array" in types:
            return [code]
        if "string" in types:
            return code
        return MISSING


def _first_text(arguments: Mapping[str, Any]) -> str:
    for key in ("text", "input", "query", "question", "input_concept", "message", "system_prompt"):
        value = arguments.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _types(schema: Mapping[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {k for k in kind if isinstance(k, str)}
    inferred: set[str] = set()
    if "properties" in schema or "additionalProperties" in schema:
        inferred.add("object")
    if "items" in schema or "prefixItems" in schema:
        inferred.add("array")
    if "enum" in schema:
        inferred |= {_json_type(v) for v in schema["enum"]}
    if "const" in schema:
        inferred.add(_json_type(schema["const"]))
    return inferred


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _admits_object(schema: Mapping[str, Any]) -> bool:
    types = _types(schema)
    return not types or "object" in types


def _fit_number(value: Any, doc: SchemaDoc, node: Any) -> Any:
    """An integral float where the schema wants an integer (not a number) becomes an int (24.0 -> 24)."""
    if isinstance(value, float) and value.is_integer():
        types = set().union(*(_types(a.schema) for a in doc.alternatives(node))) if doc.alternatives(node) else set()
        if "integer" in types and "number" not in types:
            return int(value)
    return value
