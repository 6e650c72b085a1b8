"""Serving the app on a real socket: uvicorn, local TLS, port 0 and a ready file.

The server binds its own listening socket (so ``--port 0`` works and the real
port is known before uvicorn starts) and sets ``TCP_NODELAY`` on it before
``listen`` — without it every response written in two parts waits for the
client's delayed ACK (~43 ms a request, measured).  With ``tls=True`` a local CA
and a certificate for ``127.0.0.1``, ``::1`` and ``localhost`` are made with
trustme; the CA file is what clients trust (``SSL_CERT_FILE`` for the official
Python client); ``ca_bundle`` is that CA appended to the roots the machine trusts anyway
(:mod:`..standalone`), the file ``SSL_CERT_FILE`` should name so other HTTPS keeps working.  Once uvicorn
accepts connections, the ready file is written
atomically with ``{"url", "ca_file", "ca_bundle", "host", "port", "pid"}`` so scripts and
tests wait for a file, never for time.  uvicorn runs the httptools protocol with the
mock's URL and header limits, header and body timeouts and a connection cap
(:class:`.connections.GuardedHttpToolsProtocol`; ``Settings.keep_alive_seconds`` is uvicorn's
keep-alive timeout), an access log whose query strings are redacted (:mod:`..redaction`), and
repeated event-loop errors (failed ``accept()`` calls) logged at most once per
``Settings.log_repeat_seconds`` (:func:`.connections.install_log_limits`).  The event loop is uvicorn's
``loop="auto"`` choice (:func:`loop_factory`: uvloop where it is installed), in one process
as in ``--workers``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import socket
import tempfile
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from .. import redaction
from ..settings import Settings
from ..standalone import BUNDLE_NAME, write_trust_bundle
from .banner import startup_lines
from .connections import GuardedHttpToolsProtocol, accept_batch, install_log_limits, raise_open_file_limit
from .limits import settings_of

log = logging.getLogger("fal_mock.server")
LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True)
class TLSFiles:
    #: The CA clients must trust (the local one of ``--tls``); None for ``--ssl-certfile`` (a real certificate).
    ca_file: str | None
    cert_file: str
    #: None when ``cert_file`` holds the key too.
    key_file: str | None
    #: System/certifi roots plus the CA (:func:`..standalone.write_trust_bundle`): what ``SSL_CERT_FILE`` names.
    bundle_file: str | None = None


def make_tls(directory: str | Path, hosts: tuple[str, ...] = ("127.0.0.1", "::1", "localhost")) -> TLSFiles:
    """A fresh local CA and a server certificate for ``hosts``, written under ``directory``."""
    import trustme

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA(organization_name="fal-mock local CA")
    server_cert = authority.issue_cert(*hosts)
    ca_file = folder / "fal-mock-ca.pem"
    cert_file = folder / "fal-mock-server.pem"
    key_file = folder / "fal-mock-server.key"
    authority.cert_pem.write_to_path(str(ca_file))
    server_cert.cert_chain_pems[0].write_to_path(str(cert_file))
    for extra in server_cert.cert_chain_pems[1:]:
        extra.write_to_path(str(cert_file), append=True)
    server_cert.private_key_pem.write_to_path(str(key_file))
    os.chmod(key_file, 0o600)
    bundle = write_trust_bundle(str(ca_file), str(folder / BUNDLE_NAME))
    return TLSFiles(str(ca_file), str(cert_file), str(key_file), bundle)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket with TCP_NODELAY set before ``listen``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_for(host: str, port: int, tls: bool) -> str:
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    return f"{'https' if tls else 'http'}://{shown}:{port}"


def announce_ready(info: dict[str, Any], *, ready_file: str | None, ready_fd: int | None) -> None:
    """Tell whoever waits that the server accepts connections: a ready file, an inherited pipe, or both.

    The pipe (``--ready-fd N``) gets one JSON line and is closed, so a parent blocked in
    ``select``/``read`` on it wakes at once — and reads EOF instead if the server dies first.
    """
    if ready_file:
        write_ready_file(ready_file, info)
    if ready_fd is not None:
        try:
            os.write(ready_fd, (json.dumps(info) + "\n").encode())
        finally:
            os.close(ready_fd)


def write_ready_file(path: str, info: dict[str, Any]) -> None:
    """Write ``info`` as JSON to ``path`` atomically (a reader never sees half a file)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=str(target.parent), prefix=".ready-")
    with os.fdopen(fd, "w") as handle:
        json.dump(info, handle)
    os.replace(temp, target)


