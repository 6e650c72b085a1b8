"""Test helpers for tests/mock_server/media: strict PyAV decoding of audio."""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import av.logging
import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class DecodedAudio:
    codec: str
    sample_rate: int
    channels: int
    samples: npt.NDArray[np.float64]  # (channels, n), float in [-1, 1]
    container_duration: float  # the demuxer's estimate, seconds


def decode_audio_strict(data: bytes, container_format: str | None = None) -> DecodedAudio:
    """Decode every frame with ``err_detect=explode`` and fail on any FFmpeg error log entry.

    ``container_format`` skips FFmpeg's format probing (which needs about 7 MP3 frames to be sure).
    """
    previous = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with (
            av.logging.Capture(local=False) as logs,
            av.open(io.BytesIO(data), mode="r", format=container_format) as container,
        ):
            assert len(container.streams.audio) == 1, "expected one audio stream"
            stream = container.streams.audio[0]
            stream.codec_context.options = {"err_detect": "explode"}
            chunks = []
            for frame in container.decode(stream):
                array = frame.to_ndarray()
                if frame.format.is_planar:
                    chunks.append(array.reshape(len(frame.layout.channels), -1))
                else:
                    chunks.append(array.reshape(-1, len(frame.layout.channels)).T)
            codec = stream.codec_context.name
            rate = stream.codec_context.sample_rate
            channels = stream.codec_context.channels
            duration = float(container.duration / av.time_base) if container.duration else 0.0
        errors = [message for level, _, message in logs if level <= av.logging.ERROR]
        assert not errors, f"decoder logged errors: {errors[:5]}"
    finally:
        av.logging.set_level(previous)
    samples = np.concatenate(chunks, axis=1).astype(np.float64)
    if np.issubdtype(chunks[0].dtype, np.integer):
        samples /= 32768.0
    return DecodedAudio(codec, rate, channels, samples, duration)


def window_rms(signal: npt.NDArray[np.float64], rate: int, seconds: float = 0.02) -> npt.NDArray[np.float64]:
    n = max(1, int(rate * seconds))
    usable = signal[: len(signal) // n * n]
    return np.sqrt(np.mean(usable.reshape(-1, n) ** 2, axis=1))


def dominant_frequency(signal: npt.NDArray[np.float64], rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return float(np.fft.rfftfreq(len(signal), 1 / rate)[int(np.argmax(spectrum))])
