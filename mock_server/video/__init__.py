"""Deterministic fake image-to-video: a pure-Python H.264 Constrained Baseline / MP4 writer.

Frame 0 is the input image (scaled and centre-cropped to the output size, limited-range
BT.601 4:2:0) coded losslessly as I_PCM macroblocks; the following frames are P pictures of
P_Skip / P_L0_16x16 macroblocks without residual that pan, sway or zoom the picture. The
bytes are a pure function of (image pixels, endpoint id, canonical input, profile). Pillow
is the only dependency.

Modules, one concern each:

* :mod:`.bitstream`: Exp-Golomb bits, emulation prevention, NAL units;
* :mod:`.slicedata`: motion fields, MV prediction, P-slice data writers;
* :mod:`.h264`: SPS/PPS, level choice, IDR and P slices;
* :mod:`.mp4`: the ISO-BMFF muxer;
* :mod:`.motion`: the hash-seeded motion plan;
* :mod:`.images`: input decoding, limits and typed errors;
* :mod:`.yuv`: fit, colour conversion, I_PCM byte order;
* :mod:`.profiles`: output geometry per profile and endpoint;
* :mod:`.encoder` and :mod:`.pipeline`: putting it together.
"""

from __future__ import annotations

from .images import (
    ALPHA_BACKGROUND,
    DEFAULT_IMAGE_LIMITS,
    ImageError,
    ImageLimits,
    ImageLoadError,
    ImageTooLarge,
    ImageTooSmall,
    load_image,
)
from .pipeline import RenderedVideo, render_video, render_video_from_bytes
from .profiles import PROFILES, VideoGeometry

__all__ = [
    "ALPHA_BACKGROUND",
    "DEFAULT_IMAGE_LIMITS",
    "PROFILES",
    "ImageError",
    "ImageLimits",
    "ImageLoadError",
    "ImageTooLarge",
    "ImageTooSmall",
    "RenderedVideo",
    "VideoGeometry",
    "load_image",
    "render_video",
    "render_video_from_bytes",
]
