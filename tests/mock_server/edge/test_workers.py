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
