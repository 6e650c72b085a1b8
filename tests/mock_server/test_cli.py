"""The ``fal-mock`` command: argument handling, ``serve`` lifecycle and ``env``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fal_mock.mock_server.cli import build_parser, main, settings_from_args

from tests.support import AUTH, ServeProcess, data_uri, png_bytes


def test_serve_defaults_are_realistic_and_loopback() -> None:
    args = build_parser().parse_args(["serve"])
    settings = settings_from_args(args)
    assert (args.host, args.port, settings.progression, settings.video_profile) == (
        "127.0.0.1",
        8000,
        "realistic",
        "preview",
    )


def test_serve_flags_and_set_reach_the_settings() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--seed",
            "9",
            "--progression",
            "polls:3",
            "--video-profile",
            "realistic",
            "--set",
            "max_queue_size=5",
        ]
    )
    settings = settings_from_args(args)
    assert (settings.seed, settings.progression, settings.video_profile, settings.max_queue_size) == (
        9,
        "polls:3",
        "realistic",
        5,
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--set", "nonsense=1"], "unknown setting 'nonsense' in --set"),
        (["serve", "--set", "max_queue_size=lots"], "must be an integer"),
        (["serve", "--set", "novalue"], "NAME=VALUE"),
    ],
)
def test_bad_settings_exit_with_a_clear_message(argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exited:
        settings_from_args(build_parser().parse_args(argv))
    assert message in str(exited.value)


def test_bad_progression_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--progression", "later"])
    assert "unknown progression" in capsys.readouterr().err


def test_env_reads_a_ready_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ready = tmp_path / "ready.json"
    ready.write_text(json.dumps({"url": "https://127.0.0.1:4443", "ca_file": "/x/ca.pem", "ca_bundle": "/x/b.pem"}))
    assert main(["env", "--ready-file", str(ready)]) == 0
    out = capsys.readouterr().out
    assert "FAL_QUEUE_RUN_HOST=127.0.0.1:4443/queue" in out
    assert "SSL_CERT_FILE=/x/b.pem" in out


def test_env_with_only_a_ca_file_writes_the_trust_bundle_next_to_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import trustme

    ca_file = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    assert main(["env", "--url", "https://127.0.0.1:4443", "--ca-file", str(ca_file)]) == 0
    bundle = tmp_path / "fal-mock-trust-bundle.pem"
    assert f"SSL_CERT_FILE={bundle}" in capsys.readouterr().out
    assert bundle.read_text().count("BEGIN CERTIFICATE") > 1  # the usual roots, then the CA


def test_env_without_a_server_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["env"]) == 2


@pytest.mark.slow
def test_serve_logs_one_line_per_request_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    with ServeProcess(tmp_path, "--progression", "immediate") as server:
        assert server.ca_file is None
        assert server.url.startswith("http://127.0.0.1:")
        with httpx.Client(headers=AUTH) as http:
            submitted = http.post(
                f"{server.url}/queue/fal-ai/minimax-video/image-to-video",
                json={"prompt": "p", "image_url": data_uri(png_bytes())},
            ).json()
            assert submitted["status_url"].startswith(server.url + "/queue/")
            assert http.get(submitted["response_url"]).status_code == 200
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=20) == 0
    log = server.output()
    assert "POST /queue/fal-ai/minimax-video/image-to-video" in log
    assert "fal-mock-secret" not in log  # the Authorization header never reaches the log


@pytest.mark.slow
def test_python_dash_m_is_the_same_command() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "fal_mock.mock_server", "--help"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0
    assert "serve" in completed.stdout
    assert "env" in completed.stdout


@pytest.mark.slow
def test_a_server_that_dies_before_ready_fails_fast_with_its_output(tmp_path: Path) -> None:
    """The ready pipe ends when the server exits: the waiter wakes at once and shows why."""
    with pytest.raises(AssertionError, match="exited with 2") as failed:
        ServeProcess(tmp_path, "--workers", "2").start()  # refused without --data-dir
    assert "data-dir" in str(failed.value)
