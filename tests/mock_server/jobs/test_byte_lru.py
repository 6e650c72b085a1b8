"""The byte-bounded LRU behind the output cache and the validated-input memo."""

from __future__ import annotations

from fal_mock.mock_server.jobs.byte_lru import ByteBoundedLRU


def test_it_keeps_within_its_bytes_dropping_the_least_recently_used() -> None:
    lru: ByteBoundedLRU[str, int] = ByteBoundedLRU(100)
    assert lru.put("a", 1, 40) == []
    assert lru.put("b", 2, 40) == []
    assert lru.get("a") == 1  # used: "b" is now the oldest
    assert lru.put("c", 3, 40) == ["b"]
    assert (lru.get("b"), lru.get("a"), lru.get("c")) == (None, 1, 3)
    assert (len(lru), lru.total_bytes) == (2, 80)


def test_a_replaced_key_is_reported_and_an_oversized_value_changes_nothing() -> None:
    lru: ByteBoundedLRU[str, str] = ByteBoundedLRU(100)
    lru.put("a", "old", 30)
    assert lru.put("a", "new", 50) == ["a"]
    assert (lru.get("a"), lru.total_bytes) == ("new", 50)
    assert lru.put("huge", "x", 101) is None
    assert (len(lru), lru.total_bytes, lru.get("huge")) == (1, 50, None)
    off: ByteBoundedLRU[str, str] = ByteBoundedLRU(0)
    assert off.put("a", "x", 1) is None
    assert len(off) == 0
