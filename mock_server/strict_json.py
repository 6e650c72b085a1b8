"""Strict JSON at the door, safe JSON on the way out: what the mock accepts, it can store and render.

Everything a client sends as JSON (request bodies on the queue, run, proxy, storage and control
routes; the ``X-Fal-Object-Lifecycle(-Preference)`` header) is parsed by :func:`loads_strict`,
which refuses — with :class:`JsonRefused`, a ``ValueError`` — what the mock could store but then
not render or not process:

* **nesting deeper than** :data:`MAX_JSON_DEPTH` (64) arrays/objects.  Checked on the raw text
  *before* parsing (one C-speed regular-expression pass that skips over string literals), so a
  body nested 100,000 deep never reaches the recursive parser (which raised ``RecursionError``);
  64 is far more than any fal input schema nests (the deepest fal inputs nest 4-5 levels);
* **invalid Unicode**: bytes that are not UTF-8 (including UTF-8-encoded surrogates, which
  Python's ``json`` would pass through) and lone surrogate escapes such as ``"\\ud800"`` in any
  string or object key (a valid pair like ``"\\ud83d\\ude00"`` is one character and fine).  A
  stored lone surrogate made every view of the job answer 500 (``UnicodeEncodeError``);
* **non-finite numbers**: the ``NaN``/``Infinity``/``-Infinity`` literals, and numbers that
  overflow a float (``1e400``).  Integers are kept exact (Python's own 4,300-digit limit on
  int parsing applies and is refused the same way).

Where the brief is silent: text given as ``str`` (a header value) is checked for lone surrogates
like decoded bytes; the empty body is not this module's business (callers treat it as ``{}``).

:func:`renderable` is the other half: a copy of any value with lone surrogates replaced by
U+FFFD and non-finite floats turned into ``None``, for views of data stored before these checks
existed (a data directory written by an older mock keeps opening).  It is used only when the
normal JSON encoding of a response fails, so it costs nothing on the normal path.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

#: The deepest nesting of arrays/objects a JSON document may have (the top-level value is depth 1).
MAX_JSON_DEPTH = 64

#: String literals (skipped whole) or a bracket: brackets inside strings do not count.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_TOKENS_TEXT = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
#: A ``\\u`` escape of a surrogate: only then can a parsed string hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATES = re.compile("[\ud800-\udfff]")


class JsonRefused(ValueError):
    """JSON the mock refuses: too deep, invalid Unicode or a non-finite number (the message says which)."""


def _no_constant(name: str) -> Any:
    raise JsonRefused(f"{name} is not valid JSON (non-finite numbers are refused)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused(f"the number {text[:40]} is out of range")
    return value


#: ``json.loads(text, parse_constant=_no_constant, parse_float=_finite)``, its decoder made once (it keeps no state).
_STRICT_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)


def nesting_depth(raw: bytes | str, limit: int = MAX_JSON_DEPTH) -> int:
    """The deepest array/object nesting of ``raw`` (stops counting once past ``limit``)."""
    pattern = _TOKENS if isinstance(raw, bytes) else _TOKENS_TEXT
    depth = deepest = 0
    for match in pattern.finditer(raw):  # type: ignore[arg-type]
        token = match.group()
        if token in (b"[", b"{", "[", "{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif token in (b"]", b"}", "]", "}"):
            depth -= 1
    return deepest


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and _SURROGATES.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def loads_strict(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse ``raw`` as strict JSON (see the module docstring), or raise :class:`JsonRefused`."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise JsonRefused(f"the body is not valid UTF-8 (byte {error.start})") from None
    else:
        text = raw
        if _SURROGATES.search(text):
            raise JsonRefused("the text holds a lone surrogate (invalid Unicode)")
    # nesting deeper than max_depth needs more than max_depth opening brackets (counted at C speed, strings
    # included): only then is the scan that skips string literals needed
    if text.count("[") + text.count("{") > max_depth and nesting_depth(text, max_depth) > max_depth:
        raise JsonRefused(f"the JSON is nested more than {max_depth} levels deep")
    try:
        if text.startswith("\ufeff"):  # what json.loads refuses before decoding
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        value = _STRICT_DECODER.decode(text)
    except JsonRefused:
        raise
    except (ValueError, RecursionError) as error:
        raise JsonRefused(str(error)) from None
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise JsonRefused("a string holds a lone surrogate escape such as \\ud800 (invalid Unicode)")
    return value


def renderable(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` any JSON encoder can write as UTF-8: lone surrogates → U+FFFD, NaN/±inf → None,
    nesting past :data:`MAX_JSON_DEPTH` → None."""
    if isinstance(value, str):
        return _SURROGATES.sub("\ufffd", value) if not value.isascii() else value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int) or value is None:
        return value
    if _depth >= MAX_JSON_DEPTH:
        return None
    if isinstance(value, dict):
        return {renderable(str(key)): renderable(item, _depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [renderable(item, _depth + 1) for item in value]
    return renderable(str(value))
