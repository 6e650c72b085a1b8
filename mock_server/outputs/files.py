"""File fields of fal outputs: recognising them, classifying their media, and the seam to the media maker.

**Recognition.** After dereferencing (``$ref`` / single ``allOf`` wrappers), a schema is a *file object*
when it is an object schema whose ``properties`` include ``url`` and at least one of: a file-ish property
(``content_type``, ``file_name``, ``file_size``, ``file_data``, ``width``, ``height``, ``duration``,
``fps``, ``num_frames``, ``sample_rate``, ``channels``, ``bitrate``), a known type name (``File``,
``Image``, ``ImageFile``, ``Video``, ``VideoFile``, ``Audio``, ``AudioFile`` ... — any ``$defs`` name
whose CamelCase words include ``File``, ``Image``, ``Video``, ``Audio``, ``Mesh`` ...), or a property
name that names a media kind (``image``, ``video``, ``audio`` ...). A bare ``{url}`` object under
an unrelated name (a link) is not a file.

**Classification** decides the media kind (``image``, ``video``, ``audio``, ``model3d``, ``archive``,
``text``, ``other``) and the content type asked of the maker. Signals, strongest first:

====  ==========================================  =================================================================
rank  signal                                      how it is used
====  ==========================================  =================================================================
1     ``content_type`` ``const`` / ``enum`` /      decides kind and content type. ``const`` and a one-value ``enum``
      ``default`` in the file schema              are hard; with several ``enum`` values the one matching the
                                                  requested format wins, else the first; a ``default`` gives the
                                                  kind and the content type unless a requested format of the same
                                                  kind refines it.
2     examples: ``content_type`` (or the          *unreliable* (fal's ``File``/``Audio``/``VideoFile`` all carry
      extension of ``file_name`` / ``url``) of    the placeholder example ``image/png``; some videos show
      the field's own ``examples``, then the      ``application/octet-stream``). An example is used only when its
      ``content_type`` property's ``examples``    kind agrees with the kind from ranks 3–5; it then picks the
                                                  subtype (``video/webm`` rather than ``video/mp4``). When ranks
                                                  3–5 are all silent, a specific example (not octet-stream) decides.
                                                  Disagreeing examples are ignored and listed in ``ignored``.
3     the ``$defs`` name                          CamelCase words: Image/Img/Photo/Picture/Frame/Mask/Thumbnail
                                                  -> image; Video/Clip/Movie -> video; Audio/Sound/Speech/Voice/
                                                  Music -> audio; Mesh/Model3d/Glb/Obj/Fbx/Usdz/3d -> model3d;
                                                  Zip/Archive -> archive. ``File`` alone says nothing.
4     the property name (for array items: the     snake_case words read right to left (the head noun of
      array's name)                               ``video_thumbnail`` is ``thumbnail``): image(s)/mask/depth/
                                                  thumbnail/frame/rendered_image ... -> image; video(s)/clip ->
                                                  video; audio/speech/voice/music/sfx ... -> audio; mesh/glb/obj/
                                                  model -> model3d; zip/archive/dir -> archive; srt/vtt/
                                                  subtitle(s)/transcript/json/txt -> text.
5     the endpoint category                       the part after ``-to-``: ``text-to-image`` -> image,
                                                  ``image-to-video`` -> video, ``text-to-speech`` /
                                                  ``*-to-audio`` -> audio, ``image-to-3d`` -> model3d,
                                                  ``speech-to-text`` -> text; ``llm``/``vision`` -> text.
–     none of the above                           kind ``other``, ``application/octet-stream``.
====  ==========================================  =================================================================

**Requested formats.** The input may ask for a format: ``output_format`` (``png``/``jpeg``/``webp``,
``mp3``/``wav``, ``glb``/``obj`` ...), ``format``, ``<kind>_format``, ``video_output_type``
(``"VP9 (.webm)"``), ``output_container_and_codec`` (``"webm_vp9"``), and ``format`` inside a
``*setting*``/``*settings*`` object (MiniMax's ``audio_setting``). The first whose extension has the
file's kind is used: it refines the content type after rank 1's hard constraints and before examples.
Content type defaults per kind (producible by a pure-Python maker): image ``image/png``, video
``video/mp4``, audio ``audio/wav``, model3d ``model/gltf-binary``, archive ``application/zip``, text
``text/plain``, other ``application/octet-stream``.

**The seam.** For every file field the walker calls ``MediaMaker.make(FileRequest)`` and fills the file
object from the returned :class:`FileFacts`; plain URL strings get ``MediaMaker.url_for(UrlRequest)``.
``FileRequest.seed`` is derived from the build seed and the field's path, so a maker that is a pure
function of the request is deterministic. The helpers ``requested_dimensions``, ``requested_duration``
and ``requested_fps`` read fal's usual size/length arguments (``image_size`` presets or ``{width,
height}``, ``width``/``height``, ``aspect_ratio`` + ``resolution``, ``duration`` as ``5``/``"5"``/
``"5s"``, ``num_frames``/``fps``); makers may use them, and the walker uses them for required metadata
a maker did not report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from .schema import Deref, JsonPath

__all__ = [
    "DEFAULT_CONTENT_TYPES",
    "FILE_METADATA",
    "FileFacts",
    "FileRequest",
    "FileSpec",
    "InputFacts",
    "MediaKind",
    "MediaMaker",
    "UrlRequest",
    "classify_file",
    "extension_for",
    "is_file_schema",
    "kind_of_content_type",
    "kind_of_words",
    "requested_dimensions",
    "requested_duration",
    "requested_format",
    "requested_fps",
]


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    MODEL3D = "model3d"
    ARCHIVE = "archive"
    TEXT = "text"
    OTHER = "other"


# extension -> (content type, kind)
_EXTENSIONS: Mapping[str, tuple[str, MediaKind]] = MappingProxyType({
    "png": ("image/png", MediaKind.IMAGE), "jpeg": ("image/jpeg", MediaKind.IMAGE),
    "jpg": ("image/jpeg", MediaKind.IMAGE), "webp": ("image/webp", MediaKind.IMAGE),
    "gif": ("image/gif", MediaKind.IMAGE), "bmp": ("image/bmp", MediaKind.IMAGE),
    "tiff": ("image/tiff", MediaKind.IMAGE), "avif": ("image/avif", MediaKind.IMAGE),
    "mp4": ("video/mp4", MediaKind.VIDEO), "webm": ("video/webm", MediaKind.VIDEO),
    "mov": ("video/quicktime", MediaKind.VIDEO), "mkv": ("video/x-matroska", MediaKind.VIDEO),
    "mp3": ("audio/mpeg", MediaKind.AUDIO), "wav": ("audio/wav", MediaKind.AUDIO),
    "flac": ("audio/flac", MediaKind.AUDIO), "ogg": ("audio/ogg", MediaKind.AUDIO),
    "opus": ("audio/opus", MediaKind.AUDIO), "aac": ("audio/aac", MediaKind.AUDIO),
    "m4a": ("audio/mp4", MediaKind.AUDIO), "pcm": ("audio/pcm", MediaKind.AUDIO),
    "glb": ("model/gltf-binary", MediaKind.MODEL3D), "gltf": ("model/gltf+json", MediaKind.MODEL3D),
    "obj": ("model/obj", MediaKind.MODEL3D), "stl": ("model/stl", MediaKind.MODEL3D),
    "usdz": ("model/vnd.usdz+zip", MediaKind.MODEL3D), "fbx": ("application/octet-stream", MediaKind.MODEL3D),
    "ply": ("application/octet-stream", MediaKind.MODEL3D),
    "zip": ("application/zip", MediaKind.ARCHIVE), "tar": ("application/x-tar", MediaKind.ARCHIVE),
    "txt": ("text/plain", MediaKind.TEXT), "srt": ("application/x-subrip", MediaKind.TEXT),
    "vtt": ("text/vtt", MediaKind.TEXT), "json": ("application/json", MediaKind.TEXT),
})  # fmt: skip
_TYPE_EXTENSIONS: Mapping[str, str] = MappingProxyType({
    "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif", "image/bmp": "bmp",
    "image/tiff": "tiff", "image/avif": "avif", "video/mp4": "mp4", "video/webm": "webm",
    "video/quicktime": "mov", "video/x-matroska": "mkv", "audio/mpeg": "mp3", "audio/mp3": "mp3",
    "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav", "audio/flac": "flac", "audio/ogg": "ogg",
    "audio/opus": "opus", "audio/aac": "aac", "audio/mp4": "m4a", "audio/pcm": "pcm",
    "model/gltf-binary": "glb", "model/gltf+json": "gltf", "model/obj": "obj", "model/stl": "stl",
    "model/vnd.usdz+zip": "usdz", "application/zip": "zip", "application/x-tar": "tar", "text/plain": "txt",
    "application/x-subrip": "srt", "text/vtt": "vtt", "application/json": "json",
    "application/octet-stream": "bin",
})  # fmt: skip
DEFAULT_CONTENT_TYPES: Mapping[MediaKind, str] = MappingProxyType({
    MediaKind.IMAGE: "image/png", MediaKind.VIDEO: "video/mp4", MediaKind.AUDIO: "audio/wav",
    MediaKind.MODEL3D: "model/gltf-binary", MediaKind.ARCHIVE: "application/zip", MediaKind.TEXT: "text/plain",
    MediaKind.OTHER: "application/octet-stream",
})  # fmt: skip
FILE_METADATA = frozenset(
    {"content_type", "file_name", "file_size", "file_data", "width", "height", "duration", "fps",
     "num_frames", "sample_rate", "channels", "bitrate"}
)  # fmt: skip
_WORD_KINDS: Mapping[str, MediaKind] = MappingProxyType({
    **dict.fromkeys(("image", "images", "img", "imgs", "photo", "photos", "picture", "pictures", "frame",
                     "frames", "mask", "masks", "thumbnail", "thumbnails", "depth", "normal", "sketch", "poster",
                     "preview", "render", "rendered", "texture", "textures", "canvas", "png", "jpeg", "jpg",
                     "webp", "matte", "albedo", "segmentation", "heatmap"), MediaKind.IMAGE),
    **dict.fromkeys(("video", "videos", "clip", "clips", "movie", "animation", "mp4", "webm", "gif_video"),
                    MediaKind.VIDEO),
    **dict.fromkeys(("audio", "audios", "sound", "sounds", "speech", "voice", "music", "song", "sfx", "wav",
                     "mp3", "vocals", "instrumental", "narration", "tts"), MediaKind.AUDIO),
    **dict.fromkeys(("mesh", "meshes", "glb", "gltf", "obj", "fbx", "usdz", "stl", "ply", "model", "models",
                     "model3d", "3d", "pointcloud", "gaussian", "splat"), MediaKind.MODEL3D),
    **dict.fromkeys(("zip", "archive", "dir", "directory", "bundle", "tar"), MediaKind.ARCHIVE),
    **dict.fromkeys(("srt", "vtt", "subtitle", "subtitles", "captions", "transcript", "json", "txt",
                     "text"), MediaKind.TEXT),
})  # fmt: skip
_CATEGORY_WORDS: Mapping[str, MediaKind] = MappingProxyType({
    "image": MediaKind.IMAGE, "images": MediaKind.IMAGE, "video": MediaKind.VIDEO, "audio": MediaKind.AUDIO,
    "speech": MediaKind.AUDIO, "music": MediaKind.AUDIO, "voice": MediaKind.AUDIO, "3d": MediaKind.MODEL3D,
    "text": MediaKind.TEXT, "llm": MediaKind.TEXT, "vision": MediaKind.TEXT, "json": MediaKind.TEXT,
})  # fmt: skip
_FORMAT_KEYS = ("output_format", "format", "file_format", "response_format")
_IMAGE_PRESETS: Mapping[str, tuple[int, int]] = MappingProxyType({
    "square_hd": (1024, 1024), "square": (512, 512), "portrait_4_3": (768, 1024), "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768), "landscape_16_9": (1024, 576), "auto": (1024, 1024),
    "auto_2K": (2048, 2048), "auto_3K": (3072, 3072), "auto_4K": (4096, 4096),
})  # fmt: skip
_RESOLUTION_HEIGHTS = MappingProxyType(
    {"240p": 240, "360p": 360, "480p": 480, "540p": 540, "580p": 580, "720p": 720, "768p": 768, "1080p": 1080,
     "1440p": 1440, "2160p": 2160, "1k": 1024, "2k": 2048, "4k": 4096}
)  # fmt: skip


@dataclass(frozen=True)
class InputFacts:
    """What the caller measured of the inputs, keyed by argument name (``"audio_url"``, ``"image_urls"``).

    ``durations`` are seconds of audio/video inputs (speech-to-text transcripts cover the first one, see
    the builder); ``dimensions`` are ``(width, height)`` of image/video inputs.
    """

    durations: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    dimensions: Mapping[str, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class FileRequest:
    """What the walker asks the media maker for, for one file field.

    ``kind`` / ``content_type`` / ``extension`` are the classification (see the table); ``path`` is the
    field's JSON path (``("images", 0)``) and ``index`` its position in its array (0 otherwise);
    ``wants`` the metadata properties the schema has for it and ``required`` those it requires;
    ``arguments`` the validated input (for ``image_size``, ``aspect_ratio``, ``duration``, ``sync_mode``
    ...); ``inputs`` what the caller measured of input media; ``seed`` a per-field seed.
    """

    kind: MediaKind
    content_type: str
    extension: str
    path: JsonPath
    index: int
    count: int
    property_name: str
    type_name: str | None
    category: str
    arguments: Mapping[str, Any]
    inputs: InputFacts
    wants: frozenset[str]
    required: frozenset[str]
    seed: bytes


@dataclass(frozen=True)
class FileFacts:
    """What the maker produced: the truth the walker writes into the file object.

    ``url`` may be a URL the maker serves or a ``data:`` URI (fal's ``sync_mode``), never an external
    host. ``None`` means "not known" and the property is omitted unless the schema requires it.
    ``extra`` carries further metadata by property name (``sample_rate``, ``channels``, ``bitrate``...).
    """

    url: str
    content_type: str
    file_name: str
    file_size: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    fps: float | None = None
    num_frames: int | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def value(self, name: str) -> Any:
        """The fact for property ``name`` (None when unknown)."""
        if name in ("url", "content_type", "file_name", "file_size", "width", "height", "duration", "fps",
                    "num_frames"):  # fmt: skip
            return getattr(self, name)
        return self.extra.get(name)


@dataclass(frozen=True)
class UrlRequest:
    """A plain URL string in the output (``format: uri`` or a ``*_url`` name) that is not a file object."""

    path: JsonPath
    property_name: str
    kind: MediaKind
    content_type: str
    extension: str
    category: str
    arguments: Mapping[str, Any]
    seed: bytes


@runtime_checkable
class MediaMaker(Protocol):
    """Makes (or looks up) the media behind output files. Implemented by the media package; tests fake it."""

    def make(self, request: FileRequest) -> FileFacts:
        """Produce the file for ``request`` and report its facts."""
        ...

    def url_for(self, request: UrlRequest) -> str:
        """A URL the mock serves for a plain URL field (never an external host)."""
        ...


@dataclass(frozen=True)
class FileSpec:
    """A classification result: ``kind_source`` / ``type_source`` name the rule that decided each."""

    kind: MediaKind
    content_type: str
    extension: str
    kind_source: str
    type_source: str
    ignored: tuple[str, ...] = ()


def _words(name: str) -> list[str]:
    """``VideoFile`` -> [video, file]; ``model_mesh`` -> [model, mesh]; ``ImageType2`` -> [image, type, 2]."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def kind_of_words(name: str | None, *, head_last: bool = True) -> MediaKind | None:
    """The media kind named by ``name``'s words, reading from the head noun (last word) backwards."""
    if not name:
        return None
    words = _words(name)
    for word in reversed(words) if head_last else words:
        kind = _WORD_KINDS.get(word)
        if kind is not None:
            return kind
    if "3" in words and "d" in words:
        return MediaKind.MODEL3D
    return None


def _category_kind(category: str) -> MediaKind | None:
    text = category.lower()
    tail = text.rsplit("-to-", 1)[1] if "-to-" in text else text
    return _CATEGORY_WORDS.get(tail) or _CATEGORY_WORDS.get(tail.split("-")[-1])


def kind_of_content_type(content_type: str) -> MediaKind:
    """``image/webp`` -> image; ``model/gltf-binary`` -> model3d; unknown -> other."""
    base = content_type.split(";", 1)[0].strip().lower()
    major = base.split("/", 1)[0]
    if major in ("image", "video", "audio"):
        return MediaKind(major)
    if major == "model":
        return MediaKind.MODEL3D
    if major == "text" or base in ("application/json", "application/x-subrip"):
        return MediaKind.TEXT
    if base in ("application/zip", "application/x-tar", "application/gzip", "application/x-zip-compressed"):
        return MediaKind.ARCHIVE
    return MediaKind.OTHER


def extension_for(content_type: str) -> str:
    """The usual file extension of ``content_type`` (``bin`` when unknown)."""
    base = content_type.split(";", 1)[0].strip().lower()
    if base in _TYPE_EXTENSIONS:
        return _TYPE_EXTENSIONS[base]
    subtype = base.rsplit("/", 1)[-1]
    return subtype if re.fullmatch(r"[a-z0-9]{1,5}", subtype) else "bin"


def _extension_kind(extension: str) -> tuple[str, MediaKind] | None:
    return _EXTENSIONS.get(extension.lower().lstrip("."))


def is_file_schema(schema: Mapping[str, Any], type_name: str | None, property_name: str | None = None) -> bool:
    """Whether a dereferenced schema is a file object (see the module docstring)."""
    props = schema.get("properties")
    if not isinstance(props, Mapping) or "url" not in props:
        return False
    kind = schema.get("type")
    if kind is not None and kind != "object" and not (isinstance(kind, list) and "object" in kind):
        return False
    if FILE_METADATA & set(props):
        return True
    if type_name and ("file" in _words(type_name) or kind_of_words(type_name) not in (None, MediaKind.TEXT)):
        return True
    return kind_of_words(property_name) not in (None, MediaKind.TEXT)


def _property_schema(doc_deref: Any, schema: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    props = schema.get("properties")
    if not isinstance(props, Mapping) or name not in props:
        return None
    sub = props[name]
    if doc_deref is None:
        return sub if isinstance(sub, Mapping) else None
    return doc_deref(sub)  # type: ignore[no-any-return]


def _hard_content_types(content_type_schema: Mapping[str, Any] | None) -> tuple[list[str], str | None]:
    """(const/enum values, default) declared for ``content_type`` (after unwrapping a nullable anyOf)."""
    if content_type_schema is None:
        return [], None
    nodes: list[Mapping[str, Any]] = [content_type_schema]
    for keyword in ("anyOf", "oneOf"):
        branches = content_type_schema.get(keyword)
        if isinstance(branches, list):
            nodes.extend(b for b in branches if isinstance(b, Mapping))
    hard: list[str] = []
    default: str | None = None
    for node in nodes:
        if isinstance(node.get("const"), str):
            hard.append(node["const"])
        if isinstance(node.get("enum"), list):
            hard.extend(v for v in node["enum"] if isinstance(v, str))
        if isinstance(node.get("default"), str) and default is None:
            default = node["default"]
    return hard, default


def _example_types(field_examples: Sequence[Any], content_type_schema: Mapping[str, Any] | None) -> list[str]:
    """Content types suggested by examples: the field's own examples first, then ``content_type``'s."""
    found: list[str] = []
    for example in field_examples:
        items = example if isinstance(example, list) else [example]
        for item in items:
            if not isinstance(item, Mapping):
                continue
            if isinstance(item.get("content_type"), str):
                found.append(item["content_type"])
            for key in ("file_name", "url"):
                value = item.get(key)
                if isinstance(value, str) and not value.startswith("data:"):
                    match = re.search(r"\.([A-Za-z0-9]{2,5})(?:[?#].*)?$", value)
                    if match and (hit := _extension_kind(match[1])) is not None:
                        found.append(hit[0] if hit[1] is not MediaKind.MODEL3D else f"ext:{match[1].lower()}")
    if content_type_schema is not None:
        nodes = [content_type_schema, *content_type_schema.get("anyOf", [])]
        for node in nodes:
            if isinstance(node, Mapping):
                found.extend(v for v in node.get("examples", []) if isinstance(v, str))
    return found


def _example_spec(example: str) -> tuple[str, MediaKind]:
    if example.startswith("ext:"):
        hit = _extension_kind(example[4:])
        assert hit is not None
        return hit
    return example, kind_of_content_type(example)


def requested_format(arguments: Mapping[str, Any], kind: MediaKind) -> tuple[str, str] | None:
    """``(content_type, extension)`` the input asks for, for a file of ``kind`` (see module docstring)."""
    candidates: list[Any] = [arguments.get(key) for key in _FORMAT_KEYS]
    candidates += [arguments.get(f"{kind.value}_format"), arguments.get(f"output_{kind.value}_format")]
    candidates += [arguments.get("video_output_type"), arguments.get("output_container_and_codec")]
    for key, value in arguments.items():
        if isinstance(value, Mapping) and "setting" in key:
            candidates.append(value.get("format"))
    for value in candidates:
        if not isinstance(value, str):
            continue
        for token in re.findall(r"[A-Za-z0-9]+", value.lower()):
            hit = _extension_kind(token)
            if hit is not None and hit[1] is kind:
                return hit[0], "jpg" if token == "jpeg" else token
    return None


def classify_file(
    found: Deref,
    *,
    property_name: str,
    category: str,
    arguments: Mapping[str, Any],
    field_examples: Sequence[Any] = (),
    deref: Any = None,
) -> FileSpec:
    """Classify a file object (``found`` from ``SchemaDoc.deref``) by the precedence table above.

    ``deref`` (``lambda node: doc.deref(node).schema``) resolves a ``$ref`` in the ``content_type``
    property; ``field_examples`` are the ``examples`` of the field (its wrapper nodes).
    """
    content_type_schema = _property_schema(deref, found.schema, "content_type")
    hard, default = _hard_content_types(content_type_schema)
    structural: tuple[MediaKind, str] | None = None
    for source, kind in (
        ("type_name", kind_of_words(found.name) if found.name else None),
        ("property_name", kind_of_words(property_name)),
        ("category", _category_kind(category) if category else None),
    ):
        if kind is not None:
            structural = (kind, source)
            break

    ignored: list[str] = []
    if hard:
        kind = kind_of_content_type(hard[0])
        requested = requested_format(arguments, kind)
        chosen = requested[0] if requested and requested[0] in hard else hard[0]
        return FileSpec(kind, chosen, extension_for(chosen), "content_type_const", "content_type_const")
    if default is not None:
        kind = kind_of_content_type(default)
        requested = requested_format(arguments, kind)
        if requested is not None:
            return FileSpec(kind, requested[0], requested[1], "content_type_default", "requested_format")
        return FileSpec(kind, default, extension_for(default), "content_type_default", "content_type_default")

    examples = [_example_spec(e) for e in _example_types(field_examples, content_type_schema)]
    if structural is None:
        for example_type, example_kind in examples:
            if example_type != "application/octet-stream":
                structural = (example_kind, "example")
                break
    if structural is None:
        return FileSpec(MediaKind.OTHER, DEFAULT_CONTENT_TYPES[MediaKind.OTHER], "bin", "none", "default")
    kind, kind_source = structural
    requested = requested_format(arguments, kind)
    if requested is not None:
        return FileSpec(kind, requested[0], requested[1], kind_source, "requested_format", tuple(ignored))
    for example_type, example_kind in examples:
        if example_kind is kind:
            return FileSpec(kind, example_type, extension_for(example_type), kind_source, "example", tuple(ignored))
        ignored.append(example_type)
    content_type = DEFAULT_CONTENT_TYPES[kind]
    return FileSpec(kind, content_type, extension_for(content_type), kind_source, "default", tuple(ignored))


# -- reading fal's size / length arguments ------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(?:s|sec|secs|seconds)?\s*", value)
        if match:
            return float(match[1])
    return None


def requested_dimensions(arguments: Mapping[str, Any]) -> tuple[int, int] | None:
    """``(width, height)`` the input asks for, or None when it says nothing usable."""
    for key in ("image_size", "video_size", "size"):
        value = arguments.get(key)
        if isinstance(value, str) and value in _IMAGE_PRESETS:
            return _IMAGE_PRESETS[value]
        if isinstance(value, Mapping):
            width, height = _number(value.get("width")), _number(value.get("height"))
            if width and height:
                return int(width), int(height)
        if isinstance(value, str) and (match := re.fullmatch(r"\s*(\d{2,5})\s*[x*×]\s*(\d{2,5})\s*", value)):
            return int(match[1]), int(match[2])
    width, height = _number(arguments.get("width")), _number(arguments.get("height"))
    if width and height:
        return int(width), int(height)
    ratio = arguments.get("aspect_ratio")
    resolution = arguments.get("resolution")
    short = _RESOLUTION_HEIGHTS.get(resolution.lower(), None) if isinstance(resolution, str) else None
    if isinstance(ratio, str) and (match := re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*", ratio)):
        rw, rh = float(match[1]), float(match[2])
        if rw > 0 and rh > 0:
            base = short or 1024
            if rw >= rh:
                return _even(base * rw / rh), _even(base)
            return _even(base), _even(base * rh / rw)
    if short is not None:
        return _even(short * 16 / 9), short
    return None


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def requested_duration(arguments: Mapping[str, Any]) -> float | None:
    """Seconds the input asks for (``duration``/``seconds_total``/... ``5`` / ``"5"`` / ``"5s"``, ``*_ms`` in
    milliseconds, else ``num_frames / fps``)."""
    for key in ("duration", "duration_seconds", "seconds", "seconds_total", "total_seconds", "length",
                "audio_length", "video_length", "audio_duration", "music_length"):  # fmt: skip
        value = _number(arguments.get(key))
        if value is not None and value > 0:
            return value
    for key in ("duration_ms", "music_length_ms", "length_ms"):
        value = _number(arguments.get(key))
        if value is not None and value > 0:
            return round(value / 1000, 3)
    frames, fps = _number(arguments.get("num_frames")), requested_fps(arguments)
    if frames and fps:
        return round(frames / fps, 3)
    return None


def requested_fps(arguments: Mapping[str, Any]) -> float | None:
    """Frames per second the input asks for (``fps`` / ``frames_per_second``)."""
    for key in ("fps", "frames_per_second", "frame_rate", "output_fps"):
        value = _number(arguments.get(key))
        if value is not None and value > 0:
            return value
    return None
