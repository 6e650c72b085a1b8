"""The webhook delivery journal in the state store: the deliveries of :class:`~.dispatcher.WebhookDispatcher`.

The dispatcher writes every delivery — its state, schedule, the exact body bytes and each attempt
(time, status, error, duration, headers sent) — to the state store (:mod:`..persistence`: in memory,
or the SQLite store's ``webhook_deliveries`` table with ``--data-dir``) whenever it changes, and
reads them back on startup: with ``--data-dir`` the journal survives a restart, and deliveries
that were pending (or in flight) when the server stopped are sent again on their schedule.  A
delivery whose body was never built is rebuilt from its job (if the job is still kept).

Several workers: each delivery has one sender (its ``owner``: the worker that completed the
job).  On startup a worker restores the finished deliveries for its journal and takes over
only the unfinished ones whose sender belonged to an earlier server run, so a pending
delivery is never sent by two workers.  Every worker's ``/_mock/webhooks`` lists the deliveries
of all workers (:meth:`WebhookJournal.stored`: the table holds them all; a worker's own in-memory
state wins for its own deliveries), and a finished delivery of another worker can be resent,
triggered or dropped from any worker (it is adopted); an unfinished one belongs to its sender (409).

Delivery ids come from the store's counter (``next_sequence("webhook-delivery")``), so they
never repeat across restarts or workers.
"""

from __future__ import annotations

import base64
from typing import Any

from ..persistence.protocol import StateStore
from .records import Attempt, Entry


class WebhookJournal:
    """Persists one dispatcher's deliveries in the app's state store."""

    def __init__(self, store: StateStore, owner: str) -> None:
        self.store = store
        self.owner = owner

    def next_sequence(self) -> int:
        return self.store.next_sequence("webhook-delivery")

    def save(self, entry: Entry) -> None:
        self.store.webhook_save(entry.id, entry.request_id, entry.namespace, entry.state, self.owner, record(entry))

    def delete(self, delivery_ids: list[str]) -> None:
        self.store.webhook_delete(delivery_ids)

    def clear(self, namespace: str | None) -> None:
        self.store.webhook_clear(namespace)

    def stored(self) -> list[Entry]:
        """Every stored delivery, whichever worker sends it, oldest first (read-only: nothing is taken over)."""
        return [entry_from(data, None) for data in self.store.webhook_records()]

    def restore(self) -> list[tuple[Entry, bool]]:
        """``(entry, unfinished_and_mine)`` for every stored delivery this process should hold, oldest first.

        Unfinished deliveries are included only when this process takes them over.
        """
        restored = []
        for data in self.store.webhook_records():
            unfinished = data["state"] in ("pending", "sending")
            if unfinished and not self.store.webhook_take(data["id"], self.owner):
                continue  # a live worker of this run sends it
            job = self.store.get_job(data["request_id"]) if data.get("body") is None else None
            restored.append((entry_from(data, job), unfinished))
        return restored


def record(entry: Entry) -> dict[str, Any]:
    """Everything a delivery needs to be listed and sent again (the URL unmasked: it is the target)."""
    return {
        "id": entry.id,
        "request_id": entry.request_id,
        "namespace": entry.namespace,
        "url": entry.url,
        "created_at": entry.created_at,
        "force_payload_error": entry.force_payload_error,
        "state": entry.state,
        "status": entry.status,
        "error": entry.error,
        "next_attempt_at": entry.next_attempt_at,
        "delivered_at": entry.delivered_at,
        "resend_of": entry.resend_of,
        "body": None if entry.body is None else base64.b64encode(entry.body).decode("ascii"),
        "attempts": [attempt.to_json() for attempt in entry.attempts],
    }


def entry_from(data: dict[str, Any], job: Any) -> Entry:
    return Entry(
        id=data["id"],
        request_id=data["request_id"],
        namespace=data["namespace"],
        url=data["url"],
        created_at=data["created_at"],
        job=job,
        force_payload_error=bool(data["force_payload_error"]),
        state=data["state"],
        status=data["status"],
        error=data["error"],
        next_attempt_at=data["next_attempt_at"],
        delivered_at=data["delivered_at"],
        resend_of=data["resend_of"],
        body=None if data["body"] is None else base64.b64decode(data["body"]),
        attempts=[Attempt(**attempt) for attempt in data["attempts"]],
    )
