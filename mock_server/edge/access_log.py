"""The access log, written at a fraction of the cost of uvicorn's, line for line the same text.

``fal-mock serve`` logs one line per request, as uvicorn does
(``INFO:     127.0.0.1:50123 - "GET /queue/... HTTP/1.1" 200 OK``), with secrets in the query
redacted (:class:`..redaction.AccessLogRedactor`).  Through :mod:`logging` that line costs about
as much as answering a status poll (a ``LogRecord``, a copy of it in uvicorn's formatter, an
``HTTPStatus`` lookup, the filter, the handler's lock — ~25-55 µs measured against a ~50 µs bare
Starlette request), so the access log as shipped halved the mock's throughput.

:class:`FastAccessLog` stands in for the ``uvicorn.access`` logger inside the HTTP protocol
(:class:`.limits.BoundedHttpToolsProtocol`) and writes the same line straight to the handler's
stream: the line's frame is made **once per status code by uvicorn's own formatter** (with
placeholders for the client, method, path and HTTP version), so the text — colours on a terminal
included — is exactly what the formatter would produce; the path's query goes through the same
redaction.  The lines of the requests answered in one turn of the event loop are written together, in
one write, and the stream is flushed once, at the end of that turn (none waits longer than that turn).
So the cost does not depend on the stream's buffering: with ``PYTHONUNBUFFERED=1`` (common in
containers) every ``write`` is a system call, and one per request cost ~15 µs, measured.

Rules and limits:

* used only when the logger is configured as ``fal-mock serve`` configures it (one
  ``StreamHandler`` with uvicorn's ``AccessFormatter``, no filters but the redactor, not
  propagating) and ``INFO`` is enabled; any other configuration (a custom ``--log-config``, a
  test's capture handler) keeps the standard :mod:`logging` path — :func:`fast_access_log`
  returns ``None``;
* a frame whose placeholders the formatter did not keep in order (a custom format) is not used
  either: that status code's lines go through :mod:`logging`;
* at most :data:`MAX_FRAMES` frames are kept per log (status codes are 100-599; a stray code
  beyond that falls back to :mod:`logging`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.logging import AccessFormatter

from ..redaction import AccessLogRedactor, redact_target

#: Frames (one per status code) a log keeps.
MAX_FRAMES = 64
_PLACEHOLDERS = ("\x00client\x00", "\x00method\x00", "\x00path\x00", "\x00version\x00")
#: uvicorn's access log call: ``logger.info(ACCESS_FORMAT, client, method, path, version, status)``.
ACCESS_FORMAT = '%s - "%s %s HTTP/%s" %d'


class FastAccessLog:
    """Quacks like the ``uvicorn.access`` logger for the one call uvicorn's HTTP protocol makes."""

    def __init__(self, logger: logging.Logger, handler: logging.StreamHandler[Any], formatter: AccessFormatter) -> None:
        self.logger = logger
        self.handler = handler
        self.formatter = formatter
        self.frames: dict[int, str | None] = {}
        self.flush_scheduled = False
        self.flush_loop: asyncio.AbstractEventLoop | None = None
        #: The lines of the current turn of the event loop, written together by :meth:`flush`.
        self.held: list[str] = []

    def frame(self, status: int) -> str | None:
        """The line for ``status`` as a ``%s`` template of (client, method, path, version), or None."""
        if status in self.frames:
            return self.frames[status]
        record = self.logger.makeRecord(self.logger.name, logging.INFO, __file__, 0, ACCESS_FORMAT,
                                        (*_PLACEHOLDERS, status), None)  # fmt: skip
        text = self.formatter.format(record) + self.handler.terminator
        positions = [text.find(mark) for mark in _PLACEHOLDERS]
        frame: str | None = None
        if all(text.count(mark) == 1 for mark in _PLACEHOLDERS) and positions == sorted(positions):
            frame = text.replace("%", "%%")
            for mark in _PLACEHOLDERS:
                frame = frame.replace(mark, "%s")
        if len(self.frames) < MAX_FRAMES:
            self.frames[status] = frame
        return frame

    def info(self, msg: str, *args: Any) -> None:
        if msg != ACCESS_FORMAT or len(args) != 5 or not isinstance(args[4], int):
            self.logger.info(msg, *args)
            return
        client, method, path, version, status = args
        frame = self.frames.get(status) if status in self.frames else self.frame(status)
        if frame is None:
            self.logger.info(msg, *args)
            return
        if "?" in path:
            path = redact_target(path)
        self.held.append(frame % (client, method, path, version))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (not uvicorn's protocol): write and flush as logging would
            self.flush()
            return
        if not self.flush_scheduled or loop is not self.flush_loop:  # (a loop that stopped never flushed)
            loop.call_soon(self.flush)
            self.flush_scheduled, self.flush_loop = True, loop

    def flush(self) -> None:
        """Write the lines of one turn of the event loop at once, and flush the stream once."""
        self.flush_scheduled = False
        held, self.held = self.held, []
        if held:
            self.handler.stream.write("".join(held))
        self.handler.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.logger, name)  # anything else a caller may ask of a logger


def fast_access_log(logger: logging.Logger) -> FastAccessLog | None:
    """A :class:`FastAccessLog` for ``logger`` when it is configured as ``serve`` configures it, else None."""
    if not logger.isEnabledFor(logging.INFO) or logger.propagate or logger.filters or len(logger.handlers) != 1:
        return None
    handler = logger.handlers[0]
    if type(handler) is not logging.StreamHandler or not isinstance(handler.formatter, AccessFormatter):
        return None
    if handler.level > logging.INFO or any(not isinstance(item, AccessLogRedactor) for item in handler.filters):
        return None
    return FastAccessLog(logger, handler, handler.formatter)


#: Attribute of uvicorn's per-server state under which the server's one :class:`FastAccessLog` is kept.
_STATE_ATTRIBUTE = "fal_mock_access_log"


def access_log_for(server_state: Any, logger: logging.Logger) -> FastAccessLog | None:
    """The server's :class:`FastAccessLog` (made by its first connection, shared by the rest), or None."""
    if not hasattr(server_state, _STATE_ATTRIBUTE):
        setattr(server_state, _STATE_ATTRIBUTE, fast_access_log(logger))
    found: FastAccessLog | None = getattr(server_state, _STATE_ATTRIBUTE)
    return found
