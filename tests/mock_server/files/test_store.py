"""The file store without any web framework: files, blobs, expiry, eviction, multipart, tokens, data_dir."""

from __future__ import annotations

import hashlib
import multiprocessing
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fal_mock.mock_server.clock import ManualClock
from fal_mock.mock_server.files.errors import (
    FileExists,
    FileTooLarge,
    InvalidParts,
    StoreFull,
    TooManyParts,
    UnknownUpload,
)
from fal_mock.mock_server.files.secret import keyed_int, keyed_token, pinned_secret
from fal_mock.mock_server.files.store import (
    BUCKETS,
    MAX_PENDING_HELD_FILES,
    FileRefs,
    FileStore,
    default_file_name,
    lifecycle_seconds,
    parse_key,
    safe_content_type,
    safe_file_name,
)
from fal_mock.mock_server.files.upload_auth import UploadAuthority

KiB = 1024


def make_store(clock: ManualClock, tmp: Path | None = None, secret: bytes | None = None, **limits: int) -> FileStore:
    values = {"max_file_bytes": 100 * KiB, "max_total_bytes": 300 * KiB, **limits}
    return FileStore(clock, seed=0, data_dir=tmp, secret=secret, **values)  # type: ignore[arg-type]


@pytest.fixture(params=["memory", "disk"])
def store(request: pytest.FixtureRequest, clock: ManualClock, tmp_path: Path) -> Iterator[FileStore]:
    files = make_store(clock, tmp_path / "data" if request.param == "disk" else None)
    yield files
    files.close()


def blob(n: int, fill: int) -> bytes:
    return bytes([fill]) * n


# --- keys and names -------------------------------------------------------------------------------


def test_keys_do_not_depend_on_the_order_they_are_made_in(clock: ManualClock) -> None:
    pinned = pinned_secret("test")
    in_order = make_store(clock, secret=pinned)
    keys = [in_order.new_key("out.mp4") for _ in range(150)]  # batches of key prefixes made ahead
    for sequence, key in enumerate(keys, start=1):
        bucket = BUCKETS[keyed_int(pinned, 0, "bucket", sequence) % len(BUCKETS)]
        assert key == f"{bucket}/{keyed_token(pinned, 0, 'file', sequence)}_out.mp4"


def test_keys_are_fal_shaped_and_deterministic_under_one_secret(clock: ManualClock) -> None:
    pinned = pinned_secret("test")
    first, second = make_store(clock, secret=pinned), make_store(clock, secret=pinned)
    keys = [first.new_key("cat.png") for _ in range(3)]
    assert keys == [second.new_key("cat.png") for _ in range(3)]
    assert len(set(keys)) == 3
    for key in keys:
        match = parse_key(key)
        assert match is not None
        assert match.group("name") == "cat.png"
    first.close()
    second.close()


@pytest.mark.parametrize(
    "key",
    ["../etc/passwd", "lion/../../x", "lion/%2e%2e", "lion/" + "a" * 21 + "_..", "lion/" + "a" * 21 + "_x/../y",
     "lion\\" + "a" * 21 + "_x", "lion/" + "a" * 21 + "_x\x00", "lion/" + "a" * 21 + "_" + "x" * 5000, ""],
)  # fmt: skip
def test_parse_key_rejects_traversal_and_oddities(key: str) -> None:
    assert parse_key(key) is None


@pytest.mark.parametrize(
    ("given", "kept"),
    [("image/png", "image/png"), ("text/plain; charset=utf-8", "text/plain; charset=utf-8"),
     ("image/svg+xml", "image/svg+xml"), (" video/mp4 ", "video/mp4"), (None, "application/octet-stream"),
     ("", "application/octet-stream"), ("text/html\r\nSet-Cookie: a=1", "application/octet-stream"),
     ("text/plain\r\n; a", "application/octet-stream"), ("image/\u2603", "application/octet-stream"),
     ("image/p\u00e9ng", "application/octet-stream"), ("png", "application/octet-stream"),
     ("a/" + "b" * 300, "application/octet-stream")],
)  # fmt: skip
def test_content_types_are_kept_only_when_plausible(store: FileStore, given: str | None, kept: str) -> None:
    assert safe_content_type(given) == kept
    assert store.put(b"x", file_name="x", content_type=given or "").content_type == kept


