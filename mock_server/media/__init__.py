"""Deterministic, real media bytes for fal outputs of every family: image, video, audio, 3D.

This package makes the *bytes* and reports true facts about them (size, duration, sample rate,
counts); deciding which files an output needs is the caller's job. It is pure: no Starlette, no
I/O, no clocks, no environment; its only project import is :mod:`..video` (the H.264/MP4
writer). Every generator is a pure function of its arguments, with ``seed: bytes`` as the source
of all variation (SHA-256 in counter mode, :mod:`._seeded`), so the same call gives the same
bytes in any process.

Modules (each docstring states its rules and limits):

* :mod:`.geometry` — fal's ``image_size`` presets and objects, ``aspect_ratio``, ``resolution``,
  size limits and rounding; :func:`clip_geometry` for video clips (``preview`` / ``realistic``).
* :mod:`.images` — :func:`draw_image` (a scene drawn from the prompt), :func:`derive_image` (an
  edit of an input image), :func:`encode_image` (PNG / JPEG / WebP).
* :mod:`.video` — :func:`render_clip` (and from bytes, and from a prompt) over :mod:`..video`.
* :mod:`.audio` — :func:`synth_wav` (PCM16 WAV) and :func:`mpeg_audio` (MPEG-1 Layer III, via
  :mod:`.mp3`); other audio types are not written (use WAV and declare ``audio/wav``).
* :mod:`.models3d` — a seeded closed mesh as GLB, glTF, OBJ, PLY or STL.
* :mod:`.probe` — :func:`sniff`, :func:`audio_duration`, :func:`video_facts` for input bytes.
* :mod:`.errors` — :class:`MediaError` and its subclasses (all ``ValueError``).

Limits at a glance: images 1..8192 px per side and <= 40 MP; video clips <= 1920 px long side,
<= 60 fps, <= 30 s, <= 1800 frames (``realistic``; ``preview`` is 320 px, <= 30 fps, <= 10 s,
<= 300 frames); audio <= 600 s; meshes detail 0..5 (<= 20480 triangles).
"""

from __future__ import annotations

from .audio import AUDIO_FORMATS, MAX_AUDIO_SECONDS, GeneratedAudio, audio_for_format, mpeg_audio, synth_wav
from .errors import AudioParameterError, GeometryError, MediaError, UnsupportedFormat
from .geometry import (
    DEFAULT_SIZE_LIMITS,
    IMAGE_SIZE_PRESETS,
    ImageSize,
    SizeLimits,
    clip_geometry,
    fit_limits,
    image_size,
    parse_aspect_ratio,
    parse_duration,
    parse_resolution,
    size_for_aspect,
)
from .images import IMAGE_FORMATS, GeneratedImage, derive_image, draw_image, encode_image
from .models3d import (
    MODEL_FORMATS,
    GeneratedModel,
    Mesh,
    build_glb,
    build_gltf,
    build_mesh,
    build_model,
    build_obj,
    build_ply,
    build_stl,
)
from .probe import MediaInfo, VideoFacts, audio_duration, sniff, video_facts
from .video import RenderedVideo, VideoGeometry, render_clip, render_clip_from_bytes, render_text_clip

__all__ = [
    "AUDIO_FORMATS",
    "DEFAULT_SIZE_LIMITS",
    "IMAGE_FORMATS",
    "IMAGE_SIZE_PRESETS",
    "MAX_AUDIO_SECONDS",
    "MODEL_FORMATS",
    "AudioParameterError",
    "GeneratedAudio",
    "GeneratedImage",
    "GeneratedModel",
    "GeometryError",
    "ImageSize",
    "MediaError",
    "MediaInfo",
    "Mesh",
    "RenderedVideo",
    "SizeLimits",
    "UnsupportedFormat",
    "VideoFacts",
    "VideoGeometry",
    "audio_duration",
    "audio_for_format",
    "build_glb",
    "build_gltf",
    "build_mesh",
    "build_model",
    "build_obj",
    "build_ply",
    "build_stl",
    "clip_geometry",
    "derive_image",
    "draw_image",
    "encode_image",
    "fit_limits",
    "image_size",
    "mpeg_audio",
    "parse_aspect_ratio",
    "parse_duration",
    "parse_resolution",
    "render_clip",
    "render_clip_from_bytes",
    "render_text_clip",
    "size_for_aspect",
    "sniff",
    "synth_wav",
    "video_facts",
]
