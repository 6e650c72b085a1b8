"""WAV and MP3 outputs: exact lengths, real content, strict decoding with the standard library and PyAV."""

from __future__ import annotations

import io
import math
import shutil
import subprocess
import wave

import numpy as np
import pytest
from fal_mock.mock_server.media.audio import (
    MAX_AUDIO_SECONDS,
    WAV_SAMPLE_RATES,
    audio_for_format,
    mpeg_audio,
    synth_wav,
)
from fal_mock.mock_server.media.errors import AudioParameterError, UnsupportedFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from ._support import decode_audio_strict, dominant_frequency, window_rms


def _wav_samples(data: bytes) -> tuple[wave._wave_params, np.ndarray]:
    with wave.open(io.BytesIO(data)) as reader:
        params = reader.getparams()
        frames = reader.readframes(params.nframes)
    samples = np.frombuffer(frames, dtype="<i2").reshape(-1, params.nchannels).T.astype(np.float64) / 32768
    return params, samples


# --- WAV -----------------------------------------------------------------------------------------


def test_wav_has_exactly_the_requested_length_and_format() -> None:
    audio = synth_wav(10, seed=b"tts")
    params, samples = _wav_samples(audio.data)
    assert (params.nchannels, params.sampwidth, params.framerate, params.nframes) == (1, 2, 44100, 441000)
    assert params.comptype == "NONE"
    assert (audio.content_type, audio.extension) == ("audio/wav", "wav")
    assert (audio.duration, audio.sample_rate, audio.channels, audio.sample_count) == (10.0, 44100, 1, 441000)
    assert audio.size == len(audio.data) == 44 + 2 * 441000
    assert samples.shape == (1, 441000)


def test_wav_sounds_like_syllables_not_silence_or_a_steady_tone() -> None:
    rate = 24000
    _, samples = _wav_samples(synth_wav(8, seed=b"voice", sample_rate=rate).data)
    mono = samples[0]
    rms = window_rms(mono, rate)
    loud = rms > 0.02
    assert 0.3 < loud.mean() < 0.9  # sound and pauses
    bursts = int(np.sum(loud[1:] & ~loud[:-1]))
    assert bursts >= 8  # at least one "word" a second
    assert np.abs(mono).max() > 0.2
    voiced = mono[np.repeat(loud, int(rate * 0.02))[: len(mono)]]
    assert 80 < dominant_frequency(voiced[:rate], rate) < 600  # a voice-like fundamental


def test_wav_is_deterministic_and_seeded() -> None:
    assert synth_wav(1.5, seed=b"a").data == synth_wav(1.5, seed=b"a").data
    assert synth_wav(1.5, seed=b"a").data != synth_wav(1.5, seed=b"b").data


def test_stereo_channels_are_identical() -> None:
    params, samples = _wav_samples(synth_wav(2, seed=b"s", channels=2, sample_rate=48000).data)
    assert (params.nchannels, params.nframes) == (2, 96000)
    assert np.array_equal(samples[0], samples[1])
    assert np.abs(samples).max() > 0.2


def test_wav_decodes_with_pyav_too() -> None:
    audio = synth_wav(3, seed=b"av", sample_rate=16000)
    decoded = decode_audio_strict(audio.data)
    assert (decoded.codec, decoded.sample_rate, decoded.channels) == ("pcm_s16le", 16000, 1)
    assert decoded.samples.shape[1] == 48000


@settings(max_examples=40, deadline=None)
@given(
    st.floats(min_value=1e-6, max_value=20, allow_nan=False),
    st.sampled_from(WAV_SAMPLE_RATES),
    st.sampled_from([1, 2]),
)
def test_wav_length_is_the_rounded_duration(duration: float, rate: int, channels: int) -> None:
    audio = synth_wav(duration, seed=b"h", sample_rate=rate, channels=channels)
    expected = max(1, math.floor(duration * rate + 0.5))
    params, _ = _wav_samples(audio.data)
    assert params.nframes == audio.sample_count
    assert abs(params.nframes - expected) <= 1  # float product vs exact rational rounding
    assert audio.duration == params.nframes / rate
    assert params.nchannels == channels
    assert params.framerate == rate


@pytest.mark.parametrize("duration", [0, -1, math.nan, math.inf, MAX_AUDIO_SECONDS + 1, True, "5", None])
def test_bad_durations(duration: object) -> None:
    with pytest.raises(AudioParameterError):
        synth_wav(duration, seed=b"")  # type: ignore[arg-type]
    with pytest.raises(AudioParameterError):
        mpeg_audio(duration, seed=b"")  # type: ignore[arg-type]


