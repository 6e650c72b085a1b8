"""The motion plan: how the picture moves, derived from a hash of the request.

The seed is ``sha256(endpoint_id NUL canonical_input NUL profile)``, so the same request
always moves the same way and a different prompt or endpoint moves differently. From the
digest: the mode (byte 0), a direction out of 16 (byte 1), an amplitude (byte 2) and a
side (byte 3).

Modes (``D(k)`` is the camera's offset into frame 0 at frame ``k``, in pixels; content moves
the opposite way):

* ``pan``: ``D`` eases from 0 to 6-12 % of the picture along the direction.
* ``sway``: ``D`` goes once around an ellipse through the origin (3-6 % along the direction,
  a third of that across it) with eased phase, so the clip ends where it started.
* ``zoom``: a per-macroblock "zoom-in field": each macroblock column ``i`` and row ``j``
  moves toward the centre by ``z * e(t)`` of its offset from it (``z`` 7-13 %). The field is
  separable (``x`` depends on the column, ``y`` on the row), which the slice writer
  exploits. It never points outside the picture, so there is no edge smear; fine detail
  shows small duplications at 16-pixel block seams.

``e(t) = 3t^2 - 2t^3`` (ease in and out). Every ``D`` is rounded to an **even** whole number
of pixels: luma vectors are then whole samples and chroma vectors (half of them) too, so
nothing is ever interpolated and each frame is an exact, lossless shift of the previous one.
P frame ``k`` references frame ``k - 1`` and its vectors are ``D(k) - D(k - 1)``.

All arithmetic is on integers (the sine is a 17-entry quarter-wave table with linear
interpolation, the directions a table of unit vectors): no float rounding that could
differ between machines.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from typing import Final

from .slicedata import MotionField, SeparableField, UniformField

__all__ = ["MODES", "MotionPlan", "motion_seed", "plan_motion"]

MODES: Final = ("pan", "sway", "zoom")

# Unit vectors (x 1000) for the 16 directions k * 22.5 degrees.
_DIRECTIONS: Final[tuple[tuple[int, int], ...]] = (
    (1000, 0), (924, 383), (707, 707), (383, 924), (0, 1000), (-383, 924), (-707, 707), (-924, 383),
    (-1000, 0), (-924, -383), (-707, -707), (-383, -924), (0, -1000), (383, -924), (707, -707), (924, -383),
)  # fmt: skip
# round(sin(i * pi / 32) * 16384) for i = 0..16.
_QUARTER_SINE: Final[tuple[int, ...]] = (
    0, 1606, 3196, 4756, 6270, 7723, 9102, 10394, 11585, 12665, 13623, 14449, 15137, 15679, 16069, 16305, 16384,
)  # fmt: skip
_ONE: Final = 16384  # sine scale
_CYCLE: Final = 65536  # phase units per turn

_PAN_PERMILLE: Final = (60, 120)
_SWAY_PERMILLE: Final = (30, 60)
_ZOOM_PERMILLE: Final = (70, 130)


@dataclass(frozen=True, slots=True)
class MotionPlan:
    """One motion field per P frame (frames 1 .. n-1) and the mode that produced them."""

    mode: str
    fields: tuple[MotionField, ...]


def motion_seed(endpoint_id: str, canonical_input: str, profile: str) -> bytes:
    """The 32-byte seed of a request's motion."""
    # surrogatepass: JSON may carry lone surrogates ("\\ud800"); the seed must exist for any str.
    material = "\0".join((endpoint_id, canonical_input, profile)).encode("utf-8", "surrogatepass")
    return hashlib.sha256(material).digest()


