"""Shared helpers for the video-writer tests: test images and a motion-compensation model."""

from __future__ import annotations

import io
import json
import random

import numpy as np
import numpy.typing as npt
from fal_mock.mock_server.video.slicedata import MV
from fal_mock.mock_server.video.yuv import YuvFrame
from PIL import Image, ImageDraw, ImageFilter

LUCY = "fal-ai/decart/lucy-5b/image-to-video"
MINIMAX = "fal-ai/minimax-video/image-to-video"
ENDPOINTS = (LUCY, MINIMAX)

Plane = npt.NDArray[np.uint8]


def canonical(obj: dict[str, object]) -> str:
    """The server's canonical JSON."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_input(prompt: str = "A cat is walking slowly in the garden") -> str:
    return canonical({"image_url": "https://example.com/cat.png", "prompt": prompt})


def sample_image(width: int = 640, height: int = 400, seed: int = 7) -> Image.Image:
    """A deterministic picture with shapes, gradients and texture (not flat, not noise)."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(8, width // 3), rng.randrange(8, height // 3)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw.ellipse((x, y, x + w, y + h), fill=colour)
        else:
            draw.rectangle((x, y, x + w, y + h), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    draw = ImageDraw.Draw(image)
    for k in range(0, width, 24):
        draw.line((k, 0, k + height // 2, height), fill=(250, 250, 250), width=2)
    return image


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def planes(frame: YuvFrame) -> tuple[Plane, Plane, Plane]:
    """The encoder's padded planes as arrays."""
    pw, ph = frame.padded_width, frame.padded_height
    y = np.frombuffer(frame.y, dtype=np.uint8).reshape(ph, pw)
    cb = np.frombuffer(frame.cb, dtype=np.uint8).reshape(ph // 2, pw // 2)
    cr = np.frombuffer(frame.cr, dtype=np.uint8).reshape(ph // 2, pw // 2)
    return y, cb, cr


def random_frame(width: int, height: int, rng: np.random.Generator) -> YuvFrame:
    """Random limited-range planes (smoothed a little so shifts are visible but not trivial)."""
    pw, ph = 16 * ((width + 15) // 16), 16 * ((height + 15) // 16)

    def plane(h: int, w: int, lo: int, hi: int) -> bytes:
        base = rng.integers(lo, hi + 1, size=(h, w)).astype(np.int32)
        smooth = (base + np.roll(base, 1, 0) + np.roll(base, 1, 1) + np.roll(base, (1, 1), (0, 1))) // 4
        return smooth.astype(np.uint8).tobytes()

    chroma = (ph // 2, pw // 2, 16, 240)
    return YuvFrame(width, height, plane(ph, pw, 16, 235), plane(*chroma), plane(*chroma))


def motion_compensate(
    previous: tuple[Plane, Plane, Plane], vectors: list[MV], width_mbs: int
) -> tuple[Plane, Plane, Plane]:
    """What a decoder must output: each macroblock copied from the previous picture displaced by
    its vector (whole, even pixels; chroma by half), with references clamped to the picture."""
    y, cb, cr = previous
    ph, pw = y.shape
    out_y, out_cb, out_cr = np.empty_like(y), np.empty_like(cb), np.empty_like(cr)
    for addr, (mx, my) in enumerate(vectors):
        if mx % 8 or my % 8:
            raise ValueError("the model handles even whole-pixel vectors only")
        dx, dy = mx // 4, my // 4
        i, j = addr % width_mbs, addr // width_mbs
        rows = np.clip(np.arange(16 * j, 16 * j + 16) + dy, 0, ph - 1)
        cols = np.clip(np.arange(16 * i, 16 * i + 16) + dx, 0, pw - 1)
        out_y[16 * j : 16 * j + 16, 16 * i : 16 * i + 16] = y[np.ix_(rows, cols)]
        crows = np.clip(np.arange(8 * j, 8 * j + 8) + dy // 2, 0, ph // 2 - 1)
        ccols = np.clip(np.arange(8 * i, 8 * i + 8) + dx // 2, 0, pw // 2 - 1)
        out_cb[8 * j : 8 * j + 8, 8 * i : 8 * i + 8] = cb[np.ix_(crows, ccols)]
        out_cr[8 * j : 8 * j + 8, 8 * i : 8 * i + 8] = cr[np.ix_(crows, ccols)]
    return out_y, out_cb, out_cr


def bt601_limited_luma(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """Reference luma (limited range, float) of an RGB array, independent of Pillow."""
    r, g, b = (rgb[..., k].astype(np.float64) for k in range(3))
    return 16 + 219 * (0.299 * r + 0.587 * g + 0.114 * b) / 255
