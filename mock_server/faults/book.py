"""Queued faults: the next N requests (or jobs) of a kind misbehave on purpose, deterministically.

A :class:`Fault` says *what* goes wrong (its ``kind``), *where* (``on``: a kind of
request, or ``job``; optionally one ``endpoint``) and *how often* (``times``).
Faults fire in the order they were queued, first match first, and never at
random: the same test sees the same failures every run.

Kinds, and how a client sees them (protocol reference §3):

``model``
    fal's model error ``{"detail": [{loc, msg, type, url, ctx?}]}`` with the type's
    status (422 for ``image_too_small``/``content_policy_violation``/..., 500
    ``internal_server_error``, 504 ``generation_timeout``, 400
    ``downstream_service_error``).  On ``job`` (the default) the submit succeeds and
    the *job* completes with the error — status shows ``error``/``error_type``, the
    result replays it, a webhook gets ``status: "ERROR"``; a sync run answers it.
``request``
    fal's infrastructure error ``{"detail", "error_type"}`` + ``X-Fal-Error-Type``
    (``runner_disconnected`` 503, ``request_timeout`` 504, ...); on ``job`` by default,
    like model errors.
``http``
    any status with ``{"detail"}`` (and ``error_type`` when given) — e.g. a 429 on
    submit.  Carries ``x-fal-request-id`` unless ``with_request_id=False``: the
    official Python client never retries a 502/503/504 that has it.
``ingress``
    what fal's nginx answers when the request never reached fal's servers: an HTML
    page mentioning nginx, no ``x-fal-request-id`` (default 502).  The only 5xx the
    official Python client retries.
``latency``
    ``seconds`` added before the request is handled.  The time is spent on the
    app's clock: a :class:`~..clock.ManualClock` is advanced (nothing waits — the
    tests' case), the system clock is really waited on (``fal-mock serve``), capped
    by ``Settings.fault_latency_cap_seconds``.  In-process, a latency at or above the
    client's read timeout raises ``httpx.ReadTimeout`` at once (see
    ``fal_mock.fixtures``).
``disconnect``
    the connection is reset before any answer; the request never reaches the mock
    (no job is created).  In-process: ``httpx.ReadError``; on a real server the
    socket is aborted (the client sees a reset / "server disconnected").
``malformed``
    a broken answer: in-process ``httpx.RemoteProtocolError``; on a real server a
    200 whose JSON body stops half-way before the connection closes.  The request
    is not processed either.

Module layout: here what a fault is (:class:`Fault`, :func:`make_fault`), what it
matches (:class:`Target`) and the book of queued faults (:class:`FaultBook`); which
request is which target is in :mod:`.targets` (:func:`~.targets.classify`), and the gateway's
HTTP stage that answers for a fault in :mod:`..edge.fault_stage` (:func:`~..edge.fault_stage.intercept`).

Faults belong to a namespace (``X-Fal-Mock-Namespace``): a fault queued by one
test of a shared server only fires on that test's requests.

Choices where fal's behaviour is unknown: fal's 429 body for a concurrency limit is
undocumented (we answer ``{"detail": "Too Many Requests"}`` unless told otherwise);
the exact nginx page is a guess with the word the client looks for.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from ..jobs.endpoints import EndpointId
from ..jobs.errors import REQUEST_ERROR_STATUS, FalError, ModelError, PlainError, RequestError, entry
from ..settings import Settings

if TYPE_CHECKING:
    from ..clock import Clock
    from ..jobs.model import Job, Outcome
    from ..persistence.protocol import StateStore

KINDS = ("model", "request", "http", "ingress", "latency", "disconnect", "malformed")
TARGETS = ("job", "any", "submit", "status", "stream", "result", "cancel", "run", "upload", "token", "file", "rest")
#: Kinds a job can fail with (``on="job"``).
JOB_KINDS = frozenset({"model", "request"})
#: Kinds answered below HTTP: an in-process transport raises them (or spends the latency) itself.
TRANSPORT_KINDS = frozenset({"latency", "disconnect", "malformed"})
#: Kinds the HTTP middleware answers (all of them: it never sees ``on="job"`` faults).
REQUEST_KINDS = frozenset(KINDS)
SPEC_KEYS = (
    "kind", "error_type", "on", "endpoint", "status", "times", "detail", "msg", "loc", "ctx", "headers",
    "seconds", "with_request_id", "retryable",
)  # fmt: skip
NAMESPACE_HEADER = "x-fal-mock-namespace"


@dataclass(frozen=True)
class ModelErrorType:
    """A model error type of fal's documentation (§3.3): its status, message and default ``loc`` field."""

    status: int
    msg: str
    field: str | None = None


