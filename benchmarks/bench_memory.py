"""Memory over 100,000 jobs, and over 20,000 jobs with 1 MiB prompts: the mock stays bounded (a script, not a test).

Run: ``.venv/bin/python benchmarks/bench_memory.py [--jobs 100000] [--every 10000] [--inputs 8]``
and ``.venv/bin/python benchmarks/bench_memory.py --jobs 20000 --every 2000 --prompt-bytes 1048576``
(``--quick`` divides ``--jobs`` and ``--every`` by 10 for a short look).

What it does: one in-process app with **default settings** (``Settings()``: ``immediate``
progression, the wall clock, every default cap), driven through the full HTTP path —
``submit → status → result`` over ``httpx.ASGITransport``, every middleware included.  Jobs
alternate between the two endpoints: MiniMax (the output is stored as a CDN file, the
result carries its URL) and Lucy-5B (``sync_mode``: the video comes back inline as a data
URI, about 160 KB of result).  The input is one small PNG data URI with a different prompt
for each of ``--inputs`` (default 8) prompts, so the **video cache is what generates**
most videos: this measures the protocol's and the stores' memory, not the video writer
(the writer's speed is benchmarks/bench_video.py's business).
``--prompt-bytes N`` pads every prompt to N bytes (the prompts still differ only in
their first characters, so the cache still generates): each job's arguments are then far beyond
``max_retained_argument_bytes`` and the job keeps only a marked summary once submitted, its full inputs
only until it finishes (mock_server/jobs/budgets.py); the finished-jobs byte budget
(``max_result_bytes``) counts the retained arguments too.

It prints RSS at each checkpoint and the peak (``VmHWM``), with what the stores hold: jobs
kept (the ``max_finished_jobs`` cap, 10,000), journal entries (``journal_size``, 1,000),
stored files and blob bytes (``max_store_bytes``).  Target: peak ≤ 300 MB and flat after
warm-up (the last checkpoints within a few MB of each other).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import io
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from fal_mock.mock_server import Settings, create_app
from PIL import Image
from starlette.applications import Starlette

ENDPOINTS = ("fal-ai/minimax-video/image-to-video", "fal-ai/decart/lucy-5b/image-to-video")
AUTH = {"Authorization": "Key fal-mock-key:fal-mock-secret"}
TARGET_MB = 300.0


def small_png() -> str:
    image = Image.new("RGB", (96, 64), (200, 40, 40))
    for x in range(0, 96, 8):
        for y in range(0, 64, 8):
            if (x // 8 + y // 8) % 2 == 0:
                image.paste((x * 2, y * 3, 90), (x, y, x + 8, y + 8))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def memory_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB, from /proc."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def holdings(app: Starlette) -> str:
    mock = app.state.mock
    return (f"jobs kept {len(mock.store.jobs()):>6}  journal {len(mock.store.journal()):>5}  "
            f"files {len(mock.files.files()):>6}  blob MB {mock.files.total_bytes / 1e6:6.1f}")  # fmt: skip


async def one_job_http(http: httpx.AsyncClient, endpoint: str, body: dict[str, Any]) -> None:
    submitted = await http.post(f"https://queue.fal.run/{endpoint}", json=body)
    assert submitted.status_code == 200, submitted.text
    urls = submitted.json()
    status = await http.get(urls["status_url"])
    assert status.json()["status"] == "COMPLETED", status.text
    result = await http.get(urls["response_url"])
    assert result.status_code == 200, result.text[:300]


async def main(args: argparse.Namespace) -> int:
    app = create_app(Settings())
    image = small_png()
    started = time.perf_counter()
    checkpoints: list[float] = []
    if args.quick:
        args.jobs, args.every = max(1, args.jobs // 10), max(1, args.every // 10)
    padding = "x" * max(0, args.prompt_bytes - 32)
    gc.collect()
    print(f"{args.jobs} jobs via the HTTP path, default settings, {args.inputs} distinct inputs, prompts of "
          f"{max(args.prompt_bytes, 16)} bytes; RSS at start {memory_mb()[0]:.1f} MB")
    print(f"{'jobs':>7} {'seconds':>8} {'RSS MB':>7} {'peak MB':>8}  holdings")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, headers=AUTH) as http:
        for index in range(1, args.jobs + 1):
            endpoint = ENDPOINTS[index % 2]
            body = {"prompt": f"bench prompt {index % args.inputs} {padding}", "image_url": image}
            await one_job_http(http, endpoint, body)
            if index % args.every == 0:
                gc.collect()
                rss, peak = memory_mb()
                checkpoints.append(rss)
                print(f"{index:>7} {time.perf_counter() - started:>8.1f} {rss:>7.1f} {peak:>8.1f}  {holdings(app)}",
                      flush=True)  # fmt: skip
    app.state.mock.close()
    rss, peak = memory_mb()
    elapsed = time.perf_counter() - started
    warm = checkpoints[len(checkpoints) // 2 :] or checkpoints
    drift = max(warm) - min(warm) if warm else 0.0
    print(f"\n{args.jobs} jobs in {elapsed:.0f} s ({args.jobs / elapsed:.0f} jobs/s); peak RSS {peak:.1f} MB "
          f"(target <= {TARGET_MB:.0f} MB); RSS drift over the second half of the checkpoints {drift:.1f} MB")
    return 0 if peak <= TARGET_MB else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--every", type=int, default=10_000, help="jobs between checkpoints")
    parser.add_argument("--inputs", type=int, default=8, help="distinct inputs (prompts) cycled through")
    parser.add_argument("--prompt-bytes", type=int, default=0, help="pad each prompt to this many bytes")
    parser.add_argument("--quick", action="store_true", help="a tenth of --jobs and --every")
    sys.exit(asyncio.run(main(parser.parse_args())))
