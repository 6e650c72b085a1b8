"""fal-mock: an offline, faithful stand-in for the fal.ai model API.

The top of the ``fal_mock`` namespace.  The parts live in sub-packages:
``fal_mock.mock_server`` (the server: :func:`create_app`, :class:`Settings`, the ``fal-mock`` command),
``fal_mock.contracts`` (JSON Schemas), ``fal_mock.client`` (a reference client), ``fal_mock.fixtures``
(the pytest plugin) and :mod:`fal_mock.respx` (routing fal's hosts from a respx router).

Names here are imported lazily: ``import fal_mock`` (which pytest's plugin loading does in every
session) costs nothing until a name is used.

* ``__version__`` — the installed distribution's version (from its metadata, so it is the one
  ``pip`` shows); ``"0+unknown"`` when the package runs from a folder that was never installed.
* :func:`is_fal_host` — whether the ``fal_mock`` fixture takes requests to a host (``request.url.host``,
  or a ``Host`` header with or without a port): any name under fal's domains.  The test for
  pytest_httpx's ``should_mock`` (``should_mock=lambda request: not is_fal_host(request.url.host)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .fixtures.routing import is_fal_host
    from .mock_server import Settings, create_app

    __version__: str

__all__ = ["Settings", "__version__", "create_app", "is_fal_host"]

#: The distribution whose metadata gives ``__version__``.
DISTRIBUTION = "fal-mock"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return _version()
    if name in ("Settings", "create_app"):
        from . import mock_server

        return getattr(mock_server, name)
    if name == "is_fal_host":
        from .fixtures.routing import is_fal_host

        return is_fal_host
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
