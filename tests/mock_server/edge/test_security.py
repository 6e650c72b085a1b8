"""Security: loopback by default, the control token beyond it, no secrets in logs or journals,
size limits on the request line, headers and bodies, and a proxy that only dispatches to fal."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fal_mock.mock_server import cli
from fal_mock.mock_server.redaction import redact_query
from starlette.applications import Starlette

from tests.support import AUTH, FakeServe, ServeProcess, data_uri, install_fake_serve, png_bytes

MINIMAX = "fal-ai/minimax-video/image-to-video"
BASE = "http://127.0.0.1:8000"
SECRET_KEY = "sekrit-key-id:sekrit-key-value-123"
WEBHOOK_SECRET = "whsec-path-part-456"
WEBHOOK = f"https://hook-user:hook-pass-789@hooks.example.com/T000/{WEBHOOK_SECRET}?token=hook-token-abc&x=1"
CONTROL_TOKEN = "control-token-xyz"
#: Never anywhere: the key, the webhook URL's password and token parameter, the control token.
SECRETS = (SECRET_KEY, "sekrit-key-value-123", "hook-pass-789", "hook-token-abc", CONTROL_TOKEN)


# --- loopback by default; beyond it, a token or an explicit --insecure-control -------------------------------
@pytest.fixture
def fake_serve(monkeypatch: pytest.MonkeyPatch) -> FakeServe:
    return install_fake_serve(monkeypatch)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_loopback_serves_quietly(
    host: str, fake_serve: FakeServe, caplog: pytest.LogCaptureFixture
) -> None:
    assert cli.main(["serve", "--host", host, "--port", "0"]) == 0
    assert fake_serve.calls[0]["host"] == host
    assert "beyond loopback" not in caplog.text


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3"])
def test_beyond_loopback_without_a_token_is_refused(
    host: str, fake_serve: FakeServe, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["serve", "--host", host, "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "refusing to serve" in err
    assert "--control-token" in err
    assert "--insecure-control" in err
    assert fake_serve.calls == []


def test_beyond_loopback_with_a_token_warns(fake_serve: FakeServe, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "fal_mock")
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "0", "--control-token", CONTROL_TOKEN]) == 0
    assert fake_serve.calls[0]["host"] == "0.0.0.0"
    assert "beyond loopback" in caplog.text
    assert CONTROL_TOKEN not in caplog.text


def test_insecure_control_is_explicit_and_warned(fake_serve: FakeServe, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "fal_mock")
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "0", "--insecure-control"]) == 0
    assert "beyond loopback" in caplog.text
    assert "no control token" in caplog.text


def test_a_pinned_signing_secret_beyond_loopback_is_warned(fake_serve: FakeServe,
                                                            caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    caplog.set_level(logging.WARNING, "fal_mock")
    args = ["serve", "--port", "0", "--control-token", CONTROL_TOKEN, "--set", "signing_secret=pinned-for-tests"]
    assert cli.main(["serve", "--port", "0", "--set", "signing_secret=pinned-for-tests"]) == 0  # loopback: quiet
    assert "signing_secret" not in caplog.text
    assert cli.main([*args, "--host", "0.0.0.0"]) == 0
    assert "signing_secret is set" in caplog.text
    assert "pinned-for-tests" not in caplog.text


async def test_the_control_api_requires_its_token(make_app: Callable[..., Starlette]) -> None:
    app = make_app(control_token=CONTROL_TOKEN)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        assert (await http.get("/_mock/jobs")).status_code == 401
        assert (await http.post("/_mock/reset")).status_code == 401
        assert (await http.get("/_mock/jobs", headers={"X-Fal-Mock-Control-Token": "wrong"})).status_code == 401
        assert (await http.get("/_mock/jobs", headers={"X-Fal-Mock-Control-Token": CONTROL_TOKEN})).status_code == 200
        settings = (await http.get("/_mock/settings", headers={"Authorization": f"Bearer {CONTROL_TOKEN}"})).json()
        assert settings["control_token"] == "***"  # never echoed back


# --- secrets stay out of logs and journals -----------------------------------------------------------------
@pytest.mark.slow
def test_secrets_never_reach_the_logs_or_the_journals(tmp_path: Path) -> None:
    args = ("--progression", "immediate", "--control-token", CONTROL_TOKEN, "--data-dir", str(tmp_path / "d"))
    with ServeProcess(tmp_path, *args) as server:
        secret_auth = {"Authorization": f"Key {SECRET_KEY}"}
        with httpx.Client(headers=secret_auth, timeout=30) as http:
            submitted = http.post(f"{server.url}/queue/{MINIMAX}", params={"fal_webhook": WEBHOOK},
                                  json={"prompt": "p", "image_url": data_uri(png_bytes())}).json()  # fmt: skip
            assert http.get(submitted["status_url"]).json()["status"] == "COMPLETED"
            assert http.get(submitted["response_url"]).status_code == 200
            http.get(f"{server.url}/queue/{MINIMAX}/requests/x/status", params={"api_key": "sekrit-key-value-123"})
            control = {"X-Fal-Mock-Control-Token": CONTROL_TOKEN}
            journal = http.get(f"{server.url}/_mock/requests", headers=control).json()
            webhooks = http.get(f"{server.url}/_mock/webhooks", headers=control).json()
            jobs = http.get(f"{server.url}/_mock/jobs", params={"token": CONTROL_TOKEN}).json()
            assert jobs["jobs"]  # the query-string token works (dashboards) — and must be masked in the log
        assert server.stop() == 0
    log = server.output()
    access = "\n".join(line for line in log.splitlines() if " HTTP/1.1\" " in line)
    assert f"POST /queue/{MINIMAX}?fal_webhook=https://hooks.example.com/*** HTTP/1.1" in access
    for text, where in ((log, "server log"), (json.dumps(journal), "request journal"),
                        (json.dumps(webhooks), "webhook journal")):  # fmt: skip
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked into the {where}"
    # the access log and the request journal keep nothing of a webhook URL but its host (a path may be a secret)
    for text in (access, json.dumps(journal)):
        assert WEBHOOK_SECRET not in text


def test_redact_query_masks_secret_names_and_reduces_urls() -> None:
    query = (
        "logs=1&token=abc&X-Api-Key=def&fal_webhook=https%3A%2F%2Fu%3Ap%40h.example%3A8443%2Fpath%3Fsig%3D1"
        "&next=http%3A%2F%2Fother.example%2Fsecret"
    )
    assert redact_query(query) == (
        "logs=1&token=***&X-Api-Key=***&fal_webhook=https://h.example:8443/***&next=http://other.example/***"
    )
    assert redact_query("") == ""
    assert redact_query("fal_webhook=not%20a%20url") == "fal_webhook=***"


# --- size limits ------------------------------------------------------------------------------------------
async def test_size_limits_answer_fal_shaped_errors_in_process(make_app: Callable[..., Starlette]) -> None:
    app = make_app(max_url_bytes=200, max_header_bytes=1_000, max_request_body_bytes=500, max_upload_bytes=800)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers=AUTH) as http:
        long_url = await http.get(f"/queue/{MINIMAX}/requests/{'a' * 200}/status")
        big_headers = await http.get("/_mock/health", headers={"x-filler": "f" * 1_000})
        declared = await http.post(f"/queue/{MINIMAX}", content=b"{}", headers={"content-length": "900"})
        streamed = await http.post(f"/queue/{MINIMAX}", json={"prompt": "p" * 600})
        fine = await http.get("/_mock/health")
        journal = (await http.get("/_mock/requests")).json()["requests"]
    assert (long_url.status_code, big_headers.status_code, declared.status_code) == (414, 431, 413)
    assert streamed.status_code == 413  # the JSON body limit (500) is below the upload limit (800)
    for response in (long_url, big_headers, declared, streamed):
        assert set(response.json()) == {"detail"}
        assert "limit" in response.json()["detail"]
    assert fine.status_code == 200
    assert [entry["status"] for entry in journal[:4]] == [414, 431, 413, 413]  # refusals are journaled


def _raw_exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        # the server may answer and close before it read everything: fine, read its answer
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.slow
def test_the_server_refuses_oversized_requests_before_buffering_them(tmp_path: Path) -> None:
    with ServeProcess(tmp_path, "--no-access-log", "--set", "max_header_bytes=4096") as server:
        port = int(server.info["port"])
        huge_header = b"GET /_mock/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (20 * 1024 * 1024) + b"\r\n\r\n"
        answer = _raw_exchange(port, huge_header)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 431 ")
        assert b"content-type: application/json" in head.lower()
        assert "limit 4096 bytes" in json.loads(body)["detail"]
        long_target = b"GET /_mock/health?" + b"q" * (32 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        assert _raw_exchange(port, long_target).startswith(b"HTTP/1.1 414 ")
        many = b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n" + b"".join(
            b"X-H%d: %s\r\n" % (n, b"v" * 100) for n in range(100)
        ) + b"\r\n"  # fmt: skip
        assert _raw_exchange(port, many).startswith(b"HTTP/1.1 431 ")
        # the server is fine afterwards
        assert httpx.get(f"{server.url}/_mock/health").status_code == 200
    assert "Traceback" not in server.output()


# --- the proxy dispatches to fal's hosts only --------------------------------------------------------------
TRICKY_TARGETS = [
    "https://fal.run@evil.example/fal-ai/minimax-video/image-to-video",
    "https://queue.fal.run.evil.example/fal-ai/minimax-video/image-to-video",
    "https://queue.fal.run:443@evil.example/x",
    "https://evil.example/?https://queue.fal.run/",
    "https://evil.example#@queue.fal.run/",
    "https://127.0.0.1/fal-ai/minimax-video/image-to-video",
    "https://[::1]/fal-ai/minimax-video/image-to-video",
    "https://169.254.169.254/latest/meta-data",
    "https://2130706433/",
    "file:///etc/passwd",
    "ftp://queue.fal.run/x",
    "gopher://queue.fal.run/x",
    "javascript:alert(1)",
    "//queue.fal.run/fal-ai/minimax-video/image-to-video",
    "queue.fal.run/fal-ai/minimax-video/image-to-video",
    "https://queue%2Efal%2Erun/fal-ai/minimax-video/image-to-video",
    "https://queue.fal.run%2F@evil.example/",
    "https://queue.fal.run\\@evil.example/",
    "https://xn--queue-fal-run.example/",
    "https:///queue.fal.run/",
    "https://queue.fal.run./x",
    "https://fal.media.evil.example/files/x",
    "https://evil.example\\.queue.fal.run/",
    "http://[queue.fal.run]/",
]


@pytest.mark.parametrize("target", TRICKY_TARGETS)
async def test_the_proxy_refuses_anything_but_a_fal_host(make_app: Callable[..., Starlette], target: str) -> None:
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers=AUTH) as http:
        response = await http.post("/proxy/", headers={"x-fal-target-url": target}, json={"prompt": "p"})
        journal = (await http.get("/_mock/requests")).json()["requests"]
    assert response.status_code in (400, 412), (target, response.status_code, response.text)
    assert set(response.json()) == {"detail"}
    assert not any(entry.get("proxied") for entry in journal)  # nothing was dispatched
    assert app.state.mock.store.jobs() == []


async def test_the_proxy_dispatches_to_fal_hosts(make_app: Callable[..., Starlette]) -> None:
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers=AUTH) as http:
        response = await http.post("/proxy/", headers={"x-fal-target-url": f"https://QUEUE.fal.run/{MINIMAX}"},
                                   json={"prompt": "p", "image_url": data_uri(png_bytes())})  # fmt: skip
    assert response.status_code == 200
    assert [job.request_id for job in app.state.mock.store.jobs()] == [response.json()["request_id"]]



# --- storage: secrets not from the seed, immutable outputs, namespaces, safe serving (issue 13) ------------
ATTACK_IMAGE = "https://v3.fal.media/files/penguin/example.png"
HTML = b"<html><script>fetch('/_mock/reset', {method: 'POST'})</script></html>"
AUTH_KEY = "owner-id:owner-secret"


def seed_keyed_mac(seed: int, text: str) -> str:
    """The upload MAC as it was keyed before issue 13 — from the public seed alone: what anyone could compute."""
    import base64
    import hashlib
    import hmac

    key = hashlib.sha256(f"fal-mock:{seed}:upload-authority".encode()).digest()
    return base64.urlsafe_b64encode(hmac.new(key, text.encode(), hashlib.sha256).digest()).decode().rstrip("=")


def seed_keyed_put_query(seed: int, key: str, content_type: str) -> dict[str, str]:
    fields = {"content_type": content_type, "expires": str(1 << 40)}
    canonical = json.dumps(sorted(fields.items()), separators=(",", ":"))
    return {**fields, "signature": seed_keyed_mac(seed, f"put:{key}?{canonical}")}


def seed_keyed_cdn_token(seed: int) -> str:
    payload = base64_text(f"{1 << 40}:1")
    return f"fmcdn.{payload}.{seed_keyed_mac(seed, 'token:' + payload)}"


def base64_text(text: str) -> str:
    import base64

    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def first_output(http: httpx.AsyncClient, headers: dict[str, str] | None = None) -> tuple[str, str]:
    """Submit one MiniMax job (immediate) and return its response URL and the URL of its output video."""
    submitted = await http.post(f"https://queue.fal.run/{MINIMAX}", json={"prompt": "p", "image_url": ATTACK_IMAGE},
                                headers=headers)  # fmt: skip
    assert submitted.status_code == 200
    response_url = submitted.json()["response_url"]
    result = await http.get(response_url, headers=headers)
    assert result.status_code == 200
    return response_url, result.json()["video"]["url"]


@pytest.mark.parametrize("auth", ["format", "keys"])
async def test_seed_keyed_signatures_and_tokens_are_refused(make_app: Callable[..., Starlette], auth: str) -> None:
    """The issue's attack: sign a PUT to a seed-0 server's first output with the seed's key; mint a CDN token."""
    app = make_app(seed=0, auth=auth, keys=("fal-mock-key:fal-mock-secret",))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as http:
        _, video_url = await first_output(http)
        key = video_url.split("/files/", 1)[1]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as anonymous:
            forged_put = await anonymous.put(f"https://v3.fal.media/files/upload/{key}", content=HTML,
                                             params=seed_keyed_put_query(0, key, "text/html"),
                                             headers={"content-type": "text/html"})  # fmt: skip
            forged_token = await anonymous.post("https://v3.fal.media/files/upload", content=HTML,
                                                headers={"authorization": f"Bearer {seed_keyed_cdn_token(0)}",
                                                         "content-type": "text/html"})  # fmt: skip
            served = await anonymous.get(video_url)
    assert forged_put.status_code == 403
    assert "signature does not match" in forged_put.json()["detail"]
    assert forged_token.status_code == 401
    assert set(forged_token.json()) == {"detail"}
    assert served.headers["content-type"] == "video/mp4"
    assert served.content[4:8] == b"ftyp"


