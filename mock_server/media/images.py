"""Deterministic pictures: drawn from a prompt, derived from an input image, encoded as PNG/JPEG/WebP.

**Drawing** (:func:`draw_image`): a flat-shaded scene — a sky gradient, a sun or moon with a glow,
clouds or stars, a background (mountain ridges, a city skyline or dunes), a foreground (ground,
water, snow, sand), sometimes trees, and one accent-coloured subject. Everything (palette, time of
day, ridge shapes, positions) comes from ``SHA-256(seed, prompt)`` through :mod:`._seeded`, and a
few words of the prompt steer it so the picture visibly follows the text: ``night``/``moon``/
``stars`` (night), ``sunset``/``dawn``/``dusk`` (dusk), ``snow``/``winter`` (snow), ``sea``/``ocean``/
``lake``/``beach`` (water), ``forest``/``tree`` (trees), ``desert``/``dune`` (dunes), ``city``/
``street``/``skyline`` (buildings), and colour words (``red``, ``blue``, ``golden`` ...) set the
accent hue. Only the first 2000 characters are scanned for words (the hash covers the whole
prompt). Shapes are not anti-aliased (speed: a 1024x1024 picture draws in a few milliseconds).

**Deriving** (:func:`derive_image`): the input is flattened to RGB (transparency over white, as
the video writer does), scaled and centre-cropped to *fill* the output size, then edited
visibly, chosen by the seed: mirrored or not, and one colour grade among a tint, a duotone, a
posterisation and a vignette. The edit keeps the picture's structure so the output clearly
comes from its input.

**Encoding** (:func:`encode_image`): ``png`` (8-bit RGB or RGBA, every row unfiltered, one IDAT
compressed by the standard library's zlib at level 1 — written here rather than by Pillow because
Pillow always runs PNG's adaptive row filters, which cost about 45 ms of a 1024x1024 image's 60;
the file is about 1.5x larger and decodes anywhere), ``jpeg`` (alias ``jpg``; quality 90, 4:2:0)
and ``webp`` (lossy, quality 85, method 0 — Pillow's libwebp; raises
:class:`.errors.UnsupportedFormat` if this Pillow build lacks WebP).
RGBA images keep their alpha in PNG and WebP and are flattened over white for JPEG; other modes
become RGB. The reported facts (size, mode, content type) are those of the bytes.

**Limits**: sides 1..8192 px and at most 40 megapixels (the server's input-image limits);
anything else raises :class:`.errors.GeometryError`. Unknown formats raise
:class:`.errors.UnsupportedFormat`.

**Determinism**: the pixels are a pure function of (size, seed, prompt) or (input pixels, size,
seed) for a given Pillow version; the encoded bytes also depend on the zlib / libjpeg / libwebp
that Pillow was built with (the same on every machine with the same wheel).
"""

from __future__ import annotations

import colorsys
import io
import itertools
import re
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from PIL import Image, ImageChops, ImageDraw, ImageOps, features

from ..video.images import to_rgb
from ._seeded import SeededStream, seed_bytes
from .errors import GeometryError, MediaError, UnsupportedFormat

__all__ = [
    "IMAGE_FORMATS",
    "MAX_IMAGE_PIXELS",
    "MAX_IMAGE_SIDE",
    "GeneratedImage",
    "derive_image",
    "draw_image",
    "encode_image",
    "image_format_info",
]

MAX_IMAGE_SIDE: Final = 8192
MAX_IMAGE_PIXELS: Final = 40_000_000
_PROMPT_SCAN_CHARS: Final = 2000

RGB = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class ImageFormat:
    """One output format: Pillow's name, the MIME type, the file extension."""

    name: str
    pillow: str
    content_type: str
    extension: str


IMAGE_FORMATS: Final[Mapping[str, ImageFormat]] = MappingProxyType(
    {
        "png": ImageFormat("png", "PNG", "image/png", "png"),
        "jpeg": ImageFormat("jpeg", "JPEG", "image/jpeg", "jpeg"),
        "webp": ImageFormat("webp", "WEBP", "image/webp", "webp"),
    }
)
_ALIASES: Final[Mapping[str, str]] = MappingProxyType({"jpg": "jpeg"})


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    """An encoded image and the facts of its bytes."""

    data: bytes
    width: int
    height: int
    content_type: str  # "image/png", "image/jpeg", "image/webp"
    extension: str  # "png", "jpeg", "webp" (no dot)
    format: str  # "png", "jpeg", "webp"
    mode: str  # "RGB" or "RGBA"
    size: int  # len(data)


