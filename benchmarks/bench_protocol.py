"""Protocol overhead, measured apart from generation (DESIGN §9; a script, not a test).

Run: ``.venv/bin/python benchmarks/bench_protocol.py [--cycles 200] [--wrk-seconds 5] [--jobs 300]``

1. **In-process ``fal_client.subscribe``** (the unmodified official client through
   ``FalRouting``, ``immediate`` progression, a preview video from a small PNG data URI) —
   median time of one full cycle against the same round trips answered bare: the same
   ``subscribe`` (the same client, the same three requests and bodies) answered by a bare
   fal-shaped Starlette app (it reads the submit's body and answers fixed fal-shaped JSON) through
   the same ``FalRouting`` path.  Target: ≤ 1.5×, with one repeated input (the output cache
   answers: protocol only), measured in interleaved batches.  Also printed: the cycle against
   as many ``GET``s of a bare JSON route (counted in the mock's journal) — the yardstick while
   the in-process routing dominated every trip; that side has no request body and none of
   fal_client's work, so the bare fal-shaped app alone is ~1.5× those trips: a reference, not a
   target — the same requests from a plain ``httpx.Client``, and a unique prompt per cycle (each
   cycle renders; the writer's time for that input is measured separately and subtracted).
2. **Loopback throughput with wrk** (``/usr/bin/wrk``, 1 thread, 32 connections) of status
   polls and result fetches of a completed job on ``fal-mock serve`` **with its shipped defaults**
   (log level info, the access log on; only ``--port 0`` and ``immediate`` progression given) and
   with ``--no-access-log``, against a bare Starlette route on uvicorn's own command line
   (``uvicorn bare:app``: uvloop, httptools, no access log) and the nearest peer, aimock
   (``@copilotkit/aimock`` 1.43.0 on its CLI defaults, pinned in ``benchmarks/js/package.json``:
   ``npm ci --prefix benchmarks/js``; one fal fixture, routed by ``x-fal-target-host`` as its
   README describes).  All servers run at once, best of 3 interleaved rounds (the machine is
   shared).  Printed twice: by requests per second (best round) and by the server's CPU time per
   request (least round; read from ``/proc``, steadier on a shared machine).  Targets: ≥ 0.6× the
   bare route and ahead of aimock, for both.
3. **Jobs per second end to end with unique inputs** (submit → status → result, 8
   concurrent clients on ``fal-mock serve``), next to the video writer's own speed for the
   same inputs in one thread.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

MINIMAX = "fal-ai/minimax-video/image-to-video"
AUTH = {"Authorization": "Key fal-mock-key:fal-mock-secret"}
WRK = "/usr/bin/wrk"


def png_data_uri() -> str:
    image = Image.new("RGB", (96, 64), (200, 40, 40))
    for x in range(0, 96, 8):
        image.paste((x * 2, 90, 255 - x * 2), (x, 0, x + 4, 64))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def median_seconds(action: Callable[[int], Any], repeat: int, warmup: int = 5,
                   timer: Callable[[], float] = time.perf_counter) -> float:  # fmt: skip
    for index in range(warmup):
        action(-1 - index)
    times = []
    for index in range(repeat):
        started = timer()
        action(index)
        times.append(timer() - started)
    return statistics.median(times)


# --- 1. fal_client.subscribe in-process ------------------------------------------------------------
def bare_fal_app() -> Any:
    """A bare Starlette app answering fal's queue the simplest way: submit (its body read, as any server reads
    it off the socket), status COMPLETED, a fixed result."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    base = f"https://queue.fal.run/{MINIMAX}/requests/bare"
    submitted = {"status": "IN_QUEUE", "request_id": "bare", "response_url": base, "status_url": f"{base}/status",
                 "cancel_url": f"{base}/cancel", "queue_position": 0}  # fmt: skip
    video = {"video": {"url": "https://v3.fal.media/files/x/output.mp4", "content_type": "video/mp4",
                       "file_name": "output.mp4", "file_size": 1234}}  # fmt: skip

    async def route(request: Any) -> JSONResponse:
        if request.method == "POST":
            await request.body()  # a server receives the request it answers (the mock parses it too)
            return JSONResponse(submitted)
        if request.url.path.endswith("/status"):
            return JSONResponse({"status": "COMPLETED", "request_id": "bare", "logs": None, "metrics": {}})
        return JSONResponse(video)

    return Starlette(routes=[Route("/{path:path}", route, methods=["GET", "POST", "PUT"])])


