"""The official JavaScript client's storage (``@fal-ai/client``) against ``fal-mock serve`` in a subprocess.

``tests/js/storage.mjs`` runs ``fal.storage.upload(new Blob(...))`` (single PUT and, over 90 MiB,
multipart), and ``fal.subscribe`` with a ``Blob`` as ``image_url`` (the client uploads it itself),
through the ``fetch`` override and through ``proxyUrl: {url: <base>/proxy, when: "always"}``. It
prints what it observed, including every request it made; the tests here assert on that.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.mock_server.edge.api.test_uploads import first_frame_psnr
from tests.support import Facts, ServeProcess, node_checks, png_bytes, require_node

pytestmark = [pytest.mark.node, pytest.mark.slow]
MODES = ["fetch", "proxy"]
PNG = png_bytes((160, 96), (30, 150, 60))
MiB = 1024 * 1024



@pytest.fixture(scope="module")
def js_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Facts, str]]:
    require_node()
    workdir: Path = tmp_path_factory.mktemp("fal-mock-js-storage")
    image = workdir / "input.png"
    image.write_bytes(PNG)
    # Two 91 MiB multipart uploads must fit next to everything else.
    with ServeProcess(workdir, "--progression", "immediate", "--no-access-log",
                      "--set", f"max_store_bytes={400 * MiB}") as server:  # fmt: skip
        yield node_checks("storage.mjs", server.url, "fal-mock-key:fal-mock-secret", str(image)), server.url


def fact(js_run: tuple[Facts, str], mode: str, check: str) -> dict[str, Any]:
    found = js_run[0].get((mode, check))
    assert found is not None, f"storage.mjs printed nothing for {mode}/{check}"
    assert found["ok"], (found.get("error"), found.get("body"))
    assert found["redirects"] == 0
    return found


def initiate_calls(seen: dict[str, Any], mode: str, kind: str) -> list[dict[str, Any]]:
    """The client's initiate requests: on the REST prefix (fetch override) or through the proxy."""
    if mode == "fetch":
        return [r for r in seen["requests"] if r["path"] == f"/rest/storage/upload/{kind}"]
    target = f"https://rest.fal.ai/storage/upload/{kind}?storage_type=fal-cdn-v3"
    return [r for r in seen["requests"] if r["path"] == "/proxy" and (r["target"] or "").startswith(target)]


@pytest.mark.parametrize("mode", MODES)
def test_storage_upload_of_a_blob(js_run: tuple[Facts, str], mode: str) -> None:
    base = js_run[1]
    for check, content_type in (("upload_text", "text/plain"), ("upload_png", "image/png")):
        seen = fact(js_run, mode, check)
        assert seen["same"]
        assert seen["status"] == 200
        assert seen["contentType"] == content_type
        assert re.fullmatch(rf"{re.escape(base)}/cdn/files/[a-z]+/[A-Za-z0-9_-]{{21}}_\d+\.(plain|png)", seen["url"])
        assert len(initiate_calls(seen, mode, "initiate")) == 1
        puts = [r for r in seen["requests"] if r["method"] == "PUT"]
        assert len(puts) == 1
        assert puts[0]["path"].startswith("/cdn/files/upload/")
        assert not puts[0]["authorization"]  # the upload URL is signed: the client sends no credentials


@pytest.mark.parametrize("mode", MODES)
def test_subscribe_with_a_blob_uploads_it(js_run: tuple[Facts, str], mode: str) -> None:
    seen = fact(js_run, mode, "subscribe_blob")
    assert len(initiate_calls(seen, mode, "initiate")) == 1  # transformInput uploaded the Blob
    video = seen["video"]
    assert video["url"].startswith(f"{js_run[1]}/cdn/files/")
    served = httpx.get(video["url"])
    assert served.status_code == 200
    assert len(served.content) == video["file_size"]
    assert first_frame_psnr(served.content, PNG) >= 40.0  # the video starts with the uploaded picture


@pytest.mark.parametrize("mode", MODES)
def test_multipart_upload_over_90_mib(js_run: tuple[Facts, str], mode: str) -> None:
    seen = fact(js_run, mode, "upload_multipart")
    assert seen["same"]
    assert seen["servedSize"] == seen["size"]
    assert len(initiate_calls(seen, mode, "initiate-multipart")) == 1
    parts = [r for r in seen["requests"] if r["method"] == "PUT"]
    assert len(parts) == -(-seen["size"] // (10 * MiB))
    assert [int(r["path"].rsplit("/", 1)[1]) for r in parts] == list(range(1, len(parts) + 1))
    completes = [r for r in seen["requests"] if r["method"] == "POST" and r["path"].endswith("/complete")]
    assert len(completes) == 1
    assert all(r["query"].startswith("?") and "signature=" in r["query"] for r in [*parts, *completes])
