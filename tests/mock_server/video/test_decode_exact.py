"""MV prediction and P_Skip inference proven by decoding: random motion fields must come out of
FFmpeg's decoder bit-exact against a small numpy motion-compensation model."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from fal_mock.mock_server.video.bitstream import se_bits
from fal_mock.mock_server.video.encoder import encode_mp4
from fal_mock.mock_server.video.motion import plan_motion
from fal_mock.mock_server.video.slicedata import (
    MV,
    DenseField,
    MotionField,
    SeparableField,
    UniformField,
    field_vectors,
    slice_data_generic,
)
from fal_mock.mock_server.video.yuv import YuvFrame

from tests.mock_server.video._support import motion_compensate, planes, random_frame
from tests.videocheck import assert_real_mp4

FieldMaker = Callable[[np.random.Generator, int, int], MotionField]
STEPS = np.array([-32, -16, -8, 0, 8, 16, 32, 64, -64])  # quarter samples: even whole pixels


def _random_field(rng: np.random.Generator, wm: int, hm: int) -> MotionField:
    picks = rng.choice(STEPS, size=(wm * hm, 2))
    return DenseField(tuple((int(x), int(y)) for x, y in picks))


def _mostly_uniform(rng: np.random.Generator, wm: int, hm: int) -> MotionField:
    base: MV = (int(rng.choice(STEPS)), int(rng.choice(STEPS)))
    vectors = [base] * (wm * hm)
    for addr in rng.choice(wm * hm, size=max(1, wm * hm // 10), replace=False):
        vectors[int(addr)] = (int(rng.choice(STEPS)), int(rng.choice(STEPS)))
    return DenseField(tuple(vectors))


def _one_zero_component(rng: np.random.Generator, wm: int, hm: int) -> MotionField:
    # (0, a), (a, 0), (0, 0) mixed: the P_Skip rule tests the whole vector against (0, 0),
    # not each component.
    a = int(rng.choice([8, -8, 16]))
    options: list[MV] = [(0, a), (a, 0), (0, 0), (0, 0), (a, a)]
    return DenseField(tuple(options[int(k)] for k in rng.integers(0, len(options), size=wm * hm)))


def _separable(rng: np.random.Generator, wm: int, hm: int) -> MotionField:
    return SeparableField(
        tuple(int(v) for v in rng.choice([0, 0, 8, -8], size=wm)),
        tuple(int(v) for v in rng.choice([0, 0, 8, -8], size=hm)),
    )


def _uniform(rng: np.random.Generator, wm: int, hm: int) -> MotionField:
    return UniformField((int(rng.choice(STEPS)), int(rng.choice(STEPS))))


MAKERS: dict[str, FieldMaker] = {
    "random": _random_field,
    "mostly_uniform": _mostly_uniform,
    "one_zero_component": _one_zero_component,
    "separable": _separable,
    "uniform": _uniform,
}

# (width, height) in pixels: 1 MB, single rows and columns, cropped sizes, up to 20x12 MBs.
SIZES = [(16, 16), (32, 16), (16, 48), (48, 32), (62, 46), (96, 18), (18, 96), (160, 90), (318, 178), (320, 192)]


def _generic(wm: int, hm: int, field: MotionField) -> str:
    return slice_data_generic(wm, hm, field_vectors(field, wm, hm))


def _naive(wm: int, hm: int, field: MotionField) -> str:
    """A wrong writer: codes every macroblock with mvd = mv, ignoring the prediction."""
    # mb_skip_run 0, mb_type P_L0_16x16, mvd x/y, coded_block_pattern 0
    return "".join("11" + se_bits(x) + se_bits(y) + "1" for x, y in field_vectors(field, wm, hm))


def _compare(data: bytes, frame: YuvFrame, fields: list[MotionField]) -> None:
    width, height = frame.width, frame.height
    decoded = assert_real_mp4(data, width=width, height=height, frame_count=len(fields) + 1, fps=24, keep=None)
    expected = planes(frame)
    wm = frame.width_mbs
    for k in range(len(fields) + 1):
        if k:
            expected = motion_compensate(expected, field_vectors(fields[k - 1], wm, frame.height_mbs), wm)
        got = decoded.frames[k]
        np.testing.assert_array_equal(got.y, expected[0][:height, :width], err_msg=f"luma of frame {k}")
        np.testing.assert_array_equal(got.u, expected[1][: height // 2, : width // 2], err_msg=f"Cb of frame {k}")
        np.testing.assert_array_equal(got.v, expected[2][: height // 2, : width // 2], err_msg=f"Cr of frame {k}")


def _check(frame_size: tuple[int, int], fields: list[MotionField], seed: int) -> None:
    frame = random_frame(*frame_size, np.random.default_rng(seed))
    reference = encode_mp4(frame, fields, 24, slice_data_fn=_generic)
    assert encode_mp4(frame, fields, 24).data == reference.data, "fast writers differ from the generic writer"
    _compare(reference.data, frame, fields)


@pytest.mark.parametrize("kind", sorted(MAKERS))
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_random_fields_decode_bit_exact(kind: str, size: tuple[int, int]) -> None:
    seed = sum(map(ord, kind)) * 1000 + size[0] * 7 + size[1]
    rng = np.random.default_rng(seed)
    wm, hm = (size[0] + 15) // 16, (size[1] + 15) // 16
    fields = [MAKERS[kind](rng, wm, hm) for _ in range(5)]
    _check(size, fields, seed)


@pytest.mark.parametrize("mode_byte", [0, 1, 2], ids=["pan", "sway", "zoom"])
def test_motion_plans_decode_bit_exact(mode_byte: int) -> None:
    seed = bytes([mode_byte, 3, 255, 1]) + bytes(28)
    plan = plan_motion(seed, 318, 178, 24)
    _check((318, 178), list(plan.fields), mode_byte)


def test_model_catches_a_writer_that_ignores_mv_prediction() -> None:
    rng = np.random.default_rng(5)
    frame = random_frame(64, 48, rng)
    fields = [_random_field(rng, 4, 3) for _ in range(3)]
    wrong = encode_mp4(frame, fields, 24, slice_data_fn=_naive)
    with pytest.raises(AssertionError, match="frame 1"):
        _compare(wrong.data, frame, fields)
