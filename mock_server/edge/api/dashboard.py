"""The dashboard at ``/_mock/``: one server-rendered HTML page, no build step, no script.

It shows the jobs (newest first, ``Settings.max_dashboard_jobs`` of them) with
their state, endpoint, prompt, input image, logs and — once finished — the output
video playing in a ``<video autoplay muted loop playsinline>``; then the webhook
deliveries with every attempt, and the stored files.  While any shown job is
unfinished the page reloads itself every two seconds (``<meta http-equiv=refresh>``),
so no script runs at all.

Safety: every value that came from a request (prompts, URLs, file names, logs,
error texts) is HTML-escaped, and the page is served with a Content-Security-Policy
that allows no script, so even a missed escape could not run code.  Input images
are only drawn from bytes the mock holds (``data:`` URIs and its own files, served
by ``/_mock/jobs/{id}/input`` as PNG/JPEG/WebP/GIF/BMP only); other URLs are shown
as text and never fetched, so opening the page reaches no other host.

``?namespace=<ns>`` narrows the page to one namespace; ``?token=<token>`` carries
the control token (the links and media URLs on the page repeat it).
"""

from __future__ import annotations

import html
import re
import string
from functools import cache
from importlib.resources import files as package_files
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ...clock import isoformat
from ...control import MockControl
from ...jobs.errors import PlainError
from ...jobs.model import Job
from ...services import MockServices
from ..request_parts import namespace, services
from .control import input_image

