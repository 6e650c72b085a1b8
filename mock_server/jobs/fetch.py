"""The ``fetch`` image_url policy: download a remote input file — opt-in, and carefully.

Only used when ``Settings.image_url_policy == "fetch"``; the default policy never
touches the network.  A download:

* must name an allow-listed host (``Settings.fetch_allow_hosts``: exact names, IP
  literals, ``*.example.com`` for sub-domains, or ``*`` for any host).  An empty
  list allows nothing: the user has to say where downloads may go;
* is refused when the host resolves to a loopback, private, link-local
  (169.254.0.0/16 — cloud metadata services), shared, reserved or otherwise
  non-public address, unless ``Settings.fetch_allow_private``; unspecified and
  multicast addresses are always refused.  IPv6 forms that carry an IPv4 address
  (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::/96``,
  6to4 ``2002::/16``, Teredo) are judged by that IPv4 address as well.  The *resolved* addresses are checked
  (every one of them), and the connection goes to the checked address itself (the
  name is kept for ``Host`` and TLS SNI/verification), so a second DNS answer
  cannot swap in another address;
* follows at most :data:`MAX_REDIRECTS` redirects, each re-checked like the first
  URL (allow-list and addresses) — a redirect into a private range is refused;
* is capped in size (``Settings.max_input_file_bytes``, checked against
  ``Content-Length`` and again while the body streams in) and in total time
  (``Settings.fetch_timeout_seconds``, wall time: the deadline bounds DNS, connect
  and every read, and is checked between chunks);
* never uses proxy variables from the environment (``trust_env=False``).

Failures are fal's ``file_download_error`` (why, in ``msg``) or ``file_too_large``
with ``ctx.max_size``.  The fetcher runs on the runner's worker threads, so it is
synchronous.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import socket
import time
import urllib.parse
from collections.abc import Callable, Sequence

import httpx

from ..hostnames import embedded_ipv4, host_allowed
from ..settings import Settings
from .inputs import clip, download_error, too_large

MAX_REDIRECTS = 5
USER_AGENT = "fal-mock-fetch/1 (+image_url_policy=fetch)"

Resolver = Callable[[str, int], list[str]]


def system_resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_refusal(address: str, allow_private: bool) -> str | None:
    """Why the fetcher must not connect to ``address`` (None when it may)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address!r} is not an IP address"
    embedded = embedded_ipv4(ip)
    for candidate in (embedded, ip) if embedded is not None else (ip,):
        shown = str(ip) if candidate is ip else f"{ip} (carrying {candidate})"
        if candidate.is_unspecified or candidate.is_multicast:
            return f"{shown} is not a unicast address"
        if allow_private:
            continue
        for flag, what in (("is_loopback", "loopback"), ("is_link_local", "link-local"), ("is_private", "private")):
            if getattr(candidate, flag):
                return f"{shown} is a {what} address (set fetch_allow_private to allow it)"
        if not candidate.is_global:
            return f"{shown} is not a public address (set fetch_allow_private to allow it)"
    return None


class _DownloadRefused(Exception):
    """A download the fetch policy (or the remote host) refuses; the message says why."""


class _TooLarge(Exception):
    pass


