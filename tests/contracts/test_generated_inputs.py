"""Inputs generated from the endpoint input contracts with hypothesis-jsonschema validate.

hypothesis-jsonschema 0.23.1 (its latest release) crashes on *object* schemas with current
Hypothesis (it calls ``many.more()``, which Hypothesis removed), so objects are composed here
from the per-property strategies; the whole-schema test runs only where the two are compatible.
"""

from __future__ import annotations

from typing import Any

import pytest
from fal_mock import contracts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture.utils import many
from hypothesis_jsonschema import from_schema

INPUTS = [contracts.endpoint_contract(endpoint_id, "input") for endpoint_id in contracts.endpoint_ids()]
SETTINGS = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def object_strategy(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema["properties"]
    required = set(schema["required"])
    return st.fixed_dictionaries(
        {name: from_schema(properties[name]) for name in sorted(required)},
        optional={name: from_schema(sub) for name, sub in properties.items() if name not in required},
    )


@pytest.mark.parametrize("name", INPUTS)
def test_generated_inputs_validate(name: str) -> None:
    @SETTINGS
    @given(object_strategy(contracts.schema(name)))
    def check(instance: dict[str, Any]) -> None:
        contracts.validate(name, instance)

    check()


@pytest.mark.skipif(
    not hasattr(many, "more"),
    reason="hypothesis-jsonschema object strategies need Hypothesis's old many.more()",
)
@pytest.mark.parametrize("name", INPUTS)
def test_whole_schema_generation(name: str) -> None:
    @SETTINGS
    @given(from_schema(contracts.schema(name)))
    def check(instance: dict[str, Any]) -> None:
        contracts.validate(name, instance)

    check()
