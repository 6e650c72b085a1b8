"""Recognising input files by their bytes: kind, content type, audio duration, MP4 facts.

Nothing here trusts a declared content type or a file name, and nothing raises for bad bytes:
unknown, truncated or hostile data gives ``MediaInfo("other", "application/octet-stream", "bin")``
or ``None``. Work is bounded: signatures are read from the first bytes; MP4 box walks stop after
:data:`MAX_BOXES` boxes per level and only descend the fixed path ``moov/trak/mdia`` (no
recursion); RIFF chunk walks stop after :data:`MAX_CHUNKS`; MP3 frame walks advance at least
24 bytes per step and re-synchronise over at most :data:`MP3_RESYNC_BYTES`; the text check
reads :data:`TEXT_SNIFF_BYTES`; Ogg durations look at the last :data:`OGG_TAIL_BYTES`. Every
length read from the data is checked against the data before use.

**sniff** recognises: images PNG, JPEG, GIF, WebP, BMP, TIFF, AVIF, HEIC/HEIF, SVG; video MP4
(ISO-BMFF brands), QuickTime, 3GPP, WebM, Matroska, AVI, Ogg Theora; audio WAV, MP3 (ID3 tag or
two consecutive valid frame headers), AAC (ADTS), FLAC, Ogg (Vorbis, Opus, FLAC), M4A (``M4A ``
brand, or an ISO-BMFF file whose tracks are sound only), MIDI, AIFF; 3D models GLB, glTF JSON,
PLY, STL (binary by its exact size, ASCII by ``solid``/``facet``), OBJ, USDZ; text (UTF-8 without
NUL bytes: JSON, plain text). PDF, ZIP and gzip are ``other`` with their own content type.

**audio_duration** reads: WAV (``fmt``/``fact``/``data`` chunks; a data size past the end of
the bytes is clamped to what is there), MP3 (a Xing/Info or VBRI frame count when present,
else the frames counted), FLAC (STREAMINFO total samples), Ogg Vorbis/Opus (the last page's
granule position; Opus minus its pre-skip), M4A/MP4/MOV with a sound track (``mvhd``). ``None``
when unknown (also for a video file without sound).

**video_facts** reads MP4/QuickTime/3GPP: the duration from ``mvhd`` (or ``mehd`` for
fragmented files) and the size from the ``tkhd`` of the first video (``vide``) track.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple

__all__ = [
    "MAX_BOXES",
    "MAX_CHUNKS",
    "MP3_RESYNC_BYTES",
    "OGG_TAIL_BYTES",
    "TEXT_SNIFF_BYTES",
    "MediaInfo",
    "MediaKind",
    "VideoFacts",
    "audio_duration",
    "sniff",
    "video_facts",
]

MediaKind = Literal["image", "video", "audio", "model", "text", "other"]

MAX_BOXES: Final = 4096
MAX_CHUNKS: Final = 1024
MP3_RESYNC_BYTES: Final = 8192
OGG_TAIL_BYTES: Final = 65536
TEXT_SNIFF_BYTES: Final = 8192
_JSON_PARSE_LIMIT: Final = 1 << 20
_BMP_HEADER_SIZES: Final = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What the bytes are: a broad kind, a MIME type and the usual file extension (no dot)."""

    kind: MediaKind
    content_type: str
    extension: str


class VideoFacts(NamedTuple):
    """Duration in seconds and the display size of the first video track."""

    duration: float
    width: int
    height: int


OTHER: Final = MediaInfo("other", "application/octet-stream", "bin")