#: fal's documented model error types the mock knows by name (others need ``kind="model"``).
MODEL_ERRORS: dict[str, ModelErrorType] = {
    "internal_server_error": ModelErrorType(500, "Internal server error"),
    "generation_timeout": ModelErrorType(504, "Generation timeout"),
    "downstream_service_error": ModelErrorType(400, "Downstream service error"),
    "downstream_service_unavailable": ModelErrorType(500, "Downstream service unavailable"),
    "content_policy_violation": ModelErrorType(
        422,
        "The content could not be processed because it contained material flagged by a content checker.",
        "prompt",
    ),
    "no_media_generated": ModelErrorType(422, "The model did not generate the expected output for this prompt."),
    "image_too_small": ModelErrorType(422, "Image too small", "image_url"),
    "image_too_large": ModelErrorType(422, "Image too large", "image_url"),
    "image_load_error": ModelErrorType(422, "Image load error", "image_url"),
    "file_download_error": ModelErrorType(422, "File download error", "image_url"),
    "face_detection_error": ModelErrorType(422, "Could not detect face in the image", "image_url"),
    "file_too_large": ModelErrorType(422, "File too large", "image_url"),
    "unsupported_image_format": ModelErrorType(422, "Unsupported image format", "image_url"),
    "feature_not_supported": ModelErrorType(422, "Feature not supported"),
}

