"""fal's host names, and matching host names against allow-lists — plain text rules, no HTTP.

The edge routes requests by these names (:mod:`.edge.hosts`); the core uses them to tell fal's
own CDN URLs from the mock's (input files) and to apply the allow-lists of the ``fetch`` input
policy and of webhook targets.
"""

from __future__ import annotations

from collections.abc import Iterable

#: fal host name → the service it stands for.  ``falrun.com`` names are the Python client's backup domains.
FAL_HOST_SERVICES: dict[str, str] = {
    "queue.fal.run": "queue",
    "queue.falrun.com": "queue",
    "fal.run": "run",
    "falrun.com": "run",
    "rest.fal.ai": "rest",
    "rest.alpha.fal.ai": "rest",
    "v3.fal.media": "cdn",
    "v3b.fal.media": "cdn",
    "fal.media": "cdn",
}

#: Path prefix of each service on a plain host (a standalone server): ``/queue/...``, ``/_mock/...``.
SERVICE_PREFIXES: dict[str, str] = {
    service: "/" + service for service in ("queue", "run", "rest", "cdn", "proxy", "_mock")
}


def host_of(value: str) -> str:
    """Host name of a ``Host`` header value, lower-cased, port and brackets stripped."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_fal_host(host: str) -> bool:
    return host_of(host) in FAL_HOST_SERVICES


def host_allowed(host: str, patterns: Iterable[str]) -> bool:
    """Whether ``host`` matches an allow-list: an exact name, ``*.suffix`` (sub-domains only) or ``*``.

    The one matcher behind ``fetch_allow_hosts`` (the ``fetch`` input policy) and
    ``webhook_allow_hosts`` (webhook targets).
    """
    host = host.lower().rstrip(".")
    for raw in patterns:
        pattern = raw.strip().lower().rstrip(".")
        if pattern == "*" or pattern == host:
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
            return True
    return False
