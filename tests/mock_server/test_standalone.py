"""Standalone mode: ``fal-mock env``/``run`` and the start-up hook point an unmodified ``fal_client`` at the mock.

The slow tests run a user's script — ``fal_client`` uploads, submit, subscribe, run, status, result and
cancel, sync and async, plus an httpx download — in a child process whose sockets refuse any DNS lookup
or connection beyond loopback (:data:`NETWORK_GUARD`, a ``sitecustomize`` the hook chains to).
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fal_mock.mock_server.cli import main
from fal_mock.mock_server.standalone import (
    BOOT_DIR,
    StandaloneError,
    client_environment,
    python_path,
    write_trust_bundle,
)

from tests.support import ServeProcess

#: A sitecustomize that makes every DNS lookup or connection beyond loopback fail loudly, and records it
#: in $NETWORK_GUARD_LOG (so a client that swallows the error still fails the test).
NETWORK_GUARD = r'''
import ipaddress, os, socket

LOG = os.environ["NETWORK_GUARD_LOG"]


def _loopback(host):
    if isinstance(host, bytes):
        host = host.decode()
    if host is None or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what):
    with open(LOG, "a") as log:
        log.write(what + "\n")
    raise RuntimeError("network guard: " + what)


_getaddrinfo = socket.getaddrinfo
_gethostbyname = socket.gethostbyname
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def getaddrinfo(host, *args, **kwargs):
    if not _loopback(host):
        _refuse(f"DNS lookup of {host!r}")
    return _getaddrinfo(host, *args, **kwargs)


def gethostbyname(host):
    if not _loopback(host):
        _refuse(f"DNS lookup of {host!r}")
    return _gethostbyname(host)


def _check(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
        _refuse(f"connection to {address!r}")


def connect(self, address):
    _check(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


socket.getaddrinfo = getaddrinfo
socket.gethostbyname = gethostbyname
socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
'''

#: An unmodified user script: every storage and queue call of fal_client, sync and async.
USER_SCRIPT = r'''
import asyncio, io, json, sys, tempfile

import fal_client
import httpx
from PIL import Image

MINIMAX = "fal-ai/minimax-video/image-to-video"


def picture(colour):
    image = Image.new("RGB", (64, 48), colour)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return image, out.getvalue()


def sync_flow(report):
    image, data = picture((200, 40, 40))
    with tempfile.NamedTemporaryFile(suffix=".png", delete=False) as handle:
        handle.write(data)
    uploads = [fal_client.upload_file(handle.name), fal_client.upload(data, "image/png"),
               fal_client.upload_image(image)]
    report["uploads"] = uploads
    report["uploaded"] = [httpx.get(url).content == data for url in uploads[:2]]
    args = {"prompt": "a cat walks", "image_url": uploads[0]}
    report["subscribe"] = fal_client.subscribe(MINIMAX, args, with_logs=True)["video"]["url"]
    report["run"] = fal_client.run(MINIMAX, {**args, "image_url": uploads[1]})["video"]["url"]
    handle = fal_client.submit(MINIMAX, {**args, "image_url": uploads[2]})
    report["status"] = type(fal_client.status(MINIMAX, handle.request_id)).__name__
    report["result"] = fal_client.result(MINIMAX, handle.request_id)["video"]["url"]
    doomed = fal_client.submit(MINIMAX, args)
    fal_client.cancel(MINIMAX, doomed.request_id)
    report["cancelled"] = getattr(fal_client.status(MINIMAX, doomed.request_id), "error_type", None)
    report["video_head"] = httpx.get(report["run"]).content[4:8].decode()


async def async_flow(report):
    image, data = picture((40, 200, 40))
    with tempfile.NamedTemporaryFile(suffix=".png", delete=False) as handle:
        handle.write(data)
    uploads = [await fal_client.upload_file_async(handle.name), await fal_client.upload_async(data, "image/png"),
               await fal_client.upload_image_async(image)]
    report["uploads"] = uploads
    async with httpx.AsyncClient() as http:
        report["uploaded"] = [(await http.get(url)).content == data for url in uploads[:2]]
    args = {"prompt": "a dog runs", "image_url": uploads[0]}
    report["subscribe"] = (await fal_client.subscribe_async(MINIMAX, args, with_logs=True))["video"]["url"]
    report["run"] = (await fal_client.run_async(MINIMAX, {**args, "image_url": uploads[1]}))["video"]["url"]
    handle = await fal_client.submit_async(MINIMAX, {**args, "image_url": uploads[2]})
    report["status"] = type(await fal_client.status_async(MINIMAX, handle.request_id)).__name__
    report["result"] = (await fal_client.result_async(MINIMAX, handle.request_id))["video"]["url"]
    doomed = await fal_client.submit_async(MINIMAX, args)
    await fal_client.cancel_async(MINIMAX, doomed.request_id)
    report["cancelled"] = getattr(await fal_client.status_async(MINIMAX, doomed.request_id), "error_type", None)


report = {"sync": {}, "async": {}}
sync_flow(report["sync"])
asyncio.run(async_flow(report["async"]))
json.dump(report, sys.stdout)
'''


def guarded(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose Python children run :data:`NETWORK_GUARD` at start-up, and its log."""
    guard_dir = tmp_path / "guard"
    guard_dir.mkdir()
    (guard_dir / "sitecustomize.py").write_text(NETWORK_GUARD)
    log = tmp_path / "network.log"
    log.write_text("")
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("FAL_", "SSL_CERT"))}
    environment.update({"PYTHONPATH": str(guard_dir), "NETWORK_GUARD_LOG": str(log)})
    return environment, log


