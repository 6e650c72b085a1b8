"""normalise(): fal's 3.0 documents → standalone JSON Schema 2020-12, and its errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fal_mock.mock_server.catalogue import DocumentError, FileInput, normalise
from fal_mock.mock_server.catalogue.normalise import (
    JSON_SCHEMA_DIALECT,
    MAX_DEPTH,
    SchemaChecker,
    find_file_inputs,
    json_path,
)
from jsonschema import Draft202012Validator

from .builders import fal_document, simple_document

SOURCE = "docs/x.json"


def _input(properties: dict[str, Any], components: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    document = fal_document(
        "acme/x",
        {"type": "object", "properties": properties, **extra},
        {"type": "object", "properties": {"ok": {"type": "boolean"}}},
        components=components,
    )
    return dict(normalise(document, source=SOURCE).input_schema)


def _valid(schema: dict[str, Any], instance: object) -> bool:
    return Draft202012Validator(schema).is_valid(instance)


def test_standalone_schema_layout() -> None:
    spec = normalise(simple_document(), source=SOURCE)
    assert spec.input_schema == {
        "$schema": JSON_SCHEMA_DIALECT,
        "type": "object",
        "properties": {"prompt": {"type": "string"}},
        "required": ["prompt"],
        "$defs": {},
    }
    assert list(spec.output_schema) == ["$schema", "type", "properties", "required", "$defs"]
    assert spec.output_schema["properties"]["image"] == {"$ref": "#/$defs/File"}
    assert spec.output_schema["$defs"]["File"]["required"] == ["url"]
    assert (spec.input_name, spec.output_name) == ("ThingInput", "ThingOutput")
    assert (spec.endpoint_id, spec.category, spec.source) == ("acme/thing", "text-to-image", SOURCE)
    assert spec.title == "Queue OpenAPI for acme/thing"
    assert spec.metadata["playgroundUrl"] == "https://fal.ai/models/acme/thing"
    for schema in (spec.input_schema, spec.output_schema):
        Draft202012Validator.check_schema(schema)


def test_refs_are_rewritten_and_components_collected_transitively_under_their_names() -> None:
    components = {
        "Outer": {"type": "object", "properties": {"inner": {"$ref": "#/components/schemas/Inner"}}},
        "Inner": {"type": "object", "properties": {"n": {"$ref": "#/components/schemas/Count"}}},
        "Count": {"type": "integer", "minimum": 0},
        "Unused": {"type": "string"},
    }
    schema = _input({"outer": {"$ref": "#/components/schemas/Outer"}}, components)
    assert list(schema["$defs"]) == ["Outer", "Inner", "Count"]
    assert schema["properties"]["outer"] == {"$ref": "#/$defs/Outer"}
    assert schema["$defs"]["Inner"]["properties"]["n"] == {"$ref": "#/$defs/Count"}
    assert _valid(schema, {"outer": {"inner": {"n": 3}}})
    assert not _valid(schema, {"outer": {"inner": {"n": -1}}})


def test_pointer_into_a_component_is_kept_after_the_name() -> None:
    components = {"Shared": {"type": "object", "properties": {"size": {"type": "integer", "maximum": 9}}}}
    schema = _input({"size": {"$ref": "#/components/schemas/Shared/properties/size"}}, components)
    assert schema["properties"]["size"] == {"$ref": "#/$defs/Shared/properties/size"}
    assert _valid(schema, {"size": 9})
    assert not _valid(schema, {"size": 10})


def test_recursion_stays_a_reference() -> None:
    components = {
        "Node": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                "owner": {"$ref": "#/components/schemas/ThingInput"},
            },
        }
    }
    schema = _input({"tree": {"$ref": "#/components/schemas/Node"}, "label": {"type": "string"}}, components)
    node = schema["$defs"]["Node"]
    assert node["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert node["properties"]["owner"] == {"$ref": "#"}  # the root component is the schema itself
    assert "ThingInput" not in schema["$defs"]
    deep = {"tree": {"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}}
    assert _valid(schema, deep)
    broken = copy.deepcopy(deep)
    broken["tree"]["children"][0]["children"][0]["name"] = 7
    assert not _valid(schema, broken)
    assert _valid(schema, {"tree": {"name": "a", "owner": {"label": "nested root"}}})
    assert not _valid(schema, {"tree": {"name": "a", "owner": {"label": 1}}})


def test_mutual_recursion_converts_each_component_once() -> None:
    components = {
        "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
        "B": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}, "v": {"type": "integer"}}},
    }
    schema = _input({"a": {"$ref": "#/components/schemas/A"}}, components)
    assert list(schema["$defs"]) == ["A", "B"]
    assert schema["$defs"]["B"]["properties"]["a"] == {"$ref": "#/$defs/A"}
    assert _valid(schema, {"a": {"b": {"a": {"b": {"v": 1}}}}})
    assert not _valid(schema, {"a": {"b": {"a": {"b": {"v": "1"}}}}})


def test_nullable_becomes_anyof_null_with_annotations_outside() -> None:
    schema = _input(
        {
            "seed": {
                "type": "integer",
                "minimum": 0,
                "nullable": True,
                "title": "Seed",
                "description": "Random seed.",
                "default": None,
                "x-fal-hint": "advanced",
            }
        }
    )
    assert schema["properties"]["seed"] == {
        "title": "Seed",
        "description": "Random seed.",
        "default": None,
        "x-fal-hint": "advanced",
        "anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}],
    }
    assert _valid(schema, {"seed": None})
    assert _valid(schema, {"seed": 3})
    assert not _valid(schema, {"seed": -1})
    assert not _valid(schema, {"seed": "3"})


def test_nullable_ref_and_nullable_false() -> None:
    components = {"Size": {"type": "object", "properties": {"w": {"type": "integer"}}, "required": ["w"]}}
    schema = _input(
        {
            "size": {"allOf": [{"$ref": "#/components/schemas/Size"}], "nullable": True, "description": "d"},
            "name": {"type": "string", "nullable": False},
        },
        components,
    )
    assert schema["properties"]["size"] == {
        "description": "d",
        "anyOf": [{"allOf": [{"$ref": "#/$defs/Size"}]}, {"type": "null"}],
    }
    assert schema["properties"]["name"] == {"type": "string"}
    assert _valid(schema, {"size": None, "name": "x"})
    assert not _valid(schema, {"size": {}})
    assert not _valid(schema, {"name": None})


def test_anyof_null_is_kept_as_written() -> None:
    prop = {"anyOf": [{"enum": ["auto", "1:1"], "type": "string"}, {"type": "null"}], "default": "auto"}
    schema = _input({"aspect_ratio": prop})
    assert schema["properties"]["aspect_ratio"] == prop
    assert _valid(schema, {"aspect_ratio": None})
    assert not _valid(schema, {"aspect_ratio": "2:1"})


def test_example_becomes_examples() -> None:
    schema = _input(
        {
            "a": {"type": "string", "example": "cat"},
            "b": {"type": "string", "example": "dog", "examples": ["bird"]},
            "c": {"type": "string", "example": "same", "examples": ["same"]},
            "d": {"type": "string", "examples": {"first": {"summary": "s", "value": "v1"}, "second": {"value": "v2"}}},
        }
    )
    props = schema["properties"]
    assert props["a"] == {"type": "string", "examples": ["cat"]}
    assert props["b"]["examples"] == ["bird", "dog"]
    assert props["c"]["examples"] == ["same"]
    assert props["d"]["examples"] == ["v1", "v2"]


def test_boolean_exclusive_bounds_become_numeric() -> None:
    schema = _input(
        {
            "strength": {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 1},
            "scale": {
                "type": "number",
                "maximum": 4,
                "exclusiveMaximum": True,
                "minimum": 1,
                "exclusiveMinimum": False,
            },
            "width": {"type": "integer", "exclusiveMinimum": 0, "maximum": 14142},
        }
    )
    props = schema["properties"]
    assert props["strength"] == {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
    assert props["scale"] == {"type": "number", "exclusiveMaximum": 4, "minimum": 1}
    assert props["width"] == {"type": "integer", "exclusiveMinimum": 0, "maximum": 14142}
    assert not _valid(schema, {"strength": 0})
    assert _valid(schema, {"strength": 0.01, "scale": 1, "width": 1})
    assert not _valid(schema, {"scale": 4})
    assert not _valid(schema, {"width": 0})


def test_instance_data_and_keyword_named_properties_are_not_rewritten() -> None:
    components = {"T": {"type": "string"}}
    schema = _input(
        {
            "$ref": {"type": "string", "description": "a property named $ref"},
            "nullable": {"type": "boolean"},
            "example": {"$ref": "#/components/schemas/T"},
            "config": {
                "type": "object",
                "default": {"$ref": "#/components/schemas/T", "nullable": True, "example": 1},
                "enum": [{"nullable": True}, {"$ref": "x"}],
            },
        },
        components,
    )
    props = schema["properties"]
    assert props["$ref"] == {"type": "string", "description": "a property named $ref"}
    assert props["nullable"] == {"type": "boolean"}
    assert props["example"] == {"$ref": "#/$defs/T"}
    assert props["config"]["default"] == {"$ref": "#/components/schemas/T", "nullable": True, "example": 1}
    assert props["config"]["enum"] == [{"nullable": True}, {"$ref": "x"}]


def test_extensions_titles_and_order_are_kept() -> None:
    schema = _input(
        {"b": {"type": "string", "_fal_ui_field": "image"}, "a": {"type": "integer", "format": "int32"}},
        None,
        title="MyInput",
        description="Input of my model.",
        required=["b"],
        **{"x-fal-order-properties": ["b", "a"]},
    )
    assert schema["title"] == "MyInput"
    assert schema["description"] == "Input of my model."
    assert schema["x-fal-order-properties"] == ["b", "a"]
    assert schema["properties"]["b"]["_fal_ui_field"] == "image"
    assert list(schema) == [
        "$schema",
        "type",
        "properties",
        "title",
        "description",
        "required",
        "x-fal-order-properties",
        "$defs",
    ]


def test_tuple_items_become_prefix_items() -> None:
    schema = _input(
        {"span": {"type": "array", "items": [{"type": "number"}, {"type": "number"}], "additionalItems": False}}
    )
    assert schema["properties"]["span"] == {
        "type": "array",
        "prefixItems": [{"type": "number"}, {"type": "number"}],
        "items": False,
    }
    assert _valid(schema, {"span": [0.0, 1.5]})
    assert not _valid(schema, {"span": [0.0, 1.5, 3.0]})


def test_the_original_document_is_kept_unchanged() -> None:
    document = simple_document()
    document["components"]["schemas"]["ThingInput"]["properties"]["n"] = {"type": "integer", "nullable": True}
    before = copy.deepcopy(document)
    spec = normalise(document, source=SOURCE)
    assert document == before
    assert spec.document is document


def test_paths_listed_under_another_prefix_are_found() -> None:
    document = simple_document("acme/thing")
    document["paths"] = {
        key.replace("/acme/thing", "/acme/thing-app"): value for key, value in document["paths"].items()
    }
    spec = normalise(document, source=SOURCE)
    assert (spec.input_name, spec.output_name) == ("ThingInput", "ThingOutput")


# -------------------------------------------------------------------------------------------------- errors


def _broken(change: str) -> dict[str, Any]:
    document = simple_document("acme/x")
    schemas = document["components"]["schemas"]
    if change == "openapi":
        del document["openapi"]
    elif change == "swagger2":
        document["openapi"] = "2.0"
    elif change == "info":
        del document["info"]
    elif change == "metadata":
        del document["info"]["x-fal-metadata"]
    elif change == "metadata-type":
        document["info"]["x-fal-metadata"] = ["acme/x"]
    elif change == "endpoint-id":
        del document["info"]["x-fal-metadata"]["endpointId"]
    elif change == "endpoint-id-traversal":
        document["info"]["x-fal-metadata"]["endpointId"] = "acme/../../etc"
    elif change == "category":
        document["info"]["x-fal-metadata"]["category"] = 7
    elif change == "components":
        del document["components"]
    elif change == "no-post":
        del document["paths"]["/acme/x"]
    elif change == "post-missing":
        document["paths"]["/acme/x"] = {"get": {}}
    elif change == "inline-input":
        document["paths"]["/acme/x"]["post"]["requestBody"]["content"]["application/json"]["schema"] = {
            "type": "object"
        }
    elif change == "multipart-input":
        body = document["paths"]["/acme/x"]["post"]["requestBody"]
        body["content"] = {"multipart/form-data": body["content"]["application/json"]}
    elif change == "input-dangling":
        schemas.pop("ThingInput")
    elif change == "no-result":
        del document["paths"]["/acme/x/requests/{request_id}"]
    elif change == "result-no-schema":
        document["paths"]["/acme/x/requests/{request_id}"]["get"]["responses"]["200"] = {"description": "ok"}
    elif change == "dangling":
        schemas["ThingOutput"]["properties"]["image"] = {"$ref": "#/components/schemas/Missing"}
    elif change == "dangling-pointer":
        schemas["ThingOutput"]["properties"]["image"] = {"$ref": "#/components/schemas/File/properties/nope"}
    elif change == "external":
        schemas["ThingOutput"]["properties"]["image"] = {"$ref": "https://example.com/file.json"}
    elif change == "foreign-pointer":
        schemas["ThingOutput"]["properties"]["image"] = {"$ref": "#/paths/x"}
    elif change == "not-a-schema":
        schemas["ThingInput"]["properties"]["prompt"] = "string"
    elif change == "component-not-a-schema":
        schemas["File"] = ["url"]
    elif change == "id-in-component":
        schemas["File"]["$id"] = "https://example.com/file"
    elif change == "nullable-type":
        schemas["ThingInput"]["properties"]["prompt"]["nullable"] = "yes"
    elif change == "exclusive-without-bound":
        schemas["ThingInput"]["properties"]["prompt"] = {"type": "number", "exclusiveMinimum": True}
    elif change == "check-schema":
        schemas["ThingInput"]["properties"]["prompt"] = {"type": "strin"}
    elif change == "properties-type":
        schemas["ThingInput"]["properties"] = ["prompt"]
    else:  # pragma: no cover - table typo
        raise AssertionError(change)
    return document


ERRORS = [
    ("openapi", "$.openapi", "OpenAPI 3.0.x or 3.1.x"),
    ("swagger2", "$.openapi", "not '2.0'"),
    ("info", "$.info", "missing"),
    ("metadata", '$.info["x-fal-metadata"]', "missing"),
    ("metadata-type", '$.info["x-fal-metadata"]', "must be an object"),
    ("endpoint-id", '$.info["x-fal-metadata"].endpointId', "missing"),
    ("endpoint-id-traversal", '$.info["x-fal-metadata"].endpointId', "segments"),
    ("category", '$.info["x-fal-metadata"].category', "non-empty string"),
    ("components", "$.components", "must be an object"),
    ("no-post", "$.paths", "no POST operation for '/acme/x'"),
    ("post-missing", '$.paths["/acme/x"]', "no POST operation"),
    ("inline-input", '$.paths["/acme/x"].post.requestBody', "no schema $ref for the input"),
    ("multipart-input", '$.paths["/acme/x"].post.requestBody', "no application/json request body"),
    ("input-dangling", '$.paths["/acme/x"].post.requestBody.content["application/json"].schema["$ref"]', "dangling"),
    ("no-result", "$.paths", "no output schema"),
    (
        "result-no-schema",
        '$.paths["/acme/x/requests/{request_id}"].get.responses["200"]',
        "no schema $ref for the output",
    ),
    ("dangling", '$.components.schemas.ThingOutput.properties.image["$ref"]', "dangling $ref"),
    ("dangling-pointer", '$.components.schemas.ThingOutput.properties.image["$ref"]', "has no '/properties/nope'"),
    ("external", '$.components.schemas.ThingOutput.properties.image["$ref"]', "external $ref"),
    ("foreign-pointer", '$.components.schemas.ThingOutput.properties.image["$ref"]', "does not point into"),
    ("not-a-schema", "$.components.schemas.ThingInput.properties.prompt", "object or a boolean, not a string"),
    ("component-not-a-schema", "$.components.schemas.File", "not an array"),
    ("id-in-component", '$.components.schemas.File["$id"]', "not supported"),
    ("nullable-type", "$.components.schemas.ThingInput.properties.prompt.nullable", "must be a boolean"),
    (
        "exclusive-without-bound",
        "$.components.schemas.ThingInput.properties.prompt.exclusiveMinimum",
        "numeric minimum",
    ),
    (
        "check-schema",
        "$.components.schemas.ThingInput",
        "not a valid JSON Schema once normalised (at $.properties.prompt",
    ),
    ("properties-type", "$.components.schemas.ThingInput.properties", "object of schemas"),
]


@pytest.mark.parametrize(("change", "path", "words"), ERRORS, ids=[e[0] for e in ERRORS])
def test_malformed_documents_name_the_source_and_the_json_path(change: str, path: str, words: str) -> None:
    with pytest.raises(DocumentError) as caught:
        normalise(_broken(change), source=SOURCE)
    error = caught.value
    assert error.source == SOURCE
    assert error.path == path
    assert words in error.reason
    assert str(error) == f"{SOURCE}: {path}: {error.reason}"


def test_not_an_object() -> None:
    with pytest.raises(DocumentError, match=r"^docs/x\.json: \$: the document must be a JSON object, not an array$"):
        normalise([], source=SOURCE)


def test_nesting_deeper_than_the_limit_fails_cleanly() -> None:
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(MAX_DEPTH + 5):
        deep = {"type": "array", "items": deep}
    with pytest.raises(DocumentError, match=f"nested deeper than {MAX_DEPTH} levels"):
        _input({"deep": deep})


def test_json_path_formatting() -> None:
    assert json_path(["paths", "/fal-ai/x", "post", "requestBody"]) == '$.paths["/fal-ai/x"].post.requestBody'
    assert json_path(["info", "x-fal-metadata", "endpointId"]) == '$.info["x-fal-metadata"].endpointId'
    assert json_path(["allOf", 0, "$ref"]) == '$.allOf[0]["$ref"]'


# -------------------------------------------------------------------------------------------------- file inputs


def test_file_inputs_by_name_marker_and_description() -> None:
    components = {"ImageSize": {"type": "object", "properties": {"width": {"type": "integer"}}}}
    schema = _input(
        {
            "image_url": {"type": "string", "description": "URL of the image to use as the first frame"},
            "image_urls": {"type": "array", "items": {"type": "string"}},
            "tail_image_url": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "audio_url": {"type": "string"},
            "video_url": {"type": "string", "description": "The URL of the video to generate the audio for."},
            "mask_url": {"type": "string", "nullable": True},
            "object_url": {"type": "string"},
            "lora_url": {"type": "string", "description": "Safetensors weights."},
            "webhook_url": {"type": "string", "description": "URL to call with the image when done."},
            "source": {"type": "string", "_fal_ui_field": "video"},
            "views": {"type": "array", "items": {"type": "string", "_fal_ui_field": "image"}},
            "reference": {"type": "string", "description": "URL of a short reference audio clip."},
            "prompt": {"type": "string", "description": "Describe the image; a URL in here is just text."},
            "image_size": {"$ref": "#/components/schemas/ImageSize"},
            "num_images": {"type": "integer"},
            "image_count_url": {"type": "integer"},
        },
        components,
        required=["image_url", "views"],
    )
    found = {f.name: f for f in find_file_inputs(schema)}
    assert found == {
        "image_url": FileInput("image_url", "image", is_list=False, required=True),
        "image_urls": FileInput("image_urls", "image", is_list=True, required=False),
        "tail_image_url": FileInput("tail_image_url", "image", is_list=False, required=False),
        "audio_url": FileInput("audio_url", "audio", is_list=False, required=False),
        "video_url": FileInput("video_url", "video", is_list=False, required=False),
        "mask_url": FileInput("mask_url", "image", is_list=False, required=False),
        "object_url": FileInput("object_url", "model", is_list=False, required=False),
        "lora_url": FileInput("lora_url", "any", is_list=False, required=False),
        "source": FileInput("source", "video", is_list=False, required=False),
        "views": FileInput("views", "image", is_list=True, required=True),
        "reference": FileInput("reference", "audio", is_list=False, required=False),
    }


def test_file_inputs_follow_refs_to_the_root_properties() -> None:
    document = fal_document(
        "acme/alias",
        {"$ref": "#/components/schemas/Real"},
        {"type": "object"},
        components={"Real": {"type": "object", "properties": {"audio_url": {"type": "string"}}}},
    )
    spec = normalise(document, source=SOURCE)
    assert spec.input_schema["$ref"] == "#/$defs/Real"
    assert spec.file_inputs == (FileInput("audio_url", "audio", is_list=False, required=False),)


# -------------------------------------------------------------------------------------------------- schema checks


def test_an_invalid_shared_component_is_reported_by_its_name() -> None:
    document = simple_document("acme/x")
    document["components"]["schemas"]["File"]["properties"]["url"] = {"type": "string", "minLength": -1}
    with pytest.raises(DocumentError) as caught:
        normalise(document, source=SOURCE)
    assert caught.value.path == "$.components.schemas.File"
    assert "(at $.properties.url.minLength)" in caught.value.reason


def test_a_shared_checker_checks_each_definition_once(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[Any] = []
    original = SchemaChecker._check_one

    def counting(schema: Any, component: str, source: str) -> None:
        checked.append(component)
        original(schema, component, source)

    monkeypatch.setattr(SchemaChecker, "_check_one", staticmethod(counting))
    checker = SchemaChecker()
    normalise(simple_document("acme/one"), source=SOURCE, checker=checker)
    normalise(simple_document("acme/two"), source=SOURCE, checker=checker)
    assert checked == ["ThingInput", "ThingOutput", "File", "ThingInput", "ThingOutput"]
    checked.clear()
    normalise(simple_document("acme/three"), source=SOURCE)  # no checker: nothing remembered
    normalise(simple_document("acme/four"), source=SOURCE)
    assert checked.count("File") == 2
    checked.clear()
    small = SchemaChecker(max_entries=0)
    for _ in range(2):
        normalise(simple_document("acme/five"), source=SOURCE, checker=small)
    assert checked.count("File") == 2


def test_specs_are_frozen_and_hashable() -> None:
    spec = normalise(simple_document(), source=SOURCE)
    with pytest.raises(AttributeError):
        spec.category = "other"  # type: ignore[misc]
    assert {spec: 1}[spec] == 1
    assert spec != normalise(simple_document(), source=SOURCE)  # identity: a catalogue hands out one object per id
