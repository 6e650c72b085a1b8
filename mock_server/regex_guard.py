"""Bounded checks of JSON Schema ``pattern`` keywords: no pattern can hang the server.

Endpoint documents (bundled, or a user's ``--openapi`` file) carry ``pattern`` keywords, and both the
arguments a client sends and the outputs the mock generates are checked against them. Python's ``re``
backtracks without bound (``^(x|.)+y`` against ``"x" * 60`` never finishes), and jsonschema's
``pattern`` keyword uses ``re.search``. So every endpoint-schema pattern check goes through here
instead: the ``regex`` library (a superset of ``re``'s syntax with fewer pathological cases, and a
``timeout``), stopped after ``PATTERN_CHECK_SECONDS``.

- :func:`pattern_search` answers like ``re.search(pattern, text) is not None``, or raises
  :class:`PatternCheckTimeout` (a ``ValueError``) when the check does not finish in time, or
  :class:`PatternCheckError` when the pattern does not compile.
- :func:`bounded_validator_class` extends a jsonschema validator class so its ``pattern`` keyword uses
  :func:`pattern_search`; a timeout becomes an ordinary validation error that says so ("could not be
  checked within 0.05 s") rather than a hang. Inputs are thereby refused, never accepted unchecked.

Determinism: the outcome of a check never depends on time unless it times out, which only happens for
pathological patterns; the limit is explicit so such a pattern fails loudly rather than slowly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import regex
from jsonschema import Draft202012Validator, ValidationError, validators

__all__ = [
    "PATTERN_CHECK_SECONDS",
    "BoundedDraft202012Validator",
    "PatternCheckError",
    "PatternCheckTimeout",
    "bounded_validator_class",
    "pattern_search",
]

PATTERN_CHECK_SECONDS = 0.05


class PatternCheckError(ValueError):
    """The pattern is not a regular expression this checker can compile."""


class PatternCheckTimeout(ValueError):
    """The pattern check did not finish within ``PATTERN_CHECK_SECONDS``."""


def pattern_search(pattern: str, text: str, *, timeout: float = PATTERN_CHECK_SECONDS) -> bool:
    """``re.search(pattern, text) is not None``, bounded in time (see the module docstring)."""
    try:
        return regex.search(pattern, text, timeout=timeout) is not None
    except TimeoutError:
        raise PatternCheckTimeout(
            f"pattern {pattern!r} could not be checked within {timeout} s (pathological backtracking)"
        ) from None
    except regex.error as exc:
        raise PatternCheckError(f"pattern {pattern!r} does not compile: {exc}") from None


def _pattern_keyword(validator: Any, pattern: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "string") or not isinstance(pattern, str):
        return
    try:
        matched = pattern_search(pattern, instance)
    except (PatternCheckTimeout, PatternCheckError) as exc:
        yield ValidationError(str(exc))
        return
    if not matched:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def bounded_validator_class(base: Any) -> Any:
    """``base`` (a jsonschema validator class) with a time-bounded ``pattern`` keyword."""
    return validators.extend(base, {"pattern": _pattern_keyword})  # type: ignore[no-untyped-call]


#: Draft 2020-12 with the time-bounded ``pattern``: what every endpoint schema is checked with.
BoundedDraft202012Validator = bounded_validator_class(Draft202012Validator)
