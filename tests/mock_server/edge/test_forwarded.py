"""edge/forwarded.py: X-Forwarded-Proto/-Host/-For believed only from allowed proxies, and the URLs that follow."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fal_mock.mock_server import create_app
from fal_mock.mock_server.edge.forwarded import (
    MAX_REMEMBERED_PEERS,
    AllowedProxies,
    ForwardedHeaders,
    forwarded_client,
    rewrite,
)

SUBMIT = "http://127.0.0.1:8000/queue/fal-ai/minimax-video/image-to-video"
ARGS = {"prompt": "a cat", "image_url": "https://v3.fal.media/files/penguin/example.png"}
AUTH = {"Authorization": "Key fal-mock-key:fal-mock-secret"}
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "proxy.example:8443", "X-Forwarded-For": "198.51.100.7"}


def scope(peer: str | None, headers: dict[str, str], kind: str = "http") -> dict[str, Any]:
    return {
        "type": kind,
        "scheme": "http" if kind == "http" else "ws",
        "client": (peer, 5000) if peer else None,
        "headers": [(b"host", b"127.0.0.1:8000")] + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }


def host_of(request: dict[str, Any]) -> bytes:
    return dict(request["headers"])[b"host"]


def test_allowed_proxies_parse_addresses_networks_and_star() -> None:
    allowed = AllowedProxies.parse("127.0.0.1, 10.0.0.0/8,::1,/tmp/proxy.sock")
    for peer in ("127.0.0.1", "10.2.3.4", "::1", "/tmp/proxy.sock"):
        assert allowed.allows(peer), peer
    for peer in ("127.0.0.2", "11.0.0.1", None, "", "not-an-ip"):
        assert not allowed.allows(peer), peer
    assert AllowedProxies.parse("*").allows("203.0.113.1")
    assert AllowedProxies.parse(["192.0.2.1"]).allows("192.0.2.1")


def test_an_allowed_proxy_rewrites_scheme_host_and_client() -> None:
    request = scope("127.0.0.1", FORWARDED)
    rewrite(request, AllowedProxies.parse("127.0.0.1"))
    assert request["scheme"] == "https"
    assert host_of(request) == b"proxy.example:8443"
    assert request["client"] == ("198.51.100.7", 0)
    websocket = scope("127.0.0.1", {"X-Forwarded-Proto": "https"}, kind="websocket")
    rewrite(websocket, AllowedProxies.parse("127.0.0.1"))
    assert websocket["scheme"] == "wss"


def test_any_other_peer_is_not_believed() -> None:
    request = scope("203.0.113.9", FORWARDED)
    rewrite(request, AllowedProxies.parse("127.0.0.1"))
    assert request["scheme"] == "http"
    assert host_of(request) == b"127.0.0.1:8000"
    assert request["client"] == ("203.0.113.9", 5000)


def test_chains_take_what_the_allowed_proxy_wrote_and_junk_is_ignored() -> None:
    allowed = AllowedProxies.parse("127.0.0.1,10.0.0.0/8")
    request = scope("127.0.0.1", {"X-Forwarded-Proto": "http, https", "X-Forwarded-Host": "evil.example, good.example"})
    rewrite(request, allowed)
    assert (request["scheme"], host_of(request)) == ("https", b"good.example")
    for junk in ("a/b", "user@host", "x" * 256, "host:port", "sp ace"):
        request = scope("127.0.0.1", {"X-Forwarded-Host": junk, "X-Forwarded-Proto": "gopher"})
        rewrite(request, allowed)
        assert (request["scheme"], host_of(request)) == ("http", b"127.0.0.1:8000"), junk
    assert forwarded_client(b"203.0.113.1, 198.51.100.2, 10.0.0.3", allowed) == "198.51.100.2"
    assert forwarded_client(b"10.0.0.1, 10.0.0.2", allowed) == "10.0.0.1"
    assert forwarded_client(b" , ", allowed) is None


@pytest.mark.parametrize(
    ("peer", "expected"),
    [("127.0.0.1", "https://proxy.example:8443/queue/"), ("203.0.113.9", "http://127.0.0.1:8000/queue/")],
)
async def test_handed_out_urls_follow_an_allowed_proxy_only(peer: str, expected: str) -> None:
    app = ForwardedHeaders(create_app(), "127.0.0.1")
    transport = httpx.ASGITransport(app=app, client=(peer, 5000))
    async with httpx.AsyncClient(transport=transport) as client:
        submitted = (await client.post(SUBMIT, json=ARGS, headers={**AUTH, **FORWARDED})).json()
    assert submitted["status_url"].startswith(expected)
    assert submitted["response_url"].startswith(expected)


def test_verdicts_are_remembered_per_peer_and_bounded() -> None:
    allowed = AllowedProxies.parse("10.0.0.0/8, proxy.sock")
    assert allowed.allows("10.1.2.3")
    assert allowed.allows("10.1.2.3")
    assert not allowed.allows("192.168.1.1")
    assert not allowed.allows("192.168.1.1")
    assert allowed.allows("proxy.sock")
    assert not allowed.allows("not an address")
    for index in range(MAX_REMEMBERED_PEERS + 10):
        assert allowed.allows(f"10.0.{index // 256}.{index % 256}")
    assert len(allowed._verdicts) <= MAX_REMEMBERED_PEERS
    assert not allowed.allows("11.0.0.1")  # still judged right after forgetting