INGRESS_PAGE = (
    "<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def default_ctx(error_type: str, settings: Settings) -> dict[str, Any] | None:
    """The ``ctx`` fal documents for ``error_type``, with the mock's own limits as values."""
    if error_type == "image_too_small":
        return {"min_height": settings.min_image_side, "min_width": settings.min_image_side}
    if error_type == "image_too_large":
        return {"max_height": settings.max_image_side, "max_width": settings.max_image_side}
    if error_type == "file_too_large":
        return {"max_size": settings.max_input_file_bytes}
    if error_type == "unsupported_image_format":
        return {"supported_formats": ["png", "jpeg", "webp", "gif", "bmp"]}
    return None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# --- the fault itself ---------------------------------------------------------------------


@dataclass
class Fault:
    """One queued fault (a snapshot when handed out by :class:`FaultBook`)."""

    id: str
    kind: str
    on: str
    times: int
    status: int | None = None
    error_type: str | None = None
    endpoint: str | None = None
    detail: str | None = None
    msg: str | None = None
    loc: tuple[str | int, ...] | None = None
    ctx: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float | None = None
    with_request_id: bool = True
    retryable: bool | None = None
    namespace: str = ""
    created_at: float = 0.0
    fired: int = 0

    @property
    def remaining(self) -> int:
        return self.times - self.fired

    def matches(self, target: Target) -> bool:
        if target.namespace != self.namespace:
            return False
        if self.on != "any" and self.on != target.kind:
            return False
        return endpoint_matches(self.endpoint, target.app_id, target.endpoint)

    def error(self) -> FalError:
        """The mock error this fault answers with (model, request and http kinds)."""
        if self.kind == "model":
            error_type = self.error_type or "internal_server_error"
            known = MODEL_ERRORS.get(error_type)
            loc = self.loc if self.loc is not None else ("body", known.field) if known and known.field else ("body",)
            msg = self.msg or (known.msg if known else error_type.replace("_", " ").capitalize())
            return ModelError(
                [entry(list(loc), msg, error_type, ctx=self.ctx)],
                status_code=self.status or (known.status if known else 422),
                retryable=self.retryable,
                headers=self.headers,
            )
        if self.kind == "request":
            assert self.error_type is not None
            return RequestError(self.error_type, self.detail, status_code=self.status, headers=self.headers)
        status = self.status or 500
        extra = {"error_type": self.error_type} if self.error_type else {}
        return PlainError(status, self.detail or _phrase(status), headers=self.headers, **extra)

    def outcome(self) -> Outcome:
        """The stored outcome of a job that this fault fails."""
        from ..jobs.runner import failure_outcome

        return failure_outcome(self.error())

    def ingress_page(self) -> bytes:
        status = self.status or 502
        return INGRESS_PAGE.format(status=status, phrase=_phrase(status)).encode()

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["loc"] = list(self.loc) if self.loc is not None else None
        data["remaining"] = self.remaining
        return data


def endpoint_matches(wanted: str | None, app_id: str | None, endpoint: str | None) -> bool:
    """Whether a fault for endpoint (or app) ``wanted`` applies to a request on ``app_id``/``endpoint``."""
    if wanted is None:
        return True
    if app_id is None:
        return False
    parsed = EndpointId.parse(wanted)
    if parsed.app_id != app_id:
        return False
    if parsed.path and endpoint is not None:
        return wanted.strip("/") == endpoint.strip("/")
    return True


def make_fault(spec: Mapping[str, Any], settings: Settings, *, fault_id: str, namespace: str, now: float) -> Fault:
    """Check a fault spec (keyword arguments or a JSON body) and fill in the defaults; ValueError if wrong."""
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise ValueError(f"unknown fault option(s) {unknown}; known options: {', '.join(SPEC_KEYS)}")
    values = {key: value for key, value in spec.items() if value is not None}
    error_type = _text(values, "error_type")
    kind = _choice(values, "kind", KINDS) or _infer_kind(values, error_type)
    on = _choice(values, "on", TARGETS) or ("job" if kind in JOB_KINDS else "any")
    if on == "job" and kind not in JOB_KINDS:
        raise ValueError(f"on='job' fails a job, which needs a model or request error, not kind={kind!r}")
    status = _status(values)
    times = values.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or times < 1:
        raise ValueError(f"times must be an integer >= 1, not {times!r}")
    endpoint = _text(values, "endpoint")
    if endpoint is not None:
        try:
            EndpointId.parse(endpoint)
        except ValueError as error:
            raise ValueError(f"endpoint: {error}") from None
    seconds = values.get("seconds")
    if kind == "latency":
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not math.isfinite(seconds):
            raise ValueError("a latency fault needs seconds=<number>")
        if not 0 <= seconds <= settings.fault_latency_cap_seconds:
            raise ValueError(f"seconds must be between 0 and fault_latency_cap_seconds "
                             f"({settings.fault_latency_cap_seconds:g}), not {seconds!r}")  # fmt: skip
    elif seconds is not None:
        raise ValueError(f"seconds only applies to latency faults, not kind={kind!r}")
    if kind in ("latency", "disconnect", "malformed") and status is not None:
        raise ValueError(f"status has no meaning for a {kind} fault")
    if kind == "request" and error_type is None:
        raise ValueError(f"a request fault needs an error_type, e.g. one of: {', '.join(REQUEST_ERROR_STATUS)}")
    if kind == "http" and status is None:
        raise ValueError("an http fault needs a status, e.g. status=429")
    if kind == "ingress" and status is None:
        status = 502
    if kind == "model" and status is None:
        known = MODEL_ERRORS.get(error_type or "")
        status = known.status if known else 422
    if kind == "request" and status is None:
        status = REQUEST_ERROR_STATUS.get(error_type or "", 500)
    loc = values.get("loc")
    if loc is not None:
        if not isinstance(loc, list | tuple) or not all(isinstance(p, str | int) for p in loc):
            raise ValueError(f"loc must be a list of strings and integers, not {loc!r}")
        loc = tuple(loc)
    ctx = values.get("ctx")
    if ctx is not None and not isinstance(ctx, Mapping):
        raise ValueError(f"ctx must be an object, not {ctx!r}")
    if kind == "model" and ctx is None:
        ctx = default_ctx(error_type or "", settings)
    headers = values.get("headers") or {}
    pairs = headers.items() if isinstance(headers, Mapping) else []
    strings = isinstance(headers, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in pairs)
    if not strings:
        raise ValueError(f"headers must map strings to strings, not {headers!r}")
    return Fault(
        id=fault_id,
        kind=kind,
        on=on,
        times=times,
        status=status,
        error_type=error_type,
        endpoint=endpoint.strip("/") if endpoint else None,
        detail=_text(values, "detail"),
        msg=_text(values, "msg"),
        loc=loc,
        ctx=dict(ctx) if ctx is not None else None,
        headers=dict(headers),
        seconds=float(seconds) if seconds is not None else None,
        with_request_id=_flag(values, "with_request_id", True) is not False,
        retryable=_flag(values, "retryable", None),
        namespace=namespace,
        created_at=now,
    )


def _infer_kind(values: Mapping[str, Any], error_type: str | None) -> str:
    if values.get("seconds") is not None:
        return "latency"
    if error_type in MODEL_ERRORS:
        return "model"
    if error_type in REQUEST_ERROR_STATUS:
        return "request"
    if error_type is not None and values.get("status") is None:
        raise ValueError(
            f"unknown error_type {error_type!r}: known model error types: {', '.join(MODEL_ERRORS)}; "
            f"request error types: {', '.join(REQUEST_ERROR_STATUS)}; pass kind='model' or kind='request' "
            "to use another type, or a status for a plain HTTP error"
        )
    if values.get("status") is not None:
        return "http"
    raise ValueError(
        "say what should go wrong: error_type=... (a model or request error), status=... (an HTTP error), "
        f"seconds=... (latency) or kind=... (one of {', '.join(KINDS)})"
    )


def _text(values: Mapping[str, Any], name: str) -> str | None:
    value = values.get(name)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValueError(f"{name} must be a non-empty string, not {value!r}")
    return value


def _choice(values: Mapping[str, Any], name: str, choices: Sequence[str]) -> str | None:
    value = values.get(name)
    if value is not None and value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _status(values: Mapping[str, Any]) -> int | None:
    status = values.get("status")
    if status is None:
        return None
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
        raise ValueError(f"status must be an HTTP error status (400-599), not {status!r}")
    return status


def _flag(values: Mapping[str, Any], name: str, default: bool | None) -> bool | None:
    value = values.get(name, default)
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return value


# --- which request is which ---------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A request as faults see it: its kind, the app/endpoint it concerns, and who sent it."""

    kind: str
    app_id: str | None = None
    endpoint: str | None = None
    request_id: str | None = None
    namespace: str = ""


# --- the book of queued faults ------------------------------------------------------------


class FaultBookFull(Exception):
    """More unspent faults than ``Settings.max_queued_faults``."""


class FaultBook:
    """The faults of one app: queue, match-and-spend, and a bounded log of firings — kept in the state store.

    The book's state (the faults, the id sequence, the firings) is one document of the app's
    :class:`~..persistence.protocol.StateStore` (:data:`BOOK_DOCUMENT`), read and written inside the
    store's transaction: with ``--workers N`` on a shared data directory every worker sees the same
    faults and a fault fires exactly ``times`` times across all of them.  A second, tiny document
    (:data:`ARMED_DOCUMENT`, the number of unspent faults) keeps the per-request check cheap.
    Without a store (``FaultBook(settings, clock)``) the book keeps its own in-memory store.
    """

    def __init__(self, settings: Settings, clock: Clock, store: StateStore | None = None) -> None:
        from ..persistence.memory import MemoryStore

        self._settings = settings
        self._clock = clock
        self._store: StateStore = store if store is not None else MemoryStore()
        self._fired_limit = max(1, settings.journal_size)
        #: The armed document's text last read and what it said (see :attr:`armed`).
        self._armed_seen: tuple[str, bool] | None = None

    # --- the stored state ------------------------------------------------------------------
    def _load(self) -> tuple[int, list[Fault], list[dict[str, Any]]]:
        data = self._store.document(BOOK_DOCUMENT) or {}
        faults = [_fault_from_json(item) for item in data.get("faults", ())]
        return int(data.get("sequence", 0)), faults, list(data.get("fired", ()))

    def _save(self, sequence: int, faults: list[Fault], fired: list[dict[str, Any]]) -> None:
        unspent = sum(1 for fault in faults if fault.remaining > 0)
        document = {"sequence": sequence, "faults": [_fault_to_json(f) for f in faults],
                    "fired": fired[-self._fired_limit :]}  # fmt: skip
        self._store.put_document(BOOK_DOCUMENT, document)
        self._store.put_document(ARMED_DOCUMENT, {"unspent": unspent})

    @property
    def armed(self) -> bool:
        """True while some fault can still fire (a cheap check for the hot path: the stored text is parsed
        only when it changed since the last look)."""
        text = self._store.document_text(ARMED_DOCUMENT)
        if text is None:
            return False
        seen = self._armed_seen
        if seen is not None and seen[0] == text:
            return seen[1]
        value = json.loads(text)
        armed = bool(isinstance(value, dict) and value.get("unspent", 0))
        self._armed_seen = (text, armed)
        return armed

    def add(self, spec: Mapping[str, Any], *, namespace: str = "") -> Fault:
        """Queue a fault from ``spec`` (see :func:`make_fault`); raises ValueError or :class:`FaultBookFull`."""
        with self._store.transaction():
            sequence, faults, fired = self._load()
            fault = make_fault(spec, self._settings, fault_id=f"flt_{sequence + 1}", namespace=namespace,
                               now=self._clock.now())  # fmt: skip
            unspent = sum(1 for f in faults if f.remaining > 0)
            if unspent >= self._settings.max_queued_faults:
                raise FaultBookFull(
                    f"{unspent} faults are queued and unspent (max_queued_faults="
                    f"{self._settings.max_queued_faults}); clear them first"
                )
            spent = [f for f in faults if f.remaining <= 0]
            while spent and len(faults) >= self._settings.max_queued_faults:
                faults.remove(spent.pop(0))
            faults.append(fault)
            self._save(sequence + 1, faults, fired)
            return dataclasses.replace(fault)

    def take(self, target: Target, kinds: Collection[str]) -> Fault | None:
        """Spend one firing of the first unspent fault of ``kinds`` matching ``target`` (a snapshot), if any."""
        if not self.armed:
            return None
        with self._store.transaction():
            sequence, faults, fired = self._load()
            for fault in faults:
                if fault.remaining > 0 and fault.on != "job" and fault.kind in kinds and fault.matches(target):
                    return self._fire(sequence, faults, fired, fault, target.kind, target.request_id)
        return None

    def take_job(self, endpoint_id: str, app_id: str, namespace: str) -> Fault | None:
        """Spend one firing of the first unspent ``on="job"`` fault for this endpoint, if any."""
        if not self.armed:
            return None
        target = Target("job", app_id, endpoint_id, None, namespace)
        with self._store.transaction():
            sequence, faults, fired = self._load()
            for fault in faults:
                wanted = fault.remaining > 0 and fault.on == "job" and fault.namespace == namespace
                if wanted and endpoint_matches(fault.endpoint, target.app_id, target.endpoint):
                    return self._fire(sequence, faults, fired, fault, "job", None)
        return None

    def _fire(self, sequence: int, faults: list[Fault], fired: list[dict[str, Any]], fault: Fault, kind: str,
              request_id: str | None) -> Fault:  # fmt: skip
        fault.fired += 1
        fired.append({"fault": fault.id, "kind": fault.kind, "on": kind, "request_id": request_id,
                      "namespace": fault.namespace, "at": self._clock.now()})  # fmt: skip
        self._save(sequence, faults, fired)
        return dataclasses.replace(fault)

    def outcome_for_new_job(self, job: Job) -> tuple[Outcome, str] | None:
        """Asked by the queue once per new job: the outcome a matching ``job`` fault forces, and its id."""
        fault = self.take_job(job.endpoint_id, job.app_id, job.namespace)
        return (fault.outcome(), fault.id) if fault is not None else None

    def faults(self, namespace: str | None = None) -> list[Fault]:
        """Every fault still held (spent ones too, until room is needed), oldest first."""
        _, faults, _ = self._load()
        return [f for f in faults if namespace is None or f.namespace == namespace]

    def pending(self, namespace: str | None = None) -> list[Fault]:
        return [fault for fault in self.faults(namespace) if fault.remaining > 0]

    def fired(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """The firings, oldest first: ``{fault, kind, on, request_id, namespace, at}``."""
        _, _, fired = self._load()
        return [dict(item) for item in fired if namespace is None or item["namespace"] == namespace]

    def clear(self, namespace: str | None = None) -> int:
        """Forget the faults (of one namespace, or all); returns how many unspent ones were dropped."""
        with self._store.transaction():
            sequence, faults, fired = self._load()
            doomed = [f for f in faults if namespace is None or f.namespace == namespace]
            dropped = sum(1 for f in doomed if f.remaining > 0)
            kept_faults = [f for f in faults if not (namespace is None or f.namespace == namespace)]
            kept = [item for item in fired if namespace is not None and item["namespace"] != namespace]
            self._save(sequence, kept_faults, kept)
            return dropped


#: The state-store document holding the fault book, and the one holding how many faults are unspent.
BOOK_DOCUMENT = "faults"
ARMED_DOCUMENT = "faults-armed"


def _fault_to_json(fault: Fault) -> dict[str, Any]:
    data = dataclasses.asdict(fault)
    data["loc"] = list(fault.loc) if fault.loc is not None else None
    return data


def _fault_from_json(data: Mapping[str, Any]) -> Fault:
    values = {name: data[name] for name in _FAULT_FIELDS if name in data}
    if values.get("loc") is not None:
        values["loc"] = tuple(values["loc"])
    values["headers"] = dict(values.get("headers") or {})
    return Fault(**values)


_FAULT_FIELDS = tuple(Fault.__dataclass_fields__)
