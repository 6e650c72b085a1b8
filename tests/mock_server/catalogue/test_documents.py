"""The bundled documents: fal's shape, they normalise, and their own examples and defaults validate."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from fal_mock import contracts
from fal_mock.mock_server.catalogue import Catalogue, EndpointSpec, bundled_documents, normalise
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry

DOCUMENTS = bundled_documents()
NAMES = [document.name for document in DOCUMENTS]

EXPECTED = {
    # endpoint id: (category, input component, output component)
    "fal-ai/bytedance/seedream/v4/text-to-image": (
        "text-to-image",
        "BytedanceSeedreamV4TextToImageInput",
        "BytedanceSeedreamV4TextToImageOutput",
    ),
    "fal-ai/flux/dev": ("text-to-image", "FluxDevInput", "FluxDevOutput"),
    "fal-ai/nano-banana/edit": ("image-to-image", "NanoBananaEditInput", "NanoBananaEditOutput"),
    "fal-ai/birefnet/v2": ("image-to-image", "BirefnetV2Input", "BirefnetV2Output"),
    "fal-ai/kling-video/v2.5-turbo/pro/text-to-video": (
        "text-to-video",
        "KlingVideoV25TurboProTextToVideoInput",
        "KlingVideoV25TurboProTextToVideoOutput",
    ),
    "fal-ai/minimax/video-01/image-to-video": (
        "image-to-video",
        "MinimaxVideo01ImageToVideoInput",
        "MinimaxVideo01ImageToVideoOutput",
    ),
    "alibaba/happy-horse/reference-to-video": (
        "image-to-video",
        "HappyHorseReferenceToVideoInput",
        "HappyHorseReferenceToVideoOutput",
    ),
    "fal-ai/mmaudio-v2": ("video-to-video", "MmaudioV2Input", "MmaudioV2Output"),
    "fal-ai/minimax/speech-02-hd": ("text-to-speech", "MinimaxSpeech02HdInput", "MinimaxSpeech02HdOutput"),
    "fal-ai/wizper": ("speech-to-text", "WizperInput", "WizperOutput"),
    "fal-ai/trellis": ("image-to-3d", "TrellisInput", "TrellisOutput"),
    "openrouter/router": ("llm", "RouterInput", "RouterOutput"),
    "openrouter/router/vision": ("vision", "RouterVisionInput", "RouterVisionOutput"),
    "fal-ai/decart/lucy-5b/image-to-video": (
        "image-to-video",
        "DecartLucy5bImageToVideoInput",
        "DecartLucy5bImageToVideoOutput",
    ),
    "fal-ai/minimax-video/image-to-video": (
        "image-to-video",
        "MinimaxVideoImageToVideoInput",
        "MinimaxVideoImageToVideoOutput",
    ),
}
LEGACY = ["fal-ai/decart/lucy-5b/image-to-video", "fal-ai/minimax-video/image-to-video"]


def _spec(name: str) -> EndpointSpec:
    document = next(d for d in DOCUMENTS if d.name == name)
    return normalise(json.loads(document.read_text(encoding="utf-8")), source=f"bundled:{name}")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue()


def test_the_bundled_set(catalogue: Catalogue) -> None:
    assert catalogue.ids() == sorted(EXPECTED)
    for endpoint_id, (category, input_name, output_name) in EXPECTED.items():
        spec = catalogue.get(endpoint_id)
        assert spec is not None
        assert (spec.category, spec.input_name, spec.output_name) == (category, input_name, output_name)
        assert spec.source.startswith("bundled:")
    assert catalogue.overrides == ()


@pytest.mark.parametrize("name", NAMES)
def test_document_has_fals_shape(name: str) -> None:
    document = json.loads(next(d for d in DOCUMENTS if d.name == name).read_text(encoding="utf-8"))
    endpoint_id = document["info"]["x-fal-metadata"]["endpointId"]
    assert name == endpoint_id.replace("/", "__") + ".json"
    assert list(document) == ["openapi", "info", "components", "paths", "servers", "security"]
    assert document["openapi"] == "3.0.4"
    assert document["info"]["title"] == f"Queue OpenAPI for {endpoint_id}"
    metadata = document["info"]["x-fal-metadata"]
    assert metadata["playgroundUrl"] == f"https://fal.ai/models/{endpoint_id}"
    assert metadata["documentationUrl"] == f"https://fal.ai/models/{endpoint_id}/api"
    assert document["servers"] == [{"url": "https://queue.fal.run"}]
    assert "QueueStatus" in document["components"]["schemas"]
    base = f"/{endpoint_id}/requests/{{request_id}}"
    assert set(document["paths"]) == {f"/{endpoint_id}", base, f"{base}/status", f"{base}/cancel"}
    assert set(document["paths"][f"{base}/cancel"]) == {"put"}
    logs = document["paths"][f"{base}/status"]["get"]["parameters"][1]
    assert (logs["name"], logs["in"], logs["schema"]["type"]) == ("logs", "query", "number")


@pytest.mark.parametrize("name", NAMES)
def test_document_normalises_to_valid_json_schema(name: str) -> None:
    spec = _spec(name)
    for schema in (spec.input_schema, spec.output_schema):
        Draft202012Validator.check_schema(schema)
        assert "#/components/" not in json.dumps(schema)  # every reference was rewritten
    assert spec.input_schema["type"] == "object"
    assert spec.output_schema["type"] == "object"


def _first_example(schema: Mapping[str, Any]) -> tuple[bool, Any]:
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return True, schema["examples"][0]
    if "default" in schema:
        return True, schema["default"]
    return False, None


_FILLERS: dict[str, Any] = {"string": "text", "integer": 1, "number": 1.5, "boolean": True, "array": [], "object": {}}
# Documents whose input has a required property with no example and no default (fal publishes one, we had none).
NO_FULL_INPUT_EXAMPLE = {"fal-ai__minimax__speech-02-hd.json", "fal-ai__mmaudio-v2.json"}


def full_example(schema: Mapping[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """An instance built like fal's "Full Example": each property's first example, else its default.

    The flag is False when a required property had neither and was filled with a plain value of its type
    (the document provides no full example; its defaults and examples are still checked on that base).
    None when such a property has no plain type to fill it with (an object reference: outputs' files).
    """
    instance: dict[str, Any] = {}
    for prop, sub in schema.get("properties", {}).items():
        known, value = _first_example(sub)
        if known:
            instance[prop] = copy.deepcopy(value)
    complete = True
    for prop in schema.get("required", []):
        if prop not in instance:
            complete = False
            kind = schema["properties"][prop].get("type")
            if kind not in _FILLERS:
                return None, False
            instance[prop] = _FILLERS[kind]
    return instance, complete


def variants(schema: Mapping[str, Any], base: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``base`` with one property set to each of its examples and to its default, in turn."""
    for prop, sub in schema.get("properties", {}).items():
        for i, example in enumerate(sub.get("examples", []) if isinstance(sub.get("examples"), list) else []):
            yield f"{prop}.examples[{i}]", {**base, prop: example}
        if "default" in sub:
            yield f"{prop}.default", {**base, prop: sub["default"]}


def _validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, registry=Registry())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("side", ["input", "output"])
def test_the_documents_own_examples_and_defaults_validate(name: str, side: str) -> None:
    spec = _spec(name)
    schema = spec.input_schema if side == "input" else spec.output_schema
    validator = _validator(schema)
    failures = []
    for i, example in enumerate(schema.get("examples", [])):  # component-level full examples
        error = best_match(validator.iter_errors(example))
        if error is not None:
            failures.append(f"examples[{i}]: {error.message}")
    base, complete = full_example(schema)
    if side == "input":
        assert complete == (name not in NO_FULL_INPUT_EXAMPLE)
    checks = [] if base is None else [("full example", base), *variants(schema, base)]
    for label, instance in checks:
        error = best_match(validator.iter_errors(instance))
        if error is not None:
            failures.append(f"{label}: {error.message}")
    assert not failures, f"{name} {side}: " + "; ".join(failures)


