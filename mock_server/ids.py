"""Deterministic identifiers.

Request ids look like the ones fal hands out today: UUIDv7 (48-bit millisecond
timestamp, version 7, RFC 4122 variant).  The timestamp comes from the app's
clock and the random bits from ``sha256(seed, kind, sequence)``, where the
sequence is a counter kept by the state store, so the same seed, clock and order
of requests give the same ids in any process (and several worker processes that
share a store never hand out the same id).
"""

from __future__ import annotations

import hashlib


def uuid7_like(timestamp: float, seed: int, kind: str, sequence: int) -> str:
    """A UUIDv7-shaped id from a clock reading and a seeded sequence number."""
    millis = int(timestamp * 1000) & ((1 << 48) - 1)
    digest = hashlib.sha256(f"{seed}:{kind}:{sequence}".encode()).digest()
    rand_a = int.from_bytes(digest[:2], "big") & 0x0FFF
    rand_b = int.from_bytes(digest[2:10], "big") & ((1 << 62) - 1)
    value = (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    text = f"{value:032x}"  # what str(uuid.UUID(int=value)) gives, without building the UUID
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def short_token(seed: int, kind: str, sequence: int, length: int = 21) -> str:
    """A URL-safe token shaped like fal's file ids (``rIFaCsyWvBxYBKw3cPbOU``)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    digest = hashlib.sha256(f"{seed}:{kind}:{sequence}".encode()).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "".join(chars)


def digest_int(*parts: object) -> int:
    """A stable 64-bit integer from ``parts`` (for seeded, reproducible choices)."""
    text = "\x1f".join(map(str, parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
