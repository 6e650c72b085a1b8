"""Connection hardening for ``fal-mock serve``: read timeouts, a connection cap and quiet accept-error logs.

uvicorn alone lets a client hold a connection forever by sending half a request (it has a
keep-alive timeout between requests, none while a request's headers or body trickle in), and
accepts connections until the process runs out of file descriptors — after which the event loop
logs every failed ``accept()`` (an adversarial run: 1,100 half-sent connections at
``ulimit -n 1024`` denied all service for 45 s and wrote 183 MB of ``EMFILE`` lines).

:class:`GuardedHttpToolsProtocol` (the protocol :func:`.server.uvicorn_config` serves with; it
keeps the URL and header limits of :class:`.limits.BoundedHttpToolsProtocol`) adds, per
process:

* **a header timeout** — ``Settings.header_timeout_seconds`` (10 s; 0 = none): a connection
  must deliver a request's complete headers within this many seconds of connecting or of the
  first byte of that request.  Beyond it the client gets **408** ``{"detail": ...}`` and the
  connection is closed.  Idle keep-alive connections are closed by uvicorn's keep-alive
  timeout (``Settings.keep_alive_seconds``, 5 s);
* **a body timeout** — ``Settings.body_timeout_seconds`` (30 s; 0 = none): the longest pause
  between two pieces of a request body.  Beyond it the connection is closed (the handler
  sees a disconnect).  Pauses while the app itself is not reading (flow control) do not count;
* **a connection cap** — ``Settings.max_connections`` (1,000).  At the cap a new connection
  closes the *oldest connection still waiting for its request headers* (a slow-loris
  connection or an idle keep-alive one); when every connection is busy with a request the new
  one is answered **503** and closed.  So half-sent connections can never lock out a client
  that sends its request at once (``/_mock/health`` keeps answering).

  The cap must keep the process below its open-file limit: asyncio accepts a whole batch of
  pending connections per wake-up (uvicorn's ``backlog``) before any of them reaches the
  protocol, and on ``EMFILE`` it stops accepting for a full second — which is what denied
  service before.  So ``serve`` raises the soft open-file limit to the hard one
  (:func:`raise_open_file_limit`), sets the accept batch (and listen queue) to an eighth of the
  descriptors left after :data:`RESERVED_FDS` (:func:`accept_batch`, 16 … 2048), and lowers the
  cap to the limit minus :data:`RESERVED_FDS` minus :data:`BATCHES_IN_FLIGHT` batches
  (:func:`connection_cap`): at ``ulimit -n 1024`` that is 120 per batch and a cap of 480
  connections.  (Several ``--workers`` each hold their own cap.)

Timers use the event loop's clock (``loop.call_later``); they shape connections, never
outputs.

:class:`RepeatLimiter` is a :class:`logging.Filter` that lets one record of a kind (logger,
message template, exception type and errno) through per ``Settings.log_repeat_seconds``
(10 s; 0 = no limit) and appends ``(suppressed K similar messages in the last N s)`` to the
next one that passes.  :func:`install_log_limits` puts it on the ``asyncio`` logger (where
the event loop, uvloop's included, reports failed ``accept()`` calls) and on
``uvicorn.error``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import resource
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE

from ..jobs.errors import PlainError
from ..settings import Settings
from .limits import BoundedHttpToolsProtocol, settings_of

#: File descriptors kept free for everything but client connections (listening socket, SQLite, stored files, logs).
RESERVED_FDS = 64
#: Bounds of one accept batch (:func:`accept_batch`).
MIN_ACCEPT_BATCH = 16
MAX_ACCEPT_BATCH = 2048
#: Accept batches that can arrive before the first of them has closed older connections (asyncio: the accept,
#: the transport's creation, ``connection_made``, the evicted socket's close — one loop iteration each).
BATCHES_IN_FLIGHT = 4
#: Attribute of uvicorn's per-server state holding the connections waiting for headers, oldest first.
WAITING_ATTR = "fal_mock_waiting_for_headers"
#: How early a connection timer may fire and still count as on time (uvloop runs ``call_at`` callbacks up to
#: ~1 ms before ``loop.time()`` reaches their moment; re-arming for the rest would spin).
TIMER_SLACK_SECONDS = 0.002
#: Loggers :func:`install_log_limits` quietens.
LIMITED_LOGGERS = ("asyncio", "uvicorn.error")


def open_file_limit() -> int | None:
    """This process's open-file limit (the soft one), None when unlimited."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def raise_open_file_limit() -> int | None:
    """Raise the soft open-file limit to the hard one (as Go programs do at start); returns the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return open_file_limit()


def accept_batch(limit: int | None) -> int:
    """Connections asyncio accepts per wake-up (uvicorn's ``backlog``, also the listen queue): an eighth of the
    descriptors left after :data:`RESERVED_FDS`, between :data:`MIN_ACCEPT_BATCH` and :data:`MAX_ACCEPT_BATCH`."""
    if limit is None:
        return MAX_ACCEPT_BATCH
    return max(MIN_ACCEPT_BATCH, min(MAX_ACCEPT_BATCH, (limit - RESERVED_FDS) // 8))


def connection_cap(settings: Settings, limit: int | None = None, *, unlimited: bool = False) -> int:
    """Connections one process keeps open: ``max_connections``, and below the open-file limit by
    :data:`RESERVED_FDS` and :data:`BATCHES_IN_FLIGHT` accept batches (accepted before the cap can close others)."""
    if limit is None and not unlimited:
        limit = open_file_limit()
    if limit is None:
        return max(1, settings.max_connections)
    return max(1, min(settings.max_connections, limit - RESERVED_FDS - BATCHES_IN_FLIGHT * accept_batch(limit)))


def header_timeout_error(seconds: float) -> PlainError:
    return PlainError(408, f"Request headers not received within {seconds:g} s (header_timeout_seconds)")


def over_capacity_error(cap: int) -> PlainError:
    return PlainError(503, f"Too many open connections ({cap}, max_connections); retry shortly")


class GuardedHttpToolsProtocol(BoundedHttpToolsProtocol):
    """uvicorn's httptools protocol with header/body timeouts and a per-process connection cap."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = settings_of(self.app)
        self._header_seconds = settings.header_timeout_seconds
        self._body_seconds = settings.body_timeout_seconds
        self._cap = connection_cap(settings)
        #: True from connecting (or a request's first byte) until that request's headers are complete.
        self.awaiting_headers = False
        #: The one timer of this connection (see :meth:`_arm`), when it fires, and the deadline it serves.
        self._timer: Any = None
        self._timer_at = 0.0
        self._deadline: float | None = None
        self._on_deadline: Callable[[], None] = self._headers_too_slow
        self._requests_begun = 0
        self._waiting_connections: OrderedDict[GuardedHttpToolsProtocol, None] | None = None

    # --- the connection cap --------------------------------------------------------------------
    def _waiting(self) -> OrderedDict[GuardedHttpToolsProtocol, None]:
        """This server's connections waiting for request headers, oldest first (kept on uvicorn's server state)."""
        waiting = self._waiting_connections
        if waiting is None:
            waiting = getattr(self.server_state, WAITING_ATTR, None)
            if waiting is None:
                waiting = OrderedDict()
                setattr(self.server_state, WAITING_ATTR, waiting)
            self._waiting_connections = waiting
        return waiting

    def _set_awaiting(self, awaiting: bool) -> None:
        if not awaiting and not self.awaiting_headers:
            return  # not waiting, and never was: nothing to take off the list
        self.awaiting_headers = awaiting
        waiting = self._waiting()
        if awaiting:
            waiting[self] = None
            waiting.move_to_end(self)
        else:
            waiting.pop(self, None)

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        if len(self.connections) > self._cap and not self._evict_one():
            self._answer_and_close(over_capacity_error(self._cap))
            return
        self._set_awaiting(True)
        self._arm(self._header_seconds, self._headers_too_slow)

    def _evict_one(self) -> bool:
        """Close the oldest other connection still waiting for its headers; False when there is none."""
        waiting = self._waiting()
        while waiting:
            oldest, _ = waiting.popitem(last=False)
            if oldest is not self and oldest.transport is not None and not oldest.transport.is_closing():
                oldest.close_waiting()
                return True
        return False

    def close_waiting(self) -> None:
        """Close this connection (it waits for headers): the cap needs its place."""
        self._stop_timer()
        self._set_awaiting(False)
        self.connections.discard(self)
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        self._set_awaiting(False)
        super().connection_lost(exc)

    # --- the timers ------------------------------------------------------------------------------
    # One event-loop timer per connection, moved lazily: arming a deadline is a field write unless the
    # deadline comes before the timer; a timer that fires early re-arms itself for the deadline.  So a
    # keep-alive connection answering thousands of requests schedules about one timer per
    # ``header_timeout_seconds`` instead of two per request (measured: ~2 us a request on the status-poll path).
    def _cancel_timer(self) -> None:
        """No deadline any more (the timer, if set, lapses when it fires)."""
        self._deadline = None

    def _stop_timer(self) -> None:
        self._deadline = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self, seconds: float, callback: Callable[[], None]) -> None:
        """Call ``callback`` in ``seconds`` (loop time) unless re-armed or cancelled first; 0 = no deadline."""
        if seconds <= 0:
            self._deadline = None
            return
        deadline = self.loop.time() + seconds
        self._deadline, self._on_deadline = deadline, callback
        if self._timer is None or self._timer_at > deadline:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_at(deadline, self._timer_fired)
            self._timer_at = deadline

    def _timer_fired(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline is None:
            return
        if self.loop.time() < deadline - TIMER_SLACK_SECONDS:  # moved on since it was set: wait for the one in force
            self._timer = self.loop.call_at(deadline, self._timer_fired)
            self._timer_at = deadline
            return
        self._deadline = None
        self._on_deadline()

    def _arm_header_timer(self) -> None:
        self._set_awaiting(True)
        self._arm(self._header_seconds, self._headers_too_slow)

    def _headers_too_slow(self) -> None:
        if self.awaiting_headers and not self.transport.is_closing():
            self._answer_and_close(header_timeout_error(self._header_seconds))

    def _body_too_slow(self) -> None:
        if self.transport.is_closing():
            return
        if self.flow is not None and self.flow.read_paused:  # the app is not reading: not the client's pause
            self._arm(self._body_seconds, self._body_too_slow)
            return
        self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._requests_begun += 1
        if self._requests_begun > 1:  # a request after an earlier one on this connection: a fresh wait
            self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._set_awaiting(False)
        self._arm(self._body_seconds, self._body_too_slow)
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._arm(self._body_seconds, self._body_too_slow)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._cancel_timer()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Between requests uvicorn's keep-alive timer runs; the connection waits for headers again
        # (it may be closed first at the cap).
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self._set_awaiting(True)

    def _answer_and_close(self, error: PlainError) -> None:
        self._stop_timer()
        self._set_awaiting(False)
        body = json.dumps(error.body(), separators=(",", ":")).encode()
        head = [STATUS_LINE[error.status_code]]
        for name, value in self.server_state.default_headers:
            head.extend([name, b": ", value, b"\r\n"])
        head.extend([b"content-type: application/json\r\n",
                     b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                     b"connection: close\r\n", b"\r\n", body])  # fmt: skip
        self.transport.write(b"".join(head))
        self.transport.close()


# --- quiet logs --------------------------------------------------------------------------------------


class RepeatLimiter(logging.Filter):
    """Lets one record of a kind through per ``interval`` seconds, counting the ones it holds back.

    ``clock`` is a monotonic seconds function (``time.monotonic``; tests pass their own).
    """

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self.clock = clock
        #: kind → (when the last record of it passed, records suppressed since).
        self._seen: dict[tuple[str, str, str, int | None], tuple[float, int]] = {}

    @staticmethod
    def kind(record: logging.LogRecord) -> tuple[str, str, str, int | None]:
        error = record.exc_info[1] if record.exc_info else None
        if error is None and isinstance(record.args, dict):
            found = record.args.get("exception")
            error = found if isinstance(found, BaseException) else None
        number = getattr(error, "errno", None)
        kind = type(error).__name__ if error else ""
        return record.name, str(record.msg), kind, number if isinstance(number, int) else None

    def filter(self, record: logging.LogRecord) -> bool:
        if self.interval <= 0:
            return True
        key = self.kind(record)
        now = self.clock()
        last = self._seen.get(key)
        if last is not None and now - last[0] < self.interval:
            self._seen[key] = (last[0], last[1] + 1)
            return False
        if len(self._seen) >= 1024:  # bounded: forget the kinds of the oldest records
            for stale in sorted(self._seen, key=lambda item: self._seen[item][0])[:512]:
                del self._seen[stale]
        self._seen[key] = (now, 0)
        if last is not None and last[1]:
            record.msg = f"{record.msg} (suppressed {last[1]} similar messages in the last {now - last[0]:.0f} s)"
        return True


def install_log_limits(settings: Settings, loggers: tuple[str, ...] = LIMITED_LOGGERS) -> list[RepeatLimiter]:
    """Put a :class:`RepeatLimiter` (``log_repeat_seconds``) on ``loggers``, replacing one installed before."""
    installed = []
    for name in loggers:
        logger = logging.getLogger(name)
        for old in [item for item in logger.filters if isinstance(item, RepeatLimiter)]:
            logger.removeFilter(old)
        limiter = RepeatLimiter(settings.log_repeat_seconds)
        logger.addFilter(limiter)
        installed.append(limiter)
    return installed
