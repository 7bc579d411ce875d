"""`emberwatch plan`: areas, climatology, and the Monte Carlo on Dask against the same run without it."""

import json

import numpy as np
import pytest

from emberwatch.cli import main
from simulator.plan.area import Area, AreaError, spacing_for_budget
from simulator.plan.climate import ClimateError, Climatology
from simulator.plan.report import recommend, wilson


def test_areas_from_a_rectangle_or_a_geojson_polygon(tmp_path):
    square = Area.parse("1000x600")
    assert square.area_m2() == 600_000 and square.bounds_m() == (0, 0, 1000, 600)
    x, y = square.grid(200.0)
    assert len(x) == 15 and x.min() == 100 and y.max() == 500
    ell = tmp_path / "ell.geojson"  # an L: the top-right quarter is missing
    ell.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
        [[0, 0], [1000, 0], [1000, 500], [500, 500], [500, 1000], [0, 1000], [0, 0]]]}}))
    area = Area.parse(str(ell))
    assert area.area_m2() == 750_000
    x, y = area.grid(100.0)
    assert len(x) == 75 and not ((x > 500) & (y > 500)).any()
    px, py = area.random_points(np.random.default_rng(1), 500)
    assert area.contains(px, py).all()
    assert spacing_for_budget(square, 15) == pytest.approx(200.0)
    for bad in ("12xfoo", str(tmp_path / "missing.geojson")):
        with pytest.raises(AreaError):
            Area.parse(bad)


def test_climatology_ranges_and_their_errors(tmp_path):
    path = tmp_path / "climate.json"
    path.write_text(json.dumps({"season": "windy autumn", "mean_wind_ms": [8, 9], "ignition_hours": [13, 14]}))
    drawn = Climatology.from_file(path).draw(np.random.default_rng(0), "GR2")
    assert 8 <= drawn["weather"]["mean_wind_ms"] <= 9 and 13 <= drawn["ignition_hour"] <= 14
    assert drawn["fuel"]["model"] == "GR2" and 0.3 <= drawn["fuel"]["live_herb_moisture"] <= 1.0
    for bad in ({"mean_wind_ms": [9, 8]}, {"rainfall": [0, 1]}, {"live_herb_moisture": [0.1, 0.5]}):
        with pytest.raises(ClimateError):
            Climatology(bad)


def test_recommendation_takes_the_fewest_nodes_that_reach_the_target():
    rows = [{"spacing_m": 100, "nodes": 400, "fires": 10, "p_alert_10min": 1.0},
            {"spacing_m": 200, "nodes": 100, "fires": 10, "p_alert_10min": 0.9},
            {"spacing_m": 400, "nodes": 25, "fires": 10, "p_alert_10min": 0.5}]
    assert recommend(rows, 0.9)["spacing_m"] == 200
    assert recommend(rows, 1.0)["spacing_m"] == 100
    assert recommend([rows[2]], 0.9)["spacing_m"] == 400  # none reach it: the best there is
    lo, hi = wilson(9, 10)
    assert 0.55 < lo < 0.6 and 0.98 < hi <= 1.0


def test_plan_on_dask_matches_the_same_plan_run_without_it(tmp_path, capsys):
    common = ["plan", "--area", "400x400", "--spacings", "200,400", "--scenarios", "2", "--after-ignition-h", "0.25",
              "--seed", "5", "--quiet"]
    assert main(common + ["--workers", "1", "--out", str(tmp_path / "dask")]) == 0
    assert main(common + ["--workers", "0", "--out", str(tmp_path / "here")]) == 0
    out = capsys.readouterr().out
    assert "recommended:" in out or "no ignition took hold" in out
    on_dask = json.loads((tmp_path / "dask" / "plan.json").read_text())
    here = json.loads((tmp_path / "here" / "plan.json").read_text())
    timing = ("wall_s", "cpu_s")
    strip = [{k: v for k, v in s.items() if k not in timing} for s in on_dask["scenarios"]]
    assert strip == [{k: v for k, v in s.items() if k not in timing} for s in here["scenarios"]]
    table = {row["spacing_m"]: row for row in on_dask["table"]}
    assert table[200.0]["nodes"] == 4 and table[400.0]["nodes"] == 1
    assert {"p_alert_5min", "p_alert_10min", "p_alert_30min", "false_incidents_per_month", "battery_life_days",
            "gateways"} <= set(table[200.0])
    for name in ("curve.png", "layout.png"):
        assert (tmp_path / "dask" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| spacing (m) | nodes | gateways |" in (tmp_path / "dask" / "plan.md").read_text()


def test_plan_reports_bad_input_and_an_unreachable_scheduler(tmp_path, capsys):
    assert main(["plan", "--spacings", "100,-5", "--quiet"]) == 2
    assert "positive numbers" in capsys.readouterr().err
    assert main(["plan", "--fuel", "XX9", "--quiet"]) == 2
    assert "unknown" in capsys.readouterr().err
    assert main(["plan", "--area", "400x400", "--spacings", "200", "--scenarios", "1", "--scheduler",
                 "tcp://127.0.0.1:9", "--quiet", "--out", str(tmp_path / "p")]) == 1
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err