def test_required_families_and_file_shapes_are_covered(catalogue: Catalogue) -> None:
    specs = catalogue.normalise_all()
    categories = {spec.category for spec in specs}
    for family in ("text-to-image", "image-to-image", "text-to-video", "image-to-video", "video-to-video"):
        assert family in categories
    for family in ("text-to-speech", "speech-to-text", "image-to-3d", "llm", "vision"):
        assert family in categories
    files = {spec.endpoint_id: {(f.name, f.media, f.is_list) for f in spec.file_inputs} for spec in specs}
    assert files["fal-ai/nano-banana/edit"] == {("image_urls", "image", True)}
    assert files["fal-ai/minimax/video-01/image-to-video"] == {("image_url", "image", False)}
    assert files["fal-ai/mmaudio-v2"] == {("video_url", "video", False)}
    assert files["fal-ai/wizper"] == {("audio_url", "audio", False)}
    assert files["openrouter/router/vision"] == {("image_urls", "image", True)}
    assert files["alibaba/happy-horse/reference-to-video"] == {("image_urls", "image", True)}
    assert files["fal-ai/flux/dev"] == files["openrouter/router"] == set()
    birefnet = catalogue.get("fal-ai/birefnet/v2")
    assert birefnet is not None
    outputs = birefnet.output_schema["properties"]
    assert outputs["image"]["$ref"] == "#/$defs/ImageFile"
    assert outputs["mask_image"]["anyOf"][0] == {"$ref": "#/$defs/ImageFile"}


