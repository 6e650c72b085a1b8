"""Replays the attacks of issue 13 against a real ``fal-mock serve`` and prints what happened.

Run: ``.venv/bin/python benchmarks/bench_attacks.py [--only slowloris,hung_webhook,...] [--deadline 20]``

One server runs for all attacks: ``fal-mock serve --port 0 --progression immediate
--no-access-log --set image_url_policy=fetch --set fetch_allow_hosts=*`` in a subprocess whose
open-file limit is 1,024 (``ulimit -n 1024``, as in the adversarial run), on loopback.  The
server's log goes to a file; its size is reported (EMFILE floods wrote 183 MB before).  Each
attack prints status codes, latencies and the server's RSS (``/proc/<pid>/status``), and is
capped at ``--deadline`` seconds (every wait has a timeout); all of them together take well
under two minutes.

The attacks (issue 13's numbering):

* ``slowloris`` (6) — 1,100 connections that each send half a request line and headers and
  stop; then ``GET /_mock/health`` is timed five times on fresh connections;
* ``hung_webhook`` (7) — 300 jobs whose webhook goes to a port that accepts and never
  answers, then one job whose webhook goes to a healthy receiver: the time until the healthy
  receiver has its delivery;
* ``huge_receiver_body`` (7) — three receivers each answering a 345 MB body: the server's RSS
  before and after, and the ``response_body`` kept;
* ``cross_site_control`` (8) — a ``text/plain`` ``POST /_mock/reset`` with
  ``Origin: http://evil.example``, the same without Origin, and whether any job was lost;
* ``forged_host`` (8) — ``Host: evil.example`` on ``GET /_mock/jobs`` and ``POST /_mock/reset``
  (DNS rebinding);
* ``webhook_to_own_control`` (8) — a job whose ``fal_webhook`` is the server's own
  ``/_mock/reset`` (and loopback aliases of it);
* ``proxy_user_info`` (9) — ``/proxy`` with ``user:pw@queue.fal.run`` and
  ``evil.com\\@queue.fal.run`` targets;
* ``ipv6_private_forms`` (9) — ``image_url`` on ``[::127.0.0.1]``, ``[::ffff:127.0.0.1]``,
  ``[64:ff9b::a9fe:a9fe]`` and ``[2002:7f00:1::]`` with the ``fetch`` policy: how the job ends.

More attacks (storage forging, ingress): write ``def attack_<name>(server: Server, deadline:
float) -> dict[str, Any]`` and add it to :data:`ATTACKS`; it gets the running server (URL,
pid, log file) and prints through the common report.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.server
import io
import json
import os
import resource
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

MINIMAX = "fal-ai/minimax-video/image-to-video"
AUTH = {"Authorization": "Key fal-mock-key:fal-mock-secret"}
SERVER_FD_LIMIT = 1024
SLOW_CONNECTIONS = 1_100
HUNG_DELIVERIES = 300
HUGE_BODY_BYTES = 345 * 1024 * 1024


def input_image() -> str:
    image = Image.new("RGB", (64, 48), (30, 120, 200))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


GOOD = {"prompt": "attack replay", "image_url": input_image()}


@dataclass
class Server:
    url: str
    host: str
    port: int
    pid: int
    log: Path
    process: subprocess.Popen[bytes]

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def log_bytes(self) -> int:
        return self.log.stat().st_size


@contextlib.contextmanager
def running_server(workdir: Path, *extra: str) -> Iterator[Server]:
    read_fd, write_fd = os.pipe()
    log_path = workdir / "server.log"
    command = [sys.executable, "-m", "fal_mock.mock_server", "serve", "--port", "0", "--ready-fd", str(write_fd),
               "--progression", "immediate", "--no-access-log", "--set", "image_url_policy=fetch",
               "--set", "fetch_allow_hosts=*", *extra]  # fmt: skip

    def limit_fds() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (SERVER_FD_LIMIT, SERVER_FD_LIMIT))

    env = {name: value for name, value in os.environ.items() if not name.startswith("FAL_MOCK_")}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, pass_fds=(write_fd,), env=env,
                                   preexec_fn=limit_fds)  # fmt: skip
    os.close(write_fd)
    chunks = []
    while True:
        readable, _, _ = select.select([read_fd], [], [], 60)
        chunk = os.read(read_fd, 65536) if readable else b""
        if not chunk:
            break
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            break
    os.close(read_fd)
    if not chunks:
        process.kill()
        raise SystemExit(f"fal-mock serve did not start:\n{log_path.read_text()[-2000:]}")
    info = json.loads(b"".join(chunks))
    try:
        yield Server(info["url"], info["host"], int(info["port"]), int(info["pid"]), log_path, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- helpers -------------------------------------------------------------------------------------------------
def timed_get(url: str, timeout: float = 5.0, **kwargs: Any) -> tuple[int | str, float]:
    started = time.perf_counter()
    try:
        status: int | str = httpx.get(url, timeout=timeout, **kwargs).status_code
    except httpx.HTTPError as error:
        status = type(error).__name__
    return status, time.perf_counter() - started


def raw_health(host: str, port: int, timeout: float = 5.0) -> tuple[int | str, float]:
    """``GET /_mock/health`` on a fresh raw connection (no client library overhead): status and seconds."""
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            head = sock.recv(65536)
        status: int | str = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else "no answer"
    except OSError as error:
        status = type(error).__name__
    return status, time.perf_counter() - started


def submit(http: httpx.Client, server: Server, hook: str | None = None, body: Any = None) -> httpx.Response:
    params = {"fal_webhook": hook} if hook else None
    return http.post(f"{server.url}/queue/{MINIMAX}", params=params, json=GOOD if body is None else body)


def job_count(server: Server) -> int:
    answer = httpx.get(f"{server.url}/_mock/jobs", timeout=10)
    return len(answer.json()["jobs"])


class _Receiver(http.server.BaseHTTPRequestHandler):
    arrivals: list[tuple[str, float]]
    answer_bytes = 2

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.arrivals.append((self.path, time.perf_counter()))
        self.send_response(200)
        self.send_header("content-length", str(self.answer_bytes))
        self.end_headers()
        chunk = b"x" * 65536
        left = self.answer_bytes
        try:
            while left > 0:
                self.wfile.write(chunk[: min(left, len(chunk))])
                left -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def receiver(answer_bytes: int = 2) -> Iterator[tuple[str, list[tuple[str, float]]]]:
    arrivals: list[tuple[str, float]] = []
    handler = type("Handler", (_Receiver,), {"arrivals": arrivals, "answer_bytes": answer_bytes})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", arrivals
    finally:
        server.shutdown()
        server.server_close()


def wait_until(condition: Callable[[], bool], deadline: float) -> bool:
    """Poll ``condition`` (a benchmark may; tests never do) until it holds or ``deadline`` (perf_counter) passes."""
    while time.perf_counter() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


# --- the attacks ---------------------------------------------------------------------------------------------
def attack_slowloris(server: Server, deadline: float) -> dict[str, Any]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = SLOW_CONNECTIONS + 256
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    log_before = server.log_bytes()
    slow: list[socket.socket] = []
    refused = 0
    started = time.perf_counter()
    for _ in range(SLOW_CONNECTIONS):
        if time.perf_counter() > deadline - 10:
            break
        try:
            sock = socket.create_connection((server.host, server.port), timeout=2)
            sock.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            slow.append(sock)
        except OSError:
            refused += 1
    opened = time.perf_counter() - started
    health = [raw_health(server.host, server.port) for _ in range(5)]
    closed_by_server = 0
    for sock in slow:
        sock.setblocking(False)
        try:
            sock.recv(1, socket.MSG_PEEK)  # an answer (408) or EOF: the server closed it
            closed_by_server += 1
        except BlockingIOError:
            pass  # still open, still waiting
        except OSError:
            closed_by_server += 1
        sock.close()
    return {
        "slow connections opened": f"{len(slow)} in {opened:.2f} s ({refused} refused)",
        "health during the attack": ", ".join(f"{status} in {seconds * 1000:.0f} ms" for status, seconds in health),
        "health worst": f"{max(seconds for _, seconds in health) * 1000:.0f} ms",
        "slow connections already closed by the server": closed_by_server,
        "server log growth": f"{server.log_bytes() - log_before} bytes",
        "server RSS": f"{server.rss_mb():.0f} MB",
    }


def attack_hung_webhook(server: Server, deadline: float) -> dict[str, Any]:
    hole = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    hole.bind(("127.0.0.1", 0))
    hole.listen(1024)
    dead = f"http://127.0.0.1:{hole.getsockname()[1]}/hook"
    try:
        with receiver() as (healthy, arrivals), httpx.Client(headers=AUTH, timeout=30) as http:
            started = time.perf_counter()
            statuses = [submit(http, server, dead).status_code for _ in range(HUNG_DELIVERIES)]
            submitted = time.perf_counter() - started
            sent = time.perf_counter()
            status = submit(http, server, healthy + "/hook").status_code
            arrived = wait_until(lambda: bool(arrivals), deadline)
            delay = arrivals[0][1] - sent if arrived else float("nan")
            return {
                f"{HUNG_DELIVERIES} submits to a dead receiver": f"{sorted(set(statuses))} in {submitted:.1f} s",
                "healthy receiver's submit": status,
                "healthy delivery arrived after": f"{delay * 1000:.0f} ms" if arrived else "never (deadline)",
                "server RSS": f"{server.rss_mb():.0f} MB",
            }
    finally:
        hole.close()
        httpx.request("DELETE", f"{server.url}/_mock/webhooks", headers={"x-fal-mock-control": "1"}, timeout=10)


def attack_huge_receiver_body(server: Server, deadline: float) -> dict[str, Any]:
    before = server.rss_mb()
    with contextlib.ExitStack() as stack:
        targets = [stack.enter_context(receiver(HUGE_BODY_BYTES)) for _ in range(3)]
        with httpx.Client(headers=AUTH, timeout=30) as http:
            ids = [submit(http, server, url + "/hook").json()["request_id"] for url, _ in targets]

        def done() -> bool:
            data = httpx.get(f"{server.url}/_mock/webhooks", timeout=10).json()
            states = {d["request_id"]: d["state"] for d in data["deliveries"]}
            return all(states.get(rid) in ("delivered", "failed") for rid in ids)

        finished = wait_until(done, deadline)
        deliveries = httpx.get(f"{server.url}/_mock/webhooks", timeout=10).json()["deliveries"]
    kept = [d["attempts"][-1] for d in deliveries if d["request_id"] in ids and d["attempts"]]
    return {
        "receivers": f"3 answering {HUGE_BODY_BYTES / 2**20:.0f} MB each",
        "deliveries finished": finished,
        "attempts": ", ".join(f"{a['status_code']} ({a.get('duration_seconds', 0) * 1000:.0f} ms)" for a in kept),
        "response_body kept": ", ".join(
            f"{len(a.get('response_body') or '')} chars, truncated={a.get('response_truncated')}" for a in kept
        ),
        "server RSS before / after": f"{before:.0f} MB / {server.rss_mb():.0f} MB",
    }


def attack_cross_site_control(server: Server, deadline: float) -> dict[str, Any]:
    with httpx.Client(headers=AUTH, timeout=30) as http:
        submit(http, server)
    jobs_before = job_count(server)
    evil = httpx.post(f"{server.url}/_mock/reset", content=b"x", timeout=10,
                      headers={"content-type": "text/plain", "origin": "http://evil.example"})  # fmt: skip
    plain = httpx.post(f"{server.url}/_mock/reset", content=b"x", headers={"content-type": "text/plain"}, timeout=10)
    form = httpx.post(f"{server.url}/_mock/jobs/complete-all", data={"a": "b"}, timeout=10)
    return {
        "text/plain POST /_mock/reset with Origin evil.example": evil.status_code,
        "text/plain POST /_mock/reset without Origin": plain.status_code,
        "form POST /_mock/jobs/complete-all": form.status_code,
        "jobs before / after": f"{jobs_before} / {job_count(server)}",
    }


def attack_forged_host(server: Server, deadline: float) -> dict[str, Any]:
    forged = {"host": f"evil.example:{server.port}"}
    read = httpx.get(f"{server.url}/_mock/jobs", headers=forged, timeout=10)
    reset = httpx.post(f"{server.url}/_mock/reset", json={}, headers=forged, timeout=10)
    health = httpx.get(f"{server.url}/_mock/health", headers=forged, timeout=10)
    own = httpx.get(f"{server.url}/_mock/jobs", timeout=10)
    return {
        "GET /_mock/jobs, Host evil.example": read.status_code,
        "POST /_mock/reset, Host evil.example": reset.status_code,
        "GET /_mock/health, Host evil.example": health.status_code,
        "GET /_mock/jobs, own Host": own.status_code,
    }


def attack_webhook_to_own_control(server: Server, deadline: float) -> dict[str, Any]:
    hooks = [
        f"http://127.0.0.1:{server.port}/_mock/reset",
        f"http://localhost:{server.port}/_mock/reset",
        f"http://[::ffff:127.0.0.1]:{server.port}/%5Fmock/reset",
        f"http://127.0.0.2:{server.port}/_mock/reset",
    ]
    with httpx.Client(headers=AUTH, timeout=30) as http:
        submit(http, server)
        before = job_count(server)
        statuses = {hook: submit(http, server, hook).status_code for hook in hooks}
    return {**{f"fal_webhook={hook}": status for hook, status in statuses.items()},
            "jobs before / after": f"{before} / {job_count(server)}"}  # fmt: skip


def attack_proxy_user_info(server: Server, deadline: float) -> dict[str, Any]:
    targets = [f"https://user:pw@queue.fal.run/{MINIMAX}", f"https://evil.com\\@queue.fal.run/{MINIMAX}",
               f"https://queue.fal.run/{MINIMAX}"]  # fmt: skip
    results = {}
    for target in targets:
        answer = httpx.post(f"{server.url}/proxy", headers={"x-fal-target-url": target}, json=GOOD, timeout=30)
        results[f"x-fal-target-url: {target}"] = answer.status_code
    return results


def attack_ipv6_private_forms(server: Server, deadline: float) -> dict[str, Any]:
    results = {}
    with httpx.Client(headers=AUTH, timeout=30) as http:
        for host in ("[::127.0.0.1]", "[::ffff:127.0.0.1]", "[64:ff9b::a9fe:a9fe]", "[2002:7f00:1::]"):
            body = {"prompt": "p", "image_url": f"http://{host}:{server.port}/_mock/health"}
            answer = http.get(submit(http, server, body=body).json()["response_url"])
            detail = answer.json().get("detail")
            why = detail[0].get("msg", "") if isinstance(detail, list) and detail else str(detail)
            results[f"image_url on {host}"] = f"{answer.status_code}: {why[:90]}"
    return results


ATTACKS: list[tuple[str, Callable[[Server, float], dict[str, Any]]]] = [
    ("slowloris", attack_slowloris),
    ("hung_webhook", attack_hung_webhook),
    ("huge_receiver_body", attack_huge_receiver_body),
    ("cross_site_control", attack_cross_site_control),
    ("forged_host", attack_forged_host),
    ("webhook_to_own_control", attack_webhook_to_own_control),
    ("proxy_user_info", attack_proxy_user_info),
    ("ipv6_private_forms", attack_ipv6_private_forms),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated attack names (default: all)")
    parser.add_argument("--deadline", type=float, default=20.0, help="seconds each attack may take at most")
    args = parser.parse_args(argv)
    chosen = [item for item in args.only.split(",") if item] or [name for name, _ in ATTACKS]
    unknown = set(chosen) - {name for name, _ in ATTACKS}
    if unknown:
        parser.error(f"unknown attacks {sorted(unknown)}; known: {', '.join(name for name, _ in ATTACKS)}")
    total = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fal-mock-attacks-") as workdir, running_server(Path(workdir)) as server:
        print(f"fal-mock serve at {server.url} (pid {server.pid}, ulimit -n {SERVER_FD_LIMIT}), "
              f"RSS {server.rss_mb():.0f} MB")  # fmt: skip
        for name, attack in ATTACKS:
            if name not in chosen:
                continue
            started = time.perf_counter()
            try:
                report = attack(server, started + args.deadline)
            except Exception as error:  # an attack that breaks the benchmark is a finding too
                report = {"benchmark error": f"{type(error).__name__}: {error}"}
            print(f"\n== {name} ({time.perf_counter() - started:.1f} s)")
            for key, value in report.items():
                print(f"   {key}: {value}")
        print(f"\nserver log: {server.log_bytes()} bytes; server RSS at the end {server.rss_mb():.0f} MB; "
              f"total {time.perf_counter() - total:.1f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
