"""The schema generator's own rules: upscale factors, requested audio lengths."""

from __future__ import annotations

import pytest
from fal_mock.mock_server.jobs.schema_generator import _scale_factor
from fal_mock.mock_server.outputs import requested_duration


@pytest.mark.parametrize(
    ("arguments", "factor"),
    [({"scale": 4}, 4.0), ({"upscale_factor": "2x"}, 2.0), ({"upscaling_factor": 1.5}, 1.5), ({}, None),
     ({"scale": 100}, None), ({"scale": True}, None)],
)
def test_upscale_factors(arguments: dict[str, object], factor: float | None) -> None:
    assert _scale_factor(arguments) == factor


@pytest.mark.parametrize(
    ("arguments", "seconds"),
    [({"seconds_total": 20}, 20.0), ({"duration": "5s"}, 5.0), ({"duration_ms": 2500}, 2.5), ({}, None)],
)
def test_requested_audio_lengths(arguments: dict[str, object], seconds: float | None) -> None:
    assert requested_duration(arguments) == seconds
