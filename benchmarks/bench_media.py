"""Benchmark of the media generators (a script, not a test).

Run: ``.venv/bin/python benchmarks/bench_media.py [--repeat N]``

For each output family it prints the median time of N runs (one process, after one warm-up
run) of the whole generation, from the request's inputs to the encoded bytes, with the output
size and, where the brief set one, the ratio to the target (2-core machine):

* 1024x1024 PNG drawn from a prompt: <= 60 ms (drawing + encoding);
* 1024x1024 JPEG and WebP drawn from a prompt (no target);
* an image derived from a 1 MP JPEG (decode + fit + edit + JPEG encode; no target);
* a 1280x720x150 clip from a 1280x720 JPEG input: <= 60 ms, for each motion mode (decode + H.264/MP4),
  and the same from a 1600x1200 JPEG (crop and scale first; no target);
* a 10 s WAV (44.1 kHz mono): <= 10 ms;
* a 10 s MP3 (44.1 kHz mono, 128 kbps; no target);
* a GLB of the default mesh (642 vertices; no target), and OBJ / PLY / STL;
* probing: sniff + audio_duration of the 10 s MP3 (frame walk) and video_facts of the clip.

Each run uses a distinct seed (the package has no cache anyway). The whole run takes well under a
minute with the default N. The load average is printed: on a shared 2-core machine other work
easily doubles the figures.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from fal_mock.mock_server.media import (
    audio_duration,
    build_model,
    clip_geometry,
    derive_image,
    draw_image,
    encode_image,
    mpeg_audio,
    render_clip_from_bytes,
    sniff,
    synth_wav,
    video_facts,
)
from fal_mock.mock_server.media._seeded import derive_key
from fal_mock.mock_server.video.images import load_image

PROMPT = "a red lighthouse on a rocky coast at sunset, waves, seagulls"


@dataclass(frozen=True)
class Figure:
    name: str
    median_ms: float
    size: int
    target_ms: float | None


def _median_ms(run: Callable[[int], int], repeat: int) -> tuple[float, int]:
    size = run(-1)  # warm-up (imports, Pillow plugin registration, first-call caches of libraries)
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        size = run(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, size


def _seed(i: int) -> bytes:
    return i.to_bytes(4, "big", signed=True)


def _motion_seed(mode: str, start: int) -> bytes:
    """A seed whose clip uses ``mode`` (the motion mode is byte 0 of the hashed seed, modulo 3)."""
    index = ("pan", "sway", "zoom").index(mode)
    i = start
    while derive_key("video/motion", _seed(i))[0] % 3 != index:
        i += 1
    return _seed(i)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="timed runs per figure (median)")
    args = parser.parse_args()
    repeat = max(1, args.repeat)
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())  # other work on the machine skews the figures
    figures: list[Figure] = []

    def add(name: str, run: Callable[[int], int], target: float | None = None) -> None:
        median, size = _median_ms(run, repeat)
        figures.append(Figure(name, median, size, target))

    def drawn(fmt: str) -> Callable[[int], int]:
        return lambda i: encode_image(draw_image(1024, 1024, seed=_seed(i), prompt=PROMPT), fmt).size

    add("image: 1024x1024 PNG from a prompt", drawn("png"), 60.0)
    add("image: 1024x1024 JPEG from a prompt", drawn("jpeg"))
    add("image: 1024x1024 WebP from a prompt", drawn("webp"))

    photo_jpeg = encode_image(draw_image(1152, 864, seed=b"photo", prompt="a forest by a lake"), "jpeg").data
    add(
        "image: 1024x1024 JPEG derived from a 1 MP JPEG",
        lambda i: encode_image(derive_image(load_image(photo_jpeg), 1024, 1024, seed=_seed(i)), "jpeg").size,
    )

    geometry = clip_geometry("realistic", resolution="720p", aspect_ratio="16:9", duration=6, fps=25)
    assert (geometry.width, geometry.height, geometry.frame_count) == (1280, 720, 150)
    for label, (width, height), target in (("1280x720", (1280, 720), 60.0), ("1600x1200", (1600, 1200), None)):
        jpeg = encode_image(draw_image(width, height, seed=b"input", prompt="a red car"), "jpeg").data
        for mode in ("pan", "sway", "zoom"):
            seeds = [_motion_seed(mode, 1000 * k) for k in range(repeat + 1)]

            def clip(i: int, jpeg: bytes = jpeg, seeds: list[bytes] = seeds) -> int:
                return render_clip_from_bytes(jpeg, geometry, seed=seeds[i + 1]).size

            add(f"video: 1280x720x150 from a {label} JPEG ({mode})", clip, target)
    input_jpeg = encode_image(draw_image(1280, 720, seed=b"input", prompt="a red car"), "jpeg").data
    preview = clip_geometry("preview")
    add(
        "video: 320x180x48 preview from a 1280x720 JPEG",
        lambda i: render_clip_from_bytes(input_jpeg, preview, seed=_seed(i)).size,
    )

    add("audio: 10 s WAV (44.1 kHz mono)", lambda i: synth_wav(10, seed=_seed(i)).size, 10.0)
    add("audio: 10 s MP3 (44.1 kHz mono, 128 kbps)", lambda i: mpeg_audio(10, seed=_seed(i)).size)
    for fmt in ("glb", "obj", "ply", "stl"):

        def model(i: int, fmt: str = fmt) -> int:
            return build_model(fmt, seed=_seed(i)).size

        add(f"3d: {fmt.upper()} (642 vertices, 1280 triangles)", model)

    mp3 = mpeg_audio(10, seed=b"probe").data
    mp4 = render_clip_from_bytes(input_jpeg, geometry, seed=b"probe").data
    add(
        "probe: sniff + audio_duration of the 10 s MP3", lambda i: len(mp3) if sniff(mp3) and audio_duration(mp3) else 0
    )
    add("probe: video_facts of the 720p clip", lambda i: len(mp4) if video_facts(mp4) else 0)

    out = io.StringIO()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    out.write(f"median of {repeat} runs (after one warm-up), Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, ")
    out.write(f"load average before the run {load_before} / after {load}\n\n")
    out.write(f"{'family':<52} {'median ms':>10} {'size':>11} {'target ms':>10} {'ratio':>7}\n")
    for f in figures:
        target = f"{f.target_ms:.0f}" if f.target_ms else "-"
        ratio = f"{f.median_ms / f.target_ms:.2f}" if f.target_ms else "-"
        out.write(f"{f.name:<52} {f.median_ms:>10.1f} {f.size:>11,} {target:>10} {ratio:>7}\n")
    missed = [f.name for f in figures if f.target_ms and f.median_ms > f.target_ms]
    out.write("\nall targets met\n" if not missed else f"\nmissed: {', '.join(missed)}\n")
    sys.stdout.write(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
