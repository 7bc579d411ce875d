"""User CSVs through a column mapping: good files load, every mistake says what is wrong."""

import math

import numpy as np
import pytest

from training.csv_mapping import MappingError, load_mapped_csv, parse_column_map
from training.recordings import featurize, resample_indices


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_parse_map_reads_keys_and_gas_kind():
    cmap = parse_column_map("temperature=T,humidity=RH,gas=R,gas_kind=concentration", label="fire", time="ts")
    assert (cmap.temperature, cmap.humidity, cmap.gas, cmap.gas_sign) == ("T", "RH", "R", 1)
    assert parse_column_map("temperature=T,humidity=RH,gas=R").gas_sign == -1  # resistance by default


@pytest.mark.parametrize("text, fragment", [
    ("temperature=T,humidity=RH", "lacks gas"),
    ("temperature=T,humidity=RH,gas=R,pressure=P", "unknown"),
    ("temperature=T,humidity=RH,gas=R,gas_kind=ppm", "gas_kind 'ppm' unknown"),
    ("temperature=T,humidity,gas=R", "not KEY=COLUMN"),
    ("temperature=,humidity=RH,gas=R", "empty column name"),
])
def test_bad_maps_are_named(text, fragment):
    with pytest.raises(MappingError, match=fragment):
        parse_column_map(text)


def test_missing_column_lists_the_real_columns(tmp_path):
    path = write(tmp_path, "T,RH,R\n20,50,1000\n")
    with pytest.raises(MappingError) as err:
        load_mapped_csv(path, parse_column_map("temperature=T,humidity=Hum,gas=R"))
    assert "'Hum'" in str(err.value) and "columns are: T, RH, R" in str(err.value)


def test_non_numeric_cell_gives_row_and_column(tmp_path):
    path = write(tmp_path, "T,RH,R\n20,50,1000\n21,abc,1000\n")
    with pytest.raises(MappingError, match=r"line 3 column 'RH': 'abc' is not a number"):
        load_mapped_csv(path, parse_column_map("temperature=T,humidity=RH,gas=R"))


def test_missing_file_and_empty_file(tmp_path):
    cmap = parse_column_map("temperature=T,humidity=RH,gas=R")
    with pytest.raises(MappingError, match="no such file"):
        load_mapped_csv(tmp_path / "nope.csv", cmap)
    with pytest.raises(MappingError, match="no data rows"):
        load_mapped_csv(write(tmp_path, "T,RH,R\n"), cmap)


def test_zero_resistance_suggests_concentration(tmp_path):
    path = write(tmp_path, "T,RH,R\n20,50,0\n")
    with pytest.raises(MappingError, match="gas_kind=concentration"):
        load_mapped_csv(path, parse_column_map("temperature=T,humidity=RH,gas=R"))


def test_sentinel_missing_values_become_gaps_the_node_skips(tmp_path):
    rows = "\n".join(f"{t},20.5,50,{-200 if t == 60 else 1000}" for t in range(0, 150, 30))
    path = write(tmp_path, "ts,T,RH,R\n" + rows + "\n")
    rec = load_mapped_csv(path, parse_column_map("temperature=T,humidity=RH,gas=R", time="ts"),
                          missing_values=(-200.0,))
    assert math.isnan(rec.gas_raw[2]) and rec.gas_sign == -1
    fs = featurize(rec, 30)
    assert list(fs.t_s) == [0, 30, 90, 120]
    assert list(fs.dt_s) == [30, 30, 60, 30]  # the gap shows up as a longer real dt


def test_labels_and_iso_times(tmp_path):
    path = write(tmp_path, "when,T,RH,eco2,fire\n2024-06-01 12:00:00,20,50,400,0\n"
                           "2024-06-01 12:00:30,20,50,900,1\n")
    cmap = parse_column_map("temperature=T,humidity=RH,gas=eco2,gas_kind=concentration", label="fire", time="when")
    rec = load_mapped_csv(path, cmap)
    assert list(rec.label) == [0, 1] and rec.t_s[1] - rec.t_s[0] == 30


def test_times_must_increase(tmp_path):
    path = write(tmp_path, "ts,T,RH,R\n10,20,50,1000\n5,20,50,1000\n")
    with pytest.raises(MappingError, match="line 3 column 'ts': time goes back"):
        load_mapped_csv(path, parse_column_map("temperature=T,humidity=RH,gas=R", time="ts"))
    rec = load_mapped_csv(path, parse_column_map("temperature=T,humidity=RH,gas=R", time="ts"), sort=True)
    assert list(rec.t_s) == [5, 10]


