"""The fake model runner: validated input → image → H.264 MP4 → stored output.

Runs on worker threads (never on the event loop): :meth:`Runner.start` hands a
job to the pool as soon as it is submitted; :meth:`Runner.wait` lets any event
loop (the app may be driven from several, e.g. the in-process transport's portal
thread and a test's own loop) await the outcome.  The outcome is written into the
store *before* the future resolves, and ``on_outcome`` is told, so time-driven
progressions can complete the job (and fire its webhook) without anyone polling.

Rendered videos are cached by (endpoint, canonical input, profile, image
digest) — the bytes are a pure function of those — in a small LRU whose size is
``Settings.video_cache_entries``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ..edge.hosts import Bases
from ..files.errors import StorageError
from ..files.store import FileStore, lifecycle_seconds
from ..persistence.memory import StateStore
from ..settings import Settings
from ..video import ImageError, ImageLimits, RenderedVideo, render_video_from_bytes
from .endpoints import Endpoint, EndpointRegistry
from .errors import FalMockError, ModelError, RequestError, entry
from .inputs import InputResolver
from .model import Job, Outcome, VideoRef
from .validation import canonical_json, validate_arguments

OutcomeListener = Callable[[str], None]
log = logging.getLogger("fal_mock.runner")
#: Seconds between looks at the store while another process generates a job this one waits for.
CLAIM_POLL_SECONDS = 0.01


#: The request header with the lifecycle of generated files (``{"expiration_duration_seconds": N}``).
LIFECYCLE_PREFERENCE = "x-fal-object-lifecycle-preference"
#: Largest data URI a job may carry to run inline when its video is already cached.
INLINE_INPUT_BYTES = 64 * 1024


class VideoCache:
    """A bounded LRU of rendered videos (thread-safe)."""

    def __init__(self, entries: int) -> None:
        self._entries = entries
        self._items: OrderedDict[tuple[str, ...], RenderedVideo] = OrderedDict()
        #: How many cached videos each (endpoint, canonical input, profile) has (the key minus the image digest).
        self._inputs: dict[tuple[str, ...], int] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def holds(self, endpoint_id: str, canonical: str, profile: str) -> bool:
        """Whether a video for these inputs is cached (whatever the image digest)."""
        with self._lock:
            return (endpoint_id, canonical, profile) in self._inputs

    def get_or_render(self, key: tuple[str, ...], render: Callable[[], RenderedVideo]) -> RenderedVideo:
        with self._lock:
            cached = self._items.get(key)
            if cached is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return cached
            self.misses += 1
        video = render()
        if self._entries:
            with self._lock:
                if key not in self._items:
                    self._inputs[key[:3]] = self._inputs.get(key[:3], 0) + 1
                self._items[key] = video
                while len(self._items) > self._entries:
                    evicted, _ = self._items.popitem(last=False)
                    left = self._inputs.pop(evicted[:3], 1) - 1
                    if left:
                        self._inputs[evicted[:3]] = left
        return video


class Runner:
    """Executes jobs off the event loop and stores their outcomes."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: StateStore,
        files: FileStore,
        registry: EndpointRegistry,
        resolver: InputResolver,
        threads: int = 2,
    ) -> None:
        self._settings = settings
        self._store = store
        self._files = files
        self._registry = registry
        self._resolver = resolver
        self._cache = VideoCache(settings.video_cache_entries)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fal-mock-runner")
        self._pending: dict[str, concurrent.futures.Future[Outcome]] = {}
        # Re-entrant: a future that is already done runs its done-callback inside start().
        self._lock = threading.RLock()
        self._listeners: list[OutcomeListener] = []
        self._closed = False
        #: Who holds a generation claim in a store shared by processes (``<run id>/<pid>/<runner>``).
        self.owner = f"{store.run_id}/{os.getpid()}/{uuid.uuid4().hex[:12]}"

    @property
    def cache(self) -> VideoCache:
        return self._cache

    def add_listener(self, listener: OutcomeListener) -> None:
        self._listeners.append(listener)

    def start(self, request_id: str) -> concurrent.futures.Future[Outcome] | None:
        """Begin executing a stored job (idempotent while it is pending).

        Returns None when another process holds the job's generation claim (a shared store).
        """
        with self._lock:
            future = self._pending.get(request_id)
            if future is not None:
                return future
        now = time.time()
        if not self._store.claim(request_id, self.owner, now, now + self._settings.generation_lease_seconds):
            return None
        with self._lock:
            future = self._pending.get(request_id)
            if future is None:
                if self._cheap(request_id):
                    future = concurrent.futures.Future()
                    future.set_result(self._run_stored(request_id))
                else:
                    future = self._pool.submit(self._run_stored, request_id)
                self._pending[request_id] = future
                future.add_done_callback(functools.partial(self._forget_future, request_id))
            return future

    def _cheap(self, request_id: str) -> bool:
        """Whether the job's video is already cached and its input is a small data URI.

        Such a job is bookkeeping, not generation (validation, a base64 decode of at most
        ``INLINE_INPUT_BYTES``, storing the cached bytes), so it runs inline rather than
        paying a worker-thread hand-off (about 0.5 ms in-process, measured).  Everything
        else — any real rendering, stored or fetched inputs, big data URIs — goes to the
        pool, so a slow job never stalls the event loop.
        """
        job = self._store.get_job(request_id)
        endpoint = self._registry.get(job.endpoint_id) if job is not None else None
        if job is None or endpoint is None or job.body_error is not None or not isinstance(job.arguments, dict):
            return False
        image_url = job.arguments.get("image_url")
        if not isinstance(image_url, str) or not image_url.startswith("data:") or len(image_url) > INLINE_INPUT_BYTES:
            return False
        try:
            arguments = validate_arguments(endpoint.input_contract, job.arguments)
        except FalMockError:
            return True  # a validation error is cheap to answer
        return self._cache.holds(endpoint.endpoint_id, canonical_json(arguments), self._settings.video_profile)

    def renew_claims(self) -> None:
        """Extend the claims of the jobs this process is generating (called by the app's ticker)."""
        with self._lock:
            pending = list(self._pending)
        self._store.renew_claims(pending, self.owner, time.time() + self._settings.generation_lease_seconds)

    def adopt_orphans(self) -> list[str]:
        """Start every unfinished job without an outcome that no live process generates (after a crash)."""
        adopted = []
        for request_id in self._store.orphans(self._store.run_id, time.time()):
            if self.start(request_id) is not None:
                adopted.append(request_id)
        return adopted

    def _forget_future(self, request_id: str, _future: concurrent.futures.Future[Outcome]) -> None:
        with self._lock:
            self._pending.pop(request_id, None)

    async def wait(self, request_id: str) -> None:
        """Return once the job's outcome is in the store (starting the work if nobody is on it).

        When another process holds the job's claim, look at the store every
        ``CLAIM_POLL_SECONDS`` until its outcome lands (or the claim lapses and this process takes over).
        """
        while True:
            job = self._store.get_job(request_id)
            if job is None or job.final_outcome() is not None:
                return
            future = self.start(request_id)
            if future is not None:
                await asyncio.wrap_future(future)
                return
            await asyncio.sleep(CLAIM_POLL_SECONDS)

    def _run_stored(self, request_id: str) -> Outcome:
        job = self._store.get_job(request_id)
        if job is None:
            raise LookupError(request_id)
        outcome = job.final_outcome()
        if outcome is None:
            try:
                outcome = self.execute(job)
            except Exception as error:  # a bug: the job still completes (with a 500), never stays stuck
                log.exception("fal-mock failed to generate %s", request_id)
                outcome = _failure(RequestError("runner_server_error", f"fal-mock failed to generate: {error!r}"))
        with self._store.transaction():
            current = self._store.get_job(request_id)
            if current is not None and current.outcome is None:
                current.outcome = outcome
                self._store.save_job(current)
        for listener in self._listeners:
            listener(request_id)
        return outcome

    async def run_now(self, job: Job) -> Outcome:
        """Execute ``job`` (not stored) on the pool and await it — the sync ``fal.run`` path."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self.execute, job)

    # --- the work itself (worker thread) -------------------------------------------------
    def execute(self, job: Job) -> Outcome:
        endpoint = self._registry.get(job.endpoint_id)
        if endpoint is None:  # registry changed under a persisted job
            return _failure(RequestError("runner_server_error", f"endpoint {job.endpoint_id} is not served"))
        lines: list[tuple[str, str]] = [
            (f"fal-mock runner picked up {endpoint.endpoint_id} (profile {self._settings.video_profile})", "INFO"),
        ]
        try:
            if job.body_error is not None:
                raise ModelError([entry(["body"], "JSON decode error", "json_invalid", ctx={"error": job.body_error})])
            arguments = validate_arguments(endpoint.input_contract, job.arguments)
            return self._generate(job, endpoint, arguments, lines)
        except FalMockError as error:
            lines.append((f"Request failed: {error.summary()[0]} ({error.summary()[1]})", "ERROR"))
            return _failure(error, lines)
        except StorageError as error:
            lines.append((f"Could not store the output: {error}", "ERROR"))
            return _failure(RequestError("runner_server_error", f"fal-mock storage: {error}"), lines)

    def _generate(
        self, job: Job, endpoint: Endpoint, arguments: dict[str, Any], lines: list[tuple[str, str]]
    ) -> Outcome:
        bases = Bases.from_json(job.bases)
        resolved = self._resolver.resolve(arguments.get("image_url"), field="image_url", own_hosts=_hosts(bases))
        lines.append((f"Loaded image_url: {resolved.description}", "INFO"))
        canonical = canonical_json(arguments)
        profile = self._settings.video_profile
        image_digest = hashlib.sha256(resolved.data).hexdigest()
        limits = ImageLimits(
            max_width=self._settings.max_image_side,
            max_height=self._settings.max_image_side,
            max_pixels=self._settings.max_image_pixels,
            min_width=self._settings.min_image_side,
            min_height=self._settings.min_image_side,
        )
        try:
            video = self._cache.get_or_render(
                (endpoint.endpoint_id, canonical, profile, image_digest),
                lambda: render_video_from_bytes(
                    resolved.data,
                    endpoint_id=endpoint.endpoint_id,
                    canonical_input=canonical,
                    profile=profile,
                    input_fields=arguments,
                    limits=limits,
                ),
            )
        except ImageError as error:
            raise ModelError(
                [
                    entry(
                        ["body", "image_url"],
                        error.msg,
                        error.error_type,
                        ctx=error.ctx,
                        input=arguments.get("image_url"),
                    )
                ]
            ) from error
        lines.append(
            (
                f"Rendered {video.width}x{video.height} H.264 video: {video.frame_count} frames at {video.fps} fps "
                f"({video.duration:g} s, {profile} profile)",
                "INFO",
            )
        )
        inline = endpoint.returns_data_uri(arguments)
        if inline:
            sha = self._files.put_blob(video.data)
            ref = VideoRef(sha, video.size, video.width, video.height, video.fps, video.frame_count, video.duration,
                           None, endpoint.output_file_name, True)  # fmt: skip
            lines.append((f"Returning the video inline as a data URI ({video.size} bytes)", "INFO"))
            result_bytes = (video.size * 4) // 3 + 200
        else:
            lifetime = output_lifetime(job)
            stored = self._files.put(
                video.data, file_name=endpoint.output_file_name, content_type="video/mp4",
                namespace=job.namespace, origin="output",
                expires_at=None if lifetime is None else self._files.now() + lifetime,
            )  # fmt: skip
            ref = VideoRef(stored.sha256, video.size, video.width, video.height, video.fps, video.frame_count,
                           video.duration, stored.key, endpoint.output_file_name, False)  # fmt: skip
            lines.append((f"Uploaded the video to the CDN as {stored.key} ({video.size} bytes)", "INFO"))
            result_bytes = 300
        body = {"video": {"content_type": "video/mp4", "file_name": endpoint.output_file_name, "file_size": video.size}}
        return Outcome(status_code=200, body=body, video=ref, result_bytes=result_bytes, log_lines=lines)

    def release(self, outcome: Outcome | None) -> None:
        """Drop what a job's output held once the job is forgotten (its result expired, was evicted or reset).

        An inline result releases its blob; a URL result deletes its output file, so stored files
        stay bounded by the job caps and retention (fal's CDN keeps files longer than the result
        window — for how long is not documented; the mock ties an output file to its job's result).
        """
        if outcome is None or outcome.video is None:
            return
        if outcome.video.data_uri:
            self._files.release_blob(outcome.video.sha256)
        elif outcome.video.file_key:
            self._files.delete(outcome.video.file_key)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._pool.shutdown(wait=True, cancel_futures=True)


def output_lifetime(job: Job) -> float | None:
    """Seconds a job's generated file lives, from its ``X-Fal-Object-Lifecycle-Preference`` (None: no expiry).

    The JS client sends it for ``storageSettings`` on ``run``/``submit``; the header was
    checked at submit (:func:`.api.queue.build_submit`), so a bad value here means no expiry.
    """
    try:
        return lifecycle_seconds(job.headers.get(LIFECYCLE_PREFERENCE))
    except ValueError:
        return None


def _hosts(bases: Bases) -> set[str]:
    """The mock's own host names for these bases — never fal's: a fal CDN URL the store does not hold
    (a doc example) goes to the image_url policy in-process (host style) just as on a standalone server."""
    from urllib.parse import urlsplit

    from ..edge.hosts import is_fal_host

    hosts = {urlsplit(base).hostname or "" for base in (bases.queue, bases.cdn, bases.rest, bases.run)} - {""}
    return {host for host in hosts if not is_fal_host(host)}


def _failure(error: FalMockError, lines: list[tuple[str, str]] | None = None) -> Outcome:
    payload = error.payload()
    return Outcome(
        status_code=payload.status_code,
        body=payload.body,
        headers=dict(payload.headers),
        error=payload.error,
        error_type=payload.error_type,
        result_bytes=len(json.dumps(payload.body, default=str)),
        log_lines=list(lines or []),
    )


def failure_outcome(error: FalMockError) -> Outcome:
    """The stored outcome of a job that fails with ``error`` (faults, cancels, timeouts)."""
    return _failure(error)
