"""A minimal ISO-BMFF (MP4) muxer for one H.264 video track.

Layout: ``ftyp``, ``moov``, ``mdat`` ("fast start": players can start before the whole file
has arrived). Inside ``moov``: ``mvhd``, one ``trak`` with ``tkhd`` and
``mdia``/``mdhd``/``hdlr``/``minf`` (``vmhd``, ``dinf``/``dref``, ``stbl``). The sample
table holds ``stsd`` -> ``avc1`` -> ``avcC`` (length size 4, the SPS and PPS out of band)
plus ``colr`` (``nclx``: BT.601 / SMPTE 170M, limited range, matching the VUI) and
``pasp`` 1:1; ``stts`` (one entry: every frame lasts 512 ticks of a ``fps * 512``
timescale), ``stss`` = [1] (only the IDR is a sync sample), ``stsc`` (one chunk holding
every sample), ``stsz`` and ``stco``.

Determinism: creation and modification times are 0 and no encoder or library version is
written anywhere, so the bytes depend on the samples and the parameters only. ``moov``
has a fixed size for given inputs, so the ``stco`` offset is known before writing it.
No ``edts`` is needed: there are no B-frames, composition time equals decode time and the
first sample starts at 0.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final

__all__ = ["mux_mp4"]

_MEDIA_TICKS_PER_FRAME: Final = 512
_MOVIE_TIMESCALE: Final = 1000
_MATRIX: Final = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
_LANGUAGE_UND: Final = ((ord("u") - 0x60) << 10) | ((ord("n") - 0x60) << 5) | (ord("d") - 0x60)


def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def _avcc(sps: bytes, pps: bytes) -> bytes:
    if len(sps) < 4:
        raise ValueError("SPS too short")
    return _box(
        b"avcC",
        bytes((1, sps[1], sps[2], sps[3], 0xFC | 3, 0xE0 | 1)),  # version, profile, compat, level
        struct.pack(">H", len(sps)),
        sps,
        b"\x01",
        struct.pack(">H", len(pps)),
        pps,
    )


def _avc1(width: int, height: int, sps: bytes, pps: bytes) -> bytes:
    return _box(
        b"avc1",
        bytes(6),  # reserved
        struct.pack(">H", 1),  # data_reference_index
        bytes(16),  # pre_defined, reserved, pre_defined[3]
        struct.pack(">HH", width, height),
        struct.pack(">II", 0x00480000, 0x00480000),  # 72 dpi
        bytes(4),  # reserved
        struct.pack(">H", 1),  # frame_count
        bytes(32),  # compressorname: empty (no version strings)
        struct.pack(">Hh", 0x0018, -1),  # depth, pre_defined
        _avcc(sps, pps),
        _box(b"colr", b"nclx", struct.pack(">HHHB", 6, 6, 6, 0)),
        _box(b"pasp", struct.pack(">II", 1, 1)),
    )


def _moov(
    *,
    width: int,
    height: int,
    fps: int,
    sample_sizes: Sequence[int],
    sps: bytes,
    pps: bytes,
    mdat_payload_offset: int,
) -> bytes:
    count = len(sample_sizes)
    media_timescale = fps * _MEDIA_TICKS_PER_FRAME
    media_duration = count * _MEDIA_TICKS_PER_FRAME
    movie_duration = (count * _MOVIE_TIMESCALE + fps // 2) // fps
    mvhd = _full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, _MOVIE_TIMESCALE, movie_duration),
        struct.pack(">IH", 0x00010000, 0x0100),  # rate 1.0, volume 1.0
        bytes(10),
        _MATRIX,
        bytes(24),  # pre_defined
        struct.pack(">I", 2),  # next_track_ID
    )
    tkhd = _full_box(
        b"tkhd",
        0,
        3,  # track_enabled | track_in_movie
        struct.pack(">IIII", 0, 0, 1, 0),  # times, track_ID, reserved
        struct.pack(">I", movie_duration),
        bytes(8),
        struct.pack(">hhhH", 0, 0, 0, 0),  # layer, alternate_group, volume, reserved
        _MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )
    mdhd = _full_box(
        b"mdhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, media_timescale, media_duration),
        struct.pack(">HH", _LANGUAGE_UND, 0),
    )
    hdlr = _full_box(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"VideoHandler\x00")
    vmhd = _full_box(b"vmhd", 0, 1, bytes(8))
    dinf = _box(b"dinf", _full_box(b"dref", 0, 0, struct.pack(">I", 1), _full_box(b"url ", 0, 1)))
    stbl = _box(
        b"stbl",
        _full_box(b"stsd", 0, 0, struct.pack(">I", 1), _avc1(width, height, sps, pps)),
        _full_box(b"stts", 0, 0, struct.pack(">III", 1, count, _MEDIA_TICKS_PER_FRAME)),
        _full_box(b"stss", 0, 0, struct.pack(">II", 1, 1)),
        _full_box(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, count, 1)),
        _full_box(b"stsz", 0, 0, struct.pack(f">II{count}I", 0, count, *sample_sizes)),
        _full_box(b"stco", 0, 0, struct.pack(">II", 1, mdat_payload_offset)),
    )
    minf = _box(b"minf", vmhd, dinf, stbl)
    mdia = _box(b"mdia", mdhd, hdlr, minf)
    return _box(b"moov", mvhd, _box(b"trak", tkhd, mdia))


_FTYP: Final = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isom", b"iso2", b"avc1", b"mp41")


def mux_mp4(
    *,
    width: int,
    height: int,
    fps: int,
    sps: bytes,
    pps: bytes,
    samples: Sequence[bytes],
) -> bytes:
    """An MP4 file holding ``samples`` (AVCC: NAL units with 4-byte length prefixes).

    Sample 0 must be the IDR picture; it is the only sync sample.
    """
    if not samples:
        raise ValueError("at least one sample is needed")
    sizes = [len(s) for s in samples]
    payload = sum(sizes)
    if payload + 8 > 0xFFFFFFFF:
        raise ValueError("mdat too large for a 32-bit box")

    def moov(offset: int) -> bytes:
        return _moov(
            width=width, height=height, fps=fps, sample_sizes=sizes, sps=sps, pps=pps, mdat_payload_offset=offset
        )

    # moov's size does not depend on the stco value: build it once to learn the offset.
    offset = len(_FTYP) + len(moov(0)) + 8
    return b"".join((_FTYP, moov(offset), struct.pack(">I", 8 + payload), b"mdat", *samples))
