"""Blob bytes: where the content-addressed bytes behind stored files (and multipart parts) live.

A blob is named by the SHA-256 of its bytes (:data:`SHA`); the file index and the
reference counts are :class:`~.store.FileStore`'s, which decides *when* bytes are
placed or removed (inside its index transaction).  This module only holds them, in
one of two backends (:class:`Blobs`):

* :class:`MemoryBlobs` — a dict in memory (the default);
* :class:`DiskBlobs` — ``<data_dir>/blobs/<sha256>``, multipart parts under
  ``<data_dir>/parts/<upload id>/<part number>``, so several worker processes share
  them.  New bytes are written to a temporary file under ``<data_dir>/incoming/``
  while they stream in and moved into place with ``os.replace`` — a reader never
  sees half a file.

New bytes arrive through a :class:`BlobSink` (hashed, counted and capped as they
stream in: :class:`~.errors.FileTooLarge` as soon as they pass the cap), and
are read back a chunk at a time (:func:`chunks`), never held in memory at once.
Names are checked before they become paths (:data:`SHA`, :func:`valid_upload_id`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

from .errors import FileTooLarge

#: The shape of a blob's name: the hex SHA-256 of its bytes.
SHA = re.compile(r"^[0-9a-f]{64}$")
_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{21}$")


def valid_upload_id(upload_id: str) -> bool:
    return bool(_UPLOAD_ID.match(upload_id))


class BlobSink:
    """The bytes of one new blob as they arrive: hashed, counted, capped; in memory or a temp file."""

    def __init__(self, limit: int, directory: Path | None, what: str = "file") -> None:
        self.limit = limit
        self.what = what
        self.size = 0
        self._hash = hashlib.sha256()
        self._buffer: bytearray | None = None
        self._file: IO[bytes] | None = None
        self.path: Path | None = None
        if directory is None:
            self._buffer = bytearray()
        else:
            fd, name = tempfile.mkstemp(dir=directory, prefix=".incoming-")
            self._file = os.fdopen(fd, "wb")
            self.path = Path(name)
        self._finished = False

    def write(self, chunk: bytes) -> None:
        if self.size + len(chunk) > self.limit:
            raise FileTooLarge(self.size + len(chunk), self.limit, self.what)
        self.size += len(chunk)
        self._hash.update(chunk)
        if self._buffer is not None:
            self._buffer += chunk
        elif self._file is not None:
            self._file.write(chunk)

    def finish(self) -> None:
        """No more bytes: flush (and fsync) the temp file."""
        if self._finished:
            return
        self._finished = True
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def data(self) -> bytes:
        if self._buffer is not None:
            return bytes(self._buffer)
        assert self.path is not None
        return self.path.read_bytes()

    def take_buffer(self) -> bytearray:
        """The in-memory bytes themselves, handed over without a copy (the sink is done with them)."""
        assert self._buffer is not None, "only an in-memory sink has a buffer"
        buffer, self._buffer = self._buffer, None
        return buffer

    def discard(self) -> None:
        self._finished = True
        self._buffer = None
        if self._file is not None and not self._file.closed:
            self._file.close()
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def __enter__(self) -> BlobSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


class _Reader(Protocol):
    """What :func:`chunks` needs of an open blob: a file, or a view of bytes in memory."""

    def seek(self, offset: int, /) -> int: ...

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class _BufferReader:
    """Reads a slice at a time from bytes held in memory, never copying the whole buffer."""

    def __init__(self, buffer: bytearray) -> None:
        self._view = memoryview(buffer)
        self._position = 0

    def seek(self, offset: int, /) -> int:
        self._position = max(0, offset)
        return self._position

    def read(self, size: int = -1, /) -> bytes:
        end = len(self._view) if size < 0 else min(len(self._view), self._position + size)
        data = bytes(self._view[self._position : end])
        self._position = max(self._position, end)
        return data

    def close(self) -> None:
        self._view.release()


class Blobs(Protocol):
    """Where blob and part bytes live."""

    def sink(self, limit: int, what: str) -> BlobSink: ...

    def place(self, sha: str, sink: BlobSink) -> None: ...

    def remove(self, sha: str) -> None: ...

    def open(self, sha: str) -> _Reader | None: ...

    def place_part(self, upload_id: str, part_number: int, sink: BlobSink) -> None: ...

    def open_part(self, upload_id: str, part_number: int) -> _Reader | None: ...

    def remove_parts(self, upload_id: str) -> None: ...


class MemoryBlobs:
    def __init__(self) -> None:
        self._data: dict[str, bytearray] = {}
        self._parts: dict[tuple[str, int], bytearray] = {}

    def sink(self, limit: int, what: str) -> BlobSink:
        return BlobSink(limit, None, what)

    def place(self, sha: str, sink: BlobSink) -> None:
        sink.finish()
        if sha not in self._data:
            self._data[sha] = sink.take_buffer()
        sink.discard()

    def remove(self, sha: str) -> None:
        self._data.pop(sha, None)

    def open(self, sha: str) -> _Reader | None:
        data = self._data.get(sha)
        return None if data is None else _BufferReader(data)

    def place_part(self, upload_id: str, part_number: int, sink: BlobSink) -> None:
        sink.finish()
        self._parts[(upload_id, part_number)] = sink.take_buffer()
        sink.discard()

    def open_part(self, upload_id: str, part_number: int) -> _Reader | None:
        data = self._parts.get((upload_id, part_number))
        return None if data is None else _BufferReader(data)

    def remove_parts(self, upload_id: str) -> None:
        for key in [key for key in self._parts if key[0] == upload_id]:
            del self._parts[key]


class DiskBlobs:
    def __init__(self, root: Path) -> None:
        self.blobs = root / "blobs"
        self.parts = root / "parts"
        self.incoming = root / "incoming"
        for folder in (self.blobs, self.parts, self.incoming):
            folder.mkdir(parents=True, exist_ok=True)

    def sink(self, limit: int, what: str) -> BlobSink:
        return BlobSink(limit, self.incoming, what)

    def _path(self, sha: str) -> Path:
        if not SHA.match(sha):
            raise ValueError(f"not a sha256: {sha!r}")
        return self.blobs / sha

    def place(self, sha: str, sink: BlobSink) -> None:
        sink.finish()
        assert sink.path is not None
        os.replace(sink.path, self._path(sha))

    def remove(self, sha: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(sha).unlink()

    def open(self, sha: str) -> IO[bytes] | None:
        try:
            return open(self._path(sha), "rb")
        except FileNotFoundError:
            return None

    def _part_path(self, upload_id: str, part_number: int) -> Path:
        if not valid_upload_id(upload_id):
            raise ValueError(f"not an upload id: {upload_id!r}")
        return self.parts / upload_id / str(int(part_number))

    def place_part(self, upload_id: str, part_number: int, sink: BlobSink) -> None:
        sink.finish()
        assert sink.path is not None
        target = self._part_path(upload_id, part_number)
        target.parent.mkdir(exist_ok=True)
        os.replace(sink.path, target)

    def open_part(self, upload_id: str, part_number: int) -> IO[bytes] | None:
        try:
            return open(self._part_path(upload_id, part_number), "rb")
        except FileNotFoundError:
            return None

    def remove_parts(self, upload_id: str) -> None:
        if valid_upload_id(upload_id):
            shutil.rmtree(self.parts / upload_id, ignore_errors=True)


def chunks(handle: _Reader, start: int, end: int, chunk: int) -> Iterator[bytes]:
    try:
        handle.seek(start)
        remaining = end - start
        while remaining > 0:
            data = handle.read(min(chunk, remaining))
            if not data:
                return
            remaining -= len(data)
            yield data
    finally:
        handle.close()

