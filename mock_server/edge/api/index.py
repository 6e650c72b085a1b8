"""The front door: ``GET /`` and ``GET /_mock`` on a server answer a small index instead of a 404.

What a newcomer who opens the server's URL needs: what this is, where the dashboard, the control
API (and its OpenAPI document), the health check and the queue's OpenAPI document are, which
endpoints are served, how jobs progress, and how to point the Python client at it.  A browser
gets HTML; a client that asks for JSON (``Accept: application/json``, or ``?format=json``) gets
the same facts as JSON.  Public (no key, no control token): it holds only links, endpoint ids and
the progression — nothing of any job.  Links are built from the address the request came in on
(``root_path`` included), like every URL the mock hands out.
"""

from __future__ import annotations

import html
import urllib.parse
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from ..request_parts import services

#: How many endpoint ids the HTML lists before "and N more" (the JSON lists them all).
SHOWN_ENDPOINTS = 20


def facts(request: Request) -> dict[str, Any]:
    """The index as data: links (absolute URLs), served endpoints, progression and the client hint."""
    mock = services(request)
    root = str(request.base_url).rstrip("/").removesuffix("/_mock")  # base_url carries root_path
    endpoints = mock.registry.ids()
    first = urllib.parse.quote(endpoints[0], safe="/") if endpoints else "<owner>/<alias>"
    return {
        "service": "fal-mock",
        "description": "An offline, faithful stand-in for the fal.ai model API.",
        "links": {
            "dashboard": f"{root}/_mock/",
            "control_api": f"{root}/_mock/openapi.json",
            "health": f"{root}/_mock/health",
            "settings": f"{root}/_mock/settings",
            "endpoint_openapi": f"{root}/queue/openapi.json?endpoint_id={first}",
            "queue": f"{root}/queue",
            "run": f"{root}/run",
            "rest": f"{root}/rest",
            "cdn": f"{root}/cdn",
            "proxy": f"{root}/proxy",
        },
        "endpoints": endpoints,
        "progression": mock.settings.progression,
        "python_client": 'eval "$(fal-mock env --ready-file FILE)" or fal-mock run --ready-file FILE -- python app.py',
    }


def _wants_json(request: Request) -> bool:
    if request.query_params.get("format") == "json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


async def page(request: Request) -> Response:
    data = facts(request)
    if _wants_json(request):
        return JSONResponse(data)
    links = "".join(
        f'<li><a href="{html.escape(url)}">{html.escape(name.replace("_", " "))}</a> '
        f"<code>{html.escape(url)}</code></li>"
        for name, url in data["links"].items()
    )
    endpoints = data["endpoints"]
    shown = "".join(f"<li><code>{html.escape(endpoint)}</code></li>" for endpoint in endpoints[:SHOWN_ENDPOINTS])
    more = f"<li>and {len(endpoints) - SHOWN_ENDPOINTS} more</li>" if len(endpoints) > SHOWN_ENDPOINTS else ""
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>fal-mock</title></head><body>"
        f"<h1>fal-mock</h1><p>{html.escape(data['description'])} Jobs progress: "
        f"<code>{html.escape(data['progression'])}</code>.</p>"
        f"<h2>Links</h2><ul>{links}</ul>"
        f"<h2>Served endpoints ({len(endpoints)})</h2><ul>{shown}{more}</ul>"
        f"<h2>Python client</h2><p><code>{html.escape(data['python_client'])}</code></p>"
        "</body></html>"
    )
    return HTMLResponse(body)
