"""``pytest tests/contract_suite --live`` without a fal key fails with the fix, instead of passing by skipping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_live_without_a_key_fails_with_a_clear_message() -> None:
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "PYTEST_XDIST_WORKER")}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/contract_suite", "--live", "--collect-only", "-q", "-p",
         "no:cacheprovider"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 4  # pytest's usage error: nothing ran, nothing passed
    assert "--live runs the contract suite against real fal and needs a fal key: export FAL_KEY=key_id:key_secret" \
        in done.stderr
