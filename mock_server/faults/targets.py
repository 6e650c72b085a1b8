"""Which request is which, as faults (and the request journal) see it: a request's :class:`~.book.Target`.

``submit``, ``status``, ``stream``, ``result``, ``cancel`` on the queue host; ``run`` on ``fal.run``;
``token`` (CDN token), ``upload`` (every upload call) and ``rest`` on the REST/CDN hosts; ``file``
(GET/HEAD of a stored file); ``any`` matches all of these.  The control API and the ``/proxy``
envelope are never faulted (what the proxy dispatches is).  Plain text rules on the method, the
host and the path — no HTTP framework.
"""

from __future__ import annotations

import re

from ..hostnames import FAL_HOST_SERVICES, SERVICE_PREFIXES, host_of
from ..jobs.endpoints import EndpointId
from .book import Target

_REQUESTS = re.compile(r"^/(?P<app>.+?)/requests/(?P<rid>[^/]+)(?P<suffix>/status/stream|/status|/cancel)?/?$")
_SUFFIX_KIND = {None: "result", "/status": "status", "/status/stream": "stream", "/cancel": "cancel"}


def service_and_path(host: str, path: str) -> tuple[str | None, str]:
    """The service a request reaches (by fal host name, else by path prefix) and its path within it."""
    service = FAL_HOST_SERVICES.get(host_of(host)) if host else None
    if service is not None:
        return service, path
    for candidate, prefix in SERVICE_PREFIXES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return candidate, path[len(prefix) :] or "/"
    return None, path


def classify(method: str, host: str, path: str, namespace: str = "") -> Target | None:
    """The :class:`Target` of a request to the mock; None for the control API, the proxy envelope and the rest."""
    service, inner = service_and_path(host, path)
    method = method.upper()
    if service == "queue":
        match = _REQUESTS.match(inner)
        if match:
            app_id = _app_id(match["app"])
            return Target(_SUFFIX_KIND[match["suffix"]], app_id, None, match["rid"], namespace)
        if method == "POST":
            endpoint = inner.strip("/")
            return Target("submit", _app_id(endpoint), endpoint, None, namespace)
        return None
    if service == "run" and method == "POST":
        endpoint = inner.strip("/")
        endpoint = endpoint[: -len("/stream")] if endpoint.endswith("/stream") else endpoint
        return Target("run", _app_id(endpoint), endpoint, None, namespace)
    if service == "rest":
        if inner.startswith("/storage/auth/token"):
            return Target("token", namespace=namespace)
        if inner.startswith("/storage/upload") or method == "PUT":
            return Target("upload", namespace=namespace)
        return Target("rest", namespace=namespace)
    if service == "cdn":
        if inner.startswith("/files/upload") or method in ("POST", "PUT"):
            return Target("upload", namespace=namespace)
        return Target("file", namespace=namespace)
    return None


def _app_id(text: str) -> str | None:
    try:
        return EndpointId.parse(text).app_id
    except ValueError:
        return None
