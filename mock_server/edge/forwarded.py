"""Behind a reverse proxy: ``X-Forwarded-Proto``/``-Host``/``-For`` honoured only from allowed proxies.

``fal-mock serve`` hands out absolute URLs (status, result, file and upload URLs) built from the
request's scheme and ``Host`` (:class:`.hosts.Bases`).  Behind a TLS-terminating proxy those are
the proxy's *upstream* view (``http://127.0.0.1:8000``), so clients would be sent around the
proxy.  :class:`ForwardedHeaders` (an ASGI middleware that ``serve`` puts in front of the app, as
uvicorn puts its own proxy-headers middleware) rewrites the request as the client made it, when —
and only when — the connection comes from an allowed proxy:

* ``X-Forwarded-Proto`` → the scheme (``http``/``https``; ``ws``/``wss`` for websockets);
* ``X-Forwarded-Host`` → the ``Host`` header (so URLs name the proxy's host and port);
* ``X-Forwarded-For`` → the client address: walking the list from the right, the first address
  that is not an allowed proxy (uvicorn's rule).

Rules and limits:

* **Allowed proxies** (``--forwarded-allow-ips``, uvicorn's spelling and default: the
  ``FORWARDED_ALLOW_IPS`` environment variable, else ``127.0.0.1``) is a comma-separated list of
  IP addresses, networks (``10.0.0.0/8``) or ``*`` (any peer: only where nothing but the proxy can
  reach the mock).  The *direct peer* of the connection is checked; headers from any other peer
  are left as they are (and ignored: the URLs keep the request's own scheme and host).
* Where a header holds several comma-separated values (a chain of proxies), ``Proto`` and
  ``Host`` take the **last** one — the one the allowed proxy itself wrote; a value a client put in
  front of it is never used.
* A forwarded host must look like ``name[:port]`` or ``[v6]:port`` (at most 255 characters of
  letters, digits, ``.-:[]``), and a scheme must be one of the four above; anything else is ignored.
* ``--no-proxy-headers`` turns all of this off (uvicorn's own middleware is never used: it
  knows no ``X-Forwarded-Host``).  The standard ``Forwarded`` header (RFC 7239) is not read:
  the common proxies (nginx, Caddy, Traefik, cloud load balancers) send the ``X-Forwarded-*`` ones.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

#: uvicorn's default list of allowed proxies.
DEFAULT_ALLOWED = "127.0.0.1"
#: Peer addresses whose verdict :class:`AllowedProxies` remembers.
MAX_REMEMBERED_PEERS = 1024
#: The longest forwarded host accepted.
MAX_HOST_CHARS = 255
SCHEMES = frozenset({"http", "https", "ws", "wss"})
_FORWARDED = frozenset({b"x-forwarded-proto", b"x-forwarded-host", b"x-forwarded-for"})
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(?::[0-9]{1,5})?$")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AllowedProxies:
    """The peers whose ``X-Forwarded-*`` headers are believed (see the module docstring)."""

    any_peer: bool
    networks: tuple[IPNetwork, ...]
    names: frozenset[str]
    #: Verdicts by peer address, so each request does not parse its peer's address again (at most
    #: :data:`MAX_REMEMBERED_PEERS`, then forgotten at once).
    _verdicts: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, spec: str | list[str] | tuple[str, ...]) -> AllowedProxies:
        items = spec.split(",") if isinstance(spec, str) else list(spec)
        networks: list[IPNetwork] = []
        names: set[str] = set()
        any_peer = False
        for raw in items:
            item = raw.strip()
            if not item:
                continue
            if item == "*":
                any_peer = True
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                names.add(item)  # not an address (a unix socket path, a name): compared as text
        return cls(any_peer, tuple(networks), frozenset(names))

    def allows(self, peer: str | None) -> bool:
        if self.any_peer:
            return True
        if not peer:
            return False
        verdict = self._verdicts.get(peer)
        if verdict is None:
            verdict = self._judge(peer)
            if len(self._verdicts) >= MAX_REMEMBERED_PEERS:
                self._verdicts.clear()
            self._verdicts[peer] = verdict
        return verdict

    def _judge(self, peer: str) -> bool:
        if peer in self.names:
            return True
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.networks)


def _last_value(value: bytes) -> str:
    return value.decode("latin-1").rsplit(",", 1)[-1].strip()


def forwarded_client(value: bytes, allowed: AllowedProxies) -> str | None:
    """The client address of an ``X-Forwarded-For`` value (uvicorn's rule); None if it names none."""
    hosts = [item.strip() for item in value.decode("latin-1").split(",") if item.strip()]
    for host in reversed(hosts):
        if not allowed.allows(host):
            return host
    return hosts[0] if hosts else None


def rewrite(scope: MutableMapping[str, Any], allowed: AllowedProxies) -> None:
    """Apply the forwarded headers to ``scope`` when its direct peer is an allowed proxy (in place)."""
    client = scope.get("client")
    if not allowed.allows(client[0] if client else None):
        return
    headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
    found = {name: value for name, value in headers if name in _FORWARDED}
    if not found:
        return
    proto = found.get(b"x-forwarded-proto")
    if proto is not None:
        scheme = _last_value(proto).lower()
        if scheme in SCHEMES:
            if scope["type"] == "websocket":
                scheme = scheme.replace("http", "ws")
            scope["scheme"] = scheme
    host = found.get(b"x-forwarded-host")
    if host is not None:
        name = _last_value(host)
        if len(name) <= MAX_HOST_CHARS and _HOST.match(name):
            kept = [(key, value) for key, value in headers if key != b"host"]
            scope["headers"] = [(b"host", name.encode("latin-1")), *kept]
    forwarded_for = found.get(b"x-forwarded-for")
    if forwarded_for is not None:
        address = forwarded_client(forwarded_for, allowed)
        if address:
            scope["client"] = (address, 0)


class ForwardedHeaders:
    """ASGI middleware: :func:`rewrite` every http and websocket request before the app sees it."""

    def __init__(self, app: ASGIApp, allowed: str | list[str] | tuple[str, ...] = DEFAULT_ALLOWED) -> None:
        self.app = app
        self.allowed = AllowedProxies.parse(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            rewrite(scope, self.allowed)
        await self.app(scope, receive, send)