async def test_output_keys_are_not_predictable_from_the_seed(make_app: Callable[..., Starlette]) -> None:
    async def first_key(**settings: Any) -> str:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(**settings)), headers=AUTH) as http:
            return (await first_output(http))[1]

    assert await first_key(seed=0) != await first_key(seed=0)  # a random secret per server
    pinned = {"seed": 0, "signing_secret": "tests-only"}
    assert await first_key(**pinned) == await first_key(**pinned)  # reproducible only when asked for


async def test_a_known_secret_still_cannot_replace_an_output(make_app: Callable[..., Starlette]) -> None:
    """Even whoever holds the signing secret (pinned, so computable) cannot overwrite a stored file."""
    app = make_app(signing_secret="known-to-the-attacker")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as http:
        _, video_url = await first_output(http)
        key = video_url.split("/files/", 1)[1]
        query = app.state.mock.files.authority.sign("put:" + key, {"content_type": "text/html"})
        replaced = await http.put(f"https://v3.fal.media/files/upload/{key}", params=query, content=HTML,
                                  headers={"content-type": "text/html"})  # fmt: skip
        served = await http.get(video_url)
    assert replaced.status_code == 409
    assert "cannot be replaced" in replaced.json()["detail"]
    assert served.headers["content-type"] == "video/mp4"
    assert served.content[4:8] == b"ftyp"


