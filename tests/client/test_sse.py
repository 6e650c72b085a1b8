"""The SSE decoder reads fal's status stream: data events, pings, multi-line data, a missing last blank line."""

from __future__ import annotations

from fal_mock.client._sse import SSEDecoder, SSEvent


def decode(text: str) -> list[SSEvent]:
    decoder = SSEDecoder()
    events = [event for line in text.split("\n") if (event := decoder.feed(line)) is not None]
    last = decoder.flush()
    return events + ([last] if last else [])


def test_data_events_and_pings() -> None:
    text = 'data: {"status": "IN_PROGRESS"}\n\n: ping\n\ndata: {"status": "COMPLETED"}\n\n'
    assert decode(text) == [SSEvent('{"status": "IN_PROGRESS"}'), SSEvent('{"status": "COMPLETED"}')]


def test_multi_line_data_event_names_ids_and_crlf() -> None:
    text = "event: status\r\nid: 7\r\ndata: a\r\ndata:b\r\nretry: 10\r\n\r\n"
    assert decode(text) == [SSEvent("a\nb", event="status", id="7")]


def test_a_last_event_without_its_blank_line_is_flushed() -> None:
    assert decode("data: x") == [SSEvent("x")]


def test_blank_lines_alone_make_no_events() -> None:
    assert decode("\n\n: only a comment\n\n") == []
