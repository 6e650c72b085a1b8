"""Deterministic identifiers: request ids are well-formed UUIDv7s from the clock and a seeded sequence."""

from __future__ import annotations

import itertools
import threading
import uuid

from fal_mock.mock_server.ids import InOrderBatches, id_digest, uuid7_from, uuid7_like


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


def test_request_ids_keep_their_text_across_versions() -> None:
    # ids under a seed and a clock are reproducible: the previous version's id for these
    assert uuid7_from(1_767_225_600.123, id_digest(0, "request", 1)) == uuid7_like(1_767_225_600.123, 0, "request", 1)
    assert uuid7_like(1_767_225_600.123, 0, "request", 1) == PINNED_ID


PINNED_ID = "019b76da-a87b-7bbf-a670-15f9a5ac66de"


def test_batches_give_what_one_by_one_gives_whatever_the_order() -> None:
    made: list[int] = []

    def make(number: int) -> str:
        made.append(number)
        return f"value {number}"

    batches = InOrderBatches(make, batch=8)
    asked = [*range(1, 30), 5, 100, 101, 102, 103, 104, 105, 30, 31, 7, 7, 8]
    assert [batches.get(number) for number in asked] == [f"value {number}" for number in asked]
    assert len(batches._made) < 8  # never more than one batch held
    assert made.count(20) == 1
    assert 111 in made  # a run in order again: values made ahead
    assert made.count(5) == 2  # out of order: made again, one at a time


def test_interleaved_streams_are_made_one_at_a_time() -> None:
    made: list[int] = []
    batches = InOrderBatches(lambda number: made.append(number) or number, batch=64)
    for number in range(1, 400):  # two streams: x, x+1, y, y+1, ... (or a counter shared with another process)
        base = number * 2 if number % 2 else 1000 + number * 2
        batches.get(base)
        batches.get(base + 1)
    assert len(made) == 2 * 399  # nothing made ahead and thrown away


def test_batches_are_thread_safe() -> None:
    made: set[int] = set()
    batches = InOrderBatches(lambda number: made.add(number) or number * 3, batch=16)
    counter = itertools.count(1)
    counter_lock = threading.Lock()
    results: list[tuple[int, int]] = []
    ahead: list[int] = []

    def ask() -> None:
        for _ in range(500):
            with counter_lock:
                number = next(counter)
            if number in made:
                ahead.append(number)
            results.append((number, batches.get(number)))  # in order, but threads overtake each other

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(number for number, _ in results) == list(range(1, 2001))
    assert all(value == number * 3 for number, value in results)
    assert len(ahead) > 500  # most values were made ahead, in batches
