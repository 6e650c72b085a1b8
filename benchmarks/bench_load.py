"""Load on a real ``fal-mock serve``: 64 concurrent clients, 5,000 submit → status → result cycles.

Run: ``.venv/bin/python benchmarks/bench_load.py [--cycles 5000] [--clients 64] [--processes 4]
[--modes single,workers] [--deadline 600]``

For each mode it starts ``fal-mock serve --port 0 --ready-file F --progression polls:2
--no-access-log`` (``workers`` mode adds ``--workers 2 --data-dir <tmp>``), loopback only, in a
subprocess, and waits for its ready file.  ``--processes`` client processes (spawned; one
Python process cannot load the server — an httpx client manages a few hundred requests a
second) run ``--clients`` asyncio clients between them, each on its own keep-alive
connection.  A cycle is one MiniMax submit, status reads until COMPLETED (``polls:2``: four
reads), and the result.  Each client cycles through its own input (its prompt), so
renders come from the video cache after the first: this measures the protocol path, the
stores and the workers, not the video writer (benchmarks/bench_protocol.py reports
unique-input throughput next to the writer's speed).

Checks, after the load: every acknowledged submit (a 200 with a request id) reached
COMPLETED and its result (jobs lost must be 0); no request id repeats; every result names
its own output file (distinct URLs) of the size its input renders to; and for every 50th
cycle the video is downloaded and compared byte for byte with what a fresh in-process mock
renders for the same input.  It prints throughput (cycles/s and requests/s) and p50/p99
latencies per request kind and per cycle.  Everything is bounded: cycles, a wall-clock
deadline per mode, and the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import io
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

MINIMAX = "fal-ai/minimax-video/image-to-video"
AUTH = {"Authorization": "Key fal-mock-key:fal-mock-secret"}
VERIFY_EVERY = 50


def input_image() -> str:
    image = Image.new("RGB", (96, 64), (30, 120, 200))
    for x in range(0, 96, 8):
        image.paste((x * 2, 255 - x * 2, 60), (x, 0, x + 4, 64))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def prompt_for(client: int) -> str:
    return f"load client {client}"


@dataclass
class ClientReport:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    cycles: list[dict[str, Any]] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def run_client(url: str, client: int, quota: int, deadline: float, image: str, report: ClientReport) -> None:
    prompt = prompt_for(client)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(headers=AUTH, timeout=60, limits=limits) as http:

        async def timed(kind: str, method: str, target: str, **kwargs: Any) -> httpx.Response:
            started = time.perf_counter()
            response = await http.request(method, target, **kwargs)
            report.latencies.setdefault(kind, []).append(time.perf_counter() - started)
            return response

        for number in range(quota):
            if time.time() > deadline:
                report.errors.append(f"client {client}: deadline reached after {number} cycles")
                return
            began = time.perf_counter()
            submitted = await timed("submit", "POST", f"{url}/queue/{MINIMAX}",
                                    json={"prompt": prompt, "image_url": image})  # fmt: skip
            if submitted.status_code != 200:
                report.errors.append(f"submit answered {submitted.status_code}: {submitted.text[:200]}")
                continue
            body = submitted.json()
            report.acknowledged.append(body["request_id"])
            states = []
            for _ in range(10):
                status = await timed("status", "GET", body["status_url"])
                states.append(status.json().get("status"))
                if states[-1] == "COMPLETED":
                    break
            result = await timed("result", "GET", body["response_url"])
            cycle: dict[str, Any] = {"id": body["request_id"], "client": client, "states": states,
                                     "result_status": result.status_code,
                                     "seconds": time.perf_counter() - began}  # fmt: skip
            if result.status_code == 200:
                video = result.json()["video"]
                cycle["url"], cycle["file_size"] = video["url"], video["file_size"]
                if number % VERIFY_EVERY == 0:
                    served = await http.get(video["url"])
                    cycle["sha256"] = hashlib.sha256(served.content).hexdigest()
            report.cycles.append(cycle)


def client_process(url: str, clients: list[int], quotas: list[int], deadline: float, out: Any) -> None:
    image = input_image()
    reports = [ClientReport() for _ in clients]

    async def everything() -> None:
        await asyncio.gather(*(run_client(url, client, quota, deadline, image, report)
                               for client, quota, report in zip(clients, quotas, reports, strict=True)))  # fmt: skip

    asyncio.run(everything())
    merged = ClientReport()
    for report in reports:
        for kind, values in report.latencies.items():
            merged.latencies.setdefault(kind, []).extend(values)
        merged.cycles += report.cycles
        merged.acknowledged += report.acknowledged
        merged.errors += report.errors
    out.send((merged.latencies, merged.cycles, merged.acknowledged, merged.errors))
    out.close()


def expected_outputs(prompts: list[str]) -> dict[str, tuple[int, str]]:
    """(size, sha256) of the MiniMax video of each prompt, from a fresh in-process mock (videos are pure)."""
    from fal_mock.mock_server import Settings, create_app

    async def render() -> dict[str, tuple[int, str]]:
        app = create_app(Settings())
        image = input_image()
        found = {}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as http:
            for prompt in prompts:
                output = (await http.post(f"https://fal.run/{MINIMAX}", json={"prompt": prompt, "image_url": image}))
                data = (await http.get(output.json()["video"]["url"])).content
                found[prompt] = (len(data), hashlib.sha256(data).hexdigest())
        app.state.mock.close()
        return found

    return asyncio.run(render())


class ServerProcess:
    def __init__(self, args: list[str], workdir: Path) -> None:
        ready = workdir / "ready.json"
        self.log = open(workdir / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        command = [sys.executable, "-m", "fal_mock.mock_server", "serve", "--port", "0", "--ready-file", str(ready),
                   "--progression", "polls:2", "--no-access-log", "--log-level", "warning", *args]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start: {(workdir / 'server.log').read_text()}")
            time.sleep(0.05)
        self.info = json.loads(ready.read_text())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by ``pids`` (from /proc)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def run_mode(mode: str, args: argparse.Namespace, expected: dict[str, tuple[int, str]]) -> bool:
    with tempfile.TemporaryDirectory(prefix="fal-mock-load-") as temp:
        workdir = Path(temp)
        extra = ["--workers", "2", "--data-dir", str(workdir / "data")] if mode == "workers" else []
        server = ServerProcess(extra, workdir)
        url = server.info["url"]
        clients = list(range(args.clients))
        quotas = [args.cycles // args.clients + (1 if n < args.cycles % args.clients else 0) for n in clients]
        context = multiprocessing.get_context("spawn")
        deadline = time.time() + args.deadline
        pipes, processes = [], []
        server_pids = [int(server.info["pid"]), *[int(pid) for pid in server.info.get("workers", [])]]
        cpu_before = cpu_seconds(server_pids)
        started = time.perf_counter()
        for part in range(args.processes):
            mine = clients[part :: args.processes]
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=client_process,
                                      args=(url, mine, [quotas[n] for n in mine], deadline, send))  # fmt: skip
            process.start()
            pipes.append(receive)
            processes.append(process)
        latencies: dict[str, list[float]] = {}
        cycles: list[dict[str, Any]] = []
        acknowledged: list[str] = []
        errors: list[str] = []
        for receive in pipes:
            part_latencies, part_cycles, part_acked, part_errors = receive.recv()
            for kind, values in part_latencies.items():
                latencies.setdefault(kind, []).extend(values)
            cycles += part_cycles
            acknowledged += part_acked
            errors += part_errors
        elapsed = time.perf_counter() - started
        server_cpu = cpu_seconds(server_pids) - cpu_before
        for process in processes:
            process.join()
        server.stop()
        log = (workdir / "server.log").read_text(errors="replace")

    completed = {c["id"] for c in cycles if c["states"][-1:] == ["COMPLETED"] and c["result_status"] == 200}
    lost = [rid for rid in acknowledged if rid not in completed]
    repeats = len(acknowledged) - len(set(acknowledged))
    urls = [c["url"] for c in cycles if "url" in c]
    sizes = [(c["id"], c["file_size"], expected[prompt_for(c["client"])][0]) for c in cycles if "file_size" in c]
    wrong_size = [rid for rid, size, wanted in sizes if size != wanted]
    verified = [c for c in cycles if "sha256" in c]
    wrong_bytes = [c["id"] for c in verified if c["sha256"] != expected[prompt_for(c["client"])][1]]
    requests = sum(len(values) for values in latencies.values())
    label = "serve (1 process, memory)" if mode == "single" else "serve --workers 2 --data-dir"
    print(f"\n== {label}: {len(cycles)} cycles by {args.clients} clients in {args.processes} processes, "
          f"{elapsed:.1f} s")  # fmt: skip
    print(f"throughput: {len(cycles) / elapsed:.0f} cycles/s, {requests / elapsed:.0f} requests/s; server CPU "
          f"{server_cpu:.1f} s = {server_cpu / elapsed:.2f} cores busy, {server_cpu / max(1, requests) * 1e6:.0f} µs "
          f"CPU per request (machine: {os.cpu_count()} cores, shared with the client processes)")
    for kind in ("submit", "status", "result"):
        values = latencies.get(kind, [])
        print(f"  {kind:<7} n={len(values):>6}  p50 {percentile(values, 0.5) * 1000:7.2f} ms"
              f"  p99 {percentile(values, 0.99) * 1000:7.2f} ms")  # fmt: skip
    seconds = [c["seconds"] for c in cycles]
    print(f"  cycle   n={len(seconds):>6}  p50 {percentile(seconds, 0.5) * 1000:7.2f} ms"
          f"  p99 {percentile(seconds, 0.99) * 1000:7.2f} ms  (mean {statistics.fmean(seconds) * 1000:.1f} ms)")
    print(f"acknowledged {len(acknowledged)}, completed {len(completed)}, jobs lost {len(lost)}, "
          f"repeated ids {repeats}, distinct output URLs {len(set(urls))}/{len(urls)}, "
          f"wrong sizes {len(wrong_size)}, videos verified byte for byte {len(verified)} (wrong {len(wrong_bytes)})")
    problems = errors + (["Traceback in the server log"] if "Traceback" in log else [])
    for problem in problems[:10]:
        print("  problem:", problem)
    return not lost and not repeats and len(set(urls)) == len(urls) and not wrong_size and not wrong_bytes and \
        not problems and len(cycles) == args.cycles  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--processes", type=int, default=4, help="client processes sharing the clients")
    parser.add_argument("--modes", default="single,workers", help="single, workers or both (comma-separated)")
    parser.add_argument("--deadline", type=float, default=600.0, help="wall seconds allowed per mode")
    args = parser.parse_args()
    expected = expected_outputs([prompt_for(n) for n in range(args.clients)])
    ok = True
    for mode in args.modes.split(","):
        ok = run_mode(mode.strip(), args, expected) and ok
    print("\nall checks passed" if ok else "\nCHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