# --- the environment --------------------------------------------------------------------------------------------


def test_client_environment_names_the_mock_and_puts_the_hook_first() -> None:
    environment = client_environment(
        "https://127.0.0.1:8443/", ssl_cert_file="/t/bundle.pem", key="k:s", existing_python_path="/a:/b"
    )
    assert environment == {
        "FAL_KEY": "k:s",
        "FAL_RUN_HOST": "127.0.0.1:8443/run",
        "FAL_QUEUE_RUN_HOST": "127.0.0.1:8443/queue",
        "FAL_MOCK_URL": "https://127.0.0.1:8443",
        "SSL_CERT_FILE": "/t/bundle.pem",
        "PYTHONPATH": os.pathsep.join([BOOT_DIR, "/a", "/b"]),
    }
    assert python_path(os.pathsep.join([BOOT_DIR, "/a"])) == os.pathsep.join([BOOT_DIR, "/a"])  # once
    assert os.listdir(BOOT_DIR) in (["sitecustomize.py"], ["sitecustomize.py", "__pycache__"],
                                    ["__pycache__", "sitecustomize.py"])  # fmt: skip


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(StandaloneError, match=r"must look like https://127\.0\.0\.1:8443"):
        client_environment("127.0.0.1:8443")


def test_env_output_evaluates_in_a_shell_to_the_client_environment(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    ready.write_text(json.dumps({"url": "https://127.0.0.1:4443", "ca_file": "/x/ca.pem", "ca_bundle": "/x/b.pem"}))
    done = subprocess.run(
        [sys.executable, "-m", "fal_mock.mock_server", "env", "--ready-file", str(ready)],
        capture_output=True, text=True, check=True, env={**os.environ, "FAL_KEY": ""},
    )  # fmt: skip
    shell = f'PYTHONPATH=/mine; {done.stdout}\nprintf "%s\\n" "$FAL_KEY" "$FAL_MOCK_URL" "$SSL_CERT_FILE" "$PYTHONPATH"'
    values = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, check=True).stdout.splitlines()
    assert values == ["fal-mock-key:fal-mock-secret", "https://127.0.0.1:4443", "/x/b.pem", f"{BOOT_DIR}:/mine"]


