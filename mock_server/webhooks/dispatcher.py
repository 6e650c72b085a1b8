"""Webhook deliveries: fal's signed POST when a queued request completes, with retries and a journal.

A job submitted with ``?fal_webhook=<url>`` gets one delivery when it becomes
COMPLETED (protocol reference §4).  :class:`WebhookDispatcher` is registered as a
completion listener of the queue; the listener only *records* the delivery and
hands it to the dispatcher's own thread, which runs an asyncio loop with an
``httpx.AsyncClient`` — so a slow or dead receiver never blocks the queue, the
app's event loop or any other delivery (each attempt is its own task).

Module layout: the dispatcher and its errors live here; the pure rules it applies —
the body, the retry schedule, the target policy, URL masking — in
:mod:`.policy`; the journal's records (:class:`~.records.Delivery`,
:class:`~.records.Attempt`) in :mod:`.records`; their persistence with
``--data-dir`` in :mod:`.journal`.

The body is :func:`~.policy.delivery_payload`; a payload that cannot be
serialised is sent as ``"payload": null`` + fal's ``payload_error`` text, also on
purpose — the submit header ``X-Fal-Mock-Webhook-Unserializable: true`` or
:meth:`WebhookDispatcher.force_payload_error` — so receivers can test that branch.

Headers: ``Content-Type: application/json`` and the four ``X-Fal-Webhook-*`` headers
of :mod:`.signing`, re-signed for every attempt with the *attempt's* timestamp (the
app's clock, whole seconds), so a retry two hours later still passes the receivers'
±300 s check.  No credentials are ever sent.

Isolation: each network target (scheme, host, port) has its own httpx client, so its own
connection pool of ``webhook_connections_per_target`` connections: 300 deliveries to a
receiver that never answers wait in that pool and cannot delay a delivery to another
receiver.  The receiver's answer is streamed and read up to ``webhook_response_body_bytes``
(1 KiB; kept as the attempt's ``response_body``), then the connection is dropped: a 345 MB
answer is never buffered.

Retries: a non-2xx answer, a connection failure or a timeout
(``webhook_timeout_seconds``, 15 s) fails the attempt.  3xx answers are not
followed and count as failures (retried like the others; a third-party note says
fal gives up on them at once — uncertain).  The next attempt is due on the schedule
of :func:`~.policy.retry_delay`, up to ``max_webhook_retries`` retries (with
the defaults 11 attempts over 7161 s).

Time: retries are due on the app's clock.  With the wall clock (``SystemClock``,
``fal-mock serve``) the dispatcher arms its own timers; with any other clock
(``ManualClock`` in tests) nothing is retried until the test moves the clock and
calls :meth:`WebhookDispatcher.deliver_due`.  First attempts go out at once.

Targets (loopback by default, nothing reaches the internet unless asked): URLs
matched by an in-process route (:meth:`WebhookDispatcher.route`, which sends into an
ASGI app or any httpx transport with no socket), else what
:func:`~.policy.target_refusal` allows (loopback hosts, hosts in
``webhook_allow_hosts``).  Anything else is recorded as a failed delivery with the
reason and no network attempt.

The journal keeps every delivery and each attempt (clock time, status code, error
text, wall-clock duration, the headers sent).  Finished deliveries beyond
``webhook_journal_size`` are dropped oldest first; unfinished ones are never
dropped.  Credentials in webhook URLs are masked in the journal and in log lines
(:func:`~.policy.redact_url`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..clock import Clock, SystemClock
from ..contract_check import check_contract
from ..files.store import FileStore
from ..ids import short_token
from ..jobs.model import Job
from ..persistence.protocol import StateStore
from ..settings import Settings
from .errors import DeliveryNotFound, DeliveryStateError
from .journal import WebhookJournal
from .policy import delivery_payload, encode_body, redact_url, retry_delay, route_matches, target_refusal
from .records import FINISHED, Attempt, Delivery, Entry
from .signing import WebhookSigner

log = logging.getLogger("fal_mock.webhooks")

USER_AGENT = "fal-mock-webhooks/1"
DELIVERY_CONTRACT = "webhooks/delivery"
#: Network clients kept at once (one per target: scheme, host and port).
MAX_TARGET_CLIENTS = 64
#: Key prefix of a network target's client (in-process routes are keyed by their target).
NETWORK_KEY = "net:"


async def _answer_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """The answer's bytes as they arrive (already read in full by some in-process transports: then those)."""
    if response.is_stream_consumed:
        yield response.content
        return
    async for chunk in response.aiter_raw():
        yield chunk


