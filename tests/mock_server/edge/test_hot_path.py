"""The hot path answers submits, status polls and result fetches exactly as the long way through Starlette does.

Each request is sent twice to the same app — once with the hot path, once with it switched off — and
the two answers must match to the byte (status, headers in order, body), for every kind of answer
those routes give: a queued job, a running one, a completed one, a failed one, an unknown id, another
app's id, another namespace, a missing or malformed key, host style and prefix style.  Requests the hot
path must leave alone (a trailing slash, ``HEAD``, a query string, the long form, a cancel) are checked
to take the long way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fal_mock.mock_server.control import MockControl
from fal_mock.mock_server.edge.gateway import Gateway
from fal_mock.mock_server.edge.hot_path import MAX_REMEMBERED_KEYS, HotPath
from starlette.applications import Starlette

from tests.support import AUTH, both_stores, data_uri, png_bytes  # noqa: F401 - every test on both stores

MINIMAX = "fal-ai/minimax-video/image-to-video"
QUEUE = "https://queue.fal.run"
LOCAL = "http://127.0.0.1:8000/queue"
GOOD = {"prompt": "a cat walks slowly", "image_url": data_uri(png_bytes())}
AppFactory = Callable[..., Starlette]


class TwoWays:
    """Sends a request with and without the hot path; counts the hot path's answers."""

    def __init__(self, app: Starlette, monkeypatch: pytest.MonkeyPatch) -> None:
        self.app = app
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH)
        self.hot_answers = 0
        self.counting = False
        self.monkeypatch = monkeypatch

    def gateway(self) -> Gateway:
        stack = self.app.middleware_stack  # built by the first request
        assert stack is not None
        gateway = getattr(stack, "app", None)
        assert isinstance(gateway, Gateway)
        return gateway

    async def submit(self, base: str = QUEUE, **headers: str) -> dict[str, Any]:
        response = await self.client.post(f"{base}/{MINIMAX}", json=GOOD, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def compare(self, method: str, url: str, *, hot: bool, **headers: str) -> httpx.Response:
        gateway = self.gateway()
        hot_path = gateway.hot_path
        assert isinstance(hot_path, HotPath)
        if not self.counting:  # count the hot path's answers (once per app)
            answer: Callable[..., Awaitable[None]] = hot_path.answer

            async def counting(*args: Any) -> None:
                self.hot_answers += 1
                await answer(*args)

            self.monkeypatch.setattr(hot_path, "answer", counting)
            self.counting = True
        before = self.hot_answers
        fast = await self.client.request(method, url, headers=headers)
        assert self.hot_answers - before == (1 if hot else 0), f"{method} {url}: hot path taken {not hot}"
        gateway.hot_path = None
        try:
            slow = await self.client.request(method, url, headers=headers)
        finally:
            gateway.hot_path = hot_path
        assert fast.status_code == slow.status_code, (method, url, fast.text, slow.text)
        assert fast.headers.raw == slow.headers.raw
        assert fast.content == slow.content
        return fast


@pytest.fixture
def ways(make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> TwoWays:
    return TwoWays(make_app(progression="manual"), monkeypatch)


async def test_every_state_of_a_job_answers_alike(ways: TwoWays) -> None:
    control = MockControl(ways.app.state.mock)
    queued = await ways.submit()
    assert (await ways.compare("GET", queued["status_url"], hot=True)).status_code == 202
    assert (await ways.compare("GET", queued["response_url"], hot=True)).status_code == 400  # not ready yet

    control.advance_job(queued["request_id"])
    running = await ways.compare("GET", queued["status_url"], hot=True)
    assert running.json()["status"] == "IN_PROGRESS"

    control.advance_job(queued["request_id"])
    done = await ways.compare("GET", queued["status_url"], hot=True)
    assert done.json()["status"] == "COMPLETED"
    assert done.headers["x-fal-request-id"] == queued["request_id"]
    result = await ways.compare("GET", queued["response_url"], hot=True)
    assert result.status_code == 200
    assert result.json()["video"]["url"].startswith("https://")

    failed = await ways.submit()
    control.fail_job(failed["request_id"], {})
    assert (await ways.compare("GET", failed["status_url"], hot=True)).json()["status"] == "COMPLETED"
    replayed = await ways.compare("GET", failed["response_url"], hot=True)
    assert replayed.status_code >= 400


async def test_prefix_style_and_namespaces_answer_alike(ways: TwoWays) -> None:
    job = await ways.submit(LOCAL, **{"X-Fal-Mock-Namespace": "team-a"})
    assert job["status_url"].startswith(LOCAL)
    mine = await ways.compare("GET", job["status_url"], hot=True, **{"X-Fal-Mock-Namespace": "team-a"})
    assert mine.status_code == 202
    assert mine.json()["status_url"] == job["status_url"]
    theirs = await ways.compare("GET", job["status_url"], hot=True, **{"X-Fal-Mock-Namespace": "team-b"})
    assert theirs.status_code == 404
    assert (await ways.compare("GET", job["response_url"], hot=True)).status_code == 404  # no namespace


async def test_refusals_answer_alike(ways: TwoWays) -> None:
    job = await ways.submit()
    rid = job["request_id"]
    assert (await ways.compare("GET", f"{QUEUE}/fal-ai/other/requests/{rid}/status", hot=True)).status_code == 404
    assert (await ways.compare("GET", f"{QUEUE}/fal-ai/minimax-video/requests/nope", hot=True)).status_code == 404
    bad_key = await ways.compare("GET", job["status_url"], hot=True, Authorization="Key no-colon")
    assert bad_key.status_code == 401
    ways.client.headers.pop("Authorization")
    assert (await ways.compare("GET", job["status_url"], hot=True)).status_code == 401


async def test_other_requests_take_the_long_way(ways: TwoWays) -> None:
    job = await ways.submit()
    rid = job["request_id"]
    for method, url in (
        ("GET", job["status_url"] + "/"),
        ("HEAD", job["status_url"]),
        ("GET", f"{QUEUE}/{MINIMAX}/requests/{rid}/status"),  # the long form: 405
        ("GET", f"{LOCAL.replace('/queue', '/run')}/fal-ai/minimax-video/requests/{rid}"),
    ):
        await ways.compare(method, url, hot=False)
    cancelled = await ways.client.put(job["cancel_url"])  # changes the job: sent once, the long way
    assert cancelled.status_code == 202
    assert ways.hot_answers == 0
    with_logs = await ways.compare("GET", job["status_url"] + "?logs=1", hot=True)  # the same handler reads it
    assert with_logs.json()["logs"] == []


async def test_submits_answer_alike_and_the_long_forms_posts_keep_the_long_way(make_app: AppFactory) -> None:
    """Two apps alike (same seed, clock and pinned secret), one without the hot path: the same submits get the
    same bytes — accepted, refused, malformed, unknown endpoints, the long form — and only submits take it."""
    hot, slow = (make_app(progression="immediate", signing_secret="pinned") for _ in range(2))
    slow.middleware_stack = slow.build_middleware_stack()
    slow_gateway = slow.middleware_stack.app  # type: ignore[attr-defined]
    assert isinstance(slow_gateway, Gateway)
    slow_gateway.hot_path = None
    hot.middleware_stack = hot.build_middleware_stack()
    hot_path = hot.middleware_stack.app.hot_path  # type: ignore[attr-defined]
    assert isinstance(hot_path, HotPath)
    taken: list[str] = []
    answer = hot_path.answer

    async def counting(route: Any, scope: Any, receive: Any, send: Any) -> None:
        taken.append(f"{scope['method']} {scope['path']}")
        await answer(route, scope, receive, send)

    hot_path.answer = counting  # type: ignore[method-assign]
    rid = "019b76da-a800-7bbf-a670-15f9a5ac66de"
    requests: list[tuple[str, dict[str, Any], bool]] = [
        (f"{QUEUE}/{MINIMAX}", {"json": GOOD}, True),
        (f"{QUEUE}/{MINIMAX}", {"json": GOOD}, True),  # repeated: the output cache and the validated memo answer
        (f"{QUEUE}/{MINIMAX}", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, True),
        (f"{QUEUE}/{MINIMAX}", {"json": {"prompt": "no image"}}, True),
        (f"{LOCAL}/{MINIMAX}", {"json": GOOD, "headers": {"X-Fal-Mock-Namespace": "team-a"}}, True),
        (f"{QUEUE}/{MINIMAX}", {"json": GOOD, "headers": {"Authorization": "Key no-colon"}}, True),
        (f"{QUEUE}/{MINIMAX}", {"json": GOOD, "headers": {"Authorization": ""}}, True),
        (f"{QUEUE}/fal-ai/no-such-model", {"json": GOOD}, True),
        (f"{QUEUE}/{MINIMAX}/", {"json": GOOD}, True),
        (f"{QUEUE}/fal-ai/minimax-video/requests/{rid}/cancel", {"json": {}}, True),  # a submit path, as routed
        (f"{QUEUE}/{MINIMAX}/requests/{rid}/status", {"json": {}}, False),  # the long form: 405, the long way
        (f"{QUEUE}/{MINIMAX}/requests/{rid}/cancel/", {"json": {}}, False),
        (f"{QUEUE}/{MINIMAX}?fal_max_queue_length=0", {"json": GOOD}, True),
    ]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=hot), headers=AUTH) as fast, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=slow), headers=AUTH) as long_way:  # fmt: skip
        for url, options, expect_hot in requests:
            before = len(taken)
            got = await fast.post(url, **options)
            assert len(taken) - before == (1 if expect_hot else 0), url
            want = await long_way.post(url, **options)
            assert (got.status_code, got.headers.raw, got.content) == (want.status_code, want.headers.raw,
                                                                      want.content), url  # fmt: skip
            if url.endswith(MINIMAX) and "json" in options and options.get("headers") is None:
                assert got.status_code == 200, got.text
        statuses = [(await fast.post(url, **options)).status_code for url, options, _ in requests[5:7]]
        assert statuses == [401, 401]
    assert all(entry.startswith("POST ") for entry in taken)