def test_safe_names() -> None:
    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name("C:\\Users\\me\\photo 1.png") == "photo_1.png"
    assert safe_file_name("..") == "upload.bin"
    assert len(safe_file_name("a" * 500 + ".png")) == 120
    assert default_file_name("image/jpeg") == "upload.jpeg"
    assert default_file_name("text/plain; charset=utf-8") == "upload.plain"
    assert default_file_name(None) == "upload.bin"


def test_lifecycle_header_parsing() -> None:
    assert lifecycle_seconds(None) is None
    assert lifecycle_seconds('{"expiration_duration_seconds": 60}') == 60
    assert lifecycle_seconds('{"expiration_duration_seconds": null, "initial_acl": {"default": "hide"}}') is None
    assert lifecycle_seconds('{"expiration_duration_seconds": 0}') is None  # fal: 0 = no expiry
    for bad in ("nope", "[]", '{"expiration_duration_seconds": -1}', '{"expiration_duration_seconds": "1h"}'):
        with pytest.raises(ValueError, match=r"JSON|expiration_duration_seconds"):
            lifecycle_seconds(bad)


# --- files -----------------------------------------------------------------------------------------


def test_put_get_read_ranges(store: FileStore) -> None:
    data = bytes(range(256)) * 10
    stored = store.put(data, file_name="bytes.bin", content_type="application/x-test")
    assert store.get(stored.key) == stored
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert store.read(stored) == data
    assert store.read(stored, 10, 20) == data[10:20]
    assert b"".join(store.iter_chunks(stored, 5, 2000, chunk=7)) == data[5:2000]
    assert store.get("lion/" + "a" * 21 + "_missing.bin") is None
    assert store.get("../" + stored.key) is None


def test_expiry_follows_the_clock(store: FileStore, clock: ManualClock) -> None:
    stored = store.put(b"x" * 10, file_name="a.txt", content_type="text/plain", expires_at=clock.now() + 60)
    clock.advance(59)
    assert store.get(stored.key) is not None
    clock.advance(1)
    assert store.get(stored.key) is None
    assert store.files() == []
    assert store.purge_expired() == 1
    assert store.total_bytes == 0


def test_same_bytes_are_stored_once_and_released_with_the_last_reference(store: FileStore) -> None:
    a = store.put(b"z" * 1000, file_name="a", content_type="x/y")
    b = store.put(b"z" * 1000, file_name="b", content_type="x/y")
    sha = store.put_blob(b"z" * 1000)
    assert a.sha256 == b.sha256 == sha
    assert store.total_bytes == 1000
    store.delete(a.key)
    store.delete(b.key)
    assert store.blob(sha) == b"z" * 1000  # the inline reference still holds it
    store.release_blob(sha)
    assert store.blob(sha) is None
    assert store.total_bytes == 0


def test_held_only_puts_copy_nothing_and_refuse_bytes_that_are_not_held(store: FileStore) -> None:
    data = b"h" * 3000
    sha = hashlib.sha256(data).hexdigest()
    held_as = {"file_name": "output.mp4", "content_type": "video/mp4", "namespace": "", "expires_at": None,
               "origin": "output"}
    assert store.put_held(sha, len(data), **held_as) is None
    assert not store.ref_held_blob(sha, len(data))
    assert store.files() == []
    assert store.total_bytes == 0  # nothing stored, nothing referenced
    first = store.put(data, file_name="output.mp4", content_type="video/mp4")
    held = store.put_held(sha, len(data), **held_as)
    assert held is not None
    assert held.key != first.key
    assert store.read(held) == data
    assert store.ref_held_blob(sha, len(data))
    assert store.put_held(sha, len(data) + 1, **held_as) is None  # the size must match too
    assert store.total_bytes == 3000  # one copy of the bytes for two files and an inline reference
    store.delete(first.key)
    store.delete(held.key)
    assert store.read(store.put(b"x", file_name="x.bin", content_type="x/y")) == b"x"
    assert store.blob(sha) == data  # the inline reference still holds them
    store.release_blob(sha)
    assert store.blob(sha) is None


