"""`emberwatch calibrate --csv`: a threshold from a clean recording, replayed through the node pipeline."""

import json
from pathlib import Path

import numpy as np
import pytest

from emberwatch.cli import main
from tests.edge_node.mp import module_from_source
from training.calibrate_command import silent_threshold
from training.synthetic import forest_node_days

WEIGHTS = Path(__file__).resolve().parents[2] / "edge_node" / "core" / "model_weights.py"
pytestmark = pytest.mark.skipif(not WEIGHTS.is_file(), reason="no committed model yet: run `emberwatch train`")


def test_silent_threshold_is_the_lowest_with_no_k_of_n_window_over():
    ev = np.array([5, 50, 7, 40, 6, 6, 90, 6])
    thr = silent_threshold(ev, 2, 3)
    assert thr == 40  # the window (50, 7, 40): two above 39, not two above 40
    for t, alerts in ((thr, False), (thr - 1, True)):
        over = ev > t
        assert any(over[max(0, i - 2):i + 1].sum() >= 2 for i in range(len(ev))) is alerts


def test_calibrate_writes_a_weights_module_the_node_runs_silently_on_its_own_air(tmp_path, capsys):
    rec = forest_node_days(seed=5, days=1.0, interval_s=30)
    csv_path = tmp_path / "site.csv"
    csv_path.write_text("t,temp,hum,ohm\n" + "".join(f"{1782864000 + t:.0f},{a:.2f},{b:.2f},{c:.0f}\n" for t, a, b, c in
                                                     zip(rec.t_s, rec.temp_c, rec.rh_pct, rec.gas_raw)))
    out = tmp_path / "site_weights.py"
    code = main(["calibrate", "--csv", str(csv_path), "--map", "temperature=temp,humidity=hum,gas=ohm", "--time", "t",
                 "--out", str(out), "--min-threshold", "0"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["threshold"] >= result["silent_threshold"] and result["samples"] == len(rec)
    module = module_from_source("site_weights", out.read_text())
    assert module.THRESHOLD == result["threshold"]
    code = main(["evaluate", "--csv", str(csv_path), "--map", "temperature=temp,humidity=hum,gas=ohm", "--time", "t",
                 "--weights-module", str(out)])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["alerts"] == {"suspect": 0, "fire": 0}


def test_calibrate_rejects_a_short_recording_before_any_work(tmp_path, capsys):
    csv_path = tmp_path / "short.csv"
    csv_path.write_text("t,temp,hum,ohm\n" + "".join(f"{1782864000 + 30 * i},18.0,60.{i},80000\n" for i in range(10)))
    code = main(["calibrate", "--csv", str(csv_path), "--map", "temperature=temp,humidity=hum,gas=ohm", "--time", "t"])
    assert code == 2
    assert "10 node samples" in capsys.readouterr().err
