"""Settings of one mock app: behaviour switches and every limit, with defaults.

A :class:`Settings` is frozen; make variants with :meth:`Settings.replace`.  The
CLI, the environment (``FAL_MOCK_<FIELD>``) and the pytest marker all end up
calling :meth:`Settings.from_mapping`, which coerces text values and rejects
unknown names with a message that lists the known ones.

Every limit the mock enforces lives here; the README's limits table is the
documentation of the ``*_bytes``/``max_*``/``*_seconds`` fields below.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KiB = 1024
MiB = 1024 * KiB

VIDEO_PROFILES = ("preview", "realistic")
AUTH_MODES = ("format", "keys", "off")
IMAGE_URL_POLICIES = ("placeholder", "fetch", "error")
CLOCK_MODES = ("system", "manual")

_POLLS = re.compile(r"^polls:([1-9][0-9]{0,5})$")


def check_progression(value: str) -> str:
    """Return ``value`` if it names a progression mode, else raise ValueError."""
    if value in ("immediate", "realistic", "manual") or _POLLS.match(value):
        return value
    raise ValueError(f"unknown progression {value!r}: use 'immediate', 'polls:N' (N >= 1), 'realistic' or 'manual'")


def polls_per_step(progression: str) -> int | None:
    """N of a ``polls:N`` progression, else None."""
    match = _POLLS.match(progression)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Settings:
    """Everything that shapes one mock app. Defaults are what ``create_app()`` uses."""

    # --- behaviour -------------------------------------------------------------------
    #: Seed of every generated id, key, motion plan and timing (secrets mix in the server secret: ``signing_secret``).
    seed: int = 0
    #: Job progression: immediate | polls:N | realistic | manual (per request: ``X-Fal-Mock-Progression``).
    progression: str = "immediate"
    #: Video profile: preview (small, fast) or realistic (the models' real sizes and lengths).
    video_profile: str = "preview"
    #: Authorization check: format (any well-formed key), keys (only ``keys``), off.
    auth: str = "format"
    #: Accepted keys when ``auth == "keys"`` (``key_id:key_secret`` strings or bearer tokens).
    keys: tuple[str, ...] = ()
    #: Reject invalid input at submit with the 422 instead of completing the job with it.
    strict_submit: bool = False
    #: Validate every JSON response against its contract before it leaves (a violation is a 500 naming it).
    check_contracts: bool = False
    #: What to do with an ``image_url`` that is neither a data URI nor a file of this mock.
    image_url_policy: str = "placeholder"
    #: Hosts that the ``fetch`` policy may download from (exact names or ``*.suffix``).
    fetch_allow_hosts: tuple[str, ...] = ()
    #: Let the ``fetch`` policy reach private, loopback and link-local addresses.
    fetch_allow_private: bool = False
    #: Seconds a ``fetch`` download may take in all.
    fetch_timeout_seconds: float = 10.0
    #: The user id fal would sign webhooks for.
    user_id: str = "fal-mock-user"
    #: Concurrent runners per endpoint in ``realistic`` progression (new fal accounts get 2).
    realistic_concurrency: int = 2
    #: Multiplier for ``realistic`` queue and inference durations (0.1 = ten times faster).
    realistic_time_scale: float = 1.0
    #: Seconds between ``: ping`` comments on a status stream.
    sse_ping_seconds: float = 15.0
    #: Directory for persistent state (SQLite + files); None keeps everything in memory.
    data_dir: str | None = None
    #: Token that the control API (``/_mock``) requires; None means no token.
    control_token: str | None = None
    #: Pins the server secret behind upload signatures, CDN tokens, file keys and upload ids, so they are the same
    #: bytes on every run (tests that compare them).  None (default): a random secret per server, kept in
    #: ``data_dir/server-secret`` when there is a data dir (restarts and workers agree).  UNSAFE beyond loopback:
    #: whoever knows this text can sign uploads that replace files and mint CDN tokens.
    signing_secret: str | None = None
    #: Clock of an app built without one: system (wall clock) or manual (moves only through the control API,
    #: ``POST /_mock/clock/advance``, or the pytest fixture's ``clock.advance``).
    clock: str = "system"
    #: Where a manual clock starts (Unix seconds, e.g. 1767225600 = 2026-01-01T00:00:00Z). None: 2026-01-01 for an
    #: app, and for the pytest fixture the wall time when the pytest session started (whole seconds), so a receiver's
    #: freshness check accepts its webhooks; pin it where ids and timestamps must be identical across runs.
    clock_start: float | None = None
    #: Wall seconds a process's claim on generating a job lasts unless renewed (workers sharing a data dir).
    generation_lease_seconds: float = 10.0
    #: ``Host`` names the control API (``/_mock``) answers besides loopback names, the bound address and fal's hosts
    #: (exact names or ``*.suffix``; ``*`` allows any): an unknown name is refused (DNS rebinding).
    allowed_hosts: tuple[str, ...] = ()
    #: Webhook targets beyond loopback and in-process routes (exact names or ``*.suffix``; ``*`` allows any host).
    webhook_allow_hosts: tuple[str, ...] = ()
    #: fal OpenAPI documents served besides the bundled ones: JSON files, or directories of ``*.json`` (CLI
    #: ``--openapi PATH``, repeatable; a later document with the same endpoint id wins).
    openapi: tuple[str, ...] = ()

    # --- limits ----------------------------------------------------------------------
    #: Largest JSON request body (data URIs included) — 413 beyond it.
    max_request_body_bytes: int = 32 * MiB
    #: Largest input file (decoded data URI, stored upload or fetched URL) a job reads — 422 file_too_large.
    max_input_file_bytes: int = 32 * MiB
    #: Largest input image side in pixels — 422 image_too_large.
    max_image_side: int = 8192
    #: Largest input image pixel count (decompression-bomb guard) — 422 image_too_large.
    max_image_pixels: int = 40_000_000
    #: Smallest input image side in pixels — 422 image_too_small.
    min_image_side: int = 16
    #: Largest single stored file (upload or generated video) — 413 / file_too_large beyond it.
    max_upload_bytes: int = 160 * MiB
    #: All stored bytes together (uploads, videos, pending parts) — to make room, expired files go first, then
    #: unreferenced ones, then outputs of kept results (oldest first); inputs of unfinished jobs stay. 507 if full.
    max_store_bytes: int = 192 * MiB
    #: Parts of one multipart upload (a higher part number answers 413).
    max_multipart_parts: int = 10_000
    #: Largest single part of a multipart upload (the official clients send 10 MiB parts) — 413 beyond it.
    max_multipart_part_bytes: int = 32 * MiB
    #: Multipart uploads open at once (the oldest unfinished one is dropped beyond it).
    max_pending_uploads: int = 64
    #: Seconds a CDN token (``/storage/auth/token``) is valid, on the mock's clock.
    upload_token_ttl_seconds: float = 3600.0
    #: Seconds a signed upload URL and an open multipart upload stay valid, on the mock's clock.
    upload_url_ttl_seconds: float = 3600.0
    #: HTTP status the CDN's direct upload (``POST /files/upload``) answers instead of storing; 0 = off.
    #: A fault switch: the Python client then falls back to ``/storage/upload/initiate``.
    cdn_upload_fault_status: int = 0
    #: Unfinished jobs the mock holds at once — 429 beyond it.
    max_queue_size: int = 10_000
    #: Finished jobs kept (oldest dropped first; unfinished jobs are never dropped).
    max_finished_jobs: int = 10_000
    #: Bytes kept by finished jobs together — result bodies plus retained arguments (oldest finished jobs
    #: dropped beyond it, as beyond ``max_finished_jobs``).
    max_result_bytes: int = 64 * MiB
    #: Bytes of a job's arguments kept whole for the control API and dashboard; beyond it a marked summary is
    #: kept (long strings cut, ``fal_mock_truncated``) — the job itself still runs on its full validated inputs.
    max_retained_argument_bytes: int = 64 * KiB
    #: Jobs one ``GET /_mock/jobs?full=1`` answers at most (oldest first; ``next_after`` names the next page).
    max_full_jobs_page: int = 100
    #: Seconds a finished job's result stays available (fal: 1 hour).
    result_ttl_seconds: float = 3600.0
    #: Seconds a result of at least ``large_result_bytes`` stays available (fal: 6 minutes).
    large_result_ttl_seconds: float = 360.0
    #: Size from which a result counts as large (fal: 10 KB).
    large_result_bytes: int = 10_000
    #: Entries in the request journal.
    journal_size: int = 1_000
    #: Seconds a request journal entry is kept (app clock).
    journal_ttl_seconds: float = 3600.0
    #: Bytes of all request header lines together — 431 beyond it.
    max_header_bytes: int = 64 * KiB
    #: Bytes of the request target (path and query) — 414 beyond it.
    max_url_bytes: int = 16 * KiB
    #: Seconds a connection may take to send a request's complete headers (from connecting, or from the request's
    #: first byte) — 408 and closed beyond it; 0 = no limit (``fal-mock serve``).
    header_timeout_seconds: float = 10.0
    #: Longest pause in seconds between two pieces of a request body — the connection is closed beyond it; 0 = none.
    body_timeout_seconds: float = 30.0
    #: Seconds an idle keep-alive connection stays open between requests (uvicorn's ``timeout_keep_alive``).
    keep_alive_seconds: float = 5.0
    #: Open connections per server process (kept below the open-file limit): at the cap a new connection closes the
    #: oldest one still waiting for its headers, or is answered 503 when every connection is busy.
    max_connections: int = 1_000
    #: Seconds between two log lines of the same kind from the event loop (failed ``accept()`` calls): repeats in
    #: between are counted and reported with the next one; 0 = log every one.
    log_repeat_seconds: float = 10.0
    #: Rendered videos kept in the generation cache (same input → same bytes).
    video_cache_entries: int = 32
    #: Bytes of whole generated outputs (body and file bytes) kept for repeated inputs (same endpoint, input and
    #: input bytes → the same output without generating it again); least recently used dropped; 0 = off.
    output_cache_bytes: int = 32 * MiB
    #: Bytes of validated inputs kept for repeated inputs (an input seen before is not validated again; inputs
    #: whose JSON exceeds 64 KiB are never kept); least recently used dropped; 0 = off.
    validated_input_cache_bytes: int = 4 * MiB
    #: Seconds one webhook delivery attempt may take (fal: 15 s; 0 = no limit).
    webhook_timeout_seconds: float = 15.0
    #: Bytes of a receiver's answer kept as the attempt's ``response_body``; the rest is never read.
    webhook_response_body_bytes: int = 1 * KiB
    #: Connections open at once to one webhook target (scheme, host, port): each target has its own pool, so a
    #: receiver that never answers delays only its own deliveries.
    webhook_connections_per_target: int = 20
    #: Retries after a failed webhook attempt (fal: "10 times in the span of 2 hours").
    max_webhook_retries: int = 10
    #: Clock seconds before the first webhook retry; each next delay doubles (defaults: 7 s … 3584 s, 7161 s in all).
    webhook_retry_base_seconds: float = 7.0
    #: Longest delay between two webhook attempts (clock seconds).
    webhook_retry_max_seconds: float = 3600.0
    #: Deliveries kept in the webhook journal (oldest finished ones dropped first).
    webhook_journal_size: int = 1_000
    #: Bytes of delivery bodies kept in the webhook journal (oldest finished deliveries dropped beyond it).
    max_webhook_journal_bytes: int = 16 * MiB
    #: Faults queued at once (``fail_next``, ``POST /_mock/faults``) — 429 beyond it; spent ones are forgotten first.
    max_queued_faults: int = 1_000
    #: Longest latency a latency fault may add (seconds; really waited only on a system clock).
    fault_latency_cap_seconds: float = 60.0
    #: Jobs the dashboard (``/_mock/``) shows, newest first.
    max_dashboard_jobs: int = 100

    def __post_init__(self) -> None:
        check_progression(self.progression)
        _check_choice("video_profile", self.video_profile, VIDEO_PROFILES)
        _check_choice("auth", self.auth, AUTH_MODES)
        _check_choice("image_url_policy", self.image_url_policy, IMAGE_URL_POLICIES)
        _check_choice("clock", self.clock, CLOCK_MODES)
        if self.auth == "keys" and not self.keys:
            raise ValueError("auth='keys' needs at least one key in 'keys'")
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            counts = spec.name.startswith(("max_", "min_")) or spec.name.endswith(("_bytes", "_size", "_entries"))
            if counts and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise ValueError(f"{spec.name} must be a non-negative integer, not {value!r}")
            if spec.name.endswith("_seconds") and (not isinstance(value, int | float) or value < 0):
                raise ValueError(f"{spec.name} must be a non-negative number of seconds, not {value!r}")
        if self.clock_start is not None and (not isinstance(self.clock_start, int | float) or self.clock_start < 0):
            raise ValueError(f"clock_start must be Unix seconds (>= 0) or none, not {self.clock_start!r}")
        if self.realistic_concurrency < 1:
            raise ValueError("realistic_concurrency must be >= 1")
        if self.realistic_time_scale <= 0:
            raise ValueError("realistic_time_scale must be > 0")
        if self.cdn_upload_fault_status and not 400 <= self.cdn_upload_fault_status <= 599:
            raise ValueError("cdn_upload_fault_status must be 0 (off) or an HTTP error status (400-599)")

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied (names and values checked)."""
        return Settings.from_mapping(changes, base=self)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if data.get("control_token"):
            data["control_token"] = "***"
        if data.get("signing_secret") is not None:
            data["signing_secret"] = "***"
        data["keys"] = ["***" for _ in self.keys]
        return data

    @classmethod
    def field_names(cls) -> list[str]:
        return [spec.name for spec in dataclasses.fields(cls)]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, base: Settings | None = None) -> Settings:
        """Settings from ``values`` (text is coerced to each field's type) over ``base``."""
        known = {spec.name: spec for spec in dataclasses.fields(cls)}
        hints = typing.get_type_hints(cls)
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise UnknownSetting(unknown, list(known))
        changes = {name: _coerce(name, hints[name], value) for name, value in values.items()}
        return dataclasses.replace(base or cls(), **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, base: Settings | None = None) -> Settings:
        """Settings from ``FAL_MOCK_<FIELD>`` variables (e.g. ``FAL_MOCK_PROGRESSION=polls:2``)."""
        values = {
            key[len("FAL_MOCK_") :].lower(): value
            for key, value in environ.items()
            if key.startswith("FAL_MOCK_") and key[len("FAL_MOCK_") :].lower() in cls.field_names()
        }
        return cls.from_mapping(values, base=base)