def _round_even(num: int, den: int) -> int:
    """The even integer nearest to ``num / den`` (ties upward); ``den > 0``."""
    return 2 * ((num + den) // (2 * den))


def _sine_step(i: int) -> int:
    quadrant, r = divmod(i % 64, 16)
    if quadrant == 0:
        return _QUARTER_SINE[r]
    if quadrant == 1:
        return _QUARTER_SINE[16 - r]
    if quadrant == 2:
        return -_QUARTER_SINE[r]
    return -_QUARTER_SINE[16 - r]


def _sine(phase: int) -> int:
    """``sin(2 pi phase / 65536) * 16384``, linearly interpolated."""
    phase %= _CYCLE
    i, frac = divmod(phase, 1024)
    lo = _sine_step(i)
    hi = _sine_step(i + 1)
    return lo + ((hi - lo) * frac) // 1024


def _ease(k: int, last: int) -> tuple[int, int]:
    """``e(k / last)`` as numerator and denominator."""
    return k * k * (3 * last - 2 * k), last * last * last


def _pick(byte: int, bounds: tuple[int, int]) -> int:
    lo, hi = bounds
    return lo + (byte * (hi - lo)) // 255


def _uniform_fields(offsets: list[tuple[int, int]]) -> tuple[MotionField, ...]:
    return tuple(UniformField((4 * (x1 - x0), 4 * (y1 - y0))) for (x0, y0), (x1, y1) in itertools.pairwise(offsets))


def plan_motion(seed: bytes, width: int, height: int, frame_count: int) -> MotionPlan:
    """The motion of a ``width`` x ``height`` clip of ``frame_count`` frames."""
    if len(seed) < 4:
        raise ValueError("seed too short")
    if frame_count < 1:
        raise ValueError("a clip has at least one frame")
    mode = MODES[seed[0] % len(MODES)]
    if frame_count == 1:
        return MotionPlan(mode, ())
    ux, uy = _DIRECTIONS[seed[1] % len(_DIRECTIONS)]
    last = frame_count - 1
    ease = [_ease(k, last) for k in range(frame_count)]

    if mode == "pan":
        amp = _pick(seed[2], _PAN_PERMILLE)
        offsets = [
            (
                _round_even(ux * amp * width * num, 1_000_000 * den),
                _round_even(uy * amp * height * num, 1_000_000 * den),
            )
            for num, den in ease
        ]
        return MotionPlan(mode, _uniform_fields(offsets))

    if mode == "sway":
        amp = _pick(seed[2], _SWAY_PERMILLE)
        side = 1 if seed[3] & 1 else -1
        scale = 1_000_000 * 2 * _ONE
        offsets = []
        for num, den in ease:
            phase = (_CYCLE * num) // den
            s = _sine(phase)
            c = _sine(phase + _CYCLE // 4)
            along = 2 * amp * s  # 1000 * 1000 * 16384 * 2 units, times the unit vector below
            across = side * (amp // 3) * (_ONE - c)
            vx = ux * along - uy * across
            vy = uy * along + ux * across
            offsets.append((_round_even(vx * width, scale), _round_even(vy * height, scale)))
        return MotionPlan(mode, _uniform_fields(offsets))

    # zoom: camera offset of macroblock column i is -(centre_i - width / 2) * z * e(t).
    z = _pick(seed[2], _ZOOM_PERMILLE)
    cols = [-(2 * (16 * i + 8) - width) * z for i in range((width + 15) // 16)]
    rows = [-(2 * (16 * j + 8) - height) * z for j in range((height + 15) // 16)]
    fields: list[MotionField] = []
    prev_x = [0] * len(cols)
    prev_y = [0] * len(rows)
    for num, den in ease[1:]:
        d2 = 2 * 2000 * den  # 2 * (2 * 1000 * den): doubled offsets, permille, even rounding
        half = d2 // 2
        cur_x = [2 * ((c * num + half) // d2) for c in cols]
        cur_y = [2 * ((r * num + half) // d2) for r in rows]
        fx = tuple(4 * (a - b) for a, b in zip(cur_x, prev_x, strict=True))
        fy = tuple(4 * (a - b) for a, b in zip(cur_y, prev_y, strict=True))
        if fx.count(fx[0]) == len(fx) and fy.count(fy[0]) == len(fy):
            fields.append(UniformField((fx[0], fy[0])))
        else:
            fields.append(SeparableField(fx, fy))
        prev_x, prev_y = cur_x, cur_y
    return MotionPlan(mode, tuple(fields))
