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
mock's URL and header limits (:class:`.limits.BoundedHttpToolsProtocol`) and an access
log whose query strings are redacted (:mod:`.redaction`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from .. import redaction
from ..standalone import BUNDLE_NAME, write_trust_bundle
from .banner import startup_lines
from .limits import BoundedHttpToolsProtocol

log = logging.getLogger("fal_mock.server")
LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True)
class TLSFiles:
    ca_file: str
    cert_file: str
    key_file: str
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


def uvicorn_config(app: Any, *, tls: TLSFiles | None, log_level: str, access_log: bool, **extra: Any) -> uvicorn.Config:
    """The uvicorn configuration every ``serve`` uses (one process or several): limits, TLS, redacted logs."""
    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=access_log,
        ssl_certfile=tls.cert_file if tls else None,
        ssl_keyfile=tls.key_file if tls else None,
        lifespan="on",
        timeout_graceful_shutdown=5,
        h11_max_incomplete_event_size=64 * 1024,
        http=BoundedHttpToolsProtocol,
        log_config=redaction.log_config(),
        **extra,
    )


def ready_info(host: str, port: int, tls: TLSFiles | None, **extra: Any) -> dict[str, Any]:
    """What the ready file says about a serving process: ``{"url", "ca_file", "host", "port", "pid", ...}``."""
    return {"url": url_for(host, port, tls is not None), "ca_file": tls.ca_file if tls else None,
            "ca_bundle": tls.bundle_file if tls else None,
            "host": host, "port": port, "pid": os.getpid(), **extra}  # fmt: skip


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
) -> None:
    """Serve ``app`` until SIGINT/SIGTERM; write ``ready_file`` once connections are accepted."""
    sock = bind_socket(host, port)
    actual_port = sock.getsockname()[1]
    server = GracefulServer(uvicorn_config(app, tls=tls, log_level=log_level, access_log=access_log))
    info = ready_info(host, actual_port, tls)

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.01)
        log.info("fal-mock is serving at %s%s", info["url"], f" (CA: {info['ca_file']})" if tls else "")
        for line in startup_lines(info, getattr(getattr(app, "state", None), "mock", None), ready_file):
            log.info("%s", line)
        announce_ready(info, ready_file=ready_file, ready_fd=ready_fd)

    announcer = asyncio.create_task(announce())
    try:
        await server.serve(sockets=[sock])
    finally:
        announcer.cancel()
        sock.close()
