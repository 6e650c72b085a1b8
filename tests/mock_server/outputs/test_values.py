"""Generated values satisfy their constraints: property tests over generated schemas, plus named cases."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from fal_mock.mock_server.outputs import OutputBuildError, build_output
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from .fakes import FakeMaker

NAMES = st.sampled_from(["value", "seed", "width", "probability", "cost", "duration", "count", "total_tokens", "x"])
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def generate(schema: dict[str, Any], name: str = "value", seed: bytes = b"v") -> Any:
    root = {"type": "object", "properties": {name: schema}, "required": [name]}
    result = build_output(root, arguments={}, category="", seed=seed, media=FakeMaker())
    validator = Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert validator.is_valid(result)
    return result[name]


def is_valid(schema: dict[str, Any], value: Any) -> bool:
    return bool(Draft202012Validator(schema).is_valid(value))


# -- numbers -------------------------------------------------------------------------------------


@st.composite
def integer_schemas(draw: st.DrawFn) -> dict[str, Any]:
    """Satisfiable integer schemas: built around a value that meets every constraint."""
    step = draw(st.sampled_from([None, 1, 2, 3, 5, 7, 10, 64]))
    anchor = draw(st.integers(-(10**9), 10**9))
    if step:
        anchor -= anchor % step
    schema: dict[str, Any] = {"type": "integer"}
    if step:
        schema["multipleOf"] = step
    if draw(st.booleans()):
        schema["minimum" if draw(st.booleans()) else "exclusiveMinimum"] = anchor - draw(st.integers(0, 1000))
    if draw(st.booleans()):
        schema["maximum" if draw(st.booleans()) else "exclusiveMaximum"] = anchor + draw(st.integers(0, 1000))
    assume(is_valid(schema, anchor))
    return schema


@SETTINGS
@given(schema=integer_schemas(), name=NAMES, seed=st.binary(max_size=4))
def test_integers_meet_their_constraints(schema: dict[str, Any], name: str, seed: bytes) -> None:
    value = generate(schema, name, seed)
    assert isinstance(value, int)
    assert not isinstance(value, bool)


@st.composite
def number_schemas(draw: st.DrawFn) -> dict[str, Any]:
    step = draw(st.sampled_from([None, 0.01, 0.1, 0.25, 0.5, 1, 2.5, 3, 0.001]))
    k = draw(st.integers(-100_000, 100_000))
    anchor = round(k * step, 6) if step else draw(st.floats(-1e6, 1e6, allow_nan=False))
    schema: dict[str, Any] = {"type": "number"}
    if step:
        schema["multipleOf"] = step
    width = draw(st.sampled_from([0, 0.001, 0.5, 1, 10, 1e4]))
    if draw(st.booleans()):
        schema["minimum" if draw(st.booleans()) else "exclusiveMinimum"] = anchor - width
    if draw(st.booleans()):
        schema["maximum" if draw(st.booleans()) else "exclusiveMaximum"] = anchor + width
    assume(is_valid(schema, anchor))
    return schema


@SETTINGS
@given(schema=number_schemas(), name=NAMES, seed=st.binary(max_size=4))
def test_numbers_meet_their_constraints(schema: dict[str, Any], name: str, seed: bytes) -> None:
    value = generate(schema, name, seed)
    assert isinstance(value, int | float)


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("seed", 0, 2**32 - 1), ("width", 512, 1536), ("probability", 0, 1), ("cost", 0.0001, 0.05), ("fps", 24, 30)],
)
def test_unbounded_numbers_use_plausible_ranges(name: str, low: float, high: float) -> None:
    for seed in (b"1", b"2", b"3"):
        assert low <= generate({"type": "number"}, name, seed) <= high


def test_one_sided_bounds_keep_a_plausible_window() -> None:
    assert 512 <= generate({"type": "integer", "minimum": 512}, "height") <= 1536
    assert 0 < generate({"type": "integer", "exclusiveMinimum": 0}, "width") <= 1536
    assert generate({"type": "integer", "maximum": -5}, "x") <= -5


# -- strings -------------------------------------------------------------------------------------

_PATTERNS = [
    (r"^[a-z]+$", 1),
    (r"^[A-Z]{3}-\d{4}$", 8),
    (r"^#[0-9a-f]{6}$", 7),
    (r"[0-9]{3}", 3),
    (r"^(en|fr|de)(-[A-Z]{2})?$", 2),
    (r"^\S+$", 1),
]


@st.composite
def string_schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    kind = draw(st.sampled_from(["plain", "format", "pattern"]))
    shortest = 0
    if kind == "format":
        schema["format"] = draw(
            st.sampled_from(["date-time", "date", "time", "email", "uuid", "hostname", "ipv4", "ipv6"])
        )
        shortest = 0
    elif kind == "pattern":
        pattern, shortest = draw(st.sampled_from([p for p in _PATTERNS if p[0] != r"^(en|fr|de)(-[A-Z]{2})?$"]))
        schema["pattern"] = pattern
    if draw(st.booleans()) and kind != "format":
        schema["minLength"] = draw(st.integers(0, 300))
    if draw(st.booleans()) and kind != "format":
        schema["maxLength"] = schema.get("minLength", 0) + draw(st.integers(0, 200)) + shortest
    fixed = {r"^[A-Z]{3}-\d{4}$": 8, r"^#[0-9a-f]{6}$": 7}
    if schema.get("pattern") in fixed:  # fixed-length patterns: keep the length window around them
        schema.pop("minLength", None)
        schema.pop("maxLength", None)
    return schema


@SETTINGS
@given(schema=string_schemas(), name=st.sampled_from(["caption", "task_id", "label", "language", "notes"]))
def test_strings_meet_their_constraints(schema: dict[str, Any], name: str) -> None:
    value = generate(schema, name)
    assert isinstance(value, str)
    assert "://" not in value


def test_formats_are_real_values() -> None:
    dt.datetime.fromisoformat(generate({"type": "string", "format": "date-time"}).replace("Z", "+00:00"))
    dt.date.fromisoformat(generate({"type": "string", "format": "date"}))
    assert uuid.UUID(generate({"type": "string", "format": "uuid"})).version == 4
    assert re.fullmatch(r"[a-z]+\.[a-z]+@example\.com", generate({"type": "string", "format": "email"}))
    assert generate({"type": "string", "format": "ipv4"}).startswith("192.0.2.")


def test_named_strings_read_like_their_names() -> None:
    assert uuid.UUID(generate({"type": "string"}, "request_id"))
    assert generate({"type": "string"}, "language") == "en"
    label = generate({"type": "string"}, "title")
    assert label[0].isupper()
    assert len(label.split()) <= 3
    sentence = generate({"type": "string"}, "caption")
    assert re.fullmatch(r"[A-Z][A-Za-z ,'.-]+", sentence)


def test_url_pattern_strings_come_from_the_maker() -> None:
    value = generate({"type": "string", "pattern": "^https?://"}, "link")
    assert value.startswith("https://mock.test/")


# -- enums, unions, arrays, objects ----------------------------------------------------------------


@SETTINGS
@given(
    members=st.lists(st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none()), min_size=1, max_size=6),
    seed=st.binary(max_size=3),
)
def test_enum_values_come_from_the_enum(members: list[Any], seed: bytes) -> None:
    value = generate({"enum": members}, "choice", seed)
    assert value in members
    if any(m is not None for m in members):
        assert value is not None


def test_unions_prefer_non_null_and_oneof_is_exclusive() -> None:
    assert generate({"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 3, "maximum": 3}]}) == 3
    assert generate({"type": ["null", "boolean"]}, "is_ok") in (True, False)
    value = generate({"oneOf": [{"type": "integer"}, {"type": "number", "multipleOf": 0.5}]})
    assert isinstance(value, int | float)
    assert generate({"anyOf": [{"type": "null"}]}) is None


@st.composite
def array_schemas(draw: st.DrawFn) -> dict[str, Any]:
    low = draw(st.integers(0, 10))
    schema: dict[str, Any] = {"type": "array", "minItems": low}
    if draw(st.booleans()):
        schema["maxItems"] = low + draw(st.integers(0, 5))
    if draw(st.booleans()):
        schema["items"] = {"type": "integer", "minimum": 0, "maximum": 1000}
        schema["uniqueItems"] = draw(st.booleans())
    elif draw(st.booleans()):
        schema["prefixItems"] = [{"type": "string"}, {"type": "boolean"}]
        schema["items"] = draw(st.sampled_from([False, {"type": "number"}]))
        if schema["items"] is False:
            schema["minItems"] = min(schema["minItems"], 2)
            if "maxItems" in schema:
                schema["maxItems"] = min(schema["maxItems"], 2)
    return schema


@SETTINGS
@given(schema=array_schemas())
def test_arrays_meet_their_constraints(schema: dict[str, Any]) -> None:
    value = generate(schema, "values")
    assert schema["minItems"] <= len(value)


def test_object_properties_follow_fal_order_and_dependencies() -> None:
    schema = {
        "type": "object",
        "x-fal-order-properties": ["b", "a"],
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}, "c": {"type": "string"}},
        "required": ["a", "b"],
        "dependentRequired": {"a": ["c"]},
    }
    assert list(generate(schema, "obj")) == ["b", "a", "c"]


def test_min_properties_add_declared_then_extra_keys() -> None:
    value = generate({"type": "object", "properties": {"a": {"type": "integer"}}, "minProperties": 3}, "obj")
    assert list(value) == ["a", "extra_1", "extra_2"]


def test_untyped_values() -> None:
    assert generate({}, "metadata") == {}
    assert isinstance(generate({"title": "Segments"}, "segments"), str)


def test_limits_bound_generated_sizes() -> None:
    with pytest.raises(OutputBuildError, match="max_array_items"):
        generate({"type": "array", "minItems": 1000})
    with pytest.raises(OutputBuildError, match="max_string_length"):
        generate({"type": "string", "minLength": 100_000})
