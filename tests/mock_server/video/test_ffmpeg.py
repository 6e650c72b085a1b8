"""The Debian ffmpeg/ffprobe CLIs accept every kind of file we write (an independent demuxer path)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from fal_mock.mock_server.video import RenderedVideo, render_video_from_bytes

from tests.mock_server.video._support import LUCY, MINIMAX, canonical, encode, request_input, sample_image

pytestmark = [
    pytest.mark.ffmpeg,
    pytest.mark.skipif(
        shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
        reason="the ffmpeg and ffprobe commands are not installed (apt-get install ffmpeg)",
    ),
]

CASES = [
    ("preview-lucy", LUCY, "preview", (640, 400), {}),
    ("preview-minimax-portrait", MINIMAX, "preview", (300, 533), {}),
    ("realistic-lucy", LUCY, "realistic", (640, 400), {}),
    ("realistic-lucy-9x16", LUCY, "realistic", (640, 400), {"aspect_ratio": "9:16"}),
    ("realistic-minimax", MINIMAX, "realistic", (640, 400), {}),
]


def _render(endpoint: str, profile: str, size: tuple[int, int], extra: dict[str, object], prompt: str) -> RenderedVideo:
    data = encode(sample_image(*size), "PNG")
    text = canonical({"image_url": "u", "prompt": prompt, **extra}) if extra else request_input(prompt)
    return render_video_from_bytes(data, endpoint_id=endpoint, canonical_input=text, profile=profile)


@pytest.mark.parametrize(("name", "endpoint", "profile", "size", "extra"), CASES, ids=[c[0] for c in CASES])
def test_ffmpeg_decodes_without_complaint(
    tmp_path: Path, name: str, endpoint: str, profile: str, size: tuple[int, int], extra: dict[str, object]
) -> None:
    for prompt in ("one", "two", "three"):  # different motion plans
        video = _render(endpoint, profile, size, extra, prompt)
        path = tmp_path / f"{name}-{prompt}.mp4"
        path.write_bytes(video.data)
        result = subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", str(path), "-f", "null", "-"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""

        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert probe.stderr == ""
        (stream,) = json.loads(probe.stdout)["streams"]
        assert stream["codec_name"] == "h264"
        assert stream["profile"] == "Constrained Baseline"
        assert (stream["width"], stream["height"]) == (video.width, video.height)
        assert int(stream["nb_read_frames"]) == video.frame_count
        assert float(stream["duration"]) == pytest.approx(video.duration)
        assert stream["pix_fmt"] == "yuv420p"
        assert stream["color_range"] == "tv"
        assert stream["color_space"] == "smpte170m"
        assert stream["has_b_frames"] == 0