def _check_size(width: int, height: int) -> None:
    for name, side in (("width", width), ("height", height)):
        if isinstance(side, bool) or not isinstance(side, int):
            raise GeometryError(f"image {name} must be an integer, got {side!r}")
        if not 1 <= side <= MAX_IMAGE_SIDE:
            raise GeometryError(f"image {name} {side} is outside 1..{MAX_IMAGE_SIDE}")
    if width * height > MAX_IMAGE_PIXELS:
        raise GeometryError(f"image {width}x{height} has more than {MAX_IMAGE_PIXELS} pixels")


def _check_image(image: object) -> None:
    if not isinstance(image, Image.Image):
        raise MediaError(f"expected a PIL image, got {type(image).__name__}")


# --- palette -------------------------------------------------------------------------------------


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))
    return round(r * 255), round(g * 255), round(b * 255)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


_COLOUR_HUES: Final[Mapping[str, float]] = MappingProxyType(
    {
        "red": 0.0, "crimson": 0.97, "scarlet": 0.01, "orange": 0.07, "amber": 0.1, "golden": 0.12,
        "gold": 0.12, "yellow": 0.15, "lime": 0.23, "green": 0.33, "emerald": 0.38, "teal": 0.47,
        "cyan": 0.5, "turquoise": 0.48, "blue": 0.61, "azure": 0.58, "navy": 0.64, "indigo": 0.7,
        "violet": 0.76, "purple": 0.8, "magenta": 0.86, "pink": 0.92, "rose": 0.95,
    }
)  # fmt: skip
_WORD_FLAGS: Final[Mapping[str, str]] = MappingProxyType(
    {
        **dict.fromkeys(("night", "moon", "moonlit", "stars", "starry", "midnight", "dark", "galaxy"), "night"),
        **dict.fromkeys(("sunset", "sunrise", "dusk", "dawn", "evening", "twilight"), "dusk"),
        **dict.fromkeys(("snow", "snowy", "winter", "ice", "icy", "frozen", "arctic"), "snow"),
        **dict.fromkeys(("sea", "ocean", "lake", "beach", "river", "water", "coast", "waves"), "water"),
        **dict.fromkeys(("forest", "tree", "trees", "woods", "jungle", "pine", "garden"), "trees"),
        **dict.fromkeys(("desert", "dune", "dunes", "sand", "sahara"), "desert"),
        **dict.fromkeys(("city", "street", "skyline", "building", "buildings", "town", "cyberpunk"), "city"),
    }
)
_WORD_RE: Final = re.compile(r"[a-z]+")


@dataclass(frozen=True, slots=True)
class _Theme:
    time: str  # "day", "dusk", "night"
    background: str  # "mountains", "city", "dunes"
    ground: str  # "grass", "water", "snow", "sand"
    trees: bool
    accent: RGB
    sky_top: RGB
    sky_horizon: RGB
    ridge_far: RGB
    ridge_near: RGB
    ground_colour: RGB


