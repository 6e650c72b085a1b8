"""A small server-sent-events decoder (the part of the SSE spec fal's status stream uses).

fal's status stream (protocol reference §1.6) sends ``data: <status JSON>`` events
separated by blank lines and ``: ping`` comments.  This decoder takes lines (as
``httpx.Response.iter_lines()`` / ``aiter_lines()`` yield them) and returns an event
when a blank line ends one: ``data`` lines are joined with ``\\n``, ``event``/``id`` are
kept, comments and ``retry`` are ignored.  It is written here instead of depending on
``httpx-sse`` at runtime: the client then needs nothing beyond httpx, and the decoder is
shared by the sync and async clients.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SSEvent:
    data: str
    event: str = "message"
    id: str | None = None


@dataclass
class SSEDecoder:
    _data: list[str] = field(default_factory=list)
    _event: str = ""
    _id: str | None = None

    def feed(self, line: str) -> SSEvent | None:
        """Consume one line (without its line break); return the event a blank line completes."""
        line = line.rstrip("\r\n")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        return None

    def flush(self) -> SSEvent | None:
        """The event left pending when the stream ended without a final blank line."""
        return self._dispatch()

    def _dispatch(self) -> SSEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = SSEvent(data="\n".join(self._data), event=self._event or "message", id=self._id)
        self._data = []
        self._event = ""
        return event
