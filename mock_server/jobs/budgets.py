"""Byte budgets of what a job keeps after it was submitted: its arguments, and what a finished job weighs.

A job keeps two copies of its request: ``arguments`` (the body as sent, for the control API and the
dashboard) and ``inputs`` (the validated arguments the generator reads).  Rules:

* ``arguments`` are kept whole up to ``Settings.max_retained_argument_bytes`` (64 KiB by default,
  measured as compact UTF-8 JSON).  Beyond it the job keeps :func:`retained_arguments`' summary:
  every string longer than ``max(64, limit // 16)`` characters cut to that many characters plus a
  ``…[fal-mock: N more characters not retained]`` tail, and the key :data:`TRUNCATED_KEY` holding
  ``{"bytes": <original size>, "sha256": <of the original compact JSON>, "limit": <limit>}``.  If that
  still exceeds the limit (thousands of short values), only the marker and the sorted top-level keys
  (at most 64) are kept.  A data URI ``image_url`` that is cut is no longer shown by the dashboard
  (``/_mock/jobs/{id}/input`` answers 404 for it).
* ``inputs`` stay whole while the job runs (the generator gets exactly what was validated) and are
  dropped once the job is finished with an outcome: nothing reads them after that.
* :func:`retained_bytes` is what a finished job weighs against ``Settings.max_result_bytes``: its result
  body's bytes plus its retained arguments' bytes.  The stores evict the oldest finished jobs beyond that
  budget as well as beyond ``max_finished_jobs``.

Everything here is a pure function of the value (no clock, no randomness).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .model import Job

#: The key a summarised copy of arguments carries (with the original size, digest and the limit).
TRUNCATED_KEY = "fal_mock_truncated"
#: Top-level keys named in a summary that keeps nothing else.
MAX_SUMMARY_KEYS = 64


#: ``json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True, default=str)``, made once.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, sort_keys=True, default=str).encode


def _compact(value: Any) -> bytes:
    return _COMPACT(value).encode("utf-8", "surrogatepass")


def argument_bytes(arguments: Any) -> int:
    """The size of ``arguments`` as compact UTF-8 JSON."""
    if arguments is None:
        return 0
    return len(_compact(arguments))


def _shorten(value: Any, keep: int) -> Any:
    if isinstance(value, str):
        if len(value) <= keep:
            return value
        return f"{value[:keep]}…[fal-mock: {len(value) - keep} more characters not retained]"
    if isinstance(value, dict):
        return {key: _shorten(item, keep) for key, item in value.items()}
    if isinstance(value, list):
        return [_shorten(item, keep) for item in value]
    return value


def retained_arguments(arguments: Any, limit: int) -> Any:
    """``arguments`` if they fit in ``limit`` bytes, else the marked summary described in the module docstring."""
    return kept_arguments(arguments, limit)[0]


def kept_arguments(arguments: Any, limit: int) -> tuple[Any, int]:
    """:func:`retained_arguments` and their :func:`argument_bytes` (measured once: the job keeps both)."""
    if arguments is None:
        return None, 0
    encoded = _compact(arguments)
    if len(encoded) <= limit:
        return arguments, len(encoded)
    marker = {"bytes": len(encoded), "sha256": hashlib.sha256(encoded).hexdigest(), "limit": limit}
    keep = max(64, limit // 16)
    shortened = _shorten(arguments, keep)
    summary: dict[str, Any] = dict(shortened) if isinstance(shortened, dict) else {"value": shortened}
    summary[TRUNCATED_KEY] = marker
    size = argument_bytes(summary)
    if size <= limit:
        return summary, size
    keys = sorted(str(key) for key in arguments)[:MAX_SUMMARY_KEYS] if isinstance(arguments, dict) else []
    summary = {TRUNCATED_KEY: {**marker, "keys": keys}}
    return summary, argument_bytes(summary)


def is_truncated(arguments: Any) -> bool:
    """Whether ``arguments`` are a summary made by :func:`retained_arguments`."""
    return isinstance(arguments, dict) and isinstance(arguments.get(TRUNCATED_KEY), dict)


def retained_bytes(job: Job) -> int:
    """What a finished job weighs against the finished-jobs byte budget: result body plus retained arguments."""
    outcome = job.final_outcome()
    arguments = job.argument_bytes if job.argument_bytes is not None else argument_bytes(job.arguments)
    return (outcome.result_bytes if outcome is not None else 0) + arguments
