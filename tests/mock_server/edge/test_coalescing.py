"""The coalescing transport: a response's writes leave in one call, in order, and nothing is held past a loop turn.

On real sockets it carries every answer of ``fal-mock serve`` in the suite's served tests (``test_cli``,
``test_security``, the official clients' subprocess runs).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fal_mock.mock_server.edge.coalescing import CoalescingTransport


class Recorder(asyncio.Transport):
    """A transport that records what reaches it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.calls.append(("write", bytes(data)))

    def writelines(self, items: Any) -> None:
        self.calls.append(("writelines", [bytes(item) for item in items]))

    def close(self) -> None:
        self.closing = True
        self.calls.append(("close", None))

    def abort(self) -> None:
        self.closing = True
        self.calls.append(("abort", None))

    def write_eof(self) -> None:
        self.calls.append(("write_eof", None))

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1)}.get(name, default)


async def test_writes_of_one_turn_leave_together_in_order() -> None:
    raw = Recorder()
    transport = CoalescingTransport(raw, asyncio.get_running_loop())
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.write(bytearray(b'{"a":'))
    transport.write(b"")
    transport.writelines([memoryview(b"1}")])
    assert raw.calls == []  # held until the turn ends
    await asyncio.sleep(0)
    assert raw.calls == [("writelines", [b"HTTP/1.1 200 OK\r\n\r\n", b'{"a":', b"1}"])]
    transport.write(b"next chunk")  # a later turn: its own call
    await asyncio.sleep(0)
    assert raw.calls[-1] == ("write", b"next chunk")


async def test_close_and_eof_send_what_is_held_abort_drops_it() -> None:
    loop = asyncio.get_running_loop()
    raw = Recorder()
    transport = CoalescingTransport(raw, loop)
    transport.write(b"last words")
    transport.close()
    assert raw.calls == [("write", b"last words"), ("close", None)]
    await asyncio.sleep(0)
    assert len(raw.calls) == 2  # the scheduled flush finds nothing left

    raw = Recorder()
    transport = CoalescingTransport(raw, loop)
    transport.write(b"a")
    transport.write_eof()
    assert raw.calls == [("write", b"a"), ("write_eof", None)]

    raw = Recorder()
    transport = CoalescingTransport(raw, loop)
    transport.write(b"dropped")
    transport.abort()
    await asyncio.sleep(0)
    assert raw.calls == [("abort", None)]
    assert transport.get_extra_info("peername") == ("127.0.0.1", 1)  # the rest is the real transport's