class Switch:
    """An ASGI app passing every request to whichever app is ``target`` (one in-process routing for two apps)."""

    def __init__(self, target: Any) -> None:
        self.target = target

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.target(scope, receive, send)


def bare_app() -> Any:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def route(request: Any) -> JSONResponse:
        return JSONResponse({"status": "COMPLETED", "request_id": "x"})

    return Starlette(routes=[Route("/{path:path}", route, methods=["GET", "POST", "PUT"])])


def part_subscribe(cycles: int, timer: Callable[[], float] = time.perf_counter) -> None:
    """Part 1.  The repeated-input cycle, the bare trips and the plain-httpx cycle are measured in interleaved
    batches (so a machine that slows down or speeds up meanwhile weighs on all three alike); the
    unique-input cycle and the writer come after."""
    import fal_client
    from fal_mock.fixtures import FalRouting
    from fal_mock.mock_server import Settings, create_app
    from fal_mock.mock_server.edge.hosts import FAL_HOSTS
    from fal_mock.mock_server.video import render_video_from_bytes

    image = png_data_uri()
    app = create_app(Settings(progression="immediate"))
    switch, bare_fal = Switch(app), bare_fal_app()
    os.environ.setdefault("FAL_KEY", "fal-mock-key:fal-mock-secret")
    client = fal_client.SyncClient(key=os.environ["FAL_KEY"])
    # the bare app answers a host of its own (not fal's), routed by an outer FalRouting
    with FalRouting(bare_app(), ["bare.test"]), FalRouting(switch, FAL_HOSTS), httpx.Client() as http:
        before = len(app.state.mock.store.journal())
        client.subscribe(MINIMAX, arguments={"prompt": "count", "image_url": image})
        trips = len(app.state.mock.store.journal()) - before

        def subscribe(_: int) -> None:
            client.subscribe(MINIMAX, arguments={"prompt": "same", "image_url": image})

        def bare_trips(_: int) -> None:
            for _trip in range(trips):
                http.get("https://bare.test/x/requests/y/status")

        def plain(_: int) -> None:  # the same requests with a plain httpx client: the mock without fal_client's work
            urls = http.post(f"https://queue.fal.run/{MINIMAX}", json={"prompt": "same", "image_url": image},
                             headers=AUTH).json()  # fmt: skip
            http.get(urls["status_url"], headers=AUTH)
            http.get(urls["response_url"], headers=AUTH)

        def subscribe_bare(_: int) -> None:  # the same subscribe, answered by the bare fal-shaped app
            switch.target = bare_fal
            try:
                client.subscribe(MINIMAX, arguments={"prompt": "same", "image_url": image})
            finally:
                switch.target = app

        batch = 10
        actions = {"subscribe": subscribe, "bare": bare_trips, "plain": plain, "subscribe bare": subscribe_bare}
        samples: dict[str, list[float]] = {name: [] for name in actions}
        for action in actions.values():
            median_seconds(action, 1, warmup=20, timer=timer)
        for _ in range(max(1, cycles // batch)):
            for name, action in actions.items():
                samples[name].append(median_seconds(action, batch, warmup=0, timer=timer))
        cached, bare_cycle, plain_cycle, bare_subscribe = (
            statistics.median(samples[name]) for name in ("subscribe", "bare", "plain", "subscribe bare"))  # fmt: skip
        unique = median_seconds(lambda n: client.subscribe(MINIMAX, arguments={"prompt": f"u{n}", "image_url": image}),
                                cycles, timer=timer)  # fmt: skip
    app.state.mock.close()
    raw = base64.b64decode(image.split(",", 1)[1])
    from fal_mock.mock_server.jobs.validation import canonical_json

    def render(n: int) -> None:
        fields = {"prompt": f"w{n}", "image_url": image, "prompt_optimizer": True}
        render_video_from_bytes(raw, endpoint_id=MINIMAX, canonical_input=canonical_json(fields), profile="preview",
                                input_fields=fields)  # fmt: skip

    writer = median_seconds(render, cycles, timer=timer)
    print(f"\n1. fal_client.subscribe in-process ({trips} round trips per cycle; medians of {cycles // batch} "
          f"interleaved batches of {batch})")  # fmt: skip
    print(f"   subscribe, repeated input (the output cache answers): {cached * 1e3:.2f} ms")
    print(f"   the same subscribe answered by a bare fal-shaped Starlette app through the same routing: "
          f"{bare_subscribe * 1e3:.2f} ms; fal-mock's = {cached / bare_subscribe:.2f}x that "
          "(target <= 1.5x)")  # fmt: skip
    print(f"   {trips} GETs of a bare Starlette route through the same routing (no body, no fal_client work): "
          f"{bare_cycle * 1e3:.2f} ms; fal-mock's subscribe = {cached / bare_cycle:.2f}x, the bare fal-shaped one "
          f"{bare_subscribe / bare_cycle:.2f}x (a reference)")  # fmt: skip
    print(f"   the same {trips} requests from a plain httpx.Client (no fal_client work), repeated input: "
          f"{plain_cycle * 1e3:.2f} ms = {plain_cycle / bare_cycle:.2f}x the bare trips")  # fmt: skip
    print(f"   subscribe, unique input: {unique * 1e3:.2f} ms; the writer alone {writer * 1e3:.2f} ms; "
          f"(subscribe - writer) = {(unique - writer) / bare_cycle:.2f}x the bare trips")  # fmt: skip


# --- 2. wrk on a served mock vs a bare Starlette route and the aimock peer -----------------------------
BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def status(request):
    return JSONResponse({"status": "COMPLETED", "request_id": "019b76da-a800-7bbf-a670-15f9a5ac66de",
                         "response_url": "http://127.0.0.1/queue/fal-ai/minimax-video/requests/x",
                         "status_url": "http://127.0.0.1/queue/fal-ai/minimax-video/requests/x/status",
                         "cancel_url": "http://127.0.0.1/queue/fal-ai/minimax-video/requests/x/cancel",
                         "logs": None, "metrics": {}})

app = Starlette(routes=[Route("/{p:path}", status)])
"""
#: The peer: aimock's fal handler (host-mirrored paths under ``/fal`` + ``x-fal-target-host``), one fixture.
AIMOCK_DIR = Path(__file__).resolve().parent / "js"
AIMOCK_CLI = AIMOCK_DIR / "node_modules" / "@copilotkit" / "aimock" / "dist" / "cli.js"
AIMOCK_FIXTURE = {"fixtures": [{"match": {"userMessage": "wrk"}, "response": {"json": {"video": {
    "url": "https://v3.fal.media/files/x/output.mp4", "content_type": "video/mp4", "file_name": "output.mp4",
    "file_size": 1234}}}}]}  # fmt: skip
AIMOCK_HEADERS = {"x-fal-target-host": "queue.fal.run"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Served:
    """A server in its own process group: either it writes a ready file, or it is up once its port answers."""

    def __init__(self, command: list[str], workdir: Path, *, port: int | None = None, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> None:  # fmt: skip
        ready = workdir / f"ready-{len(list(workdir.iterdir()))}.json"
        full = command if port is not None else [*command, str(ready)]
        self.process = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd=cwd, env=env,
                                        start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + 60
        while not (self._answers(port) if port is not None else ready.exists()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server did not start: {command}")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port}" if port is not None else json.loads(ready.read_text())["url"]

    @staticmethod
    def _answers(port: int) -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process (all its threads) has used so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, seconds: int, headers: dict[str, str], pid: int) -> tuple[float, float]:
    """Requests per second, and the server's CPU microseconds per request, over one wrk run."""
    flags = [item for name, value in headers.items() for item in ("-H", f"{name}: {value}")]
    cpu_before = cpu_seconds(pid)
    output = subprocess.run([WRK, "-t1", "-c32", f"-d{seconds}s", *flags, url], capture_output=True, text=True,
                            check=True).stdout  # fmt: skip
    cpu = cpu_seconds(pid) - cpu_before
    match = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if match is None or total is None or non2xx is not None:
        raise SystemExit(f"wrk failed on {url}:\n{output}")
    return float(match.group(1)), cpu / int(total.group(1)) * 1e6


def mock_command(*extra: str) -> list[str]:
    """``fal-mock serve`` as shipped (log level info, access log on) but for the port and ``immediate`` jobs."""
    return [sys.executable, "-m", "fal_mock.mock_server", "serve", "--port", "0", "--progression", "immediate",
            *extra, "--ready-file"]  # fmt: skip


def aimock_server(workdir: Path) -> tuple[Served, dict[str, str]] | None:
    """aimock 1.43.0 as its CLI ships (``npm ci --prefix benchmarks/js``) and the URLs of one completed job."""
    node = shutil.which("node")
    if node is None or not AIMOCK_CLI.exists():
        return None
    fixture = workdir / "aimock-fal.json"
    fixture.write_text(json.dumps(AIMOCK_FIXTURE))
    port = free_port()
    served = Served([node, str(AIMOCK_CLI), "--port", str(port), "--fixtures", str(fixture)], workdir, port=port)
    with httpx.Client(headers=AIMOCK_HEADERS) as http:
        job = http.post(f"{served.url}/fal/{MINIMAX}", json={"prompt": "wrk"}).json()
        base = f"{served.url}/fal/{MINIMAX}/requests/{job['request_id']}"
        assert http.get(f"{base}/status").json()["status"] == "COMPLETED"
        assert "video" in http.get(base).json()
    return served, {"status": f"{base}/status", "result": base}


def part_wrk(seconds: int, rounds: int = 3, baseline: str | None = None) -> None:
    """All servers up at once; ``rounds`` interleaved wrk runs of each URL, best of each (the machine is shared).

    Two figures per server: requests per second (best round), and the server process's CPU time per
    request (``/proc``, least of the rounds) — the steadier one on a shared machine, since a server
    slowed by a neighbour uses no more CPU per request.  ``baseline``: a directory holding another
    checkout's ``fal_mock`` package (``fal_mock/mock_server`` ..., e.g. symlinks to an older commit's
    folders); its ``serve`` with shipped defaults runs in the same rounds, for before/after figures from one run.
    """
    if not shutil.which(WRK):
        print("\n2. wrk is not installed (apt-get install wrk): skipped")
        return
    servers: list[Served] = []
    with tempfile.TemporaryDirectory() as temp:
        workdir = Path(temp)
        (workdir / "bare.py").write_text(BARE_APP)
        port = free_port()
        # the bare route on uvicorn's own command line: its defaults (uvloop, httptools) without the access log
        bare = Served([sys.executable, "-m", "uvicorn", "bare:app", "--port", str(port), "--no-access-log",
                       "--log-level", "warning"], workdir, port=port, cwd=workdir)  # fmt: skip
        servers.append(bare)
        urls: dict[str, tuple[str, dict[str, str], int]] = {
            "bare": (f"{bare.url}/fal-ai/minimax-video/requests/x/status", {}, bare.process.pid)}  # fmt: skip
        try:
            variants: list[tuple[str, tuple[str, ...], dict[str, str] | None]] = [
                ("shipped defaults", (), None), ("--no-access-log", ("--no-access-log",), None)]  # fmt: skip
            if baseline:
                variants.append(("baseline", (), {**os.environ, "PYTHONPATH": baseline}))
            for label, extra, env in variants:
                served = Served(mock_command(*extra), workdir, env=env)
                servers.append(served)
                with httpx.Client(headers=AUTH) as http:
                    submitted = http.post(f"{served.url}/queue/{MINIMAX}",
                                          json={"prompt": "wrk", "image_url": png_data_uri()}).json()  # fmt: skip
                    assert http.get(submitted["status_url"]).json()["status"] == "COMPLETED"
                urls[f"{label} status"] = (submitted["status_url"], AUTH, served.process.pid)
                urls[f"{label} result"] = (submitted["response_url"], AUTH, served.process.pid)
            peer = aimock_server(workdir)
            if peer is not None:
                servers.append(peer[0])
                urls["aimock status"] = (peer[1]["status"], AIMOCK_HEADERS, peer[0].process.pid)
                urls["aimock result"] = (peer[1]["result"], AIMOCK_HEADERS, peer[0].process.pid)
            best = dict.fromkeys(urls, 0.0)
            cpu = dict.fromkeys(urls, float("inf"))
            for _ in range(rounds):
                for name, (url, headers, pid) in urls.items():
                    rate, micros = wrk(url, seconds, headers, pid)
                    best[name] = max(best[name], rate)
                    cpu[name] = min(cpu[name], micros)
        finally:
            for served in servers:
                served.stop()
    bare_rps, bare_cpu = best.pop("bare"), cpu.pop("bare")
    print(f"\n2. wrk -t1 -c32 -d{seconds}s, loopback, best of {rounds} interleaved rounds; "
          f"bare Starlette route on uvicorn's CLI (uvloop, httptools, no access log): {bare_rps:,.0f} req/s, "
          f"{bare_cpu:.1f} us of server CPU per request")  # fmt: skip
    print("   (rate ratio = req/s over the bare route's; CPU ratio = the bare route's CPU per request over ours)")
    peer_label = "aimock 1.43.0 (CLI defaults, one fal fixture)"
    rows = [("fal-mock serve, shipped defaults (access log on)", "shipped defaults"),
            ("fal-mock serve --no-access-log", "--no-access-log"), (peer_label, "aimock")]  # fmt: skip
    if baseline:
        rows.insert(0, (f"before: fal-mock serve from {baseline}, shipped defaults", "baseline"))
    for title, label in rows:
        if f"{label} status" not in best:
            print(f"   {title}: not installed (npm ci --prefix benchmarks/js): skipped")
            continue
        print(f"   {title}:")
        for kind in ("status", "result"):
            rate, micros = best[f"{label} {kind}"], cpu[f"{label} {kind}"]
            print(f"     {kind + ':':8} {rate:,.0f} req/s = {rate / bare_rps:.2f}x; "
                  f"{micros:.1f} us CPU per request = {bare_cpu / micros:.2f}x")
    if "aimock status" in best:
        for kind in ("status", "result"):
            ours, theirs = f"shipped defaults {kind}", f"aimock {kind}"
            print(f"   {kind}: fal-mock (shipped defaults) / aimock = {best[ours] / best[theirs]:.2f}x by rate, "
                  f"{cpu[theirs] / cpu[ours]:.2f}x by CPU per request (target > 1)")
    print("   targets: fal-mock with shipped defaults >= 0.6x the bare route and ahead of aimock")


# --- 3. unique-input jobs per second vs the writer -------------------------------------------------------
async def drive_jobs(url: str, jobs: int, concurrency: int) -> float:
    image = png_data_uri()
    counter = iter(range(jobs))

    async def worker(http: httpx.AsyncClient) -> None:
        for n in counter:
            submitted = (await http.post(f"{url}/queue/{MINIMAX}",
                                         json={"prompt": f"unique {n}", "image_url": image})).json()  # fmt: skip
            while (await http.get(submitted["status_url"])).json()["status"] != "COMPLETED":
                pass
            assert (await http.get(submitted["response_url"])).status_code == 200

    started = time.perf_counter()
    async with httpx.AsyncClient(headers=AUTH, timeout=60) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    return jobs / (time.perf_counter() - started)


def part_jobs(jobs: int) -> None:
    from fal_mock.mock_server.jobs.validation import canonical_json
    from fal_mock.mock_server.video import render_video_from_bytes

    image = png_data_uri()
    raw = base64.b64decode(image.split(",", 1)[1])
    started = time.perf_counter()
    for n in range(jobs):
        fields = {"prompt": f"writer {n}", "image_url": image, "prompt_optimizer": True}
        render_video_from_bytes(raw, endpoint_id=MINIMAX, canonical_input=canonical_json(fields), profile="preview",
                                input_fields=fields)  # fmt: skip
    writer_rate = jobs / (time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as temp:
        served = Served(mock_command("--no-access-log"), Path(temp))
        rate = asyncio.run(drive_jobs(served.url, jobs, 8))
        served.stop()
    print(f"\n3. unique inputs, {jobs} jobs, 8 concurrent clients on fal-mock serve: {rate:.0f} jobs/s end to end; "
          f"the video writer alone (one thread, preview 320x240x48): {writer_rate:.0f} videos/s "
          f"-> {rate / writer_rate:.2f}x the writer's speed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=200, help="subscribe cycles per measurement")
    parser.add_argument("--wrk-seconds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=300, help="unique-input jobs for part 3")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved wrk rounds in part 2 (best of)")
    parser.add_argument("--baseline", help="part 2: also serve the fal_mock package found in this directory")
    parser.add_argument("--cpu-time", action="store_true",
                        help="part 1: time with the process's CPU time (steadier than wall time on a busy machine)")
    parser.add_argument("--parts", default="1,2,3")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if "1" in parts:
        part_subscribe(args.cycles, time.process_time if args.cpu_time else time.perf_counter)
    if "2" in parts:
        part_wrk(args.wrk_seconds, args.rounds, args.baseline)
    if "3" in parts:
        part_jobs(args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