def test_millisecond_times_are_detected_or_must_be_declared(tmp_path):
    """Train reads times as evaluate and calibrate do: ms are never silently taken for seconds."""
    cmap = parse_column_map("temperature=T,humidity=RH,gas=R", time="ts")
    epoch_ms = write(tmp_path, "ts,T,RH,R\n" + "".join(f"{1782864000000 + 30000 * i},20,50,1000\n" for i in range(3)))
    assert list(np.diff(load_mapped_csv(epoch_ms, cmap).t_s)) == [30, 30]
    since_boot = write(tmp_path, "ts,T,RH,R\n" + "".join(f"{10563 + 29000 * i},20,50,1000\n" for i in range(3)))
    with pytest.raises(MappingError, match="--time-unit s or --time-unit ms"):
        load_mapped_csv(since_boot, cmap)
    rec = load_mapped_csv(since_boot, cmap, time_unit="ms")
    assert list(np.diff(rec.t_s)) == [29, 29] and "time read as ms" in rec.provenance


def test_resample_picks_first_row_at_each_tick():
    t = np.arange(0, 100, 1.0)
    assert list(resample_indices(t, 30)) == [0, 30, 60, 90]
    assert list(resample_indices(t, 30, phase_s=5)) == [5, 35, 65, 95]
    coarse = np.arange(0, 600, 60.0)
    assert list(resample_indices(coarse, 30)) == list(range(10))  # coarser data keeps every row
    epoch = 1782864000 + np.arange(0, 120, 30.0)
    assert list(resample_indices(epoch, 30)) == [0, 1, 2, 3]  # the last row too, at epoch float resolution


def test_user_recording_splits_in_time_and_keeps_fires_out_of_training(tmp_path):
    from tests.training.test_evaluate_command import write_forest_then_fire_csv
    from training.dataset import DataSplits, SplitPlan, add_user_recording

    path = tmp_path / "node.csv"
    write_forest_then_fire_csv(path)
    cmap = parse_column_map("temperature=temp,humidity=hum,gas=gas_ohm", label="smoke", time="time_s")
    splits = DataSplits()
    add_user_recording(splits, load_mapped_csv(path, cmap), SplitPlan())
    (train,), (calib,), (test,) = splits.train, splits.calib, splits.test_labelled
    assert train.t_s.max() < calib.t_s.min() and calib.t_s.max() < test.t_s.min()
    assert train.label.max() == 0 and calib.label.max() == 0 and test.label.max() == 1


def test_a_recording_finer_than_the_node_interval_is_sampled_at_every_phase(tmp_path):
    """Like the 1 Hz smoke blocks: 30 nodes sampling the same air at different moments, cut at the same times."""
    from training.dataset import DataSplits, SplitPlan, add_user_recording

    rows = "".join(f"{t},{20 + (t % 60) / 30:.2f},50,{1000 + t % 7}\n" for t in range(3600))
    path = write(tmp_path, "ts,T,RH,R\n" + rows)
    splits = DataSplits()
    add_user_recording(splits, load_mapped_csv(path, parse_column_map("temperature=T,humidity=RH,gas=R",
                                                                      time="ts")), SplitPlan())
    assert len(splits.train) == len(splits.calib) == len(splits.test_normal["user CSV"]) == 30
    assert {s.t_s[0] % 30 for s in splits.train} == set(range(30))
    cut = max(s.t_s.max() for s in splits.train)
    assert all(s.t_s.min() > cut for s in splits.calib) and sum(len(s) for s in splits.train) == 30 * 84


def test_train_checks_user_data_options_and_length_before_any_heavy_work(tmp_path, capsys):
    import time

    from emberwatch.cli import main

    short = tmp_path / "short.csv"
    short.write_text("t,temp,hum,ohm\n" + "".join(f"{1782864000 + 30 * i},18.0,60.{i % 10},8000{i % 10}\n"
                                                  for i in range(15)))
    args = ["train", "--csv", str(short), "--map", "temperature=temp,humidity=hum,gas=ohm", "--time", "t"]
    started = time.monotonic()
    assert main(args) == 2
    assert "node samples at 30 s; training needs at least 20" in capsys.readouterr().err
    assert main(["train", "--only-user-data"]) == 2
    assert "need --csv" in capsys.readouterr().err
    assert main(args + ["--user-weight", "0"]) == 2
    assert "--user-weight must be >= 1" in capsys.readouterr().err
    half_hour = tmp_path / "half_hour.csv"  # enough to add to the default data, too little to learn from alone
    half_hour.write_text("t,temp,hum,ohm\n" + "".join(f"{1782864000 + 30 * i},18.0,60.{i % 10},8000{i % 10}\n"
                                                        for i in range(60)))
    alone = ["train", "--csv", str(half_hour), "--map", "temperature=temp,humidity=hum,gas=ohm", "--time", "t",
             "--only-user-data"]
    assert main(alone) == 2
    err = capsys.readouterr().err
    assert "60 node samples at 30 s; training needs at least 120 (60 min)" in err and "--user-weight N" in err
    assert main(alone + ["--user-weight", "3"]) == 2
    assert "with --only-user-data there is none to weigh it against" in capsys.readouterr().err
    assert main(args[:-2]) == 2  # no --time: 15 rows read 1 s apart
    assert "15 rows spanning 14 s give 1 node samples" in capsys.readouterr().err
    assert time.monotonic() - started < 60  # no data loading, no TensorFlow