async def test_a_signed_upload_survives_a_restart_on_the_same_data_dir(
    make_app: Callable[..., Starlette], tmp_path: Path
) -> None:
    data_dir = str(tmp_path / "data")
    first = make_app(data_dir=data_dir)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first), headers=AUTH) as http:
        upload_url = (await http.post("https://rest.fal.ai/storage/upload/initiate", json={})).json()["upload_url"]
        token = (await http.post("https://rest.fal.ai/storage/auth/token", json={})).json()["token"]
    first.state.mock.close()
    again = make_app(data_dir=data_dir)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=again)) as http:
        assert (await http.put(upload_url, content=b"after a restart")).status_code == 200
        uploaded = await http.post("https://v3.fal.media/files/upload", content=b"x",
                                   headers={"authorization": f"Bearer {token}"})  # fmt: skip
        assert uploaded.status_code == 200


NS_A = {"x-fal-mock-namespace": "team-a"}
NS_B = {"x-fal-mock-namespace": "team-b"}


async def test_job_reads_are_confined_to_the_job_s_namespace(make_app: Callable[..., Starlette]) -> None:
    """Status, stream, result and cancel of a namespaced job: 404 without its namespace, by header, key or proxy."""
    app = make_app(progression="manual")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as http:
        submitted = (await http.post(f"https://queue.fal.run/{MINIMAX}", headers=NS_A,
                                     json={"prompt": "p", "image_url": ATTACK_IMAGE})).json()  # fmt: skip
        urls = {"status": submitted["status_url"], "stream": submitted["status_url"] + "/stream",
                "result": submitted["response_url"]}  # fmt: skip
        strangers: list[dict[str, str]] = [{}, NS_B, {"authorization": "Key ns-team-b:secret"}]
        for headers in strangers:
            for name, url in urls.items():
                answer = await http.get(url, headers=headers)
                assert answer.status_code == 404, (name, headers, answer.status_code)
            cancelled = await http.put(submitted["cancel_url"], headers=headers)
            assert cancelled.status_code == 404, (headers, cancelled.status_code)
        proxied = await http.get("http://127.0.0.1:8000/proxy/",
                                 headers={"x-fal-target-url": submitted["status_url"]})  # fmt: skip
        assert proxied.status_code == 404
        own = await http.get(submitted["status_url"], headers={"authorization": "Key ns-team-a:secret"})
        assert own.status_code == 202
        assert own.json()["status"] == "IN_QUEUE"  # nobody else cancelled it


