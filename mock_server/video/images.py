"""Decoding the request's input image, with limits and typed errors.

Accepted formats: PNG (APNG: the default image), JPEG, WebP (animated: the first frame) and
GIF (the first frame). The format is recognised from its signature and the matching Pillow
plugin class is used directly, so Pillow's generic ``Image.open`` (which tries every format
and runs its own decompression-bomb check with a *warning*) is never involved.

**Limits** (:class:`ImageLimits`, defaults below) are checked on the size in the header,
before any pixel is decoded (for GIF also the first frame's own extent, which may exceed
the logical screen, is read from the raw bytes first): at most 8192 px per side and
40 megapixels (a 40 MP RGB image is 120 MB decoded; a 20000x20000 header would be 1.2 GB),
and at least 16x16 px (one macroblock; smaller images carry no usable picture). Any
decompression-bomb error or warning that Pillow raises anyway is reported as
:class:`ImageTooLarge`; every other decoding failure is :class:`ImageLoadError`.

**Normalisation** to an 8-bit RGB image:

* EXIF orientation is applied (the same mapping as ``ImageOps.exif_transpose``); broken
  EXIF data is ignored (orientation 1), as browsers do.
* Transparency (RGBA, LA, palette or RGB/L with a transparent colour) is composited over
  **white** (``ALPHA_BACKGROUND``), a fixed choice so the output is deterministic and
  transparent logos look as they do on a white page.
* CMYK (including Adobe's inverted CMYK JPEGs) uses Pillow's plain CMYK->RGB conversion;
  embedded ICC profiles are not applied. 16-bit greyscale keeps its high byte (Pillow's own
  conversion would clip instead of scale). Palette, 1-bit, LA etc. go through Pillow's
  ``convert``.
* JPEG is decoded with ``draft()`` (libjpeg DCT scaling by 1/2, 1/4 or 1/8) when it is at
  least twice as large as the output in both directions (``target_hint``): a 4000x2650 photo
  for a 320 px preview decodes ~4x faster.

Errors carry fal's 422 ``detail`` fields: ``error_type``, ``msg`` and ``ctx``.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import IO, Final

from PIL import ExifTags, GifImagePlugin, Image, ImageFile, JpegImagePlugin, PngImagePlugin, WebPImagePlugin

__all__ = [
    "ALPHA_BACKGROUND",
    "DEFAULT_IMAGE_LIMITS",
    "ImageError",
    "ImageLimits",
    "ImageLoadError",
    "ImageTooLarge",
    "ImageTooSmall",
    "OpenedImage",
    "load_image",
    "open_image",
    "to_rgb",
]

ALPHA_BACKGROUND: Final = (255, 255, 255)
"""The colour transparent pixels are composited over (white)."""


class ImageError(Exception):
    """Base of the input-image errors; maps to one entry of fal's 422 ``detail`` list."""

    error_type: str = "image_load_error"
    msg: str = "Image load error"

    def __init__(self, ctx: dict[str, int] | None = None) -> None:
        super().__init__(self.msg)
        self.ctx = ctx

    def __repr__(self) -> str:
        return f"{type(self).__name__}(error_type={self.error_type!r}, ctx={self.ctx!r})"


class ImageLoadError(ImageError):
    """The bytes are not a decodable PNG, JPEG, WebP or GIF image."""

    error_type = "image_load_error"
    msg = "Image load error"


class ImageTooLarge(ImageError):
    """Wider or taller than the limits, or more pixels than allowed."""

    error_type = "image_too_large"
    msg = "Image too large"


class ImageTooSmall(ImageError):
    """Narrower or lower than the minimum size."""

    error_type = "image_too_small"
    msg = "Image too small"


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """Size limits, checked from the header before decoding."""

    max_width: int = 8192
    max_height: int = 8192
    max_pixels: int = 40_000_000
    min_width: int = 16
    min_height: int = 16

    def check(self, width: int, height: int) -> None:
        """Raise :class:`ImageTooLarge` / :class:`ImageTooSmall` for a ``width`` x ``height`` image.

        ``ctx`` is ``{"max_height", "max_width"}`` (plus ``"max_pixels"`` when only the pixel
        count is exceeded) or ``{"min_height", "min_width"}``.
        """
        if width > self.max_width or height > self.max_height:
            raise ImageTooLarge({"max_height": self.max_height, "max_width": self.max_width})
        if width * height > self.max_pixels:
            raise ImageTooLarge(
                {"max_height": self.max_height, "max_width": self.max_width, "max_pixels": self.max_pixels}
            )
        if width < self.min_width or height < self.min_height:
            raise ImageTooSmall({"min_height": self.min_height, "min_width": self.min_width})


DEFAULT_IMAGE_LIMITS: Final = ImageLimits()

_PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"
_BOMB_ERRORS: Final = (Image.DecompressionBombError, Image.DecompressionBombWarning)
# ImageOps.exif_transpose's mapping from EXIF orientation to the transposition that undoes it.
_ORIENTATION: Final[Mapping[int, Image.Transpose]] = MappingProxyType(
    {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }
)
_SIXTEEN_BIT: Final = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N"})


