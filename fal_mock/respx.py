"""fal's hosts in a respx router: fal-mock for test suites that already mock httpx with respx.

respx replaces httpx's transports with its router; a request no route matches fails
(``AllMockedAssertionError``).  Two functions give fal's hosts a route:

* :func:`mock_fal` — a fresh in-process mock of fal (the same :class:`~fal_mock.fixtures.FalMock`
  handle the ``fal_mock`` fixture gives) answering fal's hosts of ``router``, for tests that use
  respx and not the fixture::

      import httpx, respx
      from fal_mock.respx import mock_fal

      @respx.mock(using="httpx")
      def test_generate(respx_mock):
          with mock_fal(respx.mock) as fal:
              respx.get("https://api.example.com/me").respond(json={"id": 1})  # your other routes
              ...                                    # fal_client / httpx calls to fal reach the mock
              assert fal.jobs[0].finished

* :func:`route_fal` — one route for fal's hosts: with a handle, answered by that mock; without
  one, *passed through* to the ``fal_mock`` fixture's routing.  That is the one-line remedy for
  ``respx.mock(using="httpx")`` (whose router sits in front of every transport) next to the
  fixture::

      def test_both(fal_mock, respx_mock):   # @pytest.mark.respx(using="httpx")
          route_fal(respx_mock)              # fal's hosts go on to fal_mock
          ...

  With respx's default ``using="httpcore"`` nothing is needed next to the fixture: fal's
  requests never reach httpcore.

Rules and limits: the route matches every host under fal's domains (``fal.run``, ``fal.ai``,
``fal.media``, ``falrun.com``) and is named ``fal-mock`` (adding it again replaces it).  Hosts the
mock serves are answered; other fal hosts (``api.fal.ai``, ``ws.fal.run``) raise
:class:`~fal_mock.fixtures.UnservedFalHost`.  Requests are answered through the handle's
routing, sync and async alike (respx does not tell a side effect which one called it), so an
async client's call waits on the mock's own loop thread; faults queued on the handle apply.
``FAL_KEY`` is left as it is (the ``fal_mock`` fixture sets a dummy; here set one yourself for
the official client).  Needs respx (the ``fal-mock[respx]`` extra).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx
import respx

if TYPE_CHECKING:
    from fal_mock.fixtures import FalMock
    from fal_mock.mock_server import Settings

__all__ = ["FAL_HOST_PATTERN", "ROUTE_NAME", "mock_fal", "route_fal"]

#: Every host under fal's domains (respx matches host regexes from the start of the name).
FAL_HOST_PATTERN = r"^(?:[^/]+\.)?(?:fal\.run|fal\.ai|fal\.media|falrun\.com)\.?$"
#: The name of the route this module adds (respx replaces a route added again under the same name).
ROUTE_NAME = "fal-mock"


def route_fal(router: respx.Router, mock: FalMock | None = None) -> respx.Route:
    """Give fal's hosts a route in ``router``: answered by ``mock``, or passed through (to the fixture) without one."""
    route = router.route(host__regex=FAL_HOST_PATTERN, name=ROUTE_NAME)
    if mock is None:
        return route.pass_through()
    routing = mock.routing

    def answer(request: httpx.Request) -> httpx.Response:
        routing.claims(request)  # UnservedFalHost for fal hosts the mock does not serve
        return routing.handle_sync(request)

    return route.mock(side_effect=answer)


@contextlib.contextmanager
def mock_fal(router: respx.Router, settings: Settings | Mapping[str, Any] | None = None) -> Iterator[FalMock]:
    """A fresh mock of fal (``settings``: a :class:`Settings` or setting names → values) routed from ``router``."""
    from fal_mock.fixtures import FalMock
    from fal_mock.mock_server import Settings

    base = settings if isinstance(settings, Settings) else Settings.from_mapping(settings or {})
    handle = FalMock.create(base)
    route_fal(router, handle)
    try:
        yield handle
    finally:
        handle.close()
