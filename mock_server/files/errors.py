"""The storage error family: what :class:`~.store.FileStore` and the blob sinks of :mod:`.blobs` raise.

A module of its own (rather than in :mod:`.store`) because both the file store and the
blob layer below it raise them: :class:`FileTooLarge` is enforced by the store and, while
bytes stream in, by :class:`~.blobs.BlobSink`.  The HTTP handlers (:mod:`..edge.api.storage`)
turn each into fal's error shape.
"""

from __future__ import annotations

from ..jobs.errors import DomainError


class StorageError(DomainError):
    """Base of storage failures."""


class FileTooLarge(StorageError):
    def __init__(self, size: int, max_size: int, what: str = "file") -> None:
        super().__init__(f"{what} of {size} bytes or more is larger than the limit of {max_size} bytes")
        self.size = size
        self.max_size = max_size


class StoreFull(StorageError):
    def __init__(self, needed: int, max_total: int) -> None:
        super().__init__(
            f"storage is full: {needed} more bytes do not fit in {max_total} bytes "
            "(everything that could be evicted was; the rest is in use)"
        )
        self.needed = needed
        self.max_total = max_total


class FileExists(StorageError):
    """A write names the key of a stored file it did not create: stored files are immutable."""

    def __init__(self, key: str) -> None:
        shown = key if len(key) <= 160 else key[:160] + "…"
        super().__init__(f"{shown} already holds a stored file, and stored files cannot be replaced")
        self.key = key


class UnknownUpload(StorageError):
    """No multipart upload with that id (never begun, completed, expired or dropped)."""


class InvalidParts(StorageError):
    """A multipart request names parts that do not exist or do not match."""


class TooManyParts(StorageError):
    def __init__(self, part_number: int, max_parts: int) -> None:
        super().__init__(f"part number {part_number} is beyond the limit of {max_parts} parts per upload")
        self.part_number = part_number
        self.max_parts = max_parts