def test_bad_rates_and_channels() -> None:
    with pytest.raises(AudioParameterError):
        synth_wav(1, seed=b"", sample_rate=12345)
    with pytest.raises(AudioParameterError):
        synth_wav(1, seed=b"", channels=3)
    with pytest.raises(AudioParameterError):
        synth_wav(1, seed=b"", channels=True)
    with pytest.raises(AudioParameterError):
        mpeg_audio(1, seed=b"", sample_rate=22050)
    with pytest.raises(AudioParameterError):
        mpeg_audio(1, seed=b"", bitrate_kbps=100)


# --- MP3 -----------------------------------------------------------------------------------------


def test_mp3_decodes_strictly_with_the_reported_facts() -> None:
    audio = mpeg_audio(10, seed=b"speech")
    decoded = decode_audio_strict(audio.data)
    assert (decoded.codec, decoded.sample_rate, decoded.channels) == ("mp3float", 44100, 1)
    assert (audio.content_type, audio.extension) == ("audio/mpeg", "mp3")
    frames = round(10 * 44100 / 1152)
    assert audio.sample_count == frames * 1152 == decoded.samples.shape[1]
    assert audio.duration == decoded.samples.shape[1] / 44100
    assert abs(audio.duration - 10) <= 1152 / 44100 / 2
    assert abs(decoded.container_duration - audio.duration) < 0.05  # players' CBR estimate
    assert audio.size == len(audio.data)
    assert audio.size == math.floor(frames * 144000 * 128 / 44100)  # exact CBR: 128 kbps on average


def test_mp3_is_babble_not_silence() -> None:
    decoded = decode_audio_strict(mpeg_audio(6, seed=b"b").data)
    mono = decoded.samples[0]
    rms = window_rms(mono, 44100)
    loud = rms > 0.01
    assert 0.3 < loud.mean() < 0.95
    assert int(np.sum(loud[1:] & ~loud[:-1])) >= 6
    assert 0.1 < np.abs(mono).max() < 1.0
    assert 60 < dominant_frequency(mono, 44100) < 1000


@pytest.mark.parametrize(("rate", "channels", "bitrate"), [(48000, 2, 32), (32000, 1, 320), (44100, 2, 64)])
def test_mp3_parameters(rate: int, channels: int, bitrate: int) -> None:
    audio = mpeg_audio(2, seed=b"p", sample_rate=rate, channels=channels, bitrate_kbps=bitrate)
    decoded = decode_audio_strict(audio.data)
    assert (decoded.sample_rate, decoded.channels) == (rate, channels) == (audio.sample_rate, audio.channels)
    assert decoded.samples.shape[1] == audio.sample_count
    if channels == 2:
        assert np.array_equal(decoded.samples[0], decoded.samples[1])


def test_mp3_is_deterministic_and_seeded() -> None:
    assert mpeg_audio(3, seed=b"x").data == mpeg_audio(3, seed=b"x").data
    assert mpeg_audio(3, seed=b"x").data != mpeg_audio(3, seed=b"y").data


@settings(max_examples=25, deadline=None)
@given(st.floats(min_value=1e-3, max_value=30, allow_nan=False), st.sampled_from([32000, 44100, 48000]))
def test_mp3_duration_is_within_half_a_frame(duration: float, rate: int) -> None:
    audio = mpeg_audio(duration, seed=b"d", sample_rate=rate)
    decoded = decode_audio_strict(audio.data)
    assert decoded.samples.shape[1] == audio.sample_count
    assert abs(audio.duration - duration) <= max(1152 / rate / 2 + 1e-9, 2 * 1152 / rate - duration)
    assert audio.sample_count >= 2 * 1152


@pytest.mark.ffmpeg
@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg command")
def test_ffmpeg_cli_decodes_mp3_and_wav_without_complaint() -> None:
    for audio in (mpeg_audio(4, seed=b"f"), synth_wav(4, seed=b"f")):
        result = subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", "-", "-f", "null", "-"],
            input=audio.data, capture_output=True, check=False, timeout=60,
        )  # fmt: skip
        assert result.stderr == b""
        assert result.returncode == 0


# --- other formats -------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "content_type"), [("wav", "audio/wav"), ("audio/wav", "audio/wav"),
                         ("WAVE", "audio/wav"), ("mp3", "audio/mpeg"), ("audio/mpeg", "audio/mpeg")])  # fmt: skip
def test_audio_for_format(name: str, content_type: str) -> None:
    assert audio_for_format(name, 1, seed=b"").content_type == content_type


@pytest.mark.parametrize("name", ["ogg", "audio/ogg", "flac", "aac", "m4a", "opus", "", None])
def test_other_audio_formats_are_refused_not_faked(name: object) -> None:
    with pytest.raises(UnsupportedFormat) as info:
        audio_for_format(name, 1, seed=b"")  # type: ignore[arg-type]
    assert info.value.supported == ("wav", "mp3")
