"""Loaders for ../shared/data: unique blocks, per-sensor series, -200 as missing, contiguous splits."""

import numpy as np

from training import real_data
from training.dataset import (
    SMOKE_NORMAL_END_S,
    SMOKE_TRAIN_END_S,
    SplitPlan,
    build_splits,
)


def test_smoke_duplicate_blocks_really_repeat(data_dir):
    rec = real_data.load_smoke_file(data_dir)
    a0, a1 = real_data.SMOKE_BLOCKS["A"]
    d0, d1 = real_data.SMOKE_BLOCKS["A_dup"]
    assert np.array_equal(rec.rh_pct[a0:a1], rec.rh_pct[d0:d1])
    assert np.array_equal(rec.gas_raw[a0:a1], rec.gas_raw[d0:d1])
    c0, _ = real_data.SMOKE_BLOCKS["C"]
    e0, e1 = real_data.SMOKE_BLOCKS["C_dup"]
    assert np.array_equal(rec.rh_pct[c0:c0 + e1 - e0], rec.rh_pct[e0:e1])


def test_unique_blocks_cover_the_labels(data_dir):
    blocks = real_data.load_smoke_blocks(data_dir)
    assert set(blocks) == {"A", "F", "C"}
    assert blocks["A"].label[:SMOKE_NORMAL_END_S].max() == 0 and blocks["A"].label[SMOKE_NORMAL_END_S:].min() == 1
    assert blocks["F"].label.mean() > 0.9
    assert blocks["A"].gas_sign == 1  # eCO2 is a concentration


def test_bme688_series_are_one_sensor_and_heater_step_each(data_dir):
    series = real_data.load_bme688_clean_air(data_dir)
    assert len(series) == 80
    for s in series:
        assert s.gas_sign == -1 and np.all(np.diff(s.t_s) > 0)


def test_air_quality_minus_200_is_missing(data_dir):
    rec = real_data.load_air_quality(data_dir)
    assert not np.any(rec.gas_raw == -200) and np.isnan(rec.gas_raw).sum() > 0
    assert not np.any(rec.temp_c == -200)


def test_splits_are_contiguous_and_disjoint(data_dir):
    splits = build_splits(data_dir, SplitPlan().quick())
    train = [s for s in splits.train if s.name.startswith("smoke_A")]
    calib = [s for s in splits.calib if s.name.startswith("smoke_A")]
    test = [s for s in splits.test_labelled if s.name.startswith("smoke_A")]
    assert all(s.t_s.max() < SMOKE_TRAIN_END_S for s in train)
    assert all(SMOKE_TRAIN_END_S <= s.t_s.min() and s.t_s.max() < SMOKE_NORMAL_END_S for s in calib)
    assert all(s.t_s.min() >= SMOKE_NORMAL_END_S for s in test)
    for s in splits.train + splits.calib:  # normal data only
        assert s.label is None or s.label.max() == 0
    # synthetic nodes differ between splits (different seeds)
    assert not np.array_equal(splits.train[-1].readings[:50], splits.calib[-1].readings[:50])
