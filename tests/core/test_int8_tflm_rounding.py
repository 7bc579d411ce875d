"""multiply_by_quantized_multiplier is TFLM's MultiplyByQuantizedMultiplier, with C's int32/int64 semantics."""

from hypothesis import given
from hypothesis import strategies as st

from edge_node.core import int8

INT32_MIN = -(1 << 31)


def _c_div_trunc(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _srdhm(a: int, b: int) -> int:
    """gemmlowp SaturatingRoundingDoublingHighMul, transcribed from fixedpoint.h."""
    if a == b == INT32_MIN:
        return (1 << 31) - 1
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    return _c_div_trunc(ab + nudge, 1 << 31)


def _rounding_divide_by_pot(x: int, exponent: int) -> int:
    """gemmlowp RoundingDivideByPOT (two's-complement & and arithmetic >>, as Python's)."""
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def _tflm(x: int, multiplier: int, shift: int) -> int:
    left = shift if shift > 0 else 0
    right = 0 if shift > 0 else -shift
    return _rounding_divide_by_pot(_srdhm(x * (1 << left), multiplier), right)


@given(st.integers(-(1 << 22), 1 << 22), st.integers(1 << 30, (1 << 31) - 1), st.integers(-20, 4))
def test_matches_gemmlowp_transcription(acc: int, multiplier: int, shift: int) -> None:
    assert int8.multiply_by_quantized_multiplier(acc, multiplier, shift) == _tflm(acc, multiplier, shift)


def test_every_tie_of_a_small_range() -> None:
    """Exhaustive where the two roundings bite: halves of the high product and of the shift."""
    for shift in range(-6, 2):
        for acc in range(-3000, 3001):
            assert int8.multiply_by_quantized_multiplier(acc, 1 << 30, shift) == _tflm(acc, 1 << 30, shift)


def test_double_rounding_differs_from_single() -> None:
    # 3 * 0.5 * 2**-2 = 0.375: TFLM rounds the high product 1.5 up to 2, then 2 / 4 = 0.5 away from
    # zero to 1; one rounding of 0.375 gives 0
    assert int8.multiply_by_quantized_multiplier(3, 1 << 30, -2) == 1
    assert int8.requantize(3, 1 << 30, -2) == 0
    # -6 * 0.5 * 2**-2 = -0.75: high product -3 exactly, -3 / 4 = -0.75 -> -1 either way
    assert int8.multiply_by_quantized_multiplier(-6, 1 << 30, -2) == int8.requantize(-6, 1 << 30, -2) == -1
