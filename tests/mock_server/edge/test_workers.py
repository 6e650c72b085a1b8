"""``fal-mock serve --workers N``: refused without a data dir; with one, workers share every piece of state.

The multi-worker tests start a real server (subprocess, port 0, ready file).  Each status
read goes out on a fresh connection (``Connection: close``), so the kernel hands reads of one
job to whichever worker accepts next: exact ``polls:N`` sequences, unique ids and one output
per job only hold if the workers share one store and count atomically.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from fal_mock.mock_server.cli import main

from tests.support import AUTH, ServeProcess, data_uri, png_bytes

MINIMAX = "fal-ai/minimax-video/image-to-video"
FRESH = {**AUTH, "Connection": "close"}


def test_workers_without_a_data_dir_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--workers", "2", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "--workers 2 needs --data-dir DIR" in err
    assert "404" in err  # says why


def test_zero_workers_are_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["serve", "--workers", "0", "--data-dir", str(tmp_path)]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    """The pids still alive after ``timeout`` (waits on pidfds, no polling)."""
    alive = []
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                alive.append(pid)
        finally:
            os.close(fd)
    return alive


@pytest.mark.slow
def test_two_workers_share_jobs_counts_ids_and_outputs(tmp_path: Path) -> None:
    image = data_uri(png_bytes())
    args = ("--workers", "2", "--data-dir", str(tmp_path / "data"), "--progression", "polls:2", "--no-access-log")
    with ServeProcess(tmp_path, *args) as server:
        workers = server.info["workers"]
        assert len(set(workers)) == 2
        submitted: list[dict[str, Any]] = []
        lock = threading.Lock()

        def submit(worker: int) -> None:
            with httpx.Client(headers=FRESH, timeout=30) as http:
                for index in range(5):
                    body = {"prompt": f"{worker}-{index}", "image_url": image}
                    response = http.post(f"{server.url}/queue/{MINIMAX}", json=body)
                    assert response.status_code == 200
                    with lock:
                        submitted.append(response.json())

        threads = [threading.Thread(target=submit, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ids = [job["request_id"] for job in submitted]
        assert len(ids) == 30
        assert len(set(ids)) == 30  # one id counter for both workers

        with httpx.Client(headers=FRESH, timeout=30) as http:
            for job in submitted:
                states = [http.get(job["status_url"]).json()["status"] for _ in range(5)]
                # polls:2 counted exactly, whichever worker answered each read: every state seen twice
                expected = ["IN_QUEUE", "IN_QUEUE", "IN_PROGRESS", "IN_PROGRESS", "COMPLETED"]
                assert states == expected, (job["request_id"], states)
                assert http.get(job["response_url"]).status_code == 200
            files = http.get(f"{server.url}/_mock/files").json()["files"]
        # every job was generated once: one output file each, never two
        outputs = [f for f in files if f["file_name"] == "output.mp4"]
        assert len(outputs) == 30
    assert "Traceback" not in server.output()


@pytest.mark.slow
def test_workers_accept_each_others_upload_credentials(tmp_path: Path) -> None:
    """One server secret in the data dir: a token or signed URL issued by either worker works on both.

    Every request goes out on a fresh connection, so issuing and using land on the workers at
    random; with a secret per worker about half of the uses would be refused.
    """
    data_dir = tmp_path / "data"
    with ServeProcess(tmp_path, "--workers", "2", "--data-dir", str(data_dir), "--no-access-log") as server:
        with httpx.Client(headers=FRESH, timeout=30) as http:
            tokens = [http.post(f"{server.url}/rest/storage/auth/token", json={}).json()["token"] for _ in range(8)]
            signed = [http.post(f"{server.url}/rest/storage/upload/initiate", json={}).json() for _ in range(8)]
        with httpx.Client(headers={"Connection": "close"}, timeout=30) as anonymous:
            for index, token in enumerate(tokens * 2):
                answer = anonymous.post(f"{server.url}/cdn/files/upload", content=f"t{index}".encode(),
                                        headers={"authorization": f"Bearer {token}"})  # fmt: skip
                assert answer.status_code == 200, answer.text
            for index, grant in enumerate(signed):
                assert anonymous.put(grant["upload_url"], content=f"s{index}".encode()).status_code == 200
                for _ in range(3):  # read back through whichever worker answers
                    assert anonymous.get(grant["file_url"]).content == f"s{index}".encode()
    assert (data_dir / "server-secret").exists()
    assert "Traceback" not in server.output()


@pytest.mark.slow
def test_a_data_dir_serves_one_server_at_a_time(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    with ServeProcess(tmp_path, "--data-dir", data, "--no-access-log"):
        command = [sys.executable, "-m", "fal_mock.mock_server", "serve", "--port", "0", "--data-dir", data]
        second = subprocess.run([*command, "--workers", "2"], capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == 2
        assert "in use by another fal-mock server" in second.stderr


@pytest.mark.slow
def test_workers_stop_when_their_parent_is_killed(tmp_path: Path) -> None:
    server = ServeProcess(tmp_path, "--workers", "2", "--data-dir", str(tmp_path / "data"), "--no-access-log").start()
    try:
        workers = [int(pid) for pid in server.info["workers"]]
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)  # the parent only: no orphaned workers serving on
        server.process.wait()
        assert _wait_gone(workers, timeout=30) == []
    finally:
        server.kill()


class _Receiver:
    """A webhook receiver on loopback (a thread): answers 200 and counts the POSTs."""

    def __init__(self) -> None:
        import http.server

        received: list[bytes] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(self.rfile.read(int(self.headers.get("content-length", "0"))))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                """Quiet."""

        self.received = received
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.slow
def test_every_worker_answers_the_control_api_the_same(tmp_path: Path) -> None:
    """Faults, the webhook journal and single deliveries read the same from both workers (fresh connections)."""
    image = data_uri(png_bytes())
    receiver = _Receiver()
    args = ("--workers", "2", "--data-dir", str(tmp_path / "data"), "--progression", "immediate", "--no-access-log")
    try:
        with ServeProcess(tmp_path, *args) as server, httpx.Client(headers=FRESH, timeout=30) as http:
            added = http.post(f"{server.url}/_mock/faults", json={"on": "submit", "kind": "http", "status": 429,
                                                                   "times": 3})  # fmt: skip
            assert added.status_code == 201, added.text
            views = {http.get(f"{server.url}/_mock/faults").text for _ in range(20)}
            assert len(views) == 1  # every read, whichever worker took it
            assert [fault["remaining"] for fault in http.get(f"{server.url}/_mock/faults").json()["faults"]] == [3]

            codes = [http.post(f"{server.url}/queue/{MINIMAX}?fal_webhook={receiver.url}",
                               json={"prompt": f"w{index}", "image_url": image}).status_code
                     for index in range(10)]  # fmt: skip
            assert codes == [429, 429, 429] + [200] * 7  # the fault fired exactly 3 times across the workers
            faults = http.get(f"{server.url}/_mock/faults").json()
            assert [fault["remaining"] for fault in faults["faults"]] == [0]
            assert len(faults["fired"]) == 3

            jobs = http.get(f"{server.url}/_mock/jobs").json()["jobs"]
            for job in jobs:  # each job completes once its output is rendered (status reads, either worker)
                status_url = f"{server.url}/queue/fal-ai/minimax-video/requests/{job['request_id']}/status"
                states = [http.get(status_url).json()["status"] for _ in range(30)]
                assert states[-1] == "COMPLETED", states
            for _ in range(50):  # deliveries run in the background: /idle waits for a worker's in-flight ones
                every = http.get(f"{server.url}/_mock/webhooks/idle?timeout=5").json()["deliveries"]
                listed = [delivery for delivery in every if delivery["state"] == "delivered"]
                if len(listed) == 7:
                    break
            assert len(listed) == 7
            counts = {len(http.get(f"{server.url}/_mock/webhooks").json()["deliveries"]) for _ in range(20)}
            assert counts == {7}
            one = listed[0]["id"]
            assert {http.get(f"{server.url}/_mock/webhooks/{one}").status_code for _ in range(10)} == {200}
            resent = [http.post(f"{server.url}/_mock/webhooks/{one}/resend").status_code for _ in range(4)]
            assert resent == [200] * 4, resent
        assert "Traceback" not in server.output()
    finally:
        receiver.close()
