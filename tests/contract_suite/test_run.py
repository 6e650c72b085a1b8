"""Sync run (``fal.run``) and authorization: outputs, the 422 shapes, 401 and 404."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fal_mock.client import FalClient, FalHTTPError, FalValidationError, VideoOutput

from tests.contract_suite.targets import (
    BAD_KEY,
    LUCY,
    MINIMAX,
    UNKNOWN_ID,
    Target,
    free_input,
    png_data_uri,
    valid_input,
)


@pytest.mark.parametrize("endpoint_id", [MINIMAX, LUCY])
def test_run_returns_the_output(target: Target, endpoint_id: str) -> None:
    target.spend()
    if endpoint_id not in target.endpoints:
        pytest.skip(f"{endpoint_id} is not exercised on this target")
    output = target.fal.run(endpoint_id, valid_input(endpoint_id))
    answer = target.answers("POST")[-1]
    assert answer.status_code == 200
    assert output.request_id
    assert answer.headers["x-fal-request-id"] == output.request_id
    assert isinstance(output, VideoOutput)
    assert output.video.url.startswith(("https://", "http://"))


def test_lucy_returns_an_inline_video_by_default(target: Target) -> None:
    target.mock_only("Lucy-5B appears withdrawn on fal (protocol reference §7.1)")
    output = target.fal.run(LUCY, {"prompt": "p", "image_url": png_data_uri()})
    assert isinstance(output, VideoOutput)
    inline = output.video.inline_bytes()
    assert inline is not None
    assert inline[4:8] == b"ftyp"


def test_run_with_a_missing_field_is_422(target: Target) -> None:
    with pytest.raises(FalValidationError) as raised:
        target.fal.run(MINIMAX, free_input())
    error = raised.value
    assert error.status_code == 422
    assert [e.loc for e in error.field_errors] == [("body", "prompt")]
    assert error.field_errors[0].type == "missing"
    assert error.field_errors[0].msg


def test_run_with_a_wrong_type_is_422_at_that_field(target: Target) -> None:
    with pytest.raises(FalValidationError) as raised:
        target.fal.run(MINIMAX, {"prompt": ["not", "a", "string"], "image_url": png_data_uri()})
    assert [e.loc for e in raised.value.field_errors] == [("body", "prompt")]
    assert raised.value.field_errors[0].type == "string_type"


def test_run_with_a_value_outside_an_enum_is_422_one_of(target: Target) -> None:
    target.mock_only("the enum belongs to Lucy-5B, which appears withdrawn on fal")
    with pytest.raises(FalValidationError) as raised:
        target.fal.run(LUCY, {"prompt": "p", "image_url": png_data_uri(), "aspect_ratio": "4:3"})
    (error,) = raised.value.field_errors
    assert error.loc == ("body", "aspect_ratio")
    assert error.type == "one_of"
    assert error.ctx == {"expected": ["9:16", "16:9"]}


def test_run_with_a_body_that_is_not_an_object_is_422(target: Target) -> None:
    with pytest.raises(FalValidationError) as raised:
        target.fal.run(MINIMAX, ["prompt"])  # type: ignore[arg-type]
    assert [e.loc for e in raised.value.field_errors] == [("body",)]


def test_run_of_an_unknown_endpoint_is_404(target: Target) -> None:
    with pytest.raises(FalHTTPError) as raised:
        target.fal.run("fal-ai/fal-mock-no-such-app", {})
    assert raised.value.status_code == 404
    assert isinstance(raised.value.detail, str)


@pytest.mark.parametrize("call", ["submit", "run", "status"])
def test_a_bad_key_is_401(target: Target, call: str) -> None:
    fal = target.client(BAD_KEY)
    calls: dict[str, Callable[[], object]] = {
        "submit": lambda: fal.submit(MINIMAX, free_input()),
        "run": lambda: fal.run(MINIMAX, free_input()),
        "status": lambda: fal.status(fal.get_handle(MINIMAX, UNKNOWN_ID)),
    }
    with pytest.raises(FalHTTPError) as raised:
        calls[call]()
    assert raised.value.status_code == 401
    assert raised.value.detail == "No user found for Key ID and Secret"


def test_a_malformed_key_is_401(target: Target) -> None:
    with pytest.raises(FalHTTPError) as raised:
        target.client("no-colon-in-this-key").run(MINIMAX, free_input())
    assert raised.value.status_code == 401
    assert isinstance(raised.value.detail, str)


def test_no_key_is_401(target: Target) -> None:
    target.mock_only("fal serves public models without a key: this would start a generation")
    fal: FalClient = target.client(None)
    with pytest.raises(FalHTTPError) as raised:
        fal.submit(MINIMAX, free_input())
    assert raised.value.status_code == 401
