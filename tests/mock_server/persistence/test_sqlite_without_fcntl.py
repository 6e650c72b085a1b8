"""Where ``fcntl`` does not exist (Windows): create_app, the data directory in one process and the fixture work.

Each check runs in a fresh interpreter with ``sys.modules["fcntl"] = None``, so every
``import fcntl`` raises ``ImportError`` as it does on a platform without the module.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

HIDE_FCNTL = "import sys\nsys.modules['fcntl'] = None\n"


def run_without_fcntl(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = HIDE_FCNTL + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_create_app_and_a_data_dir_in_one_process(tmp_path: Path) -> None:
    run = run_without_fcntl(
        f"""
        import httpx, anyio
        from fal_mock.mock_server import Settings, create_app
        from fal_mock.mock_server.control import MockControl
        from fal_mock.mock_server.edge.workers import WorkersRefused, check_workers

        body = {{"prompt": "a cat", "image_url": "https://v3.fal.media/files/penguin/example.png"}}
        auth = {{"Authorization": "Key fal-mock-key:fal-mock-secret"}}

        async def submit(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
                sent = await client.post("/queue/fal-ai/minimax-video/image-to-video", json=body, headers=auth)
                status = await client.get(sent.json()["status_url"].replace("http://mock", ""), headers=auth)
                return sent.json()["request_id"], status.json()["status"]

        print("memory", *anyio.run(submit, create_app()))
        data = Settings(data_dir={str(tmp_path / "data")!r}, progression="immediate")
        app = create_app(data)
        request_id, state = anyio.run(submit, app)
        app.state.mock.close()
        again = create_app(data)  # the job was kept on disk
        print("data_dir", state, MockControl(again.state.mock).job(request_id).request_id == request_id)
        again.state.mock.close()
        try:
            check_workers(2, data)
        except WorkersRefused as error:
            print("refused", error)
        import fal_mock.mock_server.persistence.sqlite as sqlite
        print("flock", sqlite.HAVE_FLOCK)
    """,
        tmp_path,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("memory ")
    assert lines[0].endswith(" COMPLETED")
    assert lines[1] == "data_dir COMPLETED True"
    assert lines[2].startswith("refused --workers 2 needs file locks (fcntl.flock)")
    assert lines[3] == "flock False"


def test_the_fixture_works_without_fcntl(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent("""
        import httpx

        def test_submit(fal_mock):
            response = httpx.post(
                "https://queue.fal.run/fal-ai/minimax-video/image-to-video",
                json={"prompt": "a cat", "image_url": "https://v3.fal.media/files/penguin/example.png"},
                headers={"Authorization": "Key fal-mock-key:fal-mock-secret"},
            )
            assert response.status_code == 200
            assert fal_mock.jobs[0].request_id == response.json()["request_id"]
    """)
    )
    run = run_without_fcntl(
        "import pytest\nsys.exit(pytest.main(['-p', 'no:cacheprovider', '-p', 'no:xdist', 'test_user.py']))\n", tmp_path
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