REFRESH_SECONDS = 2
NONE_YET = '<span class="empty">none yet</span>'
_NAMESPACE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CSP = (
    "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@cache
def template() -> string.Template:
    text = (package_files("fal_mock.mock_server.edge") / "templates" / "dashboard.html").read_text(encoding="utf-8")
    return string.Template(text)


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


async def page(request: Request) -> Response:
    """The dashboard (HTML): jobs with their input image, logs and output video; webhooks; files."""
    mock = services(request)
    space = request.query_params.get("namespace") or namespace(request) or None
    if space is not None and not _NAMESPACE.match(space):
        raise PlainError(400, "Invalid namespace: use 1-64 characters of A-Z a-z 0-9 . _ -")
    token = request.query_params.get("token")
    root = str(request.scope.get("root_path", "")).rstrip("/")
    body = render(mock, space=space, root=root, token=token)
    body = body.encode("utf-8", "replace").decode("utf-8")  # lone surrogates (older data dirs): never a 500
    return HTMLResponse(body, headers={"content-security-policy": CSP, "referrer-policy": "no-referrer",
                                       "cache-control": "no-store", "x-content-type-options": "nosniff"})  # fmt: skip


def render(mock: MockServices, *, space: str | None, root: str, token: str | None) -> str:
    """The page's HTML for the jobs of ``space`` (None: all), with URLs under ``root`` (the ``/_mock`` mount)."""
    query = ("?" + urlencode({"token": token})) if token else ""
    shown = list(reversed(MockControl(mock).jobs(space)))[: mock.settings.max_dashboard_jobs]
    running = any(not job.finished for job in shown)
    deliveries = mock.webhooks.deliveries(namespace=space)
    stored = mock.files.files(space)
    meta = (
        f"clock {esc(isoformat(mock.clock.now()))} · progression {esc(mock.settings.progression)} · "
        f"video profile {esc(mock.settings.video_profile)} · seed {esc(mock.settings.seed)}"
        + (f" · namespace {esc(space)}" if space else "")
        + f" · {len(shown)} job(s) shown"
        + (f" · refreshing every {REFRESH_SECONDS} s while jobs run" if running else "")
    )
    cards = "".join(_job_card(mock, job, root, query) for job in shown)
    return template().substitute(
        refresh=f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if running else "",
        meta=meta,
        jobs=f'<div class="jobs">{cards}</div>' if cards else '<p class="empty">No jobs yet.</p>',
        webhooks=_webhooks(deliveries),
        files=_files(stored),
    )


def _job_card(mock: MockServices, job: Job, root: str, query: str) -> str:
    rid = esc(job.request_id)
    outcome = job.final_outcome() if job.finished else None
    failed = outcome is not None and not outcome.ok
    state = "FAILED" if failed else job.state.value
    arguments = job.arguments if isinstance(job.arguments, dict) else {}
    image_url = arguments.get("image_url")
    base = f"{root}/jobs/{job.request_id}"
    media = []
    if isinstance(image_url, str) and input_image(mock, image_url) is not None:
        media.append(f'<figure><img class="input" alt="input image of {rid}" src="{esc(base + "/input" + query)}">'
                     "<figcaption>input image</figcaption></figure>")  # fmt: skip
    video = next((f for f in outcome.files if f.content_type.startswith("video/")), None) if outcome else None
    if video is not None:
        width, height = video.facts.get("width", 0), video.facts.get("height", 0)
        media.append(
            f'<figure><video id="video-{rid}" class="output" src="{esc(base + "/video" + query)}" '
            f'width="{esc(width)}" height="{esc(height)}" autoplay muted loop playsinline controls preload="auto">'
            f"</video><figcaption>output {esc(width)}×{esc(height)}, {esc(video.facts.get('frame_count'))} frames "
            f"at {esc(video.facts.get('fps'))} fps</figcaption></figure>"
        )
    details = [
        ("endpoint", job.endpoint_id),
        ("namespace", job.namespace or "(none)"),
        ("progression", job.progression),
        ("mode", job.mode),
        ("submitted", isoformat(job.submitted_at)),
        ("prompt", arguments.get("prompt")),
    ]
    if isinstance(image_url, str) and not any("input" in part for part in media):
        details.append(("image_url", image_url if len(image_url) <= 200 else image_url[:200] + "…"))
    if job.webhook_url:
        details.append(("webhook", job.webhook_url))
    if failed and outcome is not None:
        details.append(("error", f"{outcome.status_code} {outcome.error_type}: {outcome.error}"))
    rows = "".join(f"<dt>{esc(name)}</dt><dd>{esc(value)}</dd>" for name, value in details if value is not None)
    logs = "\n".join(entry["message"] for entry in mock.queue.logs(job))
    return (
        f'<article class="job" id="job-{rid}" data-state="{esc(state)}">'
        f'<header><span class="rid">{rid}</span><span class="state state-{esc(state)}">{esc(state)}</span></header>'
        f'<div class="media">{"".join(media)}</div>'
        f"<dl>{rows}</dl>"
        + (f"<pre>{esc(logs)}</pre>" if logs else "")
        + "</article>"
    )


def _webhooks(deliveries: list[Any]) -> str:
    if not deliveries:
        return '<p class="empty">No webhook deliveries.</p>'
    rows = []
    for delivery in deliveries:
        attempts = "<br>".join(
            f"#{attempt.number} at {esc(isoformat(attempt.at))}: "
            + (f"HTTP {esc(attempt.status_code)}" if attempt.status_code is not None else "no answer")
            + (f' <span class="error">{esc(attempt.error)}</span>' if attempt.error else " delivered")
            for attempt in delivery.attempts
        )
        state = esc(delivery.state) + (" · " + esc(delivery.status) if delivery.status else "")
        rows.append(
            f'<tr><td class="rid">{esc(delivery.request_id)}</td><td>{esc(delivery.url)}</td>'
            f"<td>{state}</td><td>{attempts or NONE_YET}</td></tr>"
        )
    return "<table><tr><th>request</th><th>URL</th><th>state</th><th>attempts</th></tr>" + "".join(rows) + "</table>"


def _files(stored: list[Any]) -> str:
    if not stored:
        return '<p class="empty">No stored files.</p>'
    rows = "".join(
        f"<tr><td>{esc(item.key)}</td><td>{esc(item.content_type)}</td><td>{item.size}</td>"
        f"<td>{esc(item.origin)}</td><td>{esc(item.namespace or '(none)')}</td></tr>"
        for item in sorted(stored, key=lambda f: f.created_at, reverse=True)
    )
    head = "<tr><th>key</th><th>type</th><th>bytes</th><th>origin</th><th>namespace</th></tr>"
    return f"<table>{head}{rows}</table>"
