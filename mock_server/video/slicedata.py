"""P-slice data: motion fields, motion-vector prediction and the three slice-data writers.

Every P picture we write is made of two macroblock kinds only (CAVLC, one reference):

* ``P_Skip``: nothing is coded but the ``mb_skip_run`` that covers it; its motion vector is
  *inferred* (8.4.1.1): ``(0, 0)`` when the left (A) or upper (B) neighbour is unavailable
  or is a refIdx-0 partition with motion vector exactly ``(0, 0)``; otherwise the 16x16
  median prediction below.
* ``P_L0_16x16`` with ``coded_block_pattern`` 0 (no residual): ``mb_type`` ue(0), the two
  ``mvd_l0`` components se(v), ``coded_block_pattern`` me(v) codeNum 0. No ``ref_idx``
  (one active reference) and no ``mb_qp_delta`` (cbp 0). The decoded vector is
  ``mvp + mvd`` where ``mvp`` is the 16x16 prediction of 8.4.1.3: A = left, B = above,
  C = above-right, or D = above-left when C is unavailable; "B and C unavailable, A
  available" makes B = C = A; if exactly one neighbour has refIdx 0 its vector is the
  prediction, otherwise the component-wise median (unavailable neighbours count as
  ``(0, 0)`` with refIdx -1). All our inter partitions use refIdx 0.

A writer emits ``P_Skip`` wherever the inferred vector already equals the wanted one, and
``P_L0_16x16`` with ``mvd = mv - mvp`` elsewhere, so the decoded field always equals the
wanted field exactly.

Three writers produce the same bits (tests check this over many sizes and fields):

* :func:`slice_data_generic` walks every macroblock; the reference implementation, used
  for arbitrary (:class:`DenseField`) fields.
* :func:`slice_data_uniform` is the closed form for one vector everywhere (pans, sways):
  MB 0 carries the vector, the rest of the top row and the left column are coded with
  ``mvd (0, 0)`` (P_Skip would infer ``(0, 0)`` there), everything else is skipped.
* :func:`slice_data_separable` handles fields ``mv(i, j) = (fx[i], fy[j])`` (the zoom
  field). Within a picture, row ``j`` is fully determined by ``(fy[j], fy[j-1])`` because
  both rows share ``fx``, so each distinct pair is coded once; inside a row only columns
  next to a non-zero ``fx`` need the general rule, the "quiet" stretches between them all
  get the same code. That keeps a 720p zoom frame at a few dozen rule evaluations instead
  of 3600.

Slice data never depends on ``frame_num`` or anything else in the header, so callers cache
it per field. Bits are returned as ``str`` (see :mod:`.bitstream`), without the RBSP
trailing bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .bitstream import se_bits, ue_bits

__all__ = [
    "MV",
    "DenseField",
    "MotionField",
    "SeparableField",
    "UniformField",
    "field_vectors",
    "slice_data",
    "slice_data_generic",
    "slice_data_separable",
    "slice_data_uniform",
]

MV = tuple[int, int]
"""A luma motion vector ``(x, y)`` in quarter-sample units (what ``mvd_l0`` codes)."""

_ZERO: MV = (0, 0)


@dataclass(frozen=True, slots=True)
class UniformField:
    """The same vector for every macroblock."""

    mv: MV


@dataclass(frozen=True, slots=True)
class SeparableField:
    """``mv(i, j) = (fx[i], fy[j])`` for macroblock column ``i`` and row ``j``."""

    fx: tuple[int, ...]
    fy: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DenseField:
    """One vector per macroblock, in raster order."""

    mvs: tuple[MV, ...]


MotionField = UniformField | SeparableField | DenseField


def field_vectors(field: MotionField, width_mbs: int, height_mbs: int) -> list[MV]:
    """The field as one vector per macroblock in raster order."""
    if isinstance(field, UniformField):
        return [field.mv] * (width_mbs * height_mbs)
    if isinstance(field, SeparableField):
        _check_separable(width_mbs, height_mbs, field.fx, field.fy)
        return [(x, y) for y in field.fy for x in field.fx]
    if len(field.mvs) != width_mbs * height_mbs:
        raise ValueError("dense field size does not match the picture")
    return list(field.mvs)


def slice_data(width_mbs: int, height_mbs: int, field: MotionField) -> str:
    """Slice data bits for ``field`` with the fastest applicable writer."""
    if isinstance(field, UniformField):
        return slice_data_uniform(width_mbs, height_mbs, field.mv)
    if isinstance(field, SeparableField):
        fx, fy = field.fx, field.fy
        if fx and fy and fx.count(fx[0]) == len(fx) and fy.count(fy[0]) == len(fy):
            _check_separable(width_mbs, height_mbs, fx, fy)
            return slice_data_uniform(width_mbs, height_mbs, (fx[0], fy[0]))
        return slice_data_separable(width_mbs, height_mbs, fx, fy)
    return slice_data_generic(width_mbs, height_mbs, field.mvs)


def _median(a: int, b: int, c: int) -> int:
    if a > b:
        a, b = b, a
    if c <= a:
        return a
    if c >= b:
        return b
    return c


def _coded(dx: int, dy: int) -> str:
    # mb_type ue(0) = P_L0_16x16, mvd_l0 x/y se(v), coded_block_pattern me(v) codeNum 0 (cbp 0).
    return "1" + se_bits(dx) + se_bits(dy) + "1"


def _check_size(width_mbs: int, height_mbs: int) -> None:
    if width_mbs < 1 or height_mbs < 1:
        raise ValueError("a picture has at least one macroblock")


def slice_data_generic(width_mbs: int, height_mbs: int, mvs: Sequence[MV]) -> str:
    """Reference writer: per-macroblock MV prediction and P_Skip inference."""
    _check_size(width_mbs, height_mbs)
    wm = width_mbs
    count = wm * height_mbs
    if len(mvs) != count:
        raise ValueError("field size does not match the picture")
    parts: list[str] = []
    run = 0
    for addr in range(count):
        x = addr % wm
        a = mvs[addr - 1] if x > 0 else None
        b = mvs[addr - wm] if addr >= wm else None
        if b is None:
            c = None
        elif x < wm - 1:
            c = mvs[addr - wm + 1]
        elif x > 0:
            c = mvs[addr - wm - 1]  # D replaces the unavailable C
        else:
            c = None
        if b is None and c is None and a is not None:
            mvp = a  # B = C = A, all refIdx 0: the median is A
        else:
            available = [v for v in (a, b, c) if v is not None]
            if len(available) == 1:
                mvp = available[0]
            else:
                za = a or _ZERO
                zb = b or _ZERO
                zc = c or _ZERO
                mvp = (_median(za[0], zb[0], zc[0]), _median(za[1], zb[1], zc[1]))
        skip_mv = _ZERO if a is None or b is None or a == _ZERO or b == _ZERO else mvp
        cur = mvs[addr]
        if cur == skip_mv:
            run += 1
        else:
            parts.append(ue_bits(run))
            run = 0
            parts.append(_coded(cur[0] - mvp[0], cur[1] - mvp[1]))
    if run:
        parts.append(ue_bits(run))
    return "".join(parts)


def slice_data_uniform(width_mbs: int, height_mbs: int, mv: MV) -> str:
    """Closed form of :func:`slice_data_generic` for a uniform field."""
    _check_size(width_mbs, height_mbs)
    wm, hm = width_mbs, height_mbs
    if mv == _ZERO:
        return ue_bits(wm * hm)
    zero = "11111"  # mb_skip_run 0, then a P_L0_16x16 with mvd (0, 0)
    row0 = "1" + _coded(mv[0], mv[1]) + zero * (wm - 1)
    if hm == 1:
        return row0
    if wm == 1:
        return row0 + zero * (hm - 1)
    # Row 1 starts right after the coded top row; rows 2.. start after wm - 1 skipped MBs.
    return row0 + zero + (ue_bits(wm - 1) + "1111") * (hm - 2) + ue_bits(wm - 1)


def _check_separable(width_mbs: int, height_mbs: int, fx: Sequence[int], fy: Sequence[int]) -> None:
    _check_size(width_mbs, height_mbs)
    if len(fx) != width_mbs or len(fy) != height_mbs:
        raise ValueError("separable field size does not match the picture")


_RowResult = tuple[int, str | None, int]
_Token = tuple[str | None, int]


def _join_row(tokens: list[_Token]) -> _RowResult:
    """Row tokens ``(code or None for skipped, count)`` -> (leading skips, body bits, trailing skips).

    The body starts with the first coded macroblock *without* its ``mb_skip_run``, which
    depends on the skips carried over from previous rows and is written when rows are joined.
    """
    lead = -1
    run = 0
    parts: list[str] = []
    for code, n in tokens:
        if code is None:
            run += n
            continue
        if lead < 0:
            lead = run
        else:
            parts.append(ue_bits(run))
        parts.append(code)
        if n > 1:
            parts.append(("1" + code) * (n - 1))  # mb_skip_run 0 between coded neighbours
        run = 0
    if lead < 0:
        return run, None, 0
    return lead, "".join(parts), run


def slice_data_separable(width_mbs: int, height_mbs: int, fx: Sequence[int], fy: Sequence[int]) -> str:
    """Fast writer for ``mv(i, j) = (fx[i], fy[j])``; same bits as :func:`slice_data_generic`."""
    _check_separable(width_mbs, height_mbs, fx, fy)
    wm, hm = width_mbs, height_mbs
    fx = tuple(fx)
    codes: dict[MV, str] = {}

    def coded(dx: int, dy: int) -> str:
        code = codes.get((dx, dy))
        if code is None:
            code = codes[dx, dy] = _coded(dx, dy)
        return code

    # Columns whose neighbourhood has a non-zero fx (plus column 0, where A is unavailable)
    # need the general rule; every other ("quiet") column of a row gets the same code.
    loud_set = {0}
    for i, v in enumerate(fx):
        if v:
            loud_set.update((i - 1, i, i + 1))
    # Per loud column: index, fx, mvp x-component for rows >= 1 (the y-component is always
    # the row above's fy, see lower_row), "A unavailable", "A has a zero x-component".
    columns: list[tuple[int, int, int, bool, bool]] = []
    for i in sorted(loud_set):
        if not 0 <= i < wm:
            continue
        if wm == 1:
            medx = fx[0]  # only B is available
        elif i == 0:
            medx = _median(0, fx[0], fx[1])  # A unavailable: counts as (0, 0)
        elif i == wm - 1:
            medx = fx[i - 1]  # C unavailable, D = (fx[i-1], b): median(d, cur, d)
        else:
            medx = _median(fx[i - 1], fx[i], fx[i + 1])
        columns.append((i, fx[i], medx, i == 0, i > 0 and fx[i - 1] == 0))

    def top_row(a: int) -> _RowResult:
        # B, C, D unavailable: P_Skip infers (0, 0); mvp is 0 for MB 0 and A elsewhere.
        tokens: list[_Token] = []
        quiet = None if a == 0 else coded(0, 0)
        prev = -1
        for i, v, _, first, _ in columns:
            if i - prev > 1:
                tokens.append((quiet, i - prev - 1))
            if v == 0 and a == 0:
                tokens.append((None, 1))
            elif first:
                tokens.append((coded(v, a), 1))
            else:
                tokens.append((coded(v - fx[i - 1], 0), 1))
            prev = i
        if wm - 1 > prev:
            tokens.append((quiet, wm - 1 - prev))
        return _join_row(tokens)

    def lower_row(a: int, b: int) -> _RowResult:
        # Current vectors (fx[i], a); the row above holds (fx[i], b). The mvp y-component is
        # median(a, b, b) = b (or median(0, b, b) = b in column 0, or B itself if wm == 1).
        dy = a - b
        quiet = None if a == 0 or (b != 0 and dy == 0) else coded(0, dy)
        tokens: list[_Token] = []
        prev = -1
        for i, v, medx, first, prev_zero in columns:
            if i - prev > 1:
                tokens.append((quiet, i - prev - 1))
            infers_zero = first or (a == 0 and prev_zero) or (b == 0 and v == 0)  # P_Skip infers (0, 0)
            skipped = (v == 0 and a == 0) if infers_zero else (v == medx and dy == 0)
            tokens.append((None, 1) if skipped else (coded(v - medx, dy), 1))
            prev = i
        if wm - 1 > prev:
            tokens.append((quiet, wm - 1 - prev))
        return _join_row(tokens)

    rows: dict[tuple[int, int], _RowResult] = {}
    parts: list[str] = []
    carry = 0
    for j in range(hm):
        if j == 0:
            lead, body, trail = top_row(fy[0])
        else:
            key = (fy[j], fy[j - 1])
            cached = rows.get(key)
            if cached is None:
                cached = rows[key] = lower_row(*key)
            lead, body, trail = cached
        if body is None:
            carry += lead
        else:
            parts.append(ue_bits(carry + lead))
            parts.append(body)
            carry = trail
    if carry:
        parts.append(ue_bits(carry))
    return "".join(parts)