def _target_key(url: str) -> str:
    """One network target: scheme, host and port of ``url``."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return f"{NETWORK_KEY}{parts.scheme}://{(parts.hostname or '').lower()}:{port}"
    except ValueError:
        return NETWORK_KEY




# --- the dispatcher -----------------------------------------------------------------------


class WebhookDispatcher:
    """Sends webhook deliveries on its own thread and keeps the delivery journal.

    Thread-safe: every public method may be called from any thread (tests, the
    app's event loop, runner workers) and returns at once, except the ``wait_*``
    methods — do not call those on the dispatcher's own thread (an in-process
    receiver runs there).
    """

    def __init__(
        self,
        *,
        settings: Settings,
        clock: Clock,
        files: FileStore,
        signer: WebhookSigner | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        auto_schedule: bool | None = None,
        store: StateStore,
        owner: str,
    ) -> None:
        """``transport``: the httpx transport for network deliveries (default: a real one).
        ``auto_schedule``: arm wall-clock timers for retries (default: only with a ``SystemClock``)."""
        self.settings = settings
        self.clock = clock
        self.files = files
        self.signer = signer or WebhookSigner(settings.seed)
        self._transport = transport
        self._auto = isinstance(clock, SystemClock) if auto_schedule is None else auto_schedule
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._routes: dict[str, httpx.AsyncBaseTransport] = {}
        self._clients: dict[str, httpx.AsyncClient] = {}
        #: Attempts in flight per client key (an idle client may be closed).
        self._in_flight: dict[str, int] = {}
        self._forced: set[str] = set()
        #: Deliveries dropped while an attempt was in flight (they end dropped unless it succeeds).
        self._dropping: set[str] = set()
        self._paused = False
        self._closed = False
        self._sequence = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        #: The deliveries as the state store keeps them (:mod:`.journal`): they outlive a restart with ``--data-dir``.
        self._journal = WebhookJournal(store, owner)
        self._restore()

    # --- intake ----------------------------------------------------------------------------
    def job_completed(self, job: Job) -> None:
        """A completion subscriber of the queue: record a delivery for ``job`` if it has a webhook URL."""
        if not job.webhook_url:
            return
        with self._lock:
            force = job.webhook_payload_error or job.request_id in self._forced
            entry = self._new_entry(job.request_id, job.namespace, job.webhook_url, job=job, force=force)
            self._admit(entry)

    def force_payload_error(self, request_id: str) -> None:
        """Make the webhook of ``request_id`` (completing later) carry ``payload: null`` + ``payload_error``."""
        with self._lock:
            self._forced.add(request_id)

    # --- reading ---------------------------------------------------------------------------
    def deliveries(
        self, *, request_id: str | None = None, namespace: str | None = None, state: str | None = None
    ) -> list[Delivery]:
        """The journal (every worker's, with a shared store), oldest first, optionally filtered."""
        with self._lock:
            return [
                self._snapshot(entry)
                for entry in self._all_entries()
                if (request_id is None or entry.request_id == request_id)
                and (namespace is None or entry.namespace == namespace)
                and (state is None or entry.state == state)
            ]

    def get(self, delivery_id: str) -> Delivery:
        with self._lock:
            entry = self._entries.get(delivery_id) or self._stored_entry(delivery_id)
            if entry is None:
                raise DeliveryNotFound(delivery_id)
            return self._snapshot(entry)

    def _all_entries(self) -> list[Entry]:
        """This process's deliveries merged with every other worker's from the store, oldest first."""
        merged: list[Entry] = []
        seen: set[str] = set()
        for stored in self._journal.stored():
            merged.append(self._entries.get(stored.id) or stored)
            seen.add(stored.id)
        merged += [entry for key, entry in self._entries.items() if key not in seen]
        return merged

    def _stored_entry(self, delivery_id: str) -> Entry | None:
        return next((entry for entry in self._journal.stored() if entry.id == delivery_id), None)

    @property
    def paused(self) -> bool:
        return self._paused

    def idle(self) -> bool:
        """True when no attempt is in flight."""
        with self._lock:
            return not any(entry.state == "sending" for entry in self._entries.values())

    def jwks(self) -> dict[str, Any]:
        return self.signer.jwks()

    # --- operations ------------------------------------------------------------------------
    def deliver_due(self) -> list[Delivery]:
        """Start every pending delivery whose next attempt is due on the clock; returns them (not while paused)."""
        with self._lock:
            if self._paused or self._closed:
                return []
            now = self.clock.now()
            due = [
                entry
                for entry in self._entries.values()
                if entry.state == "pending" and entry.next_attempt_at is not None and entry.next_attempt_at <= now
            ]
            for entry in due:
                self._start(entry)
            return [self._snapshot(entry) for entry in due]

    def trigger(self, delivery_id: str) -> Delivery:
        """Attempt a pending (or failed) delivery now, whatever its schedule (also while paused)."""
        with self._lock:
            entry = self._entry(delivery_id)
            if entry.state not in ("pending", "failed"):
                raise DeliveryStateError(
                    f"webhook delivery {delivery_id} is {entry.state}: only pending or failed deliveries can be "
                    "triggered (use resend for a new delivery of the same payload)"
                )
            self._start(entry)
            return self._snapshot(entry)

    def resend(self, delivery_id: str) -> Delivery:
        """A new delivery of the same payload to the same URL (same request id: test idempotent handlers)."""
        with self._lock:
            original = self._entry(delivery_id)
            entry = self._new_entry(original.request_id, original.namespace, original.url, job=original.job,
                                    force=original.force_payload_error)  # fmt: skip
            entry.body, entry.status, entry.resend_of = original.body, original.status, original.id
            self._admit(entry)
            return self._snapshot(entry)

    def drop(self, delivery_id: str) -> Delivery:
        """Stop delivering (no further attempts; an attempt in flight finishes and is recorded)."""
        with self._lock:
            entry = self._entry(delivery_id)
            if entry.state == "delivered":
                raise DeliveryStateError(f"webhook delivery {delivery_id} was already delivered")
            if entry.state == "sending":
                self._dropping.add(entry.id)
            else:
                entry.state = "dropped"
            entry.next_attempt_at = None
            self._persist(entry)
            self._changed.notify_all()
            return self._snapshot(entry)

    def delay(self, delivery_id: str, seconds: float) -> Delivery:
        """Push a pending delivery's next attempt ``seconds`` later on the clock.

        First attempts go out at once: :meth:`pause` first to hold them (out-of-order arrival tests).
        """
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds < math.inf:
            raise ValueError(f"seconds must be a finite number >= 0, not {seconds!r}")
        with self._lock:
            entry = self._entry(delivery_id)
            if entry.state != "pending":
                raise DeliveryStateError(
                    f"webhook delivery {delivery_id} is {entry.state}: only pending ones can be delayed"
                )
            now = self.clock.now()
            entry.next_attempt_at = max(entry.next_attempt_at or now, now) + float(seconds)
            self._arm(entry.next_attempt_at)
            self._persist(entry)
            return self._snapshot(entry)

    def pause(self) -> None:
        """Hold every new and due attempt (deliveries stay pending) until :meth:`resume`."""
        with self._lock:
            self._paused = True

    def resume(self) -> list[Delivery]:
        """Stop holding; starts (and returns) what is due."""
        with self._lock:
            self._paused = False
        return self.deliver_due()

    def clear(self, namespace: str | None = None) -> int:
        """Forget deliveries (of one namespace, or all); returns how many. Attempts in flight finish unrecorded."""
        with self._lock:
            doomed = [key for key, entry in self._entries.items() if namespace is None or entry.namespace == namespace]
            for key in doomed:
                del self._entries[key]
            if namespace is None:
                self._forced.clear()
            self._journal.clear(namespace)
            self._changed.notify_all()
            return len(doomed)

    # --- in-process targets ----------------------------------------------------------------
    def route(self, target: str, app: Any = None, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        """Deliver URLs matching ``target`` into ``app`` (ASGI, via ``httpx.ASGITransport``) or ``transport``.

        ``target`` is a URL prefix (``http://receiver.test/hooks``) or a host name with an
        optional port (``receiver.test``, ``127.0.0.1:9000``).  Routed URLs skip the target
        policy: nothing leaves the process.
        """
        if (app is None) == (transport is None):
            raise ValueError("route() needs exactly one of app or transport")
        chosen = transport if transport is not None else httpx.ASGITransport(app=app)
        with self._lock:
            self._routes[target] = chosen
            old = self._clients.pop(target, None)
        if old is not None:
            self._close_later(old)

    def unroute(self, target: str) -> None:
        with self._lock:
            self._routes.pop(target, None)
            old = self._clients.pop(target, None)
        if old is not None:
            self._close_later(old)

    # --- waiting ---------------------------------------------------------------------------
    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no attempt is in flight (True) or ``timeout`` wall seconds pass (False).

        Covers the deliveries recorded so far; a job's delivery is recorded when the job
        completes, which a runner thread may do a moment after a submit returns — to wait
        for one job's webhook, use :meth:`wait_for`.
        """
        with self._changed:
            return self._changed.wait_for(
                lambda: not any(entry.state == "sending" for entry in self._entries.values()), timeout
            )

    async def wait_idle_async(self, timeout: float = 10.0) -> bool:  # noqa: ASYNC109 - the wait runs in a thread
        return await asyncio.to_thread(self.wait_idle, timeout)

    def wait_for(self, request_id: str, *, attempts: int = 1, timeout: float = 10.0) -> Delivery:
        """The first delivery of ``request_id`` once it has ``attempts`` finished attempts or is finished.

        Raises ``TimeoutError`` (with the journal's view of the request) after ``timeout`` wall seconds.
        """

        def ready() -> Entry | None:
            for entry in self._entries.values():
                if (
                    entry.request_id == request_id
                    and entry.state != "sending"
                    and (len(entry.attempts) >= attempts or entry.state in FINISHED)
                ):
                    return entry
            return None

        with self._changed:
            found = self._changed.wait_for(ready, timeout)
            if found is None:
                seen = [self._snapshot(e).to_json() for e in self._entries.values() if e.request_id == request_id]
                raise TimeoutError(f"no webhook delivery of {request_id} with {attempts} attempt(s) after "
                                   f"{timeout:g} s; journal: {seen}")  # fmt: skip
            return self._snapshot(found)

    async def wait_for_async(
        self,
        request_id: str,
        *,
        attempts: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - the wait runs in a thread
    ) -> Delivery:
        return await asyncio.to_thread(self.wait_for, request_id, attempts=attempts, timeout=timeout)

    # --- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the thread: attempts in flight are cancelled, clients closed. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        try:
            future.result(timeout=10)
        except Exception:  # pragma: no cover - shutting down regardless
            log.exception("fal-mock webhooks: error while shutting down")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)

    # --- internals (call with the lock held unless said otherwise) -------------------------
    def _persist(self, entry: Entry) -> None:
        """Write ``entry`` to the state store."""
        if entry.id in self._entries:
            self._journal.save(entry)
            if entry.state in FINISHED:
                self._trim()  # a finished delivery may now go (count and byte budgets)

    def _restore(self) -> None:
        """Load the stored deliveries; those left pending (or in flight) by a stop are due again."""
        with self._lock:
            now = self.clock.now()
            for entry, unfinished in self._journal.restore():
                self._entries[entry.id] = entry
                if unfinished:
                    entry.state = "pending"
                    entry.next_attempt_at = entry.next_attempt_at if entry.next_attempt_at is not None else now
                    self._arm(entry.next_attempt_at)
    def _entry(self, delivery_id: str) -> Entry:
        entry = self._entries.get(delivery_id)
        if entry is None:
            entry = self._stored_entry(delivery_id)  # another worker's (a shared data directory)
            if entry is None:
                raise DeliveryNotFound(delivery_id)
            if entry.state not in FINISHED:
                raise DeliveryStateError(f"webhook delivery {delivery_id!r} is being sent by another worker")
            if entry.body is None:
                entry.job = self._journal.store.get_job(entry.request_id)
            self._entries[entry.id] = entry  # adopted: a finished delivery is safe to act on here
        return entry

    def _new_entry(self, request_id: str, namespace: str, url: str, *, job: Job | None, force: bool) -> Entry:
        self._sequence = self._journal.next_sequence()
        entry = Entry(
            id="whd_" + short_token(self.settings.seed, "webhook-delivery", self._sequence, 16),
            request_id=request_id,
            namespace=namespace,
            url=url,
            created_at=self.clock.now(),
            job=job,
            force_payload_error=force,
        )
        self._entries[entry.id] = entry
        self._trim()
        return entry

    def _admit(self, entry: Entry) -> None:
        """A new delivery: refused by the target policy, held (paused) or started now."""
        refusal = self._refusal(entry.url)
        if refusal is not None:
            entry.state, entry.error = "failed", refusal
            log.warning("webhook %s for %s to %s: %s", entry.id, entry.request_id, redact_url(entry.url), refusal)
        elif self._paused or self._closed:
            entry.state, entry.next_attempt_at = "pending", entry.created_at
        else:
            self._start(entry)
        self._persist(entry)
        self._changed.notify_all()

    def _refusal(self, url: str) -> str | None:
        if self._route_for(url) is not None:
            return None
        return target_refusal(url, self.settings.webhook_allow_hosts)

    def _route_for(self, url: str) -> str | None:
        for target in sorted(self._routes, key=len, reverse=True):
            if route_matches(target, url):
                return target
        return None

    def _trim(self) -> None:
        """Drop the oldest finished deliveries beyond ``webhook_journal_size`` and ``max_webhook_journal_bytes``
        (the bytes of their bodies); unfinished deliveries are never dropped."""
        excess = len(self._entries) - self.settings.webhook_journal_size
        over = sum(len(entry.body or b"") for entry in self._entries.values()) - self.settings.max_webhook_journal_bytes
        if excess <= 0 and over <= 0:
            return
        doomed = []
        for key, entry in self._entries.items():
            if excess <= 0 and over <= 0:
                break
            if entry.state in FINISHED:
                doomed.append(key)
                excess -= 1
                over -= len(entry.body or b"")
        for key in doomed:
            del self._entries[key]
        if doomed:
            self._journal.delete(doomed)

    def _start(self, entry: Entry) -> None:
        if self._closed:
            entry.state, entry.next_attempt_at = "pending", entry.next_attempt_at or self.clock.now()
            return
        entry.state, entry.next_attempt_at = "sending", None
        self._changed.notify_all()
        loop = self._ensure_loop()
        loop.call_soon_threadsafe(self._spawn, entry.id)

    def _arm(self, due: float) -> None:
        if not self._auto or self._closed:
            return
        loop = self._ensure_loop()
        loop.call_soon_threadsafe(self._arm_on_loop, due)

    def _arm_on_loop(self, due: float) -> None:
        assert self._loop is not None
        self._loop.call_later(max(0.0, due - self.clock.now()) + 0.001, self.deliver_due)

    def _snapshot(self, entry: Entry) -> Delivery:
        return Delivery(
            id=entry.id,
            request_id=entry.request_id,
            namespace=entry.namespace,
            url=redact_url(entry.url),
            state=entry.state,
            status=entry.status,
            error=entry.error,
            created_at=entry.created_at,
            next_attempt_at=entry.next_attempt_at,
            delivered_at=entry.delivered_at,
            resend_of=entry.resend_of,
            in_process=self._route_for(entry.url) is not None,
            attempts=tuple(entry.attempts),
            body=entry.body,
        )

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                thread = threading.Thread(target=self._run_loop, args=(loop, ready), name="fal-mock-webhooks",
                                          daemon=True)  # fmt: skip
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _shutdown(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            await client.aclose()
        # The default executor (payload building; in-process receivers may use it too) is shut
        # down without waiting by ``loop.close()``: a receiver stuck in a thread cannot hold up close().

    def _close_later(self, client: httpx.AsyncClient) -> None:
        loop = self._loop
        if loop is not None and not self._closed:
            loop.call_soon_threadsafe(self._close_on_loop, client)

    def _close_on_loop(self, client: httpx.AsyncClient) -> None:
        assert self._loop is not None
        self._track(self._loop.create_task(client.aclose()))

    def _track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _spawn(self, entry_id: str) -> None:
        assert self._loop is not None
        self._track(self._loop.create_task(self._attempt(entry_id)))

    def _client_for(self, url: str) -> tuple[str, httpx.AsyncClient]:
        """The client for ``url``: its in-process route's, or one per network target (scheme, host, port).

        A target's own client is its own connection pool (``webhook_connections_per_target``
        connections): deliveries to a receiver that never answers wait in that pool only.  At most
        :data:`MAX_TARGET_CLIENTS` network clients are kept; the least recently used idle one goes first.
        """
        with self._lock:
            target = self._route_for(url) or ""
            key = target or _target_key(url)
            client = self._clients.pop(key, None)
            if client is None:
                transport = self._routes[target] if target else self._transport
                limits = httpx.Limits(max_connections=max(1, self.settings.webhook_connections_per_target),
                                      max_keepalive_connections=max(1, self.settings.webhook_connections_per_target))
                client = httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False, limits=limits,
                                           timeout=self.settings.webhook_timeout_seconds or None)  # fmt: skip
            self._clients[key] = client  # most recently used last
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
            if not target:
                self._close_idle_clients()
            return key, client

    def _release(self, key: str) -> None:
        with self._lock:
            left = self._in_flight.get(key, 0) - 1
            if left > 0:
                self._in_flight[key] = left
            else:
                self._in_flight.pop(key, None)

    def _close_idle_clients(self) -> None:
        """Keep at most :data:`MAX_TARGET_CLIENTS` network clients (lock held)."""
        network = [key for key in self._clients if key.startswith(NETWORK_KEY)]
        for key in network[: max(0, len(network) - MAX_TARGET_CLIENTS)]:
            if not self._in_flight.get(key):
                self._close_later(self._clients.pop(key))

    def _build(self, job: Job, force: bool) -> tuple[bytes, str]:
        payload = delivery_payload(job, self.files, force_payload_error=force)
        check_contract(self.settings.check_contracts, DELIVERY_CONTRACT, payload)
        return encode_body(payload), str(payload["status"])

    async def _attempt(self, entry_id: str) -> None:
        """One attempt of a delivery (on the dispatcher's loop)."""
        try:
            with self._lock:
                entry = self._entries.get(entry_id)
                if entry is None:
                    return
                job, body, force, url = entry.job, entry.body, entry.force_payload_error, entry.url
            if body is None:
                if job is None:  # pragma: no cover - an entry always has one of the two
                    raise RuntimeError("webhook delivery has neither a body nor a job")
                built, status = await asyncio.to_thread(self._build, job, force)
                with self._lock:
                    entry.body, entry.status, entry.job = built, status, None
                body = built
            refusal = self._refusal(url)
            if refusal is not None:
                self._finish(entry, None, refusal)
                return
            attempt = await self._post(entry, url, body)
            self._finish(entry, attempt, None)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("webhook %s: fal-mock could not deliver", entry_id)
            with self._lock:
                found = self._entries.get(entry_id)
                if found is not None:
                    found.state, found.error = "failed", f"fal-mock internal error: {type(error).__name__}: {error}"
                    self._changed.notify_all()

    async def _post(self, entry: Entry, url: str, body: bytes) -> Attempt:
        at = self.clock.now()
        number = len(entry.attempts) + 1
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **self.signer.headers(entry.request_id, self.settings.user_id, int(at), body),
        }
        key, client = self._client_for(url)
        timeout = self.settings.webhook_timeout_seconds or None
        cap = self.settings.webhook_response_body_bytes
        kept = bytearray()
        truncated = False
        status_code: int | None = None
        error: str | None = None
        location: str | None = None
        answered = False
        started = time.perf_counter()

        async def exchange() -> None:
            """POST, then read the answer up to ``cap`` bytes and stop (a huge answer is never buffered)."""
            nonlocal status_code, location, truncated, answered
            async with client.stream("POST", url, content=body, headers=headers) as response:
                status_code, location = response.status_code, response.headers.get("location")
                async for chunk in _answer_chunks(response):
                    room = cap - len(kept)
                    if len(chunk) > room:
                        kept.extend(chunk[:room])
                        truncated = True
                        break
                    kept.extend(chunk)
                answered = True

        try:
            await asyncio.wait_for(exchange(), timeout)
            assert status_code is not None
            if 300 <= status_code < 400:
                error = f"HTTP {status_code}: redirect not followed" + (
                    f" (Location: {redact_url(location)})" if location else ""
                )
            elif not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except (TimeoutError, httpx.TimeoutException):
            error = f"timed out after {timeout:g} s" + (" reading the answer" if status_code is not None else "")
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}".rstrip(": ")
        except Exception as failure:  # an in-process receiver raised
            error = f"receiver raised {type(failure).__name__}: {failure}".rstrip(": ")
        finally:
            self._release(key)
        shown = bytes(kept).decode("utf-8", "replace") if answered or kept else None
        return Attempt(number, at, status_code, error, time.perf_counter() - started, headers, shown, truncated)

    def _finish(self, entry: Entry, attempt: Attempt | None, refusal: str | None) -> None:
        with self._lock:
            dropping = entry.id in self._dropping
            self._dropping.discard(entry.id)
            if attempt is not None:
                entry.attempts.append(attempt)
            if refusal is not None:
                entry.state, entry.error = "failed", refusal
            elif attempt is not None and attempt.ok:
                entry.state, entry.error, entry.delivered_at = "delivered", None, attempt.at
            elif dropping:
                entry.state = "dropped"
                entry.error = attempt.error if attempt is not None else entry.error
            else:
                entry.error = attempt.error if attempt is not None else entry.error
                failed = sum(1 for item in entry.attempts if not item.ok)
                if len(entry.attempts) <= self.settings.max_webhook_retries:
                    entry.state = "pending"
                    entry.next_attempt_at = self.clock.now() + retry_delay(failed, self.settings)
                    self._arm(entry.next_attempt_at)
                else:
                    entry.state = "failed"
            if attempt is not None:
                log.info(
                    "webhook %s for %s attempt %d to %s: %s",
                    entry.id, entry.request_id, attempt.number, redact_url(entry.url),
                    "delivered" if attempt.ok else f"{attempt.error} ({entry.state})",
                )  # fmt: skip
            self._persist(entry)
            self._trim()
            self._changed.notify_all()
