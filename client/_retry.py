"""When to retry a call to fal, and how long to wait — fal's semantics (protocol reference §3.7–§3.8, §9.21–22).

Retried:

* **429** — fal's gateway rejects a sync run over the concurrency limit (and a submit
  over ``fal_max_queue_length``); both official clients retry it.  A ``Retry-After`` in
  seconds is honoured (capped at ``max_delay``); fal does not document one.
* **502, 503, 504 without ``x-fal-request-id``** — the answer came from fal's ingress
  (nginx), not from fal's servers: the request never reached the queue.  The Python client
  additionally looks for "nginx" in the body; we only use the header, which is the part
  that says the answer came from fal itself.
* **connection errors** — for GET/PUT (status, result, cancel, upload) any httpx transport
  error; for POST (submit, run) only errors raised *before* the request was sent (connect
  errors and pool timeouts), so a request that may have reached fal is never submitted
  twice.  This is stricter than the official Python client, which retries every transport
  error: a duplicated submit is a duplicated bill.

Never retried: a **504 with ``X-Fal-Request-Timeout-Type: user``** (the start timeout the
caller asked for), any 5xx *with* ``x-fal-request-id`` (the model's own error, replayed),
**500**, and every other 4xx (validation, auth, not found, ...).

Backoff is exponential: ``min(base_delay * 2**(attempt-1), max_delay)``, scaled by
``1 ± jitter`` (fal's clients use ±50% / ±25%); attempts are bounded by ``max_attempts``
(first try included).  The sleep is injected by the client, so tests never wait.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

#: Statuses that may come from fal's ingress rather than fal's servers.
INGRESS_STATUSES = frozenset({502, 503, 504})
#: httpx errors raised before a request left the client.
NOT_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff. ``RetryPolicy(max_attempts=1)`` turns retries off."""

    max_attempts: int = 5
    base_delay: float = 0.1
    max_delay: float = 10.0
    #: Each delay is multiplied by a factor drawn from ``[1 - jitter, 1 + jitter]``; 0 makes delays exact.
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must be >= 0")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")

    def delay(self, attempt: int, unit: float = 0.5, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based); ``unit`` is a uniform [0, 1) draw."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        plain = min(self.base_delay * 2.0 ** (attempt - 1), self.max_delay)
        return plain * (1 - self.jitter + 2 * self.jitter * unit)


def is_user_timeout(response: httpx.Response) -> bool:
    return response.status_code == 504 and response.headers.get("x-fal-request-timeout-type", "").lower() == "user"


def should_retry_response(response: httpx.Response) -> bool:
    """Whether fal's semantics call for another attempt after ``response``."""
    if response.status_code == 429:
        return True
    if response.status_code in INGRESS_STATUSES:
        if is_user_timeout(response):
            return False
        return "x-fal-request-id" not in response.headers
    return False


def should_retry_error(error: httpx.TransportError, method: str) -> bool:
    """Whether a transport error is worth another attempt for a request with ``method``."""
    if method.upper() == "POST":
        return isinstance(error, NOT_SENT_ERRORS)
    return True


def retry_after_seconds(response: httpx.Response) -> float | None:
    """A ``Retry-After`` given in seconds (HTTP dates are ignored)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
