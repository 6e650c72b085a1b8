"""Deterministic numbers from seed bytes (private helper).

:class:`SeededStream` is SHA-256 in counter mode over ``(purpose, seed)``: the same purpose and
seed give the same numbers in any process and on any machine (no ``random``, no ``hash()``).
``purpose`` separates the streams of different generators fed the same seed.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from typing import TypeVar

from .errors import MediaError

__all__ = ["SeededStream", "derive_key", "seed_bytes"]

T = TypeVar("T")


def seed_bytes(seed: object) -> bytes:
    """``seed`` as bytes; anything but bytes, bytearray or memoryview is a :class:`.errors.MediaError`.

    (``bytes(5)`` would silently be five zero bytes, and a ``str`` has no single encoding.)
    """
    if isinstance(seed, bytes | bytearray | memoryview):
        return bytes(seed)
    raise MediaError(f"seed must be bytes, got {type(seed).__name__}")


def derive_key(purpose: str, *parts: bytes) -> bytes:
    """32 bytes from ``purpose`` and ``parts``, each part length-prefixed (no ambiguity between splits)."""
    h = hashlib.sha256(b"fal-mock/media/" + purpose.encode("ascii") + b"\0")
    for part in parts:
        h.update(struct.pack(">Q", len(part)))
        h.update(part)
    return h.digest()


class SeededStream:
    """A stream of deterministic pseudo-random values (an instance is used by one generator call)."""

    __slots__ = ("_buffer", "_counter", "_key", "_pos")

    def __init__(self, purpose: str, *parts: bytes) -> None:
        self._key = derive_key(purpose, *parts)
        self._counter = 0
        self._buffer = b""
        self._pos = 0

    def _take(self, n: int) -> bytes:
        if self._pos + n > len(self._buffer):
            blocks = []
            for _ in range(4):
                blocks.append(hashlib.sha256(self._key + struct.pack(">Q", self._counter)).digest())
                self._counter += 1
            self._buffer = self._buffer[self._pos :] + b"".join(blocks)
            self._pos = 0
        out = self._buffer[self._pos : self._pos + n]
        self._pos += n
        return out

    def raw(self, n: int) -> bytes:
        """``n`` bytes straight from the stream."""
        blocks = [self._take(min(64, n - i)) for i in range(0, n, 64)]
        return b"".join(blocks)

    def u32(self) -> int:
        return int.from_bytes(self._take(4), "big")

    def below(self, n: int) -> int:
        """An integer in ``[0, n)`` (64-bit draw, modulo: the bias is below 2**-32 for the small n used)."""
        if n < 1:
            raise ValueError("below() needs n >= 1")
        return int.from_bytes(self._take(8), "big") % n

    def between(self, lo: int, hi: int) -> int:
        """An integer in ``[lo, hi]``."""
        return lo + self.below(hi - lo + 1)

    def unit(self) -> float:
        """A float in ``[0, 1)`` with 53 random bits (exact, so identical everywhere)."""
        return (int.from_bytes(self._take(8), "big") >> 11) / 9007199254740992.0

    def uniform(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.unit()

    def choice(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]
