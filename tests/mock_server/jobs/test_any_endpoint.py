"""Every bundled endpoint, driven by the unmodified ``fal_client`` in-process: its example input completes, the
output validates against the endpoint's own Output schema, and every file decodes as what it claims to be."""

from __future__ import annotations

import base64
import io
import json
import wave
from collections.abc import Iterator
from typing import Any

import av
import fal_client
import pytest
from fal_mock.fixtures import FalMock
from fal_mock.mock_server.catalogue import Catalogue
from fal_mock.mock_server.jobs.endpoints import EndpointRegistry
from PIL import Image

REGISTRY = EndpointRegistry(Catalogue())
BUNDLED = REGISTRY.ids()


def file_objects(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if isinstance(node.get("url"), str) and ("content_type" in node or "file_size" in node):
            yield path, node
        for key, value in node.items():
            yield from file_objects(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from file_objects(value, f"{path}[{index}]")


def fetch(fal_mock: FalMock, url: str) -> bytes:
    if url.startswith("data:"):
        return base64.b64decode(url.split(",", 1)[1])
    return fal_mock.file_bytes(url)


def check_decodes(data: bytes, meta: dict[str, Any]) -> None:
    """The bytes are what ``content_type`` says, and the facts in the file object are theirs."""
    content_type = meta.get("content_type", "")
    if "file_size" in meta:
        assert meta["file_size"] == len(data)
    if content_type.startswith("image/"):
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            assert Image.MIME[image.format] == content_type
            if "width" in meta:
                assert (meta["width"], meta["height"]) == image.size
    elif content_type.startswith("video/"):
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            frames = sum(1 for _ in container.decode(stream))
            assert frames > 0
            if "width" in meta:
                assert (meta["width"], meta["height"]) == (stream.codec_context.width, stream.codec_context.height)
            if "num_frames" in meta:
                assert meta["num_frames"] == frames
    elif content_type in ("audio/wav", "audio/x-wav"):
        with wave.open(io.BytesIO(data)) as audio:
            seconds = audio.getnframes() / audio.getframerate()
            assert seconds > 0
            if "duration" in meta:
                assert meta["duration"] == pytest.approx(seconds, abs=0.05)
    elif content_type == "audio/mpeg":
        with av.open(io.BytesIO(data)) as container:
            assert sum(frame.samples for frame in container.decode(audio=0)) > 0
    elif content_type == "model/gltf-binary":
        pygltflib = pytest.importorskip("pygltflib")
        gltf = pygltflib.GLTF2.load_from_bytes(data)
        assert gltf.meshes
        assert gltf.accessors
    else:
        raise AssertionError(f"unexpected content type {content_type!r}")


@pytest.mark.parametrize("endpoint_id", BUNDLED)
def test_example_input_completes_with_a_valid_output_and_real_files(fal_mock: FalMock, endpoint_id: str) -> None:
    endpoint = REGISTRY.get(endpoint_id)
    assert endpoint is not None
    arguments = endpoint.example_input()
    output = fal_client.subscribe(endpoint_id, arguments)
    assert endpoint.output_problems(output) == []
    files = list(file_objects(output))
    if endpoint.category not in ("llm", "vision", "speech-to-text"):
        assert files, f"{endpoint_id} returned no file: {json.dumps(output)[:300]}"
    for _, meta in files:
        assert meta["url"].startswith(("https://v3.fal.media/files/", "data:"))
        check_decodes(fetch(fal_mock, meta["url"]), meta)
    # Deterministic: the same input gives the same output (ids and URLs aside, the bytes).
    again = fal_client.subscribe(endpoint_id, arguments)
    assert [fetch(fal_mock, m["url"]) for _, m in file_objects(again)] == [fetch(fal_mock, m["url"]) for _, m in files]
