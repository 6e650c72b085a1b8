"""A small, bounded generator of strings that match a regular expression (JSON Schema ``pattern``).

``string_matching(pattern, rng, min_length=0, max_length=None)`` returns a string ``s`` such that
``re.search(pattern, s)`` succeeds (JSON Schema's ``pattern`` is unanchored, and jsonschema checks it
with Python's ``re.search``, so that is the contract here too) and ``min_length <= len(s) <= max_length``.
It walks the parse tree of Python's own regex parser (``re._parser``, the 3.11+ home of ``sre_parse``).

Supported constructs: literals, ``.``, character classes with ranges, negation and the ``\\d \\w \\s``
categories (and their negations), groups (capturing, non-capturing, named), alternation, greedy / lazy /
possessive quantifiers, atomic groups, backreferences, anchors (``^ $ \\A \\Z``) and word boundaries
(``\\b \\B``, which generate nothing: the final check decides). Every check goes through
``regex_guard.pattern_search`` (``re.search`` semantics, stopped after ``PATTERN_CHECK_SECONDS``): a draw
whose check cannot finish refuses the pattern, so no pattern hangs a build.

Unsupported (raise :class:`UnsupportedPattern`, a ``ValueError``): lookahead / lookbehind assertions,
conditional groups ``(?(1)a|b)``, patterns Python cannot compile, and patterns with *nested* unbounded
quantifiers (``(a+)*``, ``(\\w+\\s?)+``: "star height" 2 or more). Python's ``re`` — used here to check a
draw and by jsonschema to validate the output — can backtrack exponentially on those, so refusing them
up front is what keeps a build from hanging. The value generator tries a schema's examples before it
generates, so an unsupported pattern ends as a clear ``OutputBuildError``; this module never returns a
non-matching string.

Limits (all explicit): an unbounded quantifier (``*``, ``+``, ``{n,}``) repeats at most
``min + max(MAX_EXTRA_REPEAT, 2 * min_length)`` times, and never more than ``max_length``; at most
``MAX_ATTEMPTS`` draws are made per call: ``SHORT_DRAWS`` random short ones, then bisections (up to
``BISECTION_STEPS`` draws each) of one repeat fraction shared by all quantifiers, which is how a
``minLength``/``maxLength`` window is reached; the parse-tree walk is bounded by ``MAX_NODES`` visited
nodes per draw; all checks of one call together take at most ``MAX_CHECK_SECONDS``; generated
characters come from printable ASCII unless the pattern names a literal outside it. Characters are
drawn from letters and digits first so generated strings read like identifiers rather than
punctuation noise.

Determinism: every choice comes from the ``random.Random`` the caller passes in.
"""

from __future__ import annotations

import importlib
import random
import re
import string
import time
from typing import Any

from ..regex_guard import PATTERN_CHECK_SECONDS, pattern_search

__all__ = [
    "BISECTION_STEPS",
    "MAX_ATTEMPTS",
    "MAX_CHECK_SECONDS",
    "MAX_EXTRA_REPEAT",
    "MAX_NODES",
    "SHORT_DRAWS",
    "UnsupportedPattern",
    "string_matching",
]

MAX_EXTRA_REPEAT = 8
MAX_ATTEMPTS = 160
SHORT_DRAWS = 8
BISECTION_STEPS = 18
MAX_NODES = 20_000
MAX_CHECK_SECONDS = 0.5

_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

# Characters offered for "any character" and for negated classes, friendliest first.
_PREFERRED = string.ascii_lowercase + string.ascii_uppercase + string.digits
_PRINTABLE = _PREFERRED + "-_.~ !#%&'()*+,/:;<=>?@[]^{|}$\"\\`"
_CATEGORY_SAMPLES: dict[Any, str] = {
    _c.CATEGORY_DIGIT: string.digits,
    _c.CATEGORY_WORD: _PREFERRED + "_",
    _c.CATEGORY_SPACE: " ",
    _c.CATEGORY_NOT_DIGIT: string.ascii_letters + "-_ ",
    _c.CATEGORY_NOT_WORD: " -.,:;!?/",
    _c.CATEGORY_NOT_SPACE: _PREFERRED,
    _c.CATEGORY_LINEBREAK: "\n",
    _c.CATEGORY_NOT_LINEBREAK: _PREFERRED,
}
_CATEGORY_ALIASES = {
    "CATEGORY_UNI_DIGIT": "CATEGORY_DIGIT",
    "CATEGORY_UNI_WORD": "CATEGORY_WORD",
    "CATEGORY_UNI_SPACE": "CATEGORY_SPACE",
    "CATEGORY_UNI_NOT_DIGIT": "CATEGORY_NOT_DIGIT",
    "CATEGORY_UNI_NOT_WORD": "CATEGORY_NOT_WORD",
    "CATEGORY_UNI_NOT_SPACE": "CATEGORY_NOT_SPACE",
    "CATEGORY_UNI_LINEBREAK": "CATEGORY_LINEBREAK",
    "CATEGORY_UNI_NOT_LINEBREAK": "CATEGORY_NOT_LINEBREAK",
    "CATEGORY_LOC_WORD": "CATEGORY_WORD",
    "CATEGORY_LOC_NOT_WORD": "CATEGORY_NOT_WORD",
}
_ANCHORS_START = {_c.AT_BEGINNING, _c.AT_BEGINNING_STRING, _c.AT_BEGINNING_LINE}
_ANCHORS_END = {_c.AT_END, _c.AT_END_STRING, _c.AT_END_LINE}


