"""Node layouts: grid, random, and CSV files with every problem reported at once."""

import numpy as np
import pytest

from simulator.placement import (
    PlacementError,
    csv_placement,
    grid_placement,
    random_placement,
    write_placement_csv,
)
from simulator.scenario import ScenarioConfig, ScenarioConfigError, run_scenario


def test_grid_and_random_layouts():
    grid = grid_placement(10, 100.0)
    assert len(grid) == 10 and grid.node_ids[0] == "n0000"
    assert grid.bounds_m() == (0.0, 0.0, 300.0, 200.0)
    rnd = random_placement(50, 100.0, np.random.default_rng(1))
    assert len(set(rnd.node_ids)) == 50 and rnd.x_m.max() <= 800
    with pytest.raises(PlacementError):
        grid_placement(0, 100.0)


def test_csv_round_trip_runs_a_scenario(tmp_path):
    path = tmp_path / "nodes.csv"
    write_placement_csv(grid_placement(6, 150.0), path)
    loaded = csv_placement(path)
    assert loaded.node_ids == grid_placement(6, 150.0).node_ids
    result = run_scenario(ScenarioConfig(placement="csv", positions_csv=str(path), days=0.05, ignitions=0))
    assert result.node_ids == loaded.node_ids


def test_csv_errors_name_every_bad_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("node,x_m,y_m\nok-1,10,20\nbad id,1,2\nok-1,5,5\nn3,east,4\nn4,1e9,0\nn5,1\n")
    with pytest.raises(PlacementError) as err:
        csv_placement(path)
    text = str(err.value)
    for expected in ("line 3: node id 'bad id'", "line 4: node id 'ok-1' already used on line 2",
                     "line 5: x_m 'east' is not a number", "line 6: x_m=1e9 outside", "line 7: expected 3 columns",
                     "5 problem(s)"):
        assert expected in text


@pytest.mark.parametrize("content, message", [
    ("", "empty file"),
    ("name,x,y\na,1,2\n", r"lacks column\(s\) node, x_m, y_m"),
    ("node,x_m,y_m\n", "no node rows"),
])
def test_csv_structure_errors(tmp_path, content, message):
    path = tmp_path / "nodes.csv"
    path.write_text(content)
    with pytest.raises(PlacementError, match=message):
        csv_placement(path)


def test_missing_csv_is_a_config_error(tmp_path):
    with pytest.raises(ScenarioConfigError, match="cannot read node positions"):
        run_scenario(ScenarioConfig(placement="csv", positions_csv=str(tmp_path / "absent.csv")))
