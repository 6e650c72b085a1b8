"""Input files: turning an ``image_url`` into bytes, without the network by default.

Order of resolution (DESIGN §6):

1. ``data:`` URIs are decoded (base64 or percent-encoded), size-checked before decoding;
2. a URL of the mock's own storage — any URL whose path ends in
   ``/files/<bucket>/<id>_<name>`` naming a file the store holds, whatever its host
   (fal's CDN names in-process, ``127.0.0.1:PORT/cdn/files/...``, the proxy's
   origin) — is read from the store, never over the network.  A storage-shaped URL
   on the mock's own host or a loopback host that the store does not hold (never
   uploaded, expired, evicted) is a ``file_download_error`` (404); on a fal CDN
   host it goes to the policy, so fal's doc examples still work;
3. anything else follows ``Settings.image_url_policy``:
   ``placeholder`` (default) makes a deterministic file of the field's kind from the
   URL (an image drawn from it; for audio, video and 3D fields a 2 s WAV, a 2 s
   preview MP4 or a GLB), so the example URLs in fal's docs work offline, and says
   so in the job's logs;
   ``error`` answers ``file_download_error`` as fal would for an unreachable file;
   ``fetch`` downloads it through :mod:`.fetch` (opt-in, allow-listed, private
   addresses refused, size and time capped).

Every failure is a :class:`~.errors.ModelError` whose entry points at
``["body", "image_url"]`` — fal's ``file_download_error`` / ``file_too_large``
(with ``ctx.max_size``).  :func:`referenced_files` tells the file store which
files jobs still need, for eviction; :func:`check_namespace` keeps a job to its own
namespace's stored files.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw

from ..files.store import FileRefs, FileStore, parse_key
from ..media import build_glb, clip_geometry, render_clip, synth_wav
from .errors import ModelError, entry

if TYPE_CHECKING:
    from ..persistence.protocol import StateStore

_DATA_URI = re.compile(r"^data:(?P<mime>[^;,]*)(?P<params>(?:;[^;,]*)*),(?P<data>.*)$", re.DOTALL)
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
PLACEHOLDER_SIZE = (640, 360)


@dataclass(frozen=True)
class ResolvedInput:
    data: bytes
    #: data_uri | storage | placeholder | fetched
    kind: str
    description: str


def download_error(field: str, url: str, why: str) -> ModelError:
    return ModelError(
        [entry(["body", field], f"File download error: {why}", "file_download_error", input=url)],
    )


def too_large(field: str, url: str, max_size: int) -> ModelError:
    return ModelError(
        [entry(["body", field], "File too large", "file_too_large", ctx={"max_size": max_size}, input=url)]
    )


def decode_data_uri(value: str, *, field: str, max_size: int) -> bytes:
    match = _DATA_URI.match(value)
    if not match:
        raise download_error(field, clip(value), "malformed data URI")
    payload = match.group("data")
    is_base64 = any(param.strip().lower() == "base64" for param in match.group("params").split(";"))
    if is_base64:
        estimated = (len(payload) * 3) // 4
        if estimated > max_size + 3:
            raise too_large(field, clip(value), max_size)
        try:
            try:  # the usual case: no whitespace, padded (cleaning 1 MB costs more than decoding it)
                data = base64.b64decode(payload, validate=True)
            except (binascii.Error, ValueError):
                cleaned = re.sub(r"\s+", "", payload)
                cleaned += "=" * (-len(cleaned) % 4)
                data = base64.b64decode(cleaned, validate=True)
        except (binascii.Error, ValueError):
            raise download_error(field, clip(value), "data URI is not valid base64") from None
    else:
        data = urllib.parse.unquote_to_bytes(payload)
    if len(data) > max_size:
        raise too_large(field, clip(value), max_size)
    return data


def clip(value: str, limit: int = 120) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


def storage_key_in(url: str) -> str | None:
    """The file key of a URL shaped like the mock's storage (``.../files/<bucket>/<id>_<name>``), any host."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return None
    path = urllib.parse.unquote(parsed.path)
    marker = path.find("/files/")
    if marker < 0:
        return None
    key = path[marker + len("/files/") :]
    return key if parse_key(key) is not None else None


def storage_key_of(url: str, own_hosts: set[str]) -> tuple[str, bool] | None:
    """``(key, authoritative)`` if ``url`` names a file in the mock's storage shape, else None.

    Any host may carry a key the store holds (the store is asked).  ``authoritative``
    is True when the URL's host is the mock itself (its origin or loopback): a missing
    file is then a download error, not a case for the policy.  A fal CDN host that
    the store does not know (a doc example) goes to the policy.  ``key`` is "" when
    the mock's own host names a path that is no file key at all.
    """
    parsed = urllib.parse.urlsplit(url)
    host = (parsed.hostname or "").lower()
    if parsed.scheme not in ("http", "https") or not host:
        return None
    own = host in own_hosts or host in _LOOPBACK_HOSTS
    key = storage_key_in(url)
    if key is not None:
        return key, own
    if own and "/files/" in urllib.parse.unquote(parsed.path):
        return "", True
    return None


def referenced_files(store: StateStore) -> FileRefs:
    """Which stored files jobs hold on to, for eviction.

    Pinned (never evicted): the input files of unfinished jobs, and the outputs those jobs
    already rendered (the runner works ahead of the reported state, so an unfinished job may
    hold its video).  Retained (evicted last): the outputs of finished jobs whose results are
    still kept.
    """
    pinned: set[str] = set()
    retained: set[str] = set()
    for job in store.jobs():
        outcome = job.final_outcome()
        outputs = {item.key for item in outcome.files if item.key} if outcome is not None else set()
        if job.finished:
            retained |= outputs
            continue
        pinned |= outputs
        for text in _strings(job.arguments):
            key = storage_key_in(text) if "/files/" in text else None
            if key is not None:
                pinned.add(key)
    return FileRefs(pinned=frozenset(pinned), retained=frozenset(retained))


