"""`emberwatch train --quick` end to end on real data: artefacts written, same seed -> same bytes."""

import json

import pytest

pytest.importorskip("tensorflow", reason="tensorflow (train extra) is needed to train")

from emberwatch.cli import main


def train_into(out_dir, data_dir, seed=11):
    argv = ["train", "--quick", "--quiet", "--seed", str(seed), "--data-dir", str(data_dir),
            "--models-dir", str(out_dir), "--weights-module", str(out_dir / "model_weights.py"),
            "--report", str(out_dir / "report.md"), "--teacher-epochs", "2", "--student-epochs", "3", "--no-qat"]
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
