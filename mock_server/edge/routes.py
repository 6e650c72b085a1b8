"""The complete URL map: one table per service, mounted by host name and by path prefix.

Read this file to know every URL the mock answers.  ``build_routes`` puts each
service's table behind its fal host names (for in-process use) and behind its
path prefix on any other host (for a standalone server) — see
:class:`ServiceDispatch`.
"""

from __future__ import annotations

from typing import Any

from starlette._utils import get_route_path
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from .api import control, dashboard, files, openapi, proxy, queue, rest, run, webhooks_control
from .api import storage as storage_api
from .hosts import FAL_HOST_KEY, FAL_HOSTS, PREFIX, Service, host_of

#: Scope key naming the service a request was dispatched to.
SERVICE_KEY = "fal_mock.service"

_REQ = "/{owner}/{alias}/requests/{request_id}"
_LONG = "/{owner}/{alias}/{subpath:path}/requests/{request_id}"


def _both(path: str, endpoint: object, methods: list[str]) -> list[Route]:
    """The route with and without a trailing slash (fal's SDK uses both forms)."""
    return [Route(path, endpoint, methods=methods), Route(path + "/", endpoint, methods=methods)]  # type: ignore[arg-type]


#: Most frequent first (status polls, then result fetches): none of these patterns overlap.
QUEUE_ROUTES: list[BaseRoute] = [
    *_both(_REQ + "/status", queue.status, ["GET"]),
    *_both(_REQ, queue.result, ["GET"]),
    *_both(_REQ + "/status/stream", queue.status_stream, ["GET"]),
    *_both(_REQ + "/cancel", queue.cancel, ["PUT"]),
    *_both(_LONG + "/status/stream", queue.long_form, ["GET", "PUT", "POST"]),
    *_both(_LONG + "/status", queue.long_form, ["GET", "PUT", "POST"]),
    *_both(_LONG + "/cancel", queue.long_form, ["GET", "PUT", "POST"]),
    *_both(_LONG, queue.long_form, ["GET", "PUT"]),
    Route("/openapi.json", openapi.queue_document, methods=["GET"]),
    Route("/{endpoint:path}", queue.submit, methods=["POST"]),
]

RUN_ROUTES: list[BaseRoute] = [
    Route("/{endpoint:path}", run.run, methods=["POST"]),
]

REST_ROUTES: list[BaseRoute] = [
    Route("/.well-known/jwks.json", rest.jwks, methods=["GET"]),
    Route("/storage/auth/token", storage_api.cdn_token, methods=["POST"]),
    Route("/storage/upload/initiate", storage_api.initiate, methods=["POST"]),
    Route("/storage/upload/initiate-multipart", storage_api.initiate_multipart, methods=["POST"]),
    Route("/storage/{rest:path}", storage_api.preflight, methods=["OPTIONS"]),
]

CDN_ROUTES: list[BaseRoute] = [
    Route("/files/upload", storage_api.cdn_upload, methods=["POST"]),
    Route("/files/upload/multipart", storage_api.multipart_begin, methods=["POST"]),
    Route("/files/upload/{key:path}", storage_api.signed_put, methods=["PUT"]),
    Route("/files/{key:path}/multipart/{upload_id}/complete", storage_api.multipart_complete, methods=["POST"]),
    Route("/files/{key:path}/multipart/{upload_id}/{part}", storage_api.multipart_part, methods=["PUT"]),
    Route("/files/{key:path}", files.serve_file, methods=["GET", "HEAD"]),
    Route("/files/{key:path}", storage_api.preflight, methods=["OPTIONS"]),
]

PROXY_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
PROXY_ROUTES: list[BaseRoute] = [
    Route("/{path:path}", proxy.ProxyEndpoint(), methods=PROXY_METHODS),
]

