"""Video clips through the project's H.264 writer, decoded strictly with PyAV."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fal_mock.mock_server.media.geometry import clip_geometry
from fal_mock.mock_server.media.images import draw_image, encode_image
from fal_mock.mock_server.media.probe import video_facts
from fal_mock.mock_server.media.video import render_clip, render_clip_from_bytes, render_text_clip
from fal_mock.mock_server.video.images import ImageLimits, ImageLoadError, ImageTooLarge, ImageTooSmall
from fal_mock.mock_server.video.profiles import VideoGeometry
from PIL import Image

from tests.videocheck import assert_real_mp4, psnr


def test_text_to_video_preview_decodes_with_the_reported_facts() -> None:
    geometry = clip_geometry("preview", aspect_ratio="16:9", duration=3, fps=30)
    clip = render_text_clip(geometry, seed=b"t2v", prompt="a sunset over the sea")
    assert (clip.width, clip.height, clip.fps, clip.frame_count) == (320, 180, 30, 90)
    assert clip.duration == 3.0
    assert clip.size == len(clip.data)
    decoded = assert_real_mp4(clip.data, width=320, height=180, frame_count=90, fps=30, keep=[0], rgb=True)
    # Frame 0 is the drawn picture (the writer stores it losslessly in YUV 4:2:0).
    picture = np.asarray(draw_image(320, 180, seed=b"t2v", prompt="a sunset over the sea"))
    frame0 = decoded.frames[0].rgb
    assert frame0 is not None
    assert psnr(frame0, picture) > 28
    assert video_facts(clip.data) == (3.0, 320, 180)


def test_image_to_video_from_a_jpeg_at_realistic_720p() -> None:
    source = encode_image(draw_image(1600, 1200, seed=b"src", prompt="a red car"), "jpeg").data
    geometry = clip_geometry("realistic", resolution="720p", aspect_ratio="16:9", duration="2s", fps=25)
    clip = render_clip_from_bytes(source, geometry, seed=b"i2v")
    assert (clip.width, clip.height, clip.frame_count, clip.fps) == (1280, 720, 50, 25)
    assert_real_mp4(clip.data, width=1280, height=720, frame_count=50, fps=25)
    assert video_facts(clip.data) == (2.0, 1280, 720)


def test_portrait_and_odd_aspect_clips() -> None:
    image = draw_image(300, 500, seed=b"p")
    for geometry in (clip_geometry("preview", source_size=image.size), clip_geometry("preview", aspect_ratio="21:9")):
        clip = render_clip(image, geometry, seed=b"x")
        assert_real_mp4(clip.data, width=geometry.width, height=geometry.height,
                        frame_count=geometry.frame_count, fps=geometry.fps)  # fmt: skip


def test_clips_are_deterministic_and_seeded() -> None:
    image = draw_image(320, 180, seed=b"img")
    geometry = VideoGeometry(320, 180, 24, 12)
    a = render_clip(image, geometry, seed=b"one")
    assert a.data == render_clip(image, geometry, seed=b"one").data
    others = {render_clip(image, geometry, seed=bytes([i])).data for i in range(6)}
    assert len(others) == 6  # the seed picks the motion mode, direction and amplitude
    modes = {render_clip(image, geometry, seed=bytes([i])).motion_mode for i in range(30)}
    assert modes == {"pan", "sway", "zoom"}


def test_single_frame_clip() -> None:
    clip = render_clip(draw_image(64, 64, seed=b""), VideoGeometry(64, 64, 24, 1), seed=b"")
    assert_real_mp4(clip.data, width=64, height=64, frame_count=1, fps=24)


def test_transparent_first_frames_are_flattened() -> None:
    rgba = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    clip = render_clip(rgba, VideoGeometry(64, 64, 24, 2), seed=b"")
    decoded = assert_real_mp4(clip.data, width=64, height=64, frame_count=2, fps=24, keep=[0])
    assert decoded.frames[0].y.min() > 230  # white, not black


def test_bad_input_bytes_raise_the_video_writers_typed_errors() -> None:
    geometry = VideoGeometry(64, 64, 24, 2)
    with pytest.raises(ImageLoadError):
        render_clip_from_bytes(b"not an image", geometry, seed=b"")
    tiny = io.BytesIO()
    Image.new("RGB", (8, 8)).save(tiny, "PNG")
    with pytest.raises(ImageTooSmall):
        render_clip_from_bytes(tiny.getvalue(), geometry, seed=b"")
    with pytest.raises(ImageTooLarge):
        render_clip_from_bytes(encode_image(draw_image(200, 200, seed=b""), "png").data, geometry, seed=b"",
                               limits=ImageLimits(max_width=100, max_height=100))  # fmt: skip
