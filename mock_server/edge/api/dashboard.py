"""The dashboard at ``/_mock/``: one server-rendered HTML page that updates itself in place.

**What it shows** (bounded: the newest ``Settings.max_dashboard_jobs`` jobs, webhook deliveries and
stored files, each list saying how many it leaves out).  The jobs, newest first, with their
state, endpoint, prompt, input image, logs, durations (queued, running, total — "so far" while
unfinished, on the app's clock) and — once finished — the output video playing in a
``<video autoplay muted loop playsinline>``; then the webhook deliveries with every attempt and,
for pending ones, when the next attempt is due; then the stored files.  The header names the
clock, the settings that shape jobs and the server version (``fal_mock.__version__`` when the
package defines it).

**Links.**  Each job links to its JSON (``/_mock/jobs/{id}``), its result (``/_mock/jobs/{id}/result``:
what fal's result URL answers, without counting as the client collecting it), its video
(``/_mock/jobs/{id}/video``), its output files (the CDN URLs) and its webhook deliveries (the
row on this page and ``/_mock/webhooks/{id}``); each delivery links back to its job (the card and
its JSON); each stored file links to its bytes and, for outputs, to the job that made it.
Files whose type a browser could run (anything but images, video and audio) are links with
``download``, never opened on this origin.

**Filters** (query parameters, applied on the server; the form on the page sets them):
``namespace`` (1-64 characters of ``A-Z a-z 0-9 . _ -``; the ``X-Fal-Mock-Namespace`` header
when absent), ``endpoint`` (an endpoint id, exact match, at most :data:`MAX_ENDPOINT_CHARS`
characters) and ``state`` — one of :data:`STATE_FILTERS`, the state *as shown*: a job that
completed with an error shows (and filters) as ``FAILED`` although fal calls it COMPLETED.  An
invalid value is a 400 naming the rule.  The endpoint and state filters narrow the jobs and the
webhook deliveries (to those of matching jobs); files are narrowed by namespace only.

**Updates.**  ``GET /_mock/dashboard.json`` (same parameters) answers the page's parts as
already-escaped HTML fragments, one per job keyed by request id (see :func:`document`).  The
page's script fetches it every :data:`REFRESH_SECONDS` s and patches the job list in place: a
new job is inserted, a changed job gets its header and details replaced, and its media (input
image, output video) only when they changed — so a playing ``<video>`` element is never
re-created and keeps playing.  Polling stops when nothing can change (``live`` is false: no
unfinished job and no pending or sending webhook delivery in the namespace), can be paused
with a button, and resumes on any user action (refresh, filter, job or webhook action).

**Actions.**  Buttons advance, complete (advance until COMPLETED) or fail an unfinished job,
and resend a webhook delivery — through the control API (``POST /_mock/jobs/{id}/advance``,
``/fail``, ``/_mock/webhooks/{id}/resend``), always with ``Content-Type: application/json`` and
``X-Fal-Mock-Control: 1`` so a control API that refuses cross-site requests accepts them.

**Safety.**  Every value that came from a request (prompts, arguments, URLs, endpoint ids, file
names, logs, error texts) is HTML-escaped — strings that cannot be encoded (lone surrogates) are
shown with backslash escapes, and long values are cut at :data:`MAX_VALUE_CHARS` characters.  The
page is served with a Content-Security-Policy whose ``script-src`` admits only the page's own
script, by its SHA-256 hash (no ``'unsafe-inline'``, no nonce: the header is a pure function of
the template), so even a missed escape could not run code.  Input images are only drawn from
bytes the mock holds (``data:`` URIs and its own files, served by ``/_mock/jobs/{id}/input`` as
PNG/JPEG/WebP/GIF/BMP only); other URLs are shown as text and never fetched, so opening the page
reaches no other host.  ``?token=<token>`` carries the control token (links, media URLs and the
script's requests repeat it).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files as package_files
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ...clock import isoformat
from ...control import MockControl
from ...files.store import StoredFile
from ...jobs.errors import PlainError
from ...jobs.model import Job, OutputFile
from ...services import MockServices
from ...webhooks.records import Delivery
from ..request_parts import bases, namespace, services
from .control import IMAGE_TYPES, input_image

#: Seconds between two updates of the page while something can change.
REFRESH_SECONDS = 2
#: The values of the ``state`` filter: the states as the page shows them.
STATE_FILTERS = ("IN_QUEUE", "IN_PROGRESS", "COMPLETED", "FAILED")
#: Longest ``endpoint`` filter accepted.
MAX_ENDPOINT_CHARS = 200
#: Longest value shown in a job's details (longer ones are cut, with an ellipsis).
MAX_VALUE_CHARS = 500
#: Output images and audio files shown per job (besides its first video; the rest are links).
MAX_MEDIA_PER_JOB = 4
#: Webhook delivery states in which something may still happen by itself.
MOVING_DELIVERIES = frozenset({"pending", "sending"})
NONE_YET = '<span class="empty">none yet</span>'
_NAMESPACE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_HEADERS = {"referrer-policy": "no-referrer", "cache-control": "no-store", "x-content-type-options": "nosniff"}


@cache
def template() -> string.Template:
    text = (package_files("fal_mock.mock_server.edge") / "templates" / "dashboard.html").read_text(encoding="utf-8")
    return string.Template(text)


@cache
def csp() -> str:
    """The page's Content-Security-Policy: its own script (by hash) and same-origin requests, nothing else."""
    script = _SCRIPT.search(template().safe_substitute())
    if script is None:  # the template always carries its script; keep the policy strict if it ever does not
        hashes = "'none'"
    else:
        hashes = "'sha256-" + base64.b64encode(hashlib.sha256(script.group(1).encode("utf-8")).digest()).decode() + "'"
    return (
        f"default-src 'none'; script-src {hashes}; connect-src 'self'; img-src 'self'; media-src 'self'; "
        "style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def esc(value: Any) -> str:
    """HTML text of any value (None → ""), lone surrogates shown as backslash escapes."""
    text = "" if value is None else str(value)
    return html.escape(text.encode("utf-8", "backslashreplace").decode("utf-8"), quote=True)


def cut(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


# --- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the page shows: one namespace (None: all), one endpoint, one shown state."""

    namespace: str | None = None
    endpoint: str | None = None
    state: str | None = None

    def params(self) -> dict[str, str]:
        values = {"namespace": self.namespace, "endpoint": self.endpoint, "state": self.state}
        return {key: value for key, value in values.items() if value}

    def wants(self, job: Job) -> bool:
        return (self.endpoint is None or job.endpoint_id == self.endpoint) and (
            self.state is None or shown_state(job) == self.state
        )


def filters_of(request: Request) -> Filters:
    """The filters of a dashboard request (400 naming the rule for an invalid one)."""
    query = request.query_params
    space = query.get("namespace") or namespace(request) or None
    if space is not None and not _NAMESPACE.match(space):
        raise PlainError(400, "Invalid namespace: use 1-64 characters of A-Z a-z 0-9 . _ -")
    endpoint = query.get("endpoint") or None
    if endpoint is not None and (len(endpoint) > MAX_ENDPOINT_CHARS or not endpoint.isprintable()):
        raise PlainError(400, f"Invalid endpoint filter: give an endpoint id of at most {MAX_ENDPOINT_CHARS} "
                              "printable characters")  # fmt: skip
    state = query.get("state") or None
    if state is not None and state not in STATE_FILTERS:
        raise PlainError(400, f"Invalid state filter {state[:40]!r}: use one of {', '.join(STATE_FILTERS)}")
    return Filters(space, endpoint, state)


def shown_state(job: Job) -> str:
    """The state the page shows: fal's, except that a job completed with an error shows as FAILED."""
    outcome = job.final_outcome() if job.finished else None
    return "FAILED" if outcome is not None and not outcome.ok else job.state.value


# --- handlers --------------------------------------------------------------------------------


async def page(request: Request) -> Response:
    """The dashboard (HTML): jobs with links, actions, input image, logs and output video; webhooks; files."""
    mock = services(request)
    filters = filters_of(request)
    body = render(mock, filters=filters, root=_root(request), token=request.query_params.get("token"),
                  cdn=bases(request).cdn)  # fmt: skip
    return HTMLResponse(body, headers={"content-security-policy": csp(), **_HEADERS})


async def data(request: Request) -> Response:
    """The dashboard's parts as JSON (escaped HTML per job), for the page's in-place updates."""
    mock = services(request)
    filters = filters_of(request)
    doc = document(mock, filters=filters, root=_root(request), token=request.query_params.get("token"),
                   cdn=bases(request).cdn)  # fmt: skip
    return Response(json.dumps(doc, ensure_ascii=True), media_type="application/json", headers=_HEADERS)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


# --- the document ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Links:
    """How URLs are written on the page: control routes under ``root`` (with the token), files under ``cdn``."""

    root: str
    cdn: str
    token: str | None

    def control(self, path: str, **params: str) -> str:
        query = {**params, **({"token": self.token} if self.token else {})}
        return self.root + path + ("?" + urlencode(query) if query else "")

    def file(self, key: str) -> str:
        return f"{self.cdn}/files/{quote(key, safe='/')}"


def document(mock: MockServices, *, filters: Filters, root: str, token: str | None, cdn: str) -> dict[str, Any]:
    """Everything the page shows, as escaped HTML fragments (``jobs``: one entry per job, newest first).

    ``live`` says whether anything can still change by itself (an unfinished job or a pending
    webhook delivery in the namespace): the page stops polling when it is false.
    """
    links = _Links(root, cdn, token)
    scoped = MockControl(mock).jobs(filters.namespace)
    matching = [job for job in reversed(scoped) if filters.wants(job)]
    shown = matching[: mock.settings.max_dashboard_jobs]
    deliveries = mock.webhooks.deliveries(namespace=filters.namespace)
    live = any(not job.finished for job in scoped) or any(d.state in MOVING_DELIVERIES for d in deliveries)
    if filters.endpoint or filters.state:
        wanted = {job.request_id for job in matching}
        deliveries = [delivery for delivery in deliveries if delivery.request_id in wanted]
    by_job: dict[str, list[Delivery]] = {}
    for delivery in deliveries:
        by_job.setdefault(delivery.request_id, []).append(delivery)
    now = mock.clock.now()
    stored = mock.files.files(filters.namespace)
    made_by = {item.key: job.request_id for job in scoped for item in _made(job) if item.key}
    version = server_version()
    meta = (
        (f"fal-mock {esc(version)} · " if version else "")
        + f"clock {esc(isoformat(now))} · progression {esc(mock.settings.progression)} · "
        f"video profile {esc(mock.settings.video_profile)} · seed {esc(mock.settings.seed)}"
        + (f" · namespace {esc(filters.namespace)}" if filters.namespace else "")
        + (f" · endpoint {esc(filters.endpoint)}" if filters.endpoint else "")
        + (f" · state {esc(filters.state)}" if filters.state else "")
        + f" · {len(shown)} job(s) shown"
        + (f" of {len(matching)}" if len(matching) > len(shown) else "")
    )
    return {
        "live": live,
        "refresh_seconds": REFRESH_SECONDS,
        "now": now,
        "version": version,
        "filters": filters.params(),
        "options": {
            "endpoint": sorted({job.endpoint_id for job in scoped} | ({filters.endpoint} - {None})),
            "namespace": sorted({job.namespace for job in scoped if job.namespace} | ({filters.namespace} - {None})),
            "state": list(STATE_FILTERS),
        },
        "meta": meta,
        "jobs": [_job(mock, job, links, by_job.get(job.request_id, []), now) for job in shown],
        "webhooks": _webhooks(deliveries, links, now, limit=mock.settings.max_dashboard_jobs),
        "files": _files(stored, links, made_by, limit=mock.settings.max_dashboard_jobs),
    }


def server_version() -> str | None:
    """``fal_mock.__version__`` when the package defines one."""
    import fal_mock

    version = getattr(fal_mock, "__version__", None)
    return str(version) if version else None


def render(mock: MockServices, *, filters: Filters, root: str, token: str | None, cdn: str = "/cdn") -> str:
    """The page's HTML: :func:`document`'s parts in the template, with the filter form and the script's settings."""
    doc = document(mock, filters=filters, root=root, token=token, cdn=cdn)
    cards = "".join(card(job) for job in doc["jobs"])
    return template().substitute(
        meta=doc["meta"],
        filters=_filter_form(doc["options"], filters, token),
        live="1" if doc["live"] else "0",
        refresh=str(REFRESH_SECONDS),
        root=esc(root),
        token=esc(token or ""),
        jobs=cards,
        no_jobs="" if cards else " hidden",
        webhooks=doc["webhooks"],
        files=doc["files"],
    )


def card(job: Mapping[str, Any]) -> str:
    """One job's ``<article>`` from its :func:`document` entry (the script builds the same from JSON).

    Its parts are updated separately (media and action buttons only when their key changes), so an
    update never re-creates a playing video or a button under the pointer.
    """
    return (
        f'<article class="job" id="job-{esc(job["request_id"])}" data-rid="{esc(job["request_id"])}" '
        f'data-state="{esc(job["state"])}" data-sig="{esc(job["sig"])}">'
        f"<header>{job['header']}</header>"
        f'<div class="media" data-key="{esc(job["media_key"])}">{job["media"]}</div>'
        f'<div class="actions" data-key="{esc(job["actions_key"])}">{job["actions"]}</div>'
        f'<div class="body">{job["body"]}</div></article>'
    )


def _filter_form(options: Mapping[str, list[str]], filters: Filters, token: str | None) -> str:
    def select(name: str, label: str, values: list[str], chosen: str | None) -> str:
        items = "".join(
            f'<option value="{esc(value)}"{" selected" if value == chosen else ""}>{esc(value)}</option>'
            for value in values
        )
        return (f'<label>{esc(label)} <select name="{name}" id="filter-{name}"><option value="">all</option>'
                f"{items}</select></label>")  # fmt: skip

    hidden = f'<input type="hidden" name="token" value="{esc(token)}">' if token else ""
    return (
        '<form id="filters" method="get" action="">'
        + select("endpoint", "endpoint", options["endpoint"], filters.endpoint)
        + select("state", "state", options["state"], filters.state)
        + select("namespace", "namespace", options["namespace"], filters.namespace)
        + hidden
        + '<button type="submit" class="apply">apply</button></form>'
    )


def _made(job: Job) -> tuple[OutputFile, ...]:
    """The files a job generated — already stored while an unfinished job waits to report them."""
    return tuple(item for outcome in (job.outcome, job.forced_outcome) if outcome is not None for item in outcome.files)


def duration(seconds: float) -> str:
    """``1.5 s``, ``2 min 05 s``, ``1 h 02 min``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def durations(job: Job, now: float) -> list[tuple[str, str]]:
    """Queued, running and total time of a job on the app's clock ("so far" while it is unfinished)."""
    end = job.completed_at if job.finished and job.completed_at is not None else None
    so_far = "" if end is not None else " so far"
    started = job.started_at if job.started_at is not None and job.state.value != "IN_QUEUE" else None
    queued_until = started if started is not None else end if end is not None else now
    queued = duration(queued_until - job.submitted_at) + ("" if started is not None or end is not None else so_far)
    rows = [("queued", queued)]
    if started is not None:
        rows.append(("running", duration((end if end is not None else now) - started) + so_far))
    rows.append(("total", duration((end if end is not None else now) - job.submitted_at) + so_far))
    return rows


def _job(mock: MockServices, job: Job, links: _Links, deliveries: list[Delivery], now: float) -> dict[str, Any]:
    rid = job.request_id
    outcome = job.final_outcome() if job.finished else None
    failed = outcome is not None and not outcome.ok
    state = shown_state(job)
    arguments = job.arguments if isinstance(job.arguments, dict) else {}
    image_url = arguments.get("image_url")
    base = f"/jobs/{quote(rid, safe='')}"
    media = []
    media_key = []
    if isinstance(image_url, str) and input_image(mock, image_url) is not None:
        source = esc(links.control(base + "/input"))
        media.append(f'<figure><img class="input" alt="input image of {esc(rid)}" src="{source}">'
                     "<figcaption>input image</figcaption></figure>")  # fmt: skip
        media_key.append("input")
    video = next((f for f in outcome.files if f.content_type.startswith("video/")), None) if outcome else None
    if video is not None:
        width, height = video.facts.get("width", 0), video.facts.get("height", 0)
        media.append(
            f'<figure><video id="video-{esc(rid)}" class="output" src="{esc(links.control(base + "/video"))}" '
            f'width="{esc(width)}" height="{esc(height)}" autoplay muted loop playsinline controls preload="auto">'
            f"</video><figcaption>output {esc(width)}×{esc(height)}, {esc(video.facts.get('frame_count'))} frames "
            f"at {esc(video.facts.get('fps'))} fps</figcaption></figure>"
        )
        media_key.append("video:" + video.sha256)
    shown_files = 0
    for index, item in enumerate(outcome.files if outcome is not None else ()):
        mime = item.content_type.split(";")[0].strip().lower()
        if item is video or shown_files >= MAX_MEDIA_PER_JOB or not (mime in IMAGE_TYPES or mime.startswith("audio/")):
            continue
        source = esc(links.control(f"{base}/files/{index}"))
        label = esc(cut(item.file_name))
        if mime.startswith("audio/"):
            media.append(f'<figure><audio class="output" src="{source}" controls preload="none"></audio>'
                         f"<figcaption>{label}</figcaption></figure>")  # fmt: skip
        else:
            size = f"{esc(item.facts.get('width', ''))}×{esc(item.facts.get('height', ''))}"
            media.append(f'<figure><img class="output" alt="{label}" src="{source}" loading="lazy">'
                         f"<figcaption>{label} {size}</figcaption></figure>")  # fmt: skip
        media_key.append(f"file:{item.sha256}")
        shown_files += 1
    details: list[tuple[str, Any]] = [
        ("endpoint", job.endpoint_id),
        ("namespace", job.namespace or "(none)"),
        ("progression", job.progression),
        ("mode", job.mode),
        ("submitted", isoformat(job.submitted_at)),
        *durations(job, now),
        ("prompt", arguments.get("prompt")),
    ]
    if not isinstance(job.arguments, dict) and job.arguments is not None:
        details.append(("arguments", job.arguments))
    if job.body_error:
        details.append(("body error", job.body_error))
    if isinstance(image_url, str) and "input" not in media_key:
        details.append(("image_url", image_url))
    if job.webhook_url:
        details.append(("webhook", job.webhook_url))
    if failed and outcome is not None:
        details.append(("error", f"{outcome.status_code} {outcome.error_type}: {outcome.error}"))
    rows = "".join(f"<dt>{esc(name)}</dt><dd>{esc(cut(value))}</dd>" for name, value in details if value is not None)
    job_links = [f'<a class="json" href="{esc(links.control(base))}">JSON</a>']
    if job.finished:
        job_links.append(f'<a class="result" href="{esc(links.control(base + "/result"))}">result</a>')
    if video is not None:
        job_links.append(f'<a class="video" href="{esc(links.control(base + "/video"))}">video</a>')
    for item in outcome.files if outcome is not None else ():
        if item.key:
            job_links.append(_file_link(item.key, item.content_type, links, label=item.file_name, kind="output"))
    for delivery in deliveries:
        job_links.append(f'<a class="webhook" href="#delivery-{esc(delivery.id)}">webhook {esc(delivery.state)}</a>')
    actions = ""
    if not job.finished:
        ns = f' data-ns="{esc(job.namespace)}"' if job.namespace else ""
        actions = "".join(
            f'<button type="button" data-action="{name}" data-id="{esc(rid)}"{ns}>{name}</button>'
            for name in ("advance", "complete", "fail")
        )
    logs = "\n".join(str(entry.get("message", "")) for entry in mock.queue.logs(job))
    body = f'<nav class="links">{" · ".join(job_links)}</nav><dl>{rows}</dl>' + (
        f"<pre>{esc(logs)}</pre>" if logs else ""
    )
    header = f'<span class="rid">{esc(rid)}</span><span class="state state-{esc(state)}">{esc(state)}</span>'
    sig = hashlib.sha256((header + "\0" + body).encode("utf-8", "backslashreplace")).hexdigest()[:16]
    return {
        "request_id": rid,
        "state": state,
        "finished": job.finished,
        "namespace": job.namespace,
        "endpoint_id": job.endpoint_id,
        "sig": sig,
        "header": header,
        "media_key": " ".join(media_key),
        "media": "".join(media),
        "actions_key": "moves" if actions else "",
        "actions": actions,
        "body": body,
    }


def _file_link(key: str, content_type: str, links: _Links, *, label: str, kind: str) -> str:
    """A link to a stored file's bytes; types a browser could run on this origin are downloaded, not opened."""
    mime = content_type.split(";")[0].strip().lower()
    viewable = mime in IMAGE_TYPES or mime.startswith(("video/", "audio/"))
    return (f'<a class="{kind}" href="{esc(links.file(key))}" rel="noopener noreferrer"'
            f'{"" if viewable else " download"}>{esc(cut(label))}</a>')  # fmt: skip


def _shown(count: int, total: int) -> str:
    return f'<p class="empty">the newest {count} of {total} shown</p>' if total > count else ""


def _webhooks(deliveries: list[Delivery], links: _Links, now: float, *, limit: int) -> str:
    rows = []
    for delivery in deliveries[-limit:] if limit > 0 else ():
        attempts = "<br>".join(
            f"#{attempt.number} at {esc(isoformat(attempt.at))}: "
            + (f"HTTP {esc(attempt.status_code)}" if attempt.status_code is not None else "no answer")
            + (f' <span class="error">{esc(attempt.error)}</span>' if attempt.error else " delivered")
            for attempt in delivery.attempts
        )
        state = esc(delivery.state) + (" · " + esc(delivery.status) if delivery.status else "")
        if delivery.state == "pending" and delivery.next_attempt_at is not None:
            wait = delivery.next_attempt_at - now
            state += (f'<br><span class="next">next attempt {esc(isoformat(delivery.next_attempt_at))} '
                      f"({'due now' if wait <= 0 else 'in ' + duration(wait)})</span>")  # fmt: skip
        if delivery.resend_of:
            state += f'<br>resend of <a href="#delivery-{esc(delivery.resend_of)}">{esc(delivery.resend_of)}</a>'
        rid = delivery.request_id
        job_cell = (f'<a class="job-link" href="#job-{esc(rid)}">{esc(rid)}</a> '
                    f'(<a href="{esc(links.control("/jobs/" + quote(rid, safe="")))}">JSON</a>)')  # fmt: skip
        ns = f' data-ns="{esc(delivery.namespace)}"' if delivery.namespace else ""
        rows.append(
            f'<tr id="delivery-{esc(delivery.id)}" data-state="{esc(delivery.state)}">'
            f'<td class="rid"><a href="{esc(links.control("/webhooks/" + quote(delivery.id, safe="")))}">'
            f'{esc(delivery.id)}</a></td><td class="rid">{job_cell}</td><td>{esc(delivery.url)}</td>'
            f"<td>{state}</td><td>{attempts or NONE_YET}</td>"
            f'<td><button type="button" data-action="resend" data-id="{esc(delivery.id)}"{ns}>resend</button></td></tr>'
        )
    if not rows:
        return '<p class="empty">No webhook deliveries.</p>'
    head = "<tr><th>delivery</th><th>request</th><th>URL</th><th>state</th><th>attempts</th><th></th></tr>"
    return f"<table>{head}{''.join(rows)}</table>" + _shown(len(rows), len(deliveries))


def _files(stored: list[StoredFile], links: _Links, made_by: Mapping[str, str], *, limit: int) -> str:
    if not stored:
        return '<p class="empty">No stored files.</p>'
    rows = []
    for item in sorted(stored, key=lambda f: f.created_at, reverse=True)[: max(0, limit)]:
        rid = made_by.get(item.key)
        job = f'<a class="job-link" href="#job-{esc(rid)}">{esc(rid)}</a>' if rid else ""
        rows.append(
            f"<tr><td>{_file_link(item.key, item.content_type, links, label=item.key, kind='file')}</td>"
            f"<td>{esc(item.content_type)}</td><td>{esc(item.size)}</td><td>{esc(item.origin)}</td>"
            f'<td>{esc(item.namespace or "(none)")}</td><td class="rid">{job}</td></tr>'
        )
    head = "<tr><th>key</th><th>type</th><th>bytes</th><th>origin</th><th>namespace</th><th>job</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>" + _shown(len(rows), len(stored))
