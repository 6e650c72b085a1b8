"""Clocks: the one source of "now" for everything time-dependent in the mock.

Job progression in ``realistic`` mode, timestamps in logs and webhooks, request
ids, file expiry and result retention all read the app's clock.  ``serve`` uses
:class:`SystemClock`; tests and the pytest plugin use :class:`ManualClock`, which
only moves when the test moves it, so nothing in a test waits on wall time.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol

#: Where a :class:`ManualClock` starts unless told otherwise: 2026-01-01T00:00:00Z.
DEFAULT_EPOCH = 1_767_225_600.0


class Clock(Protocol):
    """Anything with a ``now()`` in Unix seconds."""

    def now(self) -> float: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that stands still until :meth:`advance` or :meth:`set` moves it.

    Thread-safe: the in-process transport may drive the app from a portal thread
    while the test thread advances the clock.
    """

    def __init__(self, start: float = DEFAULT_EPOCH) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (must be >= 0); returns the new time."""
        if seconds < 0:
            raise ValueError("a clock only moves forward: seconds must be >= 0")
        with self._lock:
            self._now += float(seconds)
            return self._now

    def set(self, timestamp: float) -> None:
        """Jump to ``timestamp`` (must not be in this clock's past)."""
        with self._lock:
            if timestamp < self._now:
                raise ValueError("a clock only moves forward")
            self._now = float(timestamp)

    def __repr__(self) -> str:
        return f"ManualClock({self.now()!r})"


def isoformat(timestamp: float, *, naive: bool = False) -> str:
    """ISO 8601 text of ``timestamp`` in UTC (microseconds; ``naive`` drops the offset as fal's log lines do)."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    if naive:
        return moment.replace(tzinfo=None).isoformat(timespec="microseconds")
    return moment.isoformat(timespec="microseconds")
