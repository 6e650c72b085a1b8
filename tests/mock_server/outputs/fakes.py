"""A fake media maker for the outputs tests: deterministic, records every request, serves from mock.test."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fal_mock.mock_server.outputs import (
    FileFacts,
    FileRequest,
    MediaKind,
    UrlRequest,
    requested_dimensions,
    requested_duration,
    requested_fps,
)

HOST = "https://mock.test/"
DATA = Path(__file__).parent / "data"


def fixture_names() -> list[str]:
    return sorted(p.stem for p in DATA.glob("*.json"))


def load_fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return loaded


@dataclass
class FakeMaker:
    """Makes no bytes: answers with facts derived from the request, like a real maker would report them."""

    requests: list[FileRequest] = field(default_factory=list)
    url_requests: list[UrlRequest] = field(default_factory=list)
    report_metadata: bool = True
    content_type_override: str | None = None

    def make(self, request: FileRequest) -> FileFacts:
        self.requests.append(request)
        digest = hashlib.sha256(request.seed).hexdigest()[:12]
        name = f"{digest}.{request.extension}"
        content_type = self.content_type_override or request.content_type
        width = height = None
        duration = fps = None
        frames = None
        if self.report_metadata and request.kind in (MediaKind.IMAGE, MediaKind.VIDEO):
            width, height = requested_dimensions(request.arguments) or (1024, 768)
        if self.report_metadata and request.kind in (MediaKind.VIDEO, MediaKind.AUDIO):
            duration = requested_duration(request.arguments) or 4.0
        if self.report_metadata and request.kind is MediaKind.VIDEO:
            fps = requested_fps(request.arguments) or 24.0
            frames = round(duration * fps) if duration else None
        return FileFacts(
            url=f"{HOST}files/{digest}/{name}",
            content_type=content_type,
            file_name=name,
            file_size=1000 + int(digest[:4], 16),
            width=width,
            height=height,
            duration=duration,
            fps=fps,
            num_frames=frames,
        )

    def url_for(self, request: UrlRequest) -> str:
        self.url_requests.append(request)
        digest = hashlib.sha256(request.seed).hexdigest()[:12]
        return f"{HOST}files/{digest}/{request.property_name}.{request.extension}"
