"""fal's host names, the mock's services, and the URL bases handed out to clients.

One app answers for every fal host (DESIGN §2).  A request reaches a *service*
either by its ``Host`` header (in-process: the client talks to ``queue.fal.run``)
or by a path prefix on a plain host (a standalone server: ``/queue``, ``/run``,
``/rest``, ``/cdn``, ``/proxy``, ``/_mock``).

Every URL the mock hands out (status/response/cancel URLs, file URLs, upload
URLs, the CDN token's ``base_url``) is built from :class:`Bases`, which is derived
from how the request came in, so a client keeps talking to the mock:

* **host style** — the request carried a fal host name: URLs use fal's own
  ``https://`` hosts (the in-process transport routes them back to the app);
* **prefix style** — anything else: URLs use the request's own origin plus the
  service prefix (``http://127.0.0.1:8000/queue/...``).  Requests dispatched by
  the ``/proxy`` endpoint use the proxy's origin, because a browser or Node
  client cannot reach fal's real hosts offline.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from ..hostnames import FAL_HOST_SERVICES, SERVICE_PREFIXES, host_allowed, host_of, is_fal_host
from ..jobs.model import Origin

__all__ = ["FAL_HOSTS", "PREFIX", "Bases", "Service", "host_allowed", "host_of", "is_fal_host"]


class Service(StrEnum):
    QUEUE = "queue"
    RUN = "run"
    REST = "rest"
    CDN = "cdn"
    PROXY = "proxy"
    CONTROL = "_mock"


#: fal host name → service.
FAL_HOSTS: dict[str, Service] = {name: Service(service) for name, service in FAL_HOST_SERVICES.items()}

#: Path prefix of each service on a plain host.
PREFIX: dict[Service, str] = {service: SERVICE_PREFIXES[service.value] for service in Service}

#: Scope key the dispatcher sets: did the request arrive on a fal host name (host style)?
FAL_HOST_KEY = "fal_mock.fal_host"

#: Scope key under which the proxy endpoint pins the origin for URLs it causes.
PINNED_ORIGIN_KEY = "fal_mock.origin"


@dataclass(frozen=True)
class Bases:
    """Absolute base URLs (no trailing slash) of every service for one request."""

    queue: str
    run: str
    rest: str
    cdn: str
    control: str
    host_style: bool

    @classmethod
    @functools.cache
    def fal(cls) -> Bases:
        return cls(
            queue="https://queue.fal.run",
            run="https://fal.run",
            rest="https://rest.fal.ai",
            cdn="https://v3.fal.media",
            control="https://queue.fal.run/_mock",
            host_style=True,
        )

    @classmethod
    @functools.lru_cache(maxsize=256)
    def prefixed(cls, origin: str) -> Bases:
        """Bases under ``origin`` (memoised: a pure function of its text, and on every request's path)."""
        origin = origin.rstrip("/")
        return cls(
            queue=origin + PREFIX[Service.QUEUE],
            run=origin + PREFIX[Service.RUN],
            rest=origin + PREFIX[Service.REST],
            cdn=origin + PREFIX[Service.CDN],
            control=origin + PREFIX[Service.CONTROL],
            host_style=False,
        )

    @classmethod
    def from_scope(cls, scope: dict[str, Any] | Any) -> Bases:
        pinned = scope.get(PINNED_ORIGIN_KEY)
        if pinned:
            return cls.prefixed(pinned)
        host = _header(scope, b"host")
        fal_host = scope.get(FAL_HOST_KEY)  # known when the request went through the dispatcher
        if fal_host if fal_host is not None else (host and is_fal_host(host)):
            return cls.fal()
        scheme = scope.get("scheme", "http")
        if not host:
            server = scope.get("server") or ("127.0.0.1", 80)
            host = f"{server[0]}:{server[1]}"
        return cls.prefixed(f"{scheme}://{host}{_app_root(scope)}")

    @functools.cached_property
    def origin(self) -> Origin:
        """What the core keeps of these bases: the file links' base and the mock's own host names.

        Own host names are never fal's: a fal CDN URL the store does not hold (a doc example) goes
        to the input policy in-process (host style) just as on a standalone server.
        """
        hosts = {urlsplit(base).hostname or "" for base in (self.queue, self.cdn, self.rest, self.run)} - {""}
        return Origin(self.cdn, tuple(sorted(host for host in hosts if not is_fal_host(host))))


def _header(scope: Any, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _app_root(scope: Any) -> str:
    """The root path the whole app is served under (without the service prefix)."""
    root = str(scope.get("fal_mock.app_root", ""))
    return root.rstrip("/")
