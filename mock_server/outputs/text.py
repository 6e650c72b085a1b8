"""Seeded text that reads like text: sentences, LLM-style replies and timed transcripts.

Everything here is a pure function of its arguments (a ``seed`` of bytes plus the visible inputs): the
random source is ``random.Random`` seeded from SHA-256 of the seed and a purpose label, so the same call
gives the same text in any process (never ``hash()`` of a str, never a clock).

- ``sentences(seed, n, topic_words)`` — ``n`` sentences built from a small built-in vocabulary and a
  dozen templates; about a third of the noun slots take one of the caller's topic words.
- ``topic_words(text)`` — the content words of a prompt (lowercase, 3+ letters, stop words removed,
  first occurrence order, at most ``MAX_TOPIC_WORDS``).
- ``reply(prompt, seed)`` — a short answer in the manner of a chat model: an opening line naming the
  topic, then 3–6 sentences, capped at ``max_chars`` (default ``DEFAULT_REPLY_CHARS``) on a word boundary.
- ``transcript(seed, duration_seconds)`` — a transcript of speech lasting ``duration_seconds``:
  contiguous segments of 2.5–6 s (the last one absorbs any remainder under 1 s) that start at 0 and end
  exactly at the duration (times rounded to centiseconds), about 2.2–2.8 words per second, each word
  with its own start/end inside its segment. ``max_segments`` bounds the count: longer audio gets longer
  segments. ``text`` is the segments' texts joined by spaces.

Limits: ``duration_seconds`` must be finite and in ``[0, MAX_TRANSCRIPT_SECONDS]`` (4 h) and ``n`` in
``[0, MAX_SENTENCES]``; anything else raises ``ValueError``. A zero duration gives an empty transcript.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "DEFAULT_REPLY_CHARS",
    "MAX_SENTENCES",
    "MAX_TOPIC_WORDS",
    "MAX_TRANSCRIPT_SECONDS",
    "TimedWord",
    "Transcript",
    "TranscriptSegment",
    "phrase",
    "reply",
    "rng_for",
    "sentences",
    "topic_words",
    "transcript",
    "word",
]

MAX_SENTENCES = 500
MAX_TOPIC_WORDS = 8
MAX_TRANSCRIPT_SECONDS = 4 * 3600.0
DEFAULT_REPLY_CHARS = 1200

_NOUNS = [
    "light",
    "morning",
    "river",
    "city",
    "garden",
    "window",
    "street",
    "market",
    "forest",
    "mountain",
    "harbor",
    "bridge",
    "valley",
    "meadow",
    "evening",
    "village",
    "station",
    "library",
    "kitchen",
    "studio",
    "road",
    "shadow",
    "cloud",
    "ocean",
    "island",
    "field",
    "voice",
    "story",
    "detail",
    "color",
    "texture",
    "pattern",
    "surface",
    "corner",
    "moment",
    "season",
    "journey",
    "camera",
    "frame",
    "scene",
    "picture",
    "building",
    "tower",
    "path",
    "lantern",
    "candle",
    "table",
    "chair",
    "door",
    "wall",
    "roof",
    "stone",
    "tree",
    "flower",
    "leaf",
    "branch",
    "wind",
    "rain",
    "snow",
    "sunlight",
    "horizon",
    "skyline",
    "crowd",
    "music",
    "rhythm",
    "melody",
    "idea",
    "plan",
    "question",
    "answer",
    "system",
    "process",
    "result",
    "method",
    "approach",
    "example",
    "reason",
    "choice",
    "signal",
    "balance",
    "contrast",
    "structure",
    "space",
]
_ADJECTIVES = [
    "quiet",
    "bright",
    "warm",
    "soft",
    "gentle",
    "vivid",
    "calm",
    "clear",
    "steady",
    "golden",
    "silver",
    "narrow",
    "wide",
    "distant",
    "familiar",
    "careful",
    "simple",
    "subtle",
    "bold",
    "patient",
    "early",
    "late",
    "small",
    "large",
    "old",
    "new",
    "slow",
    "quick",
    "deep",
    "light",
    "open",
    "hidden",
    "quiet",
    "crisp",
    "rich",
    "muted",
    "natural",
    "detailed",
    "balanced",
]
_VERBS = [
    "follows",
    "crosses",
    "shapes",
    "frames",
    "reveals",
    "holds",
    "carries",
    "reflects",
    "touches",
    "fills",
    "meets",
    "joins",
    "guides",
    "softens",
    "lifts",
    "marks",
    "opens",
    "settles",
    "surrounds",
    "catches",
    "echoes",
    "outlines",
    "supports",
]
_ADVERBS = [
    "slowly",
    "gently",
    "quietly",
    "clearly",
    "steadily",
    "softly",
    "carefully",
    "easily",
    "briefly",
    "naturally",
]
_PREPOSITIONS = ["across", "along", "beside", "beyond", "near", "over", "under", "through", "around", "toward"]
_CONNECTORS = (
    "In the meantime",
    "At the same time",
    "After a while",
    "Later on",
    "For a moment",
    "Even so",
    "Meanwhile",
    "Over time",
    "In the end",
    "Still",
)
_TEMPLATES = (
    "The {adj} {noun} {verb} the {noun2}.",
    "A {adj} {noun} {verb} the {adj2} {noun2} {prep} the {noun3}.",
    "{Connector}, the {noun} {verb} the {noun2} {adverb}.",
    "Every {noun} {verb} a {adj} {noun2}.",
    "The {noun} {prep} the {noun2} {verb} the {adj} {noun3}.",
    "{Connector}, a {adj} {noun} {verb} the {noun2}.",
    "Nothing {verb} the {noun} quite like the {adj} {noun2}.",
    "The {adj} {noun} and the {adj2} {noun2} stay close together.",
    "Here the {noun} {verb} the {noun2} {prep} the {adj} {noun3}.",
    "It is the {adj} {noun} that {verb} the {noun2}.",
    "One {adj} {noun} {verb} another {noun2} {adverb}.",
    "The {noun} {verb} the {noun2}, {adverb} and without hurry.",
)
_REPLY_OPENINGS = (
    "Here is a short answer about {topic}.",
    "Good question about {topic}.",
    "Let me walk through {topic} briefly.",
    "A few thoughts on {topic}:",
    "Sure. On the subject of {topic}, here is a summary.",
)
_REPLY_CLOSINGS = (
    "I hope this helps.",
    "Let me know if you would like more detail.",
    "That is the short version.",
    "Happy to expand on any part of this.",
)
_STOP_WORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "into",
        "onto",
        "over",
        "under",
        "your",
        "you",
        "are",
        "was",
        "were",
        "has",
        "have",
        "had",
        "not",
        "but",
        "its",
        "it's",
        "his",
        "her",
        "their",
        "there",
        "here",
        "then",
        "than",
        "them",
        "they",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "how",
        "all",
        "any",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "only",
        "own",
        "same",
        "very",
        "can",
        "will",
        "just",
        "should",
        "would",
        "could",
        "about",
        "above",
        "after",
        "again",
        "against",
        "below",
        "between",
        "both",
        "during",
        "before",
        "off",
        "out",
        "once",
        "too",
        "also",
        "make",
        "write",
        "give",
        "show",
        "tell",
        "please",
        "using",
        "use",
        "like",
        "a",
        "an",
        "of",
        "in",
        "on",
        "at",
        "to",
        "by",
        "as",
        "is",
        "be",
        "or",
        "summarize",
        "describe",
        "explain",
        "list",
        "generate",
        "create",
        "draw",
        "compose",
        "translate",
        "answer",
        "learn",
        "learns",
        "make",
        "makes",
        "turn",
        "into",
    ]
)


def rng_for(seed: bytes, *labels: str) -> random.Random:
    """A ``random.Random`` seeded from SHA-256 of ``seed`` and ``labels`` (stable in any process)."""
    digest = hashlib.sha256(seed + b"\x00" + "\x1f".join(labels).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def word(rng: random.Random) -> str:
    """One common noun from the built-in vocabulary."""
    return rng.choice(_NOUNS)


def topic_words(text: str) -> tuple[str, ...]:
    """The content words of ``text``: lowercase, 3+ letters, no stop words, first-seen order, at most 8."""
    seen: list[str] = []
    for word in re.findall(r"[A-Za-z][A-Za-z'-]+", text):
        word = word.lower().strip("'-")
        if len(word) >= 3 and word not in _STOP_WORDS and word not in seen:
            seen.append(word)
            if len(seen) == MAX_TOPIC_WORDS:
                break
    return tuple(seen)


def _sentence(rng: random.Random, topics: Sequence[str]) -> str:
    def noun() -> str:
        if topics and rng.random() < 0.35:
            return rng.choice(topics)
        return rng.choice(_NOUNS)

    template = rng.choice(_TEMPLATES)
    connector = rng.choice(_CONNECTORS)
    text = template.format(
        adj=rng.choice(_ADJECTIVES),
        adj2=rng.choice(_ADJECTIVES),
        noun=noun(),
        noun2=noun(),
        noun3=noun(),
        verb=rng.choice(_VERBS),
        adverb=rng.choice(_ADVERBS),
        prep=rng.choice(_PREPOSITIONS),
        Connector=connector,
    )
    return text[0].upper() + text[1:]


def sentences(seed: bytes, n: int, topic_words: Sequence[str] = ()) -> list[str]:
    """``n`` sentences (0 <= n <= MAX_SENTENCES), seeded by ``seed``, mentioning ``topic_words`` now and then."""
    if not 0 <= n <= MAX_SENTENCES:
        raise ValueError(f"n must be in [0, {MAX_SENTENCES}], got {n}")
    rng = rng_for(seed, "sentences")
    topics = tuple(topic_words)
    return [_sentence(rng, topics) for _ in range(n)]


def phrase(rng: random.Random, min_length: int, max_length: int, topics: Sequence[str] = ()) -> str:
    """Words (a sentence, trimmed or extended) whose length lies in ``[min_length, max_length]``."""
    if max_length < min_length:
        raise ValueError(f"max_length {max_length} < min_length {min_length}")
    text = _sentence(rng, topics)
    while len(text) < min_length:
        text = f"{text} {_sentence(rng, topics)}"
    if len(text) > max_length:
        cut = text[:max_length]
        space = cut.rfind(" ")
        if space >= min_length and space > 0:
            cut = cut[:space]
        text = cut.rstrip(" ,") if len(cut.rstrip(" ,")) >= min_length else cut
    return text


def _cap(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut).rstrip(",;:")


def reply(prompt: str, seed: bytes, *, max_chars: int = DEFAULT_REPLY_CHARS) -> str:
    """A chat-model-like answer to ``prompt``: an opening naming its topic, 3–6 sentences, a closing line."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    topics = topic_words(prompt)
    rng = rng_for(seed, "reply", prompt)
    topic = " ".join(topics[:3]) if topics else "your request"
    parts = [rng.choice(_REPLY_OPENINGS).format(topic=topic)]
    parts.extend(_sentence(rng, topics) for _ in range(rng.randint(3, 6)))
    parts.append(rng.choice(_REPLY_CLOSINGS))
    return _cap(" ".join(parts), max_chars)


