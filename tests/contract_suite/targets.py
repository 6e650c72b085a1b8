"""The three targets of the contract suite and what a test needs from them.

A :class:`Target` is a :class:`~fal_mock.client.FalClient` (``validate=True``: every answer is
checked against ``contracts/``) plus the facts a test may need: every HTTP answer it got
(recorded by an httpx event hook, so tests can assert status codes and headers), whether
it is real fal, and helpers that skip what a target must not do (spend money on live fal
without ``--live-generate``).
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fal_mock.client import Completed, FalClient, FalHTTPError, RequestHandle, Status
from PIL import Image

from tests.support import ServeProcess

MINIMAX = "fal-ai/minimax-video/image-to-video"
LUCY = "fal-ai/decart/lucy-5b/image-to-video"
#: The key the mock targets accept (they run with ``auth=keys``, so any other well-formed key gets fal's 401).
MOCK_KEY = "fal-mock-contract:suite-secret"
#: A well-formed key no fal knows.
BAD_KEY = "00000000-0000-0000-0000-000000000000:0000000000000000000000000000000"
UNKNOWN_ID = "019e0000-0000-7000-8000-000000000000"
#: Harmless on fal (an unknown header); makes the mock advance one state per status read.
STEP_BY_STEP = {"X-Fal-Mock-Progression": "polls:1"}
#: The mock never moves the job on its own (the test stays in control); unknown to fal.
HELD = {"X-Fal-Mock-Progression": "manual"}
#: Seconds a live test waits for a request to finish before failing.
LIVE_PATIENCE = 600.0


def png_data_uri(size: tuple[int, int] = (64, 48)) -> str:
    image = Image.new("RGB", size, (30, 120, 200))
    for x in range(0, size[0], 8):
        for y in range(0, size[1], 8):
            if (x + y) // 8 % 2 == 0:
                image.paste((240, 200, 40), (x, y, x + 8, y + 8))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def valid_input(endpoint_id: str = MINIMAX) -> dict[str, Any]:
    arguments: dict[str, Any] = {"prompt": "a slow pan over a checkerboard", "image_url": png_data_uri()}
    if endpoint_id == LUCY:
        arguments["sync_mode"] = False
    return arguments


def free_input() -> dict[str, Any]:
    """An input fal rejects in the runner (no ``prompt``): a queued request that can never be billed."""
    return {"image_url": png_data_uri()}


@dataclass
class Target:
    name: str
    fal: FalClient
    http: httpx.Client
    live: bool = False
    live_generate: bool = False
    urls: dict[str, str] = field(default_factory=dict)
    responses: list[httpx.Response] = field(default_factory=list)
    #: Real sleeping on live fal (a poll interval); nothing on the mock.
    sleep: Callable[[float], None] = lambda _: None

    @property
    def mock(self) -> bool:
        return not self.live

    @property
    def endpoints(self) -> list[str]:
        """Endpoints to exercise: both on the mock; on fal only MiniMax (Lucy-5B looks withdrawn upstream, §7.1)."""
        return [MINIMAX] if self.live else [MINIMAX, LUCY]

    def spend(self) -> None:
        """Skip on live fal unless ``--live-generate``: the test runs a paid generation."""
        if self.live and not self.live_generate:
            pytest.skip("runs a paid generation on fal: pass --live-generate to include it")

    def store(self) -> None:
        """Skip on live fal unless ``--live-generate``: the test leaves a file on fal's CDN."""
        if self.live and not self.live_generate:
            pytest.skip("stores a file on fal's CDN: pass --live-generate to include it")

    def mock_only(self, why: str) -> None:
        if self.live:
            pytest.skip(f"mock only: {why}")

    def client(self, key: str | None) -> FalClient:
        """Another client on the same connection settings and URLs, with ``key``."""
        return FalClient(key or "", http=self.http, validate=True, poll_interval=self.fal.poll_interval,
                         sleep=self.sleep, queue_url=self.fal.core.queue_url, run_url=self.fal.core.run_url,
                         rest_url=self.fal.core.rest_url, cdn_url=self.fal.core.cdn_url)  # fmt: skip

    def answers(self, method: str, contains: str = "") -> list[httpx.Response]:
        return [r for r in self.responses if r.request.method == method and contains in str(r.request.url)]

    def follow(self, handle: RequestHandle, *, with_logs: bool = False) -> list[tuple[Status, int]]:
        """Poll ``handle`` until COMPLETED: every status with the HTTP code it came with."""
        seen: list[tuple[Status, int]] = []
        deadline = time.monotonic() + LIVE_PATIENCE
        for _ in range(10_000 if self.live else 50):
            status = self.fal.status(handle, with_logs=with_logs)
            seen.append((status, self.answers("GET", "/status")[-1].status_code))
            if isinstance(status, Completed):
                return seen
            if time.monotonic() > deadline:
                break
            self.sleep(1.0)
        raise AssertionError(f"{handle.request_id} did not complete: {seen[-3:]}")

    def discard(self, handle: RequestHandle) -> None:
        """Cancel ``handle``; a request that already finished (400 ALREADY_COMPLETED) is fine too."""
        try:
            self.fal.cancel(handle)
        except FalHTTPError as error:
            if error.status_code != 400:
                raise


@dataclass(frozen=True)
class ServerInfo:
    url: str
    ca_file: str


def contract_server(directory: Path, *extra: str, tls: bool = True) -> ServeProcess:
    """The suite's ``fal-mock serve``: keys auth, immediate progression, the contract self-check on."""
    return ServeProcess(
        directory, "--tls-dir", str(directory / "tls"), "--progression", "immediate", "--auth", "keys",
        "--key", MOCK_KEY, "--set", "check_contracts=true", "--no-access-log", "--log-level", "warning",
        *extra, *(["--tls"] if tls else []),
    )  # fmt: skip
