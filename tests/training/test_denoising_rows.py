"""The denoising corruption the autoencoders train on: one channel shifted as an anomaly shifts it."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")
from training.autoencoder import CHANNELS, corrupt_rows  # noqa: E402  (pulls in TensorFlow)
from training.quantize import INPUT_CLIP  # noqa: E402

SCALES = np.array([786.0, 289.0, 3192.0, 316.0, 128.0, 24.0])  # the committed model's feature spans


def _rows(n: int) -> np.ndarray:
    return np.random.default_rng(0).normal(0.0, 0.05, (n, 6)).astype(np.float32)


def test_one_channel_moves_level_and_trend_together_in_sensor_units():
    x = _rows(4000)
    out = corrupt_rows(x, SCALES, 0.5, seed=7)
    moved = np.abs(out - x) > 1e-6
    changed_rows = moved.any(axis=1)
    assert 0.45 < changed_rows.mean() < 0.55
    for row in np.flatnonzero(changed_rows)[:500]:
        channels = [c for c, cols in enumerate(CHANNELS) if moved[row, list(cols)].any()]
        assert len(channels) == 1
        level_col, trend_col = CHANNELS[channels[0]]
        d_level = out[row, level_col] - x[row, level_col]
        assert 0.5 - 1e-4 <= abs(d_level) <= 3.0 + 1e-4
        d_trend_units = (out[row, trend_col] - x[row, trend_col]) * SCALES[trend_col]
        unclipped = abs(out[row, trend_col]) < INPUT_CLIP - 1e-4
        if unclipped:  # the trend moves 0-1 x the level's shift, same sign, in the sensor's own units
            assert d_trend_units * d_level >= -1e-3
            assert abs(d_trend_units) <= abs(d_level) * SCALES[level_col] * (1 + 1e-4) + 1e-3
    assert np.abs(out).max() <= INPUT_CLIP


def test_same_seed_same_rows_and_zero_fraction_is_the_data():
    x = _rows(500)
    assert np.array_equal(corrupt_rows(x, SCALES, 0.5, 3), corrupt_rows(x, SCALES, 0.5, 3))
    assert not np.array_equal(corrupt_rows(x, SCALES, 0.5, 3), corrupt_rows(x, SCALES, 0.5, 4))
    assert np.array_equal(corrupt_rows(x, SCALES, 0.0, 3), x)
