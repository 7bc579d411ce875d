"""Physical sanity of the world model: fire spread, smoke plume, weather, sensors."""

import math

import numpy as np

from simulator.fire import Fire, length_to_breadth
from simulator.plume import plume_ppm, smoke_and_heat
from simulator.terrain import Terrain
from simulator.weather import Weather, WeatherState


def _flat_terrain(fuel=1.0):
    return Terrain(-5000.0, -5000.0, 50.0, np.full((200, 200), 500.0), np.full((200, 200), fuel))


def _weather(wind_ms=4.0, wind_to_deg=0.0, moisture=0.06, rain=0.0, daytime=True):
    return WeatherState(0.0, 25.0, 30.0, wind_ms, math.radians(wind_to_deg), rain, moisture, daytime)


def _burn(weather, hours=1.0, terrain=None):
    fire = Fire(0, 0.0, 0.0, 0.0)
    terrain = terrain or _flat_terrain()
    for step in range(int(hours * 60)):
        fire.advance(step * 60.0, 60.0, weather, terrain)
    return fire


def _reach_m(fire, bearing_deg):
    x = 3000 * math.cos(math.radians(bearing_deg))
    y = 3000 * math.sin(math.radians(bearing_deg))
    return 3000 - float(fire.distance_outside_m(np.array([x]), np.array([y]))[0])


def test_fire_runs_downwind_faster_than_upwind_and_flanks():
    fire = _burn(_weather(wind_ms=5.0, wind_to_deg=0.0))
    head, back, flank = _reach_m(fire, 0), _reach_m(fire, 180), _reach_m(fire, 90)
    assert head > 3 * flank > 3 * back > 0
    turned = _burn(_weather(wind_ms=5.0, wind_to_deg=90.0))
    assert _reach_m(turned, 90) > 3 * _reach_m(turned, 270)


def test_wind_speeds_spread_and_moisture_slows_it():
    calm, windy = _burn(_weather(wind_ms=1.0)), _burn(_weather(wind_ms=8.0))
    assert windy.area_m2 > calm.area_m2
    assert _reach_m(windy, 0) > 2 * _reach_m(calm, 0)
    wet = _burn(_weather(moisture=0.2))
    assert wet.area_m2 < _burn(_weather()).area_m2
    assert length_to_breadth(0.0) == 1.0 and 2.0 < length_to_breadth(10.0) <= 8.0


def test_soaked_fuel_and_rain_stop_the_fire():
    soaked = _burn(_weather(moisture=0.35), hours=0.2)
    assert soaked.out_reason == "fuel too wet" and not soaked.active
    rained = _burn(_weather(rain=5.0), hours=0.5)
    assert rained.area_m2 < 5.0


def test_fire_stops_at_the_edge_of_the_fuel():
    patch = Terrain(-100.0, -100.0, 50.0, np.full((4, 4), 500.0), np.full((4, 4), 1.0))
    fire = _burn(_weather(wind_ms=1.0), hours=12.0, terrain=patch)
    assert fire.out_reason == "no fuel left"
    assert float(fire.radius_m.max()) < 200


def test_plume_is_strongest_downwind_on_the_centreline_and_dilutes_with_distance():
    x = np.array([200.0, 1000.0, 200.0, -200.0, 0.0])
    y = np.array([0.0, 0.0, 150.0, 0.0, 200.0])
    ppm = plume_ppm([0.0], [0.0], [500.0], x, y, 3.0, 0.0, "D")
    centre_near, centre_far, off_axis, upwind, crosswind = ppm
    assert centre_near > centre_far > 0
    assert centre_near > off_axis
    assert centre_near > 1000 * max(upwind, crosswind, 1e-12)
    assert plume_ppm([0.0], [0.0], [500.0], x, y, 8.0, 0.0, "D")[0] < centre_near  # wind dilutes
    # mass balance: the crosswind integral at distance x times wind speed is the same at 200 m and 1 km
    ys = np.linspace(-2000, 2000, 4001)
    flux = [np.trapezoid(plume_ppm([0.0], [0.0], [500.0], np.full_like(ys, d), ys, 3.0, 0.0, "D"), ys)
            * 0.06 * d * (1 + 0.0015 * d) ** -0.5 for d in (200.0, 1000.0)]
    assert math.isclose(flux[0], flux[1], rel_tol=1e-3)


def test_nodes_downwind_of_a_burning_fire_smell_it_and_burned_nodes_are_flagged():
    weather = _weather(wind_ms=4.0, wind_to_deg=0.0)
    fire = _burn(weather, hours=0.5)
    terrain = _flat_terrain()
    x = np.array([500.0, -500.0, 0.0])
    y = np.array([0.0, 0.0, 0.0])
    co, heat, burned, dominant = smoke_and_heat([fire], [terrain.fuel_at(*fire.marker_xy())], x, y, weather)
    assert co[0] > 1.0 and co[1] < 1e-3
    assert burned.tolist() == [False, False, True]
    assert dominant[0] == 0 and heat[2] > heat[0] > heat[1]


def test_weather_is_hot_and_dry_in_the_afternoon_and_repeatable():
    def day(seed):
        w = Weather(np.random.default_rng(seed), 1.0)
        return [w.step(h * 3600.0, 3600.0) for h in range(24)]
    states = day(1)
    assert states[15].temp_c > states[5].temp_c + 5
    assert states[15].rh_pct < states[5].rh_pct
    assert [s.temp_c for s in day(1)] == [s.temp_c for s in states]
    assert all(0 <= s.rh_pct <= 100 and s.wind_ms > 0 for s in states)
