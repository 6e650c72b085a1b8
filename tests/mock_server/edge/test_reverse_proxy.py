"""``fal-mock serve --proxy-headers --root-path`` behind a real TLS-terminating reverse proxy (slow: two servers).

The proxy (``tls_proxy.py``: uvicorn on TLS, forwarding as nginx does) serves the mock under
``https://localhost:PORT/fal/`` and connects to it from 127.0.0.2, the only allowed proxy.  The
URLs the mock hands out must be the proxy's (https, its host and port, under /fal) and lead back
through it; the same headers sent straight to the mock by anyone else change nothing.
"""

from __future__ import annotations

import json
import os
import select
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fal_mock.mock_server.edge.server import make_tls

PROXY_SCRIPT = Path(__file__).with_name("tls_proxy.py")
ARGS = {"prompt": "a cat", "image_url": "https://v3.fal.media/files/penguin/example.png"}
AUTH = {"Authorization": "Key fal-mock-key:fal-mock-secret"}
START_SECONDS = 60.0


def ready_line(read_fd: int) -> dict[str, object]:
    """Block (select, no sleeping) until the child writes its JSON line; fail if it exits first."""
    received = b""
    try:
        while not received.endswith(b"\n"):
            readable, _, _ = select.select([read_fd], [], [], START_SECONDS)
            chunk = os.read(read_fd, 65536) if readable else b""
            if not chunk:
                raise AssertionError("the process exited (or hung) before it was ready")
            received += chunk
    finally:
        os.close(read_fd)
    info: dict[str, object] = json.loads(received)
    return info


def start(command: list[str], log: Path) -> tuple[subprocess.Popen[bytes], dict[str, object]]:
    read_fd, write_fd = os.pipe()
    command = [part.replace("{fd}", str(write_fd)) for part in command]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, pass_fds=(write_fd,))
    os.close(write_fd)
    try:
        return process, ready_line(read_fd)
    except AssertionError:
        process.kill()
        process.wait()
        raise AssertionError(log.read_text(errors="replace")[-3000:]) from None


@dataclass(frozen=True)
class Setup:
    mock_url: str
    proxy_url: str
    proxy_ca: ssl.SSLContext
    mock_log: Path


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    folder = tmp_path_factory.mktemp("proxy")
    mock, info = start([sys.executable, "-m", "fal_mock", "serve", "--port", "0", "--ready-fd", "{fd}",
                        "--root-path", "/fal", "--proxy-headers", "--forwarded-allow-ips", "127.0.0.2",
                        "--log-level", "trace", "--set", "progression=immediate"], folder / "mock.log")  # fmt: skip
    tls = make_tls(folder / "proxy-tls")
    assert tls.key_file is not None
    proxy = None
    try:
        proxy, proxy_info = start([sys.executable, str(PROXY_SCRIPT), "--upstream", str(info["url"]), "--prefix",
                                   "/fal", "--cert", tls.cert_file, "--key", tls.key_file, "--ready-fd", "{fd}",
                                   "--local-address", "127.0.0.2"], folder / "proxy.log")  # fmt: skip
        context = ssl.create_default_context(cafile=tls.ca_file)
        yield Setup(str(info["url"]), f"https://localhost:{proxy_info['port']}", context, folder / "mock.log")
    finally:
        for process in (proxy, mock):
            if process is not None:
                process.terminate()
                process.wait(30)


@pytest.mark.slow
def test_urls_handed_out_through_the_proxy_are_the_proxys(behind_proxy: Setup) -> None:
    base = behind_proxy.proxy_url + "/fal"
    with httpx.Client(verify=behind_proxy.proxy_ca, headers=AUTH, timeout=60) as client:
        submitted = client.post(base + "/queue/fal-ai/minimax-video/image-to-video", json=ARGS).json()
        assert submitted["status_url"].startswith(base + "/queue/fal-ai/minimax-video/requests/")
        assert submitted["response_url"].startswith(base + "/queue/")
        status = client.get(submitted["status_url"]).json()
        assert status["status"] == "COMPLETED"
        result = client.get(submitted["response_url"]).json()
        video_url = result["video"]["url"]
        assert video_url.startswith(base + "/cdn/files/")
        video = client.get(video_url)
        assert video.headers["content-type"] == "video/mp4"
        assert video.content[4:8] == b"ftyp"
        token = client.post(base + "/rest/storage/auth/token?storage_type=fal-cdn-v3", json={}).json()
        assert token["base_url"].startswith(base + "/cdn")


@pytest.mark.slow
def test_forwarded_headers_from_anyone_else_change_nothing(behind_proxy: Setup) -> None:
    spoofed = {**AUTH, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    response = httpx.post(behind_proxy.mock_url + "/queue/fal-ai/minimax-video/image-to-video", json=ARGS,
                          headers=spoofed)  # fmt: skip
    assert response.status_code == 200
    assert response.json()["status_url"].startswith(behind_proxy.mock_url + "/fal/queue/")


@pytest.mark.slow
def test_log_level_trace_logs_the_connections(behind_proxy: Setup) -> None:
    httpx.get(behind_proxy.mock_url + "/_mock/health")
    log = behind_proxy.mock_log.read_text(errors="replace")
    assert "HTTP connection made" in log
