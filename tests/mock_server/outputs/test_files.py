"""File recognition, the media classification precedence table, and fal's size/length arguments."""

from __future__ import annotations

from typing import Any

import pytest
from fal_mock.mock_server.outputs import (
    MediaKind,
    SchemaDoc,
    classify_file,
    is_file_schema,
    requested_dimensions,
    requested_duration,
    requested_format,
    requested_fps,
)
from fal_mock.mock_server.outputs.files import extension_for, kind_of_content_type, kind_of_words

from .fakes import load_fixture

DEFS: dict[str, Any] = {
    **load_fixture("wan-alpha")["output_schema"]["$defs"],  # VideoFile (content_type example image/png)
    **load_fixture("trellis")["output_schema"]["$defs"],  # File
    **load_fixture("chain-of-zoom")["output_schema"]["$defs"],  # ImageType2 (content_type default image/jpeg)
    **load_fixture("chatterboxhd-text-to-speech")["output_schema"]["$defs"],  # Audio
    "ConstImage": {
        "type": "object",
        "required": ["url"],
        "properties": {"url": {"type": "string"}, "content_type": {"const": "image/webp"}},
    },
    "EnumImage": {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {"type": "string"},
            "content_type": {"anyOf": [{"type": "string", "enum": ["image/png", "image/jpeg"]}, {"type": "null"}]},
        },
    },
}


def classify(
    type_name: str,
    prop: str,
    category: str = "",
    arguments: dict[str, Any] | None = None,
    examples: list[Any] | None = None,
) -> tuple[MediaKind, str, str, str]:
    doc = SchemaDoc({"$defs": DEFS})
    found = doc.deref({"$ref": f"#/$defs/{type_name}"})
    spec = classify_file(
        found,
        property_name=prop,
        category=category,
        arguments=arguments or {},
        field_examples=examples or [],
        deref=lambda node: doc.deref(node).schema,
    )
    return spec.kind, spec.content_type, spec.kind_source, spec.type_source


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        # 1. content_type const/enum/default beat every other signal
        (
            ("ConstImage", "video", "text-to-video"),
            (MediaKind.IMAGE, "image/webp", "content_type_const", "content_type_const"),
        ),
        (
            ("EnumImage", "x", "", {"output_format": "jpeg"}),
            (MediaKind.IMAGE, "image/jpeg", "content_type_const", "content_type_const"),
        ),
        (
            ("EnumImage", "x", "", {"output_format": "webp"}),
            (MediaKind.IMAGE, "image/png", "content_type_const", "content_type_const"),
        ),
        (
            ("ImageType2", "video", "text-to-video"),
            (MediaKind.IMAGE, "image/jpeg", "content_type_default", "content_type_default"),
        ),
        (
            ("ImageType2", "images", "", {"output_format": "png"}),
            (MediaKind.IMAGE, "image/png", "content_type_default", "requested_format"),
        ),
        # 2. examples: the def's placeholder image/png on a VideoFile is ignored ...
        (("VideoFile", "video", "text-to-video"), (MediaKind.VIDEO, "video/mp4", "type_name", "default")),
        # ... a consistent field example refines the subtype ...
        (
            ("VideoFile", "video", "", None, [{"url": "u", "content_type": "video/webm"}]),
            (MediaKind.VIDEO, "video/webm", "type_name", "example"),
        ),
        # ... an inconsistent one (octet-stream on a video) is ignored, its file name's .mp4 is used
        (
            ("File", "video", "", None, [{"content_type": "application/octet-stream", "file_name": "a.mp4"}]),
            (MediaKind.VIDEO, "video/mp4", "property_name", "example"),
        ),
        # ... and examples decide the kind only when ranks 3-5 are silent
        (("File", "result", ""), (MediaKind.IMAGE, "image/png", "example", "example")),
        (
            ("File", "result", "", None, [{"content_type": "application/octet-stream"}]),
            (MediaKind.IMAGE, "image/png", "example", "example"),
        ),
        # 3. the $defs name beats the property name
        (("VideoFile", "image", "text-to-image"), (MediaKind.VIDEO, "video/mp4", "type_name", "default")),
        (("Audio", "video", "text-to-video"), (MediaKind.AUDIO, "audio/wav", "type_name", "default")),
        # 4. the property name beats the category; the head noun (last word) counts first
        (("File", "audio", "text-to-video"), (MediaKind.AUDIO, "audio/wav", "property_name", "default")),
        (("File", "video_thumbnail", "text-to-video"), (MediaKind.IMAGE, "image/png", "property_name", "example")),
        (("File", "model_mesh", "text-to-image"), (MediaKind.MODEL3D, "model/gltf-binary", "property_name", "default")),
        (("File", "remeshing_dir", "image-to-3d"), (MediaKind.ARCHIVE, "application/zip", "property_name", "default")),
        (("File", "depth_map", ""), (MediaKind.IMAGE, "image/png", "property_name", "example")),
        (("File", "subtitles", ""), (MediaKind.TEXT, "text/plain", "property_name", "default")),
        # 5. the category is the last resort
        (("File", "file", "image-to-3d"), (MediaKind.MODEL3D, "model/gltf-binary", "category", "default")),
        (("File", "file", "text-to-speech"), (MediaKind.AUDIO, "audio/wav", "category", "default")),
        (("File", "file", "image-to-video"), (MediaKind.VIDEO, "video/mp4", "category", "default")),
        # requested formats apply to files of their own kind only
        (
            ("File", "audio", "", {"output_format": "mp3"}),
            (MediaKind.AUDIO, "audio/mpeg", "property_name", "requested_format"),
        ),
        (("File", "audio", "", {"output_format": "png"}), (MediaKind.AUDIO, "audio/wav", "property_name", "default")),
        (
            ("File", "model_mesh", "", {"output_format": "obj"}),
            (MediaKind.MODEL3D, "model/obj", "property_name", "requested_format"),
        ),
    ],
)
def test_classification_precedence(case: tuple[Any, ...], expected: tuple[Any, ...]) -> None:
    assert classify(*case) == expected


