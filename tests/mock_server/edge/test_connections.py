"""Connection hardening of ``fal-mock serve``: header and body timeouts, the connection cap, quiet repeated logs."""

from __future__ import annotations

import errno
import json
import logging
import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fal_mock.mock_server.edge.connections import (
    RESERVED_FDS,
    GuardedHttpToolsProtocol,
    RepeatLimiter,
    accept_batch,
    connection_cap,
)
from fal_mock.mock_server.settings import Settings

from tests.support import ServeProcess

HALF_REQUEST = b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def address(server: ServeProcess) -> tuple[str, int]:
    parts = urlsplit(server.url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


def read_to_eof(sock: socket.socket, timeout: float = 20.0) -> bytes:
    """Everything the server sends until it closes the connection (socket.timeout if it never does)."""
    sock.settimeout(timeout)
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def health(host: str, port: int) -> bytes:
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return read_to_eof(sock)


# --- pure parts ---------------------------------------------------------------------------------------------
def test_the_cap_stays_below_the_open_file_limit() -> None:
    settings = Settings(max_connections=1_000)
    assert accept_batch(1024) == 120
    assert connection_cap(settings, 1024) == 1024 - RESERVED_FDS - 4 * 120 == 480
    assert connection_cap(settings, 100_000) == 1_000
    assert connection_cap(settings, None, unlimited=True) == 1_000
    assert connection_cap(Settings(max_connections=0), 1024) == 1
    assert accept_batch(None) == accept_batch(10**9) == 2048


def accept_error(name: str = "asyncio") -> logging.LogRecord:
    error = OSError(errno.EMFILE, "Too many open files")
    return logging.LogRecord(name, logging.ERROR, __file__, 1, "socket.accept() out of system resource", (),
                             (OSError, error, None))  # fmt: skip


def test_repeated_accept_errors_pass_once_per_interval_with_a_count() -> None:
    now = [100.0]
    limiter = RepeatLimiter(10.0, clock=lambda: now[0])
    assert limiter.filter(accept_error())
    passed = [limiter.filter(accept_error()) for _ in range(5000)]
    assert not any(passed)
    now[0] += 10.5
    record = accept_error()
    assert limiter.filter(record)
    assert "suppressed 5000 similar messages in the last 10 s" in record.getMessage()
    # another kind of message is not held back by the first
    other = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "Task exception was never retrieved", (), None)
    assert limiter.filter(other)


def test_an_interval_of_zero_logs_every_record() -> None:
    limiter = RepeatLimiter(0.0, clock=lambda: 0.0)
    assert all(limiter.filter(accept_error()) for _ in range(10))


# --- on a real socket ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_half_sent_request_gets_408_and_is_closed_after_the_header_timeout(tmp_path: Path) -> None:
    with ServeProcess(tmp_path, "--set", "header_timeout_seconds=0.5") as server:
        with socket.create_connection(address(server), timeout=10) as sock:
            sock.sendall(HALF_REQUEST)
            answer = read_to_eof(sock)  # uvicorn alone never answers: the read times out
        assert answer.startswith(b"HTTP/1.1 408 ")
        detail = json.loads(answer.split(b"\r\n\r\n", 1)[1])["detail"]
        assert "header_timeout_seconds" in detail
        # a connection that sends nothing at all is closed as well
        with socket.create_connection(address(server), timeout=10) as sock:
            assert read_to_eof(sock).startswith(b"HTTP/1.1 408 ")
        assert b'"status":"ok"' in health(*address(server)).replace(b" ", b"")
        # the second request of a keep-alive connection has the same deadline
        with socket.create_connection(address(server), timeout=10) as sock:
            sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + HALF_REQUEST)
            answers = read_to_eof(sock)
        assert answers.startswith(b"HTTP/1.1 200 OK")
        assert b"HTTP/1.1 408 " in answers


@pytest.mark.slow
def test_a_stalled_body_is_closed_after_the_body_timeout(tmp_path: Path) -> None:
    with ServeProcess(tmp_path, "--set", "body_timeout_seconds=0.5") as server:
        with socket.create_connection(address(server), timeout=10) as sock:
            sock.sendall(b"POST /_mock/faults HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100\r\n\r\n{\"a\": ")  # fmt: skip
            answer = read_to_eof(sock)  # uvicorn alone waits for the rest: the read times out
        assert answer == b""  # the handler, still reading, saw a disconnect: no answer
        assert b" 200 OK" in health(*address(server))


@pytest.mark.slow
def test_at_the_cap_a_new_client_closes_the_oldest_half_sent_connection(tmp_path: Path) -> None:
    args = ("--set", "max_connections=5", "--set", "header_timeout_seconds=0")  # no timeout: only the cap closes
    with ServeProcess(tmp_path, *args) as server:
        host, port = address(server)
        slow = [socket.create_connection((host, port), timeout=10) for _ in range(5)]
        try:
            for sock in slow:
                sock.sendall(HALF_REQUEST)
            assert b" 200 OK" in health(host, port)
            assert read_to_eof(slow[0]) == b""  # the oldest half-sent connection made room
        finally:
            for sock in slow:
                sock.close()


