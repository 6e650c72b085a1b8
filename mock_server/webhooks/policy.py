"""What a webhook delivery sends, when it retries, where it may go and what its journal masks: pure rules.

The dispatcher (:mod:`.dispatcher`) applies them; nothing here holds state or does I/O.

The body (:func:`delivery_payload`), exactly as fal documents it:

* ``{"request_id", "gateway_request_id", "status": "OK", "payload": <output>}`` — the
  output rendered as the result endpoint renders it for the origin of the submit
  request (so file URLs point wherever the submitter talked to);
* ``"status": "ERROR"``, ``"error": "Invalid status code: <N>"`` and ``payload`` = the
  error body for failed jobs (422 validation errors, model errors, request errors,
  cancelled jobs — fal does not document whether a cancelled request calls its
  webhook; the mock does, as an ERROR with 499);
* ``"payload": null`` + fal's ``payload_error`` text when the payload cannot be
  serialised: a payload that is not a JSON object or not finite JSON, or on purpose —
  the submit header ``X-Fal-Mock-Webhook-Unserializable: true`` or
  :meth:`~.dispatcher.WebhookDispatcher.force_payload_error` — so receivers can test that branch.

It is sent as compact UTF-8 JSON (:func:`encode_body`).

The retry schedule (:func:`retry_delay`, :func:`retry_schedule`; our reading of fal's
"retry 10 times in the span of 2 hours"; newer fal wording is uncertain, see §4): after
failed attempt *n* the next is due ``min(webhook_retry_base_seconds · 2^(n-1),
webhook_retry_max_seconds)`` clock seconds later, up to ``max_webhook_retries`` retries:
with the defaults 7, 14, 28, 56, 112, 224, 448, 896, 1792 and 3584 s — 11 attempts over
7161 s (1 h 59 min; the 1 h cap, ``webhook_retry_max_seconds``, only matters for other
settings).

Targets (:func:`target_refusal`; loopback by default, nothing reaches the internet unless
asked): http(s) URLs whose host is ``localhost``, ``127.0.0.0/8`` or ``::1``
(:func:`is_loopback_host`; names are not resolved), or a host in ``webhook_allow_hosts``
(:func:`host_allowed`).  URLs of the dispatcher's in-process routes
(:func:`route_matches`) skip this policy.

The server's own control API is never a target (:func:`targets_own_control`, checked at
submit by the edge, which knows the server's addresses): a URL whose host is one of the
server's names or any alias of loopback (``localhost``, ``*.localhost``, ``127.0.0.0/8``,
``::1``, ``0.0.0.0``, ``::`` and IPv6 forms carrying a loopback IPv4 address), whose port is
the server's, and whose path has a ``_mock`` segment (percent-decoding undone, ``\\`` read as
``/``) — a webhook pointed at its own ``/_mock/reset`` wiped every namespace.

Credentials in webhook URLs (user info and the values of query parameters named like
token/key/secret/sig/auth/password) are masked (:func:`redact_url`) in the journal and
in log lines.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import math
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from ..files.store import FileStore
from ..hostnames import embedded_ipv4, host_allowed, host_of
from ..jobs.model import Job
from ..jobs.results import result_body
from ..redaction import MASK, secret_name
from ..settings import Settings

#: fal's text for a payload it could not serialise (DOC webhooks; fal-ai/fal-js #153).
PAYLOAD_ERROR_TEXT = (
    "Response payload is not JSON serializable. Either return a JSON serializable object "
    "or use the queue endpoint to retrieve the response."
)


def delivery_payload(job: Job, files: FileStore, *, force_payload_error: bool = False) -> dict[str, Any]:
    """The JSON fal POSTs for a completed ``job`` (see the module docstring)."""
    outcome = job.final_outcome()
    ok = outcome is not None and outcome.ok
    head: dict[str, Any] = {
        "request_id": job.request_id,
        "gateway_request_id": job.request_id,
        "status": "OK" if ok else "ERROR",
    }
    if not ok:
        head["error"] = f"Invalid status code: {outcome.status_code if outcome is not None else 500}"
    unserialisable = {**head, "payload": None, "payload_error": PAYLOAD_ERROR_TEXT}
    if outcome is None or force_payload_error:
        return unserialisable
    payload = result_body(outcome, job.origin.files_url, files) if ok else copy.deepcopy(outcome.body)
    if not isinstance(payload, dict):
        return unserialisable
    try:
        encode_body(payload)
    except (TypeError, ValueError):
        return unserialisable
    return {**head, "payload": payload}


def encode_body(payload: Any) -> bytes:
    """Compact UTF-8 JSON (strict: NaN and infinities are not JSON)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def retry_delay(failed_attempts: int, settings: Settings) -> float:
    """Clock seconds between failed attempt number ``failed_attempts`` (1-based) and the next."""
    base = settings.webhook_retry_base_seconds
    exponent = min(failed_attempts - 1, 64)
    return float(min(base * math.pow(2, exponent), settings.webhook_retry_max_seconds))


