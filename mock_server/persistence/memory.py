"""The state store: jobs, sequence counters and the request journal.

:class:`StateStore` is the interface the queue, the control plane and the
journal use; :class:`MemoryStore` keeps everything in this process (the default).
A persistent implementation (SQLite, for ``--data-dir``) satisfies the same
interface, so the queue logic is written once.

Rules every implementation keeps:

* read-modify-write of a job happens inside :meth:`StateStore.transaction`, and a
  job is written back with :meth:`StateStore.save_job` (in memory that is a no-op
  because the object is shared; on disk it is the write);
* :meth:`StateStore.prune` never removes an unfinished job.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from ..jobs.model import Job, queue_position


class StateStore(Protocol):
    """What the rest of the mock needs from a store."""

    #: Identifies the server run this store belongs to (generation claims of other runs are dead).
    run_id: str

    def transaction(self) -> Any:
        """A context manager giving exclusive read-modify-write access."""

    def next_sequence(self, kind: str) -> int: ...

    def add_job(self, job: Job) -> None: ...

    def get_job(self, request_id: str) -> Job | None: ...

    def save_job(self, job: Job) -> None: ...

    def jobs(self, *, namespace: str | None = None, app_id: str | None = None) -> list[Job]: ...

    def unfinished_jobs(self, *, app_id: str | None = None, namespace: str | None = None) -> list[Job]: ...

    def count_unfinished(self) -> int: ...

    def queued_ahead(self, job: Job) -> int:
        """Queued jobs of ``job``'s app and namespace ahead of it (its 0-based queue position)."""

    def unfinished_ids(self, *, progression: str | None = None) -> list[str]:
        """Ids of unfinished jobs (of one progression), oldest first — cheap enough for a ticker."""

    def prune(self, now: float, max_finished: int, max_result_bytes: int) -> list[Job]: ...

    def journal_append(self, entry: dict[str, Any], limit: int) -> None: ...

    def journal(self, *, namespace: str | None = None) -> list[dict[str, Any]]: ...

    def clear(self, namespace: str | None = None) -> list[Job]: ...

    def close(self) -> None: ...

    # --- generation claims (several processes sharing one store) --------------------------
    def claim(self, request_id: str, owner: str, now: float, until: float) -> bool:
        """Take the lease to generate ``request_id`` until ``until`` (wall seconds); False if another holds it.

        A lease is held by ``owner`` (``<run id>/<pid>/<runner>``); it lapses at its ``until`` or when its
        owner belongs to another server run (a process of an earlier run is dead).
        """

    def renew_claims(self, request_ids: Iterable[str], owner: str, until: float) -> None:
        """Extend the leases ``owner`` holds on ``request_ids``."""

    def orphans(self, run_id: str, now: float) -> list[str]:
        """Unfinished jobs without an outcome whose generation nobody alive holds."""

    def journal_prune(self, before: float) -> None:
        """Drop journal entries recorded (``at``, on the app's clock) before ``before``."""


