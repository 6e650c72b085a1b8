"""The memory store's queue index: positions and queue lengths without scanning the backlog.

``queued_ahead`` and ``count_queued`` are answered from an index kept on every add/save/drop;
checked against a brute-force count over random changes, and checked never to iterate the
unfinished jobs (a poll of the last of 100,000 queued jobs used to walk all of them).
"""

from __future__ import annotations

import random
from typing import Any

from fal_mock.mock_server.jobs.model import Job, JobState, Origin, Outcome
from fal_mock.mock_server.persistence import MemoryStore

APPS = ("fal-ai/a", "fal-ai/b")


def make_job(seq: int, rng: random.Random) -> Job:
    app_id = rng.choice(APPS)
    return Job(
        request_id=f"req-{seq:05d}", endpoint_id=f"{app_id}/x", app_id=app_id, namespace=rng.choice(("", "ns")),
        seq=seq, submitted_at=float(seq), arguments={}, progression=rng.choice(("polls:1", "manual")),
        origin=Origin("https://v3.fal.media"), priority=rng.choice(("normal", "low")),
    )  # fmt: skip


def brute_ahead(jobs: list[Job], job: Job) -> int:
    mine = ({"normal": 0, "low": 1}[job.priority], job.seq)
    return sum(
        1 for other in jobs
        if other.state is JobState.IN_QUEUE and not other.finished and other.request_id != job.request_id
        and (other.app_id, other.namespace, other.progression) == (job.app_id, job.namespace, job.progression)
        and ({"normal": 0, "low": 1}[other.priority], other.seq) < mine
    )  # fmt: skip


def test_queue_index_matches_a_full_count_through_random_changes() -> None:
    rng = random.Random(13)
    store = MemoryStore()
    for step in range(1, 1500):
        action = rng.random()
        current = store.unfinished_jobs()
        if action < 0.5 or not current:
            store.add_job(make_job(step, rng))
        elif action < 0.7:
            job = rng.choice(current)
            job.state = JobState.IN_PROGRESS
            store.save_job(job)
        elif action < 0.85:
            job = rng.choice(current)
            job.state = JobState.COMPLETED
            job.outcome = Outcome(status_code=200, body={}, result_bytes=10, log_lines=())
            job.completed_at = float(step)
            store.save_job(job)
        elif action < 0.95:
            store.prune(float(step), max_finished=rng.randint(0, 50), max_result_bytes=10**9)
        else:
            store.clear(rng.choice((None, "", "ns")))
        everything = store.jobs()
        for job in rng.sample(everything, min(5, len(everything))):
            expected = brute_ahead(everything, job)
            assert store.queued_ahead(job) == expected, (step, job.request_id)
        for app_id in APPS:
            for space in ("", "ns"):
                expected = sum(1 for job in everything if job.app_id == app_id and job.namespace == space
                               and job.state is JobState.IN_QUEUE and not job.finished)  # fmt: skip
                assert store.count_queued(app_id=app_id, namespace=space) == expected


class NoScan(dict[str, Any]):
    """The unfinished jobs, refusing to be walked (a poll must not scan the backlog)."""

    def values(self) -> Any:
        raise AssertionError("the backlog was scanned")

    def items(self) -> Any:
        raise AssertionError("the backlog was scanned")

    def __iter__(self) -> Any:
        raise AssertionError("the backlog was scanned")


def test_queue_position_and_length_never_scan_the_backlog() -> None:
    rng = random.Random(1)
    store = MemoryStore()
    jobs = [make_job(seq, rng) for seq in range(1, 2001)]
    for job in jobs:
        store.add_job(job)
    store._unfinished = NoScan(store._unfinished)
    last = jobs[-1]
    assert store.queued_ahead(last) == brute_ahead(jobs, last) > 0
    assert store.count_queued(app_id=last.app_id, namespace=last.namespace) > 0
