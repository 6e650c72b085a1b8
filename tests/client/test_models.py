"""Typed results from fal's JSON: statuses, handles, files, outputs, endpoint-id splitting."""

from __future__ import annotations

import base64

import pytest
from fal_mock.client import Completed, FalProtocolError, File, InProgress, LogEntry, Queued, RawOutput, VideoOutput
from fal_mock.client._models import app_id, parse_output, parse_status

from tests.client.fakes import LUCY, MINIMAX, VIDEO


@pytest.mark.parametrize(
    ("endpoint_id", "expected"),
    [
        (LUCY, "fal-ai/decart"),
        (MINIMAX, "fal-ai/minimax-video"),
        ("fal-ai/flux", "fal-ai/flux"),
        ("workflows/me/flow/sub", "workflows/me/flow"),
        ("12345-my-app", "12345/my-app"),
    ],
)
def test_app_id_drops_the_sub_path(endpoint_id: str, expected: str) -> None:
    assert app_id(endpoint_id) == expected


@pytest.mark.parametrize("bad", ["single", "workflows/x", ""])
def test_bad_endpoint_ids(bad: str) -> None:
    with pytest.raises(ValueError, match="endpoint id"):
        app_id(bad)


def test_both_log_shapes_parse() -> None:
    documented = {"message": "a", "level": "INFO", "source": "USER", "timestamp": "2024-01-01T00:00:00"}
    sse_example = {"timestamp": "2024-12-20T15:37:17.120314", "message": "b", "labels": {"k": "v"}}
    status = parse_status({"status": "IN_PROGRESS", "logs": [documented, sse_example]})
    assert status == InProgress(logs=[LogEntry("a", "INFO", "USER", "2024-01-01T00:00:00"),
                                      LogEntry("b", None, None, "2024-12-20T15:37:17.120314", {"k": "v"})])  # fmt: skip


def test_status_defaults_and_garbage() -> None:
    assert parse_status({"status": "IN_QUEUE"}) == Queued(position=0)
    assert parse_status({"status": "COMPLETED", "logs": None}) == Completed(logs=None)
    with pytest.raises(FalProtocolError, match="FAILED"):
        parse_status({"status": "FAILED"})
    with pytest.raises(FalProtocolError, match="JSON object"):
        parse_status([1])
    with pytest.raises(FalProtocolError, match="logs"):
        parse_status({"status": "IN_PROGRESS", "logs": "text"})


def test_raw_json_is_kept_but_not_compared() -> None:
    first = parse_status({"status": "IN_QUEUE", "queue_position": 1, "new_field": 1})
    assert first == Queued(position=1)
    assert first.raw["new_field"] == 1


def test_video_output_and_inline_bytes() -> None:
    output = parse_output(MINIMAX, VIDEO, "rid")
    assert isinstance(output, VideoOutput)
    assert output.video.file_name == "output.mp4"
    assert output.video.inline_bytes() is None
    inline = File(url="data:video/mp4;base64," + base64.b64encode(b"mp4!").decode())
    assert inline.is_data_uri
    assert inline.inline_bytes() == b"mp4!"
    assert parse_output(MINIMAX, {"other": 1}, None) == RawOutput({"other": 1})
    with pytest.raises(FalProtocolError, match="url"):
        parse_output(LUCY, {"video": {"content_type": "video/mp4"}}, None)
