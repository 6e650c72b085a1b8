"""Every bundled endpoint, driven by the unmodified ``fal_client`` in-process: its example input completes, the
output validates against the endpoint's own Output schema, and every file decodes as what it claims to be."""

from __future__ import annotations

import base64
import io
import json
import threading
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


# --- what a user of a given endpoint checks -------------------------------------------------------------------
def test_image_output_honours_size_format_count_and_seed(fal_mock: FalMock) -> None:
    output = fal_client.subscribe("fal-ai/flux/dev", {"prompt": "a red fox in snow", "image_size": {"width": 640,
                                  "height": 352}, "num_images": 2, "output_format": "jpeg", "seed": 42})  # fmt: skip
    assert output["seed"] == 42
    assert len(output["images"]) == 2
    for image in output["images"]:
        data = fal_mock.file_bytes(image["url"])
        with Image.open(io.BytesIO(data)) as decoded:
            assert (decoded.format, decoded.size) == ("JPEG", (640, 352))
        assert (image["width"], image["height"], image["content_type"]) == (640, 352, "image/jpeg")
    assert len({fal_mock.file_bytes(image["url"]) for image in output["images"]}) == 2  # two different images


def test_sync_mode_returns_data_uris(fal_mock: FalMock) -> None:
    output = fal_client.subscribe("fal-ai/flux/dev", {"prompt": "a lighthouse", "sync_mode": True,
                                                      "image_size": "square"})  # fmt: skip
    url = output["images"][0]["url"]
    assert url.startswith("data:image/")
    check_decodes(fetch(fal_mock, url), output["images"][0])


def test_an_edit_derives_from_the_input_image(fal_mock: FalMock) -> None:
    source = Image.new("RGB", (320, 240), (250, 250, 250))
    buffer = io.BytesIO()
    source.save(buffer, format="PNG")
    url = fal_client.upload(buffer.getvalue(), "image/png", file_name="white.png")
    output = fal_client.subscribe("fal-ai/nano-banana/edit", {"prompt": "make it night", "image_urls": [url]})
    with Image.open(io.BytesIO(fal_mock.file_bytes(output["images"][0]["url"]))) as edited:
        assert edited.size == (320, 240)  # the input's size, as an edit keeps it


def test_video_honours_duration_and_aspect_ratio(fal_mock: FalMock) -> None:
    output = fal_client.subscribe("fal-ai/kling-video/v2.5-turbo/pro/text-to-video",
                                  {"prompt": "waves", "duration": "10", "aspect_ratio": "9:16"})  # fmt: skip
    data = fal_mock.file_bytes(output["video"]["url"])
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.height > stream.codec_context.width  # portrait
        assert float(container.duration / av.time_base) == pytest.approx(10, abs=0.1)


def test_speech_to_text_measures_the_input_audio(fal_mock: FalMock) -> None:
    from fal_mock.mock_server.media import synth_wav

    url = fal_client.upload(synth_wav(12.0, seed=b"talk").data, "audio/wav", file_name="talk.wav")
    output = fal_client.subscribe("fal-ai/wizper", {"audio_url": url})
    assert output["text"].strip()
    ends = [chunk["timestamp"][1] for chunk in output["chunks"]]
    assert max(ends) == pytest.approx(12.0, abs=0.5)


def test_text_to_speech_length_follows_the_text(fal_mock: FalMock) -> None:
    short = fal_client.subscribe("fal-ai/minimax/speech-02-hd", {"text": "Hello there."})
    long = fal_client.subscribe("fal-ai/minimax/speech-02-hd", {"text": " ".join(["word"] * 50)})
    short_s = len(fal_mock.file_bytes(short["audio"]["url"]))
    long_s = len(fal_mock.file_bytes(long["audio"]["url"]))
    assert long_s > 3 * short_s


@pytest.mark.parametrize(
    ("endpoint_id", "field", "wrong", "error_type"),
    [
        ("fal-ai/wizper", "audio_url", "image", "file_type_error"),
        ("fal-ai/trellis", "image_url", "audio", "image_load_error"),
    ],
)
def test_a_file_of_the_wrong_kind_is_a_422_on_its_field(
    fal_mock: FalMock, endpoint_id: str, field: str, wrong: str, error_type: str
) -> None:
    from fal_client.client import FalClientHTTPError
    from fal_mock.mock_server.media import synth_wav

    from tests.support import data_uri, png_bytes

    payload = data_uri(png_bytes()) if wrong == "image" else "data:audio/wav;base64," + base64.b64encode(
        synth_wav(1.0, seed=b"x").data).decode()  # fmt: skip
    with pytest.raises(FalClientHTTPError) as raised:
        fal_client.subscribe(endpoint_id, {field: payload})
    assert raised.value.status_code == 422
    detail = raised.value.response.json()["detail"]
    assert [(entry["loc"], entry["type"]) for entry in detail] == [(["body", field], error_type)]


