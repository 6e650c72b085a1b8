"""Seeded values that satisfy a JSON Schema: scalars, and objects/arrays built from them.

:class:`ValueGenerator` walks a schema node and returns a JSON value valid against it. The order of
preference for every node is:

1. ``special(node, where)`` — a hook the output walker overrides (files, fal conventions, URLs);
2. the node's ``examples``: the first one that validates against the node (references resolved in the
   whole document), is not ``null``, contains no URL-like string (``scheme://``, ``data:``, ``www.``: fal's
   examples point at real hosts, and an output must never), holds no file object, and is at most
   ``max_string_length`` long. Examples on the node come first, then those on ``$ref`` wrappers, then
   those on the referenced definition;
3. the node's ``default``, under the same conditions;
4. generation: ``const``; ``enum`` (the default's value if listed, else a seeded pick of the valid
   members); ``anyOf`` / ``oneOf`` (non-null branches in order, first whose value validates; for
   ``oneOf`` exactly one branch must accept it; ``null`` only when nothing else is possible or when
   breaking recursion); ``type`` lists (first non-null type); then by type:

   - **integer / number** within ``minimum`` / ``maximum`` / ``exclusiveMinimum`` /
     ``exclusiveMaximum`` and ``multipleOf`` (checked with jsonschema's own float rule); without bounds
     a range plausible for the property name (``seed`` 0..2^32-1, ``width``/``height`` 512..1536,
     ``*tokens`` 8..512, ``probability``/``score``/``confidence`` 0..1, ``cost`` 0.0001..0.05,
     durations 0.5..10 s, ``fps`` 24..30, else 0..100). Numbers are rounded to 4 decimals when the
     bounds allow. Empty ranges (``minimum`` above ``maximum``, no multiple inside) raise.
   - **string**: ``format`` ``uri``/``url``/``iri``/``uri-reference`` -> ``make_url`` (the media maker,
     never an external host); ``date-time``/``date``/``time`` (a seeded instant in 2025, UTC),
     ``email`` (``word.word@example.com``), ``uuid`` (version 4 from the seeded RNG), ``hostname``
     (``word.example``), ``ipv4``/``ipv6`` (documentation ranges), ``duration``; ``pattern`` via
     :mod:`.patterns` (a generated string that looks like a URL is replaced by ``make_url``'s, which must
     then match); otherwise text from :mod:`.text` shaped by the name (``*_id`` -> a UUID, ``language``
     -> ``en``, ``name``/``title``/``label`` -> a few words, else a sentence mentioning the prompt's
     topic words), always within ``minLength`` / ``maxLength``.
   - **boolean**: ``false`` for names that flag trouble (``nsfw``, ``unsafe``, ``error``, ``blocked``,
     ``truncated``, ``partial``...), else a seeded coin.
   - **array**: ``prefixItems`` positions, then ``items``; count ``max(minItems, 1, len(prefixItems))``
     capped by ``maxItems`` (``minItems`` only, when breaking recursion); ``uniqueItems`` by reseeding an
     item up to 8 times.
   - **object**: properties in ``x-fal-order-properties`` order, then declaration order. Every
     ``required`` property; an optional one when ``include_optional`` (hook) says so, else when it
     *carries information*: it has a ``const``, a non-null ``default`` or a usable example (as in 2/3).
     Optional properties without any of these (typically ``anyOf [T, null]`` with nothing to say) are
     omitted rather than filled with invented values or ``null``. ``dependentRequired``,
     ``minProperties`` and ``maxProperties`` are honoured; no undeclared keys are added except to reach
     ``minProperties`` when ``additionalProperties`` allows.
   - untyped (``{}``): an object for names like ``metrics``/``metadata``, else a sentence.

Recursion (a ``$defs`` name reached more than ``max_ref_repeats`` times on one path) switches the subtree
to *minimal mode*: optional properties are left out, arrays take ``minItems``, nullable nodes take
``null``. Limits are in :class:`OutputLimits`. Every random choice comes from ``random.Random`` seeded by
SHA-256 of the build seed, the JSON path and a purpose label, so values do not depend on the order in
which siblings are generated. Results are not validated node by node (only ``anyOf``/``oneOf`` choices
are); the walker validates the finished output once.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import random
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Final

from ..regex_guard import pattern_search
from . import text as textgen
from .patterns import UnsupportedPattern, string_matching
from .schema import ANNOTATIONS, Deref, JsonPath, OutputBuildError, SchemaDoc, render_path

__all__ = ["MISSING", "Deferred", "OutputLimits", "ValueGenerator", "Where", "looks_like_url"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

URL_FORMATS = frozenset({"uri", "url", "iri", "uri-reference", "iri-reference", "uri-template"})
_URL_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_FALSE_WORDS = frozenset(
    {"nsfw", "unsafe", "error", "errors", "blocked", "truncated", "partial", "flagged", "failed", "censored",
     "detected", "violation", "deprecated"}
)  # fmt: skip
_OBJECT_NAMES = frozenset({"metrics", "metadata", "meta", "info", "details", "extra", "data", "timings", "stats"})
_BASE_INSTANT = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class OutputLimits:
    """Explicit bounds on what one build may produce (all positive).

    ``max_files``: file objects per output (arrays of files are cut to fit; a schema *requiring* more
    raises). ``max_array_items``: items of a generated non-file array (``minItems`` above it raises).
    ``max_string_length``: characters of a generated string (``minLength`` above it raises).
    ``max_reply_chars``: characters of an LLM-style reply. ``max_transcript_seconds``: audio length a
    transcript covers (longer inputs are transcribed up to this). ``max_transcript_segments``: timed
    items in a transcript array. ``max_depth``: nesting depth of the output. ``max_ref_repeats``: times a
    ``$defs`` name may recur on one path before minimal mode. ``max_nodes``: generated values per build.
    ``max_examples``: examples tried per node.
    """

    max_files: int = 8
    max_array_items: int = 16
    max_string_length: int = 4000
    max_reply_chars: int = 1200
    max_transcript_seconds: float = 3600.0
    max_transcript_segments: int = 500
    max_depth: int = 32
    max_ref_repeats: int = 2
    max_nodes: int = 20_000
    max_examples: int = 16

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"OutputLimits.{name} must be a positive number, got {value!r}")


@dataclass(frozen=True)
class Where:
    """Where a node sits: JSON ``path``, the property ``name`` (array items inherit the array's name),
    the ``$ref``s followed on the way, whether the subtree is in minimal (recursion-breaking) mode, and a
    ``salt`` that retries add so their random draws differ."""

    path: JsonPath = ()
    name: str = ""
    refs: tuple[str, ...] = ()
    minimal: bool = False
    salt: str = ""

    def child(self, key: str | int, name: str | None = None) -> Where:
        return replace(self, path=(*self.path, key), name=self.name if name is None else name, salt="")

    def salted(self, tag: str) -> Where:
        return replace(self, salt=f"{self.salt}/{tag}")


@dataclass(frozen=True)
class Deferred:
    """Returned by ``special`` for a property computed after its siblings (``compute(siblings)``)."""

    compute: Callable[[Mapping[str, Any]], Any]


def looks_like_url(value: str) -> bool:
    """A string that names a resource on some host (``scheme://``, ``data:``, ``www.``)."""
    return bool(_URL_LIKE.search(value)) or value.startswith(("data:", "www."))


def _contains_url(value: Any) -> bool:
    if isinstance(value, str):
        return looks_like_url(value)
    if isinstance(value, Mapping):
        return any(_contains_url(k) or _contains_url(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_url(v) for v in value)
    return False


def _json_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        return sum(len(str(k)) + _json_size(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(_json_size(v) for v in value)
    return 1


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]


class ValueGenerator:
    """Generates schema-valid values; the output walker subclasses it (see the module docstring)."""

    def __init__(self, doc: SchemaDoc, *, seed: bytes, limits: OutputLimits, topics: Sequence[str] = ()) -> None:
        self.doc = doc
        self.seed = seed
        self.limits = limits
        self.topics = tuple(topics)
        self.nodes = 0

    # -- hooks for the walker --------------------------------------------------------------------

    def special(self, node: Any, where: Where) -> Any:
        """A value decided by the walker (files, conventions), a :class:`Deferred`, or ``MISSING``."""
        return MISSING

    def include_optional(self, name: str, node: Any, where: Where, owner: Mapping[str, Any]) -> bool | None:
        """Whether to emit optional property ``name``; ``None`` leaves it to the generic rule."""
        return None

    def example_allowed(self, node: Any, where: Where) -> bool:
        """Whether examples/defaults may be used for ``node`` (the walker refuses nodes holding files)."""
        return True

    def make_url(self, where: Where, found: Deref) -> str:
        """A URL for a URL-typed string. The walker asks the media maker; the base class cannot."""
        raise OutputBuildError(where.path, "a URL is required here but no media maker supplies URLs")

    # -- helpers -----------------------------------------------------------------------------------

    def rng(self, where: Where | JsonPath, purpose: str = "") -> random.Random:
        if isinstance(where, Where):
            return textgen.rng_for(self.seed, "value", render_path(where.path), where.salt, purpose)
        return textgen.rng_for(self.seed, "value", render_path(where), "", purpose)

    def _tick(self, where: Where) -> None:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise OutputBuildError(
                where.path, f"output needs more than limits.max_nodes={self.limits.max_nodes} values"
            )
        if len(where.path) > self.limits.max_depth:
            raise OutputBuildError(
                where.path, f"output nests deeper than limits.max_depth={self.limits.max_depth} (unbounded recursion?)"
            )

    def usable(self, candidate: Any, node: Any, where: Where) -> bool:
        """Whether an example/default ``candidate`` may stand as the value of ``node`` (see docstring)."""
        return (
            candidate is not None
            and not _contains_url(candidate)
            and _json_size(candidate) <= self.limits.max_string_length
            and self.doc.is_valid(candidate, node)
        )

    def example_or_default(self, node: Any, where: Where, found: Deref | None = None) -> Any:
        """The first usable example, else the usable default, of ``node`` (and its ref chain)."""
        if not self.example_allowed(node, where):
            return MISSING
        found = found or self.doc.deref(node, where.path)
        layers = [node, *found.wrappers[1:], found.schema] if isinstance(node, Mapping) else [found.schema]
        tried = 0
        for key in ("examples", "default"):
            for layer in layers:
                if not isinstance(layer, Mapping) or key not in layer:
                    continue
                candidates = layer[key] if key == "examples" and isinstance(layer[key], list) else [layer[key]]
                for candidate in candidates:
                    tried += 1
                    if tried > self.limits.max_examples:
                        return MISSING
                    if self.usable(candidate, node, where):
                        return copy.deepcopy(candidate)
        return MISSING

    # -- the walk -----------------------------------------------------------------------------------

    def value(self, node: Any, where: Where, *, conventions: bool = True) -> Any:
        """A value for schema ``node`` at ``where`` (see the module docstring for the order of rules)."""
        self._tick(where)
        if conventions:
            special = self.special(node, where)
            if special is not MISSING:
                return special
        found = self.doc.deref(node, where.path)
        chosen = self.example_or_default(node, where, found)
        if chosen is not MISSING:
            return chosen
        refs = (*where.refs, *found.refs)
        minimal = where.minimal or any(refs.count(ref) > self.limits.max_ref_repeats for ref in found.refs)
        return self.generate(found, replace(where, refs=refs, minimal=minimal), node)

    def generate(self, found: Deref, where: Where, node: Any = None) -> Any:
        """Generate (no examples) a value for an already dereferenced schema."""
        schema = found.schema
        original = node if node is not None else schema
        if schema.get("not") == {} and len(schema) == 1:
            raise OutputBuildError(where.path, "the schema admits no value (false)")
        if "const" in schema:
            return copy.deepcopy(schema["const"])
        if isinstance(schema.get("enum"), list):
            return self._enum(schema, where, original)
        if isinstance(schema.get("anyOf"), list) or isinstance(schema.get("oneOf"), list):
            return self._choose(found, where, original)
        kind = self._type(schema, where)
        if kind == "null":
            return None
        if kind == "object":
            return self.object_value(found, where)
        if kind == "array":
            return self.array_value(found, where)
        if kind == "string":
            return self.string_value(found, where)
        if kind == "integer":
            return self.integer_value(schema, where)
        if kind == "number":
            return self.number_value(schema, where)
        if kind == "boolean":
            return self.boolean_value(where)
        return self._untyped(found, where)

    def _type(self, schema: Mapping[str, Any], where: Where) -> str | None:
        kind = schema.get("type")
        if isinstance(kind, list):
            non_null = [k for k in kind if k != "null"]
            if (where.minimal and "null" in kind) or not non_null:
                return "null" if "null" in kind else None
            return str(non_null[0])
        if isinstance(kind, str):
            return kind
        if "properties" in schema or "required" in schema or "additionalProperties" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema or "minItems" in schema:
            return "array"
        if any(k in schema for k in ("pattern", "minLength", "maxLength", "format")):
            return "string"
        if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
            return "number"
        return None

    def _untyped(self, found: Deref, where: Where) -> Any:
        if set(_words(where.name)) & _OBJECT_NAMES:
            return {}
        return self.text_string(where, 1, min(80, self.limits.max_string_length))

    def _enum(self, schema: Mapping[str, Any], where: Where, original: Any) -> Any:
        members = [m for m in schema["enum"] if self.doc.is_valid(m, original)]
        non_null = [m for m in members if m is not None]
        if not members:
            raise OutputBuildError(where.path, f"no member of enum {schema['enum']!r} satisfies the schema")
        if where.minimal and None in members:
            return None
        if "default" in schema and schema["default"] in non_null:
            return copy.deepcopy(schema["default"])
        pool = non_null or members
        return copy.deepcopy(self.rng(where, "enum").choice(pool))

    def _choose(self, found: Deref, where: Where, original: Any) -> Any:
        schema = found.schema
        keyword = "oneOf" if isinstance(schema.get("oneOf"), list) else "anyOf"
        shared = {k: v for k, v in schema.items() if k not in (keyword, *ANNOTATIONS)}
        branches = [
            {**shared, "allOf": [branch]} if shared else branch
            for branch in schema[keyword]
            if self.doc.alternatives(branch, where.path)
        ]
        nullable = self.doc.is_valid(None, original)
        if (where.minimal and nullable) or (not branches and nullable):
            return None
        last_error: OutputBuildError | None = None
        for attempt in range(3):
            attempt_where = where if attempt == 0 else where.salted(f"retry{attempt}")
            for branch in branches:
                try:
                    candidate = self.value(branch, attempt_where)
                except OutputBuildError as exc:
                    last_error = exc
                    continue
                if self._accepts(candidate, original, schema, keyword == "oneOf"):
                    return candidate
        if nullable:
            return None
        if last_error is not None:
            raise last_error
        raise OutputBuildError(where.path, f"no {keyword} branch yields a valid value")

    def _accepts(self, candidate: Any, original: Any, schema: Mapping[str, Any], one_of: bool) -> bool:
        if not self.doc.is_valid(candidate, original):
            return False
        if one_of:
            branches = schema["oneOf"]
            return sum(1 for b in branches if self.doc.is_valid(candidate, b)) == 1
        return True

    # -- objects -------------------------------------------------------------------------------------

    def ordered_properties(self, schema: Mapping[str, Any]) -> list[str]:
        props = schema.get("properties")
        if not isinstance(props, Mapping):
            return []
        order = schema.get("x-fal-order-properties")
        first = [p for p in order if p in props] if isinstance(order, list) else []
        return list(dict.fromkeys([*first, *props]))

    def wants_optional(self, name: str, node: Any, where: Where, owner: Mapping[str, Any]) -> bool:
        if where.minimal:
            return False
        decided = self.include_optional(name, node, where, owner)
        if decided is not None:
            return decided
        if isinstance(node, Mapping) and "const" in node:
            return True
        return self.example_or_default(node, where) is not MISSING

    def object_value(self, found: Deref, where: Where, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        schema = found.schema
        declared = schema.get("properties")
        props: Mapping[str, Any] = declared if isinstance(declared, Mapping) else {}
        required = [r for r in schema.get("required", []) if isinstance(r, str)]
        order = self.ordered_properties(schema)
        overrides = overrides or {}
        chosen: list[str] = [name for name in order if name in required or name in overrides]
        for name in order:
            if name not in chosen and self.wants_optional(name, props[name], where.child(name, name), schema):
                chosen.append(name)
        chosen.extend(r for r in required if r not in chosen)  # required but undeclared
        dependent = schema.get("dependentRequired")
        if isinstance(dependent, Mapping):
            for name in list(chosen):
                chosen.extend(d for d in dependent.get(name, []) if d not in chosen)
        min_props, max_props = schema.get("minProperties", 0), schema.get("maxProperties")
        for name in order:
            if len(chosen) >= min_props:
                break
            if name not in chosen:
                chosen.append(name)
        if max_props is not None and len(chosen) > max_props:
            optional = [n for n in chosen if n not in required]
            while len(chosen) > max_props and optional:
                chosen.remove(optional.pop())
        values: dict[str, Any] = {}
        deferred: dict[str, Deferred] = {}
        for name in chosen:
            child = where.child(name, name)
            sub = props.get(name, schema.get("additionalProperties", True))
            if name in overrides and self.doc.is_valid(overrides[name], sub):
                values[name] = overrides[name]
                continue
            value = self.value(sub, child)
            if isinstance(value, Deferred):
                deferred[name] = value
            else:
                values[name] = value
        for name, later in deferred.items():
            values[name] = later.compute(values)
        extra = 0
        while len(values) < min_props:
            extra += 1
            key = f"extra_{extra}"
            values[key] = self.value(schema.get("additionalProperties", True), where.child(key, key))
        ordered = [n for n in order if n in values] + [n for n in values if n not in order]
        return {name: values[name] for name in ordered}

    # -- arrays ------------------------------------------------------------------------------------

    def array_value(self, found: Deref, where: Where, count: int | None = None) -> list[Any]:
        schema = found.schema
        declared_prefix = schema.get("prefixItems")
        prefix: list[Any] = declared_prefix if isinstance(declared_prefix, list) else []
        items = schema.get("items", True)
        min_items = int(schema.get("minItems", 0))
        max_items = schema.get("maxItems")
        if min_items > self.limits.max_array_items:
            raise OutputBuildError(
                where.path, f"minItems {min_items} exceeds limits.max_array_items={self.limits.max_array_items}"
            )
        if count is None:
            count = min_items if where.minimal else max(min_items, 1, len(prefix))
        if items is False:
            count = min(count, len(prefix))
        if max_items is not None:
            count = min(count, int(max_items))
        count = min(max(count, min_items), self.limits.max_array_items)
        if max_items is not None and count > max_items:
            raise OutputBuildError(where.path, f"minItems {min_items} is above maxItems {max_items}")
        out: list[Any] = []
        for index in range(count):
            sub = prefix[index] if index < len(prefix) else items
            child = where.child(index)
            value = self.value(sub, child)
            if schema.get("uniqueItems") is True:
                retry = 0
                while value in out:
                    retry += 1
                    if retry > 8:
                        raise OutputBuildError(child.path, "cannot generate a unique item (uniqueItems)")
                    value = self.value(sub, child.salted(f"unique{retry}"), conventions=False)
            out.append(value)
        return out

    # -- scalars -----------------------------------------------------------------------------------

    def boolean_value(self, where: Where) -> bool:
        if set(_words(where.name)) & _FALSE_WORDS:
            return False
        return self.rng(where, "bool").random() < 0.5

    def _window(self, schema: Mapping[str, Any], where: Where, *, integer: bool) -> tuple[float, float, bool, bool]:
        """``(low, high, low_is_soft, high_is_soft)``: the schema's bounds, a plausible range where it has none."""

        def bound(key: str) -> float | None:
            limit = schema.get(key)
            return limit if isinstance(limit, int | float) and not isinstance(limit, bool) else None

        lows = [v for v in (bound("minimum"), bound("exclusiveMinimum")) if v is not None]
        highs = [v for v in (bound("maximum"), bound("exclusiveMaximum")) if v is not None]
        low: float | None = max(lows) if lows else None
        high: float | None = min(highs) if highs else None
        if integer:
            minimum, maximum = bound("minimum"), bound("maximum")
            xmin, xmax = bound("exclusiveMinimum"), bound("exclusiveMaximum")
            int_lows = [
                *([math.ceil(minimum)] if minimum is not None else []),
                *([math.floor(xmin) + 1] if xmin is not None else []),
            ]
            int_highs = [
                *([math.floor(maximum)] if maximum is not None else []),
                *([math.ceil(xmax) - 1] if xmax is not None else []),
            ]
            low = max(int_lows) if int_lows else None
            high = min(int_highs) if int_highs else None
        plo, phi = _plausible_range(where.name, integer=integer)
        soft_low, soft_high = low is None, high is None
        if low is None and high is None:
            low, high = plo, phi
        elif low is None:  # integer bounds are inclusive; number bounds may be exclusive, so keep room
            assert high is not None
            low = plo if (plo <= high if integer else plo < high) else high - (phi - plo)
        elif high is None:
            high = phi if (phi >= low if integer else phi > low) else low + (phi - plo)
        assert low is not None
        assert high is not None
        return low, high, soft_low, soft_high

    def integer_value(self, schema: Mapping[str, Any], where: Where) -> int:
        low, high, soft_low, soft_high = self._window(schema, where, integer=True)
        lo, hi = int(low), int(high)
        if lo > hi:
            raise OutputBuildError(where.path, f"no integer in [{lo}, {hi}] (contradictory bounds)")
        rng = self.rng(where, "int")
        step = schema.get("multipleOf")
        if isinstance(step, int | float) and not isinstance(step, bool) and step > 0:
            lo, hi = (int(v) for v in _widen_for_multiple(lo, hi, step, soft_low, soft_high))
            return int(self._multiple(lo, hi, step, rng, where, integer=True))
        return rng.randint(lo, hi)

    def number_value(self, schema: Mapping[str, Any], where: Where) -> float | int:
        low, high, soft_low, soft_high = self._window(schema, where, integer=False)
        xlo, xhi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
        if low > high or (low == high and (low == xlo or high == xhi)):
            raise OutputBuildError(where.path, f"no number in the range {schema!r} (contradictory bounds)")
        rng = self.rng(where, "number")
        step = schema.get("multipleOf")
        if isinstance(step, int | float) and not isinstance(step, bool) and step > 0:
            low, high = _widen_for_multiple(low, high, step, soft_low, soft_high)
            try:
                return self._multiple(low, high, step, rng, where, integer=False, schema=schema)
            except OutputBuildError:
                if not (soft_low or soft_high):
                    raise
            # an exclusive hard bound sat on the only multiple of the plausible window: widen the soft side
            low, high = (low, high + 4 * step) if soft_high else (low - 4 * step, high)
            return self._multiple(low, high, step, rng, where, integer=False, schema=schema)
        for attempt in range(16):
            candidate: float = rng.uniform(low, high) if attempt < 15 else (low + high) / 2
            rounded = round(candidate, 4)
            for value in (rounded, candidate):
                if self._in_bounds(value, schema):
                    return value
        raise OutputBuildError(where.path, "no number found inside the exclusive bounds")

    @staticmethod
    def _in_bounds(value: float, schema: Mapping[str, Any]) -> bool:
        def bound(key: str) -> float | None:
            limit = schema.get(key)
            return limit if isinstance(limit, int | float) and not isinstance(limit, bool) else None

        low, high, xlow, xhigh = (
            bound("minimum"),
            bound("maximum"),
            bound("exclusiveMinimum"),
            bound("exclusiveMaximum"),
        )
        return (
            (low is None or value >= low)
            and (high is None or value <= high)
            and (xlow is None or value > xlow)
            and (xhigh is None or value < xhigh)
        )

    def _multiple(
        self,
        low: float,
        high: float,
        step: float,
        rng: random.Random,
        where: Where,
        *,
        integer: bool,
        schema: Mapping[str, Any] | None = None,
    ) -> float | int:
        first, last = math.ceil(low / step), math.floor(high / step)
        if first > last:
            raise OutputBuildError(where.path, f"no multiple of {step} in [{low}, {high}]")
        checker = self.doc.validator.evolve(schema={"multipleOf": step})
        start = rng.randint(first, last) if last - first < 2**62 else first
        exponent = Decimal(repr(step)).as_tuple().exponent
        decimals = (max(0, -exponent) if isinstance(exponent, int) else 0) + 2
        for offset in range(64):
            for k in (start + offset, start - offset):
                if not first <= k <= last:
                    continue
                for value in _multiple_candidates(k, step, decimals, integer):
                    in_range = low <= value <= high and (schema is None or self._in_bounds(value, schema))
                    if in_range and checker.is_valid(value):
                        return value
        raise OutputBuildError(where.path, f"no representable multiple of {step} in [{low}, {high}]")

    def string_value(self, found: Deref, where: Where) -> str:
        schema = found.schema
        min_len = int(schema.get("minLength", 0))
        max_len = schema.get("maxLength")
        cap = self.limits.max_string_length if max_len is None else min(int(max_len), self.limits.max_string_length)
        if min_len > cap:
            raise OutputBuildError(
                where.path, f"minLength {min_len} exceeds maxLength/limits.max_string_length ({cap})"
            )
        fmt = schema.get("format")
        pattern = schema.get("pattern")
        rng = self.rng(where, "string")
        if fmt in URL_FORMATS:
            return self._checked_url(found, where, pattern, min_len, cap)
        formatted = _formatted(fmt, rng) if isinstance(fmt, str) else None
        fits = formatted is not None and min_len <= len(formatted) <= cap
        if fits and (not isinstance(pattern, str) or _matches(pattern, formatted or "", where)):
            assert formatted is not None
            return formatted
        if isinstance(pattern, str):
            try:
                generated = string_matching(pattern, rng, min_len, cap)
            except UnsupportedPattern as exc:
                raise OutputBuildError(where.path, f"cannot satisfy pattern: {exc}") from None
            if looks_like_url(generated):
                return self._checked_url(found, where, pattern, min_len, cap)
            return generated
        return self.named_string(where, min_len, cap)

    def _checked_url(self, found: Deref, where: Where, pattern: Any, min_len: int, cap: int) -> str:
        url = self.make_url(where, found)
        if isinstance(pattern, str) and not _matches(pattern, url, where):
            raise OutputBuildError(where.path, f"the media maker's URL {url!r} does not match pattern {pattern!r}")
        if not min_len <= len(url) <= cap:
            raise OutputBuildError(where.path, f"the media maker's URL is {len(url)} chars, outside [{min_len}, {cap}]")
        return url

    def named_string(self, where: Where, min_len: int, cap: int) -> str:
        """Text shaped by the property name (see the module docstring), within ``[min_len, cap]``."""
        words = _words(where.name)
        rng = self.rng(where, "named")
        candidate: str | None = None
        if words and (words[-1] in ("id", "uuid") or where.name.endswith("Id")):
            candidate = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        elif words and words[-1] in ("language", "lang", "locale"):
            candidate = "en"
        elif words and words[-1] in ("name", "title", "label", "voice", "speaker", "style", "model"):
            candidate = " ".join(w.capitalize() for w in textgen.phrase(rng, 1, 40, self.topics).split()[:3])
            candidate = candidate.rstrip(".")
        elif words and words[-1] in ("type", "status", "kind", "mode", "category", "role", "reason"):
            candidate = textgen.word(rng)
        elif words and words[-1] in ("version",):
            candidate = f"{rng.randint(1, 3)}.{rng.randint(0, 9)}"
        if candidate is not None and min_len <= len(candidate) <= cap:
            return candidate
        return self.text_string(where, min_len, cap)

    def text_string(self, where: Where, min_len: int, cap: int) -> str:
        upper = cap if min_len > 80 else min(cap, max(80, min_len))
        return textgen.phrase(self.rng(where, "text"), min_len, upper, self.topics)


def _widen_for_multiple(low: float, high: float, step: float, soft_low: bool, soft_high: bool) -> tuple[float, float]:
    """Stretch a *plausible* (soft) side so that the window holds a multiple of ``step``."""
    if math.ceil(low / step) <= math.floor(high / step):
        return low, high
    if soft_high:
        return low, (math.floor(low / step) + 2) * step
    if soft_low:
        return (math.ceil(high / step) - 2) * step, high
    return low, high


def _multiple_candidates(k: int, step: float, decimals: int, integer: bool) -> list[float | int]:
    raw = k * step
    if integer or (isinstance(step, int) and not isinstance(step, bool)):
        return [round(raw)]
    return [round(raw, decimals), raw, round(raw, decimals + 4)]


def _plausible_range(name: str, *, integer: bool) -> tuple[float, float]:
    words = _words(name)
    last = words[-1] if words else ""
    if last == "seed":
        return 0, 2**32 - 1
    if last in ("width", "height"):
        return 512, 1536
    if last in ("tokens", "token") or name.endswith("_tokens"):
        return 8, 512
    if set(words) & {"probability", "confidence", "score", "strength", "ratio", "similarity", "prob"}:
        return 0, 1
    if last in ("cost", "price"):
        return 0.0001, 0.05
    if last in ("fps", "framerate"):
        return 24, 30
    if last in ("duration", "seconds", "start", "end", "time", "timestamp", "offset") or "duration" in words:
        return (1, 10) if integer else (0.5, 10)
    if last in ("frames",) or name == "num_frames":
        return 24, 240
    if last in ("size", "bytes"):
        return 1024, 1_000_000
    if last in ("count", "n", "index", "rank") or (words and words[0] == "num"):
        return (0, 8) if last in ("index", "rank") else (1, 4)
    if last in ("rate", "sample"):
        return 16000, 48000
    if last == "year":
        return 1990, 2025
    return 0, 100


def _formatted(fmt: str, rng: random.Random) -> str | None:
    instant = _BASE_INSTANT + dt.timedelta(seconds=rng.randrange(365 * 86400))

    def word() -> str:
        return rng.choice(("river", "maple", "cobalt", "lumen", "harbor", "juniper", "atlas", "quill"))

    if fmt == "date-time":
        return instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "date":
        return instant.strftime("%Y-%m-%d")
    if fmt == "time":
        return instant.strftime("%H:%M:%SZ")
    if fmt in ("email", "idn-email"):
        return f"{word()}.{word()}@example.com"
    if fmt == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if fmt in ("hostname", "idn-hostname"):
        return f"{word()}.example"
    if fmt == "ipv4":
        return f"192.0.2.{rng.randint(1, 254)}"
    if fmt == "ipv6":
        return f"2001:db8::{rng.randint(1, 0xFFFF):x}"
    if fmt == "duration":
        return f"PT{rng.randint(1, 600)}S"
    if fmt == "regex":
        return "^[a-z]+$"
    if fmt == "json-pointer":
        return f"/{word()}/{rng.randint(0, 9)}"
    return None


def _matches(pattern: str, text: str, where: Where) -> bool:
    """``re.search`` semantics, bounded in time (see ``regex_guard``); a pathological pattern is a build error."""
    try:
        return pattern_search(pattern, text)
    except ValueError as exc:
        raise OutputBuildError(where.path, f"cannot check pattern: {exc}") from None
