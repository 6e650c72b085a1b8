"""First contact with ``fal-mock``: every option has help, ``fal-mock settings`` lists every setting, typos get a
suggestion, a busy port or an unwritable ready file is one line with the fix, the startup log says where to look,
and an https client on a plain-HTTP port gets a log line naming ``--tls``."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from fal_mock.mock_server import create_app
from fal_mock.mock_server.cli import build_parser, main
from fal_mock.mock_server.edge.banner import expected_job_time
from fal_mock.mock_server.settings import Settings

from tests.support import ServeProcess


def test_every_serve_option_has_help() -> None:
    serve = build_parser()._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]
    missing = [action.option_strings for action in serve._actions
               if action.option_strings and not action.help and action.dest not in ("help", "log_level")]  # fmt: skip
    assert missing == []


def test_settings_lists_every_setting_with_default_and_meaning(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split(" = ")[0] for line in lines if line and not line.startswith(("#", " "))]
    assert names == Settings.field_names()
    meanings = [line for line in lines if line.startswith("    ")]
    assert len(meanings) == len(names)
    assert all(line.strip() for line in meanings)
    assert "max_queue_size = 10000" in lines
    assert "    Unfinished jobs the mock holds at once — 429 beyond it." in lines


def test_set_help_and_a_filter(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--set", "help"]) == 0
    assert "webhook_retry_base_seconds = 7.0" in capsys.readouterr().out
    assert main(["settings", "fetch_"]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if " = " in line and not line.startswith("#")]
    assert [line.split(" = ")[0] for line in listed] == [
        "fetch_allow_hosts", "fetch_allow_private", "fetch_timeout_seconds"
    ]  # fmt: skip
    assert main(["settings", "nothing-like-this"]) == 2


def test_a_typo_in_set_suggests_the_setting_in_one_line() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--set", "max_queu_size=3"])
    message = str(exited.value)
    assert message == ("fal-mock: unknown setting 'max_queu_size' (did you mean 'max_queue_size'?) in --set; "
                       "'fal-mock settings' lists every setting")  # fmt: skip


def test_the_marker_suggests_too() -> None:
    with pytest.raises(ValueError, match=r"did you mean 'progression' for 'progresion'"):
        Settings.from_mapping({"progresion": "manual"})


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fal_mock.mock_server", "serve", *args],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


@pytest.mark.slow
def test_a_busy_port_is_one_line_with_the_fix() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _serve("--port", str(port))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"fal-mock: port {port} on 127.0.0.1 is already in use (another fal-mock serve?): stop that process, pick "
        "another port with --port N, or let the system choose with --port 0 --ready-file FILE"
    )
    assert "Traceback" not in done.stderr


def test_an_unwritable_ready_file_is_one_line_with_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["serve", "--port", "0", "--ready-file", str(blocker / "ready.json")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith(f"fal-mock: cannot create {blocker} for the ready file (")
    assert "--ready-file /tmp/fal-mock.json" in error


@pytest.mark.slow
def test_the_startup_log_says_where_to_look_and_an_https_client_on_plain_http_hears_of_tls(tmp_path: Path) -> None:
    with ServeProcess(tmp_path, "--progression", "realistic") as server:
        host, port = server.url.removeprefix("http://").split(":")
        context = ssl.create_default_context()
        with socket.create_connection((host, int(port)), timeout=10) as raw, pytest.raises((ssl.SSLError, OSError)):
            context.wrap_socket(raw, server_hostname=host)  # what fal_client does against a plain port
        assert server.process is not None
        server.stop()
    log = server.output()
    services = create_app(Settings(progression="realistic")).state.mock
    ids = services.registry.ids()
    assert f"dashboard: {server.url}/_mock/" in log
    assert f"progression: realistic: {expected_job_time(services)}" in log
    assert "a job takes about " in expected_job_time(services)
    assert f"endpoints: {len(ids)} served: {ids[0]}, " in log
    assert f'eval "$(fal-mock env --url {server.url})"' in log
    assert "started a TLS handshake on this plain-HTTP port: it speaks https" in log
    assert "restart with 'fal-mock serve --tls'" in log
    assert "Invalid HTTP request received" not in log


def test_the_expected_job_time_follows_the_progression() -> None:
    def words(**changes: object) -> str:
        return expected_job_time(create_app(Settings(**changes)).state.mock)  # type: ignore[arg-type]

    assert words(progression="immediate") == "jobs complete as soon as they are submitted"
    assert words(progression="polls:3") == "each state is seen by 3 status read(s), then the job moves on"
    assert words(progression="manual").startswith("jobs wait until moved: POST /_mock/jobs/{id}/advance")
    def span(text: str) -> tuple[float, float]:
        low, high = (float(part) for part in text.split("about ")[1].split(" s")[0].split("-"))
        return low, high

    slow, fast = span(words(progression="realistic")), span(words(progression="realistic", realistic_time_scale=0.1))
    assert 0 < slow[0] < slow[1]
    assert abs(fast[0] - slow[0] / 10) <= 1
    assert abs(fast[1] - slow[1] / 10) <= 1