class UnknownSetting(ValueError):
    """Names that are not settings; the message suggests the closest known ones and lists them all."""

    def __init__(self, unknown: list[str], known: list[str]) -> None:
        self.unknown = unknown
        self.suggestions = {name: close for name in unknown if (close := did_you_mean(name, known))}
        hints = "".join(f" (did you mean {close!r} for {name!r}?)" for name, close in self.suggestions.items())
        super().__init__(f"unknown fal-mock setting(s) {unknown}{hints}; known settings: {', '.join(known)}")

    def short(self) -> str:
        """One line without the list of every setting: what is unknown and the closest known names."""
        parts = [f"{name!r} (did you mean {self.suggestions[name]!r}?)" if name in self.suggestions else repr(name)
                 for name in self.unknown]  # fmt: skip
        return f"unknown setting {', '.join(parts)}"


def did_you_mean(name: str, known: list[str]) -> str | None:
    """The known name closest to ``name`` (a typo), if one is close enough."""
    found = difflib.get_close_matches(name.strip().lower().replace("-", "_"), known, n=1, cutoff=0.6)
    return found[0] if found else None


def setting_docs() -> dict[str, str]:
    """Each setting's meaning: the ``#:`` comment above its field in this module (read from the source)."""
    import inspect

    docs: dict[str, str] = {}
    pending: list[str] = []
    names = set(Settings.field_names())
    for raw in inspect.getsource(Settings).splitlines():
        line = raw.strip()
        if line.startswith("#:"):
            pending.append(line[2:].strip())
            continue
        match = re.match(r"^([a-z_][a-z0-9_]*)\s*:", line)
        if match and match.group(1) in names and pending:
            docs[match.group(1)] = " ".join(pending)
        if not line.startswith("#"):
            pending = []
    return docs


def describe_settings(only: str = "") -> list[str]:
    """``name = default`` and its meaning for every setting (those whose name contains ``only``)."""
    defaults = Settings()
    docs = setting_docs()
    lines: list[str] = []
    for name in Settings.field_names():
        if only and only.lower() not in name:
            continue
        lines.append(f"{name} = {_as_text(getattr(defaults, name))}")
        lines.append(f"    {docs.get(name, '').replace('``', '')}".rstrip())
    return lines


def _as_text(value: Any) -> str:
    """A default as ``--set name=VALUE`` takes it back."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")


def _coerce(name: str, hint: Any, value: Any) -> Any:
    if not isinstance(value, str):
        if isinstance(value, list):
            return tuple(value)
        return value
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union) and type(None) in args:
        if value.lower() in ("", "none", "null"):
            return None
        hint = next(arg for arg in args if arg is not type(None))
        origin = typing.get_origin(hint)
    if hint is bool:
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{name} must be true or false, not {value!r}")
    if hint is int:
        try:
            return int(value.replace("_", ""))
        except ValueError:
            raise ValueError(f"{name} must be an integer, not {value!r}") from None
    if hint is float:
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{name} must be a number, not {value!r}") from None
    if origin is tuple:
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value