class UnsupportedPattern(ValueError):
    """The pattern uses a construct this generator does not handle, or cannot be satisfied in bounds."""


def _category_chars(code: Any) -> str:
    name = str(code)
    code = getattr(_c, _CATEGORY_ALIASES.get(name, name))
    try:
        return _CATEGORY_SAMPLES[code]
    except KeyError:  # pragma: no cover - every category of re._constants is listed above
        raise UnsupportedPattern(f"unsupported character category {name}") from None


class _Draw:
    """One attempt: walks the parse tree, choosing repeat counts and characters from ``rng``."""

    def __init__(
        self, rng: random.Random, flags: int, fraction: float | None, min_length: int, max_length: int | None
    ) -> None:
        self.rng = rng
        self.extra_repeat = max(MAX_EXTRA_REPEAT, 2 * min_length)
        if max_length is not None:
            self.extra_repeat = max(1, min(self.extra_repeat, max_length))
        self.ignore_case = bool(flags & re.IGNORECASE)
        # Every quantifier repeats at ``fraction`` of its range; None: a random fraction below 0.5 each time.
        self.fraction = fraction
        self.groups: dict[int, str] = {}
        self.nodes = 0
        self.starts_anchored = False
        self.ends_anchored = False

    def sequence(self, items: Any, position: int = 0) -> str:
        out: list[str] = []
        for index, (op, arg) in enumerate(items):
            self.nodes += 1
            if self.nodes > MAX_NODES:
                raise UnsupportedPattern(f"pattern expands beyond {MAX_NODES} nodes")
            out.append(self.node(op, arg, at_edge=(index == 0 and position == 0)))
        return "".join(out)

    def node(self, op: Any, arg: Any, *, at_edge: bool = False) -> str:
        if op is _c.LITERAL:
            return chr(arg)
        if op is _c.NOT_LITERAL:
            return self.pick("".join(ch for ch in _PRINTABLE if ord(ch) != arg))
        if op is _c.ANY:
            return self.pick(_PREFERRED)
        if op is _c.IN:
            return self.char_class(arg)
        if op is _c.BRANCH:
            _, alternatives = arg
            return self.sequence(self.rng.choice(alternatives))
        if op is _c.SUBPATTERN:
            group, _add_flags, _del_flags, items = arg
            text = self.sequence(items)
            if group is not None:
                self.groups[group] = text
            return text
        if op is _c.ATOMIC_GROUP:
            return self.sequence(arg)
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            low, high, items = arg
            if high is _c.MAXREPEAT or high > low + self.extra_repeat:
                high = low + self.extra_repeat
            fraction = 0.5 * self.rng.random() if self.fraction is None else self.fraction
            count = low + round((high - low) * fraction)
            return "".join(self.sequence(items) for _ in range(count))
        if op is _c.AT:
            if arg in _ANCHORS_START:
                self.starts_anchored = True
            elif arg in _ANCHORS_END:
                self.ends_anchored = True
            return ""  # boundaries generate nothing; the final re.search decides
        if op is _c.GROUPREF:
            if arg not in self.groups:
                raise UnsupportedPattern(f"backreference to group {arg} before it is set")
            return self.groups[arg]
        if op is _c.CATEGORY:
            return self.pick(_category_chars(arg))
        raise UnsupportedPattern(f"unsupported regex construct {op}")

    def char_class(self, members: Any) -> str:
        negate = False
        allowed: list[str] = []
        for op, arg in members:
            if op is _c.NEGATE:
                negate = True
            elif op is _c.LITERAL:
                allowed.append(chr(arg))
            elif op is _c.RANGE:
                low, high = arg
                allowed.extend(chr(code) for code in range(low, min(high, low + 255) + 1))
            elif op is _c.CATEGORY:
                allowed.extend(_category_chars(arg))
            else:
                raise UnsupportedPattern(f"unsupported character-class member {op}")
        if negate:
            excluded = set(allowed)
            if self.ignore_case:
                excluded |= {ch.swapcase() for ch in allowed}
            candidates = "".join(ch for ch in _PRINTABLE if ch not in excluded)
        else:
            preferred = [ch for ch in allowed if ch in _PREFERRED]
            candidates = "".join(preferred or allowed)
        if not candidates:
            raise UnsupportedPattern("character class admits no printable character")
        return self.pick(candidates)

    def pick(self, candidates: str) -> str:
        return self.rng.choice(candidates)