class GracefulServer(uvicorn.Server):
    """uvicorn's server, exiting with status 0 after a graceful SIGINT/SIGTERM shutdown.

    uvicorn re-raises the caught signal once it has shut down, so the process would end
    "killed by SIGTERM"; for a mock that was asked to stop, a clean exit is the right answer.
    """

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


class MockConfig(uvicorn.Config):
    """uvicorn's configuration with the mock's proxy-headers middleware (:mod:`.forwarded`) in place of uvicorn's.

    ``proxy_headers`` and ``forwarded_allow_ips`` mean what they mean to uvicorn (on, ``127.0.0.1``), but
    the middleware also honours ``X-Forwarded-Host`` — the handed-out URLs need the proxy's host.  It is
    applied in :meth:`load`, which every worker process runs too.
    """

    def load(self) -> None:
        wanted = self.proxy_headers
        self.proxy_headers = False
        try:
            super().load()
        finally:
            self.proxy_headers = wanted
        if wanted:
            from .forwarded import ForwardedHeaders

            self.loaded_app = ForwardedHeaders(self.loaded_app, self.forwarded_allow_ips)


def uvicorn_config(
    app: Any, *, tls: TLSFiles | None, log_level: str, access_log: bool, settings: Settings | None = None, **extra: Any
) -> uvicorn.Config:
    """The uvicorn configuration every ``serve`` uses (one process or several): limits, TLS, redacted logs.

    ``settings`` default to the app's own (an import string's app has none here: pass them). ``extra``
    carries the other uvicorn options of ``serve`` (``proxy_headers``, ``forwarded_allow_ips``,
    ``root_path``, and for workers ``factory``/``workers``).
    """
    settings = settings or settings_of(app)
    limit = raise_open_file_limit()
    config = MockConfig(
        app,
        log_level=log_level,
        access_log=access_log,
        ssl_certfile=tls.cert_file if tls else None,
        ssl_keyfile=tls.key_file if tls else None,
        lifespan="on",
        timeout_graceful_shutdown=5,
        h11_max_incomplete_event_size=64 * 1024,
        http=GuardedHttpToolsProtocol,
        log_config=redaction.log_config(),
        timeout_keep_alive=max(1, round(settings.keep_alive_seconds)),
        backlog=accept_batch(limit),
        **extra,
    )
    install_log_limits(settings)  # after uvicorn configured logging (workers install theirs again)
    return config


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """The event loop uvicorn's ``loop="auto"`` picks (uvloop where installed); None: asyncio's default."""
    from uvicorn.loops.auto import auto_loop_factory

    return auto_loop_factory(use_subprocess=False)


def ready_info(host: str, port: int, tls: TLSFiles | None, **extra: Any) -> dict[str, Any]:
    """What the ready file says about a serving process: ``{"url", "ca_file", "host", "port", "pid", ...}``."""
    return {"url": url_for(host, port, tls is not None), "ca_file": tls.ca_file if tls else None,
            "ca_bundle": tls.bundle_file if tls else None,
            "host": host, "port": port, "pid": os.getpid(), **extra}  # fmt: skip


def run_event_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on the event loop uvicorn's own command line picks (``loop="auto"``): uvloop when it is
    installed (it is, with ``uvicorn[standard]``), else asyncio's.  ``asyncio.run`` alone would always take
    asyncio's loop, ~25% slower per request than uvloop's on status polls (``benchmarks/bench_protocol.py``).
    """
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(main)


async def serve(
    app: Any,
    *,
    host: str,
    port: int,
    tls: TLSFiles | None,
    ready_file: str | None,
    ready_fd: int | None = None,
    log_level: str = "info",
    access_log: bool = True,
    uvicorn_options: dict[str, Any] | None = None,
) -> None:
    """Serve ``app`` until SIGINT/SIGTERM; write ``ready_file`` once connections are accepted.

    ``uvicorn_options``: more :class:`uvicorn.Config` options (``proxy_headers``, ``forwarded_allow_ips``,
    ``root_path``).
    """
    sock = bind_socket(host, port)
    actual_port = sock.getsockname()[1]
    config = uvicorn_config(app, tls=tls, log_level=log_level, access_log=access_log, **(uvicorn_options or {}))
    server = GracefulServer(config)
    info = ready_info(host, actual_port, tls)

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.01)
        log.info("fal-mock is serving at %s%s", info["url"], f" (CA: {info['ca_file']})" if info["ca_file"] else "")
        for line in startup_lines(info, getattr(getattr(app, "state", None), "mock", None), ready_file):
            log.info("%s", line)
        announce_ready(info, ready_file=ready_file, ready_fd=ready_fd)

    announcer = asyncio.create_task(announce())
    try:
        await server.serve(sockets=[sock])
    finally:
        announcer.cancel()
        sock.close()
