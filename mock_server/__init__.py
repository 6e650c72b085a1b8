"""fal-mock's server: one Starlette app that answers for every fal host.

Public entry points are :func:`create_app` and :class:`Settings`; they are
imported lazily so that using a sub-package (the video writer, say) does not
pull in the web stack.
"""

from __future__ import annotations

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
