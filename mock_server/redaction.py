"""Keeping secrets out of logs and the request journal.

What can carry a secret on a request to the mock, and where it is kept out:

* ``Authorization`` and the control token header — never logged by uvicorn and not
  in the journal's header allow-list (:mod:`.edge.journal`);
* the query string — uvicorn's access log prints ``path?query`` and the journal
  records the query.  :func:`redact_query` masks the value of every parameter whose
  name looks secret (``token``, ``key``, ``secret``, ``sig``, ``auth``, ``pass``,
  ``credential``, ``session`` — the control API accepts ``?token=`` for browsers),
  and reduces ``fal_webhook`` (and any value that is a URL) to its scheme and host:
  a webhook URL may hold its secret anywhere — user info, a query parameter, or
  the path itself (Slack-style ``/services/T000/B000/<secret>`` URLs).  The webhook journal
  keeps its own masked copy of the URL for debugging.

:class:`AccessLogRedactor` is a :class:`logging.Filter` for ``uvicorn.access``;
:func:`log_config` is uvicorn's logging configuration with it installed, which
``serve`` passes to uvicorn (each worker process applies it again on start).
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

#: Parts of a parameter name that mark its value as secret.
SECRET_WORDS = ("token", "key", "secret", "sig", "auth", "pass", "credential", "session")
#: Parameters whose value is a URL to reduce to scheme and host.
URL_PARAMS = ("fal_webhook",)
MASK = "***"
#: A query of ``name=value`` pairs in characters that parsing and quoting leave as they are (``logs=false``).
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9_.~-]+=[A-Za-z0-9_.~-]*(?:&[A-Za-z0-9_.~-]+=[A-Za-z0-9_.~-]*)*")


def plain_pairs(query: str) -> list[tuple[str, str]] | None:
    """The pairs of a plain query (see :data:`_PLAIN_QUERY`) — what ``parse_qsl(query, keep_blank_values=True)``
    gives for it, without its work; None for any other query (parse it)."""
    if not _PLAIN_QUERY.fullmatch(query):
        return None
    return [(name, value) for name, _, value in (part.partition("=") for part in query.split("&"))]


def secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def reduce_url(value: str) -> str:
    """``scheme://host[:port]/***`` — nothing of a URL's user info, path or query survives."""
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown}{f':{port}' if port is not None else ''}/{MASK}"


def redact_query(query: str) -> str:
    """``query`` with secret-looking values masked and URL values reduced to their host."""
    if not query:
        return query
    plain = plain_pairs(query)  # a status poll's ``logs=false``: nothing to unquote or quote
    if plain is not None and not any(name in URL_PARAMS for name, _ in plain):
        return "&".join(f"{name}={MASK if secret_name(name) else value}" for name, value in plain)
    pairs = parse_qsl(query, keep_blank_values=True)
    if not pairs:
        return MASK if "=" in query or "%" in query else query
    out = []
    for name, value in pairs:
        if secret_name(name):
            value = MASK
        elif name in URL_PARAMS or "://" in value:
            value = reduce_url(value)
        out.append(f"{quote(name, safe='')}={quote(value, safe='*:/[]')}")
    return "&".join(out)


def redact_target(target: str) -> str:
    """A request target ``path?query`` with its query redacted."""
    path, sep, query = target.partition("?")
    return path + sep + redact_query(query) if sep else target


class AccessLogRedactor(logging.Filter):
    """Redacts the query of uvicorn's access log lines (``%s - "%s %s HTTP/%s" %d``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) >= 3:
            target = args[2]
            if isinstance(target, str) and "?" in target:
                record.args = (*args[:2], redact_target(target), *args[3:])
        return True


def log_config(base: dict[str, Any] | None = None) -> dict[str, Any]:
    """uvicorn's logging configuration (or ``base``) with :class:`AccessLogRedactor` on every handler."""
    if base is None:
        from uvicorn.config import LOGGING_CONFIG

        base = LOGGING_CONFIG
    config = copy.deepcopy(base)
    config.setdefault("filters", {})["fal_mock_redact"] = {"()": f"{__name__}.AccessLogRedactor"}
    for handler in config.get("handlers", {}).values():
        handler.setdefault("filters", [])
        if "fal_mock_redact" not in handler["filters"]:
            handler["filters"].append("fal_mock_redact")
    return config
