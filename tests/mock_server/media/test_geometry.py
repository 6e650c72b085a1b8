"""fal's size fields -> output sizes: presets, aspect ratios, resolutions, limits, video clip tables."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from fal_mock.mock_server.media.errors import GeometryError
from fal_mock.mock_server.media.geometry import (
    IMAGE_SIZE_PRESETS,
    ImageSize,
    SizeLimits,
    clip_geometry,
    fit_limits,
    image_size,
    parse_aspect_ratio,
    parse_duration,
    parse_fps,
    parse_resolution,
    size_for_aspect,
)
from fal_mock.mock_server.video.profiles import VideoGeometry
from hypothesis import given
from hypothesis import strategies as st

# --- image_size ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "size"),
    [
        ("square_hd", (1024, 1024)),
        ("square", (512, 512)),
        ("portrait_4_3", (768, 1024)),
        ("portrait_16_9", (576, 1024)),
        ("landscape_4_3", (1024, 768)),
        ("landscape_16_9", (1024, 576)),
    ],
)
def test_presets_are_fals_sizes(preset: str, size: tuple[int, int]) -> None:
    assert image_size(preset) == ImageSize(*size)
    assert IMAGE_SIZE_PRESETS[preset] == size


def test_none_is_the_callers_default_preset() -> None:
    assert image_size(None) == ImageSize(1024, 768)
    assert image_size(None, default="square") == ImageSize(512, 512)


def test_explicit_sizes_round_to_the_multiple() -> None:
    assert image_size({"width": 1000, "height": 750}) == ImageSize(1000, 752)
    assert image_size({"width": 1000, "height": 750}, multiple=1) == ImageSize(1000, 750)
    assert image_size({"width": 1023, "height": 1025}, multiple=16) == ImageSize(1024, 1024)


def test_explicit_sizes_beyond_the_limits_are_scaled_keeping_the_aspect() -> None:
    assert image_size({"width": 16384, "height": 8192}) == ImageSize(8192, 4096)
    big = image_size({"width": 8000, "height": 8000})  # 64 MP > 40 MP
    assert big.width == big.height
    assert big.width * big.height <= 40_000_000
    assert big.width % 8 == 0
    assert image_size({"width": 4, "height": 8}) == ImageSize(16, 32)


def test_extreme_aspect_clamps_each_side() -> None:
    assert image_size({"width": 100000, "height": 5}) == ImageSize(8192, 16)


def test_auto_keeps_the_source() -> None:
    assert image_size("auto", source_size=(1200, 800)) == ImageSize(1200, 800)
    assert image_size("auto") == ImageSize(1024, 768)
    two_k = image_size("auto_2K", source_size=(1600, 900))
    assert two_k.width > two_k.height
    assert abs(two_k.width * two_k.height - 2048 * 2048) < 2048 * 2048 * 0.02
    assert image_size("auto_4K") == ImageSize(4096, 4096)


@pytest.mark.parametrize(
    "value",
    ["huge", "", 5, 1.5, True, [1024, 1024], {"width": 0, "height": 10}, {"width": -5, "height": 10},
     {"width": "512", "height": 512}, {"width": True, "height": 512}, {"height": 512}, {"width": 512.0, "height": 512}],
)  # fmt: skip
def test_malformed_image_size_is_a_geometry_error(value: object) -> None:
    with pytest.raises(GeometryError):
        image_size(value)


# --- aspect ratios and resolutions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ratio"),
    [("16:9", (16, 9)), ("9:16", (9, 16)), ("1:1", (1, 1)), ("4:3", (4, 3)), ("3:4", (3, 4)), ("21:9", (7, 3)),
     ("9:21", (3, 7)), ("3:2", (3, 2)), ("2:3", (2, 3)), ("4:5", (4, 5)), ("5:4", (5, 4)), (" 2.39 : 1 ", (239, 100))],
)  # fmt: skip
def test_aspect_ratios_parse_reduced(text: str, ratio: tuple[int, int]) -> None:
    assert parse_aspect_ratio(text) == ratio


@pytest.mark.parametrize("value", [None, "auto", "AUTO", " auto "])
def test_auto_aspect_is_none(value: object) -> None:
    assert parse_aspect_ratio(value) is None


@pytest.mark.parametrize("value", ["16x9", "16:0", "0:9", "-16:9", "a:b", "1:2:3", "100:1", "1:65", 1.77, "inf:1"])
def test_bad_aspect_ratios(value: object) -> None:
    with pytest.raises(GeometryError):
        parse_aspect_ratio(value)


@pytest.mark.parametrize(
    ("aspect", "resolution", "size"),
    [
        ("16:9", "720p", (1280, 720)),
        ("9:16", "720p", (720, 1280)),
        ("1:1", "720p", (720, 720)),
        ("16:9", "1080p", (1920, 1080)),
        ("16:9", "480p", (856, 480)),  # 853.3 -> nearest multiple of 8
        ("1:1", "1K", (1024, 1024)),
        ("1:1", "2K", (2048, 2048)),
        ("1:1", "4K", (4096, 4096)),
        ("16:9", "1K", (1368, 768)),  # Gemini's 1K 16:9 is 1376x768: the same area within 1 %
        ("16:9", None, (1368, 768)),
    ],
)
def test_sizes_for_aspect_and_resolution(aspect: str, resolution: str | None, size: tuple[int, int]) -> None:
    assert size_for_aspect(aspect, resolution=resolution) == ImageSize(*size)


def test_auto_aspect_uses_the_source_then_the_default() -> None:
    assert size_for_aspect("auto", resolution="720p", source_size=(400, 300)) == ImageSize(960, 720)
    assert size_for_aspect(None, resolution="720p") == ImageSize(720, 720)
    assert size_for_aspect(None, resolution="720p", default_aspect=(16, 9)) == ImageSize(1280, 720)


def test_resolution_parsing() -> None:
    assert parse_resolution("720p").value == 720
    assert parse_resolution("768P").kind == "short_side"
    assert parse_resolution("2k") == parse_resolution("2K")
    assert parse_resolution("2K").value == 2048 * 2048
    assert parse_resolution("0.5K").value == 512 * 512
    for bad in ("720", "hd", "4k2", "10K", "8p", "99999p", 720, None):
        with pytest.raises(GeometryError):
            parse_resolution(bad)


def test_resolution_that_exceeds_the_limits_is_scaled_down() -> None:
    size = size_for_aspect("21:9", resolution="4K")
    assert size.width <= 8192
    assert size.width * size.height <= 40_000_000


# --- limits, property-based ----------------------------------------------------------------------

sides = st.integers(min_value=1, max_value=100_000)
multiples = st.sampled_from([1, 2, 8, 16, 64])


@given(sides, sides, multiples)
def test_fit_limits_always_lands_inside_the_limits(w: int, h: int, multiple: int) -> None:
    limits = SizeLimits()
    size = fit_limits(w, h, limits=limits, multiple=multiple)
    assert size.width % multiple == 0
    assert size.height % multiple == 0
    assert limits.min_side <= size.width <= limits.max_side
    assert limits.min_side <= size.height <= limits.max_side
    assert size.width * size.height <= limits.max_pixels


@given(st.integers(16, 8192), st.integers(16, 8192))
def test_fit_limits_keeps_the_aspect_when_it_can(w: int, h: int) -> None:
    if max(w, h) / min(w, h) > 100:
        return  # clamped per side: covered above
    size = fit_limits(w, h, multiple=8)
    # Rounding to multiples of 8 moves each side by at most 4 px (plus the reduction steps under the caps).
    assert math.isclose(size.width / size.height, w / h, rel_tol=0.6)
    assert abs(size.width / size.height - w / h) <= (w / h) * (12 / min(size.width, size.height)) + 1e-9


@given(st.integers(16, 8000), st.integers(16, 8000))
def test_fit_limits_leaves_sizes_within_limits_alone(w: int, h: int) -> None:
    if w * h > 40_000_000:
        return
    assert fit_limits(w, h, multiple=1) == ImageSize(w, h)


@given(
    st.integers(1, 64).flatmap(lambda a: st.tuples(st.just(a), st.integers(max(1, a // 64 + 1), min(64, a * 64)))),
    st.sampled_from(["480p", "720p", "1080p", "1K", "2K", "4K", "0.5K", "512p"]),
)
def test_size_for_aspect_property(ratio: tuple[int, int], resolution: str) -> None:
    a, b = ratio
    size = size_for_aspect(f"{a}:{b}", resolution=resolution)
    assert size.width % 8 == 0
    assert size.height % 8 == 0
    assert 16 <= size.width <= 8192
    assert 16 <= size.height <= 8192
    assert size.width * size.height <= 40_000_000
    assert (size.width >= size.height) == (a >= b) or abs(size.width - size.height) <= 8


def test_inconsistent_limits_are_rejected() -> None:
    with pytest.raises(GeometryError):
        SizeLimits(max_side=8, min_side=16)
    with pytest.raises(GeometryError):
        fit_limits(100, 100, limits=SizeLimits(max_side=20, min_side=17), multiple=16)
    with pytest.raises(GeometryError):
        fit_limits(0, 100)
    with pytest.raises(GeometryError):
        fit_limits(math.inf, 100)
    with pytest.raises(GeometryError):
        fit_limits(100, 100, multiple=0)


# --- durations and fps ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(5, 5), (5.5, Fraction(11, 2)), ("5", 5), ("10", 10), ("5s", 5), ("8.5 s", Fraction(17, 2)), (" 6 seconds", 6)],
)
def test_durations(value: object, seconds: Fraction) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", [0, -1, "0", "-5", "five", "5m", math.nan, math.inf, True, None, [5]])
def test_bad_durations(value: object) -> None:
    with pytest.raises(GeometryError):
        parse_duration(value)


def test_fps() -> None:
    assert parse_fps(24) == 24
    assert parse_fps("29.97") == Fraction(2997, 100)
    with pytest.raises(GeometryError):
        parse_fps("24fps")


# --- clips ---------------------------------------------------------------------------------------


def test_preview_defaults_match_the_video_profiles() -> None:
    assert clip_geometry("preview") == VideoGeometry(320, 180, 24, 48)
    assert clip_geometry("preview", source_size=(1000, 1000)) == VideoGeometry(320, 320, 24, 48)
    assert clip_geometry("preview", source_size=(900, 1600)) == VideoGeometry(180, 320, 24, 48)


def test_preview_honours_fields_up_to_its_caps() -> None:
    assert clip_geometry("preview", aspect_ratio="9:16", duration="5s", fps=30) == VideoGeometry(180, 320, 30, 150)
    assert clip_geometry("preview", resolution="1080p") == VideoGeometry(320, 180, 24, 48)  # resolution ignored
    assert clip_geometry("preview", duration=60, fps=120) == VideoGeometry(320, 180, 30, 300)
    assert clip_geometry("preview", num_frames=1000) == VideoGeometry(320, 180, 24, 300)
    assert clip_geometry("preview", aspect_ratio="1:64") == VideoGeometry(16, 320, 24, 48)


def test_aspect_ratio_wins_over_the_source() -> None:
    assert clip_geometry("preview", aspect_ratio="16:9", source_size=(100, 1000)).width == 320
    assert clip_geometry("preview", aspect_ratio="auto", source_size=(100, 100)) == VideoGeometry(320, 320, 24, 48)


@pytest.mark.parametrize(
    ("fields", "geometry"),
    [
        ({}, (1280, 720, 24, 120)),
        ({"aspect_ratio": "9:16"}, (720, 1280, 24, 120)),
        ({"resolution": "480p"}, (854, 480, 24, 120)),
        ({"resolution": "1080p", "aspect_ratio": "16:9"}, (1920, 1080, 24, 120)),
        ({"resolution": "1080p", "aspect_ratio": "21:9"}, (1920, 822, 24, 120)),  # long side capped at 1920
        ({"resolution": "1080p", "aspect_ratio": "9:16"}, (1080, 1920, 24, 120)),
        ({"resolution": "720p", "aspect_ratio": "1:1"}, (720, 720, 24, 120)),
        ({"duration": "10"}, (1280, 720, 24, 240)),
        ({"duration": "6s", "fps": 25}, (1280, 720, 25, 150)),
        ({"duration": 120}, (1280, 720, 24, 720)),  # 30 s cap
        ({"fps": 240}, (1280, 720, 60, 300)),  # 60 fps cap
        ({"fps": "23.976"}, (1280, 720, 24, 120)),  # rounded
        ({"num_frames": 81, "fps": 16}, (1280, 720, 16, 81)),
        ({"num_frames": 5000}, (1280, 720, 24, 1800)),
        ({"source_size": (1000, 3000)}, (640, 1920, 24, 120)),
        ({"resolution": "auto"}, (1280, 720, 24, 120)),
        ({"duration": 0.01}, (1280, 720, 24, 1)),
    ],
)
def test_realistic_table(fields: dict[str, object], geometry: tuple[int, int, int, int]) -> None:
    assert clip_geometry("realistic", **fields) == VideoGeometry(*geometry)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "fields",
    [{"duration": 0}, {"duration": "x"}, {"fps": 0}, {"fps": -3}, {"num_frames": 0}, {"num_frames": 2.5},
     {"num_frames": True}, {"resolution": "huge"}, {"aspect_ratio": "wide"}, {"source_size": (0, 10)}],
)  # fmt: skip
def test_clip_rejects_malformed_fields(fields: dict[str, object]) -> None:
    with pytest.raises(GeometryError):
        clip_geometry("realistic", **fields)  # type: ignore[arg-type]


def test_unknown_profile() -> None:
    with pytest.raises(GeometryError, match="profile"):
        clip_geometry("cinematic")  # type: ignore[arg-type]


@given(
    st.sampled_from(["preview", "realistic"]),
    st.one_of(st.none(), st.sampled_from(["16:9", "9:16", "1:1", "21:9", "9:21", "4:3", "3:4", "64:1", "1:64"])),
    st.one_of(st.none(), st.sampled_from(["360p", "480p", "580p", "720p", "1080p", "2160p", "1K", "4K"])),
    st.one_of(st.none(), st.floats(0.001, 1000), st.integers(1, 1000)),
    st.one_of(st.none(), st.integers(1, 500)),
    st.one_of(st.none(), st.integers(1, 5000)),
)
def test_clip_geometry_is_always_encodable_and_within_caps(
    profile: str, aspect: str | None, resolution: str | None, duration: float | None, fps: int | None,
    frames: int | None,
) -> None:  # fmt: skip
    g = clip_geometry(profile, aspect_ratio=aspect, resolution=resolution, duration=duration, fps=fps,  # type: ignore[arg-type]
                      num_frames=frames)  # fmt: skip
    assert g.width % 2 == 0
    assert g.height % 2 == 0
    assert min(g.width, g.height) >= 16
    cap = 320 if profile == "preview" else 1920
    assert max(g.width, g.height) == cap or profile == "realistic"
    assert max(g.width, g.height) <= cap
    assert 1 <= g.fps <= (30 if profile == "preview" else 60)
    assert 1 <= g.frame_count <= (300 if profile == "preview" else 1800)
    if frames is not None:
        assert g.frame_count == min(frames, 300 if profile == "preview" else 1800)
