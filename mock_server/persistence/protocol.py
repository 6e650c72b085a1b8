"""The state store contract: jobs, sequence counters, the request journal and the webhook journal.

:class:`StateStore` is what the core needs from persistence.  Two implementations keep the same
contract — :class:`~.memory.MemoryStore` (the default) and :class:`~.sqlite.SqliteStore`
(``--data-dir``, shared by worker processes) — and the suites of the queue, faults, webhooks and
retention run against both.

Rules every implementation keeps:

* **copies in, copies out**: :meth:`get_job` (and every method returning jobs) hands out a copy,
  :meth:`add_job`/:meth:`save_job` keep a copy; a change to a job counts once it is saved;
* a read-modify-write happens inside :meth:`transaction` (or through :meth:`update_job`, one
  read and at most one write), so concurrent writers — threads or processes — never lose one;
* :meth:`prune` never removes an unfinished job;
* documents (:meth:`document`) hold small shared state as JSON — the fault book — so every worker sees it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ..jobs.model import Job


class StateStore(Protocol):
    """What the core needs from a store."""

    #: Identifies the server run this store belongs to (generation claims of other runs are dead).
    run_id: str

    def transaction(self) -> Any:
        """A context manager giving exclusive read-modify-write access (re-entrant)."""

    def next_sequence(self, kind: str) -> int: ...

    # --- jobs --------------------------------------------------------------------------------
    def add_job(self, job: Job) -> None: ...

    def get_job(self, request_id: str) -> Job | None: ...

    def save_job(self, job: Job) -> None: ...

    def update_job(self, request_id: str, change: Callable[[Job], bool]) -> Job | None:
        """Read a job, let ``change`` modify it (returns whether it did), save it if so; the job after.

        Atomic; exceptions from ``change`` propagate and nothing is saved.  None if there is no job.
        """

    def jobs(self, *, namespace: str | None = None, app_id: str | None = None) -> list[Job]: ...

    def unfinished_jobs(self, *, app_id: str | None = None, namespace: str | None = None) -> list[Job]: ...

    def count_unfinished(self) -> int: ...

    def count_queued(self, *, app_id: str, namespace: str) -> int:
        """IN_QUEUE jobs of one endpoint and namespace (``fal_max_queue_length``)."""

    def queued_ahead(self, job: Job) -> int:
        """Queued jobs of ``job``'s endpoint, namespace and progression ahead of it (its 0-based position)."""

    def unfinished_ids(self, *, progression: str | None = None) -> list[str]:
        """Ids of unfinished jobs (of one progression), oldest first — cheap enough for a ticker."""

    def prune(self, now: float, max_finished: int, max_result_bytes: int) -> list[Job]: ...

    def clear(self, namespace: str | None = None) -> list[Job]:
        """Forget jobs and journal entries (of one namespace, or all); the jobs dropped (webhooks: webhook_clear)."""

    def close(self) -> None: ...

    # --- generation claims (several processes sharing one store) ----------------------------
    def claim(self, request_id: str, owner: str, now: float, until: float) -> bool:
        """Take the lease to generate ``request_id`` until ``until`` (wall seconds); False if another holds it.

        A lease is held by ``owner`` (``<run id>/<pid>/<runner>``); it lapses at its ``until`` or when its
        owner belongs to another server run (a process of an earlier run is dead).
        """

    def renew_claims(self, request_ids: Iterable[str], owner: str, until: float) -> None:
        """Extend the leases ``owner`` holds on ``request_ids``."""

    def orphans(self, run_id: str, now: float) -> list[str]:
        """Unfinished jobs whose output was wanted, is not stored, and that nobody alive generates."""

    # --- request journal ---------------------------------------------------------------------
    def journal_append(self, entry: dict[str, Any], limit: int) -> None: ...

    def journal(self, *, namespace: str | None = None) -> list[dict[str, Any]]: ...

    def journal_prune(self, before: float) -> None:
        """Drop journal entries recorded (``at``, on the app's clock) before ``before``."""

    # --- webhook deliveries ------------------------------------------------------------------
    def webhook_save(self, delivery_id: str, request_id: str, namespace: str, state: str, owner: str,
                     record: dict[str, Any]) -> None:  # fmt: skip
        """Insert or replace one delivery record (it keeps its first position); ``owner`` sends it."""

    def webhook_take(self, delivery_id: str, owner: str) -> bool:
        """Make ``owner`` the sender of an unfinished delivery whose sender is gone (another server run)."""

    def webhook_records(self, *, namespace: str | None = None) -> list[dict[str, Any]]:
        """Every delivery record, oldest first."""

    def webhook_delete(self, delivery_ids: Iterable[str]) -> None: ...

    def webhook_clear(self, namespace: str | None = None) -> None: ...

    # --- shared documents (small state every worker must see: the fault book) ----------------
    def document(self, name: str) -> dict[str, Any] | None:
        """The JSON document ``name`` (a copy), None if it was never written."""

    def document_text(self, name: str) -> str | None:
        """The JSON text of document ``name`` (what :meth:`document` parses), None if it was never written."""

    def put_document(self, name: str, value: dict[str, Any]) -> None:
        """Replace the document ``name`` (read-modify-write inside :meth:`transaction`)."""