class Fetcher:
    """Downloads one remote input under the policy's rules; ``fetcher(url, field) -> bytes``."""

    def __init__(
        self,
        *,
        allow_hosts: Sequence[str],
        allow_private: bool,
        timeout: float,
        max_bytes: int,
        resolve: Resolver = system_resolve,
    ) -> None:
        self.allow_hosts = tuple(allow_hosts)
        self.allow_private = allow_private
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._resolve = resolve

    @classmethod
    def from_settings(cls, settings: Settings) -> Fetcher:
        return cls(
            allow_hosts=settings.fetch_allow_hosts,
            allow_private=settings.fetch_allow_private,
            timeout=settings.fetch_timeout_seconds,
            max_bytes=settings.max_input_file_bytes,
        )

    def __call__(self, url: str, field: str) -> bytes:
        deadline = time.monotonic() + self.timeout
        current = url
        try:
            for _ in range(MAX_REDIRECTS + 1):
                outcome = self._get(current, deadline)
                if isinstance(outcome, bytes):
                    return outcome
                current = outcome
            raise _DownloadRefused(f"more than {MAX_REDIRECTS} redirects")
        except _DownloadRefused as refused:
            raise download_error(field, clip(url), str(refused)) from None
        except _TooLarge:
            raise too_large(field, clip(url), self.max_bytes) from None
        except httpx.TimeoutException:
            raise download_error(field, clip(url), f"timed out after {self.timeout:g} seconds") from None
        except (httpx.HTTPError, OSError, ValueError) as error:
            raise download_error(field, clip(url), f"{type(error).__name__}: {error}") from None

    def _remaining(self, deadline: float) -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise httpx.TimeoutException("deadline reached")
        return left

    def _addresses(self, host: str, port: int, deadline: float) -> list[str]:
        try:
            ipaddress.ip_address(host)
            return [host]
        except ValueError:
            pass
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="fal-mock-fetch-dns")
        try:
            future = pool.submit(self._resolve, host, port)
            try:
                return future.result(timeout=self._remaining(deadline))
            except concurrent.futures.TimeoutError:
                raise httpx.TimeoutException("DNS resolution timed out") from None
            except OSError as error:
                raise _DownloadRefused(f"cannot resolve {host}: {error}") from None
        finally:
            pool.shutdown(wait=False)

    def _get(self, url: str, deadline: float) -> bytes | str:
        """The body of ``url``, or the next URL when it redirects."""
        parsed = urllib.parse.urlsplit(url)
        scheme = parsed.scheme.lower()
        host = (parsed.hostname or "").lower()
        if scheme not in ("http", "https") or not host:
            raise _DownloadRefused(f"only http(s) URLs can be downloaded, not {clip(url, 60)!r}")
        if parsed.username or parsed.password:
            raise _DownloadRefused("URLs with credentials are not downloaded")
        if not self.allow_hosts:
            raise _DownloadRefused("fetch_allow_hosts is empty: list the hosts image_url may be downloaded from")
        if not host_allowed(host, self.allow_hosts):
            raise _DownloadRefused(f"host {host} is not in fetch_allow_hosts")
        port = parsed.port or (443 if scheme == "https" else 80)
        addresses = self._addresses(host, port, deadline)
        if not addresses:
            raise _DownloadRefused(f"{host} has no address")
        for address in addresses:
            why = address_refusal(address, self.allow_private)
            if why is not None:
                raise _DownloadRefused(f"{host} resolves to {why}")
        address = addresses[0]
        literal = f"[{address}]" if ":" in address else address
        target = urllib.parse.urlunsplit((scheme, f"{literal}:{port}", parsed.path or "/", parsed.query, ""))
        headers = {"Host": parsed.netloc.rsplit("@", 1)[-1], "User-Agent": USER_AGENT, "Accept": "image/*,*/*",
                   "Accept-Encoding": "identity"}  # fmt: skip
        extensions = {"sni_hostname": host} if scheme == "https" else {}
        with httpx.Client(trust_env=False, follow_redirects=False, timeout=self._remaining(deadline)) as client:
            request = client.build_request("GET", target, headers=headers, extensions=extensions)
            response = client.send(request, stream=True)
            try:
                if response.is_redirect:
                    location = str(response.headers.get("location", ""))
                    if not location:
                        raise _DownloadRefused(f"HTTP {response.status_code} redirect without a Location")
                    return str(urllib.parse.urljoin(url, location))
                if not response.is_success:
                    raise _DownloadRefused(f"HTTP {response.status_code} from {host}")
                encoding = response.headers.get("content-encoding", "identity").strip().lower()
                if encoding not in ("", "identity"):
                    raise _DownloadRefused(f"{host} sent a {encoding}-encoded body although identity was asked for")
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                    raise _TooLarge()
                body = bytearray()
                for chunk in response.iter_raw():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise _TooLarge()
                    self._remaining(deadline)
                return bytes(body)
            finally:
                response.close()
