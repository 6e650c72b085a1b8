"""Benchmark of the fake-video writer against PyAV + libx264 (a script, not a test).

Run: ``.venv/bin/python benchmarks/bench_video.py [--repeat N]``

For 320x180x48, 640x360x48 and 1280x720x150 it prints medians (one process, repeated runs)
of the whole generation, from the *encoded* input image bytes to the MP4 bytes (decode the
input, scale/crop, YUV, I_PCM, P slices, mux), for each motion mode (pan, sway, zoom) and
for PNG and JPEG inputs, with the file size. Then it encodes the very same frames (decoded
from our MP4 beforehand, as numpy arrays; making them is not timed) with PyAV + libx264
(preset ultrafast, one thread, yuv420p, written to a temporary file) and prints the ratio.

Targets (2-core machine): 320x180x48 <= 15 ms, 1280x720x150 <= 60 ms, and at least 5x
faster than libx264 ultrafast at 720p.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import av
import numpy as np
import PIL
from fal_mock.mock_server.video.encoder import encode_mp4
from fal_mock.mock_server.video.images import open_image
from fal_mock.mock_server.video.motion import plan_motion
from fal_mock.mock_server.video.pipeline import RenderedVideo, render_with_geometry
from fal_mock.mock_server.video.profiles import VideoGeometry
from fal_mock.mock_server.video.yuv import fit_image, interleave_macroblocks, rgb_to_yuv420
from PIL import Image, ImageDraw, ImageFilter

SIZES = [(320, 180, 48), (640, 360, 48), (1280, 720, 150)]
TARGETS_MS = {(320, 180, 48): 15.0, (1280, 720, 150): 60.0}
MIN_SPEEDUP_720P = 5.0
MODE_SEEDS = {"pan": bytes([0, 5, 200, 0]) + bytes(28), "sway": bytes([1, 3, 200, 1]) + bytes(28),
              "zoom": bytes([2, 0, 200, 0]) + bytes(28)}  # fmt: skip


def drawing(width: int, height: int, seed: int = 1) -> Image.Image:
    """Flat-coloured overlapping shapes: a PNG that decodes fast (like the feasibility study's)."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for _ in range(300):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(10, width // 6), rng.randrange(10, height // 4)
        draw.ellipse((x, y, x + w, y + h), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    return image


def photo_like(width: int, height: int, seed: int = 1) -> Image.Image:
    """Shapes, gradients, blur and sensor-like noise: compresses (badly) like a photo."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(250):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(4, max(5, width // 8))
        draw.ellipse((x, y, x + r, y + r), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image = image.filter(ImageFilter.GaussianBlur(2))
    noise = np.random.default_rng(seed).integers(-12, 13, size=(height, width, 3))
    return Image.fromarray(np.clip(np.asarray(image).astype(int) + noise, 0, 255).astype(np.uint8))


def encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def generate(data: bytes, geometry: VideoGeometry, seed: bytes) -> RenderedVideo:
    """Encoded image bytes -> MP4 at an exact geometry (what render_video_from_bytes does)."""
    opened = open_image(data)
    image = opened.decode((geometry.width, geometry.height))
    return render_with_geometry(image, geometry, seed)


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        fn()
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times) / 1e6


def decoded_frames(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data), mode="r") as container:
        return [f.to_ndarray(format="yuv420p") for f in container.decode(container.streams.video[0])]


def x264_encode(frames: list[np.ndarray], width: int, height: int, fps: int, path: str) -> int:
    with av.open(path, mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "threads": "1"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.thread_count = 1
        for array in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(array, format="yuv420p")))
        container.mux(stream.encode(None))
    return os.path.getsize(path)


def stage_breakdown(data: bytes, geometry: VideoGeometry, seed: bytes, repeat: int) -> str:
    w, h = geometry.width, geometry.height
    image = open_image(data).decode((w, h))
    fitted = fit_image(image, w, h)
    frame = rgb_to_yuv420(fitted)
    plan = plan_motion(seed, w, h, geometry.frame_count)
    parts = {
        "decode input": median_ms(lambda: open_image(data).decode((w, h)), repeat),
        "fit": median_ms(lambda: fit_image(image, w, h), repeat),
        "yuv": median_ms(lambda: rgb_to_yuv420(fitted), repeat),
        "I_PCM order": median_ms(lambda: interleave_macroblocks(frame, b"\x0d\x00"), repeat),
        "plan": median_ms(lambda: plan_motion(seed, w, h, geometry.frame_count), repeat),
        "encode+mux (incl. I_PCM order)": median_ms(lambda: encode_mp4(frame, plan.fields, geometry.fps), repeat),
    }
    return ", ".join(f"{k} {v:.1f}" for k, v in parts.items())


def _verdict(value: float, target: float | None, *, at_most: bool = True) -> str:
    if target is None:
        return ""
    ok = value <= target if at_most else value >= target
    return f"{'<=' if at_most else '>='} {target:g}{' ms' if at_most else 'x'}: {'ok' if ok else 'MISSED'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=21, help="timed runs per figure (median)")
    repeat = parser.parse_args().repeat

    source = photo_like(1280, 720)
    inputs = {
        "PNG drawing": encoded(drawing(1280, 720), "PNG"),
        "PNG photo-like": encoded(source, "PNG"),
        "JPEG photo q90": encoded(source, "JPEG", quality=90),
    }
    big_jpeg = encoded(photo_like(4000, 2250, seed=2), "JPEG", quality=90)

    print(
        f"fake-video writer benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"Pillow {PIL.__version__}, PyAV {av.__version__}; medians of {repeat} runs, ms"
    )
    print("inputs (all 1280x720): " + ", ".join(f"{k} {len(v):,} B" for k, v in inputs.items()))
    print()
    print(f"{'output':<14} {'input':<16} {'pan':>6} {'sway':>6} {'zoom':>6} {'size (pan)':>11}  target (all modes)")
    for width, height, frames in SIZES:
        geometry = VideoGeometry(width, height, 24, frames)
        for label, data in inputs.items():
            row = {mode: median_ms(partial(generate, data, geometry, s), repeat) for mode, s in MODE_SEEDS.items()}
            size = generate(data, geometry, MODE_SEEDS["pan"]).size
            verdict = _verdict(max(row.values()), TARGETS_MS.get((width, height, frames)))
            print(
                f"{width}x{height}x{frames:<5} {label:<16} {row['pan']:6.1f} {row['sway']:6.1f} {row['zoom']:6.1f} "
                f"{size:>11,}  {verdict}"
            )
    small = VideoGeometry(320, 180, 24, 48)
    big_ms = median_ms(partial(generate, big_jpeg, small, MODE_SEEDS["pan"]), repeat)
    print(f"320x180x48     JPEG 4000x2250   {big_ms:6.1f}  (pan; {len(big_jpeg):,} B, decoded in draft mode)")
    print()
    hd = VideoGeometry(1280, 720, 24, 150)
    for label in ("PNG photo-like", "JPEG photo q90"):
        for mode in ("pan", "zoom"):
            stages = stage_breakdown(inputs[label], hd, MODE_SEEDS[mode], repeat)
            print(f"720p stages, {label}, {mode} (ms): {stages}")
    print()

    print("PyAV + libx264 (preset ultrafast, threads=1, yuv420p, mp4 to a temp file) encoding the same frames.")
    print("ours = whole pipeline from the input bytes (pan); x264 = encoding ready-made numpy frames only.")
    print(
        f"{'output':<14} {'ours JPEG':>9} {'ours PNG':>9} {'x264':>8} {'x264 size':>10} {'ours size':>10}"
        f"  {'ratio JPEG':>10} {'ratio PNG':>9}  target (720p)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "x264.mp4")
        for width, height, frames in SIZES:
            geometry = VideoGeometry(width, height, 24, frames)
            seed = MODE_SEEDS["pan"]
            ours_jpeg = median_ms(partial(generate, inputs["JPEG photo q90"], geometry, seed), repeat)
            ours_png = median_ms(partial(generate, inputs["PNG photo-like"], geometry, seed), repeat)
            video = generate(inputs["JPEG photo q90"], geometry, seed)
            arrays = decoded_frames(video.data)
            x264_ms = median_ms(partial(x264_encode, arrays, width, height, 24, path), max(5, repeat // 3))
            x264_size = x264_encode(arrays, width, height, 24, path)
            worst_ratio = x264_ms / max(ours_jpeg, ours_png)
            target = MIN_SPEEDUP_720P if (width, height) == (1280, 720) else None
            print(
                f"{width}x{height}x{frames:<5} {ours_jpeg:9.1f} {ours_png:9.1f} {x264_ms:8.1f} {x264_size:>10,} "
                f"{video.size:>10,}  {x264_ms / ours_jpeg:9.1f}x {x264_ms / ours_png:8.1f}x  "
                f"{_verdict(worst_ratio, target, at_most=False)}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