async def test_files_of_one_namespace_are_invisible_from_another(make_app: Callable[..., Starlette]) -> None:
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as http:
        uploaded = await http.post("https://v3.fal.media/files/upload", content=b"team a's", headers=NS_A)
        url = uploaded.json()["access_url"]
        assert (await http.get(url, headers=NS_A)).content == b"team a's"
        assert (await http.get(url, headers=NS_B)).status_code == 404
        assert (await http.head(url, headers={"authorization": "Key ns-team-b:secret"})).status_code == 404
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as browser:
            assert (await browser.get(url)).content == b"team a's"  # no namespace: the URL is the capability


async def test_a_cdn_token_uploads_into_the_namespace_it_was_issued_in(make_app: Callable[..., Starlette]) -> None:
    """The Python client's flow: token with its ns- key, upload with the token (no key, no header)."""
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        token = (await http.post("https://rest.fal.ai/storage/auth/token", json={},
                                 headers={"authorization": "Key ns-team-a:secret"})).json()["token"]  # fmt: skip
        uploaded = await http.post("https://v3.fal.media/files/upload", content=b"png",
                                   headers={"authorization": f"Bearer {token}"})  # fmt: skip
        assert uploaded.status_code == 200
        url = uploaded.json()["access_url"]
        assert (await http.get(url, headers=NS_A)).status_code == 200
        assert (await http.get(url, headers=NS_B)).status_code == 404
    assert [stored.namespace for stored in app.state.mock.files.files()] == ["team-a"]


