"""Pattern checks of endpoint schemas are bounded in time: a pathological pattern fails, it never hangs."""

from __future__ import annotations

import pytest
from fal_mock.mock_server.regex_guard import (
    PatternCheckError,
    PatternCheckTimeout,
    bounded_validator_class,
    pattern_search,
)
from jsonschema import Draft202012Validator

# Python's re needs minutes (or forever) for these; they are ordinary-looking patterns.
PATHOLOGICAL = [(r"^(a|aa)+$", "a" * 5000 + "!"), (r"^(\w+\s?)*$", "a" * 5000 + "!")]


ORDINARY = [(r"^[a-z]+$", "abc"), (r"\d{2}", "x12y"), (r"^#[0-9a-f]{6}$", "#00ff7a")]


@pytest.mark.parametrize(("pattern", "text"), ORDINARY)
def test_search_semantics_match_re(pattern: str, text: str) -> None:
    assert pattern_search(pattern, text)
    assert not pattern_search(pattern, "")


@pytest.mark.parametrize(("pattern", "text"), PATHOLOGICAL)
def test_a_check_that_cannot_finish_raises(pattern: str, text: str) -> None:
    with pytest.raises(PatternCheckTimeout, match="could not be checked within"):
        pattern_search(pattern, text)


def test_a_pattern_that_does_not_compile_raises() -> None:
    with pytest.raises(PatternCheckError, match="does not compile"):
        pattern_search("[z-a]", "x")


def test_validator_refuses_with_a_message_instead_of_hanging() -> None:
    validator_class = bounded_validator_class(Draft202012Validator)
    pattern, text = PATHOLOGICAL[0]
    validator = validator_class({"type": "object", "properties": {"name": {"type": "string", "pattern": pattern}}})
    errors = list(validator.iter_errors({"name": text}))
    assert len(errors) == 1
    assert "could not be checked" in errors[0].message
    assert list(validator.iter_errors({"name": "aaa"})) == []
    mismatch = list(validator.iter_errors({"name": "b"}))
    assert len(mismatch) == 1
    assert "does not match" in mismatch[0].message
