"""edge/server.py: the event loop of ``serve`` and (below) the uvicorn options it passes on."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from fal_mock.mock_server import cli, create_app
from fal_mock.mock_server.edge.forwarded import ForwardedHeaders
from fal_mock.mock_server.edge.server import TLSFiles, loop_factory, uvicorn_config

from tests.support import FakeServe, install_fake_serve


def test_the_loop_is_uvloop_where_installed() -> None:
    uvloop = pytest.importorskip("uvloop")
    factory = loop_factory()
    assert factory is not None
    loop = factory()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_without_uvloop_the_loop_is_asyncio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    factory = loop_factory()
    loop = factory() if factory is not None else asyncio.new_event_loop()
    try:
        assert type(loop).__module__.startswith("asyncio")
    finally:
        loop.close()


@pytest.fixture
def fake_serve(monkeypatch: pytest.MonkeyPatch) -> FakeServe:
    return install_fake_serve(monkeypatch)


def test_uvicorn_options_in_uvicorns_spelling_reach_the_server(fake_serve: FakeServe, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    argv = ["serve", "--port", "0", "--forwarded-allow-ips", "10.0.0.0/8,127.0.0.1", "--root-path", "/fal",
            "--ssl-certfile", str(cert), "--ssl-keyfile", str(key), "--log-level", "trace",
            "--no-access-log"]  # fmt: skip
    assert cli.main(argv) == 0
    call = fake_serve.calls[0]
    assert call["uvicorn_options"] == {
        "proxy_headers": True,
        "root_path": "/fal",
        "forwarded_allow_ips": "10.0.0.0/8,127.0.0.1",
    }
    assert call["tls"] == TLSFiles(None, str(cert), str(key))
    assert (call["log_level"], call["access_log"]) == ("trace", False)
    assert cli.main(["serve", "--port", "0", "--no-proxy-headers"]) == 0
    assert fake_serve.calls[1]["uvicorn_options"] == {"proxy_headers": False, "root_path": ""}
    assert fake_serve.calls[1]["access_log"] is True
    assert fake_serve.calls[1]["tls"] is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tls", "--ssl-certfile", "c.pem"], "--tls makes its own certificate"),
        (["--ssl-keyfile", "k.pem"], "--ssl-keyfile needs --ssl-certfile"),
        (["--root-path", "fal"], "--root-path must start with '/'"),
    ],
)
def test_contradictory_tls_and_root_options_are_refused(
    argv: list[str], message: str, fake_serve: FakeServe, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["serve", "--port", "0", *argv]) == 2
    assert message in capsys.readouterr().err
    assert fake_serve.calls == []


def test_the_config_puts_the_mocks_proxy_middleware_in_front() -> None:
    app = create_app()
    try:
        config = uvicorn_config(app, tls=None, log_level="info", access_log=True, forwarded_allow_ips="10.1.1.1")
        config.load()
        assert isinstance(config.loaded_app, ForwardedHeaders)
        assert config.loaded_app.allowed.allows("10.1.1.1")
        assert not config.loaded_app.allowed.allows("127.0.0.1")
        off = uvicorn_config(app, tls=None, log_level="info", access_log=True, proxy_headers=False)
        off.load()
        assert not isinstance(off.loaded_app, ForwardedHeaders)
        assert "ProxyHeaders" not in type(off.loaded_app).__name__
    finally:
        app.state.mock.close()