def check_namespace(files: FileStore, inputs: Mapping[str, object], namespace: str) -> None:
    """Raise ``file_download_error`` (404) for an input URL naming a stored file of another namespace.

    File keys of one namespace are unusable from another (issue 13): a job sees only its own
    namespace's files, as if the others were never stored — whatever the URL's host, so a fal CDN
    host cannot slip another namespace's file in.  Looks at every string of the input (nested
    objects and lists too, to the depth :func:`_strings` walks), not only ``image_url``.
    """
    for path, text in _paths(inputs):
        key = storage_key_in(text) if "/files/" in text else None
        stored = files.get(key) if key is not None else None
        if stored is not None and stored.namespace != namespace:
            raise ModelError([entry(["body", *path], "File download error: 404 Not Found from the mock's storage "
                                    "(the file belongs to another namespace)", "file_download_error",
                                    input=clip(text))])  # fmt: skip


def _paths(value: object, path: tuple[str | int, ...] = ()) -> Iterator[tuple[list[str | int], str]]:
    """Every string in ``value`` with its location (dict keys and list indexes), to a depth of 32."""
    if len(path) > 32:
        return
    if isinstance(value, str):
        yield list(path), value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _paths(item, (*path, str(name)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _strings(value: object, depth: int = 0) -> Iterator[str]:
    if depth > 32:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


def placeholder_image(url: str) -> bytes:
    """A deterministic 640×360 PNG drawn from the URL's hash (gradient, shapes, the file name)."""
    digest = hashlib.sha256(url.encode()).digest()
    width, height = PLACEHOLDER_SIZE
    start = tuple(40 + digest[i] % 160 for i in range(3))
    end = tuple(40 + digest[3 + i] % 160 for i in range(3))
    gradient = Image.linear_gradient("L").resize((width, height)).rotate(digest[6] % 4 * 90, expand=False)
    base = Image.composite(Image.new("RGB", (width, height), end), Image.new("RGB", (width, height), start), gradient)
    draw = ImageDraw.Draw(base)
    for index in range(4):
        offset = 8 + index * 5
        x0 = digest[offset] * width // 256
        y0 = digest[offset + 1] * height // 256
        radius = 20 + digest[offset + 2] % 60
        colour = tuple(digest[(offset + 3 + k) % 32] for k in range(3))
        if index % 2:
            draw.ellipse((x0 - radius, y0 - radius, x0 + radius, y0 + radius), fill=colour)
        else:
            draw.rectangle((x0 - radius, y0 - radius // 2, x0 + radius, y0 + radius // 2), fill=colour)
    name = urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1][:48] or url[:48]
    draw.rectangle((0, height - 28, width, height), fill=(16, 16, 16))
    draw.text((10, height - 22), f"fal-mock placeholder: {name}", fill=(235, 235, 235))
    out = io.BytesIO()
    base.save(out, format="PNG", optimize=False, compress_level=1)
    return out.getvalue()


def placeholder_file(url: str, media: str) -> bytes:
    """A deterministic stand-in for an external ``url`` of kind ``media``: the image above, a 2-second WAV,
    a 2-second preview MP4 of that image, or a GLB mesh."""
    seed = hashlib.sha256(url.encode()).digest()
    if media == "audio":
        return synth_wav(2.0, seed=seed).data
    if media == "video":
        image = Image.open(io.BytesIO(placeholder_image(url)))
        return render_clip(image, clip_geometry("preview", duration=2), seed=seed).data
    if media == "model":
        return build_glb(seed=seed, detail=1).data
    return placeholder_image(url)


Fetcher = Callable[[str, str], bytes]


@dataclass(frozen=True)
class InputResolver:
    """Resolves file inputs for one app (its store, policy and limits)."""

    files: FileStore
    policy: str
    max_size: int
    fetcher: Fetcher | None = None

    def resolve(self, url: object, *, field: str, own_hosts: set[str], media: str = "image") -> ResolvedInput:
        """The bytes behind ``url`` (``media``: the kind a placeholder must be: image, video, audio, model)."""
        if not isinstance(url, str) or not url.strip():
            raise download_error(field, str(url), "not a URL")
        url = url.strip()
        if url.startswith("data:"):
            data = decode_data_uri(url, field=field, max_size=self.max_size)
            return ResolvedInput(data, "data_uri", f"data URI ({len(data)} bytes)")
        located = storage_key_of(url, own_hosts)
        if located is not None:
            key, authoritative = located
            stored = self.files.get(key) if key else None
            if stored is not None:
                if stored.size > self.max_size:
                    raise too_large(field, url, self.max_size)
                try:
                    data = self.files.read(stored)
                except KeyError:
                    raise download_error(field, url, "404 Not Found from the mock's storage") from None
                return ResolvedInput(data, "storage", f"stored file {stored.key} ({stored.size} bytes)")
            if authoritative:
                raise download_error(field, url, "404 Not Found from the mock's storage")
        scheme = urllib.parse.urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise download_error(field, clip(url), f"unsupported URL scheme {scheme or '(none)'!r}")
        if self.policy == "placeholder":
            kind = media if media in ("video", "audio", "model") else "image"
            return ResolvedInput(
                placeholder_file(url, kind), "placeholder", f"placeholder {kind} for {clip(url)} (not downloaded)"
            )
        if self.policy == "fetch" and self.fetcher is not None:
            data = self.fetcher(url, field)
            return ResolvedInput(data, "fetched", f"downloaded {clip(url)} ({len(data)} bytes)")
        raise download_error(field, clip(url), "remote downloads are disabled (image_url_policy=error)")
