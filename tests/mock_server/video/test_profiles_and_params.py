"""Geometry rules, level choice, parameter sets and the motion plan's invariants."""

from __future__ import annotations

import pytest
from fal_mock.mock_server.video.h264 import SequenceParams, build_pps, build_sps, choose_level, sequence_for
from fal_mock.mock_server.video.motion import MODES, motion_seed, plan_motion
from fal_mock.mock_server.video.profiles import VideoGeometry, video_geometry
from fal_mock.mock_server.video.slicedata import SeparableField, UniformField

from tests.mock_server.video._support import LUCY, MINIMAX


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1280, 720), (320, 180)),
        ((720, 1280), (180, 320)),
        ((640, 400), (320, 200)),
        ((100, 100), (320, 320)),  # scaled up
        ((4000, 3000), (320, 240)),
        ((333, 200), (320, 192)),  # 192.2 -> even
        ((5000, 16), (320, 16)),  # extreme aspect: at least 16
    ],
)
def test_preview_geometry(size: tuple[int, int], expected: tuple[int, int]) -> None:
    for endpoint in (LUCY, MINIMAX, "fal-ai/other"):
        geometry = video_geometry("preview", endpoint, size, {})
        assert (geometry.width, geometry.height) == expected
        assert (geometry.fps, geometry.frame_count, geometry.duration) == (24, 48, 2.0)


def test_lucy_realistic_geometry() -> None:
    assert video_geometry("realistic", LUCY, (500, 500), {}) == VideoGeometry(1280, 720, 24, 120)
    assert video_geometry("realistic", LUCY, (500, 500), {"aspect_ratio": "16:9"}) == VideoGeometry(1280, 720, 24, 120)
    assert video_geometry("realistic", LUCY, (500, 500), {"aspect_ratio": "9:16"}) == VideoGeometry(720, 1280, 24, 120)
    assert video_geometry("realistic", LUCY, (9, 9), {"aspect_ratio": None}) == VideoGeometry(1280, 720, 24, 120)
    with pytest.raises(ValueError, match="aspect_ratio"):
        video_geometry("realistic", LUCY, (500, 500), {"aspect_ratio": "4:3"})


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1920, 1080), (1280, 720)),
        ((640, 400), (1152, 720)),
        ((500, 500), (720, 720)),
        ((1080, 1920), (720, 1280)),
        ((3000, 1000), (1280, 720)),  # wider than 16:9: capped and cropped
        ((600, 800), (720, 960)),
    ],
)
def test_minimax_realistic_geometry(size: tuple[int, int], expected: tuple[int, int]) -> None:
    geometry = video_geometry("realistic", MINIMAX, size, {})
    assert (geometry.width, geometry.height, geometry.fps, geometry.frame_count) == (*expected, 25, 150)
    other = video_geometry("realistic", "fal-ai/other", size, {})
    assert (other.width, other.height, other.fps, other.frame_count) == (*expected, 24, 48)


def test_geometry_validation() -> None:
    with pytest.raises(ValueError, match="unknown video profile"):
        video_geometry("fast", LUCY, (10, 10), {})
    with pytest.raises(ValueError, match="even"):
        VideoGeometry(321, 180, 24, 48)


@pytest.mark.parametrize(
    ("width", "height", "fps", "level"),
    [(320, 180, 24, 32), (640, 360, 24, 42), (1280, 720, 24, 52), (1280, 720, 25, 52), (720, 1280, 24, 52),
     (16, 16, 24, 10), (176, 144, 15, 30)],
)  # fmt: skip
def test_level_admits_an_all_pcm_first_frame(width: int, height: int, fps: int, level: int) -> None:
    params, _, _ = sequence_for(width, height, fps)
    assert params.level_idc == level


def test_choose_level_respects_frame_size_and_rate() -> None:
    assert choose_level(1, 1, 24, 0) == 10
    assert choose_level(120, 68, 30, 0) == 40  # 1920x1088 at 30 fps, tiny first frame
    assert choose_level(500, 500, 60, 0) == 52  # beyond every level: capped


def test_parameter_sets() -> None:
    params = SequenceParams(318, 178, 24, 32)
    assert (params.width_mbs, params.height_mbs) == (20, 12)
    assert params.codec_string == "avc1.42C020"
    sps = build_sps(params)
    assert sps[:4] == bytes((0x67, 66, 0xC0, 32))
    assert build_pps()[:1] == b"\x68"
    with pytest.raises(ValueError, match="even"):
        SequenceParams(317, 178, 24, 32)


def test_motion_plan_invariants() -> None:
    seen = set()
    for k in range(60):
        seed = motion_seed(LUCY, f'{{"prompt":"{k}"}}', "preview")
        plan = plan_motion(seed, 320, 180, 48)
        seen.add(plan.mode)
        assert len(plan.fields) == 47
        for field in plan.fields:
            if isinstance(field, UniformField):
                components = list(field.mv)
            else:
                assert isinstance(field, SeparableField)
                components = [*field.fx, *field.fy]
            # Even whole pixels (multiples of 8 quarter samples), small per-frame steps.
            assert all(c % 8 == 0 and abs(c) <= 64 for c in components)
    assert seen == set(MODES)
    assert plan_motion(bytes(32), 320, 180, 1).fields == ()
    assert motion_seed(LUCY, "{}", "preview") != motion_seed(LUCY, "{}", "realistic")
    assert len(motion_seed(LUCY, '{"prompt":"\ud800 ü"}', "preview")) == 32  # lone surrogate from JSON
