"""`emberwatch train --quick` end to end on real data: artefacts written, same seed -> same bytes;
and on a user's clean recording alone (--only-user-data): a weights module the node can load."""

import importlib.util
import json

import numpy as np
import pytest

pytest.importorskip("tensorflow", reason="tensorflow (train extra) is needed to train")

from emberwatch.cli import main


def train_into(out_dir, data_dir, seed=11, extra=(), epochs=(2, 3)):
    argv = ["train", "--quick", "--quiet", "--seed", str(seed), "--data-dir", str(data_dir),
            "--models-dir", str(out_dir), "--weights-module", str(out_dir / "model_weights.py"),
            "--report", str(out_dir / "report.md"), "--teacher-epochs", str(epochs[0]),
            "--student-epochs", str(epochs[1]), "--no-qat", *extra]
    assert main(argv) == 0


@pytest.mark.slow
def test_quick_training_is_reproducible(tmp_path, data_dir, capsys):
    train_into(tmp_path / "a", data_dir)
    summary = json.loads(capsys.readouterr().out)
    assert summary["macs"] == 144 and 0.0 <= summary["auc_strong_event"] <= 1.0
    train_into(tmp_path / "b", data_dir)
    for name in ("model_weights.py", "emberwatch_ae.tflite", "emberwatch_ae_model.cc"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    card = json.loads((tmp_path / "a" / "model_card.json").read_text())
    assert card["seed"] == 11 and card["macs_per_inference"] == 144
    assert card["parity_tflite_micro"]["mismatching_outputs"] == 0
    assert (tmp_path / "a" / "model_roc.png").stat().st_size > 1000


def test_missing_data_dir_is_a_clear_error(tmp_path, capsys):
    argv = ["train", "--quick", "--quiet", "--data-dir", str(tmp_path / "nothing"),
            "--models-dir", str(tmp_path), "--weights-module", str(tmp_path / "w.py"), "--no-report"]
    assert main(argv) == 2
    assert "real data sets live in ../shared/data" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["-0.1", "1.5"])
def test_corrupt_fraction_out_of_range_is_refused_before_any_work(tmp_path, value):
    argv = ["train", "--quick", "--quiet", "--data-dir", str(tmp_path / "nothing"), "--corrupt-fraction", value,
            "--models-dir", str(tmp_path), "--weights-module", str(tmp_path / "w.py"), "--no-report"]
    with pytest.raises(SystemExit, match="--corrupt-fraction must be in"):
        main(argv)
    assert list(tmp_path.iterdir()) == []


def write_clean_csv(path, hours=4.0, row_s=10):
    """A quiet synthetic forest recording as a user would export it: epoch milliseconds, a row every row_s."""
    from training.synthetic import forest_node_days

    rec = forest_node_days(seed=5, days=hours / 24, interval_s=row_s)
    t_ms = 1782864000000 + np.rint((rec.t_s - rec.t_s[0]) * 1000).astype(np.int64)
    lines = ["time_ms,temp_c,rh_pct,gas_ohm"] + [f"{t},{a:.2f},{b:.2f},{c:.0f}"
                                                 for t, a, b, c in zip(t_ms, rec.temp_c, rec.rh_pct, rec.gas_raw)]
    path.write_text("\n".join(lines) + "\n")
    return len(rec)


@pytest.mark.slow
def test_training_on_the_users_clean_recording_alone(tmp_path, data_dir, capsys):
    csv_path = tmp_path / "my_site.csv"
    rows = write_clean_csv(csv_path)
    out = tmp_path / "model"
    train_into(out, data_dir, extra=["--csv", str(csv_path), "--map", "temperature=temp_c,humidity=rh_pct,gas=gas_ohm",
                                     "--time", "time_ms", "--only-user-data", "--no-report"], epochs=(10, 20))
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert "calibrated on 0.0" in captured.err and "emberwatch calibrate --csv" in captured.err  # 4 h is little

    spec = importlib.util.spec_from_file_location("users_weights", out / "model_weights.py")
    weights = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(weights)
    from edge_node.core.scoring import Int8Autoencoder
    model = Int8Autoencoder.from_module(weights)
    assert weights.THRESHOLD == summary["threshold"] > 0 and model.macs() == 144
    first_line = (out / "model_weights.py").read_text().splitlines()[0]
    assert "--csv my_site.csv" in first_line and "--only-user-data" in first_line and "--quick" in first_line

    card = json.loads((out / "model_card.json").read_text())
    # Every training row is the user's: 70 % of the 30 s samples, at the 3 phase offsets of the quick plan
    # (rows every 10 s), and none of the default data
    samples = rows // 3
    assert abs(card["training_rows"] - 3 * int(0.7 * samples)) <= 3
    assert card["trained_on"].startswith("normal rows only: the first 70 % of my_site.csv")
    assert card["data_provenance"][0].startswith("trained and calibrated on the user's recording alone")
    assert "time read as ms" in " ".join(card["data_provenance"])
    # The node the user ships is quiet on its own air: most samples score under the threshold, also in the
    # last 15 %, which it neither trained nor calibrated on (a rain shower early on scores high: wet air)
    from training.csv_mapping import load_mapped_csv, parse_column_map
    from training.recordings import featurize
    rec = load_mapped_csv(csv_path, parse_column_map("temperature=temp_c,humidity=rh_pct,gas=gas_ohm", time="time_ms"))
    scores = [model.score([int(v) for v in row]) for row in featurize(rec, 30).features]
    assert np.median(scores) < weights.THRESHOLD and np.median(scores[int(0.85 * samples):]) < weights.THRESHOLD
