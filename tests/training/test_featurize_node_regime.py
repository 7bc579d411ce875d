"""Training featurizes the way a node measures: the gas heater is held after a gap and at power-up."""

import numpy as np

from edge_node.core.heater import SETTLE_READINGS
from training.recordings import Recording, featurize


def _recording(t_s: np.ndarray) -> Recording:
    n = len(t_s)
    gas = np.full(n, 50_000.0)
    gas[40:] = 20_000.0  # the first reading after the gap reads low, as an idled heater does
    return Recording("gap", t_s, np.full(n, 20.0), np.full(n, 50.0), gas, -1)


def test_gas_features_are_held_after_power_up_and_after_a_gap():
    t_s = np.concatenate([np.arange(40) * 30.0, 40 * 30.0 + 600 + np.arange(20) * 30.0])  # a 10-minute gap
    fs = featurize(_recording(t_s), 30)
    gas_level = fs.features[:, 4]
    assert (gas_level[:SETTLE_READINGS] == 0).all()  # power-up is a cold start
    assert (gas_level[40:40 + SETTLE_READINGS] == 0).all()  # held after the gap ...
    assert gas_level[40 + SETTLE_READINGS] > 64  # ... then the lower resistance shows (a step the node sees)


def test_without_a_gap_the_step_shows_at_once():
    t_s = np.arange(60) * 30.0
    fs = featurize(_recording(t_s), 30)
    assert fs.features[40, 4] > 64
