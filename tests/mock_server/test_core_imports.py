"""The house's two import rules, checked on the code itself (DESIGN: a core that knows no HTTP, one seam).

1. **The core knows no HTTP.**  Every module of the core packages (jobs, files, webhooks, faults,
   persistence, media, catalogue, outputs, video) and the top-level modules that are not the edge
   (settings, services, control, clock, ids, ...) is imported in a *fresh* interpreter; loading
   ``starlette``, ``uvicorn`` or ``fal_mock.mock_server.edge`` on the way fails, naming the module
   whose import pulled it in.  A fresh interpreter, because in the test process the edge is long loaded.
2. **The fixtures use one seam.**  ``fixtures/`` (the pytest plugin) may import from ``mock_server``
   only :mod:`~fal_mock.mock_server.control` (the testing façade), ``create_app`` and ``Settings``
   (from the package, ``edge.app`` or ``settings``).  Checked by reading the source (``ast``), so an
   import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import fal_mock.mock_server

ROOT = Path(__file__).resolve().parents[2]
SERVER = Path(fal_mock.mock_server.__file__).resolve().parent
FIXTURES = ROOT / "fixtures"

#: The core packages under ``mock_server/``: none of their modules may load the HTTP stack.
CORE_PACKAGES = ("jobs", "files", "webhooks", "faults", "persistence", "media", "catalogue", "outputs", "video")
#: Top-level modules of ``mock_server/`` that belong to the edge or the command line (the rest are core).
EDGE_MODULES = frozenset({"cli", "__main__"})
#: What loading the core must never pull in.
FORBIDDEN = ("starlette", "uvicorn", "fal_mock.mock_server.edge")

#: What ``fixtures/`` may import from ``mock_server`` (module -> allowed names; ``None``: the module itself).
SEAM: dict[str, frozenset[str] | None] = {
    "fal_mock.mock_server": frozenset({"create_app", "Settings"}),
    "fal_mock.mock_server.control": None,
    "fal_mock.mock_server.settings": frozenset({"Settings"}),
    "fal_mock.mock_server.edge.app": frozenset({"create_app"}),
}

PROBE = """
import importlib, json, sys
forbidden = tuple(sys.argv[1].split(","))
def loaded():
    return sorted(name for name in sys.modules if any(name == f or name.startswith(f + ".") for f in forbidden))
offenders = {}
for module in sys.argv[2:]:
    importlib.import_module(module)
    now = loaded()
    if now:
        offenders[module] = now
        for name in now:
            del sys.modules[name]
print(json.dumps(offenders))
"""


def core_modules() -> list[str]:
    """Every core module's dotted name, found on disk (a new module is checked without editing this test)."""
    names = ["fal_mock.mock_server", "fal_mock.contracts"]
    for info in pkgutil.iter_modules([str(SERVER)]):
        if not info.ispkg and info.name not in EDGE_MODULES:
            names.append(f"fal_mock.mock_server.{info.name}")
    for package in CORE_PACKAGES:
        prefix = f"fal_mock.mock_server.{package}."
        names.append(prefix[:-1])
        names.extend(info.name for info in pkgutil.walk_packages([str(SERVER / package)], prefix))
    return names


def test_the_core_list_covers_every_package_but_the_edge() -> None:
    packages = {info.name for info in pkgutil.iter_modules([str(SERVER)]) if info.ispkg}
    assert packages - set(CORE_PACKAGES) == {"edge"}
    modules = core_modules()
    for expected in ("jobs.queue", "jobs.runner", "files.store", "webhooks.dispatcher", "faults.book",
                     "persistence.sqlite", "services", "control", "settings", "clock", "ids"):  # fmt: skip
        assert f"fal_mock.mock_server.{expected}" in modules


def test_importing_every_core_module_loads_no_http_stack() -> None:
    modules = core_modules()
    done = subprocess.run([sys.executable, "-c", PROBE, ",".join(FORBIDDEN), *modules], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)  # fmt: skip
    assert done.returncode == 0, done.stderr
    offenders = json.loads(done.stdout.strip().splitlines()[-1])
    assert offenders == {}, f"core modules that load the HTTP stack (module -> what it loaded): {offenders}"


def test_the_probe_notices_an_http_import() -> None:
    """The check above can fail: importing the edge's app is reported, with what it loaded."""
    done = subprocess.run([sys.executable, "-c", PROBE, ",".join(FORBIDDEN), "fal_mock.mock_server.ids",
                           "fal_mock.mock_server.edge.app"], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)  # fmt: skip
    offenders = json.loads(done.stdout.strip().splitlines()[-1])
    assert list(offenders) == ["fal_mock.mock_server.edge.app"]
    assert "starlette" in offenders["fal_mock.mock_server.edge.app"]


def server_imports(source: str, package: str) -> list[tuple[int, str, str | None]]:
    """``(line, module, name)`` of every import of ``fal_mock.mock_server`` in ``source`` (``name`` None: the module).

    Relative imports are resolved against ``package`` (the importing module's package).
    """
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                found.append((node.lineno, base, alias.name))
    found.sort()
    return [item for item in found if item[1] == "fal_mock.mock_server" or item[1].startswith("fal_mock.mock_server.")
            or (item[1] == "fal_mock" and item[2] == "mock_server")]  # fmt: skip


def seam_violations(source: str, package: str = "fal_mock.fixtures") -> list[str]:
    bad = []
    for line, module, name in server_imports(source, package):
        if module == "fal_mock" and name == "mock_server":
            bad.append(f"line {line}: from fal_mock import mock_server")
            continue
        if module not in SEAM:
            bad.append(f"line {line}: {module}" + (f" ({name})" if name else ""))
            continue
        allowed = SEAM[module]
        if allowed is not None and (name is None or name not in allowed):
            bad.append(f"line {line}: {module}.{name or ''}")
    return bad


def test_fixtures_import_only_the_seam_from_the_server() -> None:
    files = sorted(FIXTURES.rglob("*.py"))
    assert files, "fixtures/ has no Python files"
    bad = {
        str(path.relative_to(ROOT)): found
        for path in files
        if (found := seam_violations(path.read_text(encoding="utf-8")))
    }
    assert bad == {}, f"fixtures/ imports mock_server past its seam (control, create_app, Settings): {bad}"


def test_the_seam_check_catches_private_imports() -> None:
    source = (
        "from fal_mock.mock_server import Settings, create_app\n"
        "from fal_mock.mock_server.control import MockControl\n"
        "def late():\n"
        "    from fal_mock.mock_server.edge.hosts import FAL_HOSTS\n"
        "    import fal_mock.mock_server.jobs.queue\n"
        "    from fal_mock.mock_server import services\n"
        "    from fal_mock import mock_server\n"
        "    from ..mock_server.clock import ManualClock\n"
    )
    assert seam_violations(source) == [
        "line 4: fal_mock.mock_server.edge.hosts (FAL_HOSTS)",
        "line 5: fal_mock.mock_server.jobs.queue",
        "line 6: fal_mock.mock_server.services",
        "line 7: from fal_mock import mock_server",
        "line 8: fal_mock.mock_server.clock (ManualClock)",
    ]