async def test_an_unexpected_error_is_the_server_errors_500(ways: TwoWays, monkeypatch: pytest.MonkeyPatch) -> None:
    job = await ways.submit()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in the mock")

    monkeypatch.setattr(ways.app.state.mock.queue, "read", broken)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=ways.app, raise_app_exceptions=False), headers=AUTH)
    response = await client.get(job["status_url"])
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}


async def test_remembered_keys_never_let_a_bad_key_through(make_app: AppFactory) -> None:
    app = make_app(progression="immediate", auth="keys", keys=("good-id:good-secret",))
    good = {"Authorization": "Key good-id:good-secret"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        submitted = (await client.post(f"{QUEUE}/{MINIMAX}", json=GOOD, headers=good)).json()
        for _ in range(3):  # the first check is remembered
            assert (await client.get(submitted["status_url"], headers=good)).status_code == 200
        for bad in ("Key other-id:other-secret", "Key good-id:good-secreT", "Bearer x", "", "Key good-id:") * 2:
            answer = await client.get(submitted["status_url"], headers={"Authorization": bad})  # twice each
            assert answer.status_code == 401, bad
        assert (await client.get(submitted["status_url"])).status_code == 401  # no header at all


async def test_remembered_keys_are_bounded(make_app: AppFactory) -> None:
    app = make_app(progression="immediate")  # any well-formed key is accepted
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as client:
        submitted = (await client.post(f"{QUEUE}/{MINIMAX}", json=GOOD)).json()
        for index in range(MAX_REMEMBERED_KEYS + 5):
            answer = await client.get(submitted["status_url"], headers={"Authorization": f"Key id-{index}:secret"})
            assert answer.status_code == 200
    gateway = app.middleware_stack.app  # type: ignore[union-attr]
    assert isinstance(gateway, Gateway)
    assert gateway.hot_path is not None
    assert 0 < len(gateway.hot_path._accepted_keys) <= MAX_REMEMBERED_KEYS
