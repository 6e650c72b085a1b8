"""Deterministic identifiers: request ids are well-formed UUIDv7s from the clock and a seeded sequence."""

from __future__ import annotations

import uuid

from fal_mock.mock_server.ids import uuid7_like


def test_request_ids_are_canonical_uuid7_text_from_the_clock_and_the_seeded_sequence() -> None:
    for sequence in range(500):
        text = uuid7_like(1_767_225_600.123 + sequence, 42, "request", sequence)
        parsed = uuid.UUID(text)
        assert str(parsed) == text  # canonical: lower-case hex, hyphens at 8-4-4-4-12
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122
        assert parsed.int >> 80 == int((1_767_225_600.123 + sequence) * 1000)  # the clock's milliseconds
    assert uuid7_like(5.0, 1, "request", 1) == uuid7_like(5.0, 1, "request", 1)
    assert len({uuid7_like(5.0, seed, "request", 1) for seed in range(50)}) == 50
    assert uuid7_like(0.0, 0, "request", 0).startswith("00000000-0000-7")