# --- ISO-BMFF ------------------------------------------------------------------------------------


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the boxes tiling ``data[start:end]``; stops at the first bad header."""
    pos = start
    for _ in range(MAX_BOXES):
        if pos + 8 > end:
            return
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                return
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:  # malformed or truncated: nothing after it can be located
            return
        yield kind, pos + header, pos + size
        pos += size


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    for k, payload, box_end in _boxes(data, start, end):
        if k == kind:
            return payload, box_end
    return None


@dataclass(frozen=True, slots=True)
class _Track:
    handler: bytes
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class _Movie:
    duration: float | None
    tracks: tuple[_Track, ...]


def _mvhd_duration(data: bytes, payload: int, end: int) -> float | None:
    if payload + 4 > end:
        return None
    version = data[payload]
    if version == 1:
        if payload + 32 > end:
            return None
        timescale, duration = struct.unpack_from(">IQ", data, payload + 20)
    else:
        if payload + 20 > end:
            return None
        timescale, duration = struct.unpack_from(">II", data, payload + 12)
    if timescale == 0 or duration in (0, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
        return None
    return float(duration / timescale)


def _mehd_duration(data: bytes, moov: tuple[int, int], timescale_source: tuple[int, int] | None) -> float | None:
    mvex = _child(data, *moov, b"mvex")
    if mvex is None or timescale_source is None:
        return None
    mehd = _child(data, *mvex, b"mehd")
    payload, end = timescale_source
    if mehd is None or payload + 4 > end:
        return None
    version = data[payload]
    offset = payload + (20 if version == 1 else 12)
    if offset + 4 > end:
        return None
    (timescale,) = struct.unpack_from(">I", data, offset)
    m_payload, m_end = mehd
    if m_payload + 4 > m_end:
        return None
    if data[m_payload] == 1:
        if m_payload + 12 > m_end:
            return None
        (duration,) = struct.unpack_from(">Q", data, m_payload + 4)
    else:
        if m_payload + 8 > m_end:
            return None
        (duration,) = struct.unpack_from(">I", data, m_payload + 4)
    return duration / timescale if timescale and duration else None


def _track(data: bytes, start: int, end: int) -> _Track:
    width = height = 0
    tkhd = _child(data, start, end, b"tkhd")
    if tkhd is not None:
        payload, box_end = tkhd
        if payload + 1 <= box_end:
            offset = payload + (84 if data[payload] == 1 else 76)
            if offset + 8 <= box_end:
                w, h = struct.unpack_from(">II", data, offset)
                width, height = w >> 16, h >> 16
    handler = b""
    mdia = _child(data, start, end, b"mdia")
    if mdia is not None:
        hdlr = _child(data, *mdia, b"hdlr")
        if hdlr is not None and hdlr[0] + 12 <= hdlr[1]:
            handler = data[hdlr[0] + 8 : hdlr[0] + 12]
    return _Track(handler, width, height)


def _movie(data: bytes) -> _Movie | None:
    moov = _child(data, 0, len(data), b"moov")
    if moov is None:
        return None
    mvhd = _child(data, *moov, b"mvhd")
    duration = None if mvhd is None else _mvhd_duration(data, *mvhd)
    if duration is None:
        duration = _mehd_duration(data, moov, mvhd)
    tracks = []
    for kind, payload, box_end in _boxes(data, *moov):
        if kind == b"trak":
            tracks.append(_track(data, payload, box_end))
    return _Movie(duration, tuple(tracks))


_FTYP_IMAGE: Final = {
    b"avif": ("image/avif", "avif"),
    b"avis": ("image/avif", "avif"),
    b"heic": ("image/heic", "heic"),
    b"heix": ("image/heic", "heic"),
    b"heim": ("image/heic", "heic"),
    b"heis": ("image/heic", "heic"),
    b"mif1": ("image/heif", "heif"),
    b"msf1": ("image/heif", "heif"),
}
_FTYP_AUDIO: Final = frozenset({b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "})


def _sniff_ftyp(data: bytes) -> MediaInfo:
    brand = data[8:12]
    if brand in _FTYP_IMAGE:
        content_type, ext = _FTYP_IMAGE[brand]
        return MediaInfo("image", content_type, ext)
    if brand in _FTYP_AUDIO:
        return MediaInfo("audio", "audio/mp4", "m4a")
    if brand == b"qt  ":
        return MediaInfo("video", "video/quicktime", "mov")
    if brand.startswith(b"3g2"):
        return MediaInfo("video", "video/3gpp2", "3g2")
    if brand.startswith(b"3gp"):
        return MediaInfo("video", "video/3gpp", "3gp")
    movie = _movie(data)
    if movie is not None and movie.tracks:
        handlers = {t.handler for t in movie.tracks}
        if b"vide" not in handlers and b"soun" in handlers:
            return MediaInfo("audio", "audio/mp4", "m4a")
    return MediaInfo("video", "video/mp4", "mp4")


# --- MPEG audio ----------------------------------------------------------------------------------

_MPEG_BITRATES: Final = {
    (1, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (1, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (1, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (2, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (2, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MPEG_RATES: Final = (44100, 48000, 32000)


@dataclass(frozen=True, slots=True)
class _MpegFrame:
    length: int  # bytes
    samples: int
    sample_rate: int
    version: int  # 1 (MPEG-1), 2 (MPEG-2), 25 (MPEG-2.5)
    layer: int
    channels: int


def _mpeg_frame(data: bytes, pos: int) -> _MpegFrame | None:
    """The MPEG audio frame header at ``pos``, if it is a valid one (free format is not accepted)."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    version_bits = (b1 >> 3) & 3
    layer_bits = (b1 >> 1) & 3
    bitrate_index = b2 >> 4
    rate_index = (b2 >> 2) & 3
    if version_bits == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3 or b3 & 3 == 2:
        return None
    version = {3: 1, 2: 2, 0: 25}[version_bits]
    layer = 4 - layer_bits
    bitrate = _MPEG_BITRATES[(1 if version == 1 else 2, layer)][bitrate_index] * 1000
    rate = _MPEG_RATES[rate_index] // (1 if version == 1 else 2 if version == 2 else 4)
    padding = (b2 >> 1) & 1
    if layer == 1:
        length, samples = (12 * bitrate // rate + padding) * 4, 384
    elif layer == 2 or version == 1:
        length, samples = 144 * bitrate // rate + padding, 1152
    else:
        length, samples = 72 * bitrate // rate + padding, 576
    if length < 24:
        return None
    return _MpegFrame(length, samples, rate, version, layer, 1 if (b3 >> 6) == 3 else 2)


def _id3_end(data: bytes) -> int:
    """The offset after an ID3v2 tag at the start (0 if none)."""
    if len(data) < 10 or data[:3] != b"ID3" or any(b & 0x80 for b in data[6:10]):
        return 0
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    footer = 10 if data[5] & 0x10 else 0
    return 10 + size + footer


def _first_mpeg_frame(data: bytes, start: int, *, need_two: bool) -> tuple[int, _MpegFrame] | None:
    """The first valid frame at or after ``start`` within :data:`MP3_RESYNC_BYTES`, confirmed by the next one
    when it fits in the data (always when ``need_two``)."""
    end = min(len(data) - 3, start + MP3_RESYNC_BYTES)
    pos = data.find(b"\xff", start, end)
    while 0 <= pos < end:
        frame = _mpeg_frame(data, pos)
        if frame is not None:
            nxt = pos + frame.length
            if nxt + 4 <= len(data):
                follow = _mpeg_frame(data, nxt)
                if follow is not None and follow.sample_rate == frame.sample_rate and follow.layer == frame.layer:
                    return pos, frame
            elif not need_two:
                return pos, frame
        pos = data.find(b"\xff", pos + 1, end)
    return None


def _xing_frames(data: bytes, pos: int, frame: _MpegFrame) -> int | None:
    """The frame count of a Xing/Info or VBRI header in the frame at ``pos`` (the count excludes that frame)."""
    side = (32 if frame.channels == 2 else 17) if frame.version == 1 else (17 if frame.channels == 2 else 9)
    tag = pos + 4 + side
    if data[tag : tag + 4] in (b"Xing", b"Info") and tag + 12 <= len(data):
        (flags,) = struct.unpack_from(">I", data, tag + 4)
        if flags & 1:
            (frames,) = struct.unpack_from(">I", data, tag + 8)
            return int(frames)
    vbri = pos + 4 + 32
    if data[vbri : vbri + 4] == b"VBRI" and vbri + 18 <= len(data):
        (frames,) = struct.unpack_from(">I", data, vbri + 14)
        return int(frames)
    return None


def _mp3_duration(data: bytes) -> float | None:
    start = _id3_end(data)
    if start > len(data):
        return None
    found = _first_mpeg_frame(data, start, need_two=False)
    if found is None:
        return None
    pos, first = found
    counted = _xing_frames(data, pos, first)
    if counted is not None:
        return counted * first.samples / first.sample_rate
    samples = 0
    while pos + 4 <= len(data):
        frame = _mpeg_frame(data, pos)
        if frame is None or frame.sample_rate != first.sample_rate or frame.layer != first.layer:
            if data[pos : pos + 3] == b"TAG":  # ID3v1 at the end
                break
            resync = _first_mpeg_frame(data, pos + 1, need_two=True)
            if resync is None:
                break
            pos = resync[0]
            continue
        if pos + frame.length > len(data):  # a truncated last frame still decodes partly; count it whole
            samples += frame.samples
            break
        samples += frame.samples
        pos += frame.length
    return samples / first.sample_rate if samples else None


# --- RIFF / FLAC / Ogg ---------------------------------------------------------------------------


def _wav_duration(data: bytes) -> float | None:
    pos = 12
    fmt: tuple[int, int, int, int] | None = None  # format tag, channels, rate, byte rate
    fact_samples: int | None = None
    data_size: int | None = None
    for _ in range(MAX_CHUNKS):
        if pos + 8 > len(data):
            break
        chunk, size = struct.unpack_from("<4sI", data, pos)
        body = pos + 8
        if chunk == b"fmt " and size >= 16 and body + 16 <= len(data):
            tag, channels, rate, byte_rate = struct.unpack_from("<HHII", data, body)
            fmt = (tag, channels, rate, byte_rate)
        elif chunk == b"fact" and size >= 4 and body + 4 <= len(data):
            (fact_samples,) = struct.unpack_from("<I", data, body)
        elif chunk == b"data":
            data_size = min(size, len(data) - body)
            break
        pos = body + size + (size & 1)
    if fmt is None or data_size is None:
        return None
    tag, _, rate, byte_rate = fmt
    if tag not in (1, 3, 0xFFFE) and fact_samples is not None and rate:
        return fact_samples / rate
    return data_size / byte_rate if byte_rate else None


def _flac_duration(data: bytes) -> float | None:
    if len(data) < 4 + 4 + 18 or data[4] & 0x7F != 0:  # STREAMINFO must be the first block
        return None
    info = 8
    packed = int.from_bytes(data[info + 10 : info + 18], "big")
    rate = packed >> 44
    total = packed & ((1 << 36) - 1)
    return total / rate if rate and total else None


def _ogg_duration(data: bytes) -> float | None:
    if len(data) < 28 + 19:
        return None
    segments = data[26]
    payload = 27 + segments
    head = data[payload : payload + 19]
    if head.startswith(b"\x01vorbis") and len(head) >= 16:
        (rate,) = struct.unpack_from("<I", head, 12)
        pre_skip = 0
    elif head.startswith(b"OpusHead") and len(head) >= 12:
        rate = 48000
        (pre_skip,) = struct.unpack_from("<H", head, 10)
    else:
        return None
    last = data.rfind(b"OggS", max(0, len(data) - OGG_TAIL_BYTES))
    if last < 0 or last + 14 > len(data):
        return None
    (granule,) = struct.unpack_from("<q", data, last + 6)
    if rate == 0 or granule <= pre_skip:
        return None
    return float((granule - pre_skip) / rate)


# --- sniffing ------------------------------------------------------------------------------------


def _looks_like_text(head: bytes) -> str | None:
    if b"\0" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # only a multibyte sequence cut at the end is forgiven
            return None
        text = head[: exc.start].decode("utf-8")
    if not text:
        return None
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    return text if controls * 100 <= len(text) else None


def _sniff_text(data: bytes, text: str) -> MediaInfo:
    stripped = text.lstrip("\ufeff \t\r\n")
    lowered = stripped[:512].lower()
    if lowered.startswith("<svg") or (lowered.startswith("<?xml") and "<svg" in lowered):
        return MediaInfo("image", "image/svg+xml", "svg")
    if stripped.startswith("solid") and "facet" in stripped:
        return MediaInfo("model", "model/stl", "stl")
    if stripped[:1] in ("{", "["):
        if '"asset"' in stripped and '"version"' in stripped:
            return MediaInfo("model", "model/gltf+json", "gltf")
        if len(data) <= _JSON_PARSE_LIMIT:
            try:
                json.loads(data)
            except ValueError:
                return MediaInfo("text", "text/plain", "txt")
        return MediaInfo("text", "application/json", "json")
    if _looks_like_obj(stripped):
        return MediaInfo("model", "model/obj", "obj")
    return MediaInfo("text", "text/plain", "txt")


_OBJ_STATEMENTS: Final = frozenset({"v", "vn", "vt", "vp", "f", "o", "g", "s", "l", "p", "mtllib", "usemtl"})


def _looks_like_obj(text: str) -> bool:
    """Wavefront OBJ: the first 200 non-comment lines are all OBJ statements, with vertices of 3+ numbers."""
    statements = [line.split() for line in text.splitlines()[:200]]
    statements = [words for words in statements if words and not words[0].startswith("#")]
    vertices = [words for words in statements if words[0] == "v"]
    if not vertices or any(words[0] not in _OBJ_STATEMENTS for words in statements):
        return False
    try:
        return all(len(words) >= 4 and all(abs(float(w)) < 1e30 for w in words[1:4]) for words in vertices)
    except ValueError:
        return False


def sniff(data: bytes) -> MediaInfo:
    """What ``data`` is, from its bytes alone (see the module docstring); never raises for bytes input."""
    data = bytes(data)
    n = len(data)
    if n == 0:
        return OTHER
    head = data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaInfo("image", "image/png", "png")
    if head.startswith(b"\xff\xd8\xff"):
        return MediaInfo("image", "image/jpeg", "jpeg")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return MediaInfo("image", "image/gif", "gif")
    if head.startswith(b"RIFF") and n >= 12:
        riff = data[8:12]
        if riff == b"WEBP":
            return MediaInfo("image", "image/webp", "webp")
        if riff == b"WAVE":
            return MediaInfo("audio", "audio/wav", "wav")
        if riff == b"AVI ":
            return MediaInfo("video", "video/x-msvideo", "avi")
        return OTHER
    if head.startswith(b"BM") and n >= 26 and int.from_bytes(data[14:18], "little") in _BMP_HEADER_SIZES:
        return MediaInfo("image", "image/bmp", "bmp")
    if head.startswith((b"II*\0", b"MM\0*")):
        return MediaInfo("image", "image/tiff", "tiff")
    if n >= 12 and data[4:8] == b"ftyp":
        return _sniff_ftyp(data)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        doctype = data.find(b"\x42\x82", 4, 64)
        if doctype > 0 and data[doctype + 3 : doctype + 7] == b"webm":
            return MediaInfo("video", "video/webm", "webm")
        return MediaInfo("video", "video/x-matroska", "mkv")
    if head.startswith(b"fLaC"):
        return MediaInfo("audio", "audio/flac", "flac")
    if head.startswith(b"OggS"):
        segments = data[26] if n > 26 else 0
        payload = data[27 + segments : 27 + segments + 8]
        if payload.startswith(b"\x80theora"):
            return MediaInfo("video", "video/ogg", "ogv")
        if payload.startswith(b"OpusHead"):
            return MediaInfo("audio", "audio/ogg", "opus")
        return MediaInfo("audio", "audio/ogg", "ogg")
    if head.startswith(b"FORM") and data[8:12] in (b"AIFF", b"AIFC"):
        return MediaInfo("audio", "audio/aiff", "aiff")
    if head.startswith(b"MThd"):
        return MediaInfo("audio", "audio/midi", "mid")
    if head.startswith(b"glTF") and n >= 12:
        return MediaInfo("model", "model/gltf-binary", "glb")
    if head.startswith((b"ply\n", b"ply\r\n")):
        return MediaInfo("model", "application/ply", "ply")
    if head.startswith(b"%PDF-"):
        return MediaInfo("other", "application/pdf", "pdf")
    if head.startswith(b"PK\x03\x04"):
        name_length = struct.unpack_from("<H", data, 26)[0] if n >= 30 else 0
        name = data[30 : 30 + name_length]
        if name.endswith((b".usdc", b".usda", b".usd")):
            return MediaInfo("model", "model/vnd.usdz+zip", "usdz")
        return MediaInfo("other", "application/zip", "zip")
    if head.startswith(b"\x1f\x8b"):
        return MediaInfo("other", "application/gzip", "gz")
    mp3_start = _id3_end(data)
    if mp3_start:
        return MediaInfo("audio", "audio/mpeg", "mp3")
    if head[0] == 0xFF and n >= 2:
        if head[1] & 0xF6 == 0xF0:  # ADTS: sync, layer 00
            return MediaInfo("audio", "audio/aac", "aac")
        # A frame header at 0, confirmed by the next header whenever the data reaches it (frames <= 1729 bytes).
        found = _first_mpeg_frame(data[:4096], 0, need_two=False)
        if found is not None and found[0] == 0:
            return MediaInfo("audio", "audio/mpeg", "mp3")
    if n >= 84 and struct.unpack_from("<I", data, 80)[0] * 50 + 84 == n and not head.startswith(b"solid"):
        return MediaInfo("model", "model/stl", "stl")
    text = _looks_like_text(data[:TEXT_SNIFF_BYTES])
    if text is not None:
        return _sniff_text(data, text)
    return OTHER


def audio_duration(data: bytes) -> float | None:
    """The duration in seconds of WAV, MP3, FLAC, Ogg Vorbis/Opus or M4A/MP4 bytes; ``None`` when unknown."""
    data = bytes(data)
    info = sniff(data)
    ct = info.content_type
    if ct == "audio/wav":
        return _wav_duration(data)
    if ct == "audio/mpeg":
        return _mp3_duration(data)
    if ct == "audio/flac":
        return _flac_duration(data)
    if ct == "audio/ogg":
        return _ogg_duration(data)
    if ct in ("audio/mp4", "video/mp4", "video/quicktime", "video/3gpp", "video/3gpp2"):
        movie = _movie(data)
        if movie is None or not any(track.handler == b"soun" for track in movie.tracks):
            return None
        return movie.duration
    return None


def video_facts(data: bytes) -> VideoFacts | None:
    """(duration, width, height) of an MP4/QuickTime/3GPP file's first video track; ``None`` when unknown."""
    data = bytes(data)
    if len(data) < 12 or data[4:8] != b"ftyp":
        return None
    movie = _movie(data)
    if movie is None or movie.duration is None:
        return None
    for track in movie.tracks:
        if track.handler == b"vide" and track.width > 0 and track.height > 0:
            return VideoFacts(movie.duration, track.width, track.height)
    for track in movie.tracks:
        if not track.handler and track.width > 0 and track.height > 0:
            return VideoFacts(movie.duration, track.width, track.height)
    return None
