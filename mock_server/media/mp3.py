"""A minimal MPEG-1 Audio Layer III (MP3) bitstream writer, pure Python.

It writes constant-bitrate frames whose spectral content is chosen by the caller per granule
(576 samples): either digital silence or a few MDCT lines of magnitude 1 at a global gain.
That is a real, standard-conforming Layer III stream — every decoder runs its full synthesis
on it — but it is not an encoder: there is no psychoacoustic model, no quantisation of a
signal, no bit reservoir. What you hear is a buzzy tone per sounding granule (the lines and
their harmonics), shaped by the per-granule gain; it is honest "synthetic speech-like"
audio, not a recording.

Format facts (ISO/IEC 11172-3):

* frame = 4-byte header (sync, MPEG-1, Layer III, no CRC, bitrate, sample rate, padding,
  channel mode), side information (17 bytes mono, 32 stereo), main data, then zero bytes
  (ancillary data) up to the frame length ``144 * bitrate / sample_rate`` (+1 with padding; at
  44.1 kHz padding is spread so the average bitrate is exact);
* 1152 samples per frame (two granules); long blocks only (``block_type`` 0), no scalefactors
  (``scalefac_compress`` 0), ``main_data_begin`` 0 (each frame carries its own main data);
* the big-values region uses Huffman table 1 (values 0 or 1, with a sign bit), all three
  regions; the count1 region is empty (``part2_3_length`` ends with the big values);
* stereo files use plain stereo mode with both channels coded identically.

Supported: sample rates 32000, 44100, 48000 Hz; mono or stereo; the MPEG-1 Layer III
bitrates 32..320 kbps. Lines must be below 576, at most 40 per granule, and a frame's coded
lines must fit its main data (low lines are cheap: lines below 64 cost at most 64 bits per
granule and channel). Anything else raises :class:`.errors.AudioParameterError` (a ``ValueError``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from .errors import AudioParameterError

__all__ = [
    "BITRATES_KBPS",
    "SAMPLES_PER_FRAME",
    "SAMPLE_RATES",
    "Granule",
    "frame_bytes",
    "mp3_stream",
]

SAMPLES_PER_FRAME: Final = 1152
SAMPLES_PER_GRANULE: Final = 576
SAMPLE_RATES: Final[dict[int, int]] = {44100: 0, 48000: 1, 32000: 2}
BITRATES_KBPS: Final[dict[int, int]] = {
    32: 1, 40: 2, 48: 3, 56: 4, 64: 5, 80: 6, 96: 7, 112: 8, 128: 9, 160: 10, 192: 11, 224: 12, 256: 13, 320: 14,
}  # fmt: skip
MAX_LINES: Final = 40
# Huffman table 1 (ISO/IEC 11172-3 Table B.7), (x, y) -> (code, length).
_TABLE_1: Final[dict[tuple[int, int], tuple[int, int]]] = {
    (0, 0): (0b1, 1),
    (0, 1): (0b001, 3),
    (1, 0): (0b01, 2),
    (1, 1): (0b000, 3),
}


@dataclass(frozen=True, slots=True)
class Granule:
    """One granule's spectrum: ``lines`` (MDCT indices with magnitude 1, sign +) at ``global_gain``.

    No lines means digital silence. The decoded amplitude of a line is about
    ``2 ** ((global_gain - 210) / 4)`` of full scale.
    """

    lines: tuple[int, ...] = ()
    global_gain: int = 0

    def __post_init__(self) -> None:
        if len(self.lines) > MAX_LINES or any(not 0 <= k < SAMPLES_PER_GRANULE for k in self.lines):
            raise AudioParameterError(f"granule lines must be at most {MAX_LINES} indices below {SAMPLES_PER_GRANULE}")
        if len(set(self.lines)) != len(self.lines):
            raise AudioParameterError("granule lines must be distinct")
        if not 0 <= self.global_gain <= 255:
            raise AudioParameterError("global_gain is 8 bits")


SILENCE: Final = Granule()


class _Bits:
    """MSB-first bit accumulator on a Python int."""

    __slots__ = ("count", "value")

    def __init__(self) -> None:
        self.value = 0
        self.count = 0

    def put(self, nbits: int, value: int) -> None:
        self.value = (self.value << nbits) | value
        self.count += nbits

    def extend(self, other: _Bits) -> None:
        self.put(other.count, other.value)

    def to_bytes(self) -> bytes:
        pad = -self.count % 8
        return (self.value << pad).to_bytes((self.count + pad) // 8, "big")


def _huffman(granule: Granule) -> tuple[_Bits, int]:
    """The big-values code of ``granule`` and its ``big_values`` (pairs)."""
    bits = _Bits()
    if not granule.lines:
        return bits, 0
    present = set(granule.lines)
    pairs = (max(granule.lines) + 2) // 2
    for i in range(pairs):
        x, y = int(2 * i in present), int(2 * i + 1 in present)
        code, length = _TABLE_1[(x, y)]
        bits.put(length, code)
        if x:
            bits.put(1, 0)  # sign: positive
        if y:
            bits.put(1, 0)
    return bits, pairs


def _granule_side_info(side: _Bits, part23: int, big_values: int, gain: int) -> None:
    side.put(12, part23)  # part2_3_length
    side.put(9, big_values)
    side.put(8, gain if part23 else 0)  # global_gain
    side.put(4, 0)  # scalefac_compress: no scalefactor bits
    side.put(1, 0)  # window_switching_flag: long blocks
    table = 1 if part23 else 0
    side.put(15, (table << 10) | (table << 5) | table)  # table_select[0..2]
    side.put(4, 0)  # region0_count
    side.put(3, 0)  # region1_count
    side.put(1, 0)  # preflag
    side.put(1, 0)  # scalefac_scale
    side.put(1, 0)  # count1table_select


def frame_bytes(bitrate_kbps: int, sample_rate: int, padding: bool) -> int:
    """The length of one frame in bytes."""
    return 144_000 * bitrate_kbps // sample_rate + int(padding)


def _frame(granules: tuple[Granule, Granule], channels: int, header: bytes, length: int) -> bytes:
    side = _Bits()
    side.put(9, 0)  # main_data_begin: no bit reservoir
    side.put(5 if channels == 1 else 3, 0)  # private bits
    side.put(4 * channels, 0)  # scfsi
    main = _Bits()
    for granule in granules:
        code, big_values = _huffman(granule)
        for _ in range(channels):
            _granule_side_info(side, code.count, big_values, granule.global_gain)
            main.extend(code)
    body = header + side.to_bytes() + main.to_bytes()
    if len(body) > length:
        raise AudioParameterError(f"granule data needs {len(body)} bytes, more than the {length}-byte frame")
    return body + bytes(length - len(body))


def mp3_stream(
    granules: Sequence[Granule],
    *,
    sample_rate: int = 44100,
    channels: int = 1,
    bitrate_kbps: int = 128,
) -> bytes:
    """A CBR MPEG-1 Layer III stream of ``ceil(len(granules) / 2)`` frames (a last odd granule is followed
    by silence). Raises :class:`.errors.AudioParameterError` for unsupported parameters."""
    if sample_rate not in SAMPLE_RATES:
        raise AudioParameterError(f"MPEG-1 Layer III sample rates are {sorted(SAMPLE_RATES)}, got {sample_rate}")
    if bitrate_kbps not in BITRATES_KBPS:
        raise AudioParameterError(f"MPEG-1 Layer III bitrates are {sorted(BITRATES_KBPS)} kbps, got {bitrate_kbps}")
    if channels not in (1, 2):
        raise AudioParameterError(f"channels must be 1 or 2, got {channels}")
    mode = 0b11 if channels == 1 else 0b00
    headers = {}
    for pad in (0, 1):
        word = (0x7FF << 21) | (0b11 << 19) | (0b01 << 17) | (1 << 16)  # sync, MPEG-1, Layer III, no CRC
        word |= (BITRATES_KBPS[bitrate_kbps] << 12) | (SAMPLE_RATES[sample_rate] << 10) | (pad << 9)
        word |= (mode << 6) | (1 << 2)  # channel mode; "original" bit
        headers[pad] = word.to_bytes(4, "big")
    numerator = 144_000 * bitrate_kbps
    remainder = 0
    cache: dict[tuple[Granule, Granule, int], bytes] = {}
    frames = []
    for first in range(0, len(granules), 2):
        pair = (granules[first], granules[first + 1] if first + 1 < len(granules) else SILENCE)
        remainder += numerator % sample_rate
        pad = 0
        if remainder >= sample_rate:
            remainder -= sample_rate
            pad = 1
        key = (pair[0], pair[1], pad)
        frame = cache.get(key)
        if frame is None:
            frame = _frame(pair, channels, headers[pad], frame_bytes(bitrate_kbps, sample_rate, bool(pad)))
            cache[key] = frame
        frames.append(frame)
    return b"".join(frames)
