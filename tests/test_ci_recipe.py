"""The README's CI recipe ("A server in CI") runs as written: a background server, its ready line, tests against it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support import REPO

INNER = """
import os

import fal_client

ARGS = {"prompt": "a cat", "image_url": "https://v3.fal.media/files/penguin/example.png"}


def test_the_official_client_reaches_the_ci_server():
    out = fal_client.run("fal-ai/minimax-video/image-to-video", ARGS)
    assert out["video"]["url"].startswith(os.environ["FAL_MOCK_URL"] + "/cdn/files/")


def test_the_fixture_uses_the_ci_server(fal_mock_server):
    assert fal_mock_server.url == os.environ["FAL_MOCK_URL"]
    with fal_mock_server.http() as client:
        assert client.post("/queue/fal-ai/minimax-video/image-to-video", json=ARGS).status_code == 200
    assert len(fal_mock_server.jobs) == 1
"""


def recipe() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- ci-recipe -->\n```bash\n(.*?)```\n<!-- /ci-recipe -->", text, flags=re.DOTALL)
    assert found is not None, "README.md lost its CI recipe"
    return found.group(1)


def test_the_recipe_is_one_shell_step() -> None:
    snippet = recipe()
    for needle in ("fal-mock serve", "--ready-fd 3", "read -r", 'eval "$(fal-mock env --ready-file', "trap"):
        assert needle in snippet
    assert "sleep" not in snippet


@pytest.mark.slow
def test_the_ci_recipe_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_against_the_server.py").write_text(textwrap.dedent(INNER))
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("FAL_", "PYTEST_")) and name != "SSL_CERT_FILE"}  # fmt: skip
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    run = subprocess.run(["bash", "-e", "-c", recipe()], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
    ready = (tmp_path / "fal-mock.json").read_text()
    pid = int(re.search(r'"pid": (\d+)', ready).group(1))  # type: ignore[union-attr]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the trap stopped the server and waited for it


@pytest.mark.slow
def test_a_server_that_dies_before_it_is_ready_fails_the_step(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("FAL_", "PYTEST_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    broken = recipe().replace("--progression immediate", "--progression never-heard-of-it")
    run = subprocess.run(["bash", "-e", "-c", broken], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    assert run.returncode != 0
    assert "never-heard-of-it" in run.stdout + run.stderr  # the server's log, shown
