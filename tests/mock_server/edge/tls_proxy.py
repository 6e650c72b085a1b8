"""A small TLS-terminating reverse proxy for the tests (run as a script): the way nginx fronts a service.

``python tls_proxy.py --upstream http://127.0.0.1:8000 --prefix /fal --cert C --key K --ready-fd N
[--local-address 127.0.0.2]`` serves https on a free loopback port, strips ``--prefix`` from each
request's path, forwards it to ``--upstream`` from ``--local-address`` with ``X-Forwarded-Proto: https``,
``X-Forwarded-Host`` (the Host the client sent) and ``X-Forwarded-For`` (the client's address), and
answers with the upstream's response (read whole).  Its port goes to descriptor N as one JSON line
once it listens.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
from typing import Any

import httpx
import uvicorn

HOP_BY_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"content-encoding", b"host"}


def make_app(upstream: str, prefix: str, local_address: str) -> Any:
    transport = httpx.AsyncHTTPTransport(local_address=local_address)
    client = httpx.AsyncClient(base_url=upstream, transport=transport, timeout=60)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await client.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        raw_path = scope["raw_path"].decode("latin-1")
        if not raw_path.startswith(prefix + "/"):
            await send({"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(name, value) for name, value in scope["headers"] if name not in HOP_BY_HOP]
        host = dict(scope["headers"]).get(b"host", b"")
        headers += [(b"x-forwarded-proto", b"https"), (b"x-forwarded-host", host),
                    (b"x-forwarded-for", scope["client"][0].encode())]  # fmt: skip
        query = scope["query_string"].decode("latin-1")
        target = raw_path[len(prefix) :] + (f"?{query}" if query else "")
        response = await client.request(scope["method"], target, headers=headers, content=body)
        content = await response.aread()
        out = [(name, value) for name, value in response.headers.raw if name.lower() not in HOP_BY_HOP]
        out.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": out})
        await send({"type": "http.response.body", "body": content})

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--prefix", default="")
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--ready-fd", type=int, required=True)
    parser.add_argument("--local-address", default="127.0.0.1")
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    config = uvicorn.Config(make_app(args.upstream, args.prefix, args.local_address), ssl_certfile=args.cert,
                            ssl_keyfile=args.key, log_level="warning", proxy_headers=False)  # fmt: skip
    os.write(args.ready_fd, (json.dumps({"port": sock.getsockname()[1]}) + "\n").encode())
    os.close(args.ready_fd)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
