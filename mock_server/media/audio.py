"""Deterministic audio: speech-like babble as WAV (PCM16) or MP3 (MPEG-1 Layer III).

Both formats carry the same kind of content: "words" of one to three "syllables" separated by
pauses, each syllable a voiced tone with an attack and a decay, whose pitch, timbre (vowel) and
length come from ``SHA-256(seed)`` (:mod:`._seeded`). It sounds like a voice murmuring behind a
wall, clearly not silence and clearly synthetic.

**WAV** (:func:`synth_wav`): RIFF/WAVE, PCM 16-bit little-endian, 1 or 2 channels (identical),
sample rates 8000..48000 Hz (default 44100). The length is exactly ``round(duration *
sample_rate)`` samples (half up; at least one). Pure Python and fast: each (pitch, vowel, level)
needs one period of samples, built once per call; a syllable is those periods repeated as
bytes (levels change at period starts, where the wave is zero, so there are no clicks). The
sine is a fixed polynomial (only ``+`` and ``*``), so the bytes are identical on every machine.

**MP3** (:func:`mpeg_audio`): a constant-bitrate MPEG-1 Layer III stream written by
:mod:`.mp3` (default 44100 Hz, mono, 128 kbps; 32000/44100/48000 Hz, 1-2 channels, 32..320
kbps). Each syllable is a few MDCT lines (a fundamental and two near-harmonics) in the granules
it spans, shaped by the per-granule global gain; pauses are digital silence. The stream has
``round(duration * sample_rate / 1152)`` frames, so its duration is within half a frame (13 ms
at 44.1 kHz) of the request; but at least two frames (52 ms at 44.1 kHz), because FFmpeg's
demuxer only recognises MP3 from two consecutive frames (below seven frames its format probe is
unsure, so a caller feeding a very short MP3 to FFmpeg without a name or format should name
the format). The reported duration is the stream's own. There
is no ID3 tag and no Xing/LAME header: players compute the duration from the constant
bitrate, and decoders output exactly ``frames * 1152`` samples.

**Other audio types** are not written: Ogg/Vorbis, Opus, AAC/M4A and FLAC need real encoders
(or, for FLAC, a per-frame CRC over every sample that pure Python cannot afford within these
budgets). A caller asked for one of those should generate WAV and *declare* ``audio/wav``
(content type and file name), never label WAV bytes with another type.
:func:`audio_for_format` does exactly that choice for a requested format.

**Limits**: duration > 0 and at most 600 s (:data:`MAX_AUDIO_SECONDS`, 115 MB of 48 kHz
stereo WAV at worst); bad durations, rates, channel counts or bitrates raise
:class:`.errors.AudioParameterError`.
"""

from __future__ import annotations

import math
import operator
import struct
import sys
from array import array
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Final

from . import mp3
from ._seeded import SeededStream, seed_bytes
from .errors import AudioParameterError, UnsupportedFormat

__all__ = [
    "AUDIO_FORMATS",
    "MAX_AUDIO_SECONDS",
    "WAV_SAMPLE_RATES",
    "GeneratedAudio",
    "audio_for_format",
    "mpeg_audio",
    "synth_wav",
]

MAX_AUDIO_SECONDS: Final = 600
WAV_SAMPLE_RATES: Final = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000)
AUDIO_FORMATS: Final = ("wav", "mp3")
_FORMAT_ALIASES: Final = {"wave": "wav", "x-wav": "wav", "mpeg": "mp3", "mpga": "mp3"}

_PEAK: Final = 0.42 * 32767  # loudest syllable sample (about -7.5 dBFS)
_LEVELS: Final = (0.25, 0.5, 0.75, 1.0)
# Relative harmonic amplitudes (1st..5th) of a few vowel-like timbres; a file uses two of them.
_VOWELS: Final = (
    (1.0, 0.75, 0.55, 0.35, 0.2),  # open "a"
    (1.0, 0.25, 0.1, 0.35, 0.3),  # bright "i"
    (1.0, 0.45, 0.12, 0.05, 0.03),  # dark "u"
)
_PITCH_STEPS: Final = (0.88, 1.0, 1.12)
_MP3_MIN_FRAMES: Final = 2  # FFmpeg's demuxer recognises MP3 only from two consecutive frames
_MP3_PEAK_GAIN: Final = 196  # three lines at this gain decode to about -13 dBFS
_TWO_PI: Final = 2 * math.pi


