"""Seeded sentences, replies and transcripts: readable, deterministic, and timed to cover the audio."""

from __future__ import annotations

import itertools
import math
import re

import pytest
from fal_mock.mock_server.outputs import text
from hypothesis import given, settings
from hypothesis import strategies as st

SENTENCE = re.compile(r"^[A-Z][A-Za-z ,'-]+[.]$")


def test_sentences_read_like_sentences() -> None:
    out = text.sentences(b"seed", 40, ["lighthouse"])
    assert len(out) == 40
    assert all(SENTENCE.match(s) for s in out), out
    assert all(3 <= len(s.split()) <= 20 for s in out)
    assert sum("lighthouse" in s for s in out) >= 3  # topic words show up
    assert len(set(out)) > 30  # not one sentence repeated


def test_sentences_are_deterministic_and_seed_dependent() -> None:
    assert text.sentences(b"a", 5) == text.sentences(b"a", 5)
    assert text.sentences(b"a", 5) != text.sentences(b"b", 5)
    assert text.sentences(b"a", 0) == []
    with pytest.raises(ValueError, match="n must be"):
        text.sentences(b"a", -1)


def test_topic_words() -> None:
    assert text.topic_words("Write a short story about an AI that learns to dream.") == ("short", "story", "dream")
    assert text.topic_words("") == ()
    many = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima"
    assert text.topic_words(many) == tuple(many.split()[: text.MAX_TOPIC_WORDS])


def test_reply_answers_the_prompt() -> None:
    prompt = "Explain how tides work near a harbor"
    answer = text.reply(prompt, b"s")
    assert "tides" in answer
    assert answer == text.reply(prompt, b"s")
    assert answer != text.reply("Describe a volcano", b"s")
    assert len(re.findall(r"[.:!?]", answer)) >= 4
    assert len(text.reply(prompt, b"s", max_chars=50)) <= 50
    assert text.reply("", b"s").startswith(("Here", "Good", "Let", "A few", "Sure"))


@settings(max_examples=150, deadline=None)
@given(duration=st.floats(0, 4000, allow_nan=False), seed=st.binary(max_size=8), limit=st.integers(1, 3000))
def test_transcript_covers_the_duration(duration: float, seed: bytes, limit: int) -> None:
    result = text.transcript(seed, duration, max_segments=limit)
    total = round(duration, 2)
    if total == 0:
        assert result.segments == ()
        assert result.text == ""
        return
    segments = result.segments
    assert segments[0].start == 0
    assert segments[-1].end == total
    assert result.duration == total
    assert len(segments) <= limit + 1
    for before, after in itertools.pairwise(segments):
        assert before.end == after.start
    for segment in segments:
        assert segment.start < segment.end
        assert segment.words
        assert segment.words[0].start == segment.start
        assert segment.words[-1].end == segment.end
        assert all(w.start <= w.end for w in segment.words)
        assert " ".join(w.text for w in segment.words) == segment.text
        assert segment.text.endswith(".")
    assert result.text == " ".join(s.text for s in segments)


def test_transcript_speaking_rate_is_plausible() -> None:
    result = text.transcript(b"x", 300.0)
    words = sum(len(s.words) for s in result.segments)
    assert 1.5 <= words / 300 <= 4.0
    assert all(1.0 <= s.end - s.start <= 7.0 for s in result.segments)


@pytest.mark.parametrize("bad", [-1.0, math.inf, math.nan, text.MAX_TRANSCRIPT_SECONDS + 1])
def test_transcript_rejects_bad_durations(bad: float) -> None:
    with pytest.raises(ValueError, match="duration_seconds"):
        text.transcript(b"x", bad)


def test_phrase_respects_length_bounds() -> None:
    import random

    for low, high in [(1, 5), (10, 10), (40, 80), (300, 320)]:
        phrase = text.phrase(random.Random(low), low, high)
        assert low <= len(phrase) <= high
