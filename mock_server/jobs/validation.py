"""Input validation "in the runner": contract checks turned into fal's 422 entries.

The endpoint's input contract (JSON Schema) decides what is valid; this module
translates jsonschema's findings into the ``detail`` entries fal's pydantic-based
apps produce (``missing``, ``string_type``, ``bool_type``, ``one_of`` with
``ctx.expected``, ...), each with ``loc`` starting at ``"body"``.

Like pydantic's default (lax) mode, top-level booleans also accept ``0``/``1`` and the
strings ``"true"``/``"false"``/``"yes"``/``"no"``/``"on"``/``"off"``/``"1"``/``"0"``,
integers accept integral floats (``1.0``) and digit strings (``"12"``), and numbers accept
numeric strings (``"2.5"``) — fal would accept them, so the mock does too (the coerced value
is what the job runs on); strings and nested values are strict.
Unknown extra fields are ignored, as fal's models ignore them.  Defaults from the
contract are filled in, and :func:`canonical_json` gives the text the video's
determinism is keyed on.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema
from fal_mock import contracts

from .byte_lru import ByteBoundedLRU
from .errors import DetailEntry, ModelError, entry

_TYPE_ERRORS = {
    "string": ("string_type", "Input should be a valid string"),
    "boolean": ("bool_type", "Input should be a valid boolean"),
    "integer": ("int_type", "Input should be a valid integer"),
    "number": ("float_type", "Input should be a valid number"),
    "object": ("dict_type", "Input should be a valid dictionary"),
    "array": ("list_type", "Input should be a valid list"),
    "null": ("none_required", "Input should be None"),
}
_INTEGER = re.compile(r"[+-]?\d{1,18}")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_LAX_TRUE = {"true", "1", "yes", "on", "t", "y"}
_LAX_FALSE = {"false", "0", "no", "off", "f", "n"}


#: ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``, its encoder made once.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def canonical_json(value: Any) -> str:
    """Compact, key-sorted JSON: the form the video generator's determinism is keyed on."""
    return _CANONICAL(value)


def validate_arguments(contract: str, arguments: Any) -> dict[str, Any]:
    """:func:`validate_with` the validator of one of the project's contracts."""
    return validate_with(contracts.validator(contract), arguments)


def validate_with(validator: Any, arguments: Any) -> dict[str, Any]:
    """Validated arguments with defaults filled in, or :class:`ModelError` (422) with fal's entries."""
    if not isinstance(arguments, Mapping):
        raise ModelError([entry(["body"], "Input should be a valid dictionary", "dict_type", input=arguments)])
    schema = validator.schema  # read-only here: no need for contracts.schema()'s copy
    assert isinstance(schema, Mapping)
    coerced = _lax_coerce(schema, dict(arguments))
    errors = sorted(validator.iter_errors(coerced), key=lambda error: list(error.absolute_path))
    if errors:
        unique: dict[tuple[Any, ...], DetailEntry] = {}
        for found in _entries(errors):  # jsonschema reports each missing property once per missing property
            unique.setdefault((tuple(found.loc), found.type), found)
        raise ModelError(list(unique.values()))
    return _with_defaults(schema, coerced)


class ValidatedMemo:
    """Validated arguments of JSON texts seen before, so a repeated input is not validated again (thread-safe).

    :func:`validate_with` is a pure function of the validator and the arguments, so its result can be kept:
    keyed by the validator and the JSON text the arguments were parsed from (a request body), kept as JSON
    text and parsed for every hit — each job gets values of its own.  Only inputs that validate are kept (a
    refusal is rebuilt with its entries every time); a text longer than ``max_entry_bytes`` is never kept.
    Bounded in bytes (``max_bytes``: the memory of the key and value text plus :data:`ENTRY_OVERHEAD_BYTES` per
    entry), least recently used dropped; 0 turns it off.
    """

    #: Memory of one entry besides its two texts: the dict slot, the key and value tuples, the id, the LRU links
    #: (measured with tracemalloc on CPython 3.11: ~230 bytes, ~350 while entries are dropped and added all along).
    ENTRY_OVERHEAD_BYTES = 400

    def __init__(self, max_bytes: int, max_entry_bytes: int = 64 * 1024) -> None:
        self.max_entry_bytes = max_entry_bytes
        #: (id of the validator, source text) → (validated JSON text, the validator kept alive so its id stays its own)
        self._entries: ByteBoundedLRU[tuple[int, bytes], tuple[str, Any]] = ByteBoundedLRU(max_bytes)

    @property
    def max_bytes(self) -> int:
        return self._entries.max_bytes

    @property
    def total_bytes(self) -> int:
        return self._entries.total_bytes

    def __len__(self) -> int:
        return len(self._entries)

    def validate(self, validator: Any, arguments: Any, source: bytes) -> dict[str, Any]:
        """:func:`validate_with` of ``arguments`` (parsed from the JSON text ``source``), from the memo when
        that text passed this validator before."""
        if self.max_bytes <= 0 or len(source) > self.max_entry_bytes:
            return validate_with(validator, arguments)
        key = (id(validator), source)
        found = self._entries.get(key)
        if found is not None and found[1] is validator:
            validated: dict[str, Any] = json.loads(found[0])
            return validated
        validated = validate_with(validator, arguments)
        try:
            value = json.dumps(validated, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):  # a default the contract holds that JSON cannot say: not kept
            return validated
        self._entries.put(key, (value, validator),
                          sys.getsizeof(source) + sys.getsizeof(value) + self.ENTRY_OVERHEAD_BYTES)  # fmt: skip
        return validated


