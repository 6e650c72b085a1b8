"""Input sniffing and duration/size probing on real files (made by Pillow and FFmpeg) and on hostile bytes."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator

import av
import numpy as np
import pytest
from fal_mock.mock_server.media.audio import mpeg_audio, synth_wav
from fal_mock.mock_server.media.images import draw_image
from fal_mock.mock_server.media.models3d import build_model
from fal_mock.mock_server.media.probe import MediaInfo, audio_duration, sniff, video_facts
from fal_mock.mock_server.media.video import render_text_clip
from fal_mock.mock_server.video.profiles import VideoGeometry
from hypothesis import given, settings
from hypothesis import strategies as st

# --- real samples --------------------------------------------------------------------------------


def _pillow(fmt: str, mode: str = "RGB", **params: object) -> bytes:
    buffer = io.BytesIO()
    draw_image(64, 48, seed=b"probe").convert(mode).save(buffer, fmt, **params)
    return buffer.getvalue()


def _ffmpeg_audio(fmt: str, codec: str, *, rate: int = 44100, seconds: float = 2.0, layout: str = "mono",
                  options: dict[str, str] | None = None) -> bytes:  # fmt: skip
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate, options=options or {})
        stream.layout = layout
        size = stream.codec_context.frame_size or 1024
        planar = stream.codec_context.format.is_planar
        channels = 2 if layout == "stereo" else 1
        total = int(rate * seconds)
        tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(total) / rate)).astype(np.float32)
        for start in range(0, total, size):
            chunk = np.tile(tone[start : start + size], (channels, 1))
            array = chunk if planar else chunk.T.reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(array, format="fltp" if planar else "flt", layout=layout)
            frame.sample_rate = rate
            frame.pts = start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def _ffmpeg_video(fmt: str, codec: str, width: int = 320, height: int = 240, frames: int = 30, fps: int = 15) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            picture = np.full((height, width, 3), (i * 8) % 256, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode(None))
    return buffer.getvalue()


SampleTable = dict[str, tuple[bytes, str, str]]  # name -> (bytes, kind, content type)


@pytest.fixture(scope="module")
def samples() -> SampleTable:
    clip = render_text_clip(VideoGeometry(64, 48, 24, 12), seed=b"v")
    table: SampleTable = {
        "png": (_pillow("PNG"), "image", "image/png"),
        "jpeg": (_pillow("JPEG"), "image", "image/jpeg"),
        "gif": (_pillow("GIF"), "image", "image/gif"),
        "webp": (_pillow("WEBP"), "image", "image/webp"),
        "bmp": (_pillow("BMP"), "image", "image/bmp"),
        "tiff": (_pillow("TIFF"), "image", "image/tiff"),
        "svg": (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "image", "image/svg+xml"),
        "our-mp4": (clip.data, "video", "video/mp4"),
        "x264-mp4": (_ffmpeg_video("mp4", "libx264"), "video", "video/mp4"),
        "mov": (_ffmpeg_video("mov", "mpeg4"), "video", "video/quicktime"),
        "mkv": (_ffmpeg_video("matroska", "mpeg4"), "video", "video/x-matroska"),
        "webm": (_ffmpeg_video("webm", "libvpx"), "video", "video/webm"),
        "avi": (_ffmpeg_video("avi", "mpeg4"), "video", "video/x-msvideo"),
        "our-wav": (synth_wav(2, seed=b"w").data, "audio", "audio/wav"),
        "our-mp3": (mpeg_audio(2, seed=b"m").data, "audio", "audio/mpeg"),
        "lame-mp3": (_ffmpeg_audio("mp3", "libmp3lame"), "audio", "audio/mpeg"),
        "flac": (_ffmpeg_audio("flac", "flac"), "audio", "audio/flac"),
        "vorbis": (
            _ffmpeg_audio("ogg", "vorbis", layout="stereo", options={"strict": "experimental"}),
            "audio",
            "audio/ogg",
        ),
        "opus": (_ffmpeg_audio("ogg", "libopus", rate=48000), "audio", "audio/ogg"),
        "m4a": (_ffmpeg_audio("ipod", "aac"), "audio", "audio/mp4"),
        "aac-in-mp4": (_ffmpeg_audio("mp4", "aac"), "audio", "audio/mp4"),
        "adts": (_ffmpeg_audio("adts", "aac"), "audio", "audio/aac"),
        "glb": (build_model("glb", seed=b"g").data, "model", "model/gltf-binary"),
        "gltf": (build_model("gltf", seed=b"g").data, "model", "model/gltf+json"),
        "obj": (build_model("obj", seed=b"g").data, "model", "model/obj"),
        "ply": (build_model("ply", seed=b"g").data, "model", "application/ply"),
        "stl": (build_model("stl", seed=b"g").data, "model", "model/stl"),
        "ascii-stl": (
            b"solid x\n facet normal 0 0 1\n outer loop\n vertex 0 0 0\n endloop\n endfacet\nendsolid x\n",
            "model",
            "model/stl",
        ),
        "json": (b'{"prompt": "a cat", "seed": 1}', "text", "application/json"),
        "text": ("a plain prompt, ünïcødé\n".encode(), "text", "text/plain"),
        "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "other", "application/pdf"),
        "zip": (b"PK\x03\x04" + bytes(26) + b"readme.txt", "other", "application/zip"),
        "empty": (b"", "other", "application/octet-stream"),
        "binary": (bytes(range(256)) * 4, "other", "application/octet-stream"),
    }
    return table


def test_sniff_recognises_real_files(samples: SampleTable) -> None:
    wrong = {
        name: sniff(data)
        for name, (data, kind, content_type) in samples.items()
        if (sniff(data).kind, sniff(data).content_type) != (kind, content_type)
    }
    assert not wrong


def test_sniff_reports_the_usual_extension(samples: SampleTable) -> None:
    assert sniff(samples["jpeg"][0]) == MediaInfo("image", "image/jpeg", "jpeg")
    assert sniff(samples["m4a"][0]).extension == "m4a"
    assert sniff(samples["opus"][0]).extension == "opus"
    assert sniff(samples["empty"][0]).extension == "bin"


@pytest.mark.parametrize(
    ("name", "expected", "tolerance"),
    [
        ("our-wav", 2.0, 0.0),
        ("our-mp3", 2.0, 1152 / 44100 / 2),
        ("lame-mp3", 2.0, 0.06),  # the Xing frame count includes the encoder's delay and padding
        ("flac", 2.0, 0.0),
        ("vorbis", 2.0, 0.01),
        ("opus", 2.0, 0.01),
        ("m4a", 2.0, 0.05),
        ("aac-in-mp4", 2.0, 0.05),
    ],
)
def test_audio_durations(samples: SampleTable, name: str, expected: float, tolerance: float) -> None:
    duration = audio_duration(samples[name][0])
    assert duration is not None
    assert abs(duration - expected) <= tolerance + 1e-9


def test_audio_duration_counts_mp3_frames_without_a_xing_header() -> None:
    audio = mpeg_audio(7.3, seed=b"c")
    assert audio_duration(audio.data) == audio.duration
    tagged = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + bytes(10) + audio.data + b"TAG" + bytes(125)
    assert audio_duration(tagged) == audio.duration


def test_audio_duration_of_a_truncated_wav_is_what_is_there() -> None:
    wav = synth_wav(4, seed=b"t", sample_rate=16000).data
    assert audio_duration(wav[: 44 + 32000]) == 1.0


def test_audio_duration_unknown(samples: SampleTable) -> None:
    for name in ("png", "our-mp4", "x264-mp4", "mov", "text", "empty", "adts", "glb"):
        assert audio_duration(samples[name][0]) is None, name  # (the videos have no sound track)


def test_big_endian_tiff() -> None:
    assert sniff(b"MM\0*\0\0\0\x08" + bytes(16)) == MediaInfo("image", "image/tiff", "tiff")


@pytest.mark.parametrize(
    ("name", "facts"),
    [("our-mp4", (0.5, 64, 48)), ("x264-mp4", (2.0, 320, 240)), ("mov", (2.0, 320, 240))],
)
def test_video_facts(samples: SampleTable, name: str, facts: tuple[float, int, int]) -> None:
    result = video_facts(samples[name][0])
    assert result is not None
    duration, width, height = result
    assert (width, height) == facts[1:]
    assert abs(duration - facts[0]) < 0.07  # container rounding (edit lists, last frame duration)


def test_video_facts_unknown(samples: SampleTable) -> None:
    for name in ("mkv", "webm", "avi", "m4a", "png", "our-wav", "empty"):
        assert video_facts(samples[name][0]) is None, name


# --- hostile bytes -------------------------------------------------------------------------------


def _prefixes(data: bytes) -> Iterator[bytes]:
    step = max(1, len(data) // 97)
    for end in (*range(0, min(len(data), 200)), *range(200, len(data), step)):
        yield data[:end]


def test_truncated_samples_never_raise(samples: SampleTable) -> None:
    for data, _, _ in samples.values():
        for prefix in _prefixes(data):
            info = sniff(prefix)
            assert isinstance(info, MediaInfo)
            duration = audio_duration(prefix)
            assert duration is None or duration >= 0
            facts = video_facts(prefix)
            assert facts is None or (facts.width > 0 and facts.height > 0)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_garbage_never_raises(data: bytes) -> None:
    assert isinstance(sniff(data), MediaInfo)
    audio_duration(data)
    video_facts(data)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x00\x00\x00WAVE", b"\x00\x00\x00\x18ftypisom", b"ID3\x03\x00\x00",
                     b"fLaC\x00", b"OggS\x00", b"\x1a\x45\xdf\xa3", b"glTF\x02\x00\x00\x00", b"\xff\xfb\x90\x64",
                     b"\x00\x00\x00\x0cftypM4A ", b"BM", b"PK\x03\x04", b"solid ", b"{"]),
    st.binary(max_size=2048),
)  # fmt: skip
def test_signatures_followed_by_garbage_never_raise(magic: bytes, tail: bytes) -> None:
    data = magic + tail
    assert isinstance(sniff(data), MediaInfo)
    audio_duration(data)
    video_facts(data)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


FTYP = _box(b"ftyp", b"isom\0\0\0\0isom")


@pytest.mark.parametrize(
    "data",
    [
        FTYP + struct.pack(">I4sQ", 1, b"moov", 2**63),  # 64-bit size far beyond the data
        FTYP + struct.pack(">I4s", 0, b"moov") + _box(b"mvhd", bytes(3)),  # size 0 = to the end; short mvhd
        FTYP + struct.pack(">I4s", 4, b"moov"),  # size smaller than a header
        FTYP + _box(b"moov", _box(b"mvhd", bytes(100)) + _box(b"trak", _box(b"tkhd", bytes(10)))),  # zero timescale
        FTYP + _box(b"moov", _box(b"trak", b"")) * 3,
        FTYP + _box(b"free", b"") * 20000,  # many boxes: the walk stops at MAX_BOXES
        FTYP + _box(b"moov", _box(b"mvex", _box(b"mehd", b"\x01"))),
        b"RIFF\xff\xff\xff\xffWAVE" + b"LIST\xff\xff\xff\xff",
        b"RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + bytes(16) + b"data\x10\x00\x00\x00" + bytes(16),
        b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f" + b"\xff\xfb\x90\x64" * 10,  # a 256 MB tag in a 50-byte file
        b"ID3\x04\x00\x00\x80\x80\x80\x80",  # invalid syncsafe size
        b"OggS" + bytes(22) + b"\xff" + b"\x01vorbis" + bytes(40),
        b"OggS" + bytes(22) + b"\x00OpusHead\x01\x01\xff\xff" + bytes(8) + b"OggS" + bytes(10),
        b"fLaC" + bytes(4) + b"\xff" * 18,
        b"\xff\xfb\x90\x64" * 1000,  # frame headers with no room for frames
        b"\xff" * 100_000,
        bytes(4) + b"ftyp",
    ],
)
def test_crafted_hostile_inputs(data: bytes) -> None:
    assert isinstance(sniff(data), MediaInfo)
    duration = audio_duration(data)
    assert duration is None or duration >= 0
    video_facts(data)


def test_large_inputs_are_walked_in_bounded_steps() -> None:
    # 8 MB of back-to-back valid silent frames: the frame walk is linear in the data and answers.
    from fal_mock.mock_server.media.mp3 import SILENCE, mp3_stream

    stream = mp3_stream([SILENCE] * 40000, bitrate_kbps=320)
    assert len(stream) > 8_000_000
    assert audio_duration(stream) == 20000 * 1152 / 44100
    assert sniff(bytes(8_000_000)).kind == "other"
