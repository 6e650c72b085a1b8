"""Typed results: queue statuses, request handles, files and the endpoints' outputs.

All are frozen dataclasses built from fal's JSON with ``from_json``; each keeps the
JSON it came from in ``raw`` (left out of ``repr`` and equality) so nothing fal sends is
lost when fal adds a field.  Statuses follow the official Python client's
``Queued(position)``, ``InProgress(logs)``, ``Completed(logs, metrics, error, error_type)``
(a failed request is COMPLETED with ``error``/``error_type``: fal has no FAILED state).

Log entries are read leniently: fal documents ``{message, level, source, timestamp}``
while its own SSE example shows ``{timestamp, message, labels}``; both parse.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import FalProtocolError

LUCY_5B = "fal-ai/decart/lucy-5b/image-to-video"
MINIMAX_VIDEO = "fal-ai/minimax-video/image-to-video"
#: Endpoints whose output is ``{"video": File}`` (the two endpoints this project describes).
VIDEO_ENDPOINTS = frozenset({LUCY_5B, MINIMAX_VIDEO})

_LEGACY_ID = re.compile(r"^([0-9]+)-([a-zA-Z0-9-]+)$")
_NAMESPACES = ("workflows", "comfy")


def app_id(endpoint_id: str) -> str:
    """``owner/alias`` of an endpoint id (what status, result and cancel URLs use), as fal's clients split it."""
    parts = [part for part in endpoint_id.strip("/").split("/") if part]
    if len(parts) == 1:
        match = _LEGACY_ID.match(parts[0])
        if not match:
            raise ValueError(f"invalid endpoint id {endpoint_id!r}: expected owner/alias[/path]")
        return f"{match.group(1)}/{match.group(2)}"
    if parts and parts[0] in _NAMESPACES:
        if len(parts) < 3:
            raise ValueError(f"invalid endpoint id {endpoint_id!r}")
        return "/".join(parts[:3])
    if len(parts) < 2:
        raise ValueError(f"invalid endpoint id {endpoint_id!r}: expected owner/alias[/path]")
    return "/".join(parts[:2])


@dataclass(frozen=True)
class LogEntry:
    message: str
    level: str | None = None
    source: str | None = None
    timestamp: str | None = None
    labels: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> LogEntry:
        if not isinstance(data, Mapping):
            return cls(message=str(data))
        labels = data.get("labels")
        return cls(
            message=str(data.get("message", "")),
            level=_opt_str(data.get("level")),
            source=_opt_str(data.get("source")),
            timestamp=_opt_str(data.get("timestamp")),
            labels=dict(labels) if isinstance(labels, Mapping) else {},
        )


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _logs(value: Any) -> list[LogEntry] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise FalProtocolError(f"status 'logs' should be a list or null, got {type(value).__name__}")
    return [LogEntry.from_json(item) for item in value]


@dataclass(frozen=True)
class Queued:
    """Waiting in the queue; ``position`` 0 is next."""

    position: int
    request_id: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class InProgress:
    """Running; ``logs`` is None unless logs were asked for."""

    logs: list[LogEntry] | None
    request_id: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Completed:
    """Finished — successfully, or with ``error``/``error_type`` (the result then raises the replayed error)."""

    logs: list[LogEntry] | None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    request_id: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def failed(self) -> bool:
        return self.error is not None or self.error_type is not None


Status = Queued | InProgress | Completed


def parse_status(data: Any) -> Status:
    """A status from fal's status JSON (polling or one SSE event)."""
    if not isinstance(data, Mapping):
        raise FalProtocolError(f"a status should be a JSON object, got {type(data).__name__}")
    state = data.get("status")
    request_id = str(data.get("request_id") or "")
    raw = dict(data)
    if state == "IN_QUEUE":
        position = data.get("queue_position")
        return Queued(position=position if isinstance(position, int) else 0, request_id=request_id, raw=raw)
    if state == "IN_PROGRESS":
        return InProgress(logs=_logs(data.get("logs")), request_id=request_id, raw=raw)
    if state == "COMPLETED":
        metrics = data.get("metrics")
        return Completed(
            logs=_logs(data.get("logs")),
            metrics=dict(metrics) if isinstance(metrics, Mapping) else {},
            error=_opt_str(data.get("error")),
            error_type=_opt_str(data.get("error_type")),
            request_id=request_id,
            raw=raw,
        )
    raise FalProtocolError(f"unknown queue status {state!r} (expected IN_QUEUE, IN_PROGRESS or COMPLETED)")


@dataclass(frozen=True)
class RequestHandle:
    """A queued request: its id and the URLs fal returned for it (status, result and cancel use them)."""

    endpoint_id: str
    request_id: str
    response_url: str
    status_url: str
    cancel_url: str
    queue_position: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_submit(cls, endpoint_id: str, data: Any) -> RequestHandle:
        if not isinstance(data, Mapping):
            raise FalProtocolError(f"a submit answer should be a JSON object, got {type(data).__name__}")
        try:
            return cls(
                endpoint_id=endpoint_id,
                request_id=str(data["request_id"]),
                response_url=str(data["response_url"]),
                status_url=str(data["status_url"]),
                cancel_url=str(data["cancel_url"]),
                queue_position=data.get("queue_position") if isinstance(data.get("queue_position"), int) else None,
                raw=dict(data),
            )
        except KeyError as missing:
            raise FalProtocolError(f"the submit answer lacks {missing.args[0]!r}") from None

    @classmethod
    def for_request(cls, endpoint_id: str, request_id: str, queue_url: str) -> RequestHandle:
        """A handle built from ids, as fal's by-id calls do: ``{queue}/{owner}/{alias}/requests/{id}``."""
        base = f"{queue_url.rstrip('/')}/{app_id(endpoint_id)}/requests/{request_id}"
        return cls(endpoint_id, request_id, base, f"{base}/status", f"{base}/cancel")


@dataclass(frozen=True)
class File:
    """fal's File: a URL (https or ``data:``) and what is known about it."""

    url: str
    content_type: str | None = None
    file_name: str | None = None
    file_size: int | None = None

    @property
    def is_data_uri(self) -> bool:
        return self.url.startswith("data:")

    def inline_bytes(self) -> bytes | None:
        """The bytes of a base64 ``data:`` URL (Lucy-5B's ``sync_mode``), None for other URLs."""
        if not self.is_data_uri:
            return None
        header, _, payload = self.url.partition(",")
        if not header.endswith(";base64"):
            return None
        return base64.b64decode(payload)

    @classmethod
    def from_json(cls, data: Any) -> File:
        if not isinstance(data, Mapping) or not isinstance(data.get("url"), str):
            raise FalProtocolError("a File needs a string 'url'")
        size = data.get("file_size")
        return cls(
            url=data["url"],
            content_type=_opt_str(data.get("content_type")),
            file_name=_opt_str(data.get("file_name")),
            file_size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        )


@dataclass(frozen=True)
class VideoOutput:
    """The output of both image-to-video endpoints: ``{"video": File}``."""

    video: File
    request_id: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class RawOutput:
    """The output of an endpoint this client has no type for: the JSON as fal sent it."""

    data: Any
    request_id: str | None = None


Output = VideoOutput | RawOutput


def parse_output(endpoint_id: str, data: Any, request_id: str | None) -> Output:
    if endpoint_id.strip("/") in VIDEO_ENDPOINTS and isinstance(data, Mapping) and "video" in data:
        return VideoOutput(video=File.from_json(data["video"]), request_id=request_id, raw=dict(data))
    return RawOutput(data=data, request_id=request_id)