@pytest.mark.parametrize("host", ["https://v3.fal.media", "http://127.0.0.1:8000/cdn"])
async def test_a_job_cannot_use_another_namespace_s_file(make_app: Callable[..., Starlette], host: str) -> None:
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as http:
        uploaded = await http.post(f"{host}/files/upload", content=png_bytes(), headers={**NS_A,
                                   "content-type": "image/png"})  # fmt: skip
        url = uploaded.json()["access_url"]

        async def run(headers: dict[str, str]) -> httpx.Response:
            submitted = await http.post(f"https://queue.fal.run/{MINIMAX}", json={"prompt": "p", "image_url": url},
                                        headers=headers)  # fmt: skip
            return await http.get(submitted.json()["response_url"], headers=headers)

        for stranger in ({}, NS_B):
            refused = await run(stranger)
            assert refused.status_code == 422
            detail = refused.json()["detail"][0]
            assert detail["type"] == "file_download_error"
            assert detail["loc"] == ["body", "image_url"]
        used = await run(NS_A)
        assert used.status_code == 200


async def test_a_multipart_upload_is_not_usable_from_another_namespace(make_app: Callable[..., Starlette]) -> None:
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=AUTH) as http:
        begun = (await http.post("https://v3.fal.media/files/upload/multipart", headers=NS_A)).json()
        part_url = f"{begun['access_url']}/multipart/{begun['uploadId']}/1"
        assert (await http.put(part_url, content=b"b's bytes", headers=NS_B)).status_code == 404
        assert (await http.put(part_url, content=b"b's bytes")).status_code == 404
        part = await http.put(part_url, content=b"a's bytes", headers=NS_A)
        assert part.status_code == 200
        complete = f"{begun['access_url']}/multipart/{begun['uploadId']}/complete"
        parts = {"parts": [{"partNumber": 1, "etag": part.headers["etag"]}]}
        assert (await http.post(complete, json=parts, headers=NS_B)).status_code == 404
        assert (await http.post(complete, json=parts, headers=NS_A)).status_code == 200


