"""The state store in this process's memory (the default): :class:`MemoryStore`.

It keeps the contract of :mod:`.protocol` exactly as the SQLite store does — jobs go in and come
out as copies — so code that forgets a ``save_job`` fails the same way on both.  Everything sits
behind one re-entrant lock; there is one process, so generation claims always succeed and
there are never orphans.

Queue positions are O(log n): queued jobs are indexed per (endpoint, namespace, progression) in a
sorted list of their queue order keys, and counted per (endpoint, namespace), kept up to date on
every add, save and drop — a status poll never scans the backlog (:meth:`MemoryStore.queued_ahead`
is a ``bisect``; :meth:`MemoryStore.count_queued` a dict lookup).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import json
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ..jobs.budgets import retained_bytes
from ..jobs.model import Job, JobState, queue_order_key
from .protocol import StateStore

__all__ = ["MemoryStore", "StateStore"]


class MemoryStore:
    """Everything in this process's memory; thread-safe behind one re-entrant lock."""

    def __init__(self) -> None:
        self.run_id = "memory"
        self._lock = threading.RLock()
        self._counters: dict[str, itertools.count[int]] = {}
        self._jobs: dict[str, Job] = {}
        self._unfinished: dict[str, Job] = {}
        #: Finished jobs in completion order (for the count cap), each with its weight against the byte cap
        #: (:func:`~..jobs.budgets.retained_bytes`, measured once); and by expiry (for retention).
        self._finished_order: dict[str, int] = {}
        self._expiry_heap: list[tuple[float, str]] = []
        self._result_bytes = 0
        self._journal: deque[dict[str, Any]] = deque()
        self._deliveries: OrderedDict[str, tuple[str, str, str, dict[str, Any]]] = OrderedDict()
        #: Queued (stored state IN_QUEUE, unfinished) jobs: sorted queue keys per (app, namespace, progression),
        #: and counts per (app, namespace).
        self._queued_keys: dict[tuple[str, str, str], list[tuple[int, int, str]]] = {}
        self._queued_counts: dict[tuple[str, str], int] = {}
        #: Shared documents as JSON text (copies in, copies out).
        self._documents: dict[str, str] = {}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            yield

    def next_sequence(self, kind: str) -> int:
        with self._lock:
            counter = self._counters.setdefault(kind, itertools.count(1))
            return next(counter)

    # --- jobs --------------------------------------------------------------------------------
    def add_job(self, job: Job) -> None:
        job = job.copy()
        with self._lock:
            old = self._jobs.get(job.request_id)
            if old is not None:
                self._forget(old)
            self._jobs[job.request_id] = job
            if job.finished:
                self._mark_finished(job)
            else:
                self._unfinished[job.request_id] = job
                self._index(job, add=True)

    def get_job(self, request_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(request_id)
            return job.copy() if job is not None else None

    def save_job(self, job: Job) -> None:
        job = job.copy()
        with self._lock:
            old = self._jobs.get(job.request_id)
            if old is None:
                return
            self._jobs[job.request_id] = job
            if old.request_id in self._unfinished:
                self._index(self._unfinished[old.request_id], add=False)
                if not job.finished:
                    self._index(job, add=True)
                if job.finished:
                    del self._unfinished[job.request_id]
                    self._mark_finished(job)
                else:
                    self._unfinished[job.request_id] = job
            elif job.finished and job.request_id in self._finished_order:  # its outcome's size may have changed
                weight = _result_bytes(job)
                self._result_bytes += weight - self._finished_order[job.request_id]
                self._finished_order[job.request_id] = weight

    def update_job(self, request_id: str, change: Callable[[Job], bool]) -> Job | None:
        with self._lock:
            job = self.get_job(request_id)
            if job is None:
                return None
            if change(job):
                self.save_job(job)
            return job

    def _mark_finished(self, job: Job) -> None:
        weight = self._finished_order[job.request_id] = _result_bytes(job)
        self._result_bytes += weight
        if job.result_expires_at is not None:
            heapq.heappush(self._expiry_heap, (job.result_expires_at, job.request_id))

    def _forget(self, job: Job) -> None:
        unfinished = self._unfinished.pop(job.request_id, None)
        if unfinished is not None:
            self._index(unfinished, add=False)
        weight = self._finished_order.pop(job.request_id, None)
        if weight is not None:
            self._result_bytes -= weight

    def jobs(self, *, namespace: str | None = None, app_id: str | None = None) -> list[Job]:
        with self._lock:
            return [
                job.copy()
                for job in self._jobs.values()
                if (namespace is None or job.namespace == namespace) and (app_id is None or job.app_id == app_id)
            ]

    def unfinished_jobs(self, *, app_id: str | None = None, namespace: str | None = None) -> list[Job]:
        with self._lock:
            return [
                job.copy()
                for job in self._unfinished.values()
                if (app_id is None or job.app_id == app_id) and (namespace is None or job.namespace == namespace)
            ]

    def count_unfinished(self) -> int:
        with self._lock:
            return len(self._unfinished)

    def _index(self, job: Job, *, add: bool) -> None:
        """Add ``job`` (a stored, unfinished job) to the queued index, or take it out; only IN_QUEUE jobs count."""
        if job.state is not JobState.IN_QUEUE:
            return
        group = (job.app_id, job.namespace, job.progression)
        key = (*queue_order_key(job), job.request_id)
        keys = self._queued_keys.setdefault(group, [])
        counted = (job.app_id, job.namespace)
        if add:
            bisect.insort(keys, key)
            self._queued_counts[counted] = self._queued_counts.get(counted, 0) + 1
            return
        at = bisect.bisect_left(keys, key)
        if at < len(keys) and keys[at] == key:
            del keys[at]
            if not keys:
                del self._queued_keys[group]
            left = self._queued_counts.get(counted, 0) - 1
            if left > 0:
                self._queued_counts[counted] = left
            else:
                self._queued_counts.pop(counted, None)

    def count_queued(self, *, app_id: str, namespace: str) -> int:
        with self._lock:
            return self._queued_counts.get((app_id, namespace), 0)

    def queued_ahead(self, job: Job) -> int:
        with self._lock:
            keys = self._queued_keys.get((job.app_id, job.namespace, job.progression))
            if not keys:
                return 0
            return bisect.bisect_left(keys, queue_order_key(job))

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
                removed.append(self._drop(next(iter(self._finished_order))))
            if len(self._expiry_heap) > 2 * len(self._finished_order) + 64:
                self._expiry_heap = [item for item in self._expiry_heap if item[1] in self._finished_order]
                heapq.heapify(self._expiry_heap)
        return removed

    def _drop(self, request_id: str) -> Job:
        job = self._jobs.pop(request_id)
        self._forget(job)
        return job

    def clear(self, namespace: str | None = None) -> list[Job]:
        """Forget jobs and journal entries (of one namespace, or all); returns the jobs dropped."""
        with self._lock:
            doomed = [job for job in self._jobs.values() if namespace is None or job.namespace == namespace]
            for job in doomed:
                self._drop(job.request_id)
            kept = [entry for entry in self._journal if namespace is not None and entry.get("namespace") != namespace]
            self._journal = deque(kept)
            if namespace is None:
                self._expiry_heap = []
                self._result_bytes = 0
            return doomed

    def close(self) -> None:
        """Nothing to release in memory."""

    # --- generation claims: one process owns everything in memory ----------------------------
    def claim(self, request_id: str, owner: str, now: float, until: float) -> bool:
        with self._lock:
            job = self._jobs.get(request_id)
            return job is not None and job.final_outcome() is None

    def renew_claims(self, request_ids: Iterable[str], owner: str, until: float) -> None:
        """Nothing to renew in memory."""

    def orphans(self, run_id: str, now: float) -> list[str]:
        """In memory, jobs die with their process: there are never orphans."""
        return []

    # --- request journal ---------------------------------------------------------------------
    def journal_append(self, entry: dict[str, Any], limit: int) -> None:
        with self._lock:
            self._journal.append(entry)
            while len(self._journal) > limit:
                self._journal.popleft()

    def journal(self, *, namespace: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._journal if namespace is None or e.get("namespace") == namespace]

    def journal_prune(self, before: float) -> None:
        with self._lock:
            while self._journal and float(self._journal[0].get("at", before)) < before:
                self._journal.popleft()

    # --- webhook deliveries ------------------------------------------------------------------
    def webhook_save(self, delivery_id: str, request_id: str, namespace: str, state: str, owner: str,
                     record: dict[str, Any]) -> None:  # fmt: skip
        with self._lock:
            self._deliveries[delivery_id] = (namespace, state, owner, dict(record))

    def webhook_take(self, delivery_id: str, owner: str) -> bool:
        with self._lock:
            found = self._deliveries.get(delivery_id)
            if found is None:
                return False
            self._deliveries[delivery_id] = (found[0], found[1], owner, found[3])
            return True

    def webhook_records(self, *, namespace: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(item[3]) for item in self._deliveries.values() if namespace is None or item[0] == namespace]

    def webhook_delete(self, delivery_ids: Iterable[str]) -> None:
        with self._lock:
            for delivery_id in delivery_ids:
                self._deliveries.pop(delivery_id, None)

    def webhook_clear(self, namespace: str | None = None) -> None:
        with self._lock:
            doomed = [key for key, item in self._deliveries.items() if namespace is None or item[0] == namespace]
            for delivery_id in doomed:
                del self._deliveries[delivery_id]


    # --- shared documents --------------------------------------------------------------------
    def document_text(self, name: str) -> str | None:
        with self._lock:
            return self._documents.get(name)

    def document(self, name: str) -> dict[str, Any] | None:
        text = self.document_text(name)
        if text is None:
            return None
        value: dict[str, Any] = json.loads(text)
        return value

    def put_document(self, name: str, value: dict[str, Any]) -> None:
        text = json.dumps(value, separators=(",", ":"))
        with self._lock:
            self._documents[name] = text


def _result_bytes(job: Job) -> int:
    return retained_bytes(job)
