"""The ``target`` fixture: every contract test runs against the mock in-process, over TLS, and real fal.

* ``inprocess`` — a fresh app per test; :class:`~fal_mock.fixtures.FalRouting` routes fal's
  own host names (``queue.fal.run``, ``fal.run``, ...) to it, so the client uses fal's URLs;
* ``server`` — one ``fal-mock serve --tls --port 0`` subprocess for the session; the client
  trusts its CA and uses ``<url>/queue``, ``/run``, ``/rest``, ``/cdn``; each test gets its
  own ``X-Fal-Mock-Namespace`` and resets it afterwards;
* ``live`` — real fal, only with ``--live`` and ``FAL_KEY`` (skipped otherwise, with the
  reason).  Cost-safe by default: tests that would run a paid generation skip unless
  ``--live-generate``.

Both mock targets run with ``auth=keys`` (so a well-formed unknown key gets fal's 401) and
with the mock's own contract self-check on (a response breaking a contract is a 500).
"""

from __future__ import annotations

import hashlib
import os
import ssl
import time
from collections.abc import Iterator

import httpx
import pytest
from fal_mock.client import FalClient
from fal_mock.fixtures import FalRouting
from fal_mock.mock_server import Settings, create_app
from fal_mock.mock_server.clock import ManualClock
from fal_mock.mock_server.edge.hosts import FAL_HOSTS

from tests.contract_suite.targets import MOCK_KEY, ServerInfo, Target, contract_server

TARGETS = ["inprocess", "server", "live"]


@pytest.fixture(scope="session")
def mock_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    """One ``fal-mock serve --tls --port 0`` for the whole session."""
    with contract_server(tmp_path_factory.mktemp("fal-mock-serve")) as server:
        yield ServerInfo(url=server.url, ca_file=server.ca_file)


def _recording_client(responses: list[httpx.Response], **options: object) -> httpx.Client:
    def record(response: httpx.Response) -> None:
        responses.append(response)

    return httpx.Client(event_hooks={"response": [record]}, **options)  # type: ignore[arg-type]


def _namespace(request: pytest.FixtureRequest) -> str:
    """A namespace of the mock server per test (requests of other tests are invisible to it)."""
    return "contract-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    name = request.param
    responses: list[httpx.Response] = []
    if name == "inprocess":
        settings = Settings.from_mapping({"check_contracts": True, "auth": "keys", "keys": (MOCK_KEY,)})
        app = create_app(settings, clock=ManualClock())
        http = _recording_client(responses)
        fal = FalClient(MOCK_KEY, http=http, validate=True, poll_interval=0, sleep=lambda _: None)
        try:
            with FalRouting(app, FAL_HOSTS):
                yield Target(name, fal, http, responses=responses)
        finally:
            http.close()
            app.state.mock.close()
    elif name == "server":
        info: ServerInfo = request.getfixturevalue("mock_server")
        space = {"X-Fal-Mock-Namespace": _namespace(request)}
        http = _recording_client(responses, verify=ssl.create_default_context(cafile=info.ca_file), headers=space)
        urls = {kind: f"{info.url}/{kind}" for kind in ("queue", "run", "rest", "cdn")}
        fal = FalClient(MOCK_KEY, http=http, validate=True, poll_interval=0, sleep=lambda _: None,
                        queue_url=urls["queue"], run_url=urls["run"], rest_url=urls["rest"],
                        cdn_url=urls["cdn"])  # fmt: skip
        try:
            yield Target(name, fal, http, urls=urls, responses=responses)
        finally:
            http.post(f"{info.url}/_mock/reset", headers={"x-fal-mock-control": "1"})
            http.close()
    else:
        if not request.config.getoption("--live"):
            pytest.skip("live fal: pass --live (and set FAL_KEY) to run the contract suite against real fal")
        key = os.environ.get("FAL_KEY") or (
            f"{os.environ['FAL_KEY_ID']}:{os.environ['FAL_KEY_SECRET']}"
            if os.environ.get("FAL_KEY_ID") and os.environ.get("FAL_KEY_SECRET")
            else None
        )
        if not key:
            pytest.skip("live fal: FAL_KEY is not set")
        http = _recording_client(responses, timeout=httpx.Timeout(120.0, connect=30.0))
        fal = FalClient(key, http=http, validate=True, poll_interval=1.0)
        try:
            yield Target(name, fal, http, live=True, live_generate=bool(request.config.getoption("--live-generate")),
                         responses=responses, sleep=time.sleep)  # fmt: skip
        finally:
            http.close()

