"""Endpoints as data: the registry over the catalogue, realistic timings per category, sync_mode, examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fal_mock.mock_server.catalogue import Catalogue
from fal_mock.mock_server.jobs.endpoints import EndpointId, EndpointRegistry, category_timings
from fal_mock.mock_server.jobs.errors import ModelError

from tests.mock_server.catalogue.builders import simple_document, write_json


@pytest.mark.parametrize(
    ("category", "queue", "inference"),
    [
        ("text-to-image", (0.2, 1.0), (1.5, 5.0)),
        ("image-to-video", (0.5, 3.0), (20.0, 60.0)),
        ("video-to-video", (0.5, 2.0), (15.0, 45.0)),
        ("text-to-speech", (0.1, 0.5), (1.0, 4.0)),
        ("speech-to-text", (0.1, 0.5), (1.0, 5.0)),
        ("image-to-3d", (0.5, 2.0), (10.0, 30.0)),
        ("llm", (0.05, 0.3), (0.5, 3.0)),
        ("something-new", (0.3, 1.5), (2.0, 10.0)),
    ],
)
def test_realistic_timings_follow_the_category_table(
    category: str, queue: tuple[float, float], inference: tuple[float, float]
) -> None:
    assert category_timings(category) == (queue, inference)


def test_a_document_overrides_its_timings(tmp_path: Path) -> None:
    document = simple_document("acme/slow", category="text-to-image")
    document["info"]["x-fal-mock"] = {"realistic_seconds": {"queue": [1, 2], "inference": [30, 40]}}
    registry = EndpointRegistry(Catalogue([write_json(tmp_path / "slow.json", document)]))
    endpoint = registry.get("acme/slow")
    assert endpoint is not None
    assert (endpoint.queue_seconds, endpoint.inference_seconds) == ((1.0, 2.0), (30.0, 40.0))
    lucy = registry.get("fal-ai/decart/lucy-5b/image-to-video")
    assert lucy is not None
    assert (lucy.queue_seconds, lucy.inference_seconds) == ((0.3, 1.2), (3.5, 5.5))  # the mission's, kept


def test_a_user_document_overrides_a_bundled_one(tmp_path: Path) -> None:
    document = simple_document("fal-ai/flux/dev", category="text-to-image")
    registry = EndpointRegistry(Catalogue([write_json(tmp_path / "mine.json", document)]))
    endpoint = registry.get("fal-ai/flux/dev")
    assert endpoint is not None
    assert endpoint.source == str(tmp_path / "mine.json")
    assert endpoint.validate({"prompt": "x"}) == {"prompt": "x"}


def test_validation_gives_fal_entries_once_each() -> None:
    endpoint = EndpointRegistry().get("fal-ai/mmaudio-v2")
    assert endpoint is not None
    with pytest.raises(ModelError) as raised:
        endpoint.validate({})
    detail = raised.value.payload().body["detail"]
    assert sorted((tuple(e["loc"]), e["type"]) for e in detail) == [
        (("body", "prompt"), "missing"),
        (("body", "video_url"), "missing"),
    ]


def test_nullable_fields_fail_like_their_type() -> None:
    endpoint = EndpointRegistry().get("fal-ai/wizper")
    assert endpoint is not None
    with pytest.raises(ModelError) as raised:
        endpoint.validate({"audio_url": "https://x/a.mp3", "language": 5})
    (entry,) = raised.value.payload().body["detail"]
    assert (entry["loc"], entry["type"]) == (["body", "language"], "one_of")


def test_sync_mode_follows_the_schema_default() -> None:
    registry = EndpointRegistry()
    lucy = registry.get("fal-ai/decart/lucy-5b/image-to-video")
    flux = registry.get("fal-ai/flux/dev")
    minimax = registry.get("fal-ai/minimax-video/image-to-video")
    assert lucy is not None
    assert flux is not None
    assert minimax is not None
    assert lucy.returns_data_uri({}) is True  # Lucy's sync_mode defaults to true
    assert flux.returns_data_uri({}) is False
    assert flux.returns_data_uri({"sync_mode": True}) is True
    assert minimax.returns_data_uri({"sync_mode": True}) is False  # no sync_mode in its schema


def test_unknown_ids_are_none_and_faults_match_apps() -> None:
    registry = EndpointRegistry()
    assert registry.get("fal-ai/nope") is None
    assert registry.matches_app("fal-ai/flux")
    assert registry.matches_app("fal-ai/flux/dev")
    assert not registry.matches_app("fal-ai/minimax/image-to-video")
    assert "fal-ai/minimax-video/image-to-video" in registry.suggestions("fal-ai/minimax/image-to-video")
    assert EndpointId.parse("fal-ai/flux/dev").app_id == "fal-ai/flux"


def test_example_inputs_validate_for_every_bundled_endpoint() -> None:
    for endpoint in EndpointRegistry():
        arguments = endpoint.example_input()
        assert endpoint.validate(arguments), endpoint.endpoint_id
        json.dumps(arguments)