@dataclass(frozen=True)
class TimedWord:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class TranscriptSegment:
    start: float
    end: float
    text: str
    words: tuple[TimedWord, ...]


@dataclass(frozen=True)
class Transcript:
    text: str
    duration: float
    segments: tuple[TranscriptSegment, ...]


def _segment_words(rng: random.Random, count: int, topics: Sequence[str]) -> list[str]:
    """Whole sentences whose word count is closest to ``count`` (at least one sentence)."""
    words = _sentence(rng, topics).split()
    while len(words) < count:
        more = _sentence(rng, topics).split()
        if abs(len(words) + len(more) - count) > abs(len(words) - count):
            break
        words.extend(more)
    return words


def transcript(
    seed: bytes,
    duration_seconds: float,
    *,
    topic_words: Sequence[str] = (),
    max_segments: int = 2000,
) -> Transcript:
    """A seeded transcript whose segments cover ``[0, duration_seconds]`` exactly, contiguously."""
    if not math.isfinite(duration_seconds) or not 0 <= duration_seconds <= MAX_TRANSCRIPT_SECONDS:
        raise ValueError(
            f"duration_seconds must be finite and in [0, {MAX_TRANSCRIPT_SECONDS}], got {duration_seconds}"
        )
    if max_segments < 1:
        raise ValueError(f"max_segments must be positive, got {max_segments}")
    total = round(duration_seconds, 2)
    if total <= 0:
        return Transcript(text="", duration=0.0, segments=())
    rng = rng_for(seed, "transcript")
    topics = tuple(topic_words)
    floor_length = total / max_segments
    segments: list[TranscriptSegment] = []
    start = 0.0
    while start < total:
        length = max(rng.uniform(2.5, 6.0), floor_length)
        end = round(start + length, 2)
        if total - end < 1.0:
            end = total
        rate = rng.uniform(2.2, 2.8)
        words = _segment_words(rng, max(1, round((end - start) * rate)), topics)
        step = (end - start) / len(words)
        timed = tuple(
            TimedWord(
                text=word,
                start=round(start + i * step, 2),
                end=end if i == len(words) - 1 else round(start + (i + 1) * step, 2),
            )
            for i, word in enumerate(words)
        )
        segments.append(TranscriptSegment(start=start, end=end, text=" ".join(words), words=timed))
        start = end
    return Transcript(text=" ".join(s.text for s in segments), duration=total, segments=tuple(segments))
