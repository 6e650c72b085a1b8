from __future__ import annotations

import pytest
from fal_mock.mock_server.video.bitstream import BitWriter, nal_unit, rbsp_to_ebsp, se_bits, ue_bits
from hypothesis import given
from hypothesis import strategies as st


def _read_ue(bits: str, pos: int = 0) -> tuple[int, int]:
    zeros = 0
    while bits[pos + zeros] == "0":
        zeros += 1
    value = int(bits[pos + zeros : pos + 2 * zeros + 1], 2) - 1
    return value, pos + 2 * zeros + 1


@pytest.mark.parametrize(
    ("value", "bits"), [(0, "1"), (1, "010"), (2, "011"), (3, "00100"), (6, "00111"), (7, "0001000"), (25, "000011010")]
)
def test_ue_known_codes(value: int, bits: str) -> None:
    assert ue_bits(value) == bits


@pytest.mark.parametrize(("value", "code_num"), [(0, 0), (1, 1), (-1, 2), (2, 3), (-2, 4), (-40, 80)])
def test_se_maps_to_code_numbers(value: int, code_num: int) -> None:
    assert se_bits(value) == ue_bits(code_num)


@given(st.integers(min_value=0, max_value=10**7))
def test_ue_round_trips(value: int) -> None:
    bits = ue_bits(value)
    assert _read_ue(bits) == (value, len(bits))


def test_ue_rejects_negative() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        ue_bits(-1)


def test_bit_writer_fields_and_trailing_bits() -> None:
    w = BitWriter().u(8, 0x42).flag(True).ue(3).se(-1).trailing_bits()
    assert w.to_bits() == "01000010" + "1" + "00100" + "011" + "1" + "000000"
    assert w.to_bytes() == bytes((0x42, 0b10010001, 0b11000000))
    with pytest.raises(ValueError, match="does not fit"):
        BitWriter().u(3, 8)
    with pytest.raises(ValueError, match="aligned"):
        BitWriter().flag(True).to_bytes()


@pytest.mark.parametrize(
    ("rbsp", "ebsp"),
    [
        (b"\x00\x00\x00", b"\x00\x00\x03\x00"),
        (b"\x00\x00\x01", b"\x00\x00\x03\x01"),
        (b"\x00\x00\x02\x00\x00\x03", b"\x00\x00\x03\x02\x00\x00\x03\x03"),
        (b"\x00\x00\x04", b"\x00\x00\x04"),
        (b"\x00\x00\x00\x00\x01", b"\x00\x00\x03\x00\x00\x03\x01"),
        (b"\x01\x00\x00", b"\x01\x00\x00"),
    ],
)
def test_emulation_prevention(rbsp: bytes, ebsp: bytes) -> None:
    assert rbsp_to_ebsp(rbsp) == ebsp


def _unescape(ebsp: bytes) -> bytes:
    out = bytearray()
    zeros = 0
    for byte in ebsp:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


@given(st.binary(max_size=64))
def test_emulation_prevention_round_trips_and_hides_start_codes(rbsp: bytes) -> None:
    ebsp = rbsp_to_ebsp(rbsp)
    for k in range(len(ebsp) - 2):
        assert not (ebsp[k] == 0 and ebsp[k + 1] == 0 and ebsp[k + 2] <= 2)
    assert _unescape(ebsp) == rbsp


def test_nal_header() -> None:
    assert nal_unit(3, 7, b"\x42") == b"\x67\x42"
    assert nal_unit(2, 1, b"\x00\x00\x01") == b"\x41\x00\x00\x03\x01"
    with pytest.raises(ValueError, match="NAL header"):
        nal_unit(4, 1, b"")
