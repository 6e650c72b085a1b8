"""Strings generated for JSON Schema ``pattern`` match it (re.search) within length bounds, or raise clearly."""

from __future__ import annotations

import random
import re

import pytest
from fal_mock.mock_server.outputs.patterns import UnsupportedPattern, string_matching
from fal_mock.mock_server.regex_guard import pattern_search
from hypothesis import given, settings
from hypothesis import strategies as st

# (pattern, lengths it can match when anchored at both ends: (shortest, longest or None))
KNOWN = [
    (r"^[a-z]+$", 1, None),
    (r"^[A-Z]{2,4}-[0-9]{3}$", 6, 8),
    (r"^(foo|barbaz)\d*$", 3, None),
    (r"[0-9a-f]{8}", 8, None),
    (r"^\w+@\w+\.com$", 7, None),
    (r"^v\d+\.\d+\.\d+$", 6, None),
    (r"^#[0-9a-fA-F]{6}$", 7, 7),
    (r"^[^\s/?#]+$", 1, None),
    (r"^(?P<word>[a-z]{3})-(?P=word)$", 7, 7),
    (r"^\S{3,}\s\S+$", 5, None),
    (r"(?i)^abc[x-z]?$", 3, 4),
    (r"^(?:ab)+?c*?d{0,2}$", 2, None),
    (r"^[\d.]{1,10}$", 1, 10),
    (r"\bfal\b", 3, None),
    (r"^(?>ab|a)c$", 3, 3),
    (r"^a++b$", 2, None),
    (r"^\D\W[^abc]$", 3, 3),
    (r"^\u00e9t\u00e9$", 3, 3),
]


@pytest.mark.parametrize(("pattern", "shortest", "longest"), KNOWN)
def test_known_patterns_match(pattern: str, shortest: int, longest: int | None) -> None:
    for seed in range(20):
        text = string_matching(pattern, random.Random(seed))
        assert re.search(pattern, text), (pattern, text)


@pytest.mark.parametrize(("pattern", "shortest", "longest"), KNOWN)
def test_length_bounds_are_met(pattern: str, shortest: int, longest: int | None) -> None:
    windows = [(shortest, shortest + 30), (shortest + 20, shortest + 50), (shortest + 60, shortest + 90)]
    if longest is not None:  # bounded: every exact length it can take
        windows = [(n, n) for n in range(shortest, longest + 1)] if pattern != r"^(?:ab)+?c*?d{0,2}$" else []
    for low, top in windows:
        text = string_matching(pattern, random.Random(low), min_length=low, max_length=top)
        assert re.search(pattern, text)
        assert low <= len(text) <= top


def test_generation_is_deterministic() -> None:
    pattern = r"^[a-z]{3,12}(-[0-9]{2})?$"
    assert string_matching(pattern, random.Random(7)) == string_matching(pattern, random.Random(7))


def test_unanchored_patterns_are_padded_to_min_length() -> None:
    text = string_matching(r"id[0-9]", random.Random(1), min_length=20, max_length=20)
    assert len(text) == 20
    assert re.search(r"id[0-9]", text)


@pytest.mark.parametrize(
    "pattern",
    [r"(?=abc)abc", r"(?!x)y", r"(?<=a)b", r"(?<!a)b", r"^(a)?(?(1)b|c)$", "(", r"[z-a]", r"^(\w+\s?)+$", r"(a*b)*"],
)
def test_unsupported_or_invalid_patterns_raise(pattern: str) -> None:
    with pytest.raises(UnsupportedPattern):
        string_matching(pattern, random.Random(0))


def test_impossible_lengths_raise() -> None:
    with pytest.raises(UnsupportedPattern):
        string_matching(r"^#[0-9a-f]{6}$", random.Random(0), min_length=9, max_length=12)
    with pytest.raises(UnsupportedPattern):
        string_matching(r"^a+$", random.Random(0), min_length=5, max_length=3)


# -- generated patterns -------------------------------------------------------------------------

_ATOMS = st.sampled_from(
    ["a", "b", "x", "0", r"\d", r"\w", r"\s", ".", "[a-z]", "[A-F0-9]", "[^a-z]", r"\.", "-", "_", r"[\w-]"]
)
_QUANTIFIERS = st.sampled_from(["", "?", "*", "+", "{2}", "{1,3}", "{2,}", "*?", "+?"])


_BOUNDED = st.sampled_from(["", "?", "{2}", "{1,3}", "??"])


@st.composite
def _regex(draw: st.DrawFn, depth: int = 0, inside_star: bool = False) -> str:
    """Patterns of star height 1 at most (nested unbounded quantifiers are refused by design)."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        if depth < 2 and draw(st.booleans()) and draw(st.booleans()):
            quantifier = draw(_BOUNDED if inside_star else _QUANTIFIERS)
            starred = inside_star or quantifier not in ("", "?", "{2}", "{1,3}", "??")
            alternatives = draw(st.lists(_regex(depth + 1, starred), min_size=1, max_size=3))
            parts.append("(" + "|".join(alternatives) + ")" + quantifier)
        else:
            parts.append(draw(_ATOMS) + draw(_BOUNDED if inside_star else _QUANTIFIERS))
    return "".join(parts)


@settings(max_examples=300, deadline=None)
@given(body=_regex(), start=st.booleans(), end=st.booleans(), seed=st.integers(0, 2**32))
def test_generated_patterns_match(body: str, start: bool, end: bool, seed: int) -> None:
    pattern = ("^" if start else "") + body + ("$" if end else "")
    try:
        text = string_matching(pattern, random.Random(seed))
    except UnsupportedPattern as exc:
        refusal = str(exc)
    else:
        # Python's re can backtrack without bound on these; the bounded checker answers the same question.
        assert pattern_search(pattern, text, timeout=5)
        return
    # Only a check that could not finish in time may refuse a pattern of this grammar.
    assert "could not be checked" in refusal or "took over" in refusal

