"""What handlers read from a request: header lookups answer what Starlette's ``request.headers.get`` does."""

from __future__ import annotations

from fal_mock.mock_server.edge.request_parts import header, namespace
from starlette.requests import Request

RAW = [
    (b"host", b"queue.fal.run"),
    (b"x-fal-queue-priority", b"low"),
    (b"x-fal-queue-priority", b"normal"),  # repeated: the first one counts
    (b"x-fal-mock-namespace", b" team-a "),
    (b"x-fal-file-name", "caf\xe9.png".encode("latin-1")),
]


def request(headers: list[tuple[bytes, bytes]]) -> Request:
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers})


def test_header_answers_what_starlette_answers() -> None:
    made = request(list(RAW))
    for name in ("host", "x-fal-queue-priority", "x-fal-mock-namespace", "x-fal-file-name", "x-absent"):
        assert header(made, name) == made.headers.get(name)
    assert header(made, "x-fal-queue-priority") == "low"
    assert header(made, "x-absent") is None
    assert namespace(made) == "team-a"


def test_a_replaced_header_list_is_read_anew() -> None:
    made = request(list(RAW))
    assert header(made, "x-fal-runner-hint") is None
    made.scope["headers"] = [*made.scope["headers"], (b"x-fal-runner-hint", b"warm")]  # as a gateway stage does
    assert header(made, "x-fal-runner-hint") == "warm"