def test_files_over_held_bytes_are_seen_by_every_read_and_hold_their_bytes(store: FileStore) -> None:
    # an in-memory store keeps these rows back from its database until its next use of it: nothing may tell
    data = b"w" * 2500
    sha = hashlib.sha256(data).hexdigest()
    source = store.put(data, file_name="output.mp4", content_type="video/mp4")
    held_as = {"file_name": "output.mp4", "content_type": "video/mp4", "namespace": "ns", "expires_at": None,
               "origin": "output"}  # fmt: skip
    made = [store.put_held(sha, len(data), **held_as) for _ in range(MAX_PENDING_HELD_FILES + 5)]
    assert all(item is not None for item in made)
    held = [item for item in made if item is not None]
    assert len({item.key for item in held}) == len(held)
    assert store.get(held[-1].key) == held[-1]  # the newest, still kept back on a memory store, is found
    assert {item.key for item in store.files()} == {source.key, *(item.key for item in held)}
    store.delete(source.key)  # the last file the blob had before: the kept-back files still hold the bytes
    assert store.blob(sha) == data
    assert store.read(held[0]) == data
    for item in held[:-1]:
        assert store.delete(item.key)
    assert store.total_bytes == len(data)
    assert store.put_held(sha, len(data), **held_as) is not None  # still held by the last one
    store.delete(held[-1].key)
    assert store.blob(sha) == data  # ... and by the file just made
    for item in store.files():
        store.delete(item.key)
    assert store.blob(sha) is None  # every reference counted: the bytes go with the last file
    assert store.total_bytes == 0
    assert store.put_held(sha, len(data), **held_as) is None


