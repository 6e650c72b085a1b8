"""The package as users meet it: version, ``python -m fal_mock``, metadata, floors, changelog, the sdist and wheel."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import fal_mock
import pytest
from fal_mock.mock_server.cli import main
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_version_comes_from_the_installed_metadata() -> None:
    assert fal_mock.__version__ == importlib.metadata.version("fal-mock") == PYPROJECT["project"]["version"]


def test_python_m_fal_mock_is_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    version = subprocess.run([sys.executable, "-m", "fal_mock", "--version"], capture_output=True, text=True)
    assert (version.returncode, version.stdout.strip()) == (0, f"fal-mock {fal_mock.__version__}")
    env = subprocess.run([sys.executable, "-m", "fal_mock", "env", "--url", "https://127.0.0.1:9"],
                         capture_output=True, text=True, env={"PATH": "/usr/bin"})  # fmt: skip
    assert env.returncode == 0
    assert main(["env", "--url", "https://127.0.0.1:9"]) == 0
    assert capsys.readouterr().out == env.stdout
    wrong = subprocess.run([sys.executable, "-m", "fal_mock", "no-such-command"], capture_output=True, text=True)
    assert wrong.returncode == 2
    assert "invalid choice" in wrong.stderr


def test_the_console_script_answers_version() -> None:
    script = Path(sys.executable).with_name("fal-mock")
    if not script.exists():
        pytest.skip("no fal-mock script beside this interpreter")
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"fal-mock {fal_mock.__version__}"


def test_metadata_is_honest() -> None:
    meta = importlib.metadata.metadata("fal-mock")
    assert "Framework :: Pytest" in meta.get_all("Classifier")
    assert meta["License-Expression"] == "MIT"
    requirements = [Requirement(text) for text in meta.get_all("Requires-Dist")]
    runtime = {req.name.lower(): req for req in requirements if req.marker is None or "extra" not in str(req.marker)}
    assert not runtime["uvicorn"].extras  # no [standard]: what is imported is declared below
    assert {"httptools", "uvloop", "starlette", "httpx", "regex"} <= set(runtime)
    assert "respx" not in runtime
    assert "httpx-sse" not in {req.name.lower() for req in requirements}
    assert not any(spec.operator in ("<", "<=") for spec in runtime["httpx"].specifier)
    extras = {req.name.lower(): req for req in requirements if req.marker and 'extra == "pytest"' in str(req.marker)}
    assert "pytest" in extras
    assert PYPROJECT["build-system"]["requires"] == ["setuptools>=77"]
    entry = [point for point in importlib.metadata.entry_points(group="pytest11") if point.name == "fal_mock"]
    assert [point.value for point in entry] == ["fal_mock.fixtures.entry"]


def test_floors_file_matches_the_lower_bounds() -> None:
    floors = {}
    for line in (ROOT / "constraints" / "floors.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            floors[name.strip().lower()] = version.strip()
    bounds = {}
    for text in PYPROJECT["project"]["dependencies"]:
        req = Requirement(text)
        lower = [spec.version for spec in req.specifier if spec.operator == ">="]
        assert lower, f"{text}: every runtime dependency has a floor"
        bounds[req.name.lower()] = lower[0]
    assert set(floors) == set(bounds)
    for name, version in bounds.items():
        assert floors[name].split(".")[: len(version.split("."))] == version.split(".") or floors[name] == version, (
            name, floors[name], version,
        )  # fmt: skip


def test_changelog_starts_with_this_release() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    first = re.search(r"^## (\S+)", changelog, re.MULTILINE)
    assert first is not None
    assert first.group(1) == fal_mock.__version__


@pytest.mark.slow
def test_sdist_and_wheel_carry_the_license_and_the_whole_namespace(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)  # fmt: skip
    wheel = zipfile.ZipFile(next(tmp_path.glob("*.whl")))
    names = wheel.namelist()
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    wanted = ["__init__.py", "__main__.py", "respx.py", "py.typed", "mock_server/cli.py", "fixtures/entry.py",
              "contracts/__init__.py", "client/__init__.py"]  # fmt: skip
    for module in wanted:
        assert "fal_mock/" + module in names, module
    with tarfile.open(next(tmp_path.glob("*.tar.gz"))) as sdist:
        assert any(name.endswith("/LICENSE") for name in sdist.getnames())


@pytest.mark.parametrize("folder", ["mock_server", "contracts", "client", "fixtures"])
def test_a_repository_folder_cannot_be_imported_as_a_second_copy(folder: str) -> None:
    code = f"import {folder}"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 1
    assert "ImportError" in run.stderr
    assert f"'{folder}' is the repository's {folder}/ folder imported as a package of its own" in run.stderr
    assert f"Import 'fal_mock.{folder}'" in run.stderr
    fine = subprocess.run([sys.executable, "-c", f"import fal_mock.{folder}"], cwd=ROOT, capture_output=True)
    assert fine.returncode == 0, fine.stderr


def test_the_top_level_names() -> None:
    from fal_mock.fixtures.routing import is_fal_host
    from fal_mock.mock_server import Settings, create_app

    assert fal_mock.__all__ == ["Settings", "__version__", "create_app", "is_fal_host"]
    assert (fal_mock.Settings, fal_mock.create_app, fal_mock.is_fal_host) == (Settings, create_app, is_fal_host)
    assert sorted(dir(fal_mock)) == sorted(fal_mock.__all__)
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = fal_mock.no_such_name  # type: ignore[attr-defined]


def test_importing_fal_mock_is_cheap() -> None:
    code = "import sys, fal_mock; print([m for m in ('starlette', 'uvicorn', 'httpx', 'PIL') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
