"""A least-recently-used map bounded in bytes: the memory behind the output cache and the validated-input memo."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ByteBoundedLRU(Generic[K, V]):
    """Values with their size in bytes (the caller's measure), at most ``max_bytes`` in all (thread-safe).

    :meth:`put` keeps a value unless it alone exceeds the budget, then drops the least recently used
    entries until the rest fits; :meth:`get` marks an entry used.  ``max_bytes`` 0 keeps nothing.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: K, value: V, size: int) -> list[K] | None:
        """Keep ``value`` (replacing ``key``'s); returns the keys it dropped (``key``'s old entry among them), or
        None when ``value`` alone is over the budget and nothing changed."""
        if size > self.max_bytes:
            return None
        dropped: list[K] = []
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
                dropped.append(key)
            self._items[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                evicted, (_, evicted_size) = self._items.popitem(last=False)
                self._bytes -= evicted_size
                dropped.append(evicted)
        return dropped