class MemoryStore:
    """Everything in this process's memory; thread-safe behind one re-entrant lock."""

    def __init__(self) -> None:
        self.run_id = "memory"
        self._lock = threading.RLock()
        self._counters: dict[str, itertools.count[int]] = {}
        self._jobs: dict[str, Job] = {}
        self._unfinished: dict[str, Job] = {}
        #: Finished jobs in completion order (for the count cap) and by expiry (for retention).
        self._finished_order: dict[str, None] = {}
        self._expiry_heap: list[tuple[float, str]] = []
        self._result_bytes = 0
        self._journal: deque[dict[str, Any]] = deque()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            yield

    def next_sequence(self, kind: str) -> int:
        with self._lock:
            counter = self._counters.setdefault(kind, itertools.count(1))
            return next(counter)

    def add_job(self, job: Job) -> None:
        with self._lock:
            self._jobs[job.request_id] = job
            if job.finished:
                self._mark_finished(job)
            else:
                self._unfinished[job.request_id] = job

    def get_job(self, request_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(request_id)

    def save_job(self, job: Job) -> None:
        with self._lock:
            if job.request_id not in self._jobs:
                return
            self._jobs[job.request_id] = job
            if job.finished and job.request_id in self._unfinished:
                del self._unfinished[job.request_id]
                self._mark_finished(job)

    def _mark_finished(self, job: Job) -> None:
        self._finished_order[job.request_id] = None
        outcome = job.final_outcome()
        self._result_bytes += outcome.result_bytes if outcome else 0
        if job.result_expires_at is not None:
            heapq.heappush(self._expiry_heap, (job.result_expires_at, job.request_id))

    def jobs(self, *, namespace: str | None = None, app_id: str | None = None) -> list[Job]:
        with self._lock:
            return [
                job
                for job in self._jobs.values()
                if (namespace is None or job.namespace == namespace) and (app_id is None or job.app_id == app_id)
            ]

    def unfinished_jobs(self, *, app_id: str | None = None, namespace: str | None = None) -> list[Job]:
        with self._lock:
            return [
                job
                for job in self._unfinished.values()
                if (app_id is None or job.app_id == app_id) and (namespace is None or job.namespace == namespace)
            ]

    def count_unfinished(self) -> int:
        with self._lock:
            return len(self._unfinished)

    def queued_ahead(self, job: Job) -> int:
        return queue_position(job, self.unfinished_jobs(app_id=job.app_id, namespace=job.namespace))

    def unfinished_ids(self, *, progression: str | None = None) -> list[str]:
        with self._lock:
            return [
                rid for rid, job in self._unfinished.items() if progression is None or job.progression == progression
            ]

    def prune(self, now: float, max_finished: int, max_result_bytes: int) -> list[Job]:
        """Drop finished jobs whose result expired, then the oldest beyond the caps."""
        removed: list[Job] = []
        with self._lock:
            while self._expiry_heap and self._expiry_heap[0][0] <= now:
                _, request_id = heapq.heappop(self._expiry_heap)
                job = self._jobs.get(request_id)
                expires = job.result_expires_at if job is not None and job.finished else None
                if expires is not None and expires <= now:
                    removed.append(self._drop(request_id))
            while self._finished_order and (
                len(self._finished_order) > max_finished or self._result_bytes > max_result_bytes
            ):
                oldest = next(iter(self._finished_order))
                removed.append(self._drop(oldest))
            if len(self._expiry_heap) > 2 * len(self._finished_order) + 64:
                self._expiry_heap = [item for item in self._expiry_heap if item[1] in self._finished_order]
                heapq.heapify(self._expiry_heap)
        return removed

    def _drop(self, request_id: str) -> Job:
        job = self._jobs.pop(request_id)
        self._finished_order.pop(request_id, None)
        outcome = job.final_outcome()
        self._result_bytes -= outcome.result_bytes if outcome else 0
        return job

    def journal_append(self, entry: dict[str, Any], limit: int) -> None:
        with self._lock:
            self._journal.append(entry)
            while len(self._journal) > limit:
                self._journal.popleft()

    def journal(self, *, namespace: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [entry for entry in self._journal if namespace is None or entry.get("namespace") == namespace]

    def clear(self, namespace: str | None = None) -> list[Job]:
        """Forget jobs and journal entries (of one namespace, or all); returns the jobs dropped."""
        with self._lock:
            doomed = [job for job in self._jobs.values() if namespace is None or job.namespace == namespace]
            for job in doomed:
                self._jobs.pop(job.request_id, None)
                self._unfinished.pop(job.request_id, None)
                if self._finished_order.pop(job.request_id, 0) is None:
                    outcome = job.final_outcome()
                    self._result_bytes -= outcome.result_bytes if outcome else 0
            kept = [entry for entry in self._journal if namespace is not None and entry.get("namespace") != namespace]
            self._journal = deque(kept)
            if namespace is None:
                self._expiry_heap = []
                self._result_bytes = 0
            return doomed

    def close(self) -> None:
        """Nothing to release in memory."""

    def claim(self, request_id: str, owner: str, now: float, until: float) -> bool:
        """One process owns everything in memory: the runner's own bookkeeping is the claim."""
        return True

    def renew_claims(self, request_ids: Iterable[str], owner: str, until: float) -> None:
        """Nothing to renew in memory."""

    def orphans(self, run_id: str, now: float) -> list[str]:
        """In memory, jobs die with their process: there are never orphans."""
        return []

    def journal_prune(self, before: float) -> None:
        with self._lock:
            while self._journal and float(self._journal[0].get("at", before)) < before:
                self._journal.popleft()
