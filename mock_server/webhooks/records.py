"""The webhook journal's records: each delivery of :class:`~.dispatcher.WebhookDispatcher` and its attempts.

* :class:`Entry` — the mutable record the dispatcher keeps per delivery (guarded by its
  lock; persisted by :mod:`.journal` with ``--data-dir``);
* :class:`Delivery` — an immutable snapshot of one, as the dispatcher hands it out (the
  URL with its credentials masked, the exact body bytes sent);
* :class:`Attempt` — one POST: clock time, status code, error text, wall-clock
  duration, the headers sent and the start of the receiver's answer (``response_body``: at
  most ``Settings.webhook_response_body_bytes``, decoded as UTF-8 with replacement; the
  rest is never read).

A delivery is in one of :data:`STATES`; the :data:`FINISHED` ones are the only ones the
journal drops (oldest first, beyond ``webhook_journal_size``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ..jobs.model import Job

State = Literal["pending", "sending", "delivered", "failed", "dropped"]
STATES: tuple[State, ...] = ("pending", "sending", "delivered", "failed", "dropped")
FINISHED: frozenset[str] = frozenset({"delivered", "failed", "dropped"})


@dataclass(frozen=True)
class Attempt:
    """One POST of a delivery."""

    number: int
    #: When it started, on the app's clock.
    at: float
    #: The receiver's answer, None when there was none (connection failure, timeout).
    status_code: int | None
    #: Why it failed, None when it succeeded.
    error: str | None
    #: Wall-clock seconds it took.
    duration_seconds: float
    #: The headers sent (Content-Type, User-Agent and the four X-Fal-Webhook-* headers).
    headers: dict[str, str]
    #: The start of the receiver's answer (``webhook_response_body_bytes`` at most), None when there was none.
    response_body: str | None = None
    #: True when the receiver sent more than ``response_body`` holds (the rest was not read).
    response_truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "at": self.at,
            "status_code": self.status_code,
            "error": self.error,
            "duration_seconds": round(self.duration_seconds, 6),
            "headers": dict(self.headers),
            "response_body": self.response_body,
            "response_truncated": self.response_truncated,
        }


@dataclass(frozen=True)
class Delivery:
    """A snapshot of one delivery as the journal holds it."""

    id: str
    request_id: str
    namespace: str
    #: The target URL, credentials masked.
    url: str
    state: State
    #: ``OK`` or ``ERROR`` once the body is built, else None.
    status: str | None
    #: The last failure (or the refusal) text, None when none.
    error: str | None
    created_at: float
    #: When the next attempt is due (pending deliveries), on the app's clock.
    next_attempt_at: float | None
    delivered_at: float | None
    #: The delivery this one re-sends (:meth:`~.dispatcher.WebhookDispatcher.resend`), else None.
    resend_of: str | None
    #: True when the URL goes to an in-process route rather than the network.
    in_process: bool
    attempts: tuple[Attempt, ...]
    #: The exact body bytes sent (None until the first attempt builds it).
    body: bytes | None

    def json(self) -> Any:
        """The body as JSON (None before it was built)."""
        return None if self.body is None else json.loads(self.body)

    def to_json(self, *, include_body: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "request_id": self.request_id,
            "namespace": self.namespace,
            "url": self.url,
            "state": self.state,
            "status": self.status,
            "error": self.error,
            "created_at": self.created_at,
            "next_attempt_at": self.next_attempt_at,
            "delivered_at": self.delivered_at,
            "resend_of": self.resend_of,
            "in_process": self.in_process,
            "body_bytes": None if self.body is None else len(self.body),
            "attempts": [attempt.to_json() for attempt in self.attempts],
        }
        if include_body:
            data["body"] = self.json()
        return data


@dataclass
class Entry:
    """The mutable record behind a :class:`Delivery` (guarded by the dispatcher's lock)."""

    id: str
    request_id: str
    namespace: str
    url: str
    created_at: float
    job: Job | None
    force_payload_error: bool
    state: State = "pending"
    status: str | None = None
    error: str | None = None
    next_attempt_at: float | None = None
    delivered_at: float | None = None
    resend_of: str | None = None
    body: bytes | None = None
    attempts: list[Attempt] = field(default_factory=list)
