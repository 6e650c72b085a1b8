"""fal's size fields turned into output sizes: image presets, aspect ratios, resolutions, video clips.

**Images** (:func:`image_size`, :func:`size_for_aspect`, :func:`fit_limits`)

* ``image_size`` presets (fal's names): ``square_hd`` 1024x1024, ``square`` 512x512,
  ``portrait_4_3`` 768x1024, ``portrait_16_9`` 576x1024, ``landscape_4_3`` 1024x768,
  ``landscape_16_9`` 1024x576. An object ``{"width": W, "height": H}`` (positive integers) is
  honoured within the limits. ``None`` means the caller's default preset (``landscape_4_3``
  unless told). ``"auto"`` keeps the source image's size when one is given (else the default
  preset); ``"auto_2K"`` / ``"auto_4K"`` (Seedream) keep the source's aspect ratio at that
  resolution (else 1:1).
* ``aspect_ratio`` strings ``"W:H"`` (``"16:9"``, ``"21:9"``, ``"9:21"``, ``"4:5"``, ``"2.39:1"`` ...;
  positive numbers, the ratio between 1:64 and 64:1) or ``"auto"`` / ``None`` (the source's
  aspect ratio if known, else the caller's default, 1:1 for images).
* ``resolution`` strings, case-insensitive: ``"<N>p"`` (``"480p"``, ``"720p"``, ``"1080p"``, also
  ``"512P"``, ``"768P"``, ``"580p"``): the *short* side is N (``"720p"`` 16:9 is 1280x720, 9:16 is
  720x1280, 1:1 is 720x720); ``"<K>K"`` (``"1K"``, ``"2K"``, ``"4K"``, ``"0.5K"``): about
  (1024·K)² pixels at the aspect ratio (``"1K"`` 1:1 is 1024x1024, 16:9 about 1360x768, like
  Gemini's image sizes). Images without a resolution use ``"1K"``.
* **Limits** (:class:`SizeLimits`, defaults as the server's input-image limits): at most
  8192 px per side and 40 megapixels, at least 16 px per side. A size beyond them is scaled
  down (or up) keeping its aspect ratio; when the aspect ratio is so extreme that both cannot
  hold (e.g. 16 x 10000), each side is clamped on its own and the aspect ratio is not kept.
* **Rounding**: image sides are rounded to the nearest multiple of ``multiple`` (default 8, what
  latent-diffusion models produce; pass 1 to keep explicit sizes exact); if that exceeds the
  pixel cap both are rounded down instead, then the longer side is reduced by ``multiple``
  while a limit is still exceeded. A side is never below the smallest multiple
  that is >= ``min_side``.

**Video clips** (:func:`clip_geometry`; sizes are always even, >= 16 px, and the image is later
scaled and centre-cropped to fill them):

==============  =================================  ======================================
field           ``preview`` (cheap)                 ``realistic``
==============  =================================  ======================================
size            long side 320, ``resolution``       short side from ``resolution``
                ignored                             (default ``"720p"``), long side capped
                                                    at 1920 (both scaled down together)
aspect ratio    ``aspect_ratio``, else the source  same
                image's, else 16:9
fps             requested (rounded), 1..30,        requested (rounded), 1..60,
                default 24                          default 24
duration        requested, capped at 10 s,         requested, capped at 30 s,
                default 2 s                         default 5 s
frames          ``num_frames`` if given, else      same, at most 1800
                round(duration·fps); at most 300
==============  =================================  ======================================

Durations are numbers or fal's strings (``"5"``, ``"10"``, ``"5s"``, ``"8.5 s"``); fps numbers or
numeric strings. The caps are a mock's choice to bound generation cost (a 1920x1080x1800 clip
takes about 0.35 s to write); the returned :class:`VideoGeometry` always states the truth
(``duration = frame_count / fps``). Malformed values (zero, negative, non-finite, wrong type,
unknown preset or resolution) raise :class:`GeometryError`; values that are merely large are
clamped as documented.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Final, Literal

from ..video.profiles import VideoGeometry
from .errors import GeometryError

__all__ = [
    "DEFAULT_SIZE_LIMITS",
    "IMAGE_SIZE_PRESETS",
    "PREVIEW_LIMITS",
    "REALISTIC_LIMITS",
    "ClipLimits",
    "ImageSize",
    "Resolution",
    "SizeLimits",
    "clip_geometry",
    "fit_limits",
    "image_size",
    "parse_aspect_ratio",
    "parse_duration",
    "parse_fps",
    "parse_resolution",
    "size_for_aspect",
]

IMAGE_SIZE_PRESETS: Final[Mapping[str, tuple[int, int]]] = MappingProxyType(
    {
        "square_hd": (1024, 1024),
        "square": (512, 512),
        "portrait_4_3": (768, 1024),
        "portrait_16_9": (576, 1024),
        "landscape_4_3": (1024, 768),
        "landscape_16_9": (1024, 576),
    }
)

_MAX_ASPECT: Final = 64  # the widest ratio accepted, either way
_MAX_ASPECT_TERM: Final = 100_000  # each side of "W:H"
_RESOLUTION_RE: Final = re.compile(r"^\s*(\d{1,5}(?:\.\d{1,3})?)\s*([pk])\s*$", re.IGNORECASE)
_DURATION_RE: Final = re.compile(r"^\s*(\d{1,6}(?:\.\d{1,6})?)\s*(?:s|sec|secs|seconds)?\s*$", re.IGNORECASE)
_NUMBER_RE: Final = re.compile(r"^\s*(\d{1,6}(?:\.\d{1,6})?)\s*$")
_VIDEO_MIN_SIDE: Final = 16


@dataclass(frozen=True, slots=True)
class SizeLimits:
    """Bounds for generated image sizes (defaults: the server's input-image limits)."""

    max_side: int = 8192
    max_pixels: int = 40_000_000
    min_side: int = 16

    def __post_init__(self) -> None:
        if self.min_side < 1 or self.max_side < self.min_side or self.max_pixels < self.min_side * self.min_side:
            raise GeometryError(f"inconsistent size limits {self!r}")


DEFAULT_SIZE_LIMITS: Final = SizeLimits()


@dataclass(frozen=True, slots=True)
class ImageSize:
    """An output image size in pixels."""

    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Resolution:
    """A parsed ``resolution``: ``short_side`` (``"720p"``: 720) or ``area`` (``"1K"``: 1024²) pixels."""

    kind: Literal["short_side", "area"]
    value: int


@dataclass(frozen=True, slots=True)
class ClipLimits:
    """The table row of one video profile (see the module docstring)."""

    long_side: int | None  # preview: the fixed long side; realistic: None (from the resolution)
    long_side_cap: int
    default_resolution: str
    default_fps: int
    max_fps: int
    default_duration: Fraction
    max_duration: Fraction
    max_frames: int


PREVIEW_LIMITS: Final = ClipLimits(
    long_side=320,
    long_side_cap=320,
    default_resolution="",
    default_fps=24,
    max_fps=30,
    default_duration=Fraction(2),
    max_duration=Fraction(10),
    max_frames=300,
)
REALISTIC_LIMITS: Final = ClipLimits(
    long_side=None,
    long_side_cap=1920,
    default_resolution="720p",
    default_fps=24,
    max_fps=60,
    default_duration=Fraction(5),
    max_duration=Fraction(30),
    max_frames=1800,
)
_CLIP_LIMITS: Final[Mapping[str, ClipLimits]] = MappingProxyType(
    {"preview": PREVIEW_LIMITS, "realistic": REALISTIC_LIMITS}
)


# --- parsing -------------------------------------------------------------------------------------


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise GeometryError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise GeometryError(f"{name} must be positive, got {value}")
    return value


def _positive_number(value: object, name: str, pattern: re.Pattern[str]) -> Fraction:
    """A finite positive number from an int, float or numeric string, as an exact fraction."""
    if isinstance(value, bool):
        raise GeometryError(f"{name} must be a number, got {value!r}")
    if isinstance(value, int):
        number = Fraction(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise GeometryError(f"{name} must be finite, got {value!r}")
        number = Fraction(value)
    elif isinstance(value, str):
        match = pattern.match(value)
        if match is None:
            raise GeometryError(f"{name} {value!r} is not a number")
        number = Fraction(match.group(1))
    else:
        raise GeometryError(f"{name} must be a number or a numeric string, got {type(value).__name__}")
    if number <= 0:
        raise GeometryError(f"{name} must be positive, got {value!r}")
    return number


def parse_aspect_ratio(value: object) -> tuple[int, int] | None:
    """``"16:9"`` -> ``(16, 9)`` (reduced; ``"2.39:1"`` -> ``(239, 100)``); ``None`` / ``"auto"`` -> ``None``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise GeometryError(f"aspect_ratio must be a string like '16:9', got {value!r}")
    text = value.strip()
    if text.lower() == "auto":
        return None
    parts = text.split(":")
    if len(parts) != 2:
        raise GeometryError(f"aspect_ratio {value!r} is not of the form 'W:H'")
    try:
        w, h = (Fraction(p.strip()) for p in parts)
    except (ValueError, ZeroDivisionError):
        raise GeometryError(f"aspect_ratio {value!r} is not of the form 'W:H'") from None
    if w <= 0 or h <= 0 or w > _MAX_ASPECT_TERM or h > _MAX_ASPECT_TERM:
        raise GeometryError(f"aspect_ratio {value!r} needs positive sides up to {_MAX_ASPECT_TERM}")
    ratio = w / h
    if ratio > _MAX_ASPECT or ratio < Fraction(1, _MAX_ASPECT):
        raise GeometryError(f"aspect_ratio {value!r} is more extreme than {_MAX_ASPECT}:1")
    return ratio.numerator, ratio.denominator


def parse_resolution(value: object) -> Resolution:
    """``"720p"`` -> short side 720; ``"2K"`` -> area 2048²; see the module docstring."""
    if not isinstance(value, str):
        raise GeometryError(f"resolution must be a string like '720p' or '2K', got {value!r}")
    match = _RESOLUTION_RE.match(value)
    if match is None:
        raise GeometryError(f"unknown resolution {value!r}; expected '<N>p' (e.g. '720p') or '<K>K' (e.g. '2K')")
    number = Fraction(match.group(1))
    if match.group(2).lower() == "p":
        if number.denominator != 1 or not 16 <= number <= 8192:
            raise GeometryError(f"resolution {value!r}: the short side must be a whole number from 16 to 8192")
        return Resolution("short_side", int(number))
    side = number * 1024
    if not 16 <= side <= 8192:
        raise GeometryError(f"resolution {value!r}: K must be from 1/64 to 8")
    return Resolution("area", int(side * side))


def parse_duration(value: object) -> Fraction:
    """Seconds from a number or a string (``"5"``, ``"5s"``, ``"8.5 s"``), exact."""
    return _positive_number(value, "duration", _DURATION_RE)


def parse_fps(value: object) -> Fraction:
    """Frames per second from a number or a numeric string, exact."""
    return _positive_number(value, "fps", _NUMBER_RE)


# --- images --------------------------------------------------------------------------------------


def _round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def fit_limits(
    width: float | Fraction,
    height: float | Fraction,
    *,
    limits: SizeLimits = DEFAULT_SIZE_LIMITS,
    multiple: int = 8,
) -> ImageSize:
    """Scale ``width`` x ``height`` into ``limits`` keeping the aspect ratio, then round (module docstring)."""
    multiple = _positive_int(multiple, "multiple")
    if isinstance(width, bool | str) or isinstance(height, bool | str):
        raise GeometryError(f"size must be numbers, got {width!r} x {height!r}")
    try:
        w, h = Fraction(width), Fraction(height)
    except (ValueError, OverflowError, TypeError):
        raise GeometryError(f"size must be finite numbers, got {width!r} x {height!r}") from None
    if w <= 0 or h <= 0:
        raise GeometryError(f"size must be positive, got {width!r} x {height!r}")
    lowest = -(-limits.min_side // multiple) * multiple  # smallest multiple >= min_side
    highest = limits.max_side // multiple * multiple
    if lowest > highest or lowest * lowest > limits.max_pixels:
        raise GeometryError(f"no multiple of {multiple} fits {limits!r}")
    # Scale down into max_side and max_pixels, then up to min_side (the short side wins over the caps).
    scale = min(Fraction(1), Fraction(limits.max_side) / max(w, h))
    area = w * h * scale * scale
    if area > limits.max_pixels:
        scale *= Fraction(math.isqrt(math.floor(limits.max_pixels * 10**12 / area)), 10**6)  # sqrt(max / area)
    if min(w, h) * scale < limits.min_side:
        scale = Fraction(limits.min_side) / min(w, h)
    sides = [w * scale, h * scale]
    rounded = [min(highest, max(lowest, _round_half_up(s / multiple) * multiple)) for s in sides]
    if rounded[0] * rounded[1] > limits.max_pixels:  # rounding up broke the pixel cap: round both down instead
        rounded = [min(highest, max(lowest, math.floor(s / multiple) * multiple)) for s in sides]
    while rounded[0] * rounded[1] > limits.max_pixels:
        big = 0 if rounded[0] >= rounded[1] else 1
        if rounded[big] - multiple < lowest:
            big = 1 - big
        rounded[big] -= multiple
    return ImageSize(rounded[0], rounded[1])


def _area_size(aspect: tuple[int, int], area: int) -> tuple[Fraction, Fraction]:
    a, b = aspect
    # width = sqrt(area * a / b), height = sqrt(area * b / a), to a millionth of a pixel.
    w = Fraction(math.isqrt(area * a * 10**12 // b), 10**6)
    h = Fraction(math.isqrt(area * b * 10**12 // a), 10**6)
    return w, h


def _short_side_size(aspect: tuple[int, int], short: int) -> tuple[Fraction, Fraction]:
    a, b = aspect
    if a >= b:
        return Fraction(short * a, b), Fraction(short)
    return Fraction(short), Fraction(short * b, a)


def _source_aspect(source_size: tuple[int, int] | None) -> tuple[int, int] | None:
    if source_size is None:
        return None
    sw, sh = source_size
    _positive_int(sw, "source width")
    _positive_int(sh, "source height")
    ratio = Fraction(sw, sh)
    ratio = min(max(ratio, Fraction(1, _MAX_ASPECT)), Fraction(_MAX_ASPECT))
    return ratio.numerator, ratio.denominator


def size_for_aspect(
    aspect_ratio: object,
    *,
    resolution: object = None,
    source_size: tuple[int, int] | None = None,
    default_aspect: tuple[int, int] = (1, 1),
    default_resolution: str = "1K",
    limits: SizeLimits = DEFAULT_SIZE_LIMITS,
    multiple: int = 8,
) -> ImageSize:
    """An image size from ``aspect_ratio`` and ``resolution`` (see the module docstring)."""
    aspect = parse_aspect_ratio(aspect_ratio) or _source_aspect(source_size) or default_aspect
    if resolution is None or (isinstance(resolution, str) and resolution.strip().lower() == "auto"):
        resolution = default_resolution
    res = parse_resolution(resolution)
    if res.kind == "area":
        w, h = _area_size(aspect, res.value)
    else:
        w, h = _short_side_size(aspect, res.value)
    return fit_limits(w, h, limits=limits, multiple=multiple)


def image_size(
    value: object,
    *,
    default: str = "landscape_4_3",
    source_size: tuple[int, int] | None = None,
    limits: SizeLimits = DEFAULT_SIZE_LIMITS,
    multiple: int = 8,
) -> ImageSize:
    """The size an ``image_size`` field asks for (preset name, ``{"width", "height"}`` object or ``None``)."""
    if value is None:
        value = default
    if isinstance(value, str):
        key = value.strip()
        if key in IMAGE_SIZE_PRESETS:
            return fit_limits(*IMAGE_SIZE_PRESETS[key], limits=limits, multiple=multiple)
        lowered = key.lower()
        if lowered == "auto":
            if source_size is not None:
                _source_aspect(source_size)
                return fit_limits(*source_size, limits=limits, multiple=multiple)
            return image_size(default, limits=limits, multiple=multiple)
        if lowered in ("auto_2k", "auto_4k"):
            return size_for_aspect(
                None, resolution=lowered[5:], source_size=source_size, limits=limits, multiple=multiple
            )
        raise GeometryError(f"unknown image_size {value!r}; expected one of {', '.join(IMAGE_SIZE_PRESETS)}")
    if isinstance(value, Mapping):
        width = _positive_int(value.get("width"), "image_size.width")
        height = _positive_int(value.get("height"), "image_size.height")
        return fit_limits(width, height, limits=limits, multiple=multiple)
    raise GeometryError(f"image_size must be a preset name or a {{'width', 'height'}} object, got {value!r}")


# --- video ---------------------------------------------------------------------------------------


def _even(value: Fraction) -> int:
    """The even integer nearest to ``value`` (ties upward)."""
    return 2 * _round_half_up(value / 2)


def _clip_size(aspect: tuple[int, int], short: Fraction | None, long_side: int, long_cap: int) -> tuple[int, int]:
    a, b = aspect
    ratio = Fraction(max(a, b), min(a, b))  # long / short >= 1
    long_ = Fraction(long_side) if short is None else short * ratio
    if long_ > long_cap:
        long_ = Fraction(long_cap)
    short_ = long_ / ratio
    long_px = max(_VIDEO_MIN_SIDE, _even(long_))
    short_px = max(_VIDEO_MIN_SIDE, min(long_px, _even(short_)))
    return (long_px, short_px) if a >= b else (short_px, long_px)


def clip_geometry(
    profile: Literal["preview", "realistic"],
    *,
    aspect_ratio: object = None,
    resolution: object = None,
    duration: object = None,
    fps: object = None,
    num_frames: object = None,
    source_size: tuple[int, int] | None = None,
) -> VideoGeometry:
    """The clip's size, fps and frame count for ``profile`` (see the table in the module docstring)."""
    limits = _CLIP_LIMITS.get(profile) if isinstance(profile, str) else None
    if limits is None:
        raise GeometryError(f"unknown video profile {profile!r}; expected one of {', '.join(_CLIP_LIMITS)}")
    aspect = parse_aspect_ratio(aspect_ratio) or _source_aspect(source_size) or (16, 9)

    if limits.long_side is not None:
        width, height = _clip_size(aspect, None, limits.long_side, limits.long_side_cap)
    else:
        if resolution is None or (isinstance(resolution, str) and resolution.strip().lower() == "auto"):
            resolution = limits.default_resolution
        res = parse_resolution(resolution)
        if res.kind == "short_side":
            short = Fraction(res.value)
        else:
            w, h = _area_size(aspect, res.value)
            short = min(w, h)
        width, height = _clip_size(aspect, short, 0, limits.long_side_cap)

    rate = limits.default_fps if fps is None else _round_half_up(parse_fps(fps))
    rate = min(max(rate, 1), limits.max_fps)
    if num_frames is not None:
        frames = _positive_int(num_frames, "num_frames")
    else:
        seconds = limits.default_duration if duration is None else parse_duration(duration)
        frames = max(1, _round_half_up(min(seconds, limits.max_duration) * rate))
    frames = min(frames, limits.max_frames)
    return VideoGeometry(width, height, rate, frames)
