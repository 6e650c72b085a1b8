"""fal-mock's opt-in start-up hook: points an unmodified official ``fal_client`` at a running mock.

How it gets loaded: Python imports a module named ``sitecustomize`` at start-up (the ``site``
module does, unless ``-S`` or ``-I``).  This directory holds nothing but this file, and
``fal-mock env`` / ``fal-mock run`` / the ``fal_mock_server`` fixture's ``env`` put the directory
first on ``PYTHONPATH``.  A process without that ``PYTHONPATH`` entry never sees this file; a
process with it but without ``FAL_MOCK_URL`` only pays for the import of this file.

What it does, and only when ``FAL_MOCK_URL`` is an ``http(s)://`` URL:

* it registers a post-import hook (a ``sys.meta_path`` finder) for ``fal_client.client`` — nothing
  is imported now; when (if ever) the program imports ``fal_client``, right after that module's
  own code ran, its URL constants are re-pointed at the mock: ``RUN_URL_FORMAT`` (``$FAL_MOCK_URL/run/``),
  ``QUEUE_URL_FORMAT`` (``/queue/``), ``REALTIME_URL_FORMAT`` (``ws(s)://…/run/``), ``REST_URL``
  (``/rest``: CDN tokens, upload initiate) and ``CDN_URL`` (``/cdn``: ``POST /files/upload``).
  fal_client 1.0.x reads these module globals at call time, and has no variable for the storage ones;
* it then runs the next ``sitecustomize`` on ``sys.path`` (Debian's, a virtualenv's, a project's), so
  installing this hook hides nothing.

Rules and limits: cheap when idle (only ``os`` and ``sys`` are imported unless ``FAL_MOCK_URL`` is
set); standard library only (``fal_mock`` need not be importable in the child — the
script may run in another virtualenv that only has ``fal_client``); never raises at start-up (a
malformed ``FAL_MOCK_URL`` is reported on stderr once and ignored); ``FAL_MOCK_BOOT_VERBOSE=1``
prints one line to stderr when the client is re-pointed.  It does not touch sockets, DNS or other
libraries: code that calls fal's hosts by name without ``fal_client`` is not redirected.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # no typing import at start-up: this runs in every process on the PYTHONPATH
if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import ModuleType
    from typing import Any

#: The module whose globals are re-pointed.
TARGET = "fal_client.client"
#: The variable that opts a process in (set by ``fal-mock env`` / ``fal-mock run`` / the fixture's ``env``).
URL_VARIABLE = "FAL_MOCK_URL"
VERBOSE_VARIABLE = "FAL_MOCK_BOOT_VERBOSE"


def mock_urls(base: str) -> dict[str, str]:
    """The ``fal_client.client`` globals for a mock at ``base`` (``https://127.0.0.1:PORT``); ValueError if no URL."""
    import urllib.parse

    parts = urllib.parse.urlsplit(base.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{URL_VARIABLE} must be an http(s) URL such as https://127.0.0.1:8443, not {base!r}")
    root = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    socket_scheme = "wss" if parts.scheme == "https" else "ws"
    return {
        "RUN_URL_FORMAT": root + "/run/",
        "QUEUE_URL_FORMAT": root + "/queue/",
        "REALTIME_URL_FORMAT": f"{socket_scheme}://{parts.netloc}{parts.path.rstrip('/')}/run/",
        "REST_URL": root + "/rest",
        "CDN_URL": root + "/cdn",
    }


class _PointingLoader:
    """Wraps the real loader of ``fal_client.client``: runs it, then sets the URL globals."""

    def __init__(self, loader: Any, urls: dict[str, str]) -> None:
        self._loader = loader
        self._urls = urls

    def create_module(self, spec: Any) -> ModuleType | None:
        created: ModuleType | None = self._loader.create_module(spec)
        return created

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        for name, value in self._urls.items():
            setattr(module, name, value)
        if os.environ.get(VERBOSE_VARIABLE) == "1":
            print(f"fal-mock: fal_client points at {self._urls['REST_URL'][: -len('/rest')]}", file=sys.stderr)

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, ... for tracebacks and tools
        return getattr(self._loader, name)


class FalClientFinder:
    """A ``sys.meta_path`` finder that only answers for ``fal_client.client``, wrapping its real loader."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if fullname != TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _PointingLoader(spec.loader, self.urls)  # type: ignore[assignment]
                return spec
        return None


def install(environ: dict[str, str] | os._Environ[str]) -> FalClientFinder | None:
    """Register the hook when ``FAL_MOCK_URL`` is set (once per process); returns it, or None."""
    base = environ.get(URL_VARIABLE, "")
    if not base:
        return None
    try:
        urls = mock_urls(base)
    except ValueError as error:
        print(f"fal-mock: start-up hook disabled: {error}", file=sys.stderr)
        return None
    for finder in sys.meta_path:
        if isinstance(finder, FalClientFinder) or type(finder).__name__ == FalClientFinder.__name__:
            return None
    finder = FalClientFinder(urls)
    sys.meta_path.insert(0, finder)
    return finder


def chain_next_sitecustomize() -> None:
    """Import the ``sitecustomize`` this one shadows, if there is one (errors are reported, never raised)."""
    here = os.path.dirname(os.path.abspath(__file__))
    ours = sys.modules.get("sitecustomize")
    saved_path = list(sys.path)
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != here]
    sys.modules.pop("sitecustomize", None)
    try:
        __import__("sitecustomize")
    except ImportError as error:
        if error.name != "sitecustomize":
            print(f"fal-mock: the next sitecustomize failed: {error!r}", file=sys.stderr)
    except Exception as error:  # a broken sitecustomize must not stop the program, as in site.py
        print(f"fal-mock: the next sitecustomize failed: {error!r}", file=sys.stderr)
    finally:
        sys.path[:] = saved_path
        if ours is not None:
            sys.modules["sitecustomize"] = ours


install(os.environ)
chain_next_sitecustomize()
