"""Any fal endpoint: generation time per output family, in-process ``subscribe`` throughput, start-up cost.

Run: ``.venv/bin/python benchmarks/bench_endpoints.py [--repeat 7] [--documents 1400]``

1. **Generation, input to stored bytes** (median of ``--repeat``; unique inputs, so no cache helps): the
   endpoint's generator (:class:`~fal_mock.mock_server.jobs.schema_generator.SchemaGenerator`) on a
   validated input, then every file put into the file store — what a runner thread does for a job.
   Targets on the 2-core machine: a 1024x1024 PNG <= 60 ms, a 1280x720x150 video <= 60 ms from a JPEG
   input, a 10 s WAV <= 10 ms.
2. **subscribe throughput**: the unmodified ``fal_client.subscribe`` in-process (``FalRouting``) for one
   endpoint per family, jobs per second (repeated input: the cost of the protocol plus the generator).
3. **Start-up with N documents**: ``build_services`` with ``--openapi <dir of N documents>`` (copies of
   the bundled ones under new ids); target <= 1.5 s for 1,400.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402


def median_ms(action: Callable[[int], Any], repeat: int) -> float:
    action(-1)  # warm up (imports, first normalisation, validators)
    times = []
    for index in range(repeat):
        started = time.perf_counter()
        action(index)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3


def jpeg_data_uri(width: int, height: int) -> str:
    import base64

    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def part_generation(repeat: int) -> None:
    from fal_mock.mock_server.clock import ManualClock
    from fal_mock.mock_server.services import build_services
    from fal_mock.mock_server.settings import Settings

    cases: list[tuple[str, str, str, Callable[[int], dict[str, Any]], str]] = [
        ("image", "1024x1024 PNG", "fal-ai/flux/dev",
         lambda n: {"prompt": f"a fox {n}", "image_size": "square_hd", "output_format": "png"}, "preview"),
        ("image", "1024x1024 JPEG edit of a JPEG", "fal-ai/nano-banana/edit",
         lambda n: {"prompt": f"night {n}", "image_urls": [JPEG_1024], "output_format": "jpeg"}, "preview"),
        ("video", "1280x720, 6 s at 24 fps from a JPEG", "alibaba/happy-horse/reference-to-video",
         lambda n: {"prompt": f"a pan {n}", "image_urls": [JPEG_720], "duration": 6, "resolution": "720p",
                    "aspect_ratio": "16:9"}, "realistic"),
        ("video", "preview clip from a JPEG", "fal-ai/minimax/video-01/image-to-video",
         lambda n: {"prompt": f"a pan {n}", "image_url": JPEG_720}, "preview"),
        ("audio", "10 s WAV (speech, pcm)", "fal-ai/minimax/speech-02-hd",
         lambda n: {"text": " ".join(["word"] * 24) + f" {n}.", "audio_setting": {"format": "pcm"}}, "preview"),
        ("audio", "10 s MP3 (speech)", "fal-ai/minimax/speech-02-hd",
         lambda n: {"text": " ".join(["word"] * 24) + f" {n}.", "audio_setting": {"format": "mp3"}}, "preview"),
        ("3d", "GLB mesh", "fal-ai/trellis", lambda n: {"image_url": JPEG_720, "seed": n}, "preview"),
        ("text", "transcript of 12 s", "fal-ai/wizper", lambda n: {"audio_url": WAV_12, "task": "transcribe",
                                                                   "chunk_level": "segment", "version": "3",
                                                                   "language": None if n % 2 else "en"}, "preview"),
        ("text", "LLM reply", "openrouter/router", lambda n: {"prompt": f"why is the sky blue? {n}",
                                                              "model": "google/gemini-2.5-flash"}, "preview"),
    ]  # fmt: skip
    print("1. generation, input to stored bytes (median, unique inputs)")
    services = {profile: build_services(Settings(video_profile=profile), ManualClock(0.0))
                for profile in ("preview", "realistic")}  # fmt: skip
    try:
        for family, what, endpoint_id, make_input, profile in cases:
            mock = services[profile]
            endpoint = mock.registry.get(endpoint_id)
            assert endpoint is not None, endpoint_id
            generator = mock.runner.generator
            sizes: list[str] = []

            def run(n: int, endpoint: Any = endpoint, make_input: Any = make_input, mock: Any = mock,
                    generator: Any = generator, sizes: list[str] = sizes) -> None:  # fmt: skip
                inputs = endpoint.validate(make_input(n))
                generated = generator.generate(endpoint, inputs, own_hosts=set())
                sizes[:] = [f"{f.file_name} {len(f.data) / 1024:.0f} KiB "
                            f"{'x'.join(str(f.facts[k]) for k in ('width', 'height', 'frame_count') if k in f.facts)}"
                            for f in generated.files]  # fmt: skip
                for item in generated.files:
                    placed = mock.files.put(item.data, file_name=item.file_name, content_type=item.content_type,
                                            namespace="bench", origin="output")  # fmt: skip
                    mock.files.delete(placed.key)

            ms = median_ms(run, repeat)
            print(f"   {family:<6} {what:<34} {endpoint_id:<42} {ms:8.1f} ms   {'; '.join(sizes)}")
    finally:
        for mock in services.values():
            mock.close()
    print("   targets: 1024x1024 PNG <= 60 ms; 1280x720x150 video from a JPEG <= 60 ms (the 144-frame clip above")
    print("   scales linearly); 10 s WAV <= 10 ms")


def part_subscribe(repeat: int) -> None:
    import fal_client
    from fal_mock.fixtures import FalRouting
    from fal_mock.mock_server import Settings, create_app
    from fal_mock.mock_server.edge.hosts import FAL_HOSTS

    app = create_app(Settings(progression="immediate"))
    os.environ.setdefault("FAL_KEY", "fal-mock-key:fal-mock-secret")
    client = fal_client.SyncClient(key=os.environ["FAL_KEY"])
    cases = [
        ("fal-ai/flux/dev", {"prompt": "a fox", "image_size": "square"}),
        ("fal-ai/kling-video/v2.5-turbo/pro/text-to-video", {"prompt": "waves"}),
        ("fal-ai/minimax/speech-02-hd", {"text": "Hello there, general."}),
        ("fal-ai/trellis", {"image_url": JPEG_720}),
        ("openrouter/router", {"prompt": "hi", "model": "google/gemini-2.5-flash"}),
    ]
    print("\n2. fal_client.subscribe in-process, repeated input (jobs per second)")
    with FalRouting(app, FAL_HOSTS):
        for endpoint_id, arguments in cases:
            ms = median_ms(lambda _n, e=endpoint_id, a=arguments: client.subscribe(e, arguments=a), repeat)
            print(f"   {endpoint_id:<48} {ms:7.1f} ms per job = {1e3 / ms:7.1f} jobs/s")
    app.state.mock.close()


def part_startup(documents: int) -> None:
    from fal_mock.mock_server.clock import ManualClock
    from fal_mock.mock_server.services import build_services
    from fal_mock.mock_server.settings import Settings

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_catalogue import write_documents

    with tempfile.TemporaryDirectory(prefix="bench-endpoints-") as folder:
        size = write_documents(Path(folder), documents)
        started = time.perf_counter()
        services = build_services(Settings(openapi=(folder,)), ManualClock(0.0))
        elapsed = time.perf_counter() - started
        count = len(services.registry)
        first = time.perf_counter()
        endpoint = services.registry.get(services.registry.ids()[documents // 2])
        assert endpoint is not None
        endpoint.validate(endpoint.example_input())
        first_ms = (time.perf_counter() - first) * 1e3
        services.close()
    print(f"\n3. start-up: build_services with {documents} documents ({size / 1e6:.1f} MB), {count} endpoints: "
          f"{elapsed:.3f} s (target <= 1.5 s); first request's normalisation + validator: {first_ms:.1f} ms")


JPEG_720 = jpeg_data_uri(1280, 720)
JPEG_1024 = jpeg_data_uri(1024, 1024)


def _wav_12() -> str:
    import base64

    from fal_mock.mock_server.media import synth_wav

    return "data:audio/wav;base64," + base64.b64encode(synth_wav(12.0, seed=b"bench").data).decode()


WAV_12 = _wav_12()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--documents", type=int, default=1400)
    args = parser.parse_args()
    part_generation(args.repeat)
    part_subscribe(args.repeat)
    part_startup(args.documents)


if __name__ == "__main__":
    main()
