"""One socket write per response: a transport that joins the writes made within one turn of the event loop.

uvicorn writes a response in two calls — the status line and headers at ``http.response.start``,
then the body — and with ``TCP_NODELAY`` (which the server sets, see :mod:`.server`) each call is a
system call and a packet of its own.  For the answers a polling client repeats (a status body of
~400 bytes) that second write is a large share of the server's work per request; the client's
kernel wakes it twice too.  :class:`CoalescingTransport` holds what is written and hands it to the
real transport once, at the end of the current turn of the event loop (``loop.call_soon``): a
response whose start and body are sent in the same turn — every JSON answer of the mock — leaves in
one ``writelines`` (vectored: no copy of the body), streamed answers leave chunk by chunk as before
(each turn flushes what it wrote).

Rules:

* the order of bytes is kept; nothing is held past the current turn of the loop;
* ``close`` and ``write_eof`` send what is held first; ``abort`` drops it (as it drops the real
  transport's buffer);
* everything else (flow control, ``get_extra_info``, ``is_closing``, ...) is the real transport's;
* :class:`.limits.BoundedHttpToolsProtocol` uses it for plain HTTP and hands the real transport to a
  WebSocket upgrade.
"""

from __future__ import annotations

import asyncio
from typing import Any


class CoalescingTransport:
    """Wraps an ``asyncio.Transport``: writes within one loop turn become one ``writelines``."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self.loop = loop
        self.held: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self.held:
            self.loop.call_soon(self.flush)
        self.held.append(bytes(data) if not isinstance(data, bytes) else data)

    def writelines(self, items: Any) -> None:
        for item in items:
            self.write(item)

    def flush(self) -> None:
        """Hand what is held to the real transport (one call), unless it closed meanwhile."""
        if not self.held:
            return
        held, self.held = self.held, []
        if self.transport.is_closing():
            return
        if len(held) == 1:
            self.transport.write(held[0])
        else:
            self.transport.writelines(held)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def abort(self) -> None:
        self.held.clear()
        self.transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)
