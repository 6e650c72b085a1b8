"""Output generators: validated inputs → an output body and the bytes of its files. No storage, no HTTP.

A :class:`Generator` makes what one endpoint answers; the runner (:mod:`.runner`) stores the
files it returns (as served files, or inline as data URIs) and turns the rest into the job's
:class:`~.model.Outcome`.  Generators raise :class:`~.errors.ModelError` for inputs the model
would refuse (an image it cannot decode, too small, too large) and are deterministic: the same
inputs give the same bytes in any process.

:class:`VideoGenerator` is the image-to-video generator: the input image becomes the first
frame of a real H.264 MP4 (:mod:`..video`).  Rendered videos are cached by (endpoint, canonical
input, profile, image digest) — the bytes are a pure function of those — in a bounded LRU
(``Settings.video_cache_entries``).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..settings import Settings
from ..video import ImageError, ImageLimits, RenderedVideo, render_video_from_bytes
from .endpoints import Endpoint
from .errors import ModelError, entry
from .inputs import InputResolver
from .validation import canonical_json

#: Largest data URI a job may carry to be generated inline (on the event loop) when its output is cached.
INLINE_INPUT_BYTES = 64 * 1024


@dataclass(frozen=True)
class GeneratedFile:
    """One file of an output: where it goes in the body, and its bytes."""

    path: tuple[str | int, ...]
    data: bytes
    content_type: str
    file_name: str
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Generated:
    """An output: the body (file objects without ``url``) and the files to store."""

    body: Any
    files: tuple[GeneratedFile, ...]
    log_lines: tuple[tuple[str, str], ...] = ()


class Generator(Protocol):
    def generate(self, endpoint: Endpoint, inputs: Mapping[str, Any], *, own_hosts: set[str]) -> Generated:
        """The output for validated ``inputs`` (raises ModelError for inputs the model refuses)."""

    def cached(self, endpoint: Endpoint, inputs: Mapping[str, Any]) -> bool:
        """Whether generating would be bookkeeping only (cached output, small inline input)."""


class VideoCache:
    """A bounded LRU of rendered videos (thread-safe)."""

    def __init__(self, entries: int) -> None:
        self._entries = entries
        self._items: OrderedDict[tuple[str, ...], RenderedVideo] = OrderedDict()
        #: How many cached videos each (endpoint, canonical input, profile) has (the key minus the image digest).
        self._inputs: dict[tuple[str, ...], int] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def holds(self, endpoint_id: str, canonical: str, profile: str) -> bool:
        """Whether a video for these inputs is cached (whatever the image digest)."""
        with self._lock:
            return (endpoint_id, canonical, profile) in self._inputs

    def get_or_render(self, key: tuple[str, ...], render: Callable[[], RenderedVideo]) -> RenderedVideo:
        with self._lock:
            cached = self._items.get(key)
            if cached is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return cached
            self.misses += 1
        video = render()
        if self._entries:
            with self._lock:
                if key not in self._items:
                    self._inputs[key[:3]] = self._inputs.get(key[:3], 0) + 1
                self._items[key] = video
                while len(self._items) > self._entries:
                    evicted, _ = self._items.popitem(last=False)
                    left = self._inputs.pop(evicted[:3], 1) - 1
                    if left:
                        self._inputs[evicted[:3]] = left
        return video


class VideoGenerator:
    """Image-to-video: ``image_url`` → a deterministic H.264 MP4 whose first frame is the image."""

    def __init__(self, settings: Settings, resolver: InputResolver) -> None:
        self._settings = settings
        self._resolver = resolver
        self.cache = VideoCache(settings.video_cache_entries)

    def cached(self, endpoint: Endpoint, inputs: Mapping[str, Any]) -> bool:
        image_url = inputs.get("image_url")
        if not isinstance(image_url, str) or not image_url.startswith("data:") or len(image_url) > INLINE_INPUT_BYTES:
            return False
        return self.cache.holds(endpoint.endpoint_id, canonical_json(inputs), self._settings.video_profile)

    def generate(self, endpoint: Endpoint, inputs: Mapping[str, Any], *, own_hosts: set[str]) -> Generated:
        settings = self._settings
        lines: list[tuple[str, str]] = []
        resolved = self._resolver.resolve(inputs.get("image_url"), field="image_url", own_hosts=own_hosts)
        lines.append((f"Loaded image_url: {resolved.description}", "INFO"))
        canonical = canonical_json(inputs)
        profile = settings.video_profile
        limits = ImageLimits(
            max_width=settings.max_image_side,
            max_height=settings.max_image_side,
            max_pixels=settings.max_image_pixels,
            min_width=settings.min_image_side,
            min_height=settings.min_image_side,
        )
        try:
            video = self.cache.get_or_render(
                (endpoint.endpoint_id, canonical, profile, hashlib.sha256(resolved.data).hexdigest()),
                lambda: render_video_from_bytes(resolved.data, endpoint_id=endpoint.endpoint_id,
                                                canonical_input=canonical, profile=profile, input_fields=inputs,
                                                limits=limits),
            )  # fmt: skip
        except ImageError as error:
            raise ModelError([entry(["body", "image_url"], error.msg, error.error_type, ctx=error.ctx,
                                    input=inputs.get("image_url"))]) from error  # fmt: skip
        lines.append((f"Rendered {video.width}x{video.height} H.264 video: {video.frame_count} frames at "
                      f"{video.fps} fps ({video.duration:g} s, {profile} profile)", "INFO"))  # fmt: skip
        facts = {"width": video.width, "height": video.height, "fps": video.fps, "frame_count": video.frame_count,
                 "duration": video.duration}  # fmt: skip
        body = {"video": {"content_type": "video/mp4", "file_name": endpoint.output_file_name, "file_size": video.size}}
        file = GeneratedFile(("video",), video.data, "video/mp4", endpoint.output_file_name, facts)
        return Generated(body, (file,), tuple(lines))