def test_ignored_examples_are_reported() -> None:
    doc = SchemaDoc({"$defs": DEFS})
    spec = classify_file(
        doc.deref({"$ref": "#/$defs/VideoFile"}),
        property_name="video",
        category="",
        arguments={},
        deref=lambda node: doc.deref(node).schema,
    )
    assert spec.ignored == ("image/png",)


def test_nothing_known_is_other() -> None:
    doc = SchemaDoc(
        {"$defs": {"Thing": {"type": "object", "properties": {"url": {"type": "string"}, "file_size": {}}}}}
    )
    spec = classify_file(doc.deref({"$ref": "#/$defs/Thing"}), property_name="thing", category="", arguments={})
    assert (spec.kind, spec.content_type, spec.extension) == (MediaKind.OTHER, "application/octet-stream", "bin")


@pytest.mark.parametrize(
    ("arguments", "kind", "expected"),
    [
        ({"output_format": "jpeg"}, MediaKind.IMAGE, ("image/jpeg", "jpg")),
        ({"output_format": "webp"}, MediaKind.IMAGE, ("image/webp", "webp")),
        ({"format": "wav"}, MediaKind.AUDIO, ("audio/wav", "wav")),
        ({"audio_setting": {"format": "flac", "sample_rate": 32000}}, MediaKind.AUDIO, ("audio/flac", "flac")),
        ({"video_output_type": "VP9 (.webm)"}, MediaKind.VIDEO, ("video/webm", "webm")),
        ({"output_container_and_codec": "mov_h265"}, MediaKind.VIDEO, ("video/quicktime", "mov")),
        ({"output_format": "glb"}, MediaKind.MODEL3D, ("model/gltf-binary", "glb")),
        ({"output_format": "png"}, MediaKind.VIDEO, None),
        ({"output_format": "rgba"}, MediaKind.IMAGE, None),
        ({}, MediaKind.IMAGE, None),
    ],
)
def test_requested_format(arguments: dict[str, Any], kind: MediaKind, expected: tuple[str, str] | None) -> None:
    assert requested_format(arguments, kind) == expected


