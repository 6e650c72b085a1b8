"""Test helper: prove that a blob is a real, cleanly decodable H.264 MP4.

Import it from any test (``from tests.videocheck import assert_real_mp4``). Needs ``av``
(PyAV) and numpy, both test dependencies.

API:

* :func:`check_mp4_layout` parses the boxes and asserts the structure the video writer
  promises: top level exactly ``ftyp, moov, mdat``; one ``avc1`` track whose ``avcC``
  says profile 66 with the Constrained Baseline constraint flags (compat byte ``0xC0``);
  ``stss`` = [1]; one chunk whose ``stco`` offset plus the ``stsz`` sizes cover the
  ``mdat`` payload exactly; every sample a whole number of length-prefixed NAL units.
  Returns the parsed facts (:class:`Mp4Layout`).
* :func:`decode_strict` decodes with PyAV and fails on *any* decoder complaint: plain
  decoding conceals damage (a corrupted P slice still yields every frame), so it sets
  ``err_detect=explode`` and also captures FFmpeg's log, failing on ERROR entries.
  Returns :class:`DecodedVideo` (facts and the planes of the frames asked for).
* :func:`assert_real_mp4` = both, plus the promised codec, profile, size, frame count and
  duration.
* :func:`psnr` and :func:`mean_abs_diff` compare arrays.

Failures raise :class:`VideoCheckError` (an ``AssertionError``).
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

import av
import av.logging
import numpy as np
import numpy.typing as npt

__all__ = [
    "Box",
    "DecodedFrame",
    "DecodedVideo",
    "Mp4Layout",
    "VideoCheckError",
    "assert_real_mp4",
    "check_mp4_layout",
    "decode_strict",
    "mean_abs_diff",
    "parse_boxes",
    "psnr",
]

Plane = npt.NDArray[np.uint8]


class VideoCheckError(AssertionError):
    """The blob is not the MP4 it claims to be."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise VideoCheckError(message)


@dataclass(frozen=True)
class Box:
    kind: str
    start: int  # offset of the box header
    size: int  # whole box, header included
    header_size: int

    @property
    def payload_start(self) -> int:
        return self.start + self.header_size

    @property
    def end(self) -> int:
        return self.start + self.size


def parse_boxes(data: bytes, start: int = 0, end: int | None = None) -> list[Box]:
    """The boxes between ``start`` and ``end`` (one level), checking that they tile the range."""
    end = len(data) if end is None else end
    boxes = []
    pos = start
    while pos < end:
        _require(pos + 8 <= end, f"truncated box header at {pos}")
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            _require(pos + 16 <= end, f"truncated large box header at {pos}")
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        _require(size >= header and pos + size <= end, f"box {kind!r} at {pos} overruns its parent")
        boxes.append(Box(kind.decode("latin-1"), pos, size, header))
        pos += size
    return boxes


def _child(data: bytes, parent: Box, kind: str, skip: int = 0) -> Box:
    found = [b for b in parse_boxes(data, parent.payload_start + skip, parent.end) if b.kind == kind]
    _require(len(found) == 1, f"expected one {kind!r} in {parent.kind!r}, found {len(found)}")
    return found[0]


def _path(data: bytes, root: Box, *kinds: str) -> Box:
    box = root
    for kind in kinds:
        box = _child(data, box, kind)
    return box


def _full_box_entries(data: bytes, box: Box, fmt: str, count_offset: int = 4) -> list[tuple[int, ...]]:
    (count,) = struct.unpack_from(">I", data, box.payload_start + count_offset)
    size = struct.calcsize(fmt)
    first = box.payload_start + count_offset + 4
    _require(first + count * size <= box.end, f"{box.kind} entries overrun the box")
    return [struct.unpack_from(fmt, data, first + i * size) for i in range(count)]


@dataclass(frozen=True)
class Mp4Layout:
    top_level: tuple[str, ...]
    avc_profile: int
    avc_compat: int
    avc_level: int
    width: int
    height: int
    timescale: int
    sample_deltas: tuple[tuple[int, int], ...]  # stts (count, delta) entries
    sample_sizes: tuple[int, ...]
    sync_samples: tuple[int, ...]
    chunk_offsets: tuple[int, ...]
    mdat_payload: tuple[int, int]  # (start, end)
    sps: bytes
    pps: bytes

    @property
    def duration(self) -> float:
        return sum(c * d for c, d in self.sample_deltas) / self.timescale