def _theme(prompt: str, rng: SeededStream) -> _Theme:
    words = _WORD_RE.findall(prompt[:_PROMPT_SCAN_CHARS].lower())
    flags = {_WORD_FLAGS[w] for w in words if w in _WORD_FLAGS}
    hues = [_COLOUR_HUES[w] for w in words if w in _COLOUR_HUES]

    time = "night" if "night" in flags else "dusk" if "dusk" in flags else rng.choice(("day", "day", "dusk", "night"))
    background = (
        "city" if "city" in flags else "dunes" if "desert" in flags else rng.choice(("mountains", "mountains", "city"))
    )
    if "water" in flags:
        ground = "water"
    elif "snow" in flags:
        ground = "snow"
    elif "desert" in flags or background == "dunes":
        ground = "sand"
    else:
        ground = rng.choice(("grass", "grass", "water", "snow"))
    trees = "trees" in flags or (ground == "grass" and rng.below(2) == 0)
    accent_hue = hues[0] if hues else rng.unit()
    accent = _hsv(accent_hue, 0.75 + 0.2 * rng.unit(), 0.85 + 0.15 * rng.unit())
    base_hue = rng.unit()

    if time == "day":
        sky_top = _hsv(0.55 + 0.1 * rng.unit(), 0.55 + 0.3 * rng.unit(), 0.75 + 0.2 * rng.unit())
        sky_horizon = _mix(sky_top, (245, 245, 235), 0.65)
    elif time == "dusk":
        sky_top = _hsv(0.62 + 0.15 * rng.unit(), 0.6, 0.35 + 0.2 * rng.unit())
        sky_horizon = _hsv(0.02 + 0.1 * rng.unit(), 0.7 + 0.2 * rng.unit(), 0.95)
    else:
        sky_top = _hsv(0.6 + 0.1 * rng.unit(), 0.7, 0.08 + 0.08 * rng.unit())
        sky_horizon = _hsv(0.6 + 0.1 * rng.unit(), 0.55, 0.25 + 0.1 * rng.unit())

    if background == "dunes":
        ridge_near = _hsv(0.08 + 0.04 * rng.unit(), 0.55, 0.8)
    else:
        ridge_near = _hsv(base_hue, 0.35 + 0.3 * rng.unit(), 0.3 + 0.2 * rng.unit())
    if time == "night":
        ridge_near = _mix(ridge_near, (10, 12, 30), 0.6)
    ridge_far = _mix(ridge_near, sky_horizon, 0.7)

    ground_colour = {
        "grass": _hsv(0.22 + 0.12 * rng.unit(), 0.55 + 0.2 * rng.unit(), 0.45 + 0.2 * rng.unit()),
        "water": _mix(sky_top, (20, 60, 110), 0.5),
        "snow": (236, 240, 248),
        "sand": _hsv(0.1 + 0.03 * rng.unit(), 0.45, 0.85),
    }[ground]
    if time == "night":
        ground_colour = _mix(ground_colour, (8, 10, 24), 0.65)
    elif time == "dusk":
        ground_colour = _mix(ground_colour, sky_horizon, 0.2)
    return _Theme(time, background, ground, trees, accent, sky_top, sky_horizon, ridge_far, ridge_near, ground_colour)


# --- drawing -------------------------------------------------------------------------------------


def _vertical_gradient(width: int, height: int, stops: list[tuple[int, RGB]]) -> Image.Image:
    """A ``width`` x ``height`` image whose rows go through ``stops`` ((row, colour), rows ascending)."""
    column = bytearray()
    for y in range(height):
        for (y0, c0), (y1, c1) in itertools.pairwise(stops):
            if y <= y1 or (y1, c1) == stops[-1]:
                t = 0.0 if y1 <= y0 else min(max((y - y0) / (y1 - y0), 0.0), 1.0)
                column += bytes(_mix(c0, c1, t))
                break
    return Image.frombytes("RGB", (1, height), bytes(column)).resize((width, height), Image.Resampling.NEAREST)


def _ridge(rng: SeededStream, width: int, base: int, amplitude: int, roughness: float, points: int) -> list[int]:
    """Heights of a midpoint-displacement ridge line at ``points + 1`` evenly spaced x positions."""
    heights = [0.0] * (points + 1)
    heights[0] = rng.uniform(-1.0, 1.0)
    heights[points] = rng.uniform(-1.0, 1.0)
    step, scale = points, 1.0
    while step > 1:
        half = step // 2
        for i in range(half, points, step):
            heights[i] = (heights[i - half] + heights[i + half]) / 2 + rng.uniform(-scale, scale)
        step, scale = half, scale * roughness
    return [base - round(h * amplitude) for h in heights]


def _ridge_polygon(xs: list[int], ys: list[int], bottom: int) -> list[tuple[int, int]]:
    return [(xs[0], bottom), *zip(xs, ys, strict=True), (xs[-1], bottom)]


