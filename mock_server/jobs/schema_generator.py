"""Outputs for any catalogue endpoint: its Output schema walked by :mod:`..outputs`, media made by :mod:`..media`.

:class:`SchemaGenerator` is the :class:`~.generators.Generator` of every served endpoint. For one job:

1. **File inputs** (the endpoint's ``file_inputs``: ``*_url``/``*_urls`` and described file fields) are
   resolved through the input policy (:class:`~.inputs.InputResolver`: data URIs, the mock's own files,
   then ``placeholder`` / ``error`` / ``fetch``), at most :data:`MAX_INPUT_FILES` per job, and sniffed
   from their bytes (:func:`..media.sniff`). A file of the wrong kind for its field is a 422 on that
   field: ``image_load_error`` for an image field (fal's error for an undecodable image), else
   ``file_type_error`` with ``ctx.expected`` and ``ctx.received`` (the media kinds). A placeholder
   (the default policy for URLs the mock does not hold) is of the field's kind: an image, a 2-second
   WAV, a small MP4, a GLB. Images are decoded under the image limits (``max_image_side``...).
2. **The output** is :func:`..outputs.build_output` of the Output schema with the validated arguments,
   the category, a seed of ``SHA-256(settings.seed, endpoint id, canonical input)`` and what was measured
   of the inputs (image sizes, audio/video durations). It is validated against the Output schema before
   it leaves (the builder does it; a failure is a 500 ``runner_server_error`` naming the path — a bug).
3. **Media**, per file field (the builder's :class:`~..outputs.FileRequest`):

   - image: size from ``image_size`` (fal's presets or ``{width, height}``), else ``aspect_ratio`` (+
     ``resolution``), else ``width``/``height``, else the input image's exact size (times an upscaler's
     ``scale``/``upscale_factor``, 0.1–8), else 1024×1024; derived
     from the input image (image-to-image, edits) or drawn from the prompt; PNG, JPEG or WebP as the
     classification (``output_format``) asks.
   - video: Lucy-5B and MiniMax keep their own geometry (:mod:`..video.profiles`); every other
     endpoint gets :func:`..media.clip_geometry` of the video profile with ``aspect_ratio``,
     ``resolution``, ``duration``, ``fps``, ``num_frames``; the first frame is the input image, or a
     picture drawn from the prompt (text-to-video, video-to-video). Rendered clips are cached
     (``video_cache_entries``).
   - audio: WAV or MP3 (``output_format``; other types are written as WAV and declared so), of the
     requested length (``duration``, ``seconds_total``, ``duration_ms``... — see
     :func:`..outputs.requested_duration`), else as long as the input audio/video, else as long as reading the input
     text aloud takes (2.5 words/s, 1–60 s), else 5 s.
   - 3D: GLB (or glTF/OBJ/PLY/STL when asked). Text: UTF-8 sentences (JSON for ``application/json``).
     Archives: a ZIP holding a text file. Anything else: seeded bytes of the declared type.

   File names: ``output.<ext>`` for the first file field, ``<field>.<ext>`` for others, with
   ``_<index>`` inside arrays of more than one. Bodies are stored without ``url``; the edge puts each
   file's URL (served file or ``data:`` URI under ``sync_mode``) in front, per request.

Determinism: the same endpoint, canonical input, input bytes and settings give the same bytes — so a
repeated input is answered from the :class:`~.generators.OutputCache` (``output_cache_bytes``). Inputs
that are all ``data:`` URIs (or none) are keyed by the canonical input alone and not resolved again on a
hit; any other file input is resolved for every job (a deleted file still fails) and keyed by its bytes'
SHA-256.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from ..media import (
    MODEL_FORMATS,
    GeometryError,
    MediaError,
    audio_for_format,
    build_model,
    clip_geometry,
    derive_image,
    draw_image,
    encode_image,
    fit_limits,
    image_size,
    render_clip,
    render_text_clip,
    size_for_aspect,
    sniff,
    synth_wav,
)
from ..media.probe import audio_duration, video_facts
from ..outputs import (
    FileFacts,
    FileRequest,
    InputFacts,
    MediaKind,
    OutputBuildError,
    OutputLimits,
    UrlRequest,
    build_output,
    requested_duration,
)
from ..settings import Settings
from ..video import ImageError
from ..video.images import open_image
from ..video.profiles import LUCY_ENDPOINT, MINIMAX_ENDPOINT
from .endpoints import Endpoint
from .errors import ModelError, RequestError, entry
from .generators import (
    INLINE_INPUT_BYTES,
    Generated,
    GeneratedFile,
    NotCached,
    OutputCache,
    OutputKey,
    VideoCache,
    VideoGenerator,
    image_limits,
)
from .inputs import InputResolver
from .validation import canonical_json

#: File inputs one job may reference (list items included) — 422 beyond it.
MAX_INPUT_FILES = 16
#: The placeholder URL the builder validates a file object with (replaced by the real one per request).
PENDING_URL = "https://v3.fal.media/files/fal-mock/pending_{index}_{name}"
_OWN_GEOMETRY = (LUCY_ENDPOINT, MINIMAX_ENDPOINT)
_WORDS_PER_SECOND = 2.5


@dataclass
class _InputFile:
    name: str
    index: int
    data: bytes
    kind: str
    content_type: str
    description: str
    size: tuple[int, int] | None = None
    duration: float | None = None


@dataclass
class _Inputs:
    files: list[_InputFile] = field(default_factory=list)

    def first(self, kind: str) -> _InputFile | None:
        return next((item for item in self.files if item.kind == kind), None)

    def facts(self) -> InputFacts:
        durations: dict[str, float] = {}
        dimensions: dict[str, tuple[int, int]] = {}
        for item in self.files:
            if item.duration is not None:
                durations.setdefault(item.name, item.duration)
            if item.size is not None:
                dimensions.setdefault(item.name, item.size)
        return InputFacts(durations=durations, dimensions=dimensions)


class SchemaGenerator:
    """The generator of every catalogue endpoint (see the module docstring)."""

    def __init__(self, settings: Settings, resolver: InputResolver, video: VideoGenerator) -> None:
        self._settings = settings
        self._resolver = resolver
        self.video = video
        self._limits = image_limits(settings)
        #: Whole outputs of repeated inputs (``output_cache_bytes``; see :class:`~.generators.OutputCache`).
        self.outputs = OutputCache(settings.output_cache_bytes)

    @property
    def cache(self) -> VideoCache:
        """The rendered-video cache (hits and misses are what tests and benchmarks read)."""
        return self.video.cache

    def cached(self, endpoint: Endpoint, inputs: Mapping[str, Any]) -> bool:
        """Whether generating is bookkeeping: the output is cached and every file input is a small data URI."""
        key = self._bookkeeping_key(endpoint, inputs)
        return key is not None and self.outputs.holds(key[0], key[1])

    def cached_output(self, endpoint: Endpoint, inputs: Mapping[str, Any]) -> Generated:
        """The cached output of inputs whose files are all small ``data:`` URIs (or none) — what :meth:`cached`
        calls bookkeeping; :class:`NotCached` otherwise (a miss here is not counted: :meth:`generate` counts it)."""
        key = self._bookkeeping_key(endpoint, inputs)
        hit = self.outputs.get(key, count_miss=False) if key is not None else None
        if hit is None:
            raise NotCached(endpoint.endpoint_id)
        return hit

    def _bookkeeping_key(self, endpoint: Endpoint, inputs: Mapping[str, Any]) -> OutputKey | None:
        """The cache key of inputs whose every file input is a small ``data:`` URI (or that have none); None for
        other inputs (their files must be resolved first) or when the cache is off."""
        inline = _inline_input_chars(endpoint, inputs)
        if inline is None or inline > INLINE_INPUT_BYTES:
            return None
        return self._inline_key(endpoint, inputs, canonical_json(inputs))

    def _inline_key(self, endpoint: Endpoint, inputs: Mapping[str, Any], canonical: str) -> OutputKey | None:
        """The cache key of inputs whose bytes the canonical input determines (all file inputs ``data:`` URIs,
        or none), when the cache is on; None otherwise."""
        if not self.outputs.max_bytes or _inline_input_chars(endpoint, inputs) is None:
            return None
        return endpoint.endpoint_id, canonical, ("inline",)

    def generate(self, endpoint: Endpoint, inputs: Mapping[str, Any], *, own_hosts: set[str]) -> Generated:
        """The output of ``inputs``: from the output cache when the same inputs (and input bytes) made it before.

        Inputs that are all ``data:`` URIs (or none) determine their bytes: their cache key is the canonical
        input, and a hit skips resolving them too (the cached entry carries their log lines).  Other file
        inputs are resolved first (a deleted file still fails) and keyed by the SHA-256 of their bytes.
        """
        canonical = canonical_json(inputs)
        inline_key = self._inline_key(endpoint, inputs, canonical)
        if inline_key is not None and (hit := self.outputs.get(inline_key)) is not None:
            return hit
        lines: list[tuple[str, str]] = []
        resolved = self._resolve_inputs(endpoint, inputs, own_hosts, lines)
        if inline_key is not None:
            built = self._build(endpoint, inputs, resolved, canonical)
            return self.outputs.put(inline_key, Generated(built.body, built.files, (*lines, *built.log_lines)))
        key: OutputKey | None = None
        cached = None
        if self.outputs.max_bytes:
            key = (endpoint.endpoint_id, canonical, tuple(hashlib.sha256(item.data).hexdigest()
                                                          for item in resolved.files))  # fmt: skip
            cached = self.outputs.get(key)
        if cached is None:
            cached = self._build(endpoint, inputs, resolved, canonical)
            if key is not None:
                cached = self.outputs.put(key, cached)
        return Generated(cached.body, cached.files, (*lines, *cached.log_lines), cached.known_body_bytes)

    def _build(self, endpoint: Endpoint, inputs: Mapping[str, Any], resolved: _Inputs, canonical: str) -> Generated:
        seed = hashlib.sha256(f"{self._settings.seed}\x00{endpoint.endpoint_id}\x00{canonical}".encode()).digest()
        maker = _JobMedia(self, endpoint, inputs, resolved, canonical)
        try:
            body = build_output(endpoint.output_doc, arguments=inputs, category=endpoint.category, seed=seed,
                                media=maker, limits=OutputLimits(), inputs=resolved.facts())  # fmt: skip
        except ImageError as error:
            source = maker.image_source
            loc: list[str | int] = ["body"]
            if source is not None:
                loc = ["body", source.name] if source.index < 0 else ["body", source.name, source.index]
            raise ModelError([entry(loc, error.msg, error.error_type, ctx=error.ctx)]) from error
        except (GeometryError, MediaError) as error:
            message = f"Cannot produce the requested media: {error}"
            raise ModelError([entry(["body"], message, "value_error")]) from error
        except OutputBuildError as error:
            message = f"fal-mock cannot build an output of {endpoint.endpoint_id}: {error}"
            raise RequestError("runner_server_error", message) from error
        for made in maker.files:
            body = _without_url(body, made.path)
        return Generated(body, tuple(maker.files), tuple(maker.lines))

    # --- inputs -----------------------------------------------------------------------------
    def _resolve_inputs(
        self, endpoint: Endpoint, inputs: Mapping[str, Any], own_hosts: set[str], lines: list[tuple[str, str]]
    ) -> _Inputs:
        resolved = _Inputs()
        for spec in endpoint.spec.file_inputs:
            value = inputs.get(spec.name)
            if value is None:
                continue
            items: Sequence[Any] = value if isinstance(value, list) else [value]
            for index, url in enumerate(items):
                if url is None:
                    continue
                if len(resolved.files) >= MAX_INPUT_FILES:
                    raise ModelError([entry(["body", spec.name], f"At most {MAX_INPUT_FILES} input files per request",
                                            "too_many_files", ctx={"max_files": MAX_INPUT_FILES})])  # fmt: skip
                position = index if isinstance(value, list) else -1
                resolved.files.append(self._resolve_one(spec.name, position, url, spec.media, own_hosts))
                lines.append((f"Loaded {spec.name}{'' if position < 0 else f'[{position}]'}: "
                              f"{resolved.files[-1].description}", "INFO"))  # fmt: skip
        return resolved

    def _resolve_one(self, name: str, index: int, url: Any, media: str, own_hosts: set[str]) -> _InputFile:
        loc: list[str | int] = ["body", name] if index < 0 else ["body", name, index]
        got = self._resolver.resolve(url, field=name, own_hosts=own_hosts, media=media)
        info = sniff(got.data)
        wanted = "model" if media == "model" else media
        if wanted != "any" and info.kind != wanted:
            if wanted == "image":
                raise ModelError([entry(loc, "Failed to load the image. Please ensure the image file is not corrupted "
                                        "and is in a supported format.", "image_load_error",
                                        ctx={"received": info.content_type})])  # fmt: skip
            raise ModelError([entry(loc, f"Expected a {wanted} file, got {info.content_type}", "file_type_error",
                                    ctx={"expected": wanted, "received": info.kind})])  # fmt: skip
        item = _InputFile(name, index, got.data, info.kind, info.content_type, got.description)
        try:
            if info.kind == "image":
                with Image.open(io.BytesIO(got.data)) as image:
                    item.size = (image.width, image.height)
            elif info.kind == "audio":
                item.duration = audio_duration(got.data)
            elif info.kind == "video":
                facts = video_facts(got.data)
                if facts is not None:
                    item.duration, item.size = facts.duration, (facts.width, facts.height)
        except (OSError, ValueError, Image.DecompressionBombError):
            pass  # measurements are best effort; decoding for real happens (with fal's errors) when used
        return item


class _JobMedia:
    """The :class:`~..outputs.MediaMaker` of one job: makes bytes, remembers them as :class:`GeneratedFile`."""

    def __init__(self, owner: SchemaGenerator, endpoint: Endpoint, arguments: Mapping[str, Any], inputs: _Inputs,
                 canonical: str) -> None:  # fmt: skip
        self._owner = owner
        self._endpoint = endpoint
        self._arguments = arguments
        self._inputs = inputs
        self._canonical = canonical
        self.files: list[GeneratedFile] = []
        self.lines: list[tuple[str, str]] = []
        self.image_source: _InputFile | None = None

    # MediaMaker ---------------------------------------------------------------------------------
    def make(self, request: FileRequest) -> FileFacts:
        name = self._file_name(request.property_name, request.index, request.count, request.extension)
        return self._produce(request.kind, request.content_type, request.extension, request.path, name, request.seed)

    def url_for(self, request: UrlRequest) -> str:
        name = self._file_name(request.property_name, 0, 1, request.extension)
        return self._produce(request.kind, request.content_type, request.extension, request.path, name,
                             request.seed).url  # fmt: skip

    # making --------------------------------------------------------------------------------------
    def _file_name(self, prop: str, index: int, count: int, extension: str) -> str:
        stem = "output" if not self.files else (prop or "file")
        if count > 1:
            stem = f"{stem}_{index}"
        return f"{stem}.{extension or 'bin'}"

    def _produce(self, kind: MediaKind, content_type: str, extension: str, path: Sequence[str | int], name: str,
                 seed: bytes) -> FileFacts:  # fmt: skip
        facts: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        if kind == MediaKind.IMAGE:
            data, content_type, extension, facts = self._image(extension, seed)
        elif kind == MediaKind.VIDEO:
            data, facts = self._video(path, seed)
            content_type, extension = "video/mp4", "mp4"
        elif kind == MediaKind.AUDIO:
            audio = self._audio(extension, seed)
            data, content_type, extension = audio.data, audio.content_type, audio.extension
            facts = {"duration": audio.duration}
            extra = {"sample_rate": audio.sample_rate, "channels": audio.channels}
        elif kind == MediaKind.MODEL3D:
            model = build_model(extension if extension in MODEL_FORMATS else "glb", seed=seed)
            data, content_type, extension = model.data, model.content_type, model.extension
        elif kind == MediaKind.TEXT:
            data = self._text(content_type, seed)
        elif kind == MediaKind.ARCHIVE:
            data, content_type, extension = _archive(self._prompt(), seed), "application/zip", "zip"
        else:
            data = hashlib.shake_256(seed).digest(1024)
        name = f"{name.rsplit('.', 1)[0]}.{extension}"
        index = len(self.files)
        if kind == MediaKind.VIDEO:
            profile = self._owner._settings.video_profile
            size = f"{facts['width']}x{facts['height']}"
            self.lines.append((f"Rendered {size} H.264 video: {facts['frame_count']} frames at {facts['fps']} fps "
                               f"({facts['duration']:g} s, {profile} profile)", "INFO"))  # fmt: skip
        else:
            self.lines.append((f"Generated {name} ({content_type}, {len(data)} bytes)", "INFO"))
        self.files.append(GeneratedFile(tuple(path), data, content_type, name, {**facts, **extra}))
        return FileFacts(
            url=PENDING_URL.format(index=index, name=name),
            content_type=content_type,
            file_name=name,
            file_size=len(data),
            width=facts.get("width"),
            height=facts.get("height"),
            duration=facts.get("duration"),
            fps=facts.get("fps"),
            num_frames=facts.get("frame_count"),
            extra=extra,
        )

    def _prompt(self) -> str | None:
        for key in ("prompt", "text", "input", "query"):
            value = self._arguments.get(key)
            if isinstance(value, str) and value.strip():
                return value
        return None

    def _source_image(self) -> _InputFile | None:
        source = self._inputs.first("image")
        self.image_source = source
        return source

    def _image(self, extension: str, seed: bytes) -> tuple[bytes, str, str, dict[str, Any]]:
        source = self._source_image()
        width, height = self._image_size(source)
        if source is not None:
            opened = open_image(source.data, limits=self._owner._limits)
            picture = derive_image(opened.decode((width, height)), width, height, seed=seed)
        else:
            picture = draw_image(width, height, seed=seed, prompt=self._prompt())
        encoded = encode_image(picture, extension if extension in ("png", "jpeg", "jpg", "webp") else "png")
        return encoded.data, encoded.content_type, encoded.extension, {"width": encoded.width, "height": encoded.height}

    def _image_size(self, source: _InputFile | None) -> tuple[int, int]:
        args = self._arguments
        source_size = source.size if source is not None else None
        if args.get("image_size") is not None:
            size = image_size(args.get("image_size"), source_size=source_size)
        elif isinstance(args.get("aspect_ratio"), str) and args["aspect_ratio"].strip().lower() != "auto":
            size = size_for_aspect(args["aspect_ratio"], resolution=args.get("resolution"), source_size=source_size)
        elif isinstance(args.get("width"), int) and isinstance(args.get("height"), int):
            size = fit_limits(args["width"], args["height"])
        elif source_size is not None:
            factor = _scale_factor(args)
            if factor is None:
                return source_size  # an edit, a mask, a background removal: the input's exact size
            size = fit_limits(round(source_size[0] * factor), round(source_size[1] * factor), multiple=1)
        else:
            return 1024, 1024
        return size.width, size.height

    def _video(self, path: Sequence[str | int], seed: bytes) -> tuple[bytes, dict[str, Any]]:
        owner, args = self._owner, self._arguments
        profile = owner._settings.video_profile
        source = self._source_image()
        if source is not None and self._endpoint.endpoint_id in _OWN_GEOMETRY:
            video = owner.video.render(self._endpoint, args, source.data)
        else:
            motion = self._inputs.first("video")
            duration = args.get("duration")
            if duration is None and args.get("num_frames") is None and motion is not None and motion.duration:
                duration = motion.duration
            geometry = clip_geometry(
                "realistic" if profile == "realistic" else "preview",
                aspect_ratio=_aspect(args.get("aspect_ratio")),
                resolution=args.get("resolution"),
                duration=_seconds(duration),
                fps=args.get("fps"),
                num_frames=args.get("num_frames"),
                source_size=(source or motion).size if (source or motion) is not None else None,  # type: ignore[union-attr]
            )
            digest = hashlib.sha256(source.data).hexdigest() if source is not None else "drawn"
            key = (self._endpoint.endpoint_id, self._canonical, profile, f"{'/'.join(map(str, path))}:{digest}")

            def render() -> Any:
                if source is not None:
                    opened = open_image(source.data, limits=owner._limits)
                    return render_clip(opened.decode((geometry.width, geometry.height)), geometry, seed=seed)
                return render_text_clip(geometry, seed=seed, prompt=self._prompt())

            video = owner.video.cache.get_or_render(key, render)
        facts = {"width": video.width, "height": video.height, "fps": video.fps, "frame_count": video.frame_count,
                 "duration": video.duration}  # fmt: skip
        return video.data, facts

    def _audio(self, extension: str, seed: bytes) -> Any:
        args = self._arguments
        seconds = requested_duration(args)
        if seconds is None:
            timed = self._inputs.first("audio") or self._inputs.first("video")
            if timed is not None and timed.duration:
                seconds = timed.duration
        if seconds is None:
            text = self._prompt()
            if text is not None:
                seconds = min(60.0, max(1.0, len(text.split()) / _WORDS_PER_SECOND))
        seconds = min(max(seconds or 5.0, 0.1), 600.0)
        try:
            return audio_for_format(extension or "wav", seconds, seed=seed)
        except MediaError:
            return synth_wav(seconds, seed=seed)

    def _text(self, content_type: str, seed: bytes) -> bytes:
        prompt = self._prompt() or "fal-mock output"
        if content_type == "application/json":
            return json.dumps({"prompt": prompt, "seed": seed.hex()[:16]}, ensure_ascii=False).encode()
        return f"{prompt}\n".encode()


def _inline_input_chars(endpoint: Endpoint, inputs: Mapping[str, Any]) -> int | None:
    """The characters of the job's file inputs if every one is a ``data:`` URI (0 for none); None otherwise."""
    total = 0
    for spec in endpoint.spec.file_inputs:
        value = inputs.get(spec.name)
        for url in value if isinstance(value, list) else [value]:
            if url is None:
                continue
            if not isinstance(url, str) or not url.startswith("data:"):
                return None
            total += len(url)
    return total