def check_mp4_layout(data: bytes) -> Mp4Layout:
    """Parse ``data`` and assert the promised MP4 structure (see the module docstring)."""
    top = parse_boxes(data)
    kinds = tuple(b.kind for b in top)
    _require(kinds == ("ftyp", "moov", "mdat"), f"top-level boxes are {kinds}, expected ftyp, moov, mdat")
    moov, mdat = top[1], top[2]
    traks = [b for b in parse_boxes(data, moov.payload_start, moov.end) if b.kind == "trak"]
    _require(len(traks) == 1, f"expected one track, found {len(traks)}")
    mdia = _path(data, traks[0], "mdia")
    hdlr = _child(data, mdia, "hdlr")
    _require(data[hdlr.payload_start + 8 : hdlr.payload_start + 12] == b"vide", "track is not video")
    mdhd = _child(data, mdia, "mdhd")
    version = data[mdhd.payload_start]
    (timescale,) = struct.unpack_from(">I", data, mdhd.payload_start + (20 if version == 1 else 12))
    stbl = _path(data, mdia, "minf", "stbl")
    stsd = _child(data, stbl, "stsd")
    (entries,) = struct.unpack_from(">I", data, stsd.payload_start + 4)
    _require(entries == 1, "expected one sample description")
    avc1 = _child(data, stsd, "avc1", skip=8)
    width, height = struct.unpack_from(">HH", data, avc1.payload_start + 24)
    avcc = _child(data, avc1, "avcC", skip=78)
    p = avcc.payload_start
    _require(data[p] == 1, "avcC configurationVersion is not 1")
    profile, compat, level = data[p + 1], data[p + 2], data[p + 3]
    _require(profile == 66, f"avcC profile {profile}, expected 66 (Baseline)")
    _require(compat == 0xC0, f"avcC compatibility byte 0x{compat:02X}, expected 0xC0 (Constrained Baseline)")
    _require(data[p + 4] & 3 == 3, "NAL length size is not 4")
    _require(data[p + 5] & 0x1F == 1, "expected one SPS")
    (sps_len,) = struct.unpack_from(">H", data, p + 6)
    sps = data[p + 8 : p + 8 + sps_len]
    q = p + 8 + sps_len
    _require(data[q] == 1, "expected one PPS")
    (pps_len,) = struct.unpack_from(">H", data, q + 1)
    pps = data[q + 3 : q + 3 + pps_len]
    _require(sps[:1] == b"\x67" and sps[1:4] == bytes((profile, compat, level)), "SPS does not match avcC")
    _require(pps[:1] == b"\x68", "PPS NAL header is wrong")

    stts = [(c, d) for c, d in _full_box_entries(data, _child(data, stbl, "stts"), ">II")]
    stss = tuple(e[0] for e in _full_box_entries(data, _child(data, stbl, "stss"), ">I"))
    stsc = _full_box_entries(data, _child(data, stbl, "stsc"), ">III")
    stco = tuple(e[0] for e in _full_box_entries(data, _child(data, stbl, "stco"), ">I"))
    stsz_box = _child(data, stbl, "stsz")
    uniform_size, count = struct.unpack_from(">II", data, stsz_box.payload_start + 4)
    if uniform_size:
        sizes = (uniform_size,) * count
    else:
        sizes = struct.unpack_from(f">{count}I", data, stsz_box.payload_start + 12)
    _require(sum(c for c, _ in stts) == count, "stts does not cover every sample")
    _require(stss == (1,), f"sync samples are {stss}, expected [1]")
    _require(len(stco) == 1 and stsc == [(1, count, 1)], "expected all samples in one chunk")
    payload = (mdat.payload_start, mdat.end)
    _require(stco[0] == payload[0], f"stco offset {stco[0]} != mdat payload start {payload[0]}")
    _require(stco[0] + sum(sizes) == payload[1], "sample sizes do not cover the mdat payload exactly")
    pos = stco[0]
    for index, size in enumerate(sizes):
        end = pos + size
        while pos < end:
            _require(pos + 4 <= end, f"sample {index + 1}: truncated NAL length")
            (nal_len,) = struct.unpack_from(">I", data, pos)
            _require(nal_len > 0 and pos + 4 + nal_len <= end, f"sample {index + 1}: NAL overruns the sample")
            pos += 4 + nal_len
    return Mp4Layout(
        top_level=kinds,
        avc_profile=profile,
        avc_compat=compat,
        avc_level=level,
        width=width,
        height=height,
        timescale=timescale,
        sample_deltas=tuple(stts),
        sample_sizes=tuple(sizes),
        sync_samples=stss,
        chunk_offsets=stco,
        mdat_payload=payload,
        sps=bytes(sps),
        pps=bytes(pps),
    )


