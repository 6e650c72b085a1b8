"""Stored files: uploaded files, generated videos and multipart uploads, in one bounded store.

:class:`FileStore` is the store the app holds (``MockServices.files``).  It is split
over four modules:

* here — the file index and its rules: **files** are what fal's CDN serves: a key
  shaped like fal's (``<bucket>/<21-char id>_<name>``), a content type, an expiry on
  the mock's clock (``X-Fal-Object-Lifecycle``) and the blob it points at;
  **multipart uploads** are sessions and their parts until ``complete`` joins them;
  **blob reference counts**: the same video served as a file and inlined as a
  ``data:`` URI by another job is held once; plus the key and file-name helpers;
* :mod:`.blobs` — the bytes themselves (content-addressed by SHA-256), in memory or
  on disk, streamed in and out in chunks;
* :mod:`.upload_auth` — the CDN tokens and signed upload URLs (stateless HMACs keyed
  by the server secret of :mod:`.secret`, so any worker process sharing the data
  directory can check them and nobody else can forge them);
* :mod:`.errors` — the errors all of them raise.

Where things live.  The index (files, blob reference counts, multipart sessions) is
always SQLite: ``:memory:`` by default, ``<data_dir>/files.sqlite3`` in WAL mode when
``Settings.data_dir`` is set, so several worker processes share one store (writes take
``BEGIN IMMEDIATE``; each process serialises its own threads on one connection).  The
counters behind keys live with it in the shared database, and in Python in a private
in-memory one.  Blob bytes are placed (and removed) inside the index
transaction, so a reader never sees a file whose bytes are not there.
A private in-memory store also keeps back the rows of files made over bytes it already holds
(:meth:`FileStore.put_held`: a cached output's files, one per job) and writes them, with their
blob references, in one transaction just before its next read or write of the database — at
most :data:`MAX_PENDING_HELD_FILES` wait; every read sees them, and nothing can drop their
bytes meanwhile, since every change to the blobs is such a write.
This file store is self-contained: the job store keeps its own database.

Keys and types.  File keys and multipart upload ids are HMACs of the server secret
(:mod:`.secret`) over the seed and a counter: unguessable, and reproducible only under a
pinned ``signing_secret``.  A stored file is immutable (:meth:`FileStore.put_sink` with a
``key``).  A content type that is not a plausible media type of printable ASCII (at most
:data:`MAX_CONTENT_TYPE_LENGTH` characters) is stored as ``application/octet-stream``.

Limits.  A per-file cap (:class:`~.errors.FileTooLarge`, also enforced while
bytes stream in) and a total cap over all blobs and pending multipart parts.  When something
new does not fit, files are evicted in this order until it does: expired files
(oldest first), then files nobody references (oldest first), then outputs that
retained job results point at; files named by an unfinished job's input are never
evicted, nor are blobs that inline results hold.  If it still does not fit, the
write fails with :class:`~.errors.StoreFull` and nothing is changed.  Who references what
comes from a provider the app wires in (:meth:`FileStore.set_reference_provider`).
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..clock import Clock
from ..ids import InOrderBatches
from ..strict_json import loads_strict
from .blobs import SHA, Blobs, BlobSink, DiskBlobs, MemoryBlobs, chunks, valid_upload_id
from .errors import FileExists, FileTooLarge, InvalidParts, StoreFull, TooManyParts, UnknownUpload
from .secret import SecretMac, server_secret
from .upload_auth import CdnToken, UploadAuthority

if TYPE_CHECKING:
    from ..settings import Settings

#: Bucket names of fal's v3 CDN URLs (``https://v3.fal.media/files/<animal>/...``).
BUCKETS = (
    "elephant", "kangaroo", "koala", "lion", "monkey", "panda", "penguin", "rabbit", "tiger", "zebra",
)  # fmt: skip

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_KEY = re.compile(
    r"^(?P<bucket>[a-z0-9]+(?:/[0-9a-f]{8})?)/(?P<token>[A-Za-z0-9_-]{21})_(?P<name>[A-Za-z0-9_-][A-Za-z0-9._-]{0,119})$"
)
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(?:[ \t]*;[\x20-\x7e]*)?")
#: Longest content type a stored file keeps (longer ones are stored as ``application/octet-stream``).
MAX_CONTENT_TYPE_LENGTH = 255
#: Longest key :func:`parse_key` will look at (the shape allows at most ~160 characters).
MAX_KEY_LENGTH = 256
#: Files an in-memory store keeps back from its database at most (see :meth:`FileStore.put_held`).
MAX_PENDING_HELD_FILES = 64
#: Chunk size for streaming reads and multipart assembly.
CHUNK = 256 * 1024


@dataclass
class StoredFile:
    key: str
    file_name: str
    content_type: str
    size: int
    sha256: str
    created_at: float
    expires_at: float | None
    origin: str
    namespace: str

    @property
    def etag(self) -> str:
        return f'"{self.sha256[:32]}"'

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "file_name": self.file_name,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "origin": self.origin,
            "namespace": self.namespace,
        }


@dataclass(frozen=True)
class MultipartSession:
    upload_id: str
    key: str
    file_name: str
    content_type: str
    #: Seconds the finished file lives (lifecycle), None = no expiry.
    lifetime: float | None
    namespace: str
    origin: str
    created_at: float
    #: The session is dropped after this moment on the clock.
    deadline: float


@dataclass(frozen=True)
class PartInfo:
    part_number: int
    size: int
    etag: str


@dataclass(frozen=True)
class FileRefs:
    """Who holds on to which file keys (for eviction)."""

    #: Inputs of unfinished jobs: never evicted.
    pinned: frozenset[str] = frozenset()
    #: Outputs of retained job results: evicted last.
    retained: frozenset[str] = frozenset()


ReferenceProvider = Callable[[], FileRefs]


def safe_file_name(name: str | None, default: str = "upload.bin") -> str:
    """A file name fit for a URL path segment: basename only, odd characters replaced."""
    if not name:
        return default
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_NAME.sub("_", base).strip("._") or default
    if len(cleaned) > 120:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = (stem[: 119 - len(ext)] + dot + ext) if dot and len(ext) < 16 else cleaned[:120]
    return cleaned


def default_file_name(content_type: str | None) -> str:
    """``upload.<subtype>`` for a nameless upload (``image/jpeg`` → ``upload.jpeg``), as the JS client names them."""
    _, _, subtype = (content_type or "").partition("/")
    subtype = re.split(r"[-;+ ]", subtype, maxsplit=1)[0].strip().lower()
    return f"upload.{subtype}" if re.fullmatch(r"[a-z0-9.]{1,16}", subtype) else "upload.bin"


def safe_content_type(value: str | None) -> str:
    """``value`` if it is a plausible media type (``type/subtype`` + parameters, printable ASCII, at most
    :data:`MAX_CONTENT_TYPE_LENGTH` characters), else ``application/octet-stream``.

    Uploaders choose the type (a header, or ``initiate``'s JSON field, which may hold anything): a
    line break in it would split the served response's headers, a non-Latin-1 character made serving a 500.
    """
    text = (value or "").strip()
    if len(text) > MAX_CONTENT_TYPE_LENGTH or not _CONTENT_TYPE.fullmatch(text):
        return "application/octet-stream"
    return text


def parse_key(key: str) -> re.Match[str] | None:
    """Match ``key`` against fal's file-key shape (rejects traversal and anything odd)."""
    if len(key) > MAX_KEY_LENGTH:
        return None
    return _KEY.match(key)


def lifecycle_seconds(header: str | None) -> float | None:
    """Seconds until expiry from an ``X-Fal-Object-Lifecycle(-Preference)`` JSON value.

    ``{"expiration_duration_seconds": N}`` → N; a missing or null field → None (no
    expiry; fal-client's ``expires_in="never"`` omits it).  fal treats 0 as "no
    expiration" (fal-client's comment on ``immediate``), and so does the mock.  Other
    keys (``initial_acl``) are accepted and ignored: the mock has no ACLs.  Raises
    ``ValueError`` for text that is not such an object.
    """
    if header is None or not header.strip():
        return None
    try:
        value = loads_strict(header)
    except ValueError as error:  # NaN/Infinity, 1e400, lone surrogates, deep nesting: refused
        raise ValueError(f"it is not strict JSON ({error})") from None
    if not isinstance(value, dict):
        raise ValueError("it is not a JSON object")
    seconds = value.get("expiration_duration_seconds")
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise ValueError("expiration_duration_seconds must be a non-negative number or null")
    return float(seconds) if seconds > 0 else None


# --- the store ---------------------------------------------------------------------------------
_SCHEMA = """
CREATE TABLE IF NOT EXISTS blobs (sha TEXT PRIMARY KEY, size INTEGER NOT NULL, refs INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    key TEXT PRIMARY KEY, file_name TEXT NOT NULL, content_type TEXT NOT NULL, size INTEGER NOT NULL,
    sha TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL, origin TEXT NOT NULL,
    namespace TEXT NOT NULL, seq INTEGER NOT NULL
);
-- no index by age: listing and eviction read every row anyway (sorting them is cheap next to that), and keeping
-- one cost every stored file an index insert (measured: ~5% of an in-process fal_client.subscribe cycle)
DROP INDEX IF EXISTS files_by_age;
CREATE INDEX IF NOT EXISTS files_by_expiry ON files (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY, key TEXT NOT NULL, file_name TEXT NOT NULL, content_type TEXT NOT NULL,
    lifetime REAL, namespace TEXT NOT NULL, origin TEXT NOT NULL, created_at REAL NOT NULL, deadline REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
"""
_FILE_COLUMNS = "key, file_name, content_type, size, sha, created_at, expires_at, origin, namespace"
#: A file's index row (:meth:`FileStore._new_file` makes its values).
_INSERT_FILE = f"INSERT INTO files ({_FILE_COLUMNS}, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def _stored(row: tuple[Any, ...]) -> StoredFile:
    return StoredFile(
        key=row[0],
        file_name=row[1],
        content_type=row[2],
        size=int(row[3]),
        sha256=row[4],
        created_at=float(row[5]),
        expires_at=None if row[6] is None else float(row[6]),
        origin=row[7],
        namespace=row[8],
    )


def _session(row: tuple[Any, ...]) -> MultipartSession:
    return MultipartSession(
        upload_id=row[0],
        key=row[1],
        file_name=row[2],
        content_type=row[3],
        lifetime=None if row[4] is None else float(row[4]),
        namespace=row[5],
        origin=row[6],
        created_at=float(row[7]),
        deadline=float(row[8]),
    )


@dataclass
class _Transaction:
    conn: sqlite3.Connection
    #: Blobs whose last reference went in this transaction: their bytes go just before COMMIT.
    doomed: set[str] = field(default_factory=set)
    #: Multipart uploads dropped in this transaction: their parts go just before COMMIT.
    dropped_uploads: set[str] = field(default_factory=set)
    #: Blobs whose bytes were put in place in this transaction (taken back on ROLLBACK).
    placed: set[str] = field(default_factory=set)


class FileStore:
    """Blobs, files and multipart uploads, bounded by a per-file and a total cap."""

    def __init__(
        self,
        clock: Clock,
        *,
        seed: int,
        max_file_bytes: int,
        secret: bytes | None = None,
        max_total_bytes: int,
        data_dir: str | os.PathLike[str] | None = None,
        max_part_bytes: int | None = None,
        max_parts: int = 10_000,
        max_pending_uploads: int = 64,
        token_ttl: float = 3600.0,
        url_ttl: float = 3600.0,
        cdn_upload_fault_status: int = 0,
    ) -> None:
        self._clock = clock
        self._seed = seed
        #: Keys the upload authority, file keys and upload ids (:mod:`.secret`): given, kept in ``data_dir``, or random.
        self._secret = secret if secret is not None else server_secret(None, data_dir)
        self._mac = SecretMac(self._secret)
        #: File key prefixes, made in batches while files are numbered in order (see :class:`~..ids.InOrderBatches`).
        self._key_prefixes = InOrderBatches(self._key_prefix)
        self.max_file_bytes = max_file_bytes
        self.max_total_bytes = max_total_bytes
        self.max_part_bytes = max_part_bytes if max_part_bytes is not None else max_file_bytes
        self.max_parts = max_parts
        self.max_pending_uploads = max_pending_uploads
        self.authority = UploadAuthority(clock, secret=self._secret, token_ttl=token_ttl, url_ttl=url_ttl)
        #: HTTP status the CDN's direct upload answers instead of storing (0 = off): a fault switch.
        self.cdn_upload_fault_status = cdn_upload_fault_status
        self._references: ReferenceProvider = FileRefs
        self._lock = threading.RLock()
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self._blobs: Blobs
        #: The counters of an in-memory store (see :meth:`_next`); None: in the database, shared by processes.
        self._counters: dict[str, int] | None = None
        #: An in-memory store's files over held blobs not yet in its database (their index rows), and the sizes of
        #: blobs known to be held since the last write (see :meth:`put_held`).
        self._held_files: list[tuple[Any, ...]] = []
        self._held_sizes: dict[str, int] = {}
        if self.data_dir is None:
            self._blobs = MemoryBlobs()
            database = ":memory:"
            self._counters = {}
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._blobs = DiskBlobs(self.data_dir)
            database = str(self.data_dir / "files.sqlite3")
        self._conn = sqlite3.connect(database, timeout=30.0, isolation_level=None, check_same_thread=False)
        with self._lock:
            if self.data_dir is not None:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._conn.executescript(_SCHEMA)
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock) -> FileStore:
        return cls(
            clock,
            seed=settings.seed,
            secret=server_secret(settings.signing_secret, settings.data_dir),
            max_file_bytes=settings.max_upload_bytes,
            max_total_bytes=settings.max_store_bytes,
            data_dir=settings.data_dir,
            max_part_bytes=settings.max_multipart_part_bytes,
            max_parts=settings.max_multipart_parts,
            max_pending_uploads=settings.max_pending_uploads,
            token_ttl=settings.upload_token_ttl_seconds,
            url_ttl=settings.upload_url_ttl_seconds,
            cdn_upload_fault_status=settings.cdn_upload_fault_status,
        )

    def set_reference_provider(self, provider: ReferenceProvider) -> None:
        """Tell the store how to learn which files jobs hold on to (asked only when evicting)."""
        self._references = provider

    def set_cdn_upload_fault(self, status: int | None) -> None:
        """Make ``POST /files/upload`` on the CDN answer ``status`` (None or 0: work normally)."""
        if status and not 400 <= status <= 599:
            raise ValueError("a CDN upload fault is an HTTP error status (400-599)")
        self.cdn_upload_fault_status = status or 0

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._held_files, self._held_sizes = [], {}  # a later put_held meets the closed database
                self._conn.close()

    # --- SQLite plumbing -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _write(self) -> Iterator[_Transaction]:
        with self._lock:
            self._flush_held_files()
            self._conn.execute("BEGIN IMMEDIATE")
            txn = _Transaction(self._conn)
            try:
                yield txn
                for upload_id in txn.dropped_uploads:
                    self._blobs.remove_parts(upload_id)
                for sha in txn.doomed:
                    if self._conn.execute("SELECT 1 FROM blobs WHERE sha = ?", (sha,)).fetchone() is None:
                        self._blobs.remove(sha)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                for sha in txn.placed:
                    if self._conn.execute("SELECT 1 FROM blobs WHERE sha = ?", (sha,)).fetchone() is None:
                        self._blobs.remove(sha)
                raise

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            self._flush_held_files()
            return list(self._conn.execute(sql, params).fetchall())

    def _next(self, conn: sqlite3.Connection | None, name: str) -> int:
        """The next value of counter ``name`` (inside a write transaction).  An in-memory store keeps its counters in
        Python — nothing else can see its database — so a value taken in a transaction that is rolled back is not
        given again (a gap, never a repeat)."""
        if self._counters is not None:
            value = self._counters[name] = self._counters.get(name, 0) + 1
            return value
        assert conn is not None, "a shared store's counters are taken inside a write transaction"
        row = conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
            (name,),
        ).fetchone()
        return int(row[0])

    def next_sequence(self, name: str) -> int:
        with self._write() as txn:
            return self._next(txn.conn, name)

    @staticmethod
    def _total(conn: sqlite3.Connection) -> int:
        blobs = conn.execute("SELECT COALESCE(SUM(size), 0) FROM blobs").fetchone()[0]
        parts = conn.execute("SELECT COALESCE(SUM(size), 0) FROM parts").fetchone()[0]
        return int(blobs) + int(parts)

    def _add_ref(self, txn: _Transaction, sha: str, size: int, sink: BlobSink | None) -> None:
        """One more reference to blob ``sha`` (placing ``sink``'s bytes if the blob is new)."""
        conn = txn.conn
        if conn.execute("UPDATE blobs SET refs = refs + 1 WHERE sha = ?", (sha,)).rowcount == 0:
            if sink is None:
                raise KeyError(sha)
            conn.execute("INSERT INTO blobs (sha, size, refs) VALUES (?, ?, 1)", (sha, size))
            self._blobs.place(sha, sink)
            txn.placed.add(sha)
            txn.doomed.discard(sha)
        elif sink is not None:
            sink.discard()

    @staticmethod
    def _drop_ref(txn: _Transaction, sha: str) -> None:
        conn = txn.conn
        conn.execute("UPDATE blobs SET refs = refs - 1 WHERE sha = ?", (sha,))
        if conn.execute("DELETE FROM blobs WHERE sha = ? AND refs <= 0", (sha,)).rowcount:
            txn.doomed.add(sha)

    def _drop_file(self, txn: _Transaction, key: str) -> None:
        row = txn.conn.execute("SELECT sha FROM files WHERE key = ?", (key,)).fetchone()
        if row is not None:
            txn.conn.execute("DELETE FROM files WHERE key = ?", (key,))
            self._drop_ref(txn, row[0])

    def _drop_upload(self, txn: _Transaction, upload_id: str) -> None:
        txn.conn.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
        txn.conn.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
        txn.dropped_uploads.add(upload_id)

    def _bounded(self, needed: Callable[[_Transaction], int], action: Callable[[_Transaction], Any]) -> Any:
        """Run ``action`` in a write transaction once ``needed(txn)`` more bytes fit (evicting if must)."""
        refs: FileRefs | None = None
        while True:
            with self._write() as txn:
                wanted = needed(txn)
                total = self._total(txn.conn)
                if total + wanted <= self.max_total_bytes:
                    return action(txn)
                if refs is not None:
                    self._evict(txn, total, wanted, refs)
                    return action(txn)
            # Learn who references what outside the lock (the provider reads the job store).
            refs = self._references()

    def _evict(self, txn: _Transaction, total: int, needed: int, refs: FileRefs) -> None:
        """Drop files until ``needed`` bytes fit, in eviction order; StoreFull (nothing dropped) if they cannot."""
        conn = txn.conn
        now = self._clock.now()
        rows = conn.execute("SELECT key, sha, expires_at FROM files ORDER BY created_at, seq").fetchall()
        for upload in conn.execute("SELECT upload_id FROM uploads WHERE deadline <= ?", (now,)).fetchall():
            self._drop_upload(txn, upload[0])
        expired = [row for row in rows if row[2] is not None and row[2] <= now]
        live = [row for row in rows if not (row[2] is not None and row[2] <= now) and row[0] not in refs.pinned]
        unreferenced = [row for row in live if row[0] not in refs.retained]
        retained = [row for row in live if row[0] in refs.retained]
        for key, _sha, _expires in expired + unreferenced + retained:
            if self._total(conn) + needed <= self.max_total_bytes:
                return
            self._drop_file(txn, key)
        if self._total(conn) + needed > self.max_total_bytes:
            raise StoreFull(needed, self.max_total_bytes)

    # --- blobs -----------------------------------------------------------------------------------
    def sink(self, limit: int | None = None, what: str = "file") -> BlobSink:
        """A place to stream new bytes into (capped at ``limit``, default the per-file cap)."""
        return self._blobs.sink(self.max_file_bytes if limit is None else limit, what)

    def put_blob(self, data: bytes, *, sha256: str | None = None) -> str:
        """Store ``data`` (or add a reference to the same bytes) and return its SHA-256.

        ``sha256``: the bytes' digest when the caller knows it (a cached output's); if that blob is held,
        only a reference is added — the bytes are neither copied nor hashed again.
        """
        if sha256 is not None and self.ref_held_blob(sha256, len(data)):
            return sha256
        sink = self.sink()
        try:
            sink.write(data)
            sha = sink.sha256
            self._bounded(lambda txn: self._new_bytes(txn, sha, len(data)),
                          lambda txn: self._add_ref(txn, sha, len(data), sink))  # fmt: skip
        finally:
            sink.discard()
        return sha

    @staticmethod
    def _add_known_ref(txn: _Transaction, sha: str, size: int) -> bool:
        """One more reference to blob ``sha`` of ``size`` bytes if it is held (nothing grows); False if not."""
        held = txn.conn.execute("UPDATE blobs SET refs = refs + 1 WHERE sha = ? AND size = ?", (sha, size))
        return bool(held.rowcount)

    @staticmethod
    def _new_bytes(txn: _Transaction, sha: str, size: int) -> int:
        exists = txn.conn.execute("SELECT 1 FROM blobs WHERE sha = ?", (sha,)).fetchone()
        return 0 if exists else size

    def ref_held_blob(self, sha: str, size: int) -> bool:
        """One more reference to the held blob ``sha`` of ``size`` bytes (an inline result); False (nothing
        changed) if those bytes are not stored."""
        with self._write() as txn:
            return self._add_known_ref(txn, sha, size)

    def release_blob(self, sha: str) -> None:
        with self._write() as txn:
            self._drop_ref(txn, sha)

    def blob(self, sha: str) -> bytes | None:
        if not SHA.match(sha):
            return None
        with self._lock:
            handle = self._blobs.open(sha)
        if handle is None:
            return None
        try:
            return handle.read()
        finally:
            handle.close()

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return self._total(self._conn)

    # --- files -----------------------------------------------------------------------------------
    def _key_for(self, sequence: int, file_name: str) -> str:
        """The key of the ``sequence``-th file (``file_name`` made safe already)."""
        return f"{self._key_prefixes.get(sequence)}_{file_name}"

    def _key_prefix(self, sequence: int) -> str:
        """``<bucket>/<token>`` of the ``sequence``-th file's key."""
        token = self._mac.token(self._seed, "file", sequence)
        bucket = BUCKETS[self._mac.integer(self._seed, "bucket", sequence) % len(BUCKETS)]
        return f"{bucket}/{token}"

    def now(self) -> float:
        """The store's clock (the app's): expiry times are on it."""
        return self._clock.now()

    def new_key(self, file_name: str) -> str:
        return self._key_for(self.next_sequence("file"), safe_file_name(file_name))

    def put(
        self,
        data: bytes,
        *,
        file_name: str,
        content_type: str,
        namespace: str = "",
        expires_at: float | None = None,
        origin: str = "upload",
        key: str | None = None,
        sha256: str | None = None,
    ) -> StoredFile:
        """Store ``data`` as a file (see :meth:`put_sink`).

        ``sha256``: the bytes' digest when the caller knows it (a cached output's); while that blob is held,
        the new file points at it without the bytes being copied or hashed again.
        """
        if sha256 is not None and key is None:
            stored = self.put_held(sha256, len(data), file_name=file_name, content_type=content_type,
                                     namespace=namespace, expires_at=expires_at, origin=origin)  # fmt: skip
            if stored is not None:
                return stored
        sink = self.sink()
        try:
            sink.write(data)
            return self.put_sink(sink, file_name=file_name, content_type=content_type, namespace=namespace,
                                 expires_at=expires_at, origin=origin, key=key)  # fmt: skip
        finally:
            sink.discard()

    def put_sink(
        self,
        sink: BlobSink,
        *,
        file_name: str,
        content_type: str,
        namespace: str = "",
        expires_at: float | None = None,
        origin: str = "upload",
        key: str | None = None,
    ) -> StoredFile:
        """Store the bytes streamed into ``sink`` as a file (the sink is consumed either way).

        Without ``key`` the file gets a new one.  With ``key`` (a signed upload URL, a completed multipart
        upload) stored files are immutable: if a live file already holds ``key``, the same bytes from the
        same kind of upload in the same namespace (a retry) answer that file unchanged, anything else
        raises :class:`~.errors.FileExists` — a generated output can never be replaced.
        """
        try:
            sha, size = sink.sha256, sink.size
            if size > self.max_file_bytes:
                raise FileTooLarge(size, self.max_file_bytes)

            def action(txn: _Transaction) -> StoredFile:
                conn = txn.conn
                if key is not None:
                    existing = self._existing(conn, key)
                    if existing is not None:
                        if (existing.sha256, existing.namespace, existing.origin) == (sha, namespace, origin):
                            return existing  # the same upload again (a client's retry): nothing changes
                        raise FileExists(key)
                self._add_ref(txn, sha, size, sink)
                return self._insert_file(txn, sha, size, file_name=file_name, content_type=content_type,
                                         namespace=namespace, expires_at=expires_at, origin=origin,
                                         key=key)  # fmt: skip

            result: StoredFile = self._bounded(lambda txn: self._new_bytes(txn, sha, size), action)
            return result
        finally:
            sink.discard()

    def put_held(self, sha: str, size: int, *, file_name: str, content_type: str, namespace: str,
                 expires_at: float | None, origin: str) -> StoredFile | None:  # fmt: skip
        """A new file over the held blob ``sha`` of ``size`` bytes, copying nothing (nothing grows, so nothing
        is evicted); None (nothing stored) if those bytes are not held."""
        if size > self.max_file_bytes:
            raise FileTooLarge(size, self.max_file_bytes)
        if self._counters is None:  # a shared index: one transaction (another process may look in between)
            with self._write() as txn:
                if not self._add_known_ref(txn, sha, size):
                    return None
                return self._insert_file(txn, sha, size, file_name=file_name, content_type=content_type,
                                         namespace=namespace, expires_at=expires_at, origin=origin,
                                         key=None)  # fmt: skip
        # A private in-memory index (this process's alone, every use under the lock): the new row waits in
        # Python and reaches the database with the next use of it (see :meth:`_flush_held_files`).
        with self._lock:
            if self._held_sizes.get(sha) != size:
                held = self._conn.execute("SELECT size FROM blobs WHERE sha = ?", (sha,)).fetchone()
                if held is None or held[0] != size:
                    return None
                if len(self._held_sizes) >= MAX_PENDING_HELD_FILES:
                    self._held_sizes.clear()
                self._held_sizes[sha] = size  # a blob's row lives while it has references: held until a write
            stored, row = self._new_file(sha, size, file_name=file_name, content_type=content_type, namespace=namespace,
                                         expires_at=expires_at, origin=origin, key=None)  # fmt: skip
            self._held_files.append(row)
            if len(self._held_files) >= MAX_PENDING_HELD_FILES:
                self._flush_held_files()
            return stored

    def _flush_held_files(self) -> None:
        """Write the rows :meth:`put_held` kept back (and their blob references) in one transaction.

        Called, under the lock, before any other use of the database: every read and write sees them.  If the
        write fails, the rows wait on (the files were handed out) and the error is raised.
        """
        rows, self._held_files = self._held_files, []
        self._held_sizes.clear()
        if not rows:
            return
        references: dict[str, int] = {}
        for row in rows:
            references[row[4]] = references.get(row[4], 0) + 1
        conn = self._conn
        nested = conn.in_transaction  # a read inside a write: rows are never kept back there, but if they were
        try:
            if not nested:
                conn.execute("BEGIN IMMEDIATE")
            conn.executemany("UPDATE blobs SET refs = refs + ? WHERE sha = ?",
                             [(count, sha) for sha, count in references.items()])  # fmt: skip
            conn.executemany(_INSERT_FILE, rows)
            if not nested:
                conn.execute("COMMIT")
        except BaseException:
            if not nested and conn.in_transaction:
                conn.execute("ROLLBACK")
            self._held_files[:0] = rows
            raise

    def _insert_file(self, txn: _Transaction, sha: str, size: int, *, file_name: str, content_type: str,
                     namespace: str, expires_at: float | None, origin: str, key: str | None) -> StoredFile:  # fmt: skip
        """The index row of a new file over blob ``sha`` (whose reference the caller has added), replacing
        an expired file that held ``key``."""
        stored, row = self._new_file(sha, size, file_name=file_name, content_type=content_type, namespace=namespace,
                                     expires_at=expires_at, origin=origin, key=key, conn=txn.conn)  # fmt: skip
        if key is not None:  # a chosen key may name an expired file; a new one (a fresh counter value) cannot
            self._drop_file(txn, stored.key)
        txn.conn.execute(_INSERT_FILE, row)
        return stored

    def _new_file(self, sha: str, size: int, *, file_name: str, content_type: str, namespace: str,
                  expires_at: float | None, origin: str, key: str | None,
                  conn: sqlite3.Connection | None = None) -> tuple[StoredFile, tuple[Any, ...]]:  # fmt: skip
        """A new file over blob ``sha`` (a fresh key unless ``key``) and its index row."""
        sequence = self._next(conn, "file")
        safe_name = safe_file_name(file_name)
        stored = StoredFile(
            key=key or self._key_for(sequence, safe_name),
            file_name=safe_name,
            content_type=safe_content_type(content_type),
            size=size,
            sha256=sha,
            created_at=self._clock.now(),
            expires_at=expires_at,
            origin=origin,
            namespace=namespace,
        )
        row = (stored.key, stored.file_name, stored.content_type, size, sha, stored.created_at, expires_at, origin,
               namespace, sequence)  # fmt: skip
        return stored, row

    def _existing(self, conn: sqlite3.Connection, key: str) -> StoredFile | None:
        """The live file at ``key`` inside a transaction (an expired one counts as gone)."""
        row = conn.execute(f"SELECT {_FILE_COLUMNS} FROM files WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        stored = _stored(row)
        return None if stored.expired(self._clock.now()) else stored

    def get(self, key: str) -> StoredFile | None:
        """The live file at ``key`` (None if unknown, malformed or expired)."""
        if not isinstance(key, str) or parse_key(key) is None:
            return None
        rows = self._read(f"SELECT {_FILE_COLUMNS} FROM files WHERE key = ?", (key,))
        if not rows:
            return None
        stored = _stored(rows[0])
        return None if stored.expired(self._clock.now()) else stored

    def read(self, stored: StoredFile, start: int = 0, end: int | None = None) -> bytes:
        """Bytes ``[start, end)`` of a stored file (KeyError if its bytes are gone)."""
        with self._lock:
            handle = self._blobs.open(stored.sha256)
        if handle is None:
            raise KeyError(stored.key)
        stop = stored.size if end is None else min(end, stored.size)
        return b"".join(chunks(handle, start, stop, max(1, stop - start)))

    def iter_chunks(self, stored: StoredFile, start: int, end: int, chunk: int = CHUNK) -> Iterator[bytes]:
        """Bytes ``[start, end)`` in chunks; the blob is opened now (KeyError if its bytes are gone)."""
        with self._lock:
            handle = self._blobs.open(stored.sha256)
        if handle is None:
            raise KeyError(stored.key)
        return chunks(handle, start, min(end, stored.size), chunk)

    def delete(self, key: str) -> bool:
        with self._write() as txn:
            found = txn.conn.execute("SELECT 1 FROM files WHERE key = ?", (key,)).fetchone() is not None
            self._drop_file(txn, key)
            return found

    def files(self, namespace: str | None = None) -> list[StoredFile]:
        now = self._clock.now()
        rows = self._read(f"SELECT {_FILE_COLUMNS} FROM files ORDER BY created_at, seq")
        return [
            stored
            for stored in map(_stored, rows)
            if not stored.expired(now) and (namespace is None or stored.namespace == namespace)
        ]

    def purge_expired(self) -> int:
        """Drop expired files now (they are invisible anyway); returns how many went."""
        with self._write() as txn:
            rows = txn.conn.execute(
                "SELECT key FROM files WHERE expires_at IS NOT NULL AND expires_at <= ?", (self._clock.now(),)
            ).fetchall()
            keys = [row[0] for row in rows]
            for key in keys:
                self._drop_file(txn, key)
            return len(keys)

    def clear(self, namespace: str | None = None) -> None:
        with self._write() as txn:
            conn = txn.conn
            if namespace is None:
                keys = [row[0] for row in conn.execute("SELECT key FROM files")]
                uploads = [row[0] for row in conn.execute("SELECT upload_id FROM uploads")]
            else:
                keys = [row[0] for row in conn.execute("SELECT key FROM files WHERE namespace = ?", (namespace,))]
                uploads = [row[0] for row in conn.execute(
                    "SELECT upload_id FROM uploads WHERE namespace = ?", (namespace,))]  # fmt: skip
            for key in keys:
                self._drop_file(txn, key)
            for upload_id in uploads:
                self._drop_upload(txn, upload_id)

    # --- CDN tokens --------------------------------------------------------------------------------
    def issue_token(self, namespace: str = "") -> CdnToken:
        return self.authority.issue_token(self.next_sequence("token"), namespace)

    # --- multipart uploads -------------------------------------------------------------------------
    def begin_multipart(
        self,
        *,
        file_name: str,
        content_type: str,
        namespace: str = "",
        lifetime: float | None = None,
        origin: str = "upload",
    ) -> MultipartSession:
        """Open a multipart upload (the oldest open ones are dropped beyond ``max_pending_uploads``)."""
        now = self._clock.now()
        with self._write() as txn:
            conn = txn.conn
            for row in conn.execute("SELECT upload_id FROM uploads WHERE deadline <= ?", (now,)).fetchall():
                self._drop_upload(txn, row[0])
            open_ids = [row[0] for row in conn.execute("SELECT upload_id FROM uploads ORDER BY created_at, rowid")]
            for upload_id in open_ids[: max(0, len(open_ids) - self.max_pending_uploads + 1)]:
                self._drop_upload(txn, upload_id)
            upload_id = self._mac.token(self._seed, "upload", self._next(conn, "upload"))
            session = MultipartSession(
                upload_id=upload_id,
                key=self._key_for(self._next(conn, "file"), safe_file_name(file_name)),
                file_name=safe_file_name(file_name),
                content_type=safe_content_type(content_type),
                lifetime=lifetime,
                namespace=namespace,
                origin=origin,
                created_at=now,
                deadline=now + self.authority.url_ttl,
            )
            conn.execute(
                "INSERT INTO uploads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session.upload_id, session.key, session.file_name, session.content_type, session.lifetime,
                 session.namespace, session.origin, session.created_at, session.deadline),
            )  # fmt: skip
            return session

    def multipart(self, upload_id: str) -> MultipartSession | None:
        """The open multipart upload ``upload_id`` (None if unknown or past its deadline)."""
        if not valid_upload_id(upload_id):
            return None
        rows = self._read("SELECT * FROM uploads WHERE upload_id = ?", (upload_id,))
        if not rows:
            return None
        session = _session(rows[0])
        return None if session.deadline <= self._clock.now() else session

    def check_part_number(self, part_number: int) -> None:
        if part_number < 1:
            raise InvalidParts(f"part numbers start at 1, not {part_number}")
        if part_number > self.max_parts:
            raise TooManyParts(part_number, self.max_parts)

    def part_sink(self) -> BlobSink:
        return self.sink(min(self.max_part_bytes, self.max_file_bytes), what="part")

    def put_part(self, upload_id: str, part_number: int, sink: BlobSink) -> PartInfo:
        """Store one part (replacing an earlier upload of the same number); the sink is consumed."""
        try:
            self.check_part_number(part_number)
            size = sink.size
            info = PartInfo(part_number, size, f'"{sink.sha256[:32]}"')

            def needed(txn: _Transaction) -> int:
                row = txn.conn.execute(
                    "SELECT size FROM parts WHERE upload_id = ? AND part_number = ?", (upload_id, part_number)
                ).fetchone()
                return size - (int(row[0]) if row else 0)

            def action(txn: _Transaction) -> PartInfo:
                conn = txn.conn
                if self.multipart(upload_id) is None:
                    raise UnknownUpload(f"multipart upload {upload_id} not found")
                others = conn.execute(
                    "SELECT COALESCE(SUM(size), 0) FROM parts WHERE upload_id = ? AND part_number != ?",
                    (upload_id, part_number),
                ).fetchone()[0]
                if int(others) + size > self.max_file_bytes:
                    raise FileTooLarge(int(others) + size, self.max_file_bytes)
                conn.execute(
                    "INSERT INTO parts VALUES (?, ?, ?, ?) ON CONFLICT(upload_id, part_number) "
                    "DO UPDATE SET size = excluded.size, etag = excluded.etag",
                    (upload_id, part_number, size, info.etag),
                )
                self._blobs.place_part(upload_id, part_number, sink)
                return info

            result: PartInfo = self._bounded(needed, action)
            return result
        finally:
            sink.discard()

    def complete_multipart(self, upload_id: str, parts: list[tuple[int, str]]) -> StoredFile:
        """Join the listed parts (in part-number order; ETags must match) into the upload's file."""
        session = self.multipart(upload_id)
        if session is None:
            raise UnknownUpload(f"multipart upload {upload_id} not found")
        if not parts:
            raise InvalidParts("the complete request lists no parts")
        stored_parts = {
            int(row[0]): str(row[1])
            for row in self._read("SELECT part_number, etag FROM parts WHERE upload_id = ?", (upload_id,))
        }
        wanted: dict[int, str] = {}
        for number, etag in parts:
            if number in wanted:
                raise InvalidParts(f"part {number} is listed twice")
            if number not in stored_parts:
                raise InvalidParts(f"part {number} was never uploaded")
            if etag.strip('"') != stored_parts[number].strip('"'):
                raise InvalidParts(f"the ETag of part {number} does not match the uploaded part")
            wanted[number] = etag
        sink = self.sink()
        try:
            for number in sorted(wanted):
                with self._lock:
                    handle = self._blobs.open_part(upload_id, number)
                if handle is None:
                    raise UnknownUpload(f"multipart upload {upload_id} was dropped while completing")
                for chunk in chunks(handle, 0, 1 << 62, CHUNK):
                    sink.write(chunk)
            expires_at = None if session.lifetime is None else self._clock.now() + session.lifetime
            with self._write() as txn:
                self._drop_upload(txn, upload_id)
            return self.put_sink(sink, file_name=session.file_name, content_type=session.content_type,
                                 namespace=session.namespace, expires_at=expires_at, origin=session.origin,
                                 key=session.key)  # fmt: skip
        finally:
            sink.discard()

    def pending_uploads(self) -> list[MultipartSession]:
        return [_session(row) for row in self._read("SELECT * FROM uploads ORDER BY created_at, rowid")]
