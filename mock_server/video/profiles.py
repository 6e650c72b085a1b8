"""Video profiles: the size, frame rate and length of the clip for a request.

``preview`` (the default) keeps generation cheap (~95 KB, ~10 ms for a 320x180 clip):

* long side 320 px (scaled up or down), the input's aspect ratio kept, both sides even
  and at least 16 px; 24 fps; 2 s (48 frames).

``realistic`` matches what the real models return:

* ``fal-ai/decart/lucy-5b/image-to-video``: 1280x720 for ``aspect_ratio`` "16:9" (the
  default, also used when the field is absent or null) or 720x1280 for "9:16"; 24 fps; 5 s
  (120 frames). Any other ``aspect_ratio`` value is a ``ValueError`` (the server validates
  inputs before this point).
* ``fal-ai/minimax-video/image-to-video``: 720p keeping the input's aspect ratio: short side
  720, long side from the aspect ratio (even) but capped at 1280 (wider inputs are cropped);
  25 fps; 6 s (150 frames).
* any other endpoint: the MiniMax geometry rule (short side 720, aspect kept, long side
  capped at 1280) with the preview timing (24 fps, 2 s): we know nothing about its real
  length, and the cap bounds the cost.

The image is always scaled and centre-cropped to *fill* the output size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "LUCY_ENDPOINT",
    "MINIMAX_ENDPOINT",
    "PROFILES",
    "VideoGeometry",
    "video_geometry",
]

PROFILES: Final = ("preview", "realistic")
LUCY_ENDPOINT: Final = "fal-ai/decart/lucy-5b/image-to-video"
MINIMAX_ENDPOINT: Final = "fal-ai/minimax-video/image-to-video"

_PREVIEW_LONG_SIDE: Final = 320
_MIN_SIDE: Final = 16
_REALISTIC_SHORT_SIDE: Final = 720
_REALISTIC_LONG_CAP: Final = 1280


@dataclass(frozen=True, slots=True)
class VideoGeometry:
    """Output size (even), frame rate and number of frames."""

    width: int
    height: int
    fps: int
    frame_count: int

    def __post_init__(self) -> None:
        if self.width < 2 or self.height < 2 or self.width % 2 or self.height % 2:
            raise ValueError(f"output size must be even, got {self.width}x{self.height}")
        if self.fps < 1 or self.frame_count < 1:
            raise ValueError("fps and frame_count must be positive")

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps


def _even_round(num: int, den: int) -> int:
    return 2 * ((num + den) // (2 * den))


def _keep_aspect_long(image_size: tuple[int, int], long_side: int) -> tuple[int, int]:
    iw, ih = image_size
    if iw >= ih:
        return long_side, max(_MIN_SIDE, min(long_side, _even_round(long_side * ih, iw)))
    return max(_MIN_SIDE, min(long_side, _even_round(long_side * iw, ih))), long_side


def _keep_aspect_short(image_size: tuple[int, int], short_side: int, long_cap: int) -> tuple[int, int]:
    iw, ih = image_size
    if iw >= ih:
        return max(short_side, min(long_cap, _even_round(short_side * iw, ih))), short_side
    return short_side, max(short_side, min(long_cap, _even_round(short_side * ih, iw)))


def video_geometry(
    profile: str,
    endpoint_id: str,
    image_size: tuple[int, int],
    input_fields: Mapping[str, Any],
) -> VideoGeometry:
    """The clip geometry for ``profile`` (see the module docstring)."""
    iw, ih = image_size
    if iw < 1 or ih < 1:
        raise ValueError("empty image")
    if profile == "preview":
        w, h = _keep_aspect_long(image_size, _PREVIEW_LONG_SIDE)
        return VideoGeometry(w, h, 24, 48)
    if profile != "realistic":
        raise ValueError(f"unknown video profile {profile!r}; expected one of {', '.join(PROFILES)}")
    if endpoint_id == LUCY_ENDPOINT:
        aspect = input_fields.get("aspect_ratio") or "16:9"
        if aspect == "16:9":
            return VideoGeometry(1280, 720, 24, 120)
        if aspect == "9:16":
            return VideoGeometry(720, 1280, 24, 120)
        raise ValueError(f"unsupported aspect_ratio {aspect!r} for {LUCY_ENDPOINT}")
    w, h = _keep_aspect_short(image_size, _REALISTIC_SHORT_SIDE, _REALISTIC_LONG_CAP)
    if endpoint_id == MINIMAX_ENDPOINT:
        return VideoGeometry(w, h, 25, 150)
    return VideoGeometry(w, h, 24, 48)
