"""The schema generator's own rules: upscale factors, requested audio lengths, the output cache."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Iterator

import pytest
from fal_mock.mock_server.clock import ManualClock
from fal_mock.mock_server.jobs.endpoints import Endpoint
from fal_mock.mock_server.jobs.errors import ModelError
from fal_mock.mock_server.jobs.generators import Generated, GeneratedFile, OutputCache
from fal_mock.mock_server.jobs.schema_generator import SchemaGenerator, _scale_factor
from fal_mock.mock_server.outputs import requested_duration
from fal_mock.mock_server.services import MockServices, build_services
from fal_mock.mock_server.settings import Settings
from PIL import Image


@pytest.mark.parametrize(
    ("arguments", "factor"),
    [({"scale": 4}, 4.0), ({"upscale_factor": "2x"}, 2.0), ({"upscaling_factor": 1.5}, 1.5), ({}, None),
     ({"scale": 100}, None), ({"scale": True}, None)],
)
def test_upscale_factors(arguments: dict[str, object], factor: float | None) -> None:
    assert _scale_factor(arguments) == factor


@pytest.mark.parametrize(
    ("arguments", "seconds"),
    [({"seconds_total": 20}, 20.0), ({"duration": "5s"}, 5.0), ({"duration_ms": 2500}, 2.5), ({}, None)],
)
def test_requested_audio_lengths(arguments: dict[str, object], seconds: float | None) -> None:
    assert requested_duration(arguments) == seconds


# --- the output cache ---------------------------------------------------------------------------------------
def png_bytes(color: tuple[int, int, int] = (250, 250, 250), size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def services() -> Iterator[MockServices]:
    built = build_services(Settings(progression="immediate"), ManualClock(1_767_225_600.0))
    yield built
    built.close()


def generator_of(services: MockServices) -> SchemaGenerator:
    generator = services.runner.generator
    assert isinstance(generator, SchemaGenerator)
    return generator


def endpoint(services: MockServices, endpoint_id: str) -> Endpoint:
    found = services.registry.get(endpoint_id)
    assert found is not None
    return found


def test_a_repeated_input_is_answered_from_the_output_cache_with_the_same_output(services: MockServices) -> None:
    generator = generator_of(services)
    flux = endpoint(services, "fal-ai/flux/dev")
    inputs = flux.validate({"prompt": "a red fox", "image_size": "square_hd"})
    first = generator.generate(flux, inputs, own_hosts=set())
    assert (generator.outputs.hits, generator.outputs.misses) == (0, 1)
    assert generator.cached(flux, inputs)  # held now: the runner may answer it inline
    again = generator.generate(flux, inputs, own_hosts=set())
    assert (generator.outputs.hits, generator.outputs.misses) == (1, 1)
    assert again.body == first.body
    assert [item.data for item in again.files] == [item.data for item in first.files]
    assert all(item.sha256 == hashlib.sha256(item.data).hexdigest() for item in again.files)
    other = generator.generate(flux, flux.validate({"prompt": "a grey wolf", "image_size": "square_hd"}),
                               own_hosts=set())  # fmt: skip
    assert other.files[0].data != first.files[0].data  # another input is generated, not served from the cache


def test_a_cached_output_knows_the_size_of_its_body(services: MockServices) -> None:
    # the job's weight against max_result_bytes counts the body as compact JSON, fresh or from the cache
    generator = generator_of(services)
    flux = endpoint(services, "fal-ai/flux/dev")
    inputs = flux.validate({"prompt": "a café at dusk", "image_size": "square_hd"})
    first = generator.generate(flux, inputs, own_hosts=set())
    again = generator.generate(flux, inputs, own_hosts=set())
    assert again.known_body_bytes is not None
    compact = len(json.dumps(first.body, separators=(",", ":"), default=str))
    assert first.body_bytes == again.body_bytes == compact


def test_cached_inline_inputs_keep_their_log_lines_and_skip_resolving(services: MockServices) -> None:
    generator = generator_of(services)
    edit = endpoint(services, "fal-ai/nano-banana/edit")
    uri = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    inputs = edit.validate({"prompt": "night", "image_urls": [uri]})
    first = generator.generate(edit, inputs, own_hosts=set())
    again = generator.generate(edit, inputs, own_hosts=set())
    assert again.log_lines == first.log_lines
    assert any(line.startswith("Loaded image_urls[0]: data URI") for line, _ in again.log_lines)
    assert generator.cached(edit, inputs)


def test_a_stored_input_is_resolved_every_time_so_a_deleted_one_still_fails(services: MockServices) -> None:
    generator = generator_of(services)
    edit = endpoint(services, "fal-ai/nano-banana/edit")
    stored = services.files.put(png_bytes(), file_name="white.png", content_type="image/png")
    url = f"http://127.0.0.1:8000/cdn/files/{stored.key}"
    inputs = edit.validate({"prompt": "night", "image_urls": [url]})
    hosts = {"127.0.0.1"}
    first = generator.generate(edit, inputs, own_hosts=hosts)
    assert not generator.cached(edit, inputs)  # not a data URI: never answered inline
    assert generator.generate(edit, inputs, own_hosts=hosts).body == first.body
    assert generator.outputs.hits == 1
    services.files.delete(stored.key)
    with pytest.raises(ModelError) as failed:
        generator.generate(edit, inputs, own_hosts=hosts)
    assert list(failed.value.entries[0].loc)[:2] == ["body", "image_urls"]
    assert "404" in failed.value.entries[0].msg


def test_the_output_cache_is_bounded_in_bytes_and_can_be_off() -> None:
    cache = OutputCache(max_bytes=10_000)

    def output(size: int) -> Generated:
        return Generated({"images": [{"content_type": "image/png"}]},
                         (GeneratedFile(("images", 0), b"x" * size, "image/png", "output.png"),))  # fmt: skip

    for index in range(5):
        cache.put(("e", f"input {index}", ()), output(3_000))
    assert cache.bytes <= 10_000
    assert len(cache) == 3  # the least recently used two were dropped
    assert not cache.holds("e", "input 0")
    assert cache.holds("e", "input 4")
    kept = cache.put(("e", "too big", ()), output(20_000))
    assert kept.files[0].sha256 is None  # not kept, so not digested either
    assert not cache.holds("e", "too big")
    off = build_services(Settings(output_cache_bytes=0), ManualClock(0.0))
    try:
        generator = generator_of(off)
        flux = endpoint(off, "fal-ai/flux/dev")
        inputs = flux.validate({"prompt": "a fox", "image_size": "square"})
        generator.generate(flux, inputs, own_hosts=set())
        generator.generate(flux, inputs, own_hosts=set())
        assert (len(generator.outputs), generator.outputs.hits) == (0, 0)
        assert not generator.cached(flux, inputs)
    finally:
        off.close()