@dataclass(frozen=True, slots=True)
class GeneratedAudio:
    """An encoded audio file and the facts of its bytes."""

    data: bytes
    content_type: str  # "audio/wav" or "audio/mpeg"
    extension: str  # "wav" or "mp3"
    duration: float  # seconds, of the bytes (samples / sample_rate)
    sample_rate: int
    channels: int
    size: int  # len(data)
    sample_count: int  # per channel


def _check_duration(duration_seconds: object) -> Fraction:
    """Any real number (int, float, Fraction, Decimal; not bool) in (0, MAX_AUDIO_SECONDS], exactly."""
    if isinstance(duration_seconds, bool) or not isinstance(duration_seconds, int | float | Fraction | Decimal):
        raise AudioParameterError(f"duration must be a number of seconds, got {duration_seconds!r}")
    if not math.isfinite(float(duration_seconds)) or not 0 < duration_seconds <= MAX_AUDIO_SECONDS:
        raise AudioParameterError(f"duration must be in (0, {MAX_AUDIO_SECONDS}] seconds, got {duration_seconds!r}")
    return Fraction(duration_seconds)


def _check_choice(value: object, name: str, allowed: tuple[int, ...]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise AudioParameterError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def _check_channels(channels: object) -> int:
    if isinstance(channels, bool) or not isinstance(channels, int) or channels not in (1, 2):
        raise AudioParameterError(f"channels must be 1 or 2, got {channels!r}")
    return channels


def _sin_turns(t: float) -> float:
    """``sin(2 pi t)`` with ``+`` and ``*`` only (identical on every IEEE machine); error below 1e-9."""
    t -= math.floor(t)
    if t > 0.75:
        t -= 1.0
    elif t > 0.25:
        t = 0.5 - t
    x = t * _TWO_PI
    x2 = x * x
    return x * (1 - x2 / 6 * (1 - x2 / 20 * (1 - x2 / 42 * (1 - x2 / 72 * (1 - x2 / 110 * (1 - x2 / 156))))))


# --- WAV -----------------------------------------------------------------------------------------


def _pcm_bytes(samples: list[int], channels: int) -> bytes:
    pcm = array("h", samples)
    if channels == 2:
        stereo = array("h", bytes(4 * len(samples)))
        stereo[0::2] = pcm
        stereo[1::2] = pcm
        pcm = stereo
    if sys.byteorder == "big":
        pcm.byteswap()
    return pcm.tobytes()


# Byte -> little-endian int16 of (byte - 128) * 12, split in its low and high bytes.
_NOISE_LOW: Final = bytes(((b - 128) * 12) & 0xFF for b in range(256))
_NOISE_HIGH: Final = bytes((((b - 128) * 12) >> 8) & 0xFF for b in range(256))


def _noise(random_bytes: bytes, channels: int) -> bytes:
    """Quiet white noise (about -29 dBFS peak), one sample per random byte, without a Python loop per sample."""
    mono = bytearray(2 * len(random_bytes))
    mono[0::2] = random_bytes.translate(_NOISE_LOW)
    mono[1::2] = random_bytes.translate(_NOISE_HIGH)
    if channels == 1:
        return bytes(mono)
    stereo = bytearray(4 * len(random_bytes))
    stereo[0::4] = mono[0::2]
    stereo[1::4] = mono[1::2]
    stereo[2::4] = mono[0::2]
    stereo[3::4] = mono[1::2]
    return bytes(stereo)


class _Voice:
    """One call's period tables: (pitch, vowel, level) -> one period of PCM bytes, built on demand."""

    __slots__ = ("_cache", "_channels", "_periods", "_shapes", "_sines")

    def __init__(self, sample_rate: int, f0: float, channels: int) -> None:
        self._channels = channels
        self._periods = [max(8, round(sample_rate / (f0 * step))) for step in _PITCH_STEPS]
        self._sines: dict[int, list[float]] = {}
        self._shapes: dict[tuple[int, int], list[float]] = {}
        self._cache: dict[tuple[int, int, int], bytes] = {}

    def period_samples(self, pitch: int) -> int:
        return self._periods[pitch]

    def _shape(self, pitch: int, vowel: int) -> list[float]:
        """One period of the vowel's harmonics (those below Nyquist), normalised to a peak of 1."""
        key = (pitch, vowel)
        shape = self._shapes.get(key)
        if shape is None:
            n = self._periods[pitch]
            sine = self._sines.get(pitch)
            if sine is None:
                sine = self._sines[pitch] = [_sin_turns(i / n) for i in range(n)]
            shape = [0.0] * n
            for h, weight in enumerate(_VOWELS[vowel], start=1):
                if 2 * h >= n:
                    break
                harmonic = operator.itemgetter(*map(n.__rmod__, range(0, h * n, h)))(sine)  # sine[(h * i) % n]
                shape = list(map(operator.add, shape, map(weight.__mul__, harmonic)))
            peak = max(map(abs, shape)) or 1.0
            shape = list(map((1.0 / peak).__mul__, shape))
            self._shapes[key] = shape
        return shape

    def period(self, pitch: int, vowel: int, level: int) -> bytes:
        key = (pitch, vowel, level)
        data = self._cache.get(key)
        if data is None:
            scale = _PEAK * _LEVELS[level]
            data = _pcm_bytes(list(map(round, map(scale.__mul__, self._shape(pitch, vowel)))), self._channels)
            self._cache[key] = data
        return data


def _envelope(periods: int) -> list[tuple[int, int]]:
    """(level, count) runs: a ramp up over ~1/8 of the ``periods``, a plateau, a ramp down over ~1/4."""
    top = len(_LEVELS) - 1
    attack = [(level, max(1, periods // 24)) for level in range(top)]
    decay = [(level, max(1, periods // 12)) for level in range(top - 1, -1, -1)]
    used = sum(c for _, c in attack) + sum(c for _, c in decay)
    return [*attack, (top, max(1, periods - used)), *decay]


def synth_wav(
    duration_seconds: float,
    *,
    seed: bytes,
    sample_rate: int = 44100,
    channels: int = 1,
) -> GeneratedAudio:
    """A RIFF/WAVE PCM16 file of ``round(duration * sample_rate)`` samples of babble (module docstring)."""
    duration = _check_duration(duration_seconds)
    sample_rate = _check_choice(sample_rate, "sample_rate", WAV_SAMPLE_RATES)
    channels = _check_channels(channels)
    total = max(1, math.floor(duration * sample_rate + Fraction(1, 2)))
    frame_bytes = 2 * channels

    rng = SeededStream("audio/wav", seed_bytes(seed))
    voice = _Voice(sample_rate, rng.uniform(105.0, 210.0), channels)
    skipped = rng.below(len(_VOWELS))
    vowels = [v for v in range(len(_VOWELS)) if v != skipped]
    noise = _noise(rng.raw(sample_rate // 40), channels)  # 25 ms of hiss
    pieces: list[bytes] = []
    produced = 0  # samples per channel

    def silence(samples: int) -> None:
        nonlocal produced
        pieces.append(bytes(samples * frame_bytes))
        produced += samples

    silence(min(total, sample_rate * rng.between(5, 20) // 100))
    while produced < total:
        for _ in range(rng.between(1, 3)):
            pitch, vowel = rng.below(len(_PITCH_STEPS)), rng.choice(vowels)
            n = voice.period_samples(pitch)
            envelope = _envelope(max(8, sample_rate * rng.between(90, 240) // 1000 // n))
            hiss = len(noise) // frame_bytes if rng.below(3) == 0 else 0
            if produced + hiss + n * sum(count for _, count in envelope) > total:
                break
            if hiss:
                pieces.append(noise)
                produced += hiss
            for level, count in envelope:
                pieces.append(voice.period(pitch, vowel, level) * count)
                produced += n * count
        pause = sample_rate * (rng.between(60, 220) if rng.below(5) else rng.between(350, 600)) // 1000
        silence(min(pause, total - produced) if produced < total else 0)
        if produced + sample_rate // 10 > total:
            silence(max(0, total - produced))
    pcm = b"".join(pieces)[: total * frame_bytes]
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + len(pcm), b"WAVE",
        b"fmt ", 16, 1, channels, sample_rate, sample_rate * frame_bytes, frame_bytes, 16,
        b"data", len(pcm),
    )  # fmt: skip
    data = header + pcm
    return GeneratedAudio(
        data=data,
        content_type="audio/wav",
        extension="wav",
        duration=total / sample_rate,
        sample_rate=sample_rate,
        channels=channels,
        size=len(data),
        sample_count=total,
    )


# --- MP3 -----------------------------------------------------------------------------------------


def _syllable_granules(rng: SeededStream, base_line: int, count: int) -> list[mp3.Granule]:
    k = max(2, base_line + rng.between(-1, 2))
    lines = (k, 2 * k + 1, 3 * k + 1)
    peak = _MP3_PEAK_GAIN - rng.below(4)
    gains = [peak - 8, peak - 3] + [peak] * max(1, count - 5) + [peak - 2, peak - 5, peak - 10]
    return [mp3.Granule(lines, g) for g in gains]


def mpeg_audio(
    duration_seconds: float,
    *,
    seed: bytes,
    sample_rate: int = 44100,
    channels: int = 1,
    bitrate_kbps: int = 128,
) -> GeneratedAudio:
    """An MPEG-1 Layer III stream of about ``duration_seconds`` of babble (module docstring)."""
    duration = _check_duration(duration_seconds)
    sample_rate = _check_choice(sample_rate, "MP3 sample_rate", tuple(sorted(mp3.SAMPLE_RATES)))
    bitrate_kbps = _check_choice(bitrate_kbps, "MP3 bitrate_kbps", tuple(sorted(mp3.BITRATES_KBPS)))
    channels = _check_channels(channels)
    frames = max(_MP3_MIN_FRAMES, math.floor(duration * sample_rate / mp3.SAMPLES_PER_FRAME + Fraction(1, 2)))
    total = 2 * frames  # granules

    rng = SeededStream("audio/mp3", seed_bytes(seed))
    line_hz = sample_rate / (2 * mp3.SAMPLES_PER_GRANULE)
    base_line = max(2, round(rng.uniform(105.0, 210.0) / line_hz - 0.5))
    granules_per_second = sample_rate / mp3.SAMPLES_PER_GRANULE
    granules: list[mp3.Granule] = [mp3.SILENCE] * min(total, round(granules_per_second * rng.uniform(0.05, 0.2)))
    while len(granules) < total:
        for _ in range(rng.between(1, 3)):
            count = round(granules_per_second * rng.uniform(0.09, 0.24))
            syllable = _syllable_granules(rng, base_line, count)
            if len(granules) + len(syllable) > total:
                break
            granules.extend(syllable)
        pause = rng.uniform(0.06, 0.22) if rng.below(5) else rng.uniform(0.35, 0.6)
        granules.extend([mp3.SILENCE] * max(1, round(granules_per_second * pause)))
    data = mp3.mp3_stream(granules[:total], sample_rate=sample_rate, channels=channels, bitrate_kbps=bitrate_kbps)
    samples = frames * mp3.SAMPLES_PER_FRAME
    return GeneratedAudio(
        data=data,
        content_type="audio/mpeg",
        extension="mp3",
        duration=samples / sample_rate,
        sample_rate=sample_rate,
        channels=channels,
        size=len(data),
        sample_count=samples,
    )


def audio_for_format(audio_format: str, duration_seconds: float, *, seed: bytes) -> GeneratedAudio:
    """WAV for ``"wav"``, MP3 for ``"mp3"`` (aliases ``"mpeg"``, ``"wave"``, MIME subtypes accepted).

    Any other format raises :class:`.errors.UnsupportedFormat`: the caller then produces WAV and
    declares it as such (see the module docstring).
    """
    key = audio_format.strip().lower() if isinstance(audio_format, str) else ""
    key = key.removeprefix("audio/")
    key = _FORMAT_ALIASES.get(key, key)
    if key == "wav":
        return synth_wav(duration_seconds, seed=seed)
    if key == "mp3":
        return mpeg_audio(duration_seconds, seed=seed)
    raise UnsupportedFormat("audio", str(audio_format), AUDIO_FORMATS)
