"""Assembles the H.264 stream and the MP4: frame 0 as I_PCM, then one P picture per field.

Kept apart from :mod:`.pipeline` so tests can encode explicit planes and arbitrary motion
fields (the bit-exact motion-compensation checks) without going through images and plans.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .h264 import PCM_MB_PREFIX, PSliceWriter, idr_slice_nal, sequence_for
from .mp4 import mux_mp4
from .slicedata import MotionField, slice_data
from .yuv import YuvFrame, interleave_macroblocks

__all__ = ["EncodedVideo", "encode_mp4"]


@dataclass(frozen=True, slots=True)
class EncodedVideo:
    data: bytes
    codec: str  # RFC 6381, e.g. "avc1.42C020"
    level_idc: int
    frame_count: int


def _sample(nal: bytes) -> bytes:
    return struct.pack(">I", len(nal)) + nal


def encode_mp4(
    frame: YuvFrame,
    fields: Sequence[MotionField],
    fps: int,
    *,
    slice_data_fn: Callable[[int, int, MotionField], str] = slice_data,
) -> EncodedVideo:
    """An MP4 whose frame 0 is ``frame`` and whose frame ``k`` moves frame ``k - 1`` by ``fields[k - 1]``."""
    params, sps, pps = sequence_for(frame.width, frame.height, fps)
    samples = [_sample(idr_slice_nal(interleave_macroblocks(frame, PCM_MB_PREFIX)))]
    writer = PSliceWriter(params.width_mbs, params.height_mbs, slice_data_fn=slice_data_fn)
    samples.extend(_sample(writer.nal(k, field)) for k, field in enumerate(fields, start=1))
    data = mux_mp4(width=frame.width, height=frame.height, fps=fps, sps=sps, pps=pps, samples=samples)
    return EncodedVideo(data=data, codec=params.codec_string, level_idc=params.level_idc, frame_count=len(samples))