DATA = "tests/mock_server/catalogue/data"


@pytest.mark.fal_mock(openapi=[DATA])
@pytest.mark.parametrize("endpoint_id", ["acme/podcast/tts", "acme/scene/to-3d", "acme/sketch-to-image"])
def test_third_party_documents_through_the_marker(fal_mock: FalMock, endpoint_id: str) -> None:
    endpoint = fal_mock.services.registry.get(endpoint_id)
    assert endpoint is not None
    assert endpoint.source.startswith(DATA)
    output = fal_client.subscribe(endpoint_id, endpoint.example_input())
    assert endpoint.output_problems(output) == []
    files = list(file_objects(output))
    assert files
    for _, meta in files:
        check_decodes(fetch(fal_mock, meta["url"]), meta)


def test_edits_keep_the_input_size_exactly_and_upscalers_scale_it(fal_mock: FalMock) -> None:
    source = Image.new("RGB", (200, 150), (10, 200, 30))
    buffer = io.BytesIO()
    source.save(buffer, format="PNG")
    url = fal_client.upload(buffer.getvalue(), "image/png", file_name="odd.png")
    mask = fal_client.subscribe("fal-ai/birefnet/v2", {"image_url": url})
    with Image.open(io.BytesIO(fal_mock.file_bytes(mask["image"]["url"]))) as out:
        assert out.size == (200, 150)  # a background removal matches its input pixel for pixel


def test_lax_numbers_like_fal(fal_mock: FalMock) -> None:
    output = fal_client.subscribe("fal-ai/flux/dev", {"prompt": "a fox", "seed": "123", "num_images": 1.0,
                                                      "image_size": "square"})  # fmt: skip
    assert output["seed"] == 123
    assert len(output["images"]) == 1


def test_a_repeated_input_gets_its_own_files_with_the_same_bytes(fal_mock: FalMock) -> None:
    arguments = {"prompt": "a red fox in snow", "image_size": "square", "seed": 7}
    first = fal_client.subscribe("fal-ai/flux/dev", arguments)
    second = fal_client.subscribe("fal-ai/flux/dev", arguments)  # answered from the output cache
    assert first["images"][0]["url"] != second["images"][0]["url"]  # each job its own file, as fal's CDN does
    assert fal_mock.file_bytes(first["images"][0]["url"]) == fal_mock.file_bytes(second["images"][0]["url"])
    assert {key: value for key, value in first.items() if key != "images"} == {
        key: value for key, value in second.items() if key != "images"}  # fmt: skip
    assert len(fal_mock.files) == 2


def test_editing_an_output_in_a_test_never_changes_a_later_job(fal_mock: FalMock) -> None:
    arguments = {"prompt": "say hello", "model": "google/gemini-2.5-flash"}
    first = fal_client.subscribe("openrouter/router", arguments)
    view = fal_mock.jobs[-1].output
    assert isinstance(view, dict)
    view["output"] = "edited by a test"  # what a test may do to the output it was handed
    view.clear()
    second = fal_client.subscribe("openrouter/router", arguments)  # the same input: from the output cache
    assert second == first
    assert second["output"] != "edited by a test"


def test_a_cached_output_whose_bytes_are_gone_is_stored_again_on_a_runner_thread(
    fal_mock: FalMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    arguments = {"prompt": "a red fox", "image_size": "square", "seed": 3}
    first = fal_client.subscribe("fal-ai/flux/dev", arguments)
    original = fal_mock.file_bytes(first["images"][0]["url"])
    files = fal_mock.services.files
    for stored in files.files():
        files.delete(stored.key)  # the output's bytes are no longer stored: storing it again is real work
    threads: list[str] = []
    put = files.put

    def recording_put(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return put(*args, **kwargs)

    monkeypatch.setattr(files, "put", recording_put)
    second = fal_client.subscribe("fal-ai/flux/dev", arguments)
    assert fal_mock.file_bytes(second["images"][0]["url"]) == original
    assert threads
    assert all(name.startswith("fal-mock-runner") for name in threads), threads  # never on the event loop
