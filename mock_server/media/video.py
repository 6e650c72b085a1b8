"""Video clips for any video endpoint, through the project's own H.264/MP4 writer (:mod:`..video`).

* :func:`render_clip`: a first frame (an input image for image-to-video, a drawn picture for
  text-to-video) and a :class:`VideoGeometry` (from :func:`.geometry.clip_geometry`) to an MP4:
  the frame is scaled and centre-cropped to fill the size, then panned, swayed or zoomed.
* :func:`render_clip_from_bytes`: the same from encoded image bytes (PNG, JPEG, WebP, GIF),
  decoding large JPEGs at a reduced scale; raises the :class:`..video.images.ImageError`
  subclasses (fal's ``image_load_error``, ``image_too_large``, ``image_too_small``) for bad input.
* :func:`render_text_clip`: :func:`.images.draw_image` at the clip's size as the first frame.

The motion (mode, direction, amplitude) comes from ``SHA-256(seed)`` (any length of seed), so
equal seeds give equal bytes and different seeds usually move differently (one of three modes).
The facts in :class:`RenderedVideo` (size, fps, frame count, duration, codec) are the writer's
own. Cost (2-core machine, from a JPEG): about 5 ms for a 320x180x48 preview clip, 20-45 ms for
1280x720x150 depending on the motion mode (zoom is the dearest), more when the input must be
scaled and cropped (a 1600x1200 input adds about 20 ms).
"""

from __future__ import annotations

from PIL import Image

from ..video.images import DEFAULT_IMAGE_LIMITS, ImageLimits, open_image
from ..video.pipeline import RenderedVideo, render_with_geometry
from ..video.profiles import VideoGeometry
from ._seeded import derive_key, seed_bytes
from .errors import MediaError
from .images import draw_image

__all__ = ["RenderedVideo", "VideoGeometry", "render_clip", "render_clip_from_bytes", "render_text_clip"]


def render_clip(first_frame: Image.Image, geometry: VideoGeometry, *, seed: bytes) -> RenderedVideo:
    """An MP4 of ``geometry`` starting from ``first_frame`` (any mode; transparency over white)."""
    if not isinstance(first_frame, Image.Image):
        raise MediaError(f"first_frame must be a PIL image, got {type(first_frame).__name__}")
    if not isinstance(geometry, VideoGeometry):
        raise MediaError(f"geometry must be a VideoGeometry, got {type(geometry).__name__}")
    return render_with_geometry(first_frame, geometry, derive_key("video/motion", seed_bytes(seed)))


def render_clip_from_bytes(
    image_bytes: bytes,
    geometry: VideoGeometry,
    *,
    seed: bytes,
    limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
) -> RenderedVideo:
    """:func:`render_clip` from an encoded input image, checked against ``limits`` before decoding."""
    if not isinstance(image_bytes, bytes | bytearray | memoryview):
        raise MediaError(f"image_bytes must be bytes, got {type(image_bytes).__name__}")
    if not isinstance(geometry, VideoGeometry):
        raise MediaError(f"geometry must be a VideoGeometry, got {type(geometry).__name__}")
    opened = open_image(image_bytes, limits=limits)
    image = opened.decode((geometry.width, geometry.height))
    return render_clip(image, geometry, seed=seed)


def render_text_clip(geometry: VideoGeometry, *, seed: bytes, prompt: str | None = None) -> RenderedVideo:
    """A text-to-video clip: a picture drawn from ``prompt`` at the clip's size, set in motion."""
    return render_clip(draw_image(geometry.width, geometry.height, seed=seed, prompt=prompt), geometry, seed=seed)
