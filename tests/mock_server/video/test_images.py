"""Input images: formats, normalisation and the typed errors the server turns into 422s."""

from __future__ import annotations

import io
import random
import struct
import zlib

import numpy as np
import pytest
from fal_mock.mock_server.video import (
    ALPHA_BACKGROUND,
    DEFAULT_IMAGE_LIMITS,
    ImageError,
    ImageLimits,
    ImageLoadError,
    ImageTooLarge,
    ImageTooSmall,
    load_image,
    render_video,
    render_video_from_bytes,
)
from fal_mock.mock_server.video.images import open_image
from PIL import Image, ImageFile, ImageOps

from tests.mock_server.video._support import LUCY, encode, request_input, sample_image
from tests.videocheck import assert_real_mp4


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` but carries almost no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _gif_with_frame(screen: tuple[int, int], frame: tuple[int, int]) -> bytes:
    """A GIF whose first image descriptor is larger than its logical screen."""
    header = b"GIF89a" + struct.pack("<HHBBB", *screen, 0x80, 0, 0) + bytes(6)  # 2-entry colour table
    descriptor = b"," + struct.pack("<HHHHB", 0, 0, *frame, 0)
    return header + descriptor + b"\x02\x02\x4c\x01\x00;"


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to decode pixels fails the test (turns into ImageLoadError, not the expected error)."""

    def refuse(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def test_error_fields_match_fal() -> None:
    assert (ImageLoadError.error_type, ImageLoadError.msg) == ("image_load_error", "Image load error")
    assert (ImageTooLarge.error_type, ImageTooLarge.msg) == ("image_too_large", "Image too large")
    assert (ImageTooSmall.error_type, ImageTooSmall.msg) == ("image_too_small", "Image too small")
    error = ImageTooSmall({"min_height": 16, "min_width": 16})
    assert isinstance(error, ImageError)
    assert str(error) == "Image too small"
    assert ImageLoadError().ctx is None
    assert ImageLimits(8192, 8192, 40_000_000, 16, 16) == DEFAULT_IMAGE_LIMITS


def test_truncated_png() -> None:
    data = encode(sample_image(200, 120), "PNG")
    with pytest.raises(ImageLoadError) as info:
        load_image(data[: len(data) // 2])
    assert info.value.error_type == "image_load_error"


@pytest.mark.parametrize("data", [b"", b"garbage", random.Random(3).randbytes(5000), b"\x89PNG\r\n\x1a\n" + bytes(40)])
def test_garbage_bytes(data: bytes) -> None:
    with pytest.raises(ImageLoadError):
        load_image(data)


def test_unsupported_format_is_a_load_error() -> None:
    with pytest.raises(ImageLoadError):
        load_image(encode(sample_image(64, 64), "BMP"))


def test_one_pixel_image_is_too_small() -> None:
    with pytest.raises(ImageTooSmall) as info:
        load_image(encode(Image.new("RGB", (1, 1), "red"), "PNG"))
    assert info.value.ctx == {"min_height": 16, "min_width": 16}
    assert info.value.error_type == "image_too_small"


@pytest.mark.usefixtures("no_decoding")
def test_bomb_header_is_rejected_before_decoding() -> None:
    data = _png_header_only(20000, 20000)
    assert len(data) < 200
    with pytest.raises(ImageTooLarge) as info:
        load_image(data)
    assert info.value.ctx == {"max_height": 8192, "max_width": 8192}
    assert info.value.msg == "Image too large"


@pytest.mark.usefixtures("no_decoding")
def test_pixel_count_limit() -> None:
    with pytest.raises(ImageTooLarge) as info:
        load_image(_png_header_only(8000, 8000))
    assert info.value.ctx == {"max_height": 8192, "max_width": 8192, "max_pixels": 40_000_000}


@pytest.mark.usefixtures("no_decoding")
def test_gif_frame_larger_than_its_screen_is_checked_first() -> None:
    with pytest.raises(ImageTooLarge):
        load_image(_gif_with_frame((10, 10), (30000, 30000)))


@pytest.mark.parametrize("frame", [(12000, 12000), (20000, 20000)])
def test_pillow_bomb_errors_become_typed_errors(frame: tuple[int, int]) -> None:
    # With our limits raised, Pillow's own check fires (a warning, which this suite turns into
    # an error, or a DecompressionBombError); neither may escape as anything but ImageTooLarge.
    generous = ImageLimits(max_width=65535, max_height=65535, max_pixels=10**10)
    with pytest.raises(ImageTooLarge):
        load_image(_gif_with_frame((10, 10), frame), limits=generous)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])  # PNG: APNG
def test_animated_image_uses_the_first_frame(fmt: str) -> None:
    frames = [Image.new("RGB", (32, 32), colour) for colour in ("red", "blue", "green")]
    extra = {"lossless": True} if fmt == "WEBP" else {}
    buf = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, **extra)
    image = load_image(buf)
    assert image.mode == "RGB"
    assert image.getpixel((16, 16)) == (255, 0, 0)


def test_cmyk_jpeg_has_the_right_colours() -> None:
    cmyk = Image.new("CMYK", (64, 32), (0, 255, 255, 0))  # red
    cmyk.paste((255, 0, 255, 0), (32, 0, 64, 32))  # green
    image = load_image(encode(cmyk, "JPEG", quality=95))
    assert image.mode == "RGB"
    red, green = np.asarray(image)[16, 8].astype(int), np.asarray(image)[16, 56].astype(int)
    assert np.abs(red - [255, 0, 0]).max() <= 12
    assert np.abs(green - [0, 255, 0]).max() <= 12


def _exif_orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied(orientation: int) -> None:
    raw = sample_image(96, 48, seed=2)
    data = encode(raw, "PNG", exif=_exif_orientation(orientation))
    image = load_image(data)
    with Image.open(io.BytesIO(data)) as reference:
        expected = ImageOps.exif_transpose(reference).convert("RGB")
    assert image.size == expected.size
    assert image.tobytes() == expected.tobytes()
    assert image.tobytes() != raw.tobytes()


def test_exif_rotated_input_renders_the_rotated_picture() -> None:
    raw = sample_image(200, 120, seed=4)
    data = encode(raw, "PNG", exif=_exif_orientation(6))  # "rotate 90 clockwise to display"
    rotated = raw.transpose(Image.Transpose.ROTATE_270)
    text = request_input("rotate")
    from_bytes = render_video_from_bytes(data, endpoint_id=LUCY, canonical_input=text)
    assert (from_bytes.width, from_bytes.height) == (192, 320)  # portrait now
    assert from_bytes.data == render_video(rotated, endpoint_id=LUCY, canonical_input=text).data


def test_rgba_is_flattened_on_the_background() -> None:
    rgba = Image.new("RGBA", (32, 32), (255, 0, 0, 255))
    rgba.paste((0, 0, 255, 0), (16, 0, 32, 32))  # fully transparent half
    rgba.paste((0, 0, 0, 128), (0, 16, 16, 32))  # half-transparent black quarter
    image = load_image(encode(rgba, "PNG"))
    assert ALPHA_BACKGROUND == (255, 255, 255)
    assert image.getpixel((4, 4)) == (255, 0, 0)
    assert image.getpixel((24, 4)) == ALPHA_BACKGROUND
    grey = image.getpixel((4, 24))
    assert isinstance(grey, tuple)
    assert all(abs(c - 127) <= 1 for c in grey)


def test_palette_with_transparency_and_greyscale_alpha() -> None:
    palette = Image.new("P", (32, 32), 0)
    palette.putpalette([0, 255, 0, 0, 0, 0])
    palette.paste(1, (0, 0, 16, 32))
    image = load_image(encode(palette, "PNG", transparency=1))
    assert image.getpixel((4, 4)) == ALPHA_BACKGROUND
    assert image.getpixel((24, 4)) == (0, 255, 0)
    la = Image.new("LA", (32, 32), (0, 0))
    assert load_image(encode(la, "PNG")).getpixel((0, 0)) == ALPHA_BACKGROUND


def test_sixteen_bit_greyscale_keeps_the_high_byte() -> None:
    grey16 = Image.new("I;16", (32, 32), 0x8040)
    image = load_image(encode(grey16, "PNG"))
    assert image.getpixel((0, 0)) == (0x80, 0x80, 0x80)


def test_webp_lossless_is_exact() -> None:
    raw = sample_image(64, 48, seed=9)
    image = load_image(encode(raw, "WEBP", lossless=True))
    assert image.tobytes() == raw.tobytes()


def test_large_jpeg_is_decoded_in_draft_mode() -> None:
    big = sample_image(2000, 1200, seed=5)
    data = encode(big, "JPEG", quality=90)
    full = load_image(data)
    assert full.size == (2000, 1200)
    drafted = open_image(data).decode((320, 192))
    assert drafted.size == (500, 300)  # 1/4 scale: the largest that still covers 320x192
    assert load_image(data, target_hint=(1280, 720)).size == (2000, 1200)  # not 2x larger: full decode
    video = render_video_from_bytes(data, endpoint_id=LUCY, canonical_input=request_input())
    assert (video.width, video.height) == (320, 192)
    assert_real_mp4(video.data, width=320, height=192, frame_count=48, fps=24)


def test_custom_limits() -> None:
    data = encode(sample_image(100, 50), "PNG")
    with pytest.raises(ImageTooLarge) as large:
        load_image(data, limits=ImageLimits(max_width=64, max_height=64))
    assert large.value.ctx == {"max_height": 64, "max_width": 64}
    with pytest.raises(ImageTooSmall) as small:
        load_image(data, limits=ImageLimits(min_width=32, min_height=64))
    assert small.value.ctx == {"min_height": 64, "min_width": 32}
    with pytest.raises(ImageTooSmall):
        render_video_from_bytes(
            data, endpoint_id=LUCY, canonical_input="{}", limits=ImageLimits(min_width=32, min_height=64)
        )


def test_opened_image_decodes_once() -> None:
    opened = open_image(encode(sample_image(32, 32), "PNG"))
    assert opened.size == (32, 32)
    assert opened.format == "PNG"
    opened.decode()
    with pytest.raises(RuntimeError, match="once"):
        opened.decode()
