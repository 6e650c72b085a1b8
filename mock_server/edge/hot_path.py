"""The hot path: submits, status polls and result fetches go straight to their route, past Starlette's routing.

A client repeats three requests — ``POST /{endpoint}``, then ``GET .../requests/{id}/status`` and
``GET .../requests/{id}`` many times per job; everything else is rare.  Through Starlette those cross the exception
middleware, the top router, the service dispatch, the queue's router (trying routes in turn) and the
route's request/response wrapper: ~40% of a status poll's time in the app, measured
(``benchmarks/bench_protocol.py``).  :class:`HotPath` answers them with the **same route objects** of
the URL map (:data:`.routes.QUEUE_ROUTES`), the same service dispatch, the same access check
(:mod:`.auth`) and handler, and the app's own exception handlers — only the walk to them is shorter.

Rules:

* the gateway (:mod:`.gateway`) has run every stage first (namespace, journal, limits, faults) — a
  request only takes the hot path when no fault is queued;
* a request takes it only if the service dispatch sends it to the queue service and one of the hot
  routes matches it *fully* (path and method); anything else — a trailing slash, ``HEAD``, another
  route, the proxy — goes the long way, so no URL behaves differently.  A ``POST`` takes it when the
  first queue route that takes ``POST`` and matches its path is the submit route — the one Starlette's
  router would pick (the long form's ``POST`` routes come before it and keep the long way);
* errors: the exception handlers the app registered (:func:`.app.create_app`) answer, looked up by
  the exception's class as Starlette's exception middleware does; an exception without one
  propagates to Starlette's server-error middleware (a 500), as on the long way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.convertors import PathConvertor, StringConvertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from .auth import Access, AccessRoute, check, check_cdn
from .hosts import Service
from .routes import QUEUE_ROUTES, SERVICE_KEY, ServiceDispatch, route_path

#: ``Authorization`` values the hot path remembers as accepted.
MAX_REMEMBERED_KEYS = 256
#: The routes of :data:`.routes.QUEUE_ROUTES` the hot path serves (their path templates).
HOT_PATHS = ("/{owner}/{alias}/requests/{request_id}/status", "/{owner}/{alias}/requests/{request_id}")
#: The submit route of :data:`.routes.QUEUE_ROUTES` (``POST``), served when the router would pick it.
SUBMIT_PATH = "/{endpoint:path}"
#: The path segment of every queue route but the submit route.
REQUESTS_SEGMENT = "/requests/"

ExceptionHandler = Callable[[Request, Exception], Response]


class HotPath:
    """Finds and answers the hot requests of one app (see the module docstring)."""

    def __init__(self, dispatch: ServiceDispatch, exception_handlers: Mapping[Any, ExceptionHandler]) -> None:
        self.dispatch = dispatch
        by_path = {item.path: item for item in QUEUE_ROUTES if isinstance(item, AccessRoute)}
        self.routes = tuple(by_path[path] for path in HOT_PATHS)
        for route in self.routes:  # the shortcut in :meth:`match` relies on it
            assert route.methods == {"GET", "HEAD"}
            assert all(type(convertor) is StringConvertor for convertor in route.param_convertors.values())
        #: The queue routes taking ``POST``, in the router's order: the first whose path matches is Starlette's pick.
        self.post_routes = tuple(item for item in QUEUE_ROUTES
                                 if isinstance(item, AccessRoute) and "POST" in (item.methods or ()))  # fmt: skip
        self.submit = by_path[SUBMIT_PATH]
        assert self.post_routes[-1] is self.submit  # a catch-all: every POST path reaches it
        #: Every ``POST`` route before the submit route is a long form under ``/requests/``: a path without that
        #: segment can only match the submit route, which is then the only one tried.
        self.submit_only = (self.submit,)
        assert all(REQUESTS_SEGMENT in item.path for item in self.post_routes[:-1])
        assert all(type(convertor) is PathConvertor for convertor in self.submit.param_convertors.values())
        #: What Starlette's exception middleware would handle (500 and ``Exception`` are the server-error layer's).
        self.handlers = {kind: handler for kind, handler in exception_handlers.items() if kind not in (500, Exception)}
        #: ``Authorization`` values that passed the key check (the app's settings never change), so a poller's
        #: repeated key is not parsed again; at most :data:`MAX_REMEMBERED_KEYS`, then forgotten at once.
        self._accepted_keys: set[bytes] = set()

    def match(self, scope: Scope) -> tuple[AccessRoute, Scope] | None:
        """The hot route answering ``scope`` and the scope it sees, or None (take the long way)."""
        method = scope["method"]
        if method == "GET":
            routes = self.routes
        elif method == "POST":
            routes = self.post_routes
        else:
            return None
        found, child = self.dispatch.matches(scope)
        if found is not Match.FULL or child[SERVICE_KEY] is not Service.QUEUE:
            return None
        path = route_path({"path": scope["path"], "root_path": child.get("root_path", scope.get("root_path", ""))})
        if method == "POST" and REQUESTS_SEGMENT not in path:
            routes = self.submit_only
        for route in routes:  # what ``Route.matches`` does for these routes (string and path parameters: unconverted)
            matched = route.path_regex.match(path)
            if matched is not None:
                if method == "POST" and route is not self.submit:
                    return None  # the long form's POST: the long way
                # the scope the route sees, as Starlette's routers would leave it (they update it in place too)
                scope.update(child)
                scope["endpoint"] = route.endpoint
                scope["path_params"] = {**scope.get("path_params", {}), **matched.groupdict()}
                return route, scope
        return None

    async def answer(self, route: AccessRoute, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            if route.access is Access.KEY:
                authorization = next((value for key, value in scope["headers"] if key == b"authorization"), None)
                if authorization is None or authorization not in self._accepted_keys:
                    check(request.app.state.mock.settings, request)  # fal's 401 when it fails
                    if authorization is not None:
                        if len(self._accepted_keys) >= MAX_REMEMBERED_KEYS:
                            self._accepted_keys.clear()
                        self._accepted_keys.add(authorization)
            elif route.access is Access.CDN:
                check_cdn(request)
            response: Response = await route.endpoint(request)
        except Exception as error:
            handler = next((self.handlers[kind] for kind in type(error).__mro__ if kind in self.handlers), None)
            if handler is None:
                raise
            response = handler(request, error)
        await response(scope, receive, send)
