"""Output generators: validated inputs → an output body and the bytes of its files. No storage, no HTTP.

A :class:`Generator` makes what one endpoint answers; the runner (:mod:`.runner`) stores the
files it returns (as served files, or inline as data URIs) and turns the rest into the job's
:class:`~.model.Outcome`.  Generators raise :class:`~.errors.ModelError` for inputs the model
would refuse (an image it cannot decode, too small, too large) and are deterministic: the same
inputs give the same bytes in any process.

:class:`VideoGenerator` renders clips of an input image (the first frame of a real H.264 MP4,
:mod:`..video`) and owns the bounded LRU of rendered videos (``Settings.video_cache_entries``),
keyed by (endpoint, canonical input, profile, image digest): the bytes are a pure function of
those. Every endpoint's generator is :class:`.schema_generator.SchemaGenerator`, which uses it
for videos.

:class:`OutputCache` keeps whole outputs (body, files and their SHA-256) for repeated inputs, keyed
by (endpoint, canonical input, the SHA-256 of every resolved input file), bounded in bytes
(``Settings.output_cache_bytes``: the file bytes plus the body's JSON, least recently used dropped;
an output larger than the whole budget is not kept).  Inputs are still resolved for every job —
a deleted or wrong-kind input file fails as before — only the output is not built again.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ..settings import Settings
from ..video import ImageLimits, RenderedVideo, render_video_from_bytes
from .byte_lru import ByteBoundedLRU
from .endpoints import Endpoint
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
    #: The SHA-256 of ``data`` when known (a cached output's): storing the file then adds a reference to the
    #: blob already held instead of copying and hashing the bytes again.
    sha256: str | None = None


@dataclass(frozen=True)
class Generated:
    """An output: the body (file objects without ``url``) and the files to store."""

    body: Any
    files: tuple[GeneratedFile, ...]
    log_lines: tuple[tuple[str, str], ...] = ()
    #: The size of ``body`` as compact JSON when it is known (the output cache keeps the body as that text).
    known_body_bytes: int | None = field(default=None, compare=False)

    @property
    def body_bytes(self) -> int:
        """The size of ``body`` as compact JSON."""
        if self.known_body_bytes is not None:
            return self.known_body_bytes
        return len(json.dumps(self.body, separators=(",", ":"), default=str))


class NotCached(Exception):
    """Raised where only a cached output will do (an inline job) and there is none (any more)."""


class Generator(Protocol):
    def generate(self, endpoint: Endpoint, inputs: Mapping[str, Any], *, own_hosts: set[str]) -> Generated:
        """The output for validated ``inputs`` (raises ModelError for inputs the model refuses)."""

    def cached(self, endpoint: Endpoint, inputs: Mapping[str, Any]) -> bool:
        """Whether generating would be bookkeeping only (cached output, small inline input): a hint."""

    def cached_output(self, endpoint: Endpoint, inputs: Mapping[str, Any]) -> Generated:
        """The output :meth:`generate` would give, when producing it is bookkeeping (:meth:`cached` would say
        so); raises :class:`NotCached` otherwise."""


def image_limits(settings: Settings) -> ImageLimits:
    """The input-image limits of the settings (``max_image_side``, ``max_image_pixels``, ``min_image_side``)."""
    return ImageLimits(
        max_width=settings.max_image_side,
        max_height=settings.max_image_side,
        max_pixels=settings.max_image_pixels,
        min_width=settings.min_image_side,
        min_height=settings.min_image_side,
    )


class VideoCache:
    """A bounded LRU of rendered videos (thread-safe)."""

    def __init__(self, entries: int) -> None:
        self._entries = entries
        self._items: OrderedDict[tuple[str, ...], RenderedVideo] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

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
                self._items[key] = video
                while len(self._items) > self._entries:
                    self._items.popitem(last=False)
        return video


OutputKey = tuple[str, str, tuple[str, ...]]


class OutputCache:
    """A bounded LRU of whole generated outputs, bounded in bytes (thread-safe; see the module docstring).

    Keys are (endpoint id, canonical input, SHA-256 of each resolved input file).  Entries hold the
    output built by the generator (its maker's log lines, not the per-job input lines) with every
    file's SHA-256 filled in.  The body is kept as JSON text and parsed for every hit, so no two jobs
    share a body (a test that edits the output it got never changes what a later job answers).
    """

    def __init__(self, max_bytes: int) -> None:
        #: Key → (body JSON text, files, log lines); sized by file bytes, body text and the canonical input.
        self._entries: ByteBoundedLRU[OutputKey, tuple[str, tuple[GeneratedFile, ...], tuple[tuple[str, str], ...]]]
        self._entries = ByteBoundedLRU(max_bytes)
        #: How many cached outputs each (endpoint, canonical input) has (the key minus the input digests).
        self._inputs: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def max_bytes(self) -> int:
        return self._entries.max_bytes

    @property
    def bytes(self) -> int:
        return self._entries.total_bytes

    def __len__(self) -> int:
        return len(self._entries)

    def holds(self, endpoint_id: str, canonical: str) -> bool:
        """Whether an output for these inputs is cached (whatever the input files' digests)."""
        with self._lock:
            return (endpoint_id, canonical) in self._inputs

    def get(self, key: OutputKey, *, count_miss: bool = True) -> Generated | None:
        """The cached output of ``key`` (a body of its own), or None; a hit counts in :attr:`hits`, a miss in
        :attr:`misses` unless ``count_miss`` is False (a look before the real lookup, which counts it)."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += count_miss
                return None
            self.hits += 1
        body_text, files, log_lines = found
        return Generated(json.loads(body_text), files, log_lines, len(body_text))

    def put(self, key: OutputKey, generated: Generated) -> Generated:
        """Keep ``generated`` if it fits the budget; returns it (with its files' SHA-256 filled in when kept)."""
        try:
            body_text = json.dumps(generated.body, separators=(",", ":"))
        except (TypeError, ValueError):  # not plain JSON: never shared
            return generated
        size = sum(len(item.data) for item in generated.files) + len(body_text) + len(key[1])
        if size > self.max_bytes:
            return generated
        files = tuple(item if item.sha256 else replace(item, sha256=hashlib.sha256(item.data).hexdigest())
                      for item in generated.files)  # fmt: skip
        with self._lock:
            dropped = self._entries.put(key, (body_text, files, generated.log_lines), size)
            for gone in dropped or ():
                left = self._inputs.pop(gone[:2], 1) - 1
                if left:
                    self._inputs[gone[:2]] = left
            if dropped is not None:
                self._inputs[key[:2]] = self._inputs.get(key[:2], 0) + 1
        return Generated(generated.body, files, generated.log_lines, len(body_text))


class VideoGenerator:
    """Image-to-video: ``image_url`` → a deterministic H.264 MP4 whose first frame is the image."""

    def __init__(self, settings: Settings, resolver: InputResolver) -> None:
        self._settings = settings
        self._resolver = resolver
        self.cache = VideoCache(settings.video_cache_entries)

    def render(self, endpoint: Endpoint, inputs: Mapping[str, Any], image: bytes) -> RenderedVideo:
        """The clip of ``image`` for these inputs (cached; raises :class:`ImageError` for a bad image)."""
        settings = self._settings
        canonical = canonical_json(inputs)
        profile = settings.video_profile
        limits = image_limits(settings)
        return self.cache.get_or_render(
            (endpoint.endpoint_id, canonical, profile, hashlib.sha256(image).hexdigest()),
            lambda: render_video_from_bytes(image, endpoint_id=endpoint.endpoint_id, canonical_input=canonical,
                                            profile=profile, input_fields=inputs, limits=limits),
        )  # fmt: skip