def test_env_and_run_without_a_ready_file_say_how_to_make_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "nope.json")
    assert main(["env", "--ready-file", missing]) == 2
    assert main(["run", "--ready-file", missing, "--", "true"]) == 2
    assert main(["run", "--url", "https://127.0.0.1:1"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert errors[0] == errors[1].replace("fal-mock run", "fal-mock env")
    assert f"start the server first (fal-mock serve --tls --ready-file {missing})" in errors[0]
    assert errors[2].startswith("fal-mock run: give the command after --")


# --- the trust bundle ---------------------------------------------------------------------------------------------


def test_the_trust_bundle_keeps_the_usual_roots_and_adds_the_mocks_ca(tmp_path: Path) -> None:
    import certifi
    import trustme

    ca_file = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    bundle = write_trust_bundle(str(ca_file), str(tmp_path / "bundle.pem"), roots=[certifi.where()])
    roots = ssl.create_default_context(cafile=certifi.where()).cert_store_stats()["x509_ca"]
    assert ssl.create_default_context(cafile=bundle).cert_store_stats()["x509_ca"] == roots + 1
    assert Path(bundle).read_text().rstrip().endswith(ca_file.read_text().rstrip())
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(StandaloneError, match="not a PEM certificate"):
        write_trust_bundle(str(tmp_path / "junk.pem"), str(tmp_path / "b2.pem"))


# --- the start-up hook --------------------------------------------------------------------------------------------

PROBE = (
    "import sys; before = 'fal_client' in sys.modules; import fal_client.client as c; "
    "print(before, c.REST_URL, c.CDN_URL, c.RUN_URL_FORMAT, c.QUEUE_URL_FORMAT, c.REALTIME_URL_FORMAT)"
)


def _probe(environment: dict[str, str]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=environment, check=True)
    return done.stdout.split()


def test_the_hook_points_fal_client_at_the_mock_only_when_asked(tmp_path: Path) -> None:
    environment, _ = guarded(tmp_path)
    hooked = {**environment, "PYTHONPATH": python_path(environment["PYTHONPATH"])}
    assert _probe({**hooked, "FAL_MOCK_URL": "https://127.0.0.1:8443"}) == [
        "False",  # the hook imported nothing at start-up
        "https://127.0.0.1:8443/rest",
        "https://127.0.0.1:8443/cdn",
        "https://127.0.0.1:8443/run/",
        "https://127.0.0.1:8443/queue/",
        "wss://127.0.0.1:8443/run/",
    ]
    untouched = ["False", "https://rest.fal.ai", "https://v3.fal.media", "https://fal.run/", "https://queue.fal.run/"]
    assert _probe(hooked)[:5] == untouched  # on PYTHONPATH, but no FAL_MOCK_URL: nothing happens
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=False,
                          env={**hooked, "FAL_MOCK_URL": "127.0.0.1:8443"})  # fmt: skip
    assert done.stdout.split()[:5] == untouched
    assert "start-up hook disabled: FAL_MOCK_URL must be an http(s) URL" in done.stderr


def test_the_hook_runs_the_sitecustomize_it_shadows(tmp_path: Path) -> None:
    shadowed = tmp_path / "theirs"
    shadowed.mkdir()
    (shadowed / "sitecustomize.py").write_text("import builtins; builtins.THEIRS = 'ran'\n")
    environment = {**os.environ, "PYTHONPATH": python_path(str(shadowed)), "FAL_MOCK_URL": "http://127.0.0.1:1"}
    done = subprocess.run([sys.executable, "-c", "print(THEIRS)"], capture_output=True, text=True, env=environment,
                          check=True)  # fmt: skip
    assert done.stdout.strip() == "ran"


def test_the_network_guard_catches_a_request_beyond_loopback(tmp_path: Path) -> None:
    """The guard of the slow tests is not a no-op: a lookup of fal's storage host is refused and logged."""
    environment, log = guarded(tmp_path)
    done = subprocess.run([sys.executable, "-c", "import httpx; httpx.get('https://rest.fal.ai/')"],
                          capture_output=True, text=True, env=environment, check=False)  # fmt: skip
    assert done.returncode != 0
    assert "network guard: DNS lookup of 'rest.fal.ai'" in done.stderr
    assert log.read_text() == "DNS lookup of 'rest.fal.ai'\n"


# --- end to end, nothing leaves the machine ------------------------------------------------------------------------


def _check_report(report: dict[str, dict[str, object]], url: str) -> None:
    for flavour in ("sync", "async"):
        flow = report[flavour]
        uploads = flow["uploads"]
        assert isinstance(uploads, list)
        assert all(str(upload).startswith(url + "/cdn/files/") for upload in uploads), uploads
        assert flow["uploaded"] == [True, True]
        for name in ("subscribe", "run", "result"):
            assert str(flow[name]).startswith(url + "/cdn/files/"), (flavour, name, flow[name])
        assert flow["status"] == "Queued"
        assert flow["cancelled"] == "client_cancelled"
    assert report["sync"]["video_head"] == "ftyp"


@pytest.mark.slow
def test_fal_mock_run_keeps_an_unmodified_script_on_the_mock(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(USER_SCRIPT)
    environment, log = guarded(tmp_path)
    with ServeProcess(tmp_path, "--tls", "--progression", "polls:2", "--no-access-log") as server:
        ready = tmp_path / "ready.json"
        ready.write_text(json.dumps(server.info))
        done = subprocess.run(
            [sys.executable, "-m", "fal_mock.mock_server", "run", "--ready-file", str(ready), "--",
             sys.executable, str(script)],
            capture_output=True, text=True, env=environment, timeout=300, check=False,
        )  # fmt: skip
        assert log.read_text() == "", done.stderr[-3000:]
        assert done.returncode == 0, done.stderr[-3000:]
        with httpx.Client(verify=ssl.create_default_context(cafile=server.ca_file)) as http:
            files = http.get(server.url + "/_mock/files").json()["files"]
    _check_report(json.loads(done.stdout), server.url)
    assert sum(1 for item in files if item["origin"] == "upload") == 6


@pytest.mark.slow
def test_the_server_fixtures_env_keeps_a_subprocess_on_the_mock(
    tmp_path: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``fal_mock_server.env`` alone (what the README's example merges into os.environ) is enough."""
    (pytester.path / "app.py").write_text(USER_SCRIPT)
    environment, log = guarded(tmp_path)
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def fal_mock_server_settings():
            return {"progression": "polls:2"}
        """
    )
    pytester.makepyfile(
        test_child=f"""
        import json, os, subprocess, sys

        def test_child(fal_mock_server):
            env = {{**os.environ, **fal_mock_server.env}}
            done = subprocess.run([sys.executable, "app.py"], env=env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr[-3000:]
            assert open({str(log)!r}).read() == "", done.stderr[-3000:]
            report = json.loads(done.stdout)
            assert report["sync"]["video_head"] == "ftyp"
            assert all(url.startswith(fal_mock_server.cdn_url) for url in report["async"]["uploads"])
            assert len(fal_mock_server.jobs) == 8  # in this test's namespace (uploads by CDN token have none)
            assert [r.kind for r in fal_mock_server.requests].count("token") == 2  # sync and async client
        """
    )
    for name in ("PYTHONPATH", "NETWORK_GUARD_LOG"):
        monkeypatch.setenv(name, environment[name])
    monkeypatch.delenv("FAL_MOCK_SERVER_DIR", raising=False)  # its own server, not this run's shared one
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q",
                                           "-o", "markers=slow", "--override-ini=addopts=")  # fmt: skip
    result.assert_outcomes(passed=1)
