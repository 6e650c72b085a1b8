"""``fal_json`` sends what Starlette's ``JSONResponse`` would, byte for byte and header for header."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fal_mock.mock_server.edge.render import fal_json
from starlette.responses import JSONResponse

BODIES: list[Any] = [
    {"status": "COMPLETED", "request_id": "019b", "logs": None, "metrics": {"inference_time": 1.25}},
    {"detail": [{"loc": ["body", "prompt"], "msg": "Field required — é ✓ 猫", "type": "missing"}]},
    [],
    "text",
    None,
]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("headers", [{}, {"x-fal-request-id": "019b"}, {"X-Fal-Request-Id": "A", "Retry-After": "1"}])
def test_same_bytes_and_headers_as_starlette(body: Any, headers: dict[str, str]) -> None:
    ours = fal_json(body, contract=None, check=False, status_code=202, headers=headers)
    theirs = JSONResponse(body, status_code=202, headers=headers)
    assert ours.body == theirs.body
    assert ours.raw_headers == theirs.raw_headers
    assert ours.status_code == 202


def test_a_given_content_type_is_kept_as_starlette_keeps_it() -> None:
    headers = {"content-type": "application/problem+json"}
    ours = fal_json({"a": 1}, contract=None, check=False, headers=headers)
    assert ours.raw_headers == JSONResponse({"a": 1}, headers=headers).raw_headers


def test_values_json_cannot_carry_render_as_null_instead_of_failing() -> None:
    # Ingress refuses NaN and lone surrogates; a value stored by an older version still renders (as null / U+FFFD).
    response = fal_json({"x": float("nan"), "y": "a\ud800"}, contract=None, check=False)
    assert json.loads(response.body) == {"x": None, "y": "a\ufffd"}
