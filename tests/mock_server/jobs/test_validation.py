"""The memo of validated inputs: a repeated JSON text is validated once, and answers as validating it does."""

from __future__ import annotations

import json
import json.encoder
import tracemalloc
from typing import Any

import pytest
from fal_mock.mock_server.jobs import validation
from fal_mock.mock_server.jobs.endpoints import EndpointRegistry
from fal_mock.mock_server.jobs.errors import ModelError
from fal_mock.mock_server.jobs.validation import ValidatedMemo, validate_with

from tests.support import count_validations

MINIMAX = "fal-ai/minimax-video/image-to-video"
GOOD = {"prompt": "a cat", "image_url": "https://example.com/cat.png", "prompt_optimizer": "yes"}


def text(arguments: Any) -> bytes:
    return json.dumps(arguments).encode()


@pytest.fixture
def validator() -> Any:
    endpoint = EndpointRegistry().get(MINIMAX)
    assert endpoint is not None
    return endpoint.input_validator


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The arguments each real validation ran on."""
    return count_validations(monkeypatch)


def validate(memo: ValidatedMemo, validator: Any, arguments: Any) -> dict[str, Any]:
    return memo.validate(validator, json.loads(text(arguments)), text(arguments))


def test_a_repeated_input_is_validated_once_and_answers_as_validating_does(validator: Any, runs: list[Any]) -> None:
    memo = ValidatedMemo(1 << 20)
    first = validate(memo, validator, GOOD)
    second = validate(memo, validator, GOOD)
    assert first == second == validate_with(validator, dict(GOOD))
    assert second["prompt_optimizer"] is True  # lax coercion kept
    assert list(second) == list(first)  # the same key order
    assert len(runs) == 1
    assert len(memo) == 1


def test_each_hit_is_a_value_of_its_own(validator: Any) -> None:
    memo = ValidatedMemo(1 << 20)
    arguments = {**GOOD, "extra": {"nested": [1, 2]}}
    validate(memo, validator, arguments)
    hit = validate(memo, validator, arguments)
    hit["prompt"] = "changed"
    hit["extra"]["nested"].append(3)
    again = validate(memo, validator, arguments)
    assert again["prompt"] == "a cat"
    assert again["extra"] == {"nested": [1, 2]}


def test_other_texts_and_other_validators_are_not_confused(validator: Any, runs: list[Any]) -> None:
    memo = ValidatedMemo(1 << 20)
    validate(memo, validator, {**GOOD, "prompt_optimizer": True})
    validate(memo, validator, {**GOOD, "prompt_optimizer": 1})  # coerces to the same value, but another text
    reordered = dict(reversed(list(GOOD.items())))
    assert next(iter(validate(memo, validator, reordered))) == "prompt_optimizer"
    other = EndpointRegistry().get(MINIMAX)
    assert other is not None
    assert other.input_validator is not validator
    validate(memo, other.input_validator, reordered)
    assert len(runs) == 4
    assert len(memo) == 4


def test_a_refused_input_is_refused_every_time(validator: Any, runs: list[Any]) -> None:
    memo = ValidatedMemo(1 << 20)
    for _ in range(2):
        with pytest.raises(ModelError) as refused:
            validate(memo, validator, {"prompt": "no image"})
        assert [entry.loc for entry in refused.value.entries] == [["body", "image_url"]]
    assert len(runs) == 2
    assert len(memo) == 0


def test_it_is_bounded_in_bytes_least_recently_used_dropped(validator: Any, runs: list[Any]) -> None:
    one = ValidatedMemo(1 << 20)
    validate(one, validator, {**GOOD, "prompt": "p0"})
    entry_bytes = one.total_bytes
    assert entry_bytes > 0
    memo = ValidatedMemo(entry_bytes * 3 + entry_bytes // 2)  # room for three entries
    for index in range(5):
        validate(memo, validator, {**GOOD, "prompt": f"p{index}"})
        assert memo.total_bytes <= memo.max_bytes
    assert len(memo) == 3
    runs.clear()
    validate(memo, validator, {**GOOD, "prompt": "p4"})  # kept
    validate(memo, validator, {**GOOD, "prompt": "p0"})  # dropped first: validated again
    assert [arguments["prompt"] for arguments in runs] == ["p0"]


def test_large_texts_and_a_zero_budget_keep_nothing(validator: Any, runs: list[Any]) -> None:
    small = ValidatedMemo(1 << 20, max_entry_bytes=100)
    off = ValidatedMemo(0)
    for memo in (small, off):
        for _ in range(2):
            validate(memo, validator, {**GOOD, "prompt": "x" * 200})
        assert len(memo) == 0
        assert memo.total_bytes == 0
    assert len(runs) == 4


def test_its_byte_budget_bounds_the_memory_it_holds(validator: Any) -> None:
    memo = ValidatedMemo(256 * 1024)
    for index in range(300):  # jsonschema's own first-use caches, outside the measure
        validate(ValidatedMemo(0), validator, {**GOOD, "prompt": "x" * index})
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for index in range(3000):  # far more than fit
            body = json.dumps({**GOOD, "prompt": f"prompt {index} " + "x" * (index % 300)}).encode()
            memo.validate(validator, json.loads(body), body)
            del body
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    # what the memo holds was allocated here (the keys), by the JSON encoder (the values) or in the memo (entries);
    # allocations of other threads of the test process elsewhere do not count
    mine = (__file__, validation.__file__, json.encoder.__file__)
    held = sum(stat.size_diff for stat in after.compare_to(before, "filename")
               if stat.traceback[0].filename in mine)  # fmt: skip
    assert memo.total_bytes <= memo.max_bytes
    assert len(memo) < 3000
    assert 0 < held <= memo.max_bytes  # what it holds (keys, values, entries) stays within its budget
