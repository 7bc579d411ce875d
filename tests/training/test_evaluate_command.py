"""`emberwatch evaluate --csv` runs the committed int8 model on any mapped CSV, without TensorFlow."""

import json
from pathlib import Path

import numpy as np
import pytest

from emberwatch.cli import main
from training.synthetic import forest_node_days

WEIGHTS = Path(__file__).resolve().parents[2] / "edge_node" / "core" / "model_weights.py"
pytestmark = pytest.mark.skipif(not WEIGHTS.is_file(), reason="no committed model yet: run `emberwatch train`")


def write_forest_then_fire_csv(path: Path) -> None:
    """Half a quiet synthetic forest day, then a fire: heat up, dry out, resistance collapses."""
    rec = forest_node_days(seed=99, days=0.5, interval_s=30)
    n_fire = 40
    t = np.concatenate([rec.t_s, rec.t_s[-1] + 30 * np.arange(1, n_fire + 1)])
    ramp = np.arange(1, n_fire + 1)
    temp = np.concatenate([rec.temp_c, rec.temp_c[-1] + 0.8 * ramp])
    rh = np.concatenate([rec.rh_pct, np.maximum(5, rec.rh_pct[-1] - 1.0 * ramp)])
    gas = np.concatenate([rec.gas_raw, rec.gas_raw[-1] / (1 + 0.3 * ramp)])
    label = np.concatenate([np.zeros(len(rec), int), np.ones(n_fire, int)])
    rows = ["time_s,temp,hum,gas_ohm,smoke"] + [f"{a:.0f},{b:.2f},{c:.2f},{d:.0f},{e}"
                                                 for a, b, c, d, e in zip(t, temp, rh, gas, label)]
    path.write_text("\n".join(rows) + "\n")


def test_evaluate_labelled_csv(tmp_path, capsys):
    csv_path = tmp_path / "node.csv"
    write_forest_then_fire_csv(csv_path)
    code = main(["evaluate", "--csv", str(csv_path), "--map", "temperature=temp,humidity=hum,gas=gas_ohm",
                 "--label", "smoke", "--time", "time_s"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)["int8 autoencoder"]
    assert result["auc_labels_as_given"]["roc_auc"] > 0.9
    assert result["events"][""]["detected"] == 1
    assert result["false_alerts_per_node_day"]["csv label-0 rows"] == 0.0


def test_evaluate_reports_mapping_errors(tmp_path, capsys):
    csv_path = tmp_path / "node.csv"
    csv_path.write_text("a,b,c\n1,2,3\n")
    code = main(["evaluate", "--csv", str(csv_path), "--map", "temperature=a,humidity=b,gas=missing"])
    assert code == 2
    assert "no column 'missing'" in capsys.readouterr().err
