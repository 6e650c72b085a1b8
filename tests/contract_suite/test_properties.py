"""Property-based: inputs generated from each endpoint's input contract.

* inputs that satisfy the contract are accepted (sync run 200) and the output validates
  against the output contract — except that an ``image_url`` that is not a URL fal could
  download may be refused with a 422 ``file_download_error`` at ``["body", "image_url"]``;
* inputs that violate it in exactly one place (a missing required field, a wrong type, a
  value outside an enum, a body that is not an object) get a 422 whose ``detail`` has an
  entry with ``loc`` pointing at that place;
* nothing ever answers 5xx (the client would raise FalHTTPError with the status).

The mock accepts booleans leniently as fal's pydantic models do (``0``/``1``, ``"true"``, ...),
so the wrong values generated for booleans leave those out.  Strategies for objects are
composed per property (see tests/contract_suites/test_generated_inputs.py for why).  Mock targets
only: on fal every accepted example would be a paid generation, and a "violation" fal
happened to accept would be one too.
"""

from __future__ import annotations

from typing import Any

import pytest
from fal_mock import contracts
from fal_mock.client import FalHTTPError, FalValidationError, VideoOutput
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from tests.contract_suite.targets import LUCY, MINIMAX, Target, png_data_uri

ENDPOINTS = [MINIMAX, LUCY]
EXAMPLES = settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
LAX_BOOLEANS = {"true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n"}
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)
IMAGE_URLS = st.one_of(
    st.just(png_data_uri()),
    st.sampled_from([
        "https://fal.media/files/elephant/8kkhB12hEZI2kkbU8pZPA_test.jpeg",
        "https://v3.fal.media/files/monkey/OlpQEYh7oNeJ3qKsdiaym_ia5ECOgFbfcniMDu01.png",
        "http://example.com/any/picture.webp?size=large",
    ]),
)


def input_schema(endpoint_id: str) -> dict[str, Any]:
    return contracts.schema(contracts.endpoint_contract(endpoint_id, "input"))


def valid_inputs(endpoint_id: str) -> st.SearchStrategy[dict[str, Any]]:
    schema = input_schema(endpoint_id)
    properties = schema["properties"]
    required = set(schema["required"])

    def strategy(name: str) -> st.SearchStrategy[Any]:
        if name == "image_url":  # the contract says "string"; mostly give it strings that are fetchable URLs
            return st.one_of(IMAGE_URLS, IMAGE_URLS, from_schema(properties[name]))
        return from_schema(properties[name])

    return st.fixed_dictionaries(
        {name: strategy(name) for name in sorted(required)},
        optional={name: strategy(name) for name in properties if name not in required},
    )


def wrong_values(spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that break one property's schema (and that fal's lax mode would not coerce)."""
    kind = spec.get("type")
    if kind == "boolean":
        return JSON_VALUES.filter(
            lambda v: not isinstance(v, bool)
            and not (isinstance(v, int) and v in (0, 1))
            and not (isinstance(v, float) and v in (0.0, 1.0))
            and not (isinstance(v, str) and v.strip().lower() in LAX_BOOLEANS)
        )
    not_strings = JSON_VALUES.filter(lambda v: not isinstance(v, str))
    if "enum" in spec:
        return st.one_of(not_strings, st.text(max_size=12).filter(lambda v: v not in spec["enum"]))
    return not_strings


def violations(endpoint_id: str) -> st.SearchStrategy[tuple[Any, tuple[str, ...]]]:
    """``(body, loc)``: a body breaking the contract in one place, and where the 422 must point."""
    schema = input_schema(endpoint_id)
    properties = schema["properties"]
    valid = valid_inputs(endpoint_id)

    def missing(body: dict[str, Any], name: str) -> tuple[Any, tuple[str, ...]]:
        return {k: v for k, v in body.items() if k != name}, ("body", name)

    cases = [st.builds(missing, valid, st.sampled_from(sorted(schema["required"])))]
    for name, spec in properties.items():
        cases.append(
            st.builds(lambda body, value, name=name: ({**body, name: value}, ("body", name)), valid, wrong_values(spec))
        )
    not_objects = JSON_VALUES.filter(lambda v: not isinstance(v, dict))
    cases.append(st.builds(lambda value: (value, ("body",)), not_objects))
    return st.one_of(cases)


@pytest.mark.parametrize("endpoint_id", ENDPOINTS)
def test_inputs_that_satisfy_the_contract_are_accepted(target: Target, endpoint_id: str) -> None:
    target.mock_only("every accepted example would be a paid generation")

    @EXAMPLES
    @given(arguments=valid_inputs(endpoint_id))
    def check(arguments: dict[str, Any]) -> None:
        fetchable = str(arguments["image_url"]).startswith(("data:image/png", "https://", "http://"))
        if not fetchable:
            # the only refusal allowed: a download problem with an image_url that is no fetchable URL
            with pytest.raises(FalValidationError) as raised:
                target.fal.run(endpoint_id, arguments)
            assert {e.loc for e in raised.value.field_errors} == {("body", "image_url")}
            assert {e.type for e in raised.value.field_errors} <= {"file_download_error", "image_load_error"}
            return
        output = target.fal.run(endpoint_id, arguments)
        assert isinstance(output, VideoOutput)  # and it validated against the output contract
        assert target.answers("POST")[-1].status_code == 200

    check()


@pytest.mark.parametrize("endpoint_id", ENDPOINTS)
def test_inputs_that_violate_the_contract_get_422_at_the_field(target: Target, endpoint_id: str) -> None:
    target.mock_only("a violation fal happened to accept would start a paid generation")

    @EXAMPLES
    @given(case=violations(endpoint_id))
    def check(case: tuple[Any, tuple[str, ...]]) -> None:
        body, loc = case
        with pytest.raises(FalValidationError) as raised:
            target.fal.run(endpoint_id, body)
        assert raised.value.status_code == 422
        assert loc in {error.loc for error in raised.value.field_errors}, (body, raised.value.detail)

    check()


def test_nothing_answers_5xx(target: Target) -> None:
    """Arbitrary JSON bodies on every endpoint: a 200 or a 4xx, never a 5xx."""
    target.mock_only("arbitrary bodies could be paid generations on fal")

    @EXAMPLES
    @given(endpoint_id=st.sampled_from(ENDPOINTS), body=JSON_VALUES)
    def check(endpoint_id: str, body: Any) -> None:
        try:
            target.fal.run(endpoint_id, body)
        except FalHTTPError as error:
            status = error.status_code
        else:
            status = target.answers("POST")[-1].status_code
        assert status < 500, target.answers("POST")[-1].text[:500]

    check()