def _draw_scene(width: int, height: int, theme: _Theme, rng: SeededStream) -> Image.Image:
    short = min(width, height)
    horizon = round(height * rng.uniform(0.55, 0.72))
    image = _vertical_gradient(
        width, height, [(0, theme.sky_top), (horizon, theme.sky_horizon), (height - 1, theme.sky_horizon)]
    )
    draw = ImageDraw.Draw(image)

    # Stars or clouds.
    if theme.time == "night":
        count = min(400, max(1, width * height // 4000))
        for _ in range(count):
            x, y, r = rng.below(width), rng.below(max(1, horizon)), rng.below(max(1, short // 400) + 1)
            shade = 170 + rng.below(86)
            draw.ellipse((x, y, x + r, y + r), fill=(shade, shade, min(255, shade + 20)))
    else:
        for _ in range(rng.between(2, 4)):
            cx, cy = rng.below(width), rng.below(max(1, horizon * 2 // 3))
            cloud = _mix(theme.sky_horizon, (255, 255, 255), 0.6 if theme.time == "day" else 0.25)
            for _ in range(rng.between(3, 6)):
                rx, ry = max(1, short * rng.between(4, 10) // 100), max(1, short * rng.between(2, 5) // 100)
                ox, oy = cx + rng.between(-2 * rx, 2 * rx), cy + rng.between(-ry, ry)
                draw.ellipse((ox - rx, oy - ry, ox + rx, oy + ry), fill=cloud)

    # Sun or moon with a glow.
    sx, sy = round(width * rng.uniform(0.15, 0.85)), round(horizon * rng.uniform(0.2, 0.75))
    radius = max(1, round(short * rng.uniform(0.05, 0.09)))
    disc = {"day": (255, 246, 210), "dusk": _mix(theme.sky_horizon, (255, 240, 200), 0.6), "night": (235, 235, 215)}
    for ring, t in ((2.2, 0.18), (1.6, 0.35), (1.0, 1.0)):
        r = max(1, round(radius * ring))
        draw.ellipse((sx - r, sy - r, sx + r, sy + r), fill=_mix(theme.sky_horizon, disc[theme.time], t))

    # Background: three ridges, a skyline or dunes, from far (hazy) to near.
    columns = 64
    xs = [round(i * (width - 1) / columns) for i in range(columns + 1)]
    for layer in range(3):
        colour = _mix(theme.ridge_far, theme.ridge_near, layer / 2)
        base = horizon - round(height * (0.16 - 0.05 * layer))
        if theme.background == "city":
            x = -rng.below(max(1, short // 20) + 1)
            while x < width:
                w = max(2, short * rng.between(4, 10) // 100)
                top = base - round(height * rng.uniform(0.0, 0.18 - 0.04 * layer))
                draw.rectangle((x, top, x + w, horizon), fill=colour)
                if layer == 2 and w >= 8:
                    lit = _mix(colour, theme.accent if theme.time == "night" else theme.sky_horizon, 0.55)
                    step = max(4, w // 4)
                    for wy in range(top + step, horizon - step, step * 2):
                        for wx in range(x + step // 2, x + w - step // 2, step):
                            if rng.below(3):
                                draw.rectangle((wx, wy, wx + max(1, step // 3), wy + max(1, step // 2)), fill=lit)
                x += w + rng.below(max(1, short // 50) + 1)
        else:
            rough = 0.45 if theme.background == "dunes" else 0.6
            amplitude = round(height * (0.08 if theme.background == "dunes" else 0.12 - 0.02 * layer))
            ys = _ridge(rng, width, base, amplitude, rough, columns)
            draw.polygon(_ridge_polygon(xs, ys, horizon + 1), fill=colour)

    # Foreground.
    if theme.ground == "water":
        draw.rectangle((0, horizon, width, height), fill=theme.ground_colour)
        glint = _mix(theme.ground_colour, disc[theme.time], 0.45)
        for _ in range(min(60, max(4, height // 12))):
            y = rng.between(horizon, max(horizon, height - 1))
            half = max(1, round(radius * rng.uniform(0.3, 1.4) * (1 + (y - horizon) / max(1, height - horizon))))
            x = sx + rng.between(-radius, radius)
            draw.line((x - half, y, x + half, y), fill=glint, width=max(1, short // 300))
    else:
        ys = _ridge(rng, width, horizon + round(height * 0.05), round(height * 0.02), 0.5, columns)
        draw.polygon(_ridge_polygon(xs, ys, height), fill=theme.ground_colour)
        ys2 = _ridge(rng, width, horizon + round(height * 0.2), round(height * 0.03), 0.5, columns)
        draw.polygon(_ridge_polygon(xs, ys2, height), fill=_mix(theme.ground_colour, (0, 0, 0), 0.18))

    if theme.trees:
        trunk = _mix(theme.ridge_near, (40, 25, 10), 0.6)
        leaves = _mix(theme.ground_colour, (0, 40, 10), 0.55)
        for _ in range(rng.between(3, 9)):
            tx = rng.below(width)
            ty = rng.between(horizon + height // 20, max(horizon + height // 20, height - height // 10))
            th = max(3, round(short * rng.uniform(0.08, 0.2) * (0.6 + ty / height)))
            tw = max(2, th * 2 // 5)
            draw.rectangle((tx - max(1, tw // 8), ty - th // 4, tx + max(1, tw // 8), ty), fill=trunk)
            draw.polygon([(tx - tw // 2, ty - th // 4), (tx + tw // 2, ty - th // 4), (tx, ty - th)], fill=leaves)

    # The accent subject: a disc, a gem or a star, with a shadow.
    ax = round(width * rng.uniform(0.25, 0.75))
    ay = round(horizon + (height - horizon) * rng.uniform(0.45, 0.75))
    ar = max(1, round(short * rng.uniform(0.07, 0.13)))
    draw.ellipse((ax - ar, ay + ar - max(1, ar // 4), ax + ar, ay + ar + max(1, ar // 4)), fill=(0, 0, 0))
    shape = rng.below(3)
    if shape == 0:
        draw.ellipse((ax - ar, ay - ar, ax + ar, ay + ar), fill=theme.accent)
        hr = max(1, ar // 3)
        draw.ellipse((ax - ar // 2 - hr, ay - ar // 2 - hr, ax - ar // 2 + hr, ay - ar // 2 + hr),
                     fill=_mix(theme.accent, (255, 255, 255), 0.5))  # fmt: skip
    elif shape == 1:
        draw.polygon([(ax, ay - ar), (ax + ar, ay), (ax, ay + ar), (ax - ar, ay)], fill=theme.accent)
        draw.polygon([(ax, ay - ar), (ax + ar, ay), (ax, ay)], fill=_mix(theme.accent, (255, 255, 255), 0.35))
    else:
        draw.regular_polygon((ax, ay, ar), 5, rotation=rng.below(72), fill=theme.accent)
        draw.regular_polygon((ax, ay, max(1, ar // 2)), 5, rotation=36, fill=_mix(theme.accent, (255, 255, 255), 0.3))
    return image


def draw_image(width: int, height: int, *, seed: bytes, prompt: str | None = None) -> Image.Image:
    """An RGB picture ``width`` x ``height`` drawn from ``seed`` and ``prompt`` (see the module docstring)."""
    _check_size(width, height)
    if prompt is not None and not isinstance(prompt, str):
        raise MediaError(f"prompt must be a string or None, got {type(prompt).__name__}")
    text = prompt or ""
    rng = SeededStream("image/draw", seed_bytes(seed), text.encode("utf-8", "surrogatepass"))
    return _draw_scene(width, height, _theme(text, rng), rng)


# --- deriving ------------------------------------------------------------------------------------

_EDITS: Final = ("tint", "duotone", "posterize", "vignette")


def _vignette(image: Image.Image, strength: float) -> Image.Image:
    # radial_gradient: 0 at the centre, 255 at radius 128 of a 256x256 square (and beyond, clipped).
    falloff = Image.radial_gradient("L").resize(image.size, Image.Resampling.BILINEAR)
    mask = falloff.point(lambda v: 255 - round(min(v, 255) * strength))
    return ImageChops.multiply(image, Image.merge("RGB", (mask, mask, mask)))


def _fill(image: Image.Image, width: int, height: int) -> Image.Image:
    """Scale and centre-crop ``image`` to fill ``width`` x ``height`` (bilinear, reducing large sources first)."""
    sw, sh = image.size
    if sw * height > sh * width:  # source wider than the target: crop the sides
        crop_w = sh * width / height
        box = ((sw - crop_w) / 2, 0.0, (sw + crop_w) / 2, float(sh))
    else:
        crop_h = sw * height / width
        box = (0.0, (sh - crop_h) / 2, float(sw), (sh + crop_h) / 2)
    return image.resize((width, height), Image.Resampling.BILINEAR, box=box, reducing_gap=2.0)


def derive_image(source: Image.Image, width: int, height: int, *, seed: bytes) -> Image.Image:
    """An edited ``width`` x ``height`` RGB version of ``source`` (see the module docstring)."""
    _check_size(width, height)
    _check_image(source)
    if source.width < 1 or source.height < 1:
        raise GeometryError("the source image is empty")
    rng = SeededStream("image/derive", seed_bytes(seed))
    fitted = _fill(to_rgb(source), width, height)
    if rng.below(2):
        fitted = ImageOps.mirror(fitted)
    edit = rng.choice(_EDITS)
    colour = _hsv(rng.unit(), 0.7, 0.95)
    if edit == "tint":
        return Image.blend(fitted, Image.new("RGB", fitted.size, colour), 0.3)
    if edit == "duotone":
        dark = _mix(colour, (0, 0, 0), 0.8)
        light = _mix(_hsv(rng.unit(), 0.35, 1.0), (255, 255, 255), 0.3)
        return ImageOps.colorize(ImageOps.grayscale(fitted), dark, light)
    if edit == "posterize":
        return ImageOps.posterize(fitted, 3)
    return _vignette(fitted, 0.4 + 0.15 * rng.unit())


# --- encoding ------------------------------------------------------------------------------------


def image_format_info(image_format: str) -> ImageFormat:
    """The :class:`ImageFormat` for ``"png"``, ``"jpeg"``/``"jpg"`` or ``"webp"`` (case-insensitive)."""
    key = image_format.strip().lower() if isinstance(image_format, str) else ""
    key = _ALIASES.get(key, key)
    info = IMAGE_FORMATS.get(key)
    if info is None or (key == "webp" and not features.check("webp")):
        supported = tuple(k for k in IMAGE_FORMATS if k != "webp" or features.check("webp"))
        raise UnsupportedFormat("image", str(image_format), supported)
    return info


def _png(image: Image.Image) -> bytes:
    """An 8-bit RGB/RGBA PNG: no row filters (filter byte 0), zlib level 1 (see the module docstring)."""
    mode = image.mode if image.mode in ("RGB", "RGBA") else "RGB"
    raw = image.tobytes("raw", mode) if image.mode == mode else image.convert(mode).tobytes()
    width, height = image.size
    stride = width * len(mode)
    view = memoryview(raw)
    rows = b"\x00".join(view[row * stride : (row + 1) * stride] for row in range(height))
    data = zlib.compress(b"\x00" + rows, 1)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6 if mode == "RGBA" else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def encode_image(image: Image.Image, image_format: str) -> GeneratedImage:
    """Encode ``image`` as ``image_format`` (see the module docstring) and report the bytes' facts."""
    info = image_format_info(image_format)
    _check_image(image)
    _check_size(image.width, image.height)
    keeps_alpha = info.name in ("png", "webp") and (image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info)
    if keeps_alpha:
        pixels = image.convert("RGBA")
    elif image.mode == "RGB" and "transparency" not in image.info:
        pixels = image
    else:
        pixels = to_rgb(image)
    buffer = io.BytesIO()
    if info.name == "png":
        buffer.write(_png(pixels))
    elif info.name == "jpeg":
        pixels.save(buffer, "JPEG", quality=90, subsampling="4:2:0")
    else:
        pixels.save(buffer, "WEBP", quality=85, method=0)
    data = buffer.getvalue()
    return GeneratedImage(
        data=data,
        width=pixels.width,
        height=pixels.height,
        content_type=info.content_type,
        extension=info.extension,
        format=info.name,
        mode=pixels.mode,
        size=len(data),
    )
