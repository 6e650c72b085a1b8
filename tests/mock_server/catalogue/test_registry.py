"""Catalogue: bundled + user documents, indexed at load, normalised lazily once, later ids win."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from fal_mock.mock_server.catalogue import Catalogue, DocumentError, EndpointSpec, Override, registry
from jsonschema import Draft202012Validator

from .builders import simple_document, write_json

DATA = Path(__file__).parent / "data"
DATA_IDS = ["acme/podcast/tts", "acme/scene/to-3d", "acme/sketch-to-image"]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every normalise() call the catalogue makes (by endpoint id)."""
    calls: list[str] = []
    original = registry.normalise

    def counting(document: Any, *, source: str, checker: Any = None) -> EndpointSpec:
        calls.append(document["info"]["x-fal-metadata"]["endpointId"])
        return original(document, source=source, checker=checker)

    monkeypatch.setattr(registry, "normalise", counting)
    return calls


def test_a_directory_of_third_party_documents_loads() -> None:
    catalogue = Catalogue([DATA], include_bundled=False)
    assert catalogue.ids() == DATA_IDS  # notes.txt and the hidden .draft.json are ignored
    summaries = {s.endpoint_id: s for s in catalogue.summaries()}
    assert summaries["acme/scene/to-3d"].category == "image-to-3d"
    assert summaries["acme/podcast/tts"].title == "Queue OpenAPI for acme/podcast/tts"
    assert summaries["acme/sketch-to-image"].source == str(DATA / "acme__sketch-to-image.json")
    for spec in catalogue.normalise_all():
        Draft202012Validator.check_schema(spec.input_schema)
        Draft202012Validator.check_schema(spec.output_schema)


