from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from edge_node.core import int8
from edge_node.core.detector import WET_AIR_RH_LEVEL_CP, Detector, no_fire_evidence, wet_air
from edge_node.core.features import FeatureState, log2_q8


@given(st.integers(1, 2**62))
def test_log2_q8_is_within_two_below_true_log(value: int) -> None:
    exact = math.log2(value) * 256
    assert log2_q8(value) <= exact + 1e-6
    assert log2_q8(value) > exact - 2.0001


@given(acc=st.integers(-2**31, 2**31 - 1), real=st.floats(1e-6, 0.99))
def test_requantize_matches_real_scaling_within_one(acc: int, real: float) -> None:
    mult, shift = int8.quantize_multiplier(real)
    assert 2**30 <= mult < 2**31
    assert abs(int8.requantize(acc, mult, shift) - acc * real) <= 1 + abs(acc) * real * 1e-8


def test_requantize_rounds_half_up() -> None:
    mult, shift = int8.quantize_multiplier(0.5)
    assert [int8.requantize(a, mult, shift) for a in (-3, -1, 1, 3)] == [-1, 0, 1, 2]


def test_dense_layer_matches_float_reference_and_clamps() -> None:
    mult, shift = int8.quantize_multiplier(0.01)
    layer = int8.DenseLayer(2, 2, [10, -20, 127, 127], [100, 0], -5, 3, [mult] * 2, [shift] * 2, -128, 127)
    x = [15, -5]  # minus zero point: [20, 0]
    assert layer.forward(x) == [3 + round((100 + 200) * 0.01), 3 + round(127 * 20 * 0.01)]
    big = int8.DenseLayer(1, 1, [127], [0], 0, 0, [2**30], [8], -128, 127)
    assert big.forward([127]) == [127]


def test_features_are_zero_on_steady_input_and_track_a_rise() -> None:
    state = FeatureState()
    for _ in range(100):
        feats = state.update(2000, 5000, -4000, 60)
    assert feats == [0, 0, 0, 0, 0, 0]
    for _ in range(5):
        feats = state.update(2600, 3000, -3000, 60)
    temp_level, temp_trend, rh_level, rh_trend, gas_level, gas_trend = feats
    assert temp_level > 0 and temp_trend > 0 and gas_level > 0 and gas_trend > 0
    assert rh_level < 0 and rh_trend < 0


def test_features_state_survives_a_round_trip() -> None:
    a = FeatureState()
    a.update(2000, 5000, -4000, 60)
    b = FeatureState.from_list(a.to_list())
    assert a.update(2100, 5000, -4000, 60) == b.update(2100, 5000, -4000, 60)


def test_frozen_baseline_does_not_learn_the_fire() -> None:
    adapting, frozen = FeatureState(), FeatureState()
    for s in (adapting, frozen):
        s.update(2000, 5000, -4000, 60)
    for _ in range(600):
        a = adapting.update(4000, 5000, -4000, 60)
        f = frozen.update(4000, 5000, -4000, 60, adapt_slow=False)
    assert f[0] == 2000 and a[0] < f[0]


def test_detector_k_of_n_and_cooldown() -> None:
    det = Detector(threshold=10, k=2, n=3, cooldown_s=600)
    decisions = [det.update(s, i * 60_000) for i, s in enumerate([20, 0, 0, 20, 20, 20, 20])]
    assert decisions == [False, False, False, False, True, False, False]
    assert det.update(20, 4 * 60_000 + 600_000)  # cooldown over, still anomalous
    det.restore([0, -1, 0])
    assert not det.anomalous


def test_wet_air_needs_wetter_and_not_warming_on_lists_and_fleet_arrays():
    wet = WET_AIR_RH_LEVEL_CP + 1
    # temp_level, temp_trend, rh_level, rh_trend, gas_level, gas_trend
    cases = [([0, 0, wet, 500, 100, 20], True),             # rain: much wetter, not warming
             ([300, -40, wet + 2000, 1100, 99, 24], True),  # a shower after a warm afternoon
             ([277, 228, wet, 2111, 365, 309], False),     # smoke that wets the air also warms it
             ([0, -50, WET_AIR_RH_LEVEL_CP, 0, 0, 0], False),
             ([0, 0, -3000, 0, 500, 100], False)]
    for features, expected in cases:
        assert bool(wet_air(features)) is expected, features
    fleet = np.array([f for f, _ in cases], dtype=np.int64).T  # (6, N), as the simulator holds them
    assert wet_air(fleet).tolist() == [e for _, e in cases]


def test_no_fire_evidence_needs_smoke_or_warming_on_lists_and_fleet_arrays():
    # temp_level, temp_trend, rh_level, rh_trend, gas_level, gas_trend
    cases = [([-637, -516, 1813, 1491, 0, 0], True),    # BME688 carried into cool damp air, gas held
             ([0, 0, 900, 800, 40, 10], True),          # a damp gust, no smoke, not warming
             ([0, 250, 0, 0, 0, 0], False),             # warming fast: heat may be a fire
             ([400, -30, 1500, 900, 0, 0], True),       # a shower cooling a warm afternoon, no smoke
             ([105, 89, 2017, 1793, 0, 0], False),      # smoke block F before its gas reading: warm and wetter
             ([-50, -20, 0, 0, 120, 80], False),        # smoke without heat: the gas channel speaks
             ([0, -10, 0, 0, 200, 50], False),
             ([0, 0, 2000, 0, 80, 0], True),            # gas level that the humidity rise explains
             ([0, 0, WET_AIR_RH_LEVEL_CP + 1, 0, 500, 100], True)]  # wet air, however smoky it reads
    for features, expected in cases:
        assert bool(no_fire_evidence(features)) is expected, features
    fleet = np.array([f for f, _ in cases], dtype=np.int64).T
    assert no_fire_evidence(fleet).tolist() == [e for _, e in cases]