@pytest.mark.slow
def test_at_the_cap_with_every_connection_busy_a_new_one_gets_503(tmp_path: Path) -> None:
    args = ("--set", "max_connections=2", "--set", "header_timeout_seconds=0", "--set", "body_timeout_seconds=0")
    with ServeProcess(tmp_path, *args) as server:
        host, port = address(server)
        busy = [socket.create_connection((host, port), timeout=10) for _ in range(2)]
        try:
            for sock in busy:  # headers complete, body still coming: a request in progress, not evictable
                sock.sendall(b"POST /_mock/faults HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                             b"Expect: 100-continue\r\nContent-Length: 100\r\n\r\n")  # fmt: skip
                assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue")  # the handler reads: headers parsed
            answer = health(host, port)
            assert answer.startswith(b"HTTP/1.1 503 ")
            assert b"max_connections" in answer
        finally:
            for sock in busy:
                sock.close()
        assert b" 200 OK" in health(host, port)  # room again once they are gone


def test_the_serve_loggers_get_one_limiter_each(caplog: pytest.LogCaptureFixture) -> None:
    from fal_mock.mock_server.edge.connections import LIMITED_LOGGERS, install_log_limits

    try:
        install_log_limits(Settings(log_repeat_seconds=3600))
        install_log_limits(Settings(log_repeat_seconds=3600))  # again (each worker process does): still one
        for name in LIMITED_LOGGERS:
            assert sum(isinstance(item, RepeatLimiter) for item in logging.getLogger(name).filters) == 1
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            for _ in range(1000):
                logging.getLogger("asyncio").error("socket.accept() out of system resource",
                                                   exc_info=OSError(errno.EMFILE, "Too many open files"))  # fmt: skip
        assert len([r for r in caplog.records if r.name == "asyncio"]) == 1
    finally:
        for name in LIMITED_LOGGERS:
            logger = logging.getLogger(name)
            for item in [item for item in logger.filters if isinstance(item, RepeatLimiter)]:
                logger.removeFilter(item)


# --- the lazy connection timer ------------------------------------------------------------------------------
class FakeLoop:
    """Loop time the test moves, and the timers set on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.timers: list[FakeTimer] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(when, callback)
        self.timers.append(timer)
        return timer

    def run_due(self) -> None:
        for timer in [t for t in self.timers if not t.cancelled and t.when <= self.now]:
            self.timers.remove(timer)
            timer.callback()

    def pending(self) -> list[float]:
        return sorted(t.when for t in self.timers if not t.cancelled)


class FakeTimer:
    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when, self.callback, self.cancelled = when, callback, False

    def cancel(self) -> None:
        self.cancelled = True


def timed_protocol() -> tuple[GuardedHttpToolsProtocol, FakeLoop, list[str]]:
    """The protocol's timer half alone (no server): a fake loop and callbacks that note what fired."""
    protocol = object.__new__(GuardedHttpToolsProtocol)
    loop = FakeLoop()
    fired: list[str] = []
    protocol.loop = loop  # type: ignore[assignment]
    protocol._timer, protocol._timer_at, protocol._deadline = None, 0.0, None
    protocol._on_deadline = lambda: fired.append("none")
    return protocol, loop, fired


def test_one_timer_serves_a_keep_alive_connection_and_fires_at_the_deadline_in_force() -> None:
    protocol, loop, fired = timed_protocol()
    protocol._arm(10, lambda: fired.append("headers"))
    for _ in range(1000):  # a thousand requests: body deadline, done, the next one's header deadline
        loop.now += 0.001
        protocol._arm(30, lambda: fired.append("body"))
        protocol._cancel_timer()
        protocol._arm(10, lambda: fired.append("headers"))
    assert len(loop.timers) == 1  # no timer per request
    loop.now = 110.0
    loop.run_due()  # the first deadline passed, but the one in force is later: re-armed for it
    assert fired == []
    assert loop.pending() == [pytest.approx(111.0)]
    loop.now = 111.5
    loop.run_due()
    assert fired == ["headers"]


def test_an_earlier_deadline_moves_the_timer_and_a_cancelled_one_never_fires() -> None:
    protocol, loop, fired = timed_protocol()
    protocol._arm(30, lambda: fired.append("body"))
    protocol._arm(5, lambda: fired.append("headers"))  # earlier than the timer: the timer moves
    assert loop.pending() == [105.0]
    loop.now = 105.0
    loop.run_due()
    assert fired == ["headers"]
    protocol._arm(5, lambda: fired.append("again"))
    protocol._cancel_timer()
    loop.now = 200.0
    loop.run_due()
    assert fired == ["headers"]
    assert loop.pending() == []
    protocol._arm(0, lambda: fired.append("never"))  # 0 = no deadline
    assert loop.pending() == []
    protocol._arm(5, lambda: fired.append("stopped"))
    protocol._stop_timer()  # the connection is gone: the timer itself is cancelled
    assert loop.pending() == []


def test_a_timer_that_fires_a_moment_early_counts_as_on_time() -> None:
    protocol, loop, fired = timed_protocol()
    protocol._arm(5, lambda: fired.append("headers"))
    loop.now = 105.0 - 0.0009  # uvloop runs call_at callbacks up to ~1 ms early
    for timer in list(loop.timers):
        loop.timers.remove(timer)
        timer.callback()
    assert fired == ["headers"]
    assert loop.pending() == []  # no re-arm for the last millisecond