class _FailingOnce:
    """A connection whose next ``executemany`` fails (a full disk, say); everything else passes through."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.armed = True

    def executemany(self, *args: object) -> object:
        if self.armed:
            self.armed = False
            raise sqlite3.OperationalError("database or disk is full")
        return self.conn.executemany(*args)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self.conn, name)


def test_kept_back_files_survive_a_failed_write_and_a_closed_store_refuses_more(clock: ManualClock) -> None:
    store = make_store(clock)
    data = b"k" * 1000
    sha = hashlib.sha256(data).hexdigest()
    store.put(data, file_name="a.bin", content_type="x/y")
    held_as = {"file_name": "b.bin", "content_type": "x/y", "namespace": "", "expires_at": None, "origin": "output"}
    held = store.put_held(sha, len(data), **held_as)
    assert held is not None
    real = store._conn
    store._conn = _FailingOnce(real)  # type: ignore[assignment]
    with pytest.raises(sqlite3.OperationalError):
        store.get(held.key)
    store._conn = real
    assert store.get(held.key) == held  # the row waited on and was written with the next use
    assert store.read(held) == data
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        store.put_held(sha, len(data), **held_as)


def test_eviction_counts_the_files_kept_back(clock: ManualClock) -> None:
    store = make_store(clock, max_total_bytes=6 * KiB)
    data = b"e" * (3 * KiB)
    sha = hashlib.sha256(data).hexdigest()
    first = store.put(data, file_name="a.bin", content_type="x/y")
    held = store.put_held(sha, len(data), file_name="b.bin", content_type="x/y", namespace="", expires_at=None,
                          origin="output")  # fmt: skip
    assert held is not None
    clock.advance(1)
    store.delete(first.key)
    store.put(b"n" * (3 * KiB), file_name="c.bin", content_type="x/y")  # fits beside the held bytes
    assert store.read(held) == data
    store.put(b"m" * (3 * KiB), file_name="d.bin", content_type="x/y")  # evicts the oldest file: the held one
    assert store.get(held.key) is None
    assert store.blob(sha) is None


def test_a_known_digest_adds_a_file_over_the_held_blob_and_falls_back_when_it_is_gone(store: FileStore) -> None:
    data = b"q" * 2000
    sha = hashlib.sha256(data).hexdigest()
    first = store.put(data, file_name="output.mp4", content_type="video/mp4", sha256=sha)  # not held yet: stored
    second = store.put(data, file_name="output.mp4", content_type="video/mp4", sha256=sha)  # held: a reference
    assert first.key != second.key
    assert first.sha256 == second.sha256 == sha
    assert store.total_bytes == 2000
    assert store.read(second) == data
    assert store.put_blob(data, sha256=sha) == sha
    store.delete(first.key)
    assert store.read(second) == data  # the other file and the inline reference still hold the bytes
    store.delete(second.key)
    store.release_blob(sha)
    assert store.blob(sha) is None
    assert store.total_bytes == 0
    third = store.put(data, file_name="output.mp4", content_type="video/mp4", sha256=sha)  # gone: stored again
    assert store.read(third) == data
    assert store.total_bytes == 2000
    wrong = store.put(b"r" * 10, file_name="r.bin", content_type="x/y", sha256=sha)  # the size must match too
    assert store.read(wrong) == b"r" * 10
    assert wrong.sha256 == hashlib.sha256(b"r" * 10).hexdigest()


def test_per_file_cap(store: FileStore) -> None:
    with pytest.raises(FileTooLarge) as raised:
        store.put(blob(100 * KiB + 1, 1), file_name="big", content_type="x/y")
    assert raised.value.max_size == 100 * KiB
    with pytest.raises(FileTooLarge):
        store.put_blob(blob(100 * KiB + 1, 1))
    assert store.total_bytes == 0
    assert store.files() == []


def test_eviction_order_expired_then_unreferenced_then_retained_never_pinned(
    store: FileStore, clock: ManualClock
) -> None:
    pinned = store.put(blob(60 * KiB, 1), file_name="input.png", content_type="image/png")
    retained = store.put(blob(60 * KiB, 2), file_name="output.mp4", content_type="video/mp4", origin="output")
    unreferenced = store.put(blob(60 * KiB, 3), file_name="old.png", content_type="image/png")
    expiring = store.put(blob(60 * KiB, 4), file_name="tmp.png", content_type="image/png",
                         expires_at=clock.now() + 10)  # fmt: skip
    clock.advance(11)
    store.set_reference_provider(lambda: FileRefs(pinned=frozenset({pinned.key}), retained=frozenset({retained.key})))
    store.put(blob(60 * KiB, 5), file_name="n1", content_type="x/y")  # fits: 300 KiB cap, 240 held
    store.put(blob(60 * KiB, 6), file_name="n2", content_type="x/y")  # the expired file goes
    assert store.get(expiring.key) is None
    assert store.get(unreferenced.key) is not None
    store.put(blob(60 * KiB, 7), file_name="n3", content_type="x/y")  # then the oldest unreferenced
    assert store.get(unreferenced.key) is None
    assert store.get(retained.key) is not None
    names = {f.file_name for f in store.files()}
    assert names == {"input.png", "output.mp4", "n1", "n2", "n3"}
    store.put(blob(100 * KiB, 8), file_name="n4", content_type="x/y")  # unreferenced n1, n2 go before retained
    assert {f.file_name for f in store.files()} == {"input.png", "output.mp4", "n3", "n4"}
    n5 = store.put(blob(100 * KiB, 9), file_name="n5", content_type="x/y")  # n3 and n4, before the retained
    assert {f.file_name for f in store.files()} == {"input.png", "output.mp4", "n5"}
    store.set_reference_provider(
        lambda: FileRefs(pinned=frozenset({pinned.key, n5.key}), retained=frozenset({retained.key}))
    )
    store.put(blob(100 * KiB, 10), file_name="n6", content_type="x/y")  # only the retained output is left to go
    assert store.get(retained.key) is None
    assert {f.file_name for f in store.files()} == {"input.png", "n5", "n6"}
    assert store.get(pinned.key) is not None
    assert store.read(pinned) == blob(60 * KiB, 1)
    assert store.total_bytes <= 300 * KiB


def test_store_full_changes_nothing(store: FileStore) -> None:
    keys = [store.put(blob(100 * KiB, k), file_name=f"in{k}", content_type="x/y").key for k in range(3)]
    store.set_reference_provider(lambda: FileRefs(pinned=frozenset(keys)))
    before = store.total_bytes
    with pytest.raises(StoreFull):
        store.put(blob(50 * KiB, 9), file_name="late", content_type="x/y")
    assert store.total_bytes == before
    assert [store.read(f) for f in store.files()] == [blob(100 * KiB, k) for k in range(3)]
    store.set_reference_provider(FileRefs)
    store.put(blob(50 * KiB, 9), file_name="late", content_type="x/y")  # once they are released it fits


def test_inline_blobs_are_never_evicted(store: FileStore) -> None:
    sha = store.put_blob(blob(100 * KiB, 1))
    store.put(blob(100 * KiB, 2), file_name="a", content_type="x/y")
    store.put(blob(100 * KiB, 3), file_name="b", content_type="x/y")
    store.put(blob(100 * KiB, 4), file_name="c", content_type="x/y")
    assert store.blob(sha) == blob(100 * KiB, 1)


def test_clear_by_namespace(store: FileStore) -> None:
    mine = store.put(b"1", file_name="a", content_type="x/y", namespace="mine")
    theirs = store.put(b"2", file_name="b", content_type="x/y", namespace="theirs")
    store.clear("mine")
    assert store.get(mine.key) is None
    assert store.get(theirs.key) is not None
    store.clear()
    assert store.files() == []
    assert store.total_bytes == 0


# --- multipart ------------------------------------------------------------------------------------


def test_stored_files_are_immutable(store: FileStore, clock: ManualClock) -> None:
    output = store.put(b"\x00\x00\x00 ftypisom", file_name="output.mp4", content_type="video/mp4", origin="output")
    with pytest.raises(FileExists):  # an upload naming an output's key
        store.put(b"<script>alert(1)</script>", file_name="output.mp4", content_type="text/html", key=output.key)
    with pytest.raises(FileExists):  # even the same bytes: the uploader did not create it
        store.put(b"\x00\x00\x00 ftypisom", file_name="output.mp4", content_type="video/mp4", key=output.key)
    kept = store.get(output.key)
    assert kept is not None
    assert (kept.content_type, store.read(kept)) == ("video/mp4", b"\x00\x00\x00 ftypisom")
    key = store.new_key("cat.png")
    first = store.put(b"cat", file_name="cat.png", content_type="image/png", key=key, namespace="a")
    again = store.put(b"cat", file_name="cat.png", content_type="image/png", key=key, namespace="a")
    assert again == first  # a retry of the same upload changes nothing
    for data, space in ((b"dog", "a"), (b"cat", "b")):
        with pytest.raises(FileExists):
            store.put(data, file_name="cat.png", content_type="image/png", key=key, namespace=space)
    short = store.put(b"x", file_name="x.txt", content_type="text/plain", expires_at=clock.now() + 5)
    clock.advance(6)  # an expired file is gone: its key may be written again
    assert store.put(b"y", file_name="x.txt", content_type="text/plain", key=short.key).size == 1


def test_multipart_completion_cannot_replace_a_file(store: FileStore) -> None:
    session = store.begin_multipart(file_name="big.bin", content_type="x/y")
    store.put(b"squatter", file_name="big.bin", content_type="x/y", key=session.key)
    with store.part_sink() as sink:
        sink.write(b"part")
        sink.finish()
        info = store.put_part(session.upload_id, 1, sink)
    with pytest.raises(FileExists):
        store.complete_multipart(session.upload_id, [(1, info.etag)])
    found = store.get(session.key)
    assert found is not None
    assert store.read(found) == b"squatter"


def test_multipart_joins_parts_in_number_order(store: FileStore) -> None:
    session = store.begin_multipart(file_name="big.bin", content_type="application/octet-stream")
    etags = {}
    for number, fill in ((3, 3), (1, 1), (2, 2)):  # parts arrive in any order (the Python client's threads)
        with store.part_sink() as sink:
            sink.write(blob(10 * KiB, fill))
            etags[number] = store.put_part(session.upload_id, number, sink).etag
    stored = store.complete_multipart(session.upload_id, [(n, etags[n]) for n in (2, 3, 1)])
    assert stored.key == session.key
    assert store.read(stored) == blob(10 * KiB, 1) + blob(10 * KiB, 2) + blob(10 * KiB, 3)
    assert store.multipart(session.upload_id) is None
    assert store.total_bytes == 30 * KiB  # the parts are gone


def test_multipart_errors(store: FileStore) -> None:
    session = store.begin_multipart(file_name="x", content_type="x/y")
    with store.part_sink() as sink:
        sink.write(b"abc")
        etag = store.put_part(session.upload_id, 1, sink).etag
    with pytest.raises(InvalidParts):
        store.complete_multipart(session.upload_id, [(1, '"wrong"')])
    with pytest.raises(InvalidParts):
        store.complete_multipart(session.upload_id, [(1, etag), (2, etag)])
    with pytest.raises(InvalidParts):
        store.complete_multipart(session.upload_id, [])
    with pytest.raises(TooManyParts):
        store.check_part_number(store.max_parts + 1)
    with pytest.raises(InvalidParts):
        store.check_part_number(0)
    with pytest.raises(UnknownUpload):
        store.complete_multipart("A" * 21, [(1, etag)])
    with store.part_sink() as sink:
        sink.write(b"x")
        with pytest.raises(UnknownUpload):
            store.put_part("A" * 21, 1, sink)
    assert store.complete_multipart(session.upload_id, [(1, etag)]).size == 3


def test_multipart_total_size_is_capped(clock: ManualClock) -> None:
    store = make_store(clock, max_file_bytes=25 * KiB, max_part_bytes=10 * KiB)
    session = store.begin_multipart(file_name="x", content_type="x/y")
    for number in (1, 2):
        with store.part_sink() as sink:
            sink.write(blob(10 * KiB, number))
            store.put_part(session.upload_id, number, sink)
    with store.part_sink() as sink, pytest.raises(FileTooLarge):
        sink.write(blob(10 * KiB + 1, 9))  # one part over the part cap
    with store.part_sink() as sink:
        sink.write(blob(10 * KiB, 3))
        with pytest.raises(FileTooLarge):
            store.put_part(session.upload_id, 3, sink)  # the parts together over the file cap
    assert store.total_bytes == 20 * KiB
    store.close()


def test_open_uploads_are_bounded_and_expire(clock: ManualClock) -> None:
    store = FileStore(clock, seed=0, max_file_bytes=KiB, max_total_bytes=10 * KiB, max_pending_uploads=2, url_ttl=60)
    first = store.begin_multipart(file_name="1", content_type="x/y")
    second = store.begin_multipart(file_name="2", content_type="x/y")
    third = store.begin_multipart(file_name="3", content_type="x/y")
    assert store.multipart(first.upload_id) is None
    assert store.multipart(second.upload_id) is not None
    assert store.multipart(third.upload_id) is not None
    clock.advance(60)
    assert store.multipart(third.upload_id) is None
    store.close()


# --- tokens and signatures ----------------------------------------------------------------------


def test_tokens_are_checked_and_expire_on_the_clock(clock: ManualClock) -> None:
    authority = UploadAuthority(clock, secret=b"one", token_ttl=100, url_ttl=50)
    token = authority.issue_token(1)
    assert token.token_type == "Bearer"
    assert authority.check_token(token.token) is None
    same = UploadAuthority(clock, secret=b"one", token_ttl=100, url_ttl=50)  # any process with the secret
    assert same.check_token(token.token) is None
    assert UploadAuthority(clock, secret=b"two", token_ttl=100, url_ttl=50).check_token(token.token) is not None
    head, payload, mac = token.token.split(".")
    assert authority.check_token(f"{head}.{payload}.{mac[:-2]}xx") is not None
    assert authority.check_token("garbage") is not None
    clock.advance(102)
    assert authority.check_token(token.token) == "CDN token has expired"


def test_signed_fields_cannot_be_changed(clock: ManualClock) -> None:
    authority = UploadAuthority(clock, secret=b"one", token_ttl=100, url_ttl=50)
    query = authority.sign("put:lion/x", {"content_type": "image/png"})
    assert authority.verify("put:lion/x", query) is None
    assert authority.verify("put:lion/y", query) is not None
    assert authority.verify("put:lion/x", {**query, "content_type": "text/html"}) is not None
    assert authority.verify("put:lion/x", {**query, "lifetime": "1"}) is not None
    clock.advance(51)
    assert authority.verify("put:lion/x", query) == "the upload URL has expired"


# --- data_dir: on disk, atomic, shared ------------------------------------------------------------


def test_data_dir_layout_and_durability(clock: ManualClock, tmp_path: Path) -> None:
    store = make_store(clock, tmp_path)
    stored = store.put(b"persist me", file_name="p.txt", content_type="text/plain")
    assert (tmp_path / "blobs" / stored.sha256).read_bytes() == b"persist me"
    assert not list((tmp_path / "incoming").iterdir())  # temp files were moved into place
    mode = sqlite3.connect(tmp_path / "files.sqlite3").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    store.close()
    reopened = make_store(clock, tmp_path)
    again = reopened.get(stored.key)
    assert again is not None
    assert reopened.read(again) == b"persist me"
    assert reopened.new_key("n") != stored.key  # counters persist: keys are never reused
    reopened.delete(stored.key)
    assert not (tmp_path / "blobs" / stored.sha256).exists()
    reopened.close()


def test_data_dir_streams_without_holding_bytes(clock: ManualClock, tmp_path: Path) -> None:
    store = make_store(clock, tmp_path, max_file_bytes=4 * 1024 * KiB, max_total_bytes=8 * 1024 * KiB)
    sink = store.sink()
    assert sink.path is not None
    assert sink.path.parent == tmp_path / "incoming"
    for k in range(16):
        sink.write(blob(256 * KiB, k))
    stored = store.put_sink(sink, file_name="big.bin", content_type="x/y")
    assert not sink.path.exists()
    chunks = list(store.iter_chunks(stored, 0, stored.size))
    assert max(len(c) for c in chunks) <= 256 * KiB
    assert b"".join(chunks)[-1] == 15
    store.close()


def _writer(data_dir: str, worker: int) -> list[str]:
    clock = ManualClock()
    store = FileStore(clock, seed=0, max_file_bytes=KiB * 64, max_total_bytes=KiB * 1024 * 64, data_dir=data_dir)
    keys = [store.put(f"{worker}:{k}".encode() * 50, file_name=f"w{worker}-{k}.txt", content_type="text/plain").key
            for k in range(25)]  # fmt: skip
    store.close()
    return keys


@pytest.mark.slow
def test_several_processes_share_one_data_dir(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        results = pool.starmap(_writer, [(str(tmp_path), worker) for worker in range(3)])
    keys = [key for batch in results for key in batch]
    assert len(set(keys)) == 75  # counters in SQLite: no two processes hand out the same key
    store = FileStore(ManualClock(), seed=0, max_file_bytes=KiB * 64, max_total_bytes=KiB * 1024 * 64,
                      data_dir=tmp_path)  # fmt: skip
    for worker, batch in enumerate(results):
        for k, key in enumerate(batch):
            found = store.get(key)
            assert found is not None
            assert store.read(found) == f"{worker}:{k}".encode() * 50
    store.close()


def test_a_data_directory_from_before_loses_the_age_index_and_lists_by_age(clock: ManualClock, tmp_path: Path) -> None:
    first = make_store(clock, tmp_path / "data")
    first._conn.execute("CREATE INDEX files_by_age ON files (created_at, seq)")  # as earlier versions made it
    first.put(b"a", file_name="a.bin", content_type="x/y")
    first.close()
    clock.advance(1)
    again = make_store(clock, tmp_path / "data")
    try:
        indexes = {row[0] for row in again._conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "files_by_age" not in indexes
        again.put(b"b", file_name="b.bin", content_type="x/y")
        assert [item.file_name for item in again.files()] == ["a.bin", "b.bin"]  # oldest first, as before
    finally:
        again.close()