def _gif_first_frame_extent(data: bytes) -> tuple[int, int]:
    """Logical screen size grown to the first image descriptor's extent, from the raw bytes.

    Pillow grows the image to the first frame's extent while *opening* a GIF (and runs its
    bomb check there), so the limits must see that extent before Pillow does.
    """
    if len(data) < 13:
        raise ImageLoadError()
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    pos = 13
    if flags & 0x80:
        pos += 3 << ((flags & 7) + 1)  # global colour table
    while pos < len(data):
        block = data[pos]
        if block == 0x2C:  # image descriptor
            if pos + 9 >= len(data):
                break
            x0, y0, fw, fh = struct.unpack_from("<HHHH", data, pos + 1)
            return max(width, x0 + fw), max(height, y0 + fh)
        if block == 0x21:  # extension: label, then sub-blocks until a zero length
            pos += 2
            while pos < len(data) and data[pos]:
                pos += data[pos] + 1
            pos += 1
            continue
        break  # trailer or garbage: Pillow decides
    return width, height


def _plugin_for(data: bytes) -> type[ImageFile.ImageFile]:
    if data.startswith(_PNG_MAGIC):
        return PngImagePlugin.PngImageFile
    if data.startswith(b"\xff\xd8\xff"):
        return JpegImagePlugin.JpegImageFile
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return GifImagePlugin.GifImageFile
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WebPImagePlugin.WebPImageFile
    raise ImageLoadError()


def _too_large(limits: ImageLimits) -> ImageTooLarge:
    return ImageTooLarge({"max_height": limits.max_height, "max_width": limits.max_width})


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except _BOMB_ERRORS:
        raise
    except Exception:
        return 1
    return value if isinstance(value, int) and value in _ORIENTATION else 1


class OpenedImage:
    """An image whose header has been read and checked against the limits, not yet decoded.

    ``size`` is the size after EXIF orientation. :meth:`decode` does the rest of
    :func:`load_image`; it can run once.
    """

    __slots__ = ("_image", "_limits", "_orientation", "_used")

    def __init__(self, image: ImageFile.ImageFile, orientation: int, limits: ImageLimits) -> None:
        self._image = image
        self._orientation = orientation
        self._limits = limits
        self._used = False

    @property
    def format(self) -> str:
        return str(self._image.format)

    @property
    def size(self) -> tuple[int, int]:
        w, h = self._image.size
        return (h, w) if self._orientation in (5, 6, 7, 8) else (w, h)

    def decode(self, target_hint: tuple[int, int] | None = None) -> Image.Image:
        """Decode to an RGB image (see the module docstring)."""
        if self._used:
            raise RuntimeError("OpenedImage.decode() can only run once")
        self._used = True
        image = self._image
        try:
            if target_hint is not None and isinstance(image, JpegImagePlugin.JpegImageFile):
                tw, th = target_hint
                if self._orientation in (5, 6, 7, 8):
                    tw, th = th, tw
                w, h = image.size
                if tw > 0 and th > 0 and w >= 2 * tw and h >= 2 * th:
                    image.draft(image.mode, (tw, th))
            image.load()
            rgb = to_rgb(image)
            transpose = _ORIENTATION.get(self._orientation)
            if transpose is not None:
                rgb = rgb.transpose(transpose)
        except ImageError:
            raise
        except _BOMB_ERRORS as exc:
            raise _too_large(self._limits) from exc
        except Exception as exc:
            raise ImageLoadError() from exc
        return rgb


def open_image(data: bytes, *, limits: ImageLimits = DEFAULT_IMAGE_LIMITS) -> OpenedImage:
    """Identify the format, read the header and enforce ``limits`` without decoding pixels."""
    data = bytes(data)
    plugin = _plugin_for(data)
    if plugin is GifImagePlugin.GifImageFile:
        limits.check(*_gif_first_frame_extent(data))
    fp: IO[bytes] = io.BytesIO(data)
    try:
        image = plugin(fp)
    except _BOMB_ERRORS as exc:
        raise _too_large(limits) from exc
    except Exception as exc:
        raise ImageLoadError() from exc
    try:
        limits.check(*image.size)
        if isinstance(image, PngImagePlugin.PngImageFile):
            # A PNG's eXIf chunk may follow the pixel data: decode first (after the size check),
            # so that a decoding error is reported as such and not swallowed with the EXIF.
            image.load()
        orientation = _orientation(image)
    except ImageError:
        image.close()
        raise
    except _BOMB_ERRORS as exc:
        image.close()
        raise _too_large(limits) from exc
    except Exception as exc:
        image.close()
        raise ImageLoadError() from exc
    return OpenedImage(image, orientation, limits)


def load_image(
    data: bytes,
    *,
    limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
    target_hint: tuple[int, int] | None = None,
) -> Image.Image:
    """Decode an input image to RGB (see the module docstring).

    ``target_hint`` is the output size the image will be scaled to; JPEGs much larger than
    it are decoded at a reduced scale. Raises :class:`ImageLoadError`,
    :class:`ImageTooLarge` or :class:`ImageTooSmall`.
    """
    return open_image(data, limits=limits).decode(target_hint)


def to_rgb(image: Image.Image) -> Image.Image:
    """An 8-bit RGB version of ``image`` with transparency flattened on ``ALPHA_BACKGROUND``."""
    mode = image.mode
    if mode == "RGB" and "transparency" not in image.info:
        return image
    if mode in _SIXTEEN_BIT:
        # Keep the high byte (v / 256 is exact in binary floating point; the result truncates).
        return image.point(lambda v: v * (1 / 256)).convert("L").convert("RGB")
    has_alpha = (
        mode in ("RGBA", "LA", "PA", "RGBa", "La")
        or "transparency" in image.info
        or (mode == "P" and image.palette is not None and image.palette.mode == "RGBA")
    )
    if not has_alpha:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (*ALPHA_BACKGROUND, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")
