"""``fal-mock endpoints``, ``fal-mock fetch-openapi`` and ``serve --openapi``: what a user adding endpoints runs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fal_mock.mock_server.catalogue import Catalogue
from fal_mock.mock_server.cli import main

DATA = Path(__file__).parent / "catalogue" / "data"


def test_endpoints_lists_the_bundled_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["endpoints"]) == 0
    out = capsys.readouterr().out
    assert "fal-ai/wizper" in out
    assert "audio_url:audio" in out
    assert "images[]:image" in out
    assert f"{len(Catalogue())} endpoints" in out


def test_endpoints_json_includes_user_documents(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["endpoints", "--json", "--openapi", str(DATA)]) == 0
    rows = {row["id"]: row for row in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["acme/podcast/tts"]["source"].startswith(str(DATA))
    assert rows["acme/scene/to-3d"]["output_media"]
    assert rows["fal-ai/trellis"]["output_media"] == ["model_mesh:model3d"]


def test_endpoints_example_and_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["endpoints", "--example", "fal-ai/flux/dev"]) == 0
    assert "prompt" in json.loads(capsys.readouterr().out)
    assert main(["endpoints", "--example", "fal-ai/flux/deb"]) == 2
    assert "did you mean fal-ai/flux/dev" in capsys.readouterr().err


def test_a_broken_user_document_fails_loudly_naming_file_and_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = json.loads((DATA / "acme__podcast__tts.json").read_text())
    broken["components"]["schemas"]["Broken"] = {"$ref": "#/components/schemas/Nowhere"}
    name = next(n for n in broken["components"]["schemas"] if n.endswith("Output"))
    broken["components"]["schemas"][name]["properties"]["extra"] = {"$ref": "#/components/schemas/Nowhere"}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    assert main(["serve", "--openapi", str(path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err
    assert "Nowhere" in err


@pytest.fixture
def fal_openapi_site() -> Iterator[str]:
    """A loopback server standing in for fal's public OpenAPI URL (``?endpoint_id=<id>``)."""
    documents = {json.loads(p.read_text())["info"]["x-fal-metadata"]["endpointId"]: p.read_bytes()
                 for p in DATA.glob("acme__*.json")}  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            wanted = parse_qs(urlsplit(self.path).query).get("endpoint_id", [""])[0]
            body = documents.get(wanted)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body or b'{"detail": "not found"}')

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/openapi/queue/openapi.json"
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_openapi_writes_documents_that_serve_loads(
    fal_openapi_site: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "docs"
    assert main(["fetch-openapi", "acme/podcast/tts", "acme/sketch-to-image", "--dir", str(target),
                 "--base-url", fal_openapi_site]) == 0  # fmt: skip
    assert sorted(p.name for p in target.iterdir()) == ["acme__podcast__tts.json", "acme__sketch-to-image.json"]
    assert "--openapi" in capsys.readouterr().err
    catalogue = Catalogue([target])
    assert catalogue.get("acme/podcast/tts") is not None


def test_fetch_openapi_reports_an_unknown_id_and_writes_nothing(
    fal_openapi_site: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "docs"
    code = main(["fetch-openapi", "acme/podcast/tts", "acme/nope", "--dir", str(target),
                 "--base-url", fal_openapi_site])  # fmt: skip
    assert code == 2
    assert "acme/nope" in capsys.readouterr().err
    assert not target.exists() or not list(target.iterdir())