def _properties(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    props = schema.get("properties")
    return props if isinstance(props, Mapping) else {}


def _lax_coerce(schema: Mapping[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """pydantic's lax mode on top-level fields: booleans from 0/1 and yes/no words, integers from integral
    floats (``1.0``) and digit strings (``"12"``), numbers from numeric strings (``"2.5"``)."""
    for name, spec in _properties(schema).items():
        if name not in arguments or not isinstance(spec, Mapping):
            continue
        kinds = _types(spec)
        value = arguments[name]
        if "boolean" in kinds and not isinstance(value, bool):
            if isinstance(value, int) and value in (0, 1):
                arguments[name] = bool(value)
            elif isinstance(value, str) and value.strip().lower() in _LAX_TRUE | _LAX_FALSE:
                arguments[name] = value.strip().lower() in _LAX_TRUE
        elif "integer" in kinds and not isinstance(value, bool):
            if isinstance(value, float) and value.is_integer():
                arguments[name] = int(value)
            elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
                arguments[name] = int(value.strip())
        elif "number" in kinds and isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            number = float(value.strip())
            if math.isfinite(number):
                arguments[name] = number
    return arguments


def _types(spec: Mapping[str, Any]) -> set[str]:
    """The JSON types a property allows (``type``, or the branches of ``anyOf``/``oneOf``)."""
    found = spec.get("type")
    kinds = {found} if isinstance(found, str) else set(found) if isinstance(found, list) else set()
    for key in ("anyOf", "oneOf"):
        for branch in spec.get(key) or ():
            if isinstance(branch, Mapping) and isinstance(branch.get("type"), str):
                kinds.add(branch["type"])
    return kinds


def _with_defaults(schema: Mapping[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    filled = dict(arguments)
    for name, spec in _properties(schema).items():
        if name not in filled and isinstance(spec, Mapping) and "default" in spec:
            filled[name] = spec["default"]
    return filled


def _expected_text(options: Iterable[Any]) -> str:
    quoted = [f"'{option}'" if isinstance(option, str) else json.dumps(option) for option in options]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _unwrap_nullable(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """``anyOf: [T, {type: null}]`` (an optional field) fails like ``T`` would, as pydantic reports it."""
    while error.validator in ("anyOf", "oneOf") and error.context:
        branches = error.validator_value if isinstance(error.validator_value, list) else []
        nullable = [i for i, b in enumerate(branches) if isinstance(b, Mapping) and b.get("type") == "null"]
        if not nullable or len(branches) != 2:
            break
        inner = [sub for sub in error.context if sub.schema_path and sub.schema_path[0] not in nullable]
        if not inner:
            break
        error = inner[0]  # its absolute_path already runs through the anyOf's
    return error


def _entries(errors: Iterable[jsonschema.ValidationError]) -> Iterable[DetailEntry]:
    for error in map(_unwrap_nullable, errors):
        loc: list[str | int] = ["body", *error.absolute_path]
        kind = error.validator
        rule: Any = error.validator_value
        if kind == "required":
            present = error.instance if isinstance(error.instance, Mapping) else {}
            for name in rule:
                if name not in present:
                    yield entry([*loc, name], "Field required", "missing", input=error.instance)
        elif kind == "type":
            expected = rule
            first = expected[0] if isinstance(expected, list) else expected
            error_type, message = _TYPE_ERRORS.get(first, ("type_error", error.message))
            yield entry(loc, message, error_type, input=error.instance)
        elif kind in ("enum", "const"):
            options = list(rule) if kind == "enum" else [rule]
            yield entry(
                loc,
                f"Input should be {_expected_text(options)}",
                "one_of",
                ctx={"expected": options},
                input=error.instance,
            )
        elif kind in ("minLength", "maxLength"):
            short = kind == "minLength"
            limit = rule
            yield entry(
                loc,
                f"String should have {'at least' if short else 'at most'} {limit} character{'s' if limit != 1 else ''}",
                "string_too_short" if short else "string_too_long",
                ctx={"min_length" if short else "max_length": limit},
                input=error.instance,
            )
        elif kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            name, word, key = {
                "minimum": ("greater_than_equal", "greater than or equal to", "ge"),
                "maximum": ("less_than_equal", "less than or equal to", "le"),
                "exclusiveMinimum": ("greater_than", "greater than", "gt"),
                "exclusiveMaximum": ("less_than", "less than", "lt"),
            }[str(kind)]
            yield entry(
                loc,
                f"Input should be {word} {rule}",
                name,
                ctx={key: rule},
                input=error.instance,
            )
        else:
            yield entry(loc, error.message, "value_error", input=error.instance)
