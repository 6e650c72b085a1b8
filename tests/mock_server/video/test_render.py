"""End to end: image bytes -> MP4, checked structurally, by strict decoding and by content."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from fal_mock.mock_server.video import PROFILES, RenderedVideo, render_video, render_video_from_bytes
from fal_mock.mock_server.video.motion import motion_seed
from fal_mock.mock_server.video.yuv import fit_image
from PIL import Image

from tests.mock_server.video._support import (
    ENDPOINTS,
    LUCY,
    MINIMAX,
    bt601_limited_luma,
    canonical,
    encode,
    request_input,
    sample_image,
)
from tests.videocheck import (
    VideoCheckError,
    assert_real_mp4,
    check_mp4_layout,
    decode_strict,
    mean_abs_diff,
    psnr,
)

MOTION_THRESHOLD = 2.0  # mean absolute luma difference from frame 0 (observed: 5-40)


@pytest.fixture(scope="module")
def source() -> Image.Image:
    return sample_image(640, 400)


@pytest.fixture(scope="module")
def png(source: Image.Image) -> bytes:
    return encode(source, "PNG")


def _render(png: bytes, endpoint: str = LUCY, prompt: str = "a cat", profile: str = "preview") -> RenderedVideo:
    return render_video_from_bytes(png, endpoint_id=endpoint, canonical_input=request_input(prompt), profile=profile)


def _prompt_for_mode(endpoint: str, profile: str, mode: str) -> str:
    modes = ("pan", "sway", "zoom")
    for k in range(100):
        prompt = f"scene {k}"
        if modes[motion_seed(endpoint, request_input(prompt), profile)[0] % 3] == mode:
            return prompt
    raise AssertionError("no prompt found")  # pragma: no cover


# -- determinism ---------------------------------------------------------------------------------


def test_same_input_gives_identical_bytes(png: bytes) -> None:
    first = _render(png)
    second = _render(png)
    assert first.data == second.data
    assert first.sha256 == second.sha256
    assert first.size == len(first.data)


_CHILD = """
import sys
from fal_mock.mock_server.video import render_video_from_bytes
data = open(sys.argv[1], "rb").read()
video = render_video_from_bytes(data, endpoint_id=sys.argv[2], canonical_input=sys.argv[3], profile=sys.argv[4])
print(video.sha256)
"""


@pytest.mark.parametrize("hash_seed", ["0", "12345"])
def test_identical_bytes_in_another_process(png: bytes, tmp_path: Path, hash_seed: str) -> None:
    path = tmp_path / "in.png"
    path.write_bytes(png)
    expected = _render(png, MINIMAX, "pan over the hills").sha256
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), MINIMAX, request_input("pan over the hills"), "preview"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert result.stdout.strip() == expected


def test_different_prompt_endpoint_or_profile_gives_different_bytes(png: bytes) -> None:
    base = _render(png, LUCY, "a cat")
    assert _render(png, LUCY, "a dog").data != base.data
    assert _render(png, MINIMAX, "a cat").data != base.data
    # Same geometry for both endpoints in preview: the difference is the motion plan.
    assert (base.width, base.height, base.frame_count) == (320, 200, 48)


def test_input_fields_default_to_parsed_canonical_input(png: bytes, source: Image.Image) -> None:
    text = request_input("x")
    from_text = render_video(source, endpoint_id=LUCY, canonical_input=text)
    from_dict = render_video(
        source, endpoint_id=LUCY, canonical_input=text, input_fields={"image_url": "https://example.com/cat.png"}
    )
    assert from_text.data == from_dict.data
    # A PNG is lossless: decoding it first changes nothing.
    assert render_video_from_bytes(png, endpoint_id=LUCY, canonical_input=text).data == from_text.data


def test_unknown_profile_is_rejected(png: bytes, source: Image.Image) -> None:
    assert PROFILES == ("preview", "realistic")
    with pytest.raises(ValueError, match="unknown video profile"):
        render_video(source, endpoint_id=LUCY, canonical_input="{}", profile="cinema")
    with pytest.raises(ValueError, match="unknown video profile"):
        render_video_from_bytes(png, endpoint_id=LUCY, canonical_input="{}", profile="")


# -- structure and strict decoding ----------------------------------------------------------------


def test_box_structure(png: bytes) -> None:
    video = _render(png)
    layout = check_mp4_layout(video.data)
    assert layout.top_level == ("ftyp", "moov", "mdat")
    assert (layout.avc_profile, layout.avc_compat, layout.avc_level) == (66, 0xC0, 32)
    assert len(layout.sample_sizes) == video.frame_count == 48
    assert layout.sync_samples == (1,)
    assert layout.chunk_offsets[0] + sum(layout.sample_sizes) == layout.mdat_payload[1] == len(video.data)
    assert layout.duration == 2.0
    assert video.codec == "avc1.42C020"
    # No timestamps: mvhd creation/modification times are zero.
    mvhd = video.data.index(b"mvhd")
    assert video.data[mvhd + 8 : mvhd + 16] == bytes(8)


EXPECTED = {
    ("preview", LUCY): (320, 200, 24, 48),
    ("preview", MINIMAX): (320, 200, 24, 48),
    ("realistic", LUCY): (1280, 720, 24, 120),
    ("realistic", MINIMAX): (1152, 720, 25, 150),  # 640x400 input: 16:10 at 720p
}


@pytest.mark.parametrize(("profile", "endpoint"), sorted(EXPECTED))
def test_strict_decode_matches_promise(png: bytes, profile: str, endpoint: str) -> None:
    video = _render(png, endpoint, "strict", profile)
    width, height, fps, frames = EXPECTED[(profile, endpoint)]
    assert (video.width, video.height, video.fps, video.frame_count) == (width, height, fps, frames)
    assert video.duration == frames / fps
    decoded = assert_real_mp4(video.data, width=width, height=height, frame_count=frames, fps=fps, keep=[0])
    assert decoded.frames[0].y.tobytes() == video.first_frame_luma


def test_lucy_portrait_aspect_ratio(png: bytes) -> None:
    text = canonical({"aspect_ratio": "9:16", "image_url": "u", "prompt": "p"})
    video = render_video_from_bytes(png, endpoint_id=LUCY, canonical_input=text, profile="realistic")
    assert (video.width, video.height, video.frame_count) == (720, 1280, 120)
    assert_real_mp4(video.data, width=720, height=1280, frame_count=120, fps=24)


def test_other_endpoint_realistic_falls_back_to_720p(png: bytes) -> None:
    video = render_video_from_bytes(
        png, endpoint_id="fal-ai/some/other-model", canonical_input=request_input(), profile="realistic"
    )
    assert (video.width, video.height, video.fps, video.frame_count) == (1152, 720, 24, 48)
    assert_real_mp4(video.data, width=1152, height=720, frame_count=48, fps=24)


# -- content: the first frame is the input, later frames move ------------------------------------


@pytest.mark.parametrize("mode", ["pan", "sway", "zoom"])
def test_first_frame_is_the_input_and_later_frames_move(png: bytes, source: Image.Image, mode: str) -> None:
    prompt = _prompt_for_mode(LUCY, "preview", mode)
    video = _render(png, LUCY, prompt)
    assert video.motion_mode == mode
    n = video.frame_count
    decoded = assert_real_mp4(
        video.data, width=video.width, height=video.height, frame_count=n, fps=24, keep=None, rgb=True
    )
    first = decoded.frames[0]
    assert first.y.tobytes() == video.first_frame_luma  # exact: I_PCM is lossless

    expected_rgb = np.asarray(fit_image(source, video.width, video.height))
    assert psnr(first.y, bt601_limited_luma(expected_rgb)) >= 45.0
    assert first.rgb is not None
    assert psnr(first.rgb, expected_rgb) >= 28.0

    lumas = [decoded.frames[k].y for k in range(n)]
    moved = [mean_abs_diff(lumas[k], first.y) for k in (n // 4, n // 2, 3 * n // 4)]
    assert max(moved) > MOTION_THRESHOLD, moved
    # Real motion, not a slide show of two pictures: some frame differs from both neighbours.
    assert any(
        mean_abs_diff(lumas[k], lumas[k - 1]) > 0 and mean_abs_diff(lumas[k], lumas[k + 1]) > 0 for k in range(1, n - 1)
    )


# -- negative controls: the checks do catch damage -----------------------------------------------


def _samples(data: bytes) -> list[tuple[int, int]]:
    layout = check_mp4_layout(data)
    spans = []
    pos = layout.chunk_offsets[0]
    for size in layout.sample_sizes:
        spans.append((pos, size))
        pos += size
    return spans


def _plain_decode_count(data: bytes) -> int:
    with av.open(io.BytesIO(data), mode="r") as container:
        return len(list(container.decode(container.streams.video[0])))


def test_damaged_p_slice_is_caught(png: bytes) -> None:
    video = _render(png, LUCY, _prompt_for_mode(LUCY, "preview", "zoom"))
    spans = _samples(video.data)[1:]
    start, size = max(spans, key=lambda span: span[1])  # the P sample with the most slice data
    damaged = bytearray(video.data)
    damaged[start + size // 2] ^= 0xFF
    # Plain decoding conceals the damage and still yields every frame...
    assert _plain_decode_count(bytes(damaged)) == video.frame_count
    # ... the strict check does not.
    with pytest.raises(VideoCheckError, match="decoder"):
        decode_strict(bytes(damaged))


def test_damaged_p_slice_header_is_caught(png: bytes) -> None:
    video = _render(png)
    start, _ = _samples(video.data)[1]
    damaged = bytearray(video.data)
    damaged[start + 5] ^= 0x55  # first byte after the NAL header: slice type and PPS id
    with pytest.raises(VideoCheckError):
        decode_strict(bytes(damaged))


def test_damaged_container_is_caught(png: bytes) -> None:
    video = _render(png)
    with pytest.raises(VideoCheckError, match=r"overruns|cover"):
        check_mp4_layout(video.data[:-10])
    stco = video.data.index(b"stco")
    (offset,) = struct.unpack_from(">I", video.data, stco + 12)
    shifted = video.data[: stco + 12] + struct.pack(">I", offset + 4) + video.data[stco + 16 :]
    with pytest.raises(VideoCheckError, match="stco offset"):
        check_mp4_layout(shifted)


def test_damaged_pcm_sample_needs_the_content_check(png: bytes) -> None:
    video = _render(png)
    start, _ = _samples(video.data)[0]
    damaged = bytearray(video.data)
    damaged[start + 4 + 20 + 2 * 386] ^= 0x0F  # a raw luma sample: no decoder can notice
    decoded = decode_strict(bytes(damaged), keep=[0])
    assert decoded.frames[0].y.tobytes() != video.first_frame_luma


def test_all_endpoints_listed() -> None:
    assert set(ENDPOINTS) == {LUCY, MINIMAX}
