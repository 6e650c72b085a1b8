"""Bit-level writing for H.264: Exp-Golomb codes, RBSP trailing bits, emulation prevention, NAL units.

Choices:

* Bits are kept as ``str`` pieces of ``"0"``/``"1"`` and turned into bytes once, with
  ``int(bits, 2).to_bytes(...)``. For the few hundred to few thousand bits of a header or
  a P slice this is faster in CPython than shifting an integer per field, and it lets the
  slice-data writers (:mod:`.slicedata`) cache and repeat whole macroblock codes with plain
  string multiplication.
* ``ue(v)``/``se(v)`` codes for small values come from tables built at import time; they
  are immutable tuples (no module-level mutable state).
* Emulation prevention (7.4.1) is a single regular-expression substitution: ``00 00``
  followed by a byte ``<= 03`` gets an ``03`` inserted. A match consumes the two zero
  bytes, so ``00 00 00 00`` correctly becomes ``00 00 03 00 00 03 ...`` when followed by
  a low byte.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "BitWriter",
    "bits_to_bytes",
    "nal_unit",
    "rbsp_to_ebsp",
    "se_bits",
    "ue_bits",
]

_TABLE_SIZE: Final = 4096


def _ue_uncached(value: int) -> str:
    code = format(value + 1, "b")
    return "0" * (len(code) - 1) + code


_UE_TABLE: Final[tuple[str, ...]] = tuple(_ue_uncached(v) for v in range(_TABLE_SIZE))


def ue_bits(value: int) -> str:
    """Unsigned Exp-Golomb code ``ue(v)`` (9.1) as a bit string."""
    if value < 0:
        raise ValueError(f"ue(v) needs a non-negative value, got {value}")
    if value < _TABLE_SIZE:
        return _UE_TABLE[value]
    return _ue_uncached(value)


def se_bits(value: int) -> str:
    """Signed Exp-Golomb code ``se(v)`` (9.1.1): k > 0 maps to 2k - 1, k <= 0 to -2k."""
    return ue_bits(2 * value - 1 if value > 0 else -2 * value)


class BitWriter:
    """Collects syntax elements most-significant bit first (the order of the H.264 syntax)."""

    __slots__ = ("_length", "_parts")

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0

    def __len__(self) -> int:
        """Number of bits written so far."""
        return self._length

    def bits(self, bits: str) -> BitWriter:
        """Append a ready-made bit string."""
        self._parts.append(bits)
        self._length += len(bits)
        return self

    def u(self, width: int, value: int) -> BitWriter:
        """Fixed-length unsigned field ``u(n)``."""
        if width <= 0 or not 0 <= value < (1 << width):
            raise ValueError(f"value {value} does not fit in u({width})")
        return self.bits(format(value, f"0{width}b"))

    def flag(self, value: bool) -> BitWriter:
        """One-bit flag ``u(1)``."""
        return self.bits("1" if value else "0")

    def ue(self, value: int) -> BitWriter:
        """``ue(v)``."""
        return self.bits(ue_bits(value))

    def se(self, value: int) -> BitWriter:
        """``se(v)``."""
        return self.bits(se_bits(value))

    def byte_aligned(self) -> bool:
        return self._length % 8 == 0

    def align_zero(self) -> BitWriter:
        """Zero bits up to the next byte boundary (``pcm_alignment_zero_bit``)."""
        return self.bits("0" * (-self._length % 8))

    def trailing_bits(self) -> BitWriter:
        """``rbsp_trailing_bits()``: a stop bit 1, then zeros to the byte boundary."""
        self.bits("1")
        return self.align_zero()

    def to_bits(self) -> str:
        return "".join(self._parts)

    def to_bytes(self) -> bytes:
        """The bits written so far; the writer must be byte-aligned."""
        if self._length % 8:
            raise ValueError(f"bit writer is not byte-aligned ({self._length} bits)")
        return bits_to_bytes(self.to_bits())


def bits_to_bytes(bits: str) -> bytes:
    """Pack a bit string whose length is a multiple of 8."""
    if len(bits) % 8:
        raise ValueError("bit string length must be a multiple of 8")
    if not bits:
        return b""
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


_EMULATION: Final = re.compile(rb"\x00\x00(?=[\x00-\x03])")


def rbsp_to_ebsp(rbsp: bytes) -> bytes:
    """Insert ``emulation_prevention_three_byte`` where 7.4.1 requires it."""
    return _EMULATION.sub(b"\x00\x00\x03", rbsp)


def nal_unit(nal_ref_idc: int, nal_unit_type: int, rbsp: bytes) -> bytes:
    """One NAL unit (header byte + escaped payload), without a start code or length prefix."""
    if not 0 <= nal_ref_idc <= 3 or not 0 < nal_unit_type < 32:
        raise ValueError("bad NAL header fields")
    return bytes(((nal_ref_idc << 5) | nal_unit_type,)) + rbsp_to_ebsp(rbsp)
