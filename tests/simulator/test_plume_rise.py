"""Smoke that rises: Briggs plume rise, a mixed layer with a lid, night-time inversions."""

import math

import numpy as np
import pytest

from simulator.plume import (
    buoyancy_flux,
    final_rise_m,
    mixing_height_m,
    plume_ppm,
    plume_rise_m,
    trapped_fraction,
)


def test_briggs_rise_matches_hand_computed_values():
    flux = buoyancy_flux(1000.0)  # a 1 MW fire, 70 % convective
    assert flux == pytest.approx(9.81 / (math.pi * 1.2 * 1.005 * 293.0) * 700, rel=1e-9)
    assert flux == pytest.approx(6.19, rel=0.01)
    assert final_rise_m(flux, 2.0, "D") == pytest.approx(21.425 * flux ** 0.75 / 2.0)  # F < 55
    big = buoyancy_flux(50_000.0)
    assert final_rise_m(big, 4.0, "C") == pytest.approx(38.71 * big ** 0.6 / 4.0)     # F >= 55
    s = 9.81 / 293.0 * 0.035
    assert final_rise_m(flux, 2.0, "F") == pytest.approx(min(2.6 * (flux / (2.0 * s)) ** (1 / 3),
                                                             4.0 * flux ** 0.25 * s ** -0.375))
    near = plume_rise_m(flux, 2.0, "D", np.array([10.0, 50.0, 5000.0]))
    assert near[0] == pytest.approx(1.6 * flux ** (1 / 3) * 10 ** (2 / 3) / 2.0)  # Briggs' two-thirds law
    assert near[0] < near[1] < near[2] == pytest.approx(final_rise_m(flux, 2.0, "D"))
    assert final_rise_m(flux, 2.0, "F") < final_rise_m(flux, 2.0, "D")  # stable air caps the rise


def test_rising_smoke_reaches_the_ground_later_and_weaker():
    x = np.array([100.0, 300.0, 1000.0, 3000.0])
    y = np.zeros_like(x)
    ground = plume_ppm([0.0], [0.0], [50.0], x, y, 3.0, 0.0, "D")
    risen = plume_ppm([0.0], [0.0], [50.0], x, y, 3.0, 0.0, "D", buoyancy_flux(5000.0), mixing_height_m("D", True))
    assert risen[0] < 0.01 * ground[0]          # right by the fire the smoke is overhead
    assert np.all(risen < ground)
    assert risen[2] > risen[0]                   # it comes down further away


def test_a_lid_keeps_the_smoke_in_and_far_away_it_is_well_mixed():
    lid = 100.0  # sigma_z(D, 15 km) = 185 m > 1.6 x lid: well mixed
    ys = np.linspace(-20_000, 20_000, 8001)
    d = 15_000.0
    ppm = plume_ppm([0.0], [0.0], [100.0], np.full_like(ys, d), ys, 2.0, 0.0, "D", 0.0, lid)
    # mass balance: crosswind integral x wind x depth of the mixed layer = emission (g/s)
    conc_g_m3 = ppm * 1.145e-3
    assert np.trapezoid(conc_g_m3, ys) * 2.0 * lid == pytest.approx(100.0, rel=0.02)


def test_a_hot_plume_punches_through_the_night_inversion():
    lid = mixing_height_m("F", False)
    assert lid == 100.0 and mixing_height_m("B", True) > 1000
    strong = buoyancy_flux(100_000.0)  # a 100 MW front: rises ~210 m in F-class air
    assert trapped_fraction(final_rise_m(strong, 1.0, "F"), lid) < 0.2
    assert trapped_fraction(final_rise_m(buoyancy_flux(50.0), 1.0, "F"), lid) == 1.0
    x = np.array([500.0, 1000.0, 2000.0])
    y = np.zeros_like(x)
    at_ground = plume_ppm([0.0], [0.0], [50.0], x, y, 1.0, 0.0, "F")
    lofted = plume_ppm([0.0], [0.0], [50.0], x, y, 1.0, 0.0, "F", strong, lid)
    assert np.all(lofted < 0.2 * at_ground)


def test_a_long_fire_front_rises_as_a_line_source_near_the_fire():
    flux = buoyancy_flux(30_000.0)  # 30 MW along a 300 m front
    x = np.array([50.0, 100.0, 200.0])
    point = plume_rise_m(flux, 3.0, "D", x)
    line = plume_rise_m(flux, 3.0, "D", x, front_length_m=300.0)
    expected = (3 * (flux / 300.0) * x * x / (2 * 0.6 ** 2 * 27.0)) ** (1 / 3)
    assert np.allclose(line, np.minimum(expected, point)) and np.all(line < 0.5 * point)
    far = plume_rise_m(flux, 3.0, "D", np.array([50_000.0]), front_length_m=300.0)
    assert far[0] == pytest.approx(final_rise_m(flux, 3.0, "D"))  # the same final rise either way
