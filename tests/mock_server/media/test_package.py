"""The package as a whole: its exports, its seeds, and the same bytes in any process."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import pytest
from fal_mock.mock_server import media
from fal_mock.mock_server.media import (
    MediaError,
    build_glb,
    clip_geometry,
    derive_image,
    draw_image,
    encode_image,
    fit_limits,
    mpeg_audio,
    parse_duration,
    render_clip,
    render_clip_from_bytes,
    synth_wav,
)

DIGEST_SCRIPT = """
import hashlib, sys
from fal_mock.mock_server.media import (build_model, clip_geometry, derive_image, draw_image, encode_image,
                                        mpeg_audio, render_text_clip, synth_wav)
h = hashlib.sha256()
picture = draw_image(96, 64, seed=b"p", prompt="a snowy city at night, red lights")
h.update(picture.tobytes())
h.update(encode_image(picture, "png").data)
h.update(derive_image(picture, 48, 48, seed=b"d").tobytes())
h.update(synth_wav(0.5, seed=b"w").data)
h.update(mpeg_audio(0.5, seed=b"m").data)
for fmt in ("glb", "obj", "ply", "stl", "gltf"):
    h.update(build_model(fmt, seed=b"g", detail=2).data)
h.update(render_text_clip(clip_geometry("preview", duration=0.25), seed=b"v", prompt="waves").data)
sys.stdout.write(h.hexdigest())
"""


def _digest_in_subprocess(hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    result = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT], env=env, capture_output=True, text=True,
                            check=True, timeout=120)  # fmt: skip
    return result.stdout


def test_the_same_bytes_in_any_process() -> None:
    digests = {_digest_in_subprocess(seed) for seed in ("0", "1", "4242")}
    assert len(digests) == 1
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(DIGEST_SCRIPT, {})  # ... and in this process too
    assert digests == {out.getvalue()}
    assert len(out.getvalue()) == 64


def test_exports_resolve() -> None:
    assert sorted(media.__all__) == sorted(set(media.__all__))
    for name in media.__all__:
        assert getattr(media, name) is not None


GENERATORS: list[Callable[[object], object]] = [
    lambda seed: draw_image(8, 8, seed=seed),  # type: ignore[arg-type]
    lambda seed: derive_image(draw_image(8, 8, seed=b""), 8, 8, seed=seed),  # type: ignore[arg-type]
    lambda seed: synth_wav(0.1, seed=seed),  # type: ignore[arg-type]
    lambda seed: mpeg_audio(0.1, seed=seed),  # type: ignore[arg-type]
    lambda seed: build_glb(seed=seed, detail=0),  # type: ignore[arg-type]
    lambda seed: render_clip(draw_image(16, 16, seed=b""), clip_geometry("preview", num_frames=1), seed=seed),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("generator", GENERATORS)
@pytest.mark.parametrize("seed", ["text", 5, None, [1, 2]])
def test_seeds_must_be_bytes(generator: Callable[[object], object], seed: object) -> None:
    with pytest.raises(MediaError, match="seed must be bytes"):
        generator(seed)


@pytest.mark.parametrize("generator", GENERATORS)
def test_bytearray_and_memoryview_seeds_equal_bytes(generator: Callable[[object], object]) -> None:
    def key(result: object) -> bytes:
        data = getattr(result, "data", None)
        return data if isinstance(data, bytes) else result.tobytes()  # type: ignore[attr-defined]

    assert key(generator(b"abc")) == key(generator(bytearray(b"abc"))) == key(generator(memoryview(b"abc")))


def test_prompt_must_be_text() -> None:
    with pytest.raises(MediaError, match="prompt"):
        draw_image(8, 8, seed=b"", prompt=b"bytes")  # type: ignore[arg-type]


def test_parsed_durations_feed_the_audio_writers() -> None:
    seconds = parse_duration("2.5s")
    assert seconds == Fraction(5, 2)
    assert synth_wav(seconds, seed=b"").duration == 2.5  # type: ignore[arg-type]
    assert synth_wav(Decimal("2.5"), seed=b"").data == synth_wav(2.5, seed=b"").data  # type: ignore[arg-type]
    assert abs(mpeg_audio(seconds, seed=b"").duration - 2.5) < 0.02  # type: ignore[arg-type]


def test_wrong_argument_types_are_typed_errors() -> None:
    picture = draw_image(16, 16, seed=b"")
    geometry = clip_geometry("preview", num_frames=1)
    with pytest.raises(MediaError, match="PIL image"):
        derive_image(b"png bytes", 8, 8, seed=b"")  # type: ignore[arg-type]
    with pytest.raises(MediaError, match="PIL image"):
        encode_image(None, "png")  # type: ignore[arg-type]
    with pytest.raises(MediaError, match="first_frame"):
        render_clip("frame.png", geometry, seed=b"")  # type: ignore[arg-type]
    with pytest.raises(MediaError, match="geometry"):
        render_clip(picture, (320, 180, 24, 48), seed=b"")  # type: ignore[arg-type]
    with pytest.raises(MediaError, match="image_bytes"):
        render_clip_from_bytes("data:image/png;base64,", geometry, seed=b"")  # type: ignore[arg-type]
    with pytest.raises(MediaError):
        synth_wav(1, seed=b"", sample_rate=44100.0)  # type: ignore[arg-type]
    with pytest.raises(MediaError):
        mpeg_audio(1, seed=b"", bitrate_kbps=128.0)  # type: ignore[arg-type]
    with pytest.raises(MediaError):
        fit_limits("100", "50")  # type: ignore[arg-type]
    with pytest.raises(MediaError):
        clip_geometry(["preview"])  # type: ignore[arg-type]
