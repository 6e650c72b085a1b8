"""The toolchain is part of the suite: ruff and mypy --strict must be clean for a change to land."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO

BIN = Path(sys.executable).parent
SOURCES = ["mock_server", "contracts", "client", "fixtures", "tests", "benchmarks"]


@pytest.mark.slow
def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [str(BIN / "ruff"), "check", *[s for s in SOURCES if (REPO / s).exists()]],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_is_clean() -> None:
    result = subprocess.run(
        [shutil.which("bash") or "/bin/bash", str(REPO / "scripts" / "typecheck")],
        cwd=REPO, capture_output=True, text=True, check=False,
        env={**os.environ, "MYPY": str(BIN / "mypy")},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