def test_third_party_documents_normalise_as_documented() -> None:
    catalogue = Catalogue([DATA], include_bundled=False)
    sketch = catalogue.get("acme/sketch-to-image")
    assert sketch is not None
    props = sketch.input_schema["properties"]
    assert props["strength"]["exclusiveMinimum"] == 0
    assert "minimum" not in props["strength"]
    assert props["seed"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "examples": [42]}
    assert props["image_size"]["anyOf"] == [{"allOf": [{"$ref": "#/$defs/ImageSize"}]}, {"type": "null"}]
    assert {(f.name, f.media, f.is_list, f.required) for f in sketch.file_inputs} == {
        ("sketch_url", "image", False, True),
        ("control_image_url", "image", False, False),
    }
    validator = Draft202012Validator(sketch.input_schema)
    assert validator.is_valid({"prompt": "p", "sketch_url": "https://e.com/s.png", "image_size": None, "seed": None})
    assert not validator.is_valid({"prompt": "p", "sketch_url": "https://e.com/s.png", "strength": 0})

    podcast = catalogue.get("acme/podcast/tts")
    assert podcast is not None
    assert podcast.input_schema["$defs"]["Segment"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Segment"}
    assert [(f.name, f.media) for f in podcast.file_inputs] == [("voice_sample", "audio")]  # not webhook_url
    validator = Draft202012Validator(podcast.input_schema)
    for example in podcast.input_schema["examples"]:
        assert validator.is_valid(example)
    assert not validator.is_valid({"script": {"text": "a", "children": [{"speaker": "b"}]}})

    scene = catalogue.get("acme/scene/to-3d")
    assert scene is not None
    assert scene.input_schema["properties"]["refine"]["anyOf"][0] == {"$ref": "#"}
    assert {(f.name, f.media, f.is_list) for f in scene.file_inputs} == {
        ("reference_image_urls", "image", True),
        ("base_mesh", "model", False),
    }
    validator = Draft202012Validator(scene.input_schema)
    views = ["https://e.com/a.png"]
    assert validator.is_valid({"reference_image_urls": views, "refine": {"reference_image_urls": views}})
    assert not validator.is_valid({"reference_image_urls": views, "refine": {"texture_size": 1024}})


def test_bundled_and_user_documents_together() -> None:
    catalogue = Catalogue([DATA])
    assert set(DATA_IDS) < set(catalogue.ids())
    assert "fal-ai/flux/dev" in catalogue
    assert len(catalogue) == len(catalogue.ids())
    assert catalogue.get("no/such/endpoint") is None
    assert catalogue.summary("no/such/endpoint") is None


def test_get_normalises_lazily_and_once(counted: list[str]) -> None:
    catalogue = Catalogue([DATA])
    assert counted == []  # loading indexed, nothing normalised
    first = catalogue.get("acme/scene/to-3d")
    again = catalogue.get("acme/scene/to-3d")
    assert first is again
    assert counted == ["acme/scene/to-3d"]


def test_concurrent_first_gets_share_one_normalisation(counted: list[str]) -> None:
    catalogue = Catalogue([DATA], include_bundled=False)
    barrier = threading.Barrier(8)
    results: list[EndpointSpec | None] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        spec = catalogue.get("acme/podcast/tts")
        with lock:
            results.append(spec)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert all(result is results[0] for result in results)
    assert counted == ["acme/podcast/tts"]


def test_load_reads_only_the_index(tmp_path: Path) -> None:
    """A document whose header is fine but whose body is broken loads; get() reports the fault."""
    text = json.dumps(simple_document("acme/broken"), indent=2)
    cut = text.index('"components"')
    broken = tmp_path / "broken.json"
    broken.write_text(text[:cut] + '"components": {"schemas": {  ,,, }}}', encoding="utf-8")
    catalogue = Catalogue([tmp_path], include_bundled=False)
    assert catalogue.ids() == ["acme/broken"]
    assert catalogue.summaries()[0].category == "text-to-image"
    for _ in range(2):  # failures are not cached: each get reports it
        with pytest.raises(DocumentError, match=rf"^{broken}: \$: not valid JSON"):
            catalogue.get("acme/broken")


def test_a_document_that_indexes_but_does_not_normalise_fails_at_get(tmp_path: Path) -> None:
    document = simple_document("acme/dangling")
    document["components"]["schemas"]["ThingOutput"]["properties"]["image"] = {"$ref": "#/components/schemas/Nope"}
    path = write_json(tmp_path / "d.json", document)
    catalogue = Catalogue([path], include_bundled=False)
    with pytest.raises(DocumentError) as caught:
        catalogue.get("acme/dangling")
    assert caught.value.source == str(path)
    assert caught.value.path == '$.components.schemas.ThingOutput.properties.image["$ref"]'
    with pytest.raises(DocumentError):
        catalogue.normalise_all()


def test_later_paths_override_earlier_ones(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    a = simple_document("acme/same", category="first")
    b = simple_document("acme/same", category="second")
    write_json(first / "a.json", a)
    write_json(second / "b.json", b)
    catalogue = Catalogue([first, second], include_bundled=False)
    spec = catalogue.get("acme/same")
    assert spec is not None
    assert spec.category == "second"
    assert catalogue.overrides == (Override("acme/same", str(first / "a.json"), str(second / "b.json")),)
    reverse = Catalogue([second, first], include_bundled=False)
    assert reverse.summaries()[0].category == "first"


def test_within_a_directory_the_later_file_name_wins(tmp_path: Path) -> None:
    write_json(tmp_path / "b.json", simple_document("acme/same", category="from-b"))
    write_json(tmp_path / "a.json", simple_document("acme/same", category="from-a"))
    catalogue = Catalogue([tmp_path], include_bundled=False)
    assert catalogue.summaries()[0].category == "from-b"
    assert catalogue.overrides[0].replaced == str(tmp_path / "a.json")


def test_user_documents_override_bundled_ones(tmp_path: Path) -> None:
    path = write_json(tmp_path / "flux.json", simple_document("fal-ai/flux/dev", category="mine"))
    catalogue = Catalogue([path])
    spec = catalogue.get("fal-ai/flux/dev")
    assert spec is not None
    assert spec.category == "mine"
    assert spec.source == str(path)
    assert catalogue.overrides == (Override("fal-ai/flux/dev", "bundled:fal-ai__flux__dev.json", str(path)),)


def test_a_file_without_endpoint_id_fails_the_load(tmp_path: Path) -> None:
    document = simple_document()
    del document["info"]["x-fal-metadata"]["endpointId"]
    path = write_json(tmp_path / "anonymous.json", document)
    with pytest.raises(DocumentError) as caught:
        Catalogue([tmp_path])
    assert str(caught.value) == f'{path}: $.info["x-fal-metadata"].endpointId: missing'


def test_a_non_json_file_with_a_json_name_fails_the_load(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("openapi: 3.0.4\ninfo: {}\n", encoding="utf-8")
    with pytest.raises(DocumentError, match=rf"^{path}: \$: not valid JSON: Expecting value \(line 1, column 1\)$"):
        Catalogue([tmp_path], include_bundled=False)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b"[1, 2]", "the document must be a JSON object"),
        (b'{"openapi": "3.0.4"}', r"\$\.info: missing"),
        (b'{"openapi": "3.0.4", "info": {"title": "t"}}', r'\$\.info\["x-fal-metadata"\]: missing'),
    ],
)
def test_other_unindexable_files_fail_the_load(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "x.json").write_bytes(content)
    with pytest.raises(DocumentError, match=message):
        Catalogue([tmp_path], include_bundled=False)


