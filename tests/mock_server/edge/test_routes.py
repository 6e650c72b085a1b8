"""The top of the URL map: a fal host name or a path prefix picks the service (remembered per Host value)."""

from __future__ import annotations

from typing import Any

from fal_mock.mock_server.edge.hosts import Service
from fal_mock.mock_server.edge.routes import MAX_REMEMBERED_HOSTS, SERVICE_KEY, ServiceDispatch, build_routes
from starlette.routing import Match


def dispatch() -> ServiceDispatch:
    top = build_routes()[0]
    assert isinstance(top, ServiceDispatch)
    return top


def scope(host: bytes, path: str) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": [(b"host", host)]}


def test_hosts_and_prefixes_pick_the_service_and_host_verdicts_stay_bounded() -> None:
    top = dispatch()
    for _ in range(2):  # the second time from what was remembered
        found, child = top.matches(scope(b"queue.fal.run", "/fal-ai/flux/dev"))
        assert (found, child[SERVICE_KEY]) == (Match.FULL, Service.QUEUE)
        found, child = top.matches(scope(b"127.0.0.1:8000", "/queue/fal-ai/flux/dev"))
        assert (found, child[SERVICE_KEY], child["root_path"]) == (Match.FULL, Service.QUEUE, "/queue")
        found, child = top.matches(scope(b"127.0.0.1:8000", "/nowhere/x"))
        assert found is Match.NONE
    for index in range(MAX_REMEMBERED_HOSTS + 10):
        found, child = top.matches(scope(f"host-{index}.test:8000".encode(), "/cdn/files/x"))
        assert (found, child[SERVICE_KEY]) == (Match.FULL, Service.CDN)
    assert len(top._host_services) <= MAX_REMEMBERED_HOSTS
    assert top.matches(scope(b"v3.fal.media", "/files/x"))[1][SERVICE_KEY] is Service.CDN
