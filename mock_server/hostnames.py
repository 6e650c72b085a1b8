"""fal's host names, and matching host names against allow-lists — plain text rules, no HTTP.

The edge routes requests by these names (:mod:`.edge.hosts`); the core uses them to tell fal's
own CDN URLs from the mock's (input files) and to apply the allow-lists of the ``fetch`` input
policy and of webhook targets.
"""

from __future__ import annotations

import ipaddress
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


#: IPv6 prefixes that carry an IPv4 address in their low 32 bits: NAT64 (RFC 6052 well-known and RFC 8215 local-use).
NAT64_PREFIXES = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
#: 6to4 (RFC 3056): the IPv4 address is bits 16-47.
SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
#: IPv4-compatible addresses (``::a.b.c.d``, deprecated by RFC 4291), ``::`` and ``::1`` excepted.
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for or carries, else None.

    IPv4-mapped (``::ffff:a.b.c.d``), IPv4-compatible (``::a.b.c.d``), NAT64 (``64:ff9b::/96``,
    ``64:ff9b:1::/48``), 6to4 (``2002:AABB:CCDD::/48``) and Teredo (the client address) forms.
    An address check must judge the IPv4 address too: ``::ffff:127.0.0.1`` is loopback in all but name.
    """
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    value = int(ip)
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in IPV4_COMPATIBLE and value > 1:
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if any(ip in network for network in NAT64_PREFIXES):
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if ip in SIX_TO_FOUR:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


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
