"""The model endpoints the mock serves: the only module that names them.

Each :class:`Endpoint` says how its id splits into fal's ``owner/alias/path``
(status, result and cancel use only ``owner/alias``), which contracts describe
its input and output, how long it takes in ``realistic`` progression, and how its
output file is returned (Lucy-5B's ``sync_mode``, true by default, returns the
video as a ``data:`` URI; MiniMax returns a URL served by the mock).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_LEGACY_ID = re.compile(r"^([0-9]+)-([a-zA-Z0-9-]+)$")
_NAMESPACES = ("workflows", "comfy")


@dataclass(frozen=True)
class EndpointId:
    """An endpoint id split the way both official clients split it."""

    owner: str
    alias: str
    path: str
    namespace: str | None = None

    @property
    def app_id(self) -> str:
        """``owner/alias`` — the part status, result and cancel URLs use."""
        prefix = f"{self.namespace}/" if self.namespace else ""
        return f"{prefix}{self.owner}/{self.alias}"

    @classmethod
    def parse(cls, endpoint_id: str) -> EndpointId:
        parts = [part for part in endpoint_id.strip("/").split("/") if part]
        if len(parts) == 1:
            match = _LEGACY_ID.match(parts[0])
            if not match:
                raise ValueError(f"Invalid app id: {endpoint_id!r}")
            return cls(match.group(1), match.group(2), "")
        if parts and parts[0] in _NAMESPACES:
            if len(parts) < 3:
                raise ValueError(f"Invalid app id: {endpoint_id!r}")
            return cls(parts[1], parts[2], "/".join(parts[3:]), parts[0])
        if len(parts) < 2:
            raise ValueError(f"Invalid app id: {endpoint_id!r}")
        return cls(parts[0], parts[1], "/".join(parts[2:]))


@dataclass(frozen=True)
class Endpoint:
    """One served model endpoint."""

    endpoint_id: str
    title: str
    #: Input field that, when true, returns the video inline as a data URI (None: never).
    sync_mode_field: str | None
    sync_mode_default: bool
    #: ``realistic`` progression: seconds in the queue before a runner picks the job up (min, max).
    queue_seconds: tuple[float, float]
    #: ``realistic`` progression: inference seconds (min, max); also reported as ``metrics.inference_time``.
    inference_seconds: tuple[float, float]
    output_file_name: str = "output.mp4"

    @property
    def parsed(self) -> EndpointId:
        return EndpointId.parse(self.endpoint_id)

    @property
    def app_id(self) -> str:
        return self.parsed.app_id

    @property
    def input_contract(self) -> str:
        return f"endpoints/{self.endpoint_id}/input"

    @property
    def output_contract(self) -> str:
        return f"endpoints/{self.endpoint_id}/output"

    def returns_data_uri(self, arguments: Mapping[str, Any]) -> bool:
        """Whether the output video is inlined as a ``data:`` URI for these (validated) arguments."""
        if self.sync_mode_field is None:
            return False
        return bool(arguments.get(self.sync_mode_field, self.sync_mode_default))


LUCY_5B = Endpoint(
    endpoint_id="fal-ai/decart/lucy-5b/image-to-video",
    title="Decart Lucy-5B image-to-video",
    sync_mode_field="sync_mode",
    sync_mode_default=True,
    queue_seconds=(0.3, 1.2),
    inference_seconds=(3.5, 5.5),
)

MINIMAX_VIDEO = Endpoint(
    endpoint_id="fal-ai/minimax-video/image-to-video",
    title="MiniMax Video-01 image-to-video",
    sync_mode_field=None,
    sync_mode_default=False,
    queue_seconds=(0.5, 2.0),
    inference_seconds=(20.0, 40.0),
)

DEFAULT_ENDPOINTS = (LUCY_5B, MINIMAX_VIDEO)


class EndpointRegistry:
    """Lookup of served endpoints by their full id."""

    def __init__(self, endpoints: Iterable[Endpoint] = DEFAULT_ENDPOINTS) -> None:
        self._by_id = {endpoint.endpoint_id: endpoint for endpoint in endpoints}

    def __iter__(self) -> Any:
        return iter(self._by_id.values())

    def ids(self) -> list[str]:
        return sorted(self._by_id)

    def get(self, endpoint_id: str) -> Endpoint | None:
        return self._by_id.get(endpoint_id.strip("/"))

    def matches_app(self, endpoint_or_app: str) -> bool:
        """Whether a served endpoint has this id, or this ``owner/alias`` (what faults may target)."""
        wanted = endpoint_or_app.strip("/")
        try:
            app_id = EndpointId.parse(wanted).app_id
        except ValueError:
            return False
        return any(e.endpoint_id == wanted or (e.app_id == wanted == app_id) for e in self._by_id.values())