def retry_schedule(settings: Settings) -> list[float]:
    """Offsets (clock seconds after the first attempt) of every retry when all attempts fail."""
    offsets, total = [], 0.0
    for number in range(1, settings.max_webhook_retries + 1):
        total += retry_delay(number, settings)
        offsets.append(total)
    return offsets


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a literal loopback address (127.0.0.0/8, ::1); names are not resolved."""
    host = host.lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_alias(host: str) -> bool:
    """Any name or literal that reaches this machine's loopback or wildcard listeners (see the module docstring)."""
    host = host_of(host).rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    embedded = embedded_ipv4(ip)
    return any(item.is_loopback or item.is_unspecified for item in (ip, embedded) if item is not None)


#: The path segment of the control API (``/_mock/...``).
CONTROL_SEGMENT = "_mock"


def targets_own_control(url: str, own: Iterable[tuple[str, int]]) -> bool:
    """Whether ``url`` would reach the control API of the server reachable at ``own`` ``(host, port)`` pairs."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    path = parts.path
    for _ in range(3):  # doubly encoded forms too
        path = unquote(path)
    if CONTROL_SEGMENT not in path.replace("\\", "/").split("/"):
        return False
    for own_host, own_port in own:
        if port == own_port and (host == host_of(own_host) or is_loopback_alias(host)):
            return True
    return False


def target_refusal(url: str, allow_hosts: Iterable[str]) -> str | None:
    """Why ``url`` may not receive webhooks (None when it may): loopback or allow-listed hosts only."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port
    except ValueError as error:
        return f"refused: invalid webhook URL ({error})"
    if parts.scheme not in ("http", "https") or not host:
        return f"refused: the webhook URL {redact_url(url)!r} is not an absolute http(s) URL"
    if is_loopback_host(host) or host_allowed(host, allow_hosts):
        return None
    return (
        f"refused: webhook target host {host!r} is not loopback; fal-mock only delivers to loopback and "
        "in-process targets unless the host is listed in the webhook_allow_hosts setting"
    )


def redact_url(url: str) -> str:
    """``url`` with user info and secret-looking query values masked (for the journal and logs)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    netloc = parts.netloc
    if "@" in netloc:
        shown = f"[{host}]" if ":" in host else host
        netloc = "***@" + shown + (f":{port}" if port is not None else "")
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        masked = [(name, MASK if secret_name(name) else value) for name, value in pairs]
        if masked != pairs:
            query = urlencode(masked, safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def route_matches(target: str, url: str) -> bool:
    if "://" in target:
        return url.lower().startswith(target.lower())
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return False
    name, _, wanted_port = target.lower().rpartition(":") if target.count(":") == 1 else (target.lower(), "", "")
    if not name:
        name, wanted_port = target.lower(), ""
    if host != name:
        return False
    return not wanted_port or str(port or (443 if parts.scheme == "https" else 80)) == wanted_port

