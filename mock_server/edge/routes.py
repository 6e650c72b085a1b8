"""The complete URL map: one table per service, mounted by host name and by path prefix.

Read this file to know every URL the mock answers.  ``build_routes`` puts each
service's table behind its fal host names (for in-process use) and behind its
path prefix on any other host (for a standalone server) — see
:class:`ServiceDispatch`.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from .api import control, dashboard, files, index, openapi, proxy, queue, rest, run, webhooks_control
from .api import storage as storage_api
from .auth import Access, AccessRoute
from .hosts import FAL_HOST_KEY, FAL_HOSTS, PREFIX, Service, host_of

#: Scope key naming the service a request was dispatched to.
SERVICE_KEY = "fal_mock.service"

_REQ = "/{owner}/{alias}/requests/{request_id}"
_LONG = "/{owner}/{alias}/{subpath:path}/requests/{request_id}"
KEY, CDN, SIGNED, PUBLIC = Access.KEY, Access.CDN, Access.SIGNED, Access.PUBLIC


def route(path: str, endpoint: Any, methods: list[str], access: Access) -> AccessRoute:
    return AccessRoute(path, endpoint, methods=methods, access=access)


def both(path: str, endpoint: Any, methods: list[str], access: Access) -> list[BaseRoute]:
    """The route with and without a trailing slash (fal's SDK uses both forms)."""
    return [route(path, endpoint, methods, access), route(path + "/", endpoint, methods, access)]


#: Most frequent first (status polls, then result fetches): none of these patterns overlap.
QUEUE_ROUTES: list[BaseRoute] = [
    *both(_REQ + "/status", queue.status, ["GET"], KEY),
    *both(_REQ, queue.result, ["GET"], KEY),
    *both(_REQ + "/status/stream", queue.status_stream, ["GET"], KEY),
    *both(_REQ + "/cancel", queue.cancel, ["PUT"], KEY),
    *both(_LONG + "/status/stream", queue.long_form, ["GET", "PUT", "POST"], KEY),
    *both(_LONG + "/status", queue.long_form, ["GET", "PUT", "POST"], KEY),
    *both(_LONG + "/cancel", queue.long_form, ["GET", "PUT", "POST"], KEY),
    *both(_LONG, queue.long_form, ["GET", "PUT"], KEY),
    route("/openapi.json", openapi.queue_document, ["GET"], PUBLIC),
    route("/{endpoint:path}", queue.submit, ["POST"], KEY),
]

RUN_ROUTES: list[BaseRoute] = [
    route("/{endpoint:path}", run.run, ["POST"], KEY),
]

REST_ROUTES: list[BaseRoute] = [
    route("/.well-known/jwks.json", rest.jwks, ["GET"], PUBLIC),
    route("/storage/auth/token", storage_api.cdn_token, ["POST"], KEY),
    route("/storage/upload/initiate", storage_api.initiate, ["POST"], KEY),
    route("/storage/upload/initiate-multipart", storage_api.initiate_multipart, ["POST"], KEY),
    route("/storage/{rest:path}", storage_api.preflight, ["OPTIONS"], PUBLIC),
]

CDN_ROUTES: list[BaseRoute] = [
    route("/files/upload", storage_api.cdn_upload, ["POST"], CDN),
    route("/files/upload/multipart", storage_api.multipart_begin, ["POST"], CDN),
    route("/files/upload/{key:path}", storage_api.signed_put, ["PUT"], SIGNED),
    route("/files/{key:path}/multipart/{upload_id}/complete", storage_api.multipart_complete, ["POST"], SIGNED),
    route("/files/{key:path}/multipart/{upload_id}/{part}", storage_api.multipart_part, ["PUT"], SIGNED),
    route("/files/{key:path}", files.serve_file, ["GET", "HEAD"], PUBLIC),
    route("/files/{key:path}", storage_api.preflight, ["OPTIONS"], PUBLIC),
]

PROXY_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
PROXY_ROUTES: list[BaseRoute] = [
    route("/{path:path}", proxy.ProxyEndpoint(), PROXY_METHODS, PUBLIC),
]

#: The control API and the dashboard: guarded as a whole by :class:`~.api.control.ControlGuard`.
CONTROL_ROUTES: list[BaseRoute] = [
    route("/", dashboard.page, ["GET"], PUBLIC),
    route("/dashboard.json", dashboard.data, ["GET"], PUBLIC),
    route("/health", control.health, ["GET"], PUBLIC),
    route("/openapi.json", control.openapi, ["GET"], PUBLIC),
    route("/settings", control.settings, ["GET"], PUBLIC),
    route("/reset", control.reset, ["POST"], PUBLIC),
    route("/jobs", control.list_jobs, ["GET"], PUBLIC),
    route("/jobs/complete-all", control.complete_all, ["POST"], PUBLIC),
    route("/jobs/{request_id}", control.job, ["GET"], PUBLIC),
    route("/jobs/{request_id}/advance", control.advance, ["POST"], PUBLIC),
    route("/jobs/{request_id}/fail", control.fail, ["POST"], PUBLIC),
    route("/jobs/{request_id}/result", control.job_result, ["GET"], PUBLIC),
    route("/jobs/{request_id}/video", control.job_video, ["GET"], PUBLIC),
    route("/jobs/{request_id}/input", control.job_input, ["GET"], PUBLIC),
    route("/jobs/{request_id}/files/{index:int}", control.job_file, ["GET"], PUBLIC),
    route("/faults", control.list_faults, ["GET"], PUBLIC),
    route("/faults", control.add_fault, ["POST"], PUBLIC),
    route("/faults", control.clear_faults, ["DELETE"], PUBLIC),
    route("/clock", control.get_clock, ["GET"], PUBLIC),
    route("/clock/advance", control.advance_clock, ["POST"], PUBLIC),
    route("/requests", control.journal, ["GET"], PUBLIC),
    route("/files", control.list_files, ["GET"], PUBLIC),
    route("/webhooks", webhooks_control.list_deliveries, ["GET"], PUBLIC),
    route("/webhooks", webhooks_control.clear, ["DELETE"], PUBLIC),
    route("/webhooks/deliver-due", webhooks_control.deliver_due, ["POST"], PUBLIC),
    route("/webhooks/pause", webhooks_control.pause, ["POST"], PUBLIC),
    route("/webhooks/resume", webhooks_control.resume, ["POST"], PUBLIC),
    route("/webhooks/idle", webhooks_control.idle, ["GET"], PUBLIC),
    route("/webhooks/{delivery_id}", webhooks_control.get_delivery, ["GET"], PUBLIC),
    route("/webhooks/{delivery_id}/trigger", webhooks_control.trigger, ["POST"], PUBLIC),
    route("/webhooks/{delivery_id}/resend", webhooks_control.resend, ["POST"], PUBLIC),
    route("/webhooks/{delivery_id}/drop", webhooks_control.drop, ["POST"], PUBLIC),
    route("/webhooks/{delivery_id}/delay", webhooks_control.delay, ["POST"], PUBLIC),
]

SERVICE_ROUTES: dict[Service, list[BaseRoute]] = {
    Service.QUEUE: QUEUE_ROUTES,
    Service.RUN: RUN_ROUTES,
    Service.REST: REST_ROUTES,
    Service.CDN: CDN_ROUTES,
    Service.PROXY: PROXY_ROUTES,
    Service.CONTROL: CONTROL_ROUTES,
}


#: ``Host`` values whose service :class:`ServiceDispatch` remembers.
MAX_REMEMBERED_HOSTS = 256


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
        #: The fal service (or None) of each ``Host`` value seen, so a request does not parse its host again
        #: (at most :data:`MAX_REMEMBERED_HOSTS` values, then forgotten at once).
        self._host_services: dict[bytes, Service | None] = {}
        self.proxy = proxy.ProxyEndpoint()
        self.index = route("/", index.page, ["GET", "HEAD"], PUBLIC)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        host = next((value for key, value in scope["headers"] if key == b"host"), b"")
        if host in self._host_services:
            service = self._host_services[host]
        else:
            service = FAL_HOSTS.get(host_of(host.decode("latin-1")))
            if len(self._host_services) >= MAX_REMEMBERED_HOSTS:
                self._host_services.clear()
            self._host_services[host] = service
        if service is not None:
            return Match.FULL, {SERVICE_KEY: service, FAL_HOST_KEY: True}
        path = route_path(scope)
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
        if service is Service.PROXY and route_path(scope) == "":
            await self.proxy(scope, receive, send)
            return
        if service is Service.CONTROL and route_path(scope) == "" and scope["method"] in ("GET", "HEAD"):
            await self.index.handle(scope, receive, send)  # GET /_mock: the index (public), not a 404
            return
        await self.routers[service](scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)


def route_path(scope: Scope) -> str:
    """The path below the mount point (``root_path``) the request was dispatched under."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if not root_path or not path.startswith(root_path):
        return path
    if path == root_path:
        return ""
    return path[len(root_path) :] if path[len(root_path)] == "/" else path


def build_routes() -> list[BaseRoute]:
    """The single top-level route: every fal host and every service prefix."""
    routers: dict[Service, ASGIApp] = {
        service: Router(routes=table, redirect_slashes=False) for service, table in SERVICE_ROUTES.items()
    }
    routers[Service.CONTROL] = control.ControlGuard(routers[Service.CONTROL])  # the control token, for all of /_mock
    return [ServiceDispatch(routers), route("/", index.page, ["GET", "HEAD"], PUBLIC)]  # GET /: the index
