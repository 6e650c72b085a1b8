"""The opt-in ``fetch`` policy, against a local HTTP server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import http.server
import ipaddress
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fal_mock.mock_server.edge.hosts import host_allowed
from fal_mock.mock_server.hostnames import embedded_ipv4
from fal_mock.mock_server.jobs.errors import ModelError
from fal_mock.mock_server.jobs.fetch import Fetcher, address_refusal

from tests.mock_server.edge.api.test_uploads import MINIMAX, first_frame_psnr
from tests.support import png_bytes

PNG = png_bytes((120, 80), (30, 90, 200))


@dataclass
class LocalServer:
    port: int
    hits: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def local() -> Iterator[LocalServer]:
    state = LocalServer(port=0)

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            state.hits.append(self.path)
            if self.path == "/image.png":
                self._send(200, PNG, {"Content-Type": "image/png", "Content-Length": str(len(PNG))})
            elif self.path == "/redirect-here":
                self._send(302, b"", {"Location": "/image.png", "Content-Length": "0"})
            elif self.path == "/redirect-elsewhere":
                self._send(302, b"", {"Location": state.url("/image.png", "localhost"), "Content-Length": "0"})
            elif self.path == "/loop":
                self._send(302, b"", {"Location": "/loop", "Content-Length": "0"})
            elif self.path == "/declared-big":
                self._send(200, b"x" * 10, {"Content-Length": str(10**9)})
            elif self.path == "/streamed-big":
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                for _ in range(64):
                    self.wfile.write(b"y" * 1024)
            elif self.path == "/stall":
                self.send_response(200)
                self.send_header("Content-Length", "100")
                self.end_headers()
                self.wfile.write(b"z")
                self.wfile.flush()
                state.release.wait(30)
            else:
                self._send(404, b"not here", {"Content-Length": "8"})

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # the fetcher hangs up on purpose (size and time caps)

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


def fetcher(**overrides: object) -> Fetcher:
    values: dict[str, object] = {"allow_hosts": ("127.0.0.1",), "allow_private": True, "timeout": 10.0,
                                 "max_bytes": 16 * 1024, **overrides}  # fmt: skip
    return Fetcher(**values)  # type: ignore[arg-type]


def refusal(fetch: Fetcher, url: str) -> dict[str, object]:
    with pytest.raises(ModelError) as raised:
        fetch(url, "image_url")
    entry: dict[str, object] = raised.value.body()["detail"][0]
    assert entry["loc"] == ["body", "image_url"]
    return entry


def test_downloads_from_an_allowed_local_server(local: LocalServer) -> None:
    assert fetcher()(local.url("/image.png"), "image_url") == PNG


def test_loopback_is_refused_by_default_without_connecting(local: LocalServer) -> None:
    entry = refusal(fetcher(allow_private=False), local.url("/image.png"))
    assert entry["type"] == "file_download_error"
    assert "loopback" in str(entry["msg"])
    assert local.hits == []


REFUSED_URLS = ["http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/x", "http://[::ffff:169.254.169.254]/x",
                "http://10.0.0.8/x", "http://100.64.0.1/x"]  # fmt: skip


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_metadata_and_private_addresses_are_refused(url: str) -> None:
    entry = refusal(fetcher(allow_hosts=("*",), allow_private=False, timeout=0.5), url)
    assert entry["type"] == "file_download_error"
    assert any(word in str(entry["msg"]) for word in ("link-local", "private", "not a public"))


def test_resolved_addresses_are_checked_not_the_name() -> None:
    names = {"metadata.test": ["169.254.169.254"], "mixed.test": ["93.184.216.34", "10.1.2.3"]}
    fetch = fetcher(allow_hosts=("*.test",), allow_private=False, resolve=lambda host, port: names[host])
    assert "link-local" in str(refusal(fetch, "http://metadata.test/x")["msg"])
    assert "private" in str(refusal(fetch, "http://mixed.test/x")["msg"])


def test_allow_list(local: LocalServer) -> None:
    assert "fetch_allow_hosts is empty" in str(refusal(fetcher(allow_hosts=()), local.url("/image.png"))["msg"])
    assert "not in fetch_allow_hosts" in str(refusal(fetcher(allow_hosts=("example.com",)), local.url("/x"))["msg"])
    assert host_allowed("a.b.example.com", ["*.example.com"])
    assert not host_allowed("example.com", ["*.example.com"])
    assert not host_allowed("badexample.com", ["*.example.com"])
    assert host_allowed("anything", ["*"])
    assert local.hits == []


def test_redirects_are_rechecked(local: LocalServer) -> None:
    assert fetcher()(local.url("/redirect-here"), "image_url") == PNG
    assert "localhost is not in fetch_allow_hosts" in str(refusal(fetcher(), local.url("/redirect-elsewhere"))["msg"])
    assert "redirects" in str(refusal(fetcher(), local.url("/loop"))["msg"])


def test_size_cap_from_the_header_and_while_streaming(local: LocalServer) -> None:
    for path in ("/declared-big", "/streamed-big"):
        entry = refusal(fetcher(), local.url(path))
        assert entry["type"] == "file_too_large"
        assert entry["ctx"] == {"max_size": 16 * 1024}


def test_time_cap(local: LocalServer) -> None:
    entry = refusal(fetcher(timeout=0.3), local.url("/stall"))
    assert entry["type"] == "file_download_error"
    assert "timed out" in str(entry["msg"])


def test_other_failures(local: LocalServer) -> None:
    assert "HTTP 404" in str(refusal(fetcher(), local.url("/missing"))["msg"])
    assert "credentials" in str(refusal(fetcher(), f"http://u:p@127.0.0.1:{local.port}/image.png")["msg"])
    assert "only http(s)" in str(refusal(fetcher(), "file:///etc/passwd")["msg"])


def test_address_refusal() -> None:
    for address in ("127.0.0.1", "::1", "10.1.1.1", "192.168.0.2", "172.16.3.4", "169.254.169.254", "fe80::1",
                    "fc00::1", "100.64.1.1", "::ffff:127.0.0.1", "0.0.0.0", "224.0.0.1"):  # fmt: skip
        assert address_refusal(address, allow_private=False) is not None, address
    assert address_refusal("93.184.216.34", allow_private=False) is None
    assert address_refusal("2606:2800:220:1:248:1893:25c8:1946", allow_private=False) is None
    assert address_refusal("127.0.0.1", allow_private=True) is None
    assert address_refusal("0.0.0.0", allow_private=True) is not None


@pytest.mark.parametrize(
    ("address", "carried"),
    [
        ("::127.0.0.1", "127.0.0.1"),  # IPv4-compatible
        ("::ffff:127.0.0.1", "127.0.0.1"),  # IPv4-mapped
        ("64:ff9b::7f00:1", "127.0.0.1"),  # NAT64 (RFC 6052)
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
        ("64:ff9b:1::a00:1", "10.0.0.1"),  # local-use NAT64 (RFC 8215)
        ("2002:7f00:1::1", "127.0.0.1"),  # 6to4
        ("2002:a9fe:a9fe::", "169.254.169.254"),
        ("2002:c0a8:1::5", "192.168.0.1"),
    ],
)
def test_ipv6_forms_carrying_a_private_ipv4_address_are_refused(address: str, carried: str) -> None:
    why = address_refusal(address, allow_private=False)
    assert why is not None
    assert carried in why
    assert embedded_ipv4(ipaddress.ip_address(address)) == ipaddress.ip_address(carried)


def test_ipv6_forms_carrying_a_public_ipv4_address_stay_allowed() -> None:
    for address in ("64:ff9b::5db8:d822", "2002:5db8:d822::1"):  # 93.184.216.34
        assert address_refusal(address, allow_private=False) is None, address


def test_resolving_to_a_nat64_form_of_the_metadata_service_is_refused() -> None:
    fetch = fetcher(allow_hosts=("*.test",), allow_private=False, resolve=lambda host, port: ["64:ff9b::a9fe:a9fe"])
    assert "169.254.169.254" in str(refusal(fetch, "http://nat64.test/x")["msg"])


# --- through the app ---------------------------------------------------------------------------------


async def _submit(client: httpx.AsyncClient, image_url: str) -> httpx.Response:
    submitted = await client.post(f"https://queue.fal.run/{MINIMAX}", json={"prompt": "p", "image_url": image_url})
    assert submitted.status_code == 200
    return await client.get(submitted.json()["response_url"])


async def test_the_app_fetches_when_asked(make_app: object, local: LocalServer) -> None:
    app = make_app(image_url_policy="fetch", fetch_allow_hosts="127.0.0.1", fetch_allow_private=True)  # type: ignore[operator]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers={"Authorization": "Key a:b"}) as http:
        result = await _submit(http, local.url("/image.png"))
        assert result.status_code == 200
        video = await http.get(result.json()["video"]["url"])
    assert first_frame_psnr(video.content, PNG) >= 40.0


async def test_the_app_refuses_loopback_and_metadata_by_default(make_app: object, local: LocalServer) -> None:
    app = make_app(image_url_policy="fetch", fetch_allow_hosts="*")  # type: ignore[operator]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers={"Authorization": "Key a:b"}) as http:
        for url in (local.url("/image.png"), "http://169.254.169.254/latest/meta-data/iam/"):
            result = await _submit(http, url)
            assert result.status_code == 422
            assert result.json()["detail"][0]["type"] == "file_download_error"
    assert local.hits == []
