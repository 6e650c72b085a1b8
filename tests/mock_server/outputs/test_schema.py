"""The normalised document: references, wrappers, alternatives and the typed errors."""

from __future__ import annotations

import pytest
from fal_mock.mock_server.outputs import OutputBuildError, OutputSchemaError, SchemaDoc
from fal_mock.mock_server.outputs.schema import render_path

DOC = {
    "type": "object",
    "properties": {"a": {"$ref": "#/$defs/A"}},
    "$defs": {
        "A": {"$ref": "#/$defs/B", "description": "alias"},
        "B": {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]},
        "Nullable": {"anyOf": [{"$ref": "#/$defs/B"}, {"type": "null"}]},
        "Nested": {"anyOf": [{"anyOf": [{"type": "integer"}, {"type": "null"}]}, {"type": "string"}]},
        "Loop1": {"$ref": "#/$defs/Loop2"},
        "Loop2": {"$ref": "#/$defs/Loop1"},
        "a/b": {"type": "boolean"},
    },
}


def test_deref_follows_chains_and_keeps_the_last_name() -> None:
    doc = SchemaDoc(DOC)
    found = doc.deref({"$ref": "#/$defs/A", "minProperties": 1, "examples": [{"url": "x"}]})
    assert found.name == "B"
    assert found.schema["required"] == ["url"]
    assert found.schema["minProperties"] == 1  # wrapper constraints merge onto the target
    assert "examples" not in found.schema  # annotations do not
    assert found.refs == ("#/$defs/A", "#/$defs/B")


def test_single_allof_wrapper_is_transparent() -> None:
    doc = SchemaDoc(DOC)
    found = doc.deref({"allOf": [{"$ref": "#/$defs/B"}], "description": "wrapped", "title": "T"})
    assert found.name == "B"
    assert found.schema["type"] == "object"


def test_allof_with_structure_is_merged() -> None:
    doc = SchemaDoc(DOC)
    found = doc.deref(
        {"allOf": [{"properties": {"x": {"type": "integer"}}, "required": ["x"], "minimum": 1}, {"required": ["y"]}]}
        | {"type": "object"}
    )
    assert set(found.schema["required"]) == {"x", "y"}
    assert "x" in found.schema["properties"]


def test_alternatives_drop_null_and_flatten() -> None:
    doc = SchemaDoc(DOC)
    assert [a.name for a in doc.alternatives({"$ref": "#/$defs/Nullable"})] == ["B"]
    assert [a.schema["type"] for a in doc.alternatives({"$ref": "#/$defs/Nested"})] == ["integer", "string"]
    assert doc.alternatives({"type": "null"}) == []
    assert doc.nullable({"$ref": "#/$defs/Nullable"})
    assert not doc.nullable({"$ref": "#/$defs/B"})


def test_escaped_pointer_and_root_ref() -> None:
    doc = SchemaDoc(DOC)
    assert doc.deref({"$ref": "#/$defs/a~1b"}).schema == {"type": "boolean"}
    assert doc.deref({"$ref": "#"}).schema["properties"] == DOC["properties"]


def test_is_valid_resolves_refs_in_the_document() -> None:
    doc = SchemaDoc(DOC)
    assert doc.is_valid({"url": "u"}, {"$ref": "#/$defs/A"})
    assert not doc.is_valid({}, {"$ref": "#/$defs/A"})
    assert [e.message for e in doc.errors({"a": {}})] == ["'url' is a required property"]


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ({"$ref": "#/$defs/Loop1"}, "circular"),
        ({"$ref": "other.json#/A"}, "only local references"),
        ({"$ref": "#/$defs/Missing"}, "points at nothing"),
        ({"$ref": "#anchor"}, "anchors"),
    ],
)
def test_bad_references_raise_schema_errors(node: dict[str, str], message: str) -> None:
    with pytest.raises(OutputSchemaError, match=message):
        SchemaDoc(DOC).deref(node, ("a",))


def test_invalid_documents_raise() -> None:
    with pytest.raises(OutputSchemaError):
        SchemaDoc([])
    with pytest.raises(OutputSchemaError, match="invalid JSON Schema"):
        SchemaDoc({"type": "objekt"})


def test_error_paths_render_like_json_path() -> None:
    assert render_path(("images", 0, "url")) == "$.images[0].url"
    assert render_path(()) == "$"
    error = OutputBuildError(("chunks", 3), "bad")
    assert str(error) == "$.chunks[3]: bad"
    assert error.path == ("chunks", 3)
    assert issubclass(OutputSchemaError, OutputBuildError)
