"""build_output on real fal Output schemas (tests/mock_server/outputs/data) and on schemas made to probe each rule."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fal_mock.mock_server.outputs import (
    FileFacts,
    FileRequest,
    InputFacts,
    MediaKind,
    OutputBuildError,
    OutputLimits,
    OutputSchemaError,
    build_output,
)
from fal_mock.mock_server.outputs import text as textgen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from .fakes import HOST, FakeMaker, fixture_names, load_fixture

URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"']+")


def build(name: str, *, seed: bytes = b"seed-1", maker: FakeMaker | None = None, **overrides: Any) -> dict[str, Any]:
    fixture = load_fixture(name)
    arguments = {**fixture["arguments"], **overrides.pop("arguments", {})}
    return build_output(
        fixture["output_schema"],
        arguments=arguments,
        category=overrides.pop("category", fixture["category"]),
        seed=seed,
        media=maker or FakeMaker(),
        **overrides,
    )


def validate(schema: dict[str, Any], instance: Any) -> None:
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(instance)]
    assert errors == []


def urls(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield from URL_IN_TEXT.findall(value)
        if value.startswith("data:"):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from urls(item)


# -- every transcribed fal schema ------------------------------------------------------------------


@pytest.mark.parametrize("name", fixture_names())
def test_real_schema_output_validates_and_points_only_at_the_maker(name: str) -> None:
    fixture = load_fixture(name)
    maker = FakeMaker()
    output = build(name, maker=maker)
    validate(fixture["output_schema"], output)
    assert all(url.startswith(HOST) for url in urls(output)), list(urls(output))
    json.dumps(output)  # plain JSON


@pytest.mark.parametrize("name", fixture_names())
def test_real_schema_output_is_deterministic(name: str) -> None:
    first = json.dumps(build(name, seed=b"same"))
    second = json.dumps(build(name, seed=b"same"))
    assert first == second


def test_different_seeds_give_different_outputs() -> None:
    assert build("cogview4", seed=b"a") != build("cogview4", seed=b"b")
    assert build("openrouter-router", seed=b"a")["output"] != build("openrouter-router", seed=b"b")["output"]


# -- text-to-image and edit -----------------------------------------------------------------------


def test_text_to_image_follows_fal_conventions() -> None:
    maker = FakeMaker()
    output = build("cogview4", maker=maker, arguments={"num_images": 3, "seed": 1234})
    assert list(output) == ["images", "timings", "seed", "has_nsfw_concepts", "prompt"]
    assert len(output["images"]) == 3
    assert output["seed"] == 1234
    assert output["has_nsfw_concepts"] == [False, False, False]
    assert output["prompt"] == load_fixture("cogview4")["arguments"]["prompt"]
    assert set(output["timings"]) == {"inference"}
    assert 0 < output["timings"]["inference"] < 10
    # the input asked for jpeg and a landscape_4_3 size; the maker was asked for exactly that
    assert [r.path for r in maker.requests] == [("images", 0), ("images", 1), ("images", 2)]
    assert {(r.kind, r.content_type, r.extension) for r in maker.requests} == {(MediaKind.IMAGE, "image/jpeg", "jpg")}
    assert [r.index for r in maker.requests] == [0, 1, 2]
    assert {r.count for r in maker.requests} == {3}
    assert maker.requests[0].wants == {"content_type", "file_name", "file_size", "width", "height"}
    for image in output["images"]:
        assert (image["width"], image["height"]) == (1024, 768)
        assert image["content_type"] == "image/jpeg"
        assert image["file_name"].endswith(".jpg")


def test_seed_without_input_seed_is_seeded_not_the_example() -> None:
    outputs = [build("seedream-v4-text-to-image", seed=s, arguments={"seed": None}) for s in (b"x", b"y")]
    seeds = [o["seed"] for o in outputs]
    assert seeds[0] != seeds[1]
    assert 746406749 not in seeds  # the schema's example
    assert all(0 <= s < 2**32 for s in seeds)


def test_num_images_is_honoured_and_bounded_by_max_files() -> None:
    assert len(build("seedream-v4-text-to-image", arguments={"num_images": 4})["images"]) == 4
    limited = build("seedream-v4-text-to-image", arguments={"num_images": 6}, limits=OutputLimits(max_files=2))
    assert len(limited["images"]) == 2
    assert len(build("seedream-v4-text-to-image", arguments={"num_images": 0})["images"]) == 0


def test_file_count_respects_min_and_max_items() -> None:
    schema = {
        "type": "object",
        "required": ["images"],
        "properties": {"images": {"type": "array", "minItems": 2, "maxItems": 3, "items": {"$ref": "#/$defs/Image"}}},
        "$defs": {"Image": load_fixture("cogview4")["output_schema"]["$defs"]["Image"]},
    }
    maker = FakeMaker()
    assert len(build_output(schema, arguments={"num_images": 9}, category="", seed=b"", media=maker)["images"]) == 3
    assert len(build_output(schema, arguments={}, category="", seed=b"", media=maker)["images"]) == 2
    assert len(build_output(schema, arguments={"num_images": 1}, category="", seed=b"", media=maker)["images"]) == 2
    with pytest.raises(OutputBuildError) as info:
        build_output(schema, arguments={}, category="", seed=b"", media=maker, limits=OutputLimits(max_files=1))
    assert info.value.path == ("images",)


def test_edit_endpoint_image_sizes_come_from_measured_inputs_when_required() -> None:
    maker = FakeMaker(report_metadata=False)
    output = build(
        "chain-of-zoom", maker=maker, inputs=InputFacts(dimensions={"image_url": (640, 480)}), arguments={}
    )  # ImageType2 requires width and height, the maker reported neither
    image = output["images"][0]
    assert (image["width"], image["height"]) == (640, 480)
    assert image["content_type"] == "image/jpeg"  # the schema's content_type default


def test_unknown_optional_metadata_is_omitted() -> None:
    output = build("seedream-v4.5-edit", maker=FakeMaker(report_metadata=False))
    assert set(output["images"][0]) == {"url", "content_type", "file_name", "file_size"}


def test_file_properties_come_from_the_maker_never_from_examples() -> None:
    output = build("ltx-2.3-reference-video-to-video")
    video = output["video"]
    example = load_fixture("ltx-2.3-reference-video-to-video")["output_schema"]["properties"]["video"]["examples"][0]
    assert video["url"].startswith(HOST)
    assert (video["width"], video["height"], video["fps"]) == (1024, 576, 24.0)  # landscape_16_9 at the input fps
    assert video["num_frames"] == 121
    assert video["duration"] == pytest.approx(121 / 24, abs=1e-3)
    assert all(video[k] != example[k] for k in ("width", "height", "fps", "num_frames", "file_name"))


def test_maker_facts_that_do_not_fit_the_schema_raise_with_the_path() -> None:
    schema = {
        "type": "object",
        "required": ["image"],
        "properties": {"image": {"$ref": "#/$defs/Image"}},
        "$defs": {
            "Image": {
                "type": "object",
                "required": ["url"],
                "properties": {"url": {"type": "string"}, "content_type": {"type": "string", "enum": ["image/png"]}},
            }
        },
    }
    with pytest.raises(OutputBuildError) as info:
        build_output(schema, arguments={}, category="", seed=b"", media=FakeMaker(content_type_override="image/webp"))
    assert info.value.path == ("image", "content_type")
    assert "image/webp" in str(info.value)


class _BrokenMaker(FakeMaker):
    def make(self, request: FileRequest) -> FileFacts:
        facts = super().make(request)
        return FileFacts(url="https://v3.fal.media/x.png", content_type=facts.content_type, file_name="x", file_size=1)


def test_url_pattern_constraints_are_checked_against_the_maker_url() -> None:
    schema = {
        "type": "object",
        "required": ["file"],
        "properties": {"file": {"$ref": "#/$defs/File"}},
        "$defs": {
            "File": {
                "type": "object",
                "required": ["url", "file_size"],
                "properties": {
                    "url": {"type": "string", "pattern": "^https://mock\\.test/"},
                    "file_size": {"type": "integer"},
                },
            }
        },
    }
    assert build_output(schema, arguments={}, category="", seed=b"", media=FakeMaker())["file"]["url"].startswith(HOST)
    with pytest.raises(OutputBuildError) as info:
        build_output(schema, arguments={}, category="", seed=b"", media=_BrokenMaker())
    assert info.value.path == ("file", "url")


# -- video ----------------------------------------------------------------------------------------


def test_videofile_typed_fields_are_video_even_when_named_image_or_mask() -> None:
    maker = FakeMaker()
    output = build("wan-alpha", maker=maker)
    kinds = {r.property_name: (r.kind, r.content_type) for r in maker.requests}
    # VP9 requested through video_output_type; the $defs name VideoFile beats the names image/mask
    assert kinds == {name: (MediaKind.VIDEO, "video/webm") for name in ("video", "image", "mask")}
    assert output["prompt"] == load_fixture("wan-alpha")["arguments"]["prompt"]
    assert output["video"]["num_frames"] == 81


def test_video_with_octet_stream_example_is_still_mp4() -> None:
    maker = FakeMaker()
    output = build("ai-avatar", maker=maker)
    assert maker.requests[0].content_type == "video/mp4"
    assert output["video"]["content_type"] == "video/mp4"
    assert output["seed"] == 42


def test_union_of_video_and_file_makes_one_video() -> None:
    maker = FakeMaker()
    output = build("video-background-removal", maker=maker)
    assert len(maker.requests) == 1
    assert maker.requests[0].type_name == "Video"
    assert output["video"]["content_type"] == "video/webm"  # output_container_and_codec: webm_vp9


def test_empty_output_schema_gives_an_empty_object() -> None:
    assert build("video-erase-keypoints") == {}


# -- audio ----------------------------------------------------------------------------------------


def test_tts_generic_file_named_audio_is_audio() -> None:
    maker = FakeMaker()
    output = build("chatterbox-text-to-speech", maker=maker)
    assert maker.requests[0].kind is MediaKind.AUDIO
    assert output["audio"]["content_type"] == "audio/wav"


def test_tts_output_format_is_requested_and_image_png_example_ignored() -> None:
    maker = FakeMaker()
    output = build("chatterboxhd-text-to-speech", maker=maker)
    assert (maker.requests[0].kind, maker.requests[0].content_type) == (MediaKind.AUDIO, "audio/mpeg")
    assert output["audio"]["file_name"].endswith(".mp3")


# -- speech to text -------------------------------------------------------------------------------


@pytest.mark.parametrize("duration", [0.4, 7.25, 61.0, 1805.5])
def test_transcript_covers_the_measured_audio_duration(duration: float) -> None:
    output = build("wizper", inputs=InputFacts(durations={"audio_url": duration}))
    chunks = output["chunks"]
    assert chunks[0]["timestamp"][0] == 0
    assert chunks[-1]["timestamp"][1] == pytest.approx(duration, abs=0.01)
    for before, after in itertools.pairwise(chunks):
        assert before["timestamp"][1] == after["timestamp"][0]
    assert output["text"] == " ".join(chunk["text"] for chunk in chunks)
    assert output["languages"] == ["en"]


def test_transcript_duration_is_capped_by_limits() -> None:
    output = build(
        "wizper",
        inputs=InputFacts(durations={"audio_url": 7200.0}),
        limits=OutputLimits(max_transcript_seconds=600.0),
    )
    assert output["chunks"][-1]["timestamp"][1] == pytest.approx(600.0)


def test_whisper_diarization_segments_and_language_follow_the_transcript() -> None:
    output = build("whisper", arguments={"language": "fr"}, inputs=InputFacts(durations={"audio_url": 20.0}))
    assert list(output) == ["text", "chunks", "inferred_languages", "diarization_segments"]
    assert output["inferred_languages"] == ["fr"]
    assert [s["timestamp"] for s in output["diarization_segments"]] == [c["timestamp"] for c in output["chunks"]]
    assert {s["speaker"] for s in output["diarization_segments"]} == {"SPEAKER_00"}
    assert all("speaker" not in chunk for chunk in output["chunks"])  # optional, nothing to say


def test_speech_to_text_plain_output_is_the_transcript() -> None:
    output = build("speech-to-text", inputs=InputFacts(durations={"audio_url": 9.0}))
    expected = textgen.transcript(_sub_seed(b"seed-1", "transcript"), 9.0, topic_words=()).text
    assert output == {"output": expected, "partial": False}


def _sub_seed(seed: bytes, label: str) -> bytes:
    import hashlib

    return hashlib.sha256(seed + b"\x00" + label.encode()).digest()


# -- 3D -------------------------------------------------------------------------------------------


def test_trellis_mesh_is_a_glb() -> None:
    maker = FakeMaker()
    output = build("trellis", maker=maker)
    assert (maker.requests[0].kind, maker.requests[0].content_type) == (MediaKind.MODEL3D, "model/gltf-binary")
    assert output["model_mesh"]["file_name"].endswith(".glb")
    assert set(output["timings"]) == {"inference"}


def test_triposr_output_format_obj_and_optional_remesh_dir_left_out() -> None:
    maker = FakeMaker()
    output = build("triposr", maker=maker)
    assert list(output) == ["model_mesh", "timings"]
    assert maker.requests[0].content_type == "model/obj"


def test_tripo_makes_each_optional_file_with_its_own_kind() -> None:
    maker = FakeMaker()
    output = build("tripo-v2.5-image-to-3d", maker=maker)
    kinds = {r.property_name: (r.kind, r.content_type) for r in maker.requests}
    assert kinds == {
        "model_mesh": (MediaKind.MODEL3D, "model/gltf-binary"),  # octet-stream example ignored, .glb used
        "base_model": (MediaKind.MODEL3D, "model/gltf-binary"),
        "pbr_model": (MediaKind.MODEL3D, "model/gltf-binary"),
        "rendered_image": (MediaKind.IMAGE, "image/webp"),  # consistent example refines the subtype
    }
    assert re.fullmatch(r"[0-9a-f-]{36}", output["task_id"])


# -- LLMs -----------------------------------------------------------------------------------------


def test_llm_output_is_a_reply_to_the_prompt_with_consistent_usage() -> None:
    fixture = load_fixture("openrouter-router")
    output = build("openrouter-router")
    assert output["output"] == textgen.reply(fixture["arguments"]["prompt"], _sub_seed(b"seed-1", "reply"))
    assert "Unit 734" not in output["output"]  # not the example
    usage = output["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens"] > usage["prompt_tokens"] > 0
    assert output["partial"] is False
    assert "error" not in output
    assert "reasoning" not in output


def test_llm_messages_hold_the_prompt_and_the_reply() -> None:
    output = build("seed-2-mini")
    assert output["messages"] == [
        {"role": "user", "content": load_fixture("seed-2-mini")["arguments"]["prompt"]},
        {"role": "assistant", "content": output["output"]},
    ]


def test_reply_is_capped_by_limits() -> None:
    output = build("openrouter-router", limits=OutputLimits(max_reply_chars=60))
    assert 0 < len(output["output"]) <= 60


# -- examples, defaults, optional properties -------------------------------------------------------


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


def _build(schema: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("arguments", {})
    kwargs.setdefault("category", "")
    kwargs.setdefault("seed", b"k")
    kwargs.setdefault("media", FakeMaker())
    result = build_output(schema, **kwargs)
    validate(schema, result)
    return result


def test_first_valid_example_is_used_and_invalid_ones_skipped() -> None:
    schema = _object({"label": {"type": "string", "enum": ["Safe", "Unsafe"], "examples": ["Maybe", "Unsafe", "Safe"]}})
    assert _build(schema) == {"label": "Unsafe"}


def test_examples_with_urls_are_never_used() -> None:
    schema = _object(
        {
            "caption_source": {
                "type": "string",
                "examples": ["see https://example.org/cat.png", "www.example.org", "a plain caption"],
            }
        }
    )
    assert _build(schema) == {"caption_source": "a plain caption"}


def test_default_is_used_when_no_example_fits() -> None:
    schema = _object({"finish": {"type": "string", "maxLength": 4, "examples": ["length"], "default": "stop"}})
    assert _build(schema) == {"finish": "stop"}


def test_optional_properties_are_kept_only_when_they_say_something() -> None:
    schema = _object(
        {
            "a": {"type": "integer"},
            "with_default": {"type": "boolean", "default": True},
            "with_example": {"type": "string", "examples": ["hello"]},
            "nullable": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "link_url": {"type": "string"},
        },
        required=["a"],
    )
    assert list(_build(schema)) == ["a", "with_default", "with_example"]


def test_required_url_strings_come_from_the_maker() -> None:
    maker = FakeMaker()
    schema = _object({"preview_url": {"type": "string"}, "page": {"type": "string", "format": "uri"}})
    result = _build(schema, media=maker, category="text-to-image")
    assert result["preview_url"].startswith(HOST)
    assert result["page"].startswith(HOST)
    assert [r.path for r in maker.url_requests] == [("preview_url",), ("page",)]
    assert maker.url_requests[0].kind is MediaKind.IMAGE


def test_root_examples_are_not_used() -> None:
    schema = {**_object({"output": {"type": "string"}}), "examples": [{"output": "canned"}]}
    assert _build(schema, arguments={"prompt": "tell me about tides"})["output"] != "canned"


def test_recursive_schema_terminates() -> None:
    schema = {
        "$ref": "#/$defs/Node",
        "$defs": {
            "Node": {
                "type": "object",
                "required": ["name", "children"],
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                    "parent": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}], "default": None},
                },
            }
        },
    }
    result = _build(schema)
    depth, node = 0, result
    while node["children"]:
        node, depth = node["children"][0], depth + 1
    assert 1 <= depth <= 4


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        (_object({"n": {"type": "integer", "minimum": 5, "maximum": 1}}), ("n",)),
        (_object({"s": {"type": "string", "minLength": 5, "maxLength": 2}}), ("s",)),
        (_object({"x": {"type": "number", "multipleOf": 10, "minimum": 1, "maximum": 9}}), ("x",)),
        (_object({"list": {"type": "array", "minItems": 4, "maxItems": 2}}), ("list",)),
        (
            _object({"o": _object({"inner": {"type": "integer", "exclusiveMinimum": 3, "exclusiveMaximum": 4}})}),
            ("o", "inner"),
        ),
        (
            _object({"loop": {"$ref": "#/$defs/Loop"}})
            | {"$defs": {"Loop": _object({"next": {"$ref": "#/$defs/Loop"}})}},
            None,
        ),
    ],
)
def test_unsatisfiable_schemas_raise_naming_the_path(schema: dict[str, Any], path: tuple[Any, ...] | None) -> None:
    with pytest.raises(OutputBuildError) as info:
        build_output(schema, arguments={}, category="", seed=b"", media=FakeMaker())
    if path is not None:
        assert info.value.path == path
    assert str(info.value).startswith("$")


def test_bad_arguments_raise_typed_errors() -> None:
    maker = FakeMaker()
    with pytest.raises(TypeError):
        build_output({}, arguments=[], category="", seed=b"", media=maker)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        build_output({}, arguments={}, category="", seed="text", media=maker)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        build_output({}, arguments={}, category="", seed=b"", media=object())  # type: ignore[arg-type]
    with pytest.raises(OutputSchemaError):
        build_output({"type": 5}, arguments={}, category="", seed=b"", media=maker)
    with pytest.raises(OutputSchemaError):
        build_output({"type": "string"}, arguments={}, category="", seed=b"", media=maker)
    with pytest.raises(OutputSchemaError):
        build_output(_object({"a": {"$ref": "other.json#/A"}}), arguments={}, category="", seed=b"", media=maker)
    with pytest.raises(ValueError, match="max_files"):
        OutputLimits(max_files=0)


# -- property: no external URL, ever ----------------------------------------------------------------

_EXTERNAL = st.sampled_from(
    ["https://v3.fal.media/files/x.png", "http://example.com/a", "data:image/png;base64,AAAA", "www.fal.ai/x"]
)
_LEAF = st.one_of(
    st.fixed_dictionaries({"type": st.just("string")}, optional={"examples": st.lists(_EXTERNAL, max_size=3)}),
    st.fixed_dictionaries(
        {"type": st.just("string"), "format": st.sampled_from(["uri", "url", "uri-reference"])},
        optional={"examples": st.lists(_EXTERNAL, max_size=2), "default": _EXTERNAL},
    ),
    st.fixed_dictionaries(
        {"type": st.just("string"), "pattern": st.sampled_from(["^https?://[a-z.]+/", "^(https?://|data:)"])}
    ),
    st.just({"$ref": "#/$defs/File"}),
    st.just({"type": "array", "items": {"$ref": "#/$defs/Image"}}),
    st.just({"anyOf": [{"$ref": "#/$defs/File"}, {"type": "null"}], "examples": [{"url": "https://fal.media/x.mp4"}]}),
)
_NAMES = st.sampled_from(["image", "video_url", "link", "source", "audio", "thumbnail_url", "mesh", "web", "homepage"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(props=st.dictionaries(_NAMES, _LEAF, min_size=1, max_size=5), data=st.data())
def test_no_external_url_in_any_output(props: dict[str, Any], data: st.DataObject) -> None:
    required = data.draw(st.lists(st.sampled_from(sorted(props)), unique=True))
    defs = load_fixture("cogview4")["output_schema"]["$defs"] | load_fixture("trellis")["output_schema"]["$defs"]
    schema = {"type": "object", "properties": props, "required": required, "$defs": defs}
    result = _build(schema, arguments={"prompt": "see https://elsewhere.example/page"})
    assert all(url.startswith(HOST) for url in urls(result)), result


def test_same_output_in_another_process_with_another_hash_seed() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "from tests.mock_server.outputs.test_builder import build;"
        "print(json.dumps([build(n) for n in ('cogview4', 'whisper', 'openrouter-router', 'tripo-v2.5-image-to-3d')]))"
    )
    root = str(Path(__file__).resolve().parents[2])
    outputs = [
        subprocess.run(
            [sys.executable, "-c", code, root],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        for hash_seed in ("1", "2")
    ]
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])[0] == build("cogview4")


def test_a_prepared_schema_doc_gives_the_same_outputs() -> None:
    from fal_mock.mock_server.outputs import SchemaDoc

    fixture = load_fixture("whisper")
    doc = SchemaDoc(fixture["output_schema"])
    for seed in (b"1", b"2", b"1"):
        reused = build_output(
            doc, arguments=fixture["arguments"], category="speech-to-text", seed=seed, media=FakeMaker()
        )
        fresh = build("whisper", seed=seed)
        assert reused == fresh


def test_prompt_like_properties_echo_their_own_input() -> None:
    schema = _object(
        {
            "prompt": {"type": "string"},
            "negative_prompt": {"type": "string"},
            "revised_prompt": {"type": "string"},
            "curl": {"type": "string"},
        }
    )
    result = _build(schema, arguments={"prompt": "a red kite", "negative_prompt": "blurry"})
    assert result["prompt"] == "a red kite"
    assert result["negative_prompt"] == "blurry"
    assert result["revised_prompt"] == "a red kite"
    assert "://" not in result["curl"]  # a word ending in "url" is not a URL field
