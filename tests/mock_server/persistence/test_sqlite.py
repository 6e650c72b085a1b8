"""The StateStore contract, checked on both implementations (memory and SQLite), plus SQLite's own promises.

Every test of the contract runs on :class:`MemoryStore` and :class:`SqliteStore`: what the
queue relies on (copies are written back with ``save_job``, ``prune`` never drops an
unfinished job, counters never repeat, the journal is capped) holds on both.  The SQLite-only
tests cover what memory cannot promise: state survives reopening, a failed transaction leaves
nothing behind, several processes share counters and read-modify-writes without losing one,
a data directory serves one server at a time, and generation claims lapse.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fal_mock.mock_server.jobs.model import Job, JobState, Origin, Outcome
from fal_mock.mock_server.persistence import MemoryStore, StateStore
from fal_mock.mock_server.persistence.sqlite import (
    DataDirInUse,
    IncompatibleDataDir,
    SqliteStore,
    state_path,
)

APP = "fal-ai/minimax-video"


def make_job(seq: int, *, namespace: str = "", app_id: str = APP, progression: str = "polls:1") -> Job:
    return Job(
        request_id=f"req-{seq:05d}",
        endpoint_id=f"{app_id}/image-to-video",
        app_id=app_id,
        namespace=namespace,
        seq=seq,
        submitted_at=1000.0 + seq,
        arguments={"prompt": f"p{seq}", "image_url": "data:image/png;base64,AAAA"},
        progression=progression,
        origin=Origin("https://v3.fal.media"),
    )


def finish(store: StateStore, job: Job, *, at: float, expires: float, result_bytes: int = 100) -> None:
    with store.transaction():
        current = store.get_job(job.request_id)
        assert current is not None
        current.outcome = Outcome(status_code=200, body={"video": {}}, result_bytes=result_bytes,
                                  log_lines=(("done", "INFO"),))  # fmt: skip
        current.state = JobState.COMPLETED
        current.completed_at = at
        current.result_expires_at = expires
        store.save_job(current)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    made: StateStore = MemoryStore() if request.param == "memory" else SqliteStore.open(tmp_path / "data")
    yield made
    made.close()


# --- the contract, on both stores ---------------------------------------------------------------
def test_jobs_round_trip_and_writes_need_save(store: StateStore) -> None:
    job = make_job(1)
    store.add_job(job)
    loaded = store.get_job(job.request_id)
    assert loaded == job
    with store.transaction():
        current = store.get_job(job.request_id)
        assert current is not None
        current.reads += 2
        current.pushed_to = JobState.IN_PROGRESS
        unsaved = store.get_job(job.request_id)
        assert unsaved is not None
        assert (unsaved.reads, unsaved.pushed_to) == (0, None)  # a copy: nothing counts before save_job
        store.save_job(current)
    again = store.get_job(job.request_id)
    assert again is not None
    assert (again.reads, again.pushed_to, again.arguments) == (2, JobState.IN_PROGRESS, job.arguments)
    assert store.get_job("nope") is None


def test_outcome_survives_the_round_trip(store: StateStore) -> None:
    job = make_job(1)
    store.add_job(job)
    finish(store, job, at=5.0, expires=10.0, result_bytes=321)
    loaded = store.get_job(job.request_id)
    assert loaded is not None
    assert loaded.outcome is not None
    assert loaded.state is JobState.COMPLETED
    assert loaded.outcome.result_bytes == 321
    assert loaded.outcome.log_lines == (("done", "INFO"),)


def test_sequences_never_repeat_across_threads(store: StateStore) -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def draw() -> None:
        for _ in range(200):
            value = store.next_sequence("request")
            with lock:
                seen.append(value)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 801))
    assert store.next_sequence("journal") == 1


def test_unfinished_views(store: StateStore) -> None:
    for seq in range(1, 5):
        progression = "realistic" if seq > 2 else "manual"
        store.add_job(make_job(seq, namespace="a" if seq % 2 else "b", progression=progression))
    finish(store, make_job(1), at=1.0, expires=1e9)
    assert store.count_unfinished() == 3
    assert [job.seq for job in store.unfinished_jobs()] == [2, 3, 4]
    assert [job.seq for job in store.unfinished_jobs(namespace="b")] == [2, 4]
    assert [job.seq for job in store.jobs(namespace="a")] == [1, 3]
    assert store.unfinished_ids(progression="realistic") == ["req-00003", "req-00004"]
    assert store.unfinished_jobs(app_id="other/app") == []


def test_prune_expires_on_the_clock(store: StateStore) -> None:
    for seq in range(1, 4):
        store.add_job(make_job(seq))
    finish(store, make_job(1), at=0.0, expires=100.0)
    finish(store, make_job(2), at=0.0, expires=200.0)
    assert store.prune(99.0, 10, 10**9) == []
    assert [job.request_id for job in store.prune(150.0, 10, 10**9)] == ["req-00001"]
    assert store.get_job("req-00001") is None
    assert store.get_job("req-00002") is not None
    # the unfinished job outlives any clock
    removed = store.prune(10**12, 10, 10**9)
    assert [job.request_id for job in removed] == ["req-00002"]
    assert store.get_job("req-00003") is not None


def test_prune_caps_never_drop_unfinished_jobs(store: StateStore) -> None:
    for seq in range(1, 21):
        store.add_job(make_job(seq))
    for seq in range(1, 11):
        finish(store, make_job(seq), at=float(seq), expires=1e9, result_bytes=1000)
    # count cap: keep the 3 newest finished
    removed = store.prune(0.0, 3, 10**9)
    assert sorted(job.seq for job in removed) == list(range(1, 8))
    # byte cap of 1500: only one finished job fits
    removed = store.prune(0.0, 100, 1500)
    assert sorted(job.seq for job in removed) == [8, 9]
    # caps of zero drop every finished job but no unfinished one
    store.prune(0.0, 0, 0)
    assert store.count_unfinished() == 10
    assert [job.seq for job in store.jobs()] == list(range(11, 21))


def test_journal_is_capped_scoped_and_pruned_on_the_clock(store: StateStore) -> None:
    for index in range(12):
        store.journal_append({"seq": index, "at": float(index), "namespace": "x" if index % 3 == 0 else ""}, 10)
    entries = store.journal()
    assert [entry["seq"] for entry in entries] == list(range(2, 12))
    assert [entry["seq"] for entry in store.journal(namespace="x")] == [3, 6, 9]
    store.journal_prune(7.0)
    assert [entry["seq"] for entry in store.journal()] == [7, 8, 9, 10, 11]


def test_clear_one_namespace_or_all(store: StateStore) -> None:
    for seq in range(1, 5):
        store.add_job(make_job(seq, namespace="a" if seq <= 2 else "b"))
    finish(store, make_job(1, namespace="a"), at=1.0, expires=1e9)
    store.journal_append({"at": 1.0, "namespace": "a"}, 10)
    store.journal_append({"at": 1.0, "namespace": "b"}, 10)
    dropped = store.clear("a")
    assert sorted(job.seq for job in dropped) == [1, 2]
    assert [job.seq for job in store.jobs()] == [3, 4]
    assert store.journal() == [{"at": 1.0, "namespace": "b"}]
    # the byte and count bookkeeping followed: a cap of 0 finished jobs drops nothing more
    assert store.prune(0.0, 0, 0) == []
    store.clear()
    assert store.jobs() == []
    assert store.journal() == []


# --- SQLite's own promises -----------------------------------------------------------------------
def test_sqlite_state_survives_reopening(tmp_path: Path) -> None:
    first = SqliteStore.open(tmp_path)
    first.add_job(make_job(1))
    finish(first, make_job(1), at=1.0, expires=50.0)
    first.add_job(make_job(2))
    assert first.next_sequence("request") == 1
    first.journal_append({"at": 1.0, "namespace": "", "path": "/x"}, 10)
    first.close()
    second = SqliteStore.open(tmp_path)
    try:
        assert second.next_sequence("request") == 2
        job = second.get_job("req-00001")
        assert job is not None
        assert job.finished
        assert job.outcome is not None
        assert [j.seq for j in second.unfinished_jobs()] == [2]
        assert second.journal() == [{"at": 1.0, "namespace": "", "path": "/x"}]
        # the finished count and bytes were persisted with the rows
        assert [j.seq for j in second.prune(0.0, 0, 10**9)] == [1]
    finally:
        second.close()


def test_sqlite_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path)
    try:
        store.add_job(make_job(1))

        def half_way() -> None:
            with store.transaction():
                current = store.get_job("req-00001")
                assert current is not None
                current.reads = 99
                store.save_job(current)
                store.add_job(make_job(2))
                raise RuntimeError("half-way")

        with pytest.raises(RuntimeError):
            half_way()
        job = store.get_job("req-00001")
        assert job is not None
        assert job.reads == 0
        assert store.get_job("req-00002") is None
    finally:
        store.close()


def test_sqlite_one_server_per_data_dir(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path)
    with pytest.raises(DataDirInUse, match="in use by another fal-mock server"):
        SqliteStore.open(tmp_path)
    # a worker of the same server run shares it
    worker = SqliteStore.open(tmp_path, run_id=store.run_id)
    worker.close()
    store.close()
    SqliteStore.open(tmp_path).close()


def test_sqlite_refuses_a_foreign_schema(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path)
    store._db.execute("PRAGMA user_version=99")
    store.close()
    with pytest.raises(IncompatibleDataDir, match="schema version 99"):
        SqliteStore.open(tmp_path)
    assert state_path(tmp_path).exists()


def test_sqlite_claims_lapse_by_time_and_by_run(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path)
    try:
        wanted = make_job(1)
        wanted.render_wanted = True  # only a job whose output was asked for can be orphaned
        store.add_job(wanted)
        owner = f"{store.run_id}/1"
        assert store.claim("req-00001", owner, now=0.0, until=10.0)
        assert not store.claim("req-00001", f"{store.run_id}/2", now=5.0, until=15.0)
        assert store.orphans(store.run_id, now=5.0) == []
        store.renew_claims(["req-00001"], owner, until=20.0)
        assert not store.claim("req-00001", f"{store.run_id}/2", now=15.0, until=25.0)
        assert store.orphans(store.run_id, now=21.0) == ["req-00001"]
        assert store.claim("req-00001", f"{store.run_id}/2", now=21.0, until=31.0)
        # a claim of an earlier server run is dead at once
        assert store.orphans("next-run", now=0.0) == ["req-00001"]
        finish(store, make_job(1), at=1.0, expires=1e9)
        assert store.orphans("next-run", now=0.0) == []
        assert not store.claim("req-00001", owner, now=0.0, until=1.0)  # it has an outcome
    finally:
        store.close()


def _bump_reads(path: str, run_id: str, rounds: int) -> None:
    store = SqliteStore.open(path, run_id=run_id)
    for _ in range(rounds):
        with store.transaction():
            job = store.get_job("req-00001")
            assert job is not None
            job.reads += 1
            store.save_job(job)
        store.next_sequence("request")
    store.close()


def test_sqlite_processes_share_read_modify_writes_and_counters(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path)
    try:
        store.add_job(make_job(1))
        context = multiprocessing.get_context("spawn")
        workers = [context.Process(target=_bump_reads, args=(str(tmp_path), store.run_id, 150)) for _ in range(3)]
        for worker in workers:
            worker.start()
        _bump_reads(str(tmp_path), store.run_id, 150)
        for worker in workers:
            worker.join()
            assert worker.exitcode == 0
        job = store.get_job("req-00001")
        assert job is not None
        assert job.reads == 600
        assert store.next_sequence("request") == 601
    finally:
        store.close()