# ------------------------------------------------------------------------------------ the two retired endpoints


def _same_meaning(ours: Mapping[str, Any], contract: Mapping[str, Any]) -> None:
    """The validation keywords of a contract property and of ours agree (type arrays vs anyOf null)."""
    for keyword in ("default", "enum", "const", "minimum", "maximum", "minLength", "maxLength", "pattern", "format"):
        assert ours.get(keyword) == contract.get(keyword), keyword
    kinds = contract.get("type")
    if isinstance(kinds, list):
        branches = ours["anyOf"]
        assert {b.get("type") for b in branches} == set(kinds)
    elif kinds is not None:
        assert ours["type"] == kinds


@pytest.mark.parametrize("endpoint_id", LEGACY)
def test_retired_endpoints_match_the_contracts(catalogue: Catalogue, endpoint_id: str) -> None:
    spec = catalogue.get(endpoint_id)
    assert spec is not None
    for side, schema in (("input", spec.input_schema), ("output", spec.output_schema)):
        contract = contracts.schema(contracts.endpoint_contract(endpoint_id, side))
        assert schema["required"] == contract["required"]
        assert list(schema["properties"]) == list(contract["properties"])
        assert schema["x-fal-order-properties"] == contract["x-fal-order-properties"]
        for prop, sub in contract["properties"].items():
            if "$ref" in sub:
                assert schema["properties"][prop]["$ref"] == "#/$defs/File"
            else:
                _same_meaning(schema["properties"][prop], sub)
        validator = _validator(schema)
        for example in contract["examples"]:
            assert validator.is_valid(example)
        assert not validator.is_valid({})
    file_contract = contracts.schema("file")
    file_schema = spec.output_schema["$defs"]["File"]
    assert file_schema["required"] == file_contract["required"]
    for prop, sub in file_contract["properties"].items():
        _same_meaning(
            file_schema["properties"][prop]["anyOf"][0]
            if "anyOf" in file_schema["properties"][prop]
            else file_schema["properties"][prop],
            {**sub, "type": sub["type"]}
            if not isinstance(sub["type"], list)
            else {k: v for k, v in sub.items() if k != "type"},
        )


@pytest.mark.parametrize("endpoint_id", LEGACY)
def test_retired_endpoints_accept_and_reject_what_the_contracts_do(catalogue: Catalogue, endpoint_id: str) -> None:
    spec = catalogue.get(endpoint_id)
    assert spec is not None
    ours = _validator(spec.input_schema)
    theirs = contracts.validator(contracts.endpoint_contract(endpoint_id, "input"))
    image = "https://fal.media/files/elephant/8kkhB12hEZI2kkbU8pZPA_test.jpeg"
    cases: list[Any] = [
        {"prompt": "a cat", "image_url": image},
        {"prompt": "a cat", "image_url": image, "extra": 1},
        {"prompt": "a cat"},
        {"image_url": image},
        {"prompt": 3, "image_url": image},
        {"prompt": "a cat", "image_url": image, "prompt_optimizer": "yes"},
        {"prompt": "a cat", "image_url": image, "aspect_ratio": "1:1"},
        {"prompt": "a cat", "image_url": image, "aspect_ratio": "9:16", "resolution": "720p", "sync_mode": False},
        {"prompt": "a cat", "image_url": image, "resolution": "1080p"},
        [],
    ]
    for case in cases:
        assert ours.is_valid(case) == theirs.is_valid(case), case
    out_ours = _validator(spec.output_schema)
    out_theirs = contracts.validator(contracts.endpoint_contract(endpoint_id, "output"))
    for case in [
        {"video": {"url": "https://v3.fal.media/files/x/output.mp4"}},
        {"video": {"url": "data:video/mp4;base64,AAAA", "content_type": None, "file_size": 4}},
        {"video": {"url": "ftp://example.com/x.mp4"}},
        {"video": {"url": "https://v3.fal.media/x.mp4", "file_size": -1}},
        {"video": {}},
        {},
    ]:
        assert out_ours.is_valid(case) == out_theirs.is_valid(case), case
