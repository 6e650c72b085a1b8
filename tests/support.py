"""Helpers shared by the test suite: CI-aware requirements and in-process app plumbing."""

from __future__ import annotations

import base64
import contextlib
import io
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
JS_DIR = REPO / "tests" / "js"
AUTH = {"Authorization": "Key fal-mock-key:fal-mock-secret"}


def require(condition: bool, reason: str) -> None:
    """Skip when ``condition`` is false — but fail under CI=true, where every check must run."""
    if not condition:
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: this check must run, so its tool must be installed)")
        pytest.skip(reason)


def require_chromium() -> str:
    require(Path(CHROMIUM).exists(), f"Debian's chromium is not installed at {CHROMIUM}")
    return CHROMIUM


def require_ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    require(path is not None, "the ffmpeg command is not installed")
    assert path is not None
    return path


def require_node() -> str:
    node = shutil.which("node")
    require(node is not None, "Node.js is not installed")
    require((JS_DIR / "node_modules" / "@fal-ai" / "client").exists(), "run `npm ci --prefix tests/js` first")
    assert node is not None
    return node


def png_bytes(size: tuple[int, int] = (96, 64), colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A small PNG with a gradient and a block, so the first frame is easy to recognise."""
    width, height = size
    image = Image.new("RGB", size, colour)
    pixels = image.load()
    assert pixels is not None
    for x in range(width):
        for y in range(height):
            if (x // 8 + y // 8) % 2 == 0:
                pixels[x, y] = (x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), 90)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def read_ready_pipe(
    fd: int, process: subprocess.Popen[bytes], timeout: float = 60.0, log: Path | None = None
) -> dict[str, object]:
    """The JSON line ``fal-mock serve --ready-fd`` writes once it accepts connections.

    Blocks in ``select`` on the pipe (no polling, no sleep): the server's line wakes it, and so
    does the end of the pipe if the server dies first — then the failure names the server's output.
    ``timeout`` is a ceiling, never the expected wait.
    """
    import json
    import select

    chunks: list[bytes] = []
    try:
        while True:
            readable, _, _ = select.select([fd], [], [], timeout)
            if not readable:
                raise AssertionError(f"fal-mock serve was not ready within {timeout} s:\n{_tail(log)}")
            chunk = os.read(fd, 65536)
            if not chunk:
                code = process.wait(timeout=30)
                raise AssertionError(f"fal-mock serve exited with {code} before it was ready:\n{_tail(log)}")
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                break
    finally:
        os.close(fd)
    loaded: dict[str, object] = json.loads(b"".join(chunks))
    return loaded


def _tail(log: Path | None) -> str:
    return log.read_text(errors="replace")[-3000:] if log and log.exists() else ""


class ServeProcess:
    """``fal-mock serve`` in a subprocess on port 0 — the one server helper of the test suite.

    ``with ServeProcess(tmp_path, "--tls", "--progression", "immediate") as server:`` (or
    ``.start()`` … ``.stop()`` / ``.kill()``); ``.url``, ``.ca_file`` and ``.info`` come from the
    server's ready pipe (``--ready-fd``), never from a sleep.  The server runs in its own process group, so ``kill()``
    (``kill -9``) reaches a multi-worker server's workers too, and writes its output to a log
    file (``output()``), so a busy server never blocks on a full pipe.  ``FAL_MOCK_*`` variables
    of the test run are not passed on unless given in ``env``.
    """

    def __init__(self, workdir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        import uuid

        self.workdir = workdir
        self.args = args
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, object] = {}
        self.log_path = workdir / f"server-{uuid.uuid4().hex[:8]}.log"

    @property
    def url(self) -> str:
        return str(self.info["url"])

    @property
    def ca_file(self) -> str | None:
        value = self.info.get("ca_file")
        return str(value) if value else None

    def start(self) -> ServeProcess:
        import sys

        read_fd, write_fd = os.pipe()
        command = [sys.executable, "-m", "fal_mock.mock_server", "serve", "--port", "0", "--ready-fd", str(write_fd)]
        environment = {name: value for name, value in os.environ.items() if not name.startswith("FAL_MOCK_")}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [*command, *self.args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                env={**environment, **(self.env or {})}, pass_fds=(write_fd,),
            )  # fmt: skip
        os.close(write_fd)  # the child holds the only write end: its exit means EOF here
        try:
            self.info = read_ready_pipe(read_fd, self.process, log=self.log_path)
        except BaseException:
            self.kill()
            raise
        return self

    def kill(self) -> None:
        """``kill -9`` the server and every process of its group; returns once they are gone."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> int:
        """SIGTERM (a graceful shutdown); returns the exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # stragglers of the group (workers), if any
        return self.process.returncode

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()


Facts = dict[tuple[str, str], dict[str, object]]


def node_checks(script: str, *args: str, timeout: float = 300) -> Facts:
    """Run ``tests/js/<script>`` with Node and collect its JSON lines as ``{(mode, check): fact}``."""
    import json

    node = require_node()
    done = subprocess.run(
        [node, str(JS_DIR / script), *args], cwd=JS_DIR, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    facts: Facts = {}
    for line in done.stdout.splitlines():
        fact = json.loads(line)
        facts[(fact["mode"], fact["check"])] = fact
    return facts


@pytest.fixture(params=["memory", "sqlite"], name="store_kind")
def both_stores(request: pytest.FixtureRequest) -> str:
    """Import into a test module (``from tests.support import both_stores``): its apps (``make_app``) and
    stores (``state_store``) run on memory and on SQLite, the one store contract checked on both."""
    return str(request.param)


#: Store methods that read jobs (what "one store read" counts).
JOB_READS = frozenset({"get_job", "update_job", "jobs", "unfinished_jobs", "queued_ahead", "count_unfinished",
                       "count_queued", "unfinished_ids"})  # fmt: skip


class CountingStore:
    """A state store that counts the job reads made through it (everything else passes through)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.reads: list[str] = []

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.inner, name)
        if name in JOB_READS:

            def counted(*args: Any, **kwargs: Any) -> Any:
                self.reads.append(name)
                return found(*args, **kwargs)

            return counted
        return found


class FakeServe:
    """Stands in for ``edge.server.serve``: records the options ``run_serve`` would have served with."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, app: Any, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        app.state.mock.close()


def install_fake_serve(monkeypatch: pytest.MonkeyPatch) -> FakeServe:
    """Replace ``serve`` with a :class:`FakeServe` (and forget ``FORWARDED_ALLOW_IPS``) for one test."""
    fake = FakeServe()
    monkeypatch.setattr("fal_mock.mock_server.edge.server.serve", fake)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    return fake


def count_validations(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record the arguments of every real input validation (``validate_with``) for one test; returns the list."""
    from fal_mock.mock_server.jobs import endpoints, validation

    runs: list[Any] = []
    real = validation.validate_with

    def counted(validator: Any, arguments: Any) -> dict[str, Any]:
        runs.append(arguments)
        result: dict[str, Any] = real(validator, arguments)
        return result

    monkeypatch.setattr(validation, "validate_with", counted)
    monkeypatch.setattr(endpoints, "validate_with", counted)
    return runs
