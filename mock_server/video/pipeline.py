"""The generator's entry points: image (or its bytes) + request -> :class:`RenderedVideo`.

The output is a pure function of (image pixels, endpoint id, canonical input, profile): the
geometry comes from the profile, the endpoint, the image's aspect ratio and the input
fields; the motion from :func:`.motion.motion_seed`; nothing reads clocks, environment,
randomness or hash-seeded containers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image

from .encoder import encode_mp4
from .images import DEFAULT_IMAGE_LIMITS, ImageLimits, open_image, to_rgb
from .motion import motion_seed, plan_motion
from .profiles import PROFILES, VideoGeometry, video_geometry
from .yuv import fit_image, rgb_to_yuv420

__all__ = ["RenderedVideo", "render_video", "render_video_from_bytes", "render_with_geometry"]


@dataclass(frozen=True, slots=True)
class RenderedVideo:
    """A generated MP4 and its facts."""

    data: bytes
    width: int
    height: int
    fps: int
    frame_count: int
    duration: float  # seconds: frame_count / fps
    size: int  # len(data)
    sha256: str  # hex digest of data
    first_frame_luma: bytes | None  # the encoder's Y plane of frame 0, width x height, row-major
    motion_mode: str = ""  # "pan", "sway" or "zoom"
    codec: str = ""  # RFC 6381 codec string, e.g. "avc1.42C020"


def _input_fields(canonical_input: str, input_fields: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if input_fields is not None:
        return input_fields
    parsed = json.loads(canonical_input)
    if not isinstance(parsed, dict):
        raise ValueError("canonical_input must be a JSON object")
    return parsed


def _check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"unknown video profile {profile!r}; expected one of {', '.join(PROFILES)}")


def render_with_geometry(image: Image.Image, geometry: VideoGeometry, seed: bytes) -> RenderedVideo:
    """Render ``image`` at an explicit geometry with the motion of ``seed`` (benchmarks, tests)."""
    rgb = to_rgb(image)
    frame = rgb_to_yuv420(fit_image(rgb, geometry.width, geometry.height))
    plan = plan_motion(seed, geometry.width, geometry.height, geometry.frame_count)
    encoded = encode_mp4(frame, plan.fields, geometry.fps)
    data = encoded.data
    return RenderedVideo(
        data=data,
        width=geometry.width,
        height=geometry.height,
        fps=geometry.fps,
        frame_count=encoded.frame_count,
        duration=encoded.frame_count / geometry.fps,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        first_frame_luma=frame.visible_luma(),
        motion_mode=plan.mode,
        codec=encoded.codec,
    )


def render_video(
    image: Image.Image,
    *,
    endpoint_id: str,
    canonical_input: str,
    profile: str = "preview",
    input_fields: Mapping[str, Any] | None = None,
) -> RenderedVideo:
    """Render the fake video of a request whose input image is already decoded.

    ``canonical_input`` is the canonical JSON of the validated input
    (``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``);
    ``input_fields`` is the same input as a mapping (parsed from ``canonical_input`` when
    omitted). Raises ``ValueError`` for an unknown profile.
    """
    _check_profile(profile)
    fields = _input_fields(canonical_input, input_fields)
    geometry = video_geometry(profile, endpoint_id, image.size, fields)
    return render_with_geometry(image, geometry, motion_seed(endpoint_id, canonical_input, profile))


def render_video_from_bytes(
    image_bytes: bytes,
    *,
    endpoint_id: str,
    canonical_input: str,
    profile: str = "preview",
    input_fields: Mapping[str, Any] | None = None,
    limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
) -> RenderedVideo:
    """:func:`.images.load_image` + :func:`render_video`, decoding JPEGs at a reduced scale when
    they are much larger than the output. Raises the :class:`.images.ImageError` subclasses."""
    _check_profile(profile)
    fields = _input_fields(canonical_input, input_fields)
    opened = open_image(image_bytes, limits=limits)
    geometry = video_geometry(profile, endpoint_id, opened.size, fields)
    image = opened.decode((geometry.width, geometry.height))
    return render_with_geometry(image, geometry, motion_seed(endpoint_id, canonical_input, profile))
