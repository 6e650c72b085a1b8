"""fal-mock's server: one Starlette app that answers for every fal host.

Public entry points are :func:`create_app` and :class:`Settings`; they are
imported lazily so that using a sub-package (the video writer, say) does not
pull in the web stack.
"""

from __future__ import annotations

if __name__ != "fal_mock.mock_server":  # one copy only: see "Working on fal-mock" in README.md
    raise ImportError(
        f"{__name__!r} is the repository's mock_server/ folder imported as a package of its own, beside "
        "'fal_mock.mock_server': two copies whose classes differ (a.Settings is not b.Settings). Import "
        "'fal_mock.mock_server' (the editable install, 'pip install -e .', maps the folder there) and do not "
        "import the repository's folders by their own names."
    )

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .edge.app import create_app
    from .settings import Settings

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .edge.app import create_app

        return create_app
    if name == "Settings":
        from .settings import Settings

        return Settings
    raise AttributeError(name)