def string_matching(pattern: str, rng: random.Random, min_length: int = 0, max_length: int | None = None) -> str:
    """A string that ``re.search(pattern, ...)`` accepts, with ``min_length <= len <= max_length``.

    Raises :class:`UnsupportedPattern` for constructs listed in the module docstring, for patterns that
    do not compile, and when no draw within ``MAX_ATTEMPTS`` fits the length bounds.
    """
    try:
        re.compile(pattern)
        tree = _parser.parse(pattern)
    except re.error as exc:
        raise UnsupportedPattern(f"pattern {pattern!r} does not compile: {exc}") from None
    if max_length is not None and max_length < min_length:
        raise UnsupportedPattern(f"maxLength {max_length} is below minLength {min_length}")
    if _star_height(list(tree)) >= 2:
        raise UnsupportedPattern(f"pattern {pattern!r} nests unbounded quantifiers (exponential backtracking risk)")
    flags = tree.state.flags
    items = list(tree)
    draws = 0
    deadline = time.monotonic() + MAX_CHECK_SECONDS

    def attempt(source: random.Random, fraction: float | None) -> tuple[str | None, int]:
        nonlocal draws
        draws += 1
        draw = _Draw(source, flags, fraction, min_length, max_length)
        core = draw.sequence(items)
        text = _fit_length(core, draw, source, min_length, max_length)
        if text is not None and _checked(pattern, text, deadline):
            return text, 0
        if text is None:
            return None, -1 if len(core) < min_length else 1
        return None, 0

    # Short, readable draws first.
    for _ in range(SHORT_DRAWS):
        text, _direction = attempt(rng, None)
        if text is not None:
            return text
    # Then bisect one fraction shared by every quantifier: with the branch and character choices replayed
    # from a fixed seed, the length grows with the fraction, so a [min_length, max_length] window is found.
    while draws < MAX_ATTEMPTS:
        seed = rng.getrandbits(64)
        low, high = 0.0, 1.0
        for step in range(BISECTION_STEPS):
            fraction = (0.0, 1.0)[step] if step < 2 else (low + high) / 2
            text, direction = attempt(random.Random(seed), fraction)
            if text is not None:
                return text
            if direction == 0 or draws >= MAX_ATTEMPTS or (step == 0 and direction > 0):
                break  # no match at a fitting length, or even the shortest is too long: new choices
            if direction < 0:
                low = fraction
            else:
                high = fraction
    raise UnsupportedPattern(
        f"no string matching {pattern!r} with length in [{min_length}, {max_length}] after {draws} draws"
    )


def _checked(pattern: str, text: str, deadline: float) -> bool:
    """Whether ``text`` matches, bounded in time: a check that cannot finish refuses the pattern."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise UnsupportedPattern(f"checking draws against {pattern!r} took over {MAX_CHECK_SECONDS} s")
    try:
        return pattern_search(pattern, text, timeout=min(remaining, PATTERN_CHECK_SECONDS))
    except ValueError as exc:
        raise UnsupportedPattern(str(exc)) from None


def _star_height(items: Any) -> int:
    """The deepest nesting of unbounded (or wider than ``MAX_EXTRA_REPEAT``) quantifiers in a parse tree."""
    height = 0
    for op, arg in items:
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            low, high, sub = arg
            wide = high is _c.MAXREPEAT or high - low > MAX_EXTRA_REPEAT
            height = max(height, _star_height(sub) + (1 if wide else 0))
        elif op is _c.SUBPATTERN:
            height = max(height, _star_height(arg[3]))
        elif op is _c.ATOMIC_GROUP:
            height = max(height, _star_height(arg))
        elif op is _c.BRANCH:
            height = max(height, *(_star_height(branch) for branch in arg[1]))
    return height


def _fit_length(core: str, draw: _Draw, rng: random.Random, min_length: int, max_length: int | None) -> str | None:
    """Pad an unanchored match (a space, then letters) to reach ``min_length``; None when it cannot fit."""
    if max_length is not None and len(core) > max_length:
        return None
    missing = min_length - len(core)
    if missing <= 0:
        return core
    if not draw.ends_anchored:
        return core + _filler(rng, missing, before=False)
    if not draw.starts_anchored:
        return _filler(rng, missing, before=True) + core
    return None


def _filler(rng: random.Random, size: int, *, before: bool) -> str:
    """``size`` characters of padding: a space next to the match (keeps ``\\b`` boundaries), then letters."""
    letters = "".join(rng.choice(string.ascii_lowercase) for _ in range(size - 1))
    return f"{letters} " if before else f" {letters}"