@dataclass(frozen=True)
class DecodedFrame:
    index: int
    y: Plane
    u: Plane
    v: Plane
    rgb: Plane | None = None


@dataclass(frozen=True)
class DecodedVideo:
    codec: str
    profile: str
    width: int
    height: int
    frame_count: int
    duration: float  # from the stream's duration and time base
    pix_fmt: str
    frames: dict[int, DecodedFrame] = field(repr=False)  # only the frames asked for


def _plane(frame: av.VideoFrame, index: int) -> Plane:
    plane = frame.planes[index]
    rows = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(plane.height, plane.line_size)
    return rows[:, : plane.width].copy()


def _rgb(frame: av.VideoFrame) -> Plane:
    return np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)


def decode_strict(data: bytes, *, keep: Iterable[int] | None = None, rgb: bool = False) -> DecodedVideo:
    """Decode every frame, failing on any decoder error; keep the planes of ``keep`` (None: all).

    ``rgb=True`` also converts the kept frames to RGB with FFmpeg's swscale (BT.601 as
    signalled).
    """
    wanted = None if keep is None else set(keep)
    frames: dict[int, DecodedFrame] = {}
    previous_level = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture(local=False) as logs:
            try:
                with av.open(io.BytesIO(data), mode="r") as container:
                    _require(len(container.streams.video) == 1, "expected one video stream")
                    stream = container.streams.video[0]
                    ctx = stream.codec_context
                    ctx.options = {"err_detect": "explode"}
                    codec = ctx.name
                    profile = str(ctx.profile)
                    time_base = stream.time_base
                    duration = float(stream.duration * time_base) if stream.duration and time_base else 0.0
                    count = 0
                    width = height = 0
                    pix_fmt = ""
                    for frame in container.decode(stream):
                        width, height, pix_fmt = frame.width, frame.height, frame.format.name
                        if wanted is None or count in wanted:
                            frames[count] = DecodedFrame(
                                index=count,
                                y=_plane(frame, 0),
                                u=_plane(frame, 1),
                                v=_plane(frame, 2),
                                rgb=_rgb(frame) if rgb else None,
                            )
                        count += 1
            except av.FFmpegError as exc:
                raise VideoCheckError(f"decoder error: {exc}") from exc
        errors = [message for level, _, message in logs if level <= av.logging.ERROR]
        _require(not errors, f"decoder logged errors: {errors[:5]}")
    finally:
        av.logging.set_level(previous_level)
    return DecodedVideo(
        codec=codec,
        profile=profile,
        width=width,
        height=height,
        frame_count=count,
        duration=duration,
        pix_fmt=pix_fmt,
        frames=frames,
    )


def assert_real_mp4(
    data: bytes,
    *,
    width: int,
    height: int,
    frame_count: int,
    fps: float,
    keep: Iterable[int] | None = (),
    rgb: bool = False,
) -> DecodedVideo:
    """:func:`check_mp4_layout` + :func:`decode_strict` + the promised facts."""
    layout = check_mp4_layout(data)
    _require((layout.width, layout.height) == (width, height), f"avc1 size {layout.width}x{layout.height}")
    _require(len(layout.sample_sizes) == frame_count, f"{len(layout.sample_sizes)} samples, expected {frame_count}")
    _require(math.isclose(layout.duration, frame_count / fps, abs_tol=1e-6), f"track duration {layout.duration}")
    decoded = decode_strict(data, keep=keep, rgb=rgb)
    _require(decoded.codec == "h264", f"codec {decoded.codec}")
    _require(decoded.profile == "Constrained Baseline", f"profile {decoded.profile!r}")
    _require((decoded.width, decoded.height) == (width, height), f"decoded size {decoded.width}x{decoded.height}")
    _require(decoded.pix_fmt == "yuv420p", f"pixel format {decoded.pix_fmt}")
    _require(decoded.frame_count == frame_count, f"decoded {decoded.frame_count} frames, expected {frame_count}")
    _require(math.isclose(decoded.duration, frame_count / fps, abs_tol=1e-6), f"duration {decoded.duration}")
    return decoded


def psnr(a: npt.ArrayLike, b: npt.ArrayLike, peak: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB (``inf`` for identical arrays)."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"shapes differ: {x.shape} vs {y.shape}")
    mse = float(np.mean((x - y) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(peak * peak / mse)


def mean_abs_diff(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Mean absolute difference of two equally shaped arrays."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"shapes differ: {x.shape} vs {y.shape}")
    return float(np.mean(np.abs(x - y)))