def test_directory_rules_and_explicit_files(tmp_path: Path) -> None:
    write_json(tmp_path / "doc.json", simple_document("acme/in-dir"))
    (tmp_path / "README.md").write_text("not a document", encoding="utf-8")
    (tmp_path / ".hidden.json").write_text("{ broken", encoding="utf-8")
    write_json(tmp_path / "nested" / "deeper.json", simple_document("acme/nested"))
    explicit = write_json(tmp_path / "elsewhere" / "doc.openapi", simple_document("acme/explicit"))
    catalogue = Catalogue([tmp_path, explicit], include_bundled=False)
    assert catalogue.ids() == ["acme/explicit", "acme/in-dir"]


def test_a_missing_path_fails_the_load(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(DocumentError, match=rf"^{missing}: \$: no such file or directory$"):
        Catalogue([missing])


def test_an_oversized_document_fails_the_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "MAX_DOCUMENT_BYTES", 100)
    write_json(tmp_path / "big.json", simple_document())
    with pytest.raises(DocumentError, match="larger than 100 bytes"):
        Catalogue([tmp_path], include_bundled=False)


def test_an_info_property_inside_components_does_not_fool_the_index(tmp_path: Path) -> None:
    document = simple_document("acme/real")
    decoy = {"type": "object", "x-fal-metadata": {"endpointId": "acme/decoy"}}
    document["components"]["schemas"]["ThingInput"]["properties"]["info"] = decoy
    reordered = {"openapi": document["openapi"], "components": document["components"], **document}
    path = tmp_path / "reordered.json"
    path.write_text(json.dumps(reordered), encoding="utf-8")
    catalogue = Catalogue([path], include_bundled=False)
    assert catalogue.ids() == ["acme/real"]
    spec = catalogue.get("acme/real")
    assert spec is not None
    assert spec.endpoint_id == "acme/real"


def test_a_document_changed_after_load_to_another_id_fails_at_get(tmp_path: Path) -> None:
    path = write_json(tmp_path / "d.json", simple_document("acme/before"))
    catalogue = Catalogue([path], include_bundled=False)
    write_json(path, simple_document("acme/after"))
    with pytest.raises(DocumentError, match="declares 'acme/after', but the file was indexed as 'acme/before'"):
        catalogue.get("acme/before")


def test_a_document_deleted_after_load_fails_at_get(tmp_path: Path) -> None:
    path = write_json(tmp_path / "d.json", simple_document("acme/gone"))
    catalogue = Catalogue([path], include_bundled=False)
    path.unlink()
    with pytest.raises(DocumentError, match=rf"^{path}: \$: cannot be read"):
        catalogue.get("acme/gone")
