"""The three slice-data writers agree bit for bit (the decode tests prove the generic one right)."""

from __future__ import annotations

import itertools

import pytest
from fal_mock.mock_server.video.bitstream import ue_bits
from fal_mock.mock_server.video.motion import plan_motion
from fal_mock.mock_server.video.slicedata import (
    DenseField,
    SeparableField,
    UniformField,
    field_vectors,
    slice_data,
    slice_data_generic,
    slice_data_separable,
    slice_data_uniform,
)
from hypothesis import given, settings
from hypothesis import strategies as st

SIZES = [(w, h) for w in (1, 2, 3, 4, 5, 7, 20, 80) for h in (1, 2, 3, 4, 6, 12, 45)]
VECTORS = [
    (0, 0), (8, 0), (0, 8), (-8, 0), (0, -8), (8, 8), (-8, 16), (40, -24), (1, 0), (0, -3), (5, 7), (-2048, 0),
]  # fmt: skip


@pytest.mark.parametrize(("wm", "hm"), SIZES)
def test_uniform_closed_form_equals_generic(wm: int, hm: int) -> None:
    for mv in VECTORS:
        assert slice_data_uniform(wm, hm, mv) == slice_data_generic(wm, hm, [mv] * (wm * hm)), mv


def test_uniform_shapes() -> None:
    # A still picture is one skip run; a pan codes the top row and left column only.
    assert slice_data_uniform(20, 12, (0, 0)) == ue_bits(240)
    bits = slice_data_uniform(3, 3, (8, 0))
    # MB0: run 0, mb_type 0, mvd (8, 0), cbp 0; MB1-2: mvd (0, 0); MB3: run 0; MB4-5 skipped;
    # MB6 after a run of 2; MB7-8 skipped (final run 2).
    assert bits == "1" + "1" + "000010000" + "1" + "1" + "11111" * 2 + "11111" + "011" + "1111" + "011"


@pytest.mark.parametrize(("wm", "hm"), [(1, 1), (1, 5), (5, 1), (4, 3), (9, 7), (20, 12)])
def test_separable_equals_generic_exhaustive_small_values(wm: int, hm: int) -> None:
    values = (0, 8, -8)
    cases = 0
    for fx in itertools.islice(itertools.product(values, repeat=wm), 60):
        for fy in itertools.islice(itertools.product(values, repeat=hm), 20):
            vectors = [(x, y) for y in fy for x in fx]
            assert slice_data_separable(wm, hm, fx, fy) == slice_data_generic(wm, hm, vectors), (fx, fy)
            cases += 1
    assert cases > 0


_component = st.sampled_from([0, 0, 0, 8, -8, 16, -16, 4, 24])


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=24).flatmap(lambda w: st.lists(_component, min_size=w, max_size=w)),
    st.integers(min_value=1, max_value=14).flatmap(lambda h: st.lists(_component, min_size=h, max_size=h)),
)
def test_separable_equals_generic_random(fx: list[int], fy: list[int]) -> None:
    wm, hm = len(fx), len(fy)
    vectors = [(x, y) for y in fy for x in fx]
    expected = slice_data_generic(wm, hm, vectors)
    assert slice_data_separable(wm, hm, fx, fy) == expected
    assert slice_data(wm, hm, SeparableField(tuple(fx), tuple(fy))) == expected


@pytest.mark.parametrize(
    ("width", "height", "frames"), [(320, 180, 48), (1280, 720, 150), (180, 320, 48), (48, 16, 10)]
)
def test_zoom_plan_fields_equal_generic(width: int, height: int, frames: int) -> None:
    seed = bytes([2]) + bytes(31)  # byte 0 % 3 == 2: zoom
    plan = plan_motion(seed, width, height, frames)
    assert plan.mode == "zoom"
    wm, hm = (width + 15) // 16, (height + 15) // 16
    assert any(isinstance(f, SeparableField) for f in plan.fields)
    for field in plan.fields:
        assert slice_data(wm, hm, field) == slice_data_generic(wm, hm, field_vectors(field, wm, hm))


def test_dispatch_and_validation() -> None:
    assert slice_data(2, 2, UniformField((8, 0))) == slice_data_generic(2, 2, [(8, 0)] * 4)
    assert slice_data(2, 2, SeparableField((8, 8), (0, 0))) == slice_data_uniform(2, 2, (8, 0))
    dense = DenseField(((0, 0), (8, 0), (0, 0), (0, 8)))
    assert slice_data(2, 2, dense) == slice_data_generic(2, 2, list(dense.mvs))
    with pytest.raises(ValueError, match="size"):
        slice_data_generic(2, 2, [(0, 0)] * 3)
    with pytest.raises(ValueError, match="size"):
        slice_data_separable(2, 2, (0, 0, 0), (0, 0))
    with pytest.raises(ValueError, match="macroblock"):
        slice_data_uniform(0, 2, (0, 0))