CONTROL_ROUTES: list[BaseRoute] = [
    Route("/", dashboard.page, methods=["GET"]),
    Route("/health", control.health, methods=["GET"]),
    Route("/openapi.json", control.openapi, methods=["GET"]),
    Route("/settings", control.settings, methods=["GET"]),
    Route("/reset", control.reset, methods=["POST"]),
    Route("/jobs", control.list_jobs, methods=["GET"]),
    Route("/jobs/complete-all", control.complete_all, methods=["POST"]),
    Route("/jobs/{request_id}", control.job, methods=["GET"]),
    Route("/jobs/{request_id}/advance", control.advance, methods=["POST"]),
    Route("/jobs/{request_id}/fail", control.fail, methods=["POST"]),
    Route("/jobs/{request_id}/video", control.job_video, methods=["GET"]),
    Route("/jobs/{request_id}/input", control.job_input, methods=["GET"]),
    Route("/faults", control.list_faults, methods=["GET"]),
    Route("/faults", control.add_fault, methods=["POST"]),
    Route("/faults", control.clear_faults, methods=["DELETE"]),
    Route("/clock", control.get_clock, methods=["GET"]),
    Route("/clock/advance", control.advance_clock, methods=["POST"]),
    Route("/requests", control.journal, methods=["GET"]),
    Route("/files", control.list_files, methods=["GET"]),
    Route("/webhooks", webhooks_control.list_deliveries, methods=["GET"]),
    Route("/webhooks", webhooks_control.clear, methods=["DELETE"]),
    Route("/webhooks/deliver-due", webhooks_control.deliver_due, methods=["POST"]),
    Route("/webhooks/pause", webhooks_control.pause, methods=["POST"]),
    Route("/webhooks/resume", webhooks_control.resume, methods=["POST"]),
    Route("/webhooks/idle", webhooks_control.idle, methods=["GET"]),
    Route("/webhooks/{delivery_id}", webhooks_control.get_delivery, methods=["GET"]),
    Route("/webhooks/{delivery_id}/trigger", webhooks_control.trigger, methods=["POST"]),
    Route("/webhooks/{delivery_id}/resend", webhooks_control.resend, methods=["POST"]),
    Route("/webhooks/{delivery_id}/drop", webhooks_control.drop, methods=["POST"]),
    Route("/webhooks/{delivery_id}/delay", webhooks_control.delay, methods=["POST"]),
]

SERVICE_ROUTES: dict[Service, list[BaseRoute]] = {
    Service.QUEUE: QUEUE_ROUTES,
    Service.RUN: RUN_ROUTES,
    Service.REST: REST_ROUTES,
    Service.CDN: CDN_ROUTES,
    Service.PROXY: PROXY_ROUTES,
    Service.CONTROL: CONTROL_ROUTES,
}


class ServiceDispatch(BaseRoute):
    """The top of the URL map: a fal host name or a path prefix picks the service's router.

    One dict lookup per request (fal host names first, then the first path segment), instead
    of trying a ``Host`` route per fal name and a ``Mount`` per prefix in turn.  A prefix
    behaves like a ``Mount``: the service sees its own paths under ``root_path + prefix``.
    The proxy URL exactly as clients are configured with it (``.../proxy``, no slash) is
    answered by the proxy, not redirected.
    """

    def __init__(self, routers: dict[Service, ASGIApp]) -> None:
        self.routers = routers
        self.prefixes = {PREFIX[service]: service for service in Service}
        self.proxy = proxy.ProxyEndpoint()

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        host = next((value for key, value in scope["headers"] if key == b"host"), b"")
        service = FAL_HOSTS.get(host_of(host.decode("latin-1")))
        if service is not None:
            return Match.FULL, {SERVICE_KEY: service, FAL_HOST_KEY: True}
        path = get_route_path(scope)
        prefix = "/" + path.split("/", 2)[1] if path.startswith("/") else ""
        service = self.prefixes.get(prefix)
        if service is None:
            return Match.NONE, {}
        root_path = scope.get("root_path", "")
        return Match.FULL, {
            SERVICE_KEY: service,
            FAL_HOST_KEY: False,
            "root_path": root_path + prefix,
            "app_root_path": scope.get("app_root_path", root_path),
        }

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        service: Service = scope[SERVICE_KEY]
        if service is Service.PROXY and get_route_path(scope) == "":
            await self.proxy(scope, receive, send)
            return
        await self.routers[service](scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)


def build_routes() -> list[BaseRoute]:
    """The single top-level route: every fal host and every service prefix."""
    routers: dict[Service, ASGIApp] = {
        service: Router(routes=table, redirect_slashes=False) for service, table in SERVICE_ROUTES.items()
    }
    routers[Service.CONTROL] = control.ControlGuard(routers[Service.CONTROL])  # the control token, for all of /_mock
    return [ServiceDispatch(routers)]
