"""Pictures drawn from prompts, derived from inputs, and encoded: checked by decoding them with Pillow."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fal_mock.mock_server.media.errors import GeometryError, UnsupportedFormat
from fal_mock.mock_server.media.images import (
    IMAGE_FORMATS,
    derive_image,
    draw_image,
    encode_image,
    image_format_info,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float64)


def _decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- drawing -------------------------------------------------------------------------------------


def test_draw_is_deterministic() -> None:
    a = draw_image(320, 240, seed=b"seed", prompt="a lighthouse at dusk")
    b = draw_image(320, 240, seed=b"seed", prompt="a lighthouse at dusk")
    assert a.tobytes() == b.tobytes()
    assert (a.size, a.mode) == ((320, 240), "RGB")


def test_different_prompts_and_seeds_give_visibly_different_pictures() -> None:
    base = _pixels(draw_image(256, 256, seed=b"s", prompt="a cat"))
    for other in (
        draw_image(256, 256, seed=b"s", prompt="a dog"),
        draw_image(256, 256, seed=b"t", prompt="a cat"),
        draw_image(256, 256, seed=b"s", prompt=None),
    ):
        assert np.mean(np.abs(base - _pixels(other))) > 15  # mean absolute difference per channel, of 255


def test_it_looks_like_a_picture_not_noise() -> None:
    pixels = _pixels(draw_image(512, 512, seed=b"x", prompt="mountains"))
    # Flat shading: most neighbouring pixels are equal or nearly so, yet there are many distinct colours.
    horizontal = np.abs(np.diff(pixels, axis=1)).sum(axis=2)
    assert np.mean(horizontal < 3) > 0.9
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 50
    assert pixels.std() > 25


def test_prompt_words_steer_the_scene() -> None:
    night = _pixels(draw_image(256, 256, seed=b"k", prompt="a quiet night"))
    day = _pixels(draw_image(256, 256, seed=b"k", prompt="a sunny day over the sea, blue sky"))
    assert night[:64].mean() < 70  # dark sky at night
    assert night[:64].mean() < day[:64].mean()
    red = _pixels(draw_image(256, 256, seed=b"k", prompt="a red ball"))
    green = _pixels(draw_image(256, 256, seed=b"k", prompt="a green ball"))

    # The accent subject takes the named hue: the share of strongly red vs green pixels flips.
    def share(p: np.ndarray, channel: int) -> float:
        others = [c for c in range(3) if c != channel]
        return float(np.mean((p[..., channel] > 150) & (p[..., channel] > p[..., others].max(axis=-1) + 80)))

    assert share(red, 0) > share(green, 0)
    assert share(green, 1) > share(red, 1)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 96), st.integers(1, 96), st.binary(max_size=8), st.one_of(st.none(), st.text(max_size=40)))
def test_any_size_and_prompt_draws(width: int, height: int, seed: bytes, prompt: str | None) -> None:
    image = draw_image(width, height, seed=seed, prompt=prompt)
    assert image.size == (width, height)
    assert image.mode == "RGB"


def test_lone_surrogates_and_long_prompts() -> None:
    assert draw_image(32, 32, seed=b"", prompt="\ud800 bad").size == (32, 32)
    long_prompt = "night " * 100_000
    assert draw_image(32, 32, seed=b"", prompt=long_prompt).size == (32, 32)


@pytest.mark.parametrize(("width", "height"), [(0, 10), (10, 0), (8193, 10), (8000, 8000), (-1, 5)])
def test_size_limits(width: int, height: int) -> None:
    with pytest.raises(GeometryError):
        draw_image(width, height, seed=b"")


def test_non_integer_sizes_are_rejected() -> None:
    with pytest.raises(GeometryError):
        draw_image(10.0, 10, seed=b"")  # type: ignore[arg-type]
    with pytest.raises(GeometryError):
        draw_image(True, 10, seed=b"")


# --- deriving ------------------------------------------------------------------------------------


def _fit(image: Image.Image, width: int, height: int) -> np.ndarray:
    return _pixels(ImageOps.fit(image.convert("RGB"), (width, height), Image.Resampling.BICUBIC))


def _luma_correlation(a: np.ndarray, b: np.ndarray) -> float:
    la, lb = a.mean(axis=2).ravel(), b.mean(axis=2).ravel()
    return float(np.corrcoef(la, lb)[0, 1])


@pytest.mark.parametrize("seed", [bytes([i]) for i in range(12)])
def test_derived_images_clearly_come_from_their_input(seed: bytes) -> None:
    source = draw_image(640, 480, seed=b"source", prompt="a forest by a lake")
    unrelated = draw_image(640, 480, seed=b"other", prompt="a city at night")
    out = derive_image(source, 320, 320, seed=seed)
    assert (out.size, out.mode) == ((320, 320), "RGB")
    derived = _pixels(out)
    fitted = _fit(source, 320, 320)
    own = max(_luma_correlation(derived, fitted), _luma_correlation(derived, fitted[:, ::-1]))
    foreign = max(_luma_correlation(derived, _fit(unrelated, 320, 320)),
                  _luma_correlation(derived, _fit(unrelated, 320, 320)[:, ::-1]))  # fmt: skip
    assert own > 0.8
    assert own > foreign + 0.5
    # ... and it is visibly edited, not a copy.
    assert min(np.mean(np.abs(derived - fitted)), np.mean(np.abs(derived - fitted[:, ::-1]))) > 8


def test_derive_is_deterministic_and_seeded() -> None:
    source = draw_image(200, 100, seed=b"a")
    outs = {derive_image(source, 100, 100, seed=bytes([i])).tobytes() for i in range(8)}
    assert len(outs) >= 6  # 2 orientations x 4 grades x seeded colours
    assert derive_image(source, 64, 48, seed=b"q").tobytes() == derive_image(source, 64, 48, seed=b"q").tobytes()


@pytest.mark.parametrize("mode", ["RGBA", "LA", "L", "P", "1", "CMYK", "I;16"])
def test_derive_accepts_any_mode(mode: str) -> None:
    source = draw_image(50, 40, seed=b"m").convert(mode)
    assert derive_image(source, 30, 30, seed=b"z").mode == "RGB"


def test_derive_scales_up_tiny_and_extreme_sources() -> None:
    tiny = Image.new("RGB", (1, 1), (200, 10, 10))
    assert derive_image(tiny, 64, 64, seed=b"").size == (64, 64)
    strip = Image.new("RGB", (1000, 2), (10, 200, 10))
    assert derive_image(strip, 50, 200, seed=b"").size == (50, 200)


# --- encoding ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "pillow", "content_type"),
                         [("png", "PNG", "image/png"), ("jpeg", "JPEG", "image/jpeg"), ("jpg", "JPEG", "image/jpeg"),
                          ("webp", "WEBP", "image/webp"), ("PNG", "PNG", "image/png")])  # fmt: skip
def test_encoded_bytes_match_the_reported_facts(name: str, pillow: str, content_type: str) -> None:
    image = draw_image(333, 222, seed=b"enc", prompt="a red kite")
    result = encode_image(image, name)
    decoded = _decode(result.data)
    assert decoded.format == pillow
    assert decoded.size == (result.width, result.height) == (333, 222)
    assert decoded.mode == result.mode == "RGB"
    assert result.content_type == content_type
    assert result.size == len(result.data)
    assert Image.MIME[pillow] == content_type
    assert result.extension == IMAGE_FORMATS[result.format].extension
    if pillow == "PNG":
        assert np.array_equal(_pixels(decoded), _pixels(image))  # lossless
    else:
        assert np.mean(np.abs(_pixels(decoded) - _pixels(image))) < 6  # lossy but faithful


def test_alpha_is_kept_in_png_and_webp_and_flattened_over_white_in_jpeg() -> None:
    rgba = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (10, 10, 30, 30))
    png = encode_image(rgba, "png")
    assert png.mode == "RGBA"
    assert _decode(png.data).mode == "RGBA"
    webp = encode_image(rgba, "webp")
    assert webp.mode == "RGBA"
    assert _decode(webp.data).mode == "RGBA"
    jpeg = encode_image(rgba, "jpeg")
    decoded = _decode(jpeg.data)
    assert jpeg.mode == decoded.mode == "RGB"
    assert decoded.getpixel((2, 2))[0] > 240
    assert decoded.getpixel((2, 2))[2] > 240


def test_png_and_jpeg_encoding_is_deterministic() -> None:
    image = draw_image(128, 96, seed=b"d")
    for fmt in ("png", "jpeg", "webp"):
        assert encode_image(image, fmt).data == encode_image(draw_image(128, 96, seed=b"d"), fmt).data


@pytest.mark.parametrize("fmt", ["gif", "bmp", "tiff", "", "jpeg2000", None, 5])
def test_unknown_formats_are_typed_errors(fmt: object) -> None:
    with pytest.raises(UnsupportedFormat) as info:
        encode_image(draw_image(8, 8, seed=b""), fmt)  # type: ignore[arg-type]
    assert "png" in info.value.supported
    assert isinstance(info.value, ValueError)


def test_webp_unavailable_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from fal_mock.mock_server.media import images

    monkeypatch.setattr(images.features, "check", lambda name: False)
    with pytest.raises(UnsupportedFormat) as info:
        image_format_info("webp")
    assert info.value.supported == ("png", "jpeg")