def _archive(prompt: str | None, seed: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("output.txt", date_time=(2025, 1, 1, 0, 0, 0))
        archive.writestr(info, f"{prompt or 'fal-mock output'}\n{seed.hex()}\n")
    return out.getvalue()


_SCALE_KEYS = ("scale", "upscale_factor", "upscaling_factor", "scale_factor", "upscale")


def _scale_factor(arguments: Mapping[str, Any]) -> float | None:
    """An upscaler's factor (``scale: 4``, ``upscale_factor: "2x"``), between 0.1 and 8; None when not asked."""
    for key in _SCALE_KEYS:
        value = arguments.get(key)
        if isinstance(value, str):
            value = _seconds(value.lower().removesuffix("x"))
        if isinstance(value, int | float) and not isinstance(value, bool) and 0.1 <= value <= 8:
            return float(value)
    return None


def _aspect(value: Any) -> Any:
    return None if isinstance(value, str) and value.strip().lower() == "auto" else value


def _seconds(value: Any) -> float | None:
    """``5``, ``"5"``, ``"5s"`` → 5.0; anything else → None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value > 0 else None
    if isinstance(value, str):
        text = value.strip().lower().removesuffix("s").strip()
        try:
            number = float(text)
        except ValueError:
            return None
        return number if number > 0 else None
    return None


def _without_url(node: Any, path: Sequence[str | int]) -> Any:
    """The body with the placeholder ``url`` of the file object at ``path`` removed (copies on the way)."""
    if not path:
        if isinstance(node, dict):
            return {key: value for key, value in node.items() if key != "url"}
        return node  # a plain URL string: replaced whole when URLs are filled in
    head, rest = path[0], path[1:]
    if isinstance(node, dict) and isinstance(head, str) and head in node:
        return {**node, head: _without_url(node[head], rest)}
    if isinstance(node, list) and isinstance(head, int) and 0 <= head < len(node):
        return [*node[:head], _without_url(node[head], rest), *node[head + 1 :]]
    return node