@pytest.mark.slow
def test_the_upload_attack_fails_on_a_real_multi_worker_server(tmp_path: Path) -> None:
    """Issue 13's run, replayed: `serve --auth keys --data-dir --workers 2`, seed 0, an attacker without a key."""
    args = ("--workers", "2", "--data-dir", str(tmp_path / "data"), "--auth", "keys", "--key", AUTH_KEY,
            "--progression", "immediate", "--no-access-log")  # fmt: skip
    with ServeProcess(tmp_path, *args) as server:
        with httpx.Client(headers={"Authorization": f"Key {AUTH_KEY}", "Connection": "close"}, timeout=30) as owner:
            submitted = owner.post(f"{server.url}/queue/{MINIMAX}", json={"prompt": "p", "image_url": ATTACK_IMAGE})
            video_url = owner.get(submitted.json()["response_url"]).json()["video"]["url"]
        key = video_url.split("/files/", 1)[1]
        with httpx.Client(headers={"Connection": "close"}, timeout=30) as attacker:
            for _ in range(4):  # whichever worker answers
                forged_put = attacker.put(f"{server.url}/cdn/files/upload/{key}", content=HTML,
                                          params=seed_keyed_put_query(0, key, "text/html"),
                                          headers={"content-type": "text/html"})  # fmt: skip
                assert forged_put.status_code == 403
                forged_token = attacker.post(f"{server.url}/cdn/files/upload", content=HTML,
                                             headers={"authorization": f"Bearer {seed_keyed_cdn_token(0)}"})
                assert forged_token.status_code == 401
                served = attacker.get(video_url)
                assert served.headers["content-type"] == "video/mp4"
                assert served.content[4:8] == b"ftyp"
    assert "Traceback" not in server.output()
