"""A scripted fake of fal for the client's unit tests: answers in order, records what was sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

MINIMAX = "fal-ai/minimax-video/image-to-video"
LUCY = "fal-ai/decart/lucy-5b/image-to-video"
RID = "019e1951-c778-7120-9c82-16efcf40ec82"
BASE = f"https://queue.fal.run/fal-ai/minimax-video/requests/{RID}"
KEY = "key-id:key-secret"
VIDEO = {
    "video": {
        "url": "https://v3.fal.media/files/elephant/abc_output.mp4",
        "content_type": "video/mp4",
        "file_name": "output.mp4",
        "file_size": 1234,
    }
}

Answer = httpx.Response | Callable[[httpx.Request], httpx.Response] | Exception


def submitted(**extra: Any) -> dict[str, Any]:
    return {
        "status": "IN_QUEUE",
        "request_id": RID,
        "response_url": BASE,
        "status_url": f"{BASE}/status",
        "cancel_url": f"{BASE}/cancel",
        "logs": None,
        "metrics": {},
        "queue_position": 0,
        **extra,
    }


def status(state: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": state,
        "request_id": RID,
        "response_url": BASE,
        "status_url": f"{BASE}/status",
        "cancel_url": f"{BASE}/cancel",
        "logs": None,
        "metrics": {},
    }
    if state == "IN_QUEUE":
        body["queue_position"] = 0
    body.update(extra)
    return body


def json_response(status_code: int, body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(status_code, json=body, headers={"x-fal-request-id": RID, **headers})


def sse(*bodies: Any, ping: bool = True) -> httpx.Response:
    parts = []
    for body in bodies:
        parts.append(f"data: {json.dumps(body)}\n\n")
        if ping:
            parts.append(": ping\n\n")
    return httpx.Response(200, content="".join(parts).encode(), headers={"content-type": "text/event-stream"})


@dataclass
class FakeFal:
    """Answers requests from per-route queues (``"GET /status"`` keys match by method and path suffix)."""

    routes: dict[str, list[Answer]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def add(self, route: str, *answers: Answer) -> FakeFal:
        self.routes.setdefault(route, []).extend(answers)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        request.read()
        for route, answers in self.routes.items():
            method, _, suffix = route.partition(" ")
            if request.method == method and request.url.path.endswith(suffix) and answers:
                answer = answers.pop(0) if len(answers) > 1 else answers[0]
                if isinstance(answer, Exception):
                    raise answer
                if isinstance(answer, httpx.Response):
                    return answer
                return answer(request)
        raise AssertionError(f"unexpected request {request.method} {request.url}")

    def sent(self, method: str, suffix: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path.endswith(suffix)]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)
