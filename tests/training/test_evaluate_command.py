"""`emberwatch evaluate --csv` runs the committed int8 model on any mapped CSV, without TensorFlow."""

import json
from datetime import datetime, timezone
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


def _evaluate(args: list[str], capsys) -> tuple[int, dict | None, str]:
    code = main(["evaluate"] + args)
    out = capsys.readouterr()
    return code, (json.loads(out.out) if code == 0 else None), out.err


MAP = ["--map", "temperature=temp,humidity=hum,gas=gas_ohm"]


def test_evaluate_labelled_csv_per_event_from_the_true_onset(tmp_path, capsys):
    csv_path = tmp_path / "node.csv"
    write_forest_then_fire_csv(csv_path)
    rows = tmp_path / "rows.csv"
    code, result, _ = _evaluate(["--csv", str(csv_path), *MAP, "--label", "smoke", "--time", "time_s",
                                 "--rows", str(rows)], capsys)
    assert code == 0 and result["time_unit"] == "s"
    assert result["fires"] == 1 and result["fires_detected"] == 1 and result["fires_detected_at_fire_level"] == 1
    fire = result["events"][0]
    assert fire["first_sample_after_onset_s"] == 0.0 and 0 < fire["delay_s"] <= fire["fire_level_delay_s"]
    assert result["false_alerts_outside_events"] == {"suspect": 0, "fire": 0}
    lines = rows.read_text().splitlines()
    assert lines[0] == "time_s,line,score,threshold,anomalous,level,alert,faults"
    assert len(lines) == 1 + result["samples"]
    assert {line.split(",")[5] for line in lines[1:]} >= {"0", "1", "2"}


def test_delay_counts_from_the_true_onset_not_the_first_sampled_row(tmp_path, capsys):
    """Rows every 10 s replayed at 30 s: the node may first see the fire up to 20 s after it began."""
    csv_path = tmp_path / "node.csv"
    write_forest_then_fire_csv(csv_path)
    lines = csv_path.read_text().splitlines()
    onset_line = next(i for i, line in enumerate(lines) if line.endswith(",1"))
    t_onset = float(lines[onset_line].split(",")[0])
    extra = lines[onset_line].split(",")
    early = ",".join([f"{t_onset - 10:.0f}"] + extra[1:])     # a labelled row between two wakes
    lines.insert(onset_line, early)
    csv_path.write_text("\n".join(lines) + "\n")
    code, result, _ = _evaluate(["--csv", str(csv_path), *MAP, "--label", "smoke", "--time", "time_s"], capsys)
    assert code == 0
    assert result["events"][0]["onset_s"] == t_onset - 10
    assert result["events"][0]["first_sample_after_onset_s"] == 10.0


def test_overrides_and_nuisance_windows(tmp_path, capsys):
    csv_path = tmp_path / "node.csv"
    write_forest_then_fire_csv(csv_path)
    t0 = float(csv_path.read_text().splitlines()[1].split(",")[0])
    events = tmp_path / "events.csv"
    events.write_text(f"start,end,kind,name\n{t0 + 3600:.0f},{t0 + 3900:.0f},nuisance,perfume\n")
    code, result, _ = _evaluate(["--csv", str(csv_path), *MAP, "--time", "time_s", "--events", str(events),
                                 "--threshold", "1", "--debounce", "1/1", "--cooldown-s", "0"], capsys)
    assert code == 0 and result["threshold"] == 1 and result["debounce"] == [1, 1]
    assert result["nuisances"] == 1 and result["events"][0]["name"] == "perfume"
    assert result["alerts"]["suspect"] > 10  # threshold 1: nearly every sample is over


def test_time_units_are_detected_or_declared(tmp_path, capsys):
    csv_path = tmp_path / "node.csv"
    write_forest_then_fire_csv(csv_path)
    text = csv_path.read_text().splitlines()
    ms = [text[0]] + [str((1782864000 + int(float(r.split(",")[0]))) * 1000) + "," + r.split(",", 1)[1]
                      for r in text[1:]]  # epoch milliseconds
    (tmp_path / "ms.csv").write_text("\n".join(ms) + "\n")
    code, result, _ = _evaluate(["--csv", str(tmp_path / "ms.csv"), *MAP, "--label", "smoke", "--time", "time_s"],
                                capsys)
    assert code == 0 and result["time_unit"] == "ms" and result["fires_detected"] == 1
    rel = [text[0]] + [str((i - 1) * 30000) + "," + r.split(",", 1)[1] for i, r in enumerate(text) if i]
    (tmp_path / "rel.csv").write_text("\n".join(rel) + "\n")
    code, _, err = _evaluate(["--csv", str(tmp_path / "rel.csv"), *MAP, "--time", "time_s"], capsys)
    assert code == 2 and "--time-unit" in err
    code, result, _ = _evaluate(["--csv", str(tmp_path / "rel.csv"), *MAP, "--time", "time_s", "--time-unit", "ms"],
                                capsys)
    assert code == 0 and result["samples"] == len(rel) - 1
    iso = [text[0]] + [datetime.fromtimestamp(float(r.split(",")[0]), timezone.utc).isoformat() + ","
                       + r.split(",", 1)[1] for r in text[1:]]
    (tmp_path / "iso.csv").write_text("\n".join(iso) + "\n")
    code, result, _ = _evaluate(["--csv", str(tmp_path / "iso.csv"), *MAP, "--label", "smoke", "--time", "time_s"],
                                capsys)
    assert code == 0 and result["time_unit"] == "iso" and result["fires_detected"] == 1


GOOD = ["time_s,temp,hum,gas_ohm"] + [f"{1782864000 + 30 * i},18.{i % 10},60.{i % 7},8000{i % 10}" for i in range(40)]


@pytest.mark.parametrize("edit, needle", [
    (lambda r: r[:5] + ["1782864100,18.1,,80000"] + r[6:], "line 6 column 'hum': empty cell"),
    (lambda r: r[:7] + ["1782864200,warm,60.1,80000"] + r[8:], "line 8 column 'temp': 'warm' is not a number"),
    (lambda r: r[:3] + [r[4], r[3]] + r[5:], "line 5 column 'time_s': time goes back"),
    (lambda r: r[:4] + [r[3]] + r[5:], "line 5 column 'time_s': the same time as line 4"),
    (lambda r: [x.replace(",", ";") for x in r], "separated by ';'"),
    (lambda r: [r[0].replace("hum", "humidity")] + r[1:], "no column 'hum'"),
    (lambda r: r[:12], "give 11 node samples"),
])
def test_every_bad_input_names_file_line_and_column(tmp_path, capsys, edit, needle):
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text("\n".join(edit(list(GOOD))) + "\n")
    code, _, err = _evaluate(["--csv", str(csv_path), *MAP, "--time", "time_s"], capsys)
    assert code == 2
    assert needle in err and "bad.csv" in err, err


def test_sort_option_and_semicolon_delimiter_are_explicit(tmp_path, capsys):
    rows = list(GOOD)
    rows[3], rows[4] = rows[4], rows[3]
    (tmp_path / "unsorted.csv").write_text("\n".join(rows) + "\n")
    code, result, _ = _evaluate(["--csv", str(tmp_path / "unsorted.csv"), *MAP, "--time", "time_s", "--sort"], capsys)
    assert code == 0 and result["samples"] == 40
    (tmp_path / "semi.csv").write_text("\n".join(r.replace(",", ";") for r in GOOD) + "\n")
    code, result, _ = _evaluate(["--csv", str(tmp_path / "semi.csv"), *MAP, "--time", "time_s", "--delimiter", ";"],
                                capsys)
    assert code == 0 and result["samples"] == 40
