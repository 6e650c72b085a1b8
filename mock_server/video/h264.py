"""H.264 Constrained Baseline syntax: parameter sets, level choice, IDR (I_PCM) and P slices.

What the stream looks like and why:

* **SPS**: ``profile_idc`` 66 with ``constraint_set0_flag`` and ``constraint_set1_flag``
  (Constrained Baseline, codec string ``avc1.42C0xx``); ``pic_order_cnt_type`` 2 (output
  order is decode order, nothing to code per slice); ``max_num_ref_frames`` 1; 8-bit
  ``frame_num``; frame cropping when the size is not a multiple of 16 (CropUnitX/Y are 2 in
  4:2:0, hence even sizes only). VUI: square pixels, BT.601 / SMPTE 170M primaries,
  transfer and matrix with limited range, timing info (fixed frame rate), and
  ``bitstream_restriction`` with ``max_num_reorder_frames`` 0 and
  ``max_dec_frame_buffering`` 1 so decoders output every frame at once.
* **PPS**: CAVLC, one reference index, QP 26 (irrelevant: nothing is quantised),
  ``deblocking_filter_control_present_flag`` 1 so each slice can switch deblocking off.
* **IDR**: one slice of I_PCM macroblocks: a lossless copy of the 4:2:0 planes. After the
  first ``mb_type`` the stream is byte-aligned, so every following macroblock is the two
  bytes ``0D 00`` (ue(25) plus seven alignment zeros) and 384 raw samples; the picture is a
  rearrangement of bytes (:func:`.yuv.interleave_macroblocks`).
* **P slices**: one slice per picture, ``disable_deblocking_filter_idc`` 1 (different
  vectors on neighbouring macroblocks would otherwise be filtered and the shifted pictures
  would stop being exact copies), sliding-window reference marking. The header has a fixed
  length (22 bits), so the slice data (:mod:`.slicedata`), which does not depend on
  ``frame_num``, is cached per motion field and appended with one integer shift.
* **Level** (:func:`choose_level`): the smallest level of Table A-1 whose frame size, macroblock
  rate, DPB and CPB limits fit *and* whose MinCR rule of A.3.1 admits an all-I_PCM first
  access unit: ``bytes <= 384 * max(PicSizeInMbs, MaxMBPS / 172) / MinCR``. That is
  3.2 for 320x180, 4.2 for 640x360 and 5.2 for 720p. Lower "plausible" levels would be
  wrong for a decoder that takes them at their word.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .bitstream import BitWriter, nal_unit, rbsp_to_ebsp, ue_bits
from .slicedata import MotionField, SeparableField, UniformField, slice_data

__all__ = [
    "LEVELS",
    "PCM_MB_PREFIX",
    "PSliceWriter",
    "SequenceParams",
    "build_pps",
    "build_sps",
    "choose_level",
    "idr_slice_nal",
    "sequence_for",
]

PROFILE_IDC: Final = 66
CONSTRAINT_FLAGS: Final = 0xC0  # constraint_set0_flag and constraint_set1_flag
LOG2_MAX_FRAME_NUM: Final = 8
PCM_BYTES_PER_MB: Final = 384  # 256 luma + 2 * 64 chroma samples, 8 bits each
PCM_MB_PREFIX: Final = b"\x0d\x00"  # ue(25) (I_PCM) + 7 pcm_alignment_zero_bits, once aligned
_MB_TYPE_I_PCM: Final = 25
_SLICE_TYPE_P: Final = 5  # 5..9 = "all slices of the picture have this type"
_SLICE_TYPE_I: Final = 7
_NAL_SLICE: Final = 1
_NAL_IDR: Final = 5
_NAL_SPS: Final = 7
_NAL_PPS: Final = 8

# Table A-1 (without level 1b): level_idc, MaxMBPS, MaxFS, MaxDpbMbs, MaxCPB (1000 or 1200
# bits), MinCR (Table as applicable to Baseline).
LEVELS: Final[tuple[tuple[int, int, int, int, int, int], ...]] = (
    (10, 1485, 99, 396, 175, 2),
    (11, 3000, 396, 900, 500, 2),
    (12, 6000, 396, 2376, 1000, 2),
    (13, 11880, 396, 2376, 2000, 2),
    (20, 11880, 396, 2376, 2000, 2),
    (21, 19800, 792, 4752, 4000, 2),
    (22, 20250, 1620, 8100, 4000, 2),
    (30, 40500, 1620, 8100, 10000, 2),
    (31, 108000, 3600, 18000, 14000, 4),
    (32, 216000, 5120, 20480, 20000, 4),
    (40, 245760, 8192, 32768, 25000, 4),
    (41, 245760, 8192, 32768, 62500, 2),
    (42, 522240, 8704, 34816, 62500, 2),
    (50, 589824, 22080, 110400, 135000, 2),
    (51, 983040, 36864, 184320, 240000, 2),
    (52, 2073600, 36864, 184320, 240000, 2),
)
_CPB_NAL_FACTOR: Final = 1200  # cpbBrNalFactor for Baseline


def choose_level(width_mbs: int, height_mbs: int, fps: int, first_au_bytes: int) -> int:
    """Smallest ``level_idc`` that admits the stream (see the module docstring).

    Sizes beyond level 5.2 are never produced by the profiles; they get 52 anyway
    (decoders in practice ignore the level).
    """
    mbs = width_mbs * height_mbs
    for level_idc, max_mbps, max_fs, max_dpb_mbs, max_cpb, min_cr in LEVELS:
        if mbs > max_fs or width_mbs * width_mbs > 8 * max_fs or height_mbs * height_mbs > 8 * max_fs:
            continue
        if mbs * fps > max_mbps or mbs > max_dpb_mbs:
            continue
        if first_au_bytes * 8 > max_cpb * _CPB_NAL_FACTOR:
            continue
        # A.3.1: bytes(AU 0) <= 384 * Max(PicSizeInMbs, fR * MaxMBPS) / MinCR with fR = 1/172.
        if first_au_bytes * min_cr * 172 > 384 * max(mbs * 172, max_mbps):
            continue
        return level_idc
    return LEVELS[-1][0]


@dataclass(frozen=True, slots=True)
class SequenceParams:
    """Everything the parameter sets depend on."""

    width: int
    height: int
    fps: int
    level_idc: int

    def __post_init__(self) -> None:
        if self.width < 2 or self.height < 2 or self.width % 2 or self.height % 2:
            raise ValueError(f"width and height must be even and >= 2, got {self.width}x{self.height}")
        if not 1 <= self.fps <= 1000:
            raise ValueError(f"unsupported frame rate {self.fps}")

    @property
    def width_mbs(self) -> int:
        return (self.width + 15) // 16

    @property
    def height_mbs(self) -> int:
        return (self.height + 15) // 16

    @property
    def codec_string(self) -> str:
        """RFC 6381 codec string, e.g. ``avc1.42C020``."""
        return f"avc1.{PROFILE_IDC:02X}{CONSTRAINT_FLAGS:02X}{self.level_idc:02X}"


def build_sps(params: SequenceParams) -> bytes:
    """The sequence parameter set NAL unit."""
    w = BitWriter()
    w.u(8, PROFILE_IDC).u(8, CONSTRAINT_FLAGS).u(8, params.level_idc)
    w.ue(0)  # seq_parameter_set_id
    w.ue(LOG2_MAX_FRAME_NUM - 4)
    w.ue(2)  # pic_order_cnt_type
    w.ue(1)  # max_num_ref_frames
    w.flag(False)  # gaps_in_frame_num_value_allowed_flag
    w.ue(params.width_mbs - 1)
    w.ue(params.height_mbs - 1)  # pic_height_in_map_units_minus1
    w.flag(True)  # frame_mbs_only_flag
    w.flag(True)  # direct_8x8_inference_flag
    crop_right = (params.width_mbs * 16 - params.width) // 2
    crop_bottom = (params.height_mbs * 16 - params.height) // 2
    cropping = bool(crop_right or crop_bottom)
    w.flag(cropping)
    if cropping:
        w.ue(0).ue(crop_right).ue(0).ue(crop_bottom)
    w.flag(True)  # vui_parameters_present_flag
    # VUI (E.1.1)
    w.flag(True).u(8, 1)  # aspect_ratio_info_present_flag, aspect_ratio_idc 1 = 1:1
    w.flag(False)  # overscan_info_present_flag
    w.flag(True)  # video_signal_type_present_flag
    w.u(3, 5)  # video_format: unspecified
    w.flag(False)  # video_full_range_flag: limited ("TV") range
    w.flag(True)  # colour_description_present_flag
    w.u(8, 6).u(8, 6).u(8, 6)  # primaries, transfer, matrix: SMPTE 170M (BT.601 525)
    w.flag(False)  # chroma_loc_info_present_flag
    w.flag(True)  # timing_info_present_flag
    w.u(32, 1).u(32, 2 * params.fps)  # num_units_in_tick, time_scale: two ticks per frame
    w.flag(True)  # fixed_frame_rate_flag
    w.flag(False).flag(False)  # nal_hrd / vcl_hrd_parameters_present_flag
    w.flag(False)  # pic_struct_present_flag
    w.flag(True)  # bitstream_restriction_flag
    w.flag(True)  # motion_vectors_over_pic_boundaries_flag
    w.ue(0).ue(0)  # max_bytes_per_pic_denom, max_bits_per_mb_denom: no limit
    w.ue(15).ue(15)  # log2_max_mv_length_horizontal / vertical
    w.ue(0)  # max_num_reorder_frames
    w.ue(1)  # max_dec_frame_buffering
    w.trailing_bits()
    return nal_unit(3, _NAL_SPS, w.to_bytes())


def build_pps() -> bytes:
    """The picture parameter set NAL unit (independent of the sequence)."""
    w = BitWriter()
    w.ue(0).ue(0)  # pic_parameter_set_id, seq_parameter_set_id
    w.flag(False)  # entropy_coding_mode_flag: CAVLC
    w.flag(False)  # bottom_field_pic_order_in_frame_present_flag
    w.ue(0)  # num_slice_groups_minus1
    w.ue(0).ue(0)  # num_ref_idx_l0/l1_default_active_minus1
    w.flag(False).u(2, 0)  # weighted_pred_flag, weighted_bipred_idc
    w.se(0).se(0).se(0)  # pic_init_qp_minus26, pic_init_qs_minus26, chroma_qp_index_offset
    w.flag(True)  # deblocking_filter_control_present_flag
    w.flag(False)  # constrained_intra_pred_flag
    w.flag(False)  # redundant_pic_cnt_present_flag
    w.trailing_bits()
    return nal_unit(3, _NAL_PPS, w.to_bytes())


def idr_slice_nal(macroblocks: bytes | bytearray | memoryview) -> bytes:
    """The IDR picture: one I slice of I_PCM macroblocks.

    ``macroblocks`` holds every macroblock in raster order as ``PCM_MB_PREFIX`` followed by
    256 Y, 64 Cb and 64 Cr samples (the layout of :func:`.yuv.interleave_macroblocks`).
    The prefix of the first macroblock is replaced by the real first ``mb_type`` and its
    alignment bits, which depend on where the slice header ends.
    """
    record = len(PCM_MB_PREFIX) + PCM_BYTES_PER_MB
    if not macroblocks or len(macroblocks) % record:
        raise ValueError("macroblock data is not a whole number of PCM macroblocks")
    w = BitWriter()
    w.ue(0)  # first_mb_in_slice
    w.ue(_SLICE_TYPE_I)
    w.ue(0)  # pic_parameter_set_id
    w.u(LOG2_MAX_FRAME_NUM, 0)  # frame_num
    w.ue(0)  # idr_pic_id
    w.flag(False).flag(False)  # no_output_of_prior_pics_flag, long_term_reference_flag
    w.se(0)  # slice_qp_delta
    w.ue(1)  # disable_deblocking_filter_idc
    w.ue(_MB_TYPE_I_PCM)
    w.align_zero()  # pcm_alignment_zero_bit
    head = rbsp_to_ebsp(w.to_bytes())
    # Limited-range samples are 16..240 and the only zero bytes are the isolated second
    # prefix bytes, so the sample data can never need emulation prevention; the header can
    # (in principle), and a header ending in "00 00" is followed by a sample >= 16, which
    # needs none either. The data is checked anyway (one fast regex scan).
    body = memoryview(macroblocks)[len(PCM_MB_PREFIX) :]
    tail = rbsp_to_ebsp(bytes(body) + b"\x80")  # + rbsp_trailing_bits
    return bytes(((3 << 5) | _NAL_IDR,)) + head + tail


_P_HEADER_BITS: Final = 22


def _p_slice_header(frame_num: int) -> str:
    bits = (
        "1"  # first_mb_in_slice ue(0)
        + ue_bits(_SLICE_TYPE_P)
        + "1"  # pic_parameter_set_id ue(0)
        + format(frame_num % (1 << LOG2_MAX_FRAME_NUM), f"0{LOG2_MAX_FRAME_NUM}b")
        + "0"  # num_ref_idx_active_override_flag
        + "0"  # ref_pic_list_modification_flag_l0
        + "0"  # adaptive_ref_pic_marking_mode_flag (sliding window)
        + "1"  # slice_qp_delta se(0)
        + ue_bits(1)  # disable_deblocking_filter_idc = 1
    )
    if len(bits) != _P_HEADER_BITS:  # pragma: no cover - guards edits to the header
        raise AssertionError("P slice header length changed")
    return bits


def _field_key(field: MotionField) -> MotionField:
    """A canonical form so equal fields share one cache entry."""
    if isinstance(field, SeparableField):
        fx, fy = field.fx, field.fy
        if fx and fy and fx.count(fx[0]) == len(fx) and fy.count(fy[0]) == len(fy):
            return UniformField((fx[0], fy[0]))
    return field


class PSliceWriter:
    """Writes P-picture NAL units for one sequence, caching slice data per motion field.

    One instance per encoded video (the cache is not shared between calls).
    """

    __slots__ = ("_cache", "_height_mbs", "_slice_data", "_width_mbs")

    def __init__(
        self,
        width_mbs: int,
        height_mbs: int,
        *,
        slice_data_fn: Callable[[int, int, MotionField], str] = slice_data,
    ) -> None:
        self._width_mbs = width_mbs
        self._height_mbs = height_mbs
        self._slice_data = slice_data_fn
        self._cache: dict[MotionField, tuple[int, int]] = {}

    def nal(self, frame_num: int, field: MotionField) -> bytes:
        """The NAL unit of P picture ``frame_num`` (1-based decode index) moving by ``field``."""
        key = _field_key(field)
        cached = self._cache.get(key)
        if cached is None:
            data = self._slice_data(self._width_mbs, self._height_mbs, key) + "1"  # stop bit
            data += "0" * (-(len(data) + _P_HEADER_BITS) % 8)
            cached = self._cache[key] = (int(data, 2), len(data))
        value, length = cached
        header = int(_p_slice_header(frame_num), 2)
        total = _P_HEADER_BITS + length
        rbsp = ((header << length) | value).to_bytes(total // 8, "big")
        return bytes(((2 << 5) | _NAL_SLICE,)) + rbsp_to_ebsp(rbsp)


def sequence_for(width: int, height: int, fps: int) -> tuple[SequenceParams, bytes, bytes]:
    """Parameters (with the level for an all-I_PCM first frame), SPS and PPS."""
    wm = (width + 15) // 16
    hm = (height + 15) // 16
    # Upper bound of the IDR access unit: header (< 16 bytes), prefixes, samples, stop byte.
    idr_bytes = wm * hm * (PCM_BYTES_PER_MB + len(PCM_MB_PREFIX)) + 16
    params = SequenceParams(width, height, fps, choose_level(wm, hm, fps, idr_bytes))
    return params, build_sps(params), build_pps()