@pytest.mark.parametrize(
    ("schema", "type_name", "prop", "expected"),
    [
        (DEFS["ImageType2"], "ImageType2", "images", True),
        (DEFS["File"], "File", "anything", True),
        ({"type": "object", "properties": {"url": {"type": "string"}}}, "Video", "x", True),
        ({"type": "object", "properties": {"url": {"type": "string"}}}, None, "image", True),
        ({"type": "object", "properties": {"url": {"type": "string"}}}, None, "link", False),
        (
            {"type": "object", "properties": {"url": {"type": "string"}, "title": {"type": "string"}}},
            "Citation",
            "source",
            False,
        ),
        (
            {"type": "object", "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}}},
            "ImageSize",
            "size",
            False,
        ),
        ({"type": "string", "properties": {"url": {}}}, "File", "x", False),
        ({"type": "object", "properties": {"url": {}, "content_type": {}}}, None, "x", True),
    ],
)
def test_is_file_schema(schema: dict[str, Any], type_name: str | None, prop: str, expected: bool) -> None:
    assert is_file_schema(schema, type_name, prop) is expected


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("VideoFile", MediaKind.VIDEO),
        ("ImageType2", MediaKind.IMAGE),
        ("AudioFile", MediaKind.AUDIO),
        ("File", None),
        ("rendered_image", MediaKind.IMAGE),
        ("pbr_model", MediaKind.MODEL3D),
        ("model_glb", MediaKind.MODEL3D),
        ("mesh_3d", MediaKind.MODEL3D),
        ("diffusers_lora_file", None),
    ],
)
def test_kind_of_words(name: str, kind: MediaKind | None) -> None:
    assert kind_of_words(name) is kind


def test_content_type_helpers() -> None:
    assert kind_of_content_type("image/webp") is MediaKind.IMAGE
    assert kind_of_content_type("audio/mpeg; codecs=mp3") is MediaKind.AUDIO
    assert kind_of_content_type("model/gltf-binary") is MediaKind.MODEL3D
    assert kind_of_content_type("application/zip") is MediaKind.ARCHIVE
    assert kind_of_content_type("application/json") is MediaKind.TEXT
    assert kind_of_content_type("application/octet-stream") is MediaKind.OTHER
    assert extension_for("image/jpeg") == "jpg"
    assert extension_for("video/quicktime") == "mov"
    assert extension_for("application/x-unknown-thing") == "bin"


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"image_size": "landscape_16_9"}, (1024, 576)),
        ({"image_size": "portrait_4_3"}, (768, 1024)),
        ({"image_size": {"width": 2048, "height": 1536}}, (2048, 1536)),
        ({"video_size": "square_hd"}, (1024, 1024)),
        ({"width": 640, "height": 480}, (640, 480)),
        ({"aspect_ratio": "16:9", "resolution": "720p"}, (1280, 720)),
        ({"aspect_ratio": "9:16", "resolution": "720p"}, (720, 1280)),
        ({"aspect_ratio": "1:1"}, (1024, 1024)),
        ({"resolution": "480p"}, (854, 480)),
        ({"image_size": "1280x720"}, (1280, 720)),
        ({"image_size": "nonsense"}, None),
        ({}, None),
    ],
)
def test_requested_dimensions(arguments: dict[str, Any], expected: tuple[int, int] | None) -> None:
    assert requested_dimensions(arguments) == expected


@pytest.mark.parametrize(
    ("arguments", "duration", "fps"),
    [
        ({"duration": 5}, 5.0, None),
        ({"duration": "10"}, 10.0, None),
        ({"duration": "6s"}, 6.0, None),
        ({"num_frames": 121, "fps": 24}, 121 / 24, 24.0),
        ({"num_frames": 81, "frames_per_second": 16}, 81 / 16, 16.0),
        ({"duration": True}, None, None),
        ({}, None, None),
    ],
)
def test_requested_duration_and_fps(arguments: dict[str, Any], duration: float | None, fps: float | None) -> None:
    got = requested_duration(arguments)
    assert got == (pytest.approx(duration, abs=1e-3) if duration is not None else None)
    assert requested_fps(arguments) == fps
