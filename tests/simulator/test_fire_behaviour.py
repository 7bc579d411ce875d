"""Rothermel surface spread against published and library reference values, and fuel maps."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from simulator.fire import Fire
from simulator.fuel_map import FuelConfig, FuelMapError, fuel_codes_on_grid
from simulator.fuel_models import FUEL_MODELS
from simulator.rothermel import FT_MIN_TO_M_S, FuelBed, Moisture
from simulator.terrain import make_terrain
from simulator.weather import WeatherState

CHAIN_PER_H_TO_M_S = 20.1168 / 3600.0
FT_TO_M = 0.3048

# Anderson, H.E. 1982, "Aids to determining fuel models for estimating fire behavior", USDA Forest Service
# GTR INT-122: each model's rate of spread (chains/h) and flame length (ft) at 8 % dead and 100 % live fuel
# moisture with a 5 mi/h midflame wind on flat ground.
ANDERSON_1982 = {"FM1": (78, 4), "FM3": (104, 12), "FM4": (75, 19), "FM8": (1.6, 1), "FM9": (7.5, 2.6),
                 "FM10": (7.9, 4.8)}  # short grass, tall grass, chaparral, closed timber litter, hardwood litter,
# timber litter with understory
MIDFLAME_5_MPH_MS = 5 * 0.44704


@pytest.mark.parametrize("code", sorted(ANDERSON_1982))
def test_spread_rate_and_flame_length_match_anderson_1982(code):
    ros_ch_h, flame_ft = ANDERSON_1982[code]
    bed = FuelBed(FUEL_MODELS[code], Moisture(0.08, 0.08, 0.08, live_herb=1.0, live_woody=1.0))
    rate = float(bed.spread_rate_ms(MIDFLAME_5_MPH_MS))
    assert rate == pytest.approx(ros_ch_h * CHAIN_PER_H_TO_M_S, rel=0.15)
    assert float(bed.flame_length_m(rate)) == pytest.approx(flame_ft * FT_TO_M, rel=0.15)


def test_scott_and_burgan_models_match_pyretechnics():
    """Every Scott & Burgan model carried, 3 moisture scenarios x 4 winds, within 0.5 % of pyretechnics."""
    data = json.loads((Path(__file__).parent / "data" / "pyretechnics_surface_spread.json").read_text())
    checked = 0
    for code, rows in data["rates"].items():
        for key, (rate_ms, _) in rows.items():
            dead_1h, herb, woody, wind_ms = (float(v) for v in key.split(","))
            bed = FuelBed(FUEL_MODELS[code], Moisture(dead_1h, live_herb=herb, live_woody=woody))
            mine = bed.r0_ft_min * (1 + float(bed.wind_factor(wind_ms))) * FT_MIN_TO_M_S  # no cap, as computed there
            assert mine == pytest.approx(rate_ms, rel=0.005, abs=1e-6), (code, key)
            checked += 1
    assert checked >= 150 and {"GR2", "SH5", "TL3"} <= set(data["rates"])


def test_grass_outruns_shrub_outruns_litter_and_moisture_and_slope_act():
    def rate(code, wind=2.0, m1=0.06, slope=0.0):
        return float(FuelBed(FUEL_MODELS[code], Moisture(m1, live_herb=0.6)).spread_rate_ms(wind, slope))
    assert rate("GR2") > rate("SH2") > rate("TL3") > 0
    assert rate("GR2", m1=0.12) < rate("GR2", m1=0.04)
    assert rate("GR2", m1=0.16) == 0.0  # above GR2's 15 % moisture of extinction
    assert rate("TL3", wind=0.0, slope=0.5) > 2 * rate("TL3", wind=0.0, slope=0.0)
    # dynamic curing: the same grass spreads faster once cured
    cured = FuelBed(FUEL_MODELS["GR2"], Moisture(0.06, live_herb=0.3)).spread_rate_ms(2.0)
    green = FuelBed(FUEL_MODELS["GR2"], Moisture(0.06, live_herb=1.2)).spread_rate_ms(2.0)
    assert cured > 3 * green


def _weather(wind_ms=4.0, moisture=0.06):
    return WeatherState(0.0, 25.0, 30.0, wind_ms, 0.0, 0.0, moisture, True)


def _grow(terrain, hours=1.0, x=0.0, y=0.0, wind_ms=4.0):
    fire = Fire(0, 0.0, x, y)
    for step in range(int(hours * 60)):
        fire.advance(step * 60.0, 60.0, _weather(wind_ms), terrain)
    return fire


def test_a_fuel_map_from_geojson_changes_where_fire_runs(tmp_path):
    grass_east = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"fuel": "GR2"},
         "geometry": {"type": "Polygon", "coordinates": [[[0, -3000], [3000, -3000], [3000, 3000], [0, 3000],
                                                          [0, -3000]]]}},
        {"type": "Feature", "properties": {"fuel": "NB"},  # a road along y = 500
         "geometry": {"type": "Polygon", "coordinates": [[[-3000, 450], [3000, 450], [3000, 550], [-3000, 550],
                                                          [-3000, 450]]]}}]}
    path = tmp_path / "fuel.geojson"
    path.write_text(json.dumps(grass_east))
    terrain = make_terrain((-2000.0, -2000.0, 2000.0, 2000.0), np.random.default_rng(1),
                           fuel=FuelConfig(model="TL3", map_path=str(path), live_herb_moisture=0.6))
    assert terrain.fuel_codes == ["GR2", "TL3"]
    in_grass, in_litter = _grow(terrain, x=200.0, y=-500.0), _grow(terrain, x=-1500.0, y=-500.0)
    assert in_grass.area_m2 > 20 * in_litter.area_m2
    assert terrain.fuel_index_at(np.array([100.0]), np.array([500.0]))[0] == -1


def test_ascii_grid_fuel_map_and_bad_maps(tmp_path):
    grid = tmp_path / "fuel.asc"
    grid.write_text("ncols 2\nnrows 2\nxllcorner 0\nyllcorner 0\ncellsize 100\nNODATA_value -9999\n"
                    "102 145\n183 -9999\n")
    xx, yy = np.array([50.0, 150.0, 50.0, 150.0, 500.0]), np.array([150.0, 150.0, 50.0, 50.0, 500.0])
    codes = fuel_codes_on_grid(FuelConfig(model="TU1", map_path=str(grid)), xx, yy)
    assert codes.tolist() == ["GR2", "SH5", "TL3", "TU1", "TU1"]
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [{"properties": {"fuel": "XX9"},
                                                                           "geometry": None}]}))
    with pytest.raises(FuelMapError, match="feature 0"):
        fuel_codes_on_grid(FuelConfig(map_path=str(bad)), xx, yy)
    assert any("unknown" in p for p in FuelConfig(model="ZZ1").problems())


def test_fire_ellipse_follows_rothermel_head_rate():
    terrain = make_terrain((-2000.0, -2000.0, 2000.0, 2000.0), np.random.default_rng(0), relief_m=0.0,
                           fuel=FuelConfig(model="GR2", live_herb_moisture=0.6))
    fire = _grow(terrain, hours=0.5, wind_ms=4.0)
    bed = FuelBed(FUEL_MODELS["GR2"], Moisture(0.06, live_herb=0.6))
    expected_m = float(bed.spread_rate_ms(FuelConfig().midflame_factor("GR2") * 4.0)) * 1800
    assert float(fire.radius_m[0]) == pytest.approx(expected_m, rel=0.02)
    assert fire.head_intensity_kw_m > 0 and fire.heat_release_kw > 0 and math.isfinite(fire.flame_length_m())
