"""Smoke and heat reaching the nodes: Gaussian plumes from the burning front.

Each fire emits carbon monoxide in proportion to the fuel it consumes (area
growth x fuel load x emission factor). The front is split into a few arc
segments, each a ground-level point source with a Gaussian plume along the
wind (Briggs open-country dispersion, Pasquill stability from wind and time of
day). A short back-diffusion term lets nodes just upwind of the front smell it
too. Heat: plume air is warmer in proportion to its concentration, and nodes
close to the front feel its heat, over a few flame lengths (Byram's flame
length from the fireline intensity, so a young, slow fire warms only its
immediate surroundings).
"""

import math

import numpy as np

from simulator.fire import Fire
from simulator.weather import WeatherState

CO_G_PER_KG_FUEL = 100.0     # CO emission factor of forest fuel (smouldering-rich surface fire)
CO_MG_M3_PER_PPM = 1.145
PLUME_HEAT_C_PER_PPM = 0.02  # ground-level warming of diluted plume air per ppm CO
FRONT_HEAT_C = 250.0         # air heating right at the flame front
FRONT_HEAT_FLAME_LENGTHS = 3.0  # radiant/convective heat fades over a few flame lengths
HEAT_OF_COMBUSTION_KJ_KG = 18_000.0
N_SOURCES = 8                # arc segments per fire front
BACK_DIFFUSION_M = 25.0
MIN_DOWNWIND_M = 10.0
MAX_RANGE_M = 6000.0         # beyond this a source adds nothing measurable

# Briggs (1973) open-country sigma_y, sigma_z coefficients per Pasquill class A..F:
# sigma = a * x * (1 + b * x) ** c
_SIGMA_Y = {"A": (0.22, 0.0001, -0.5), "B": (0.16, 0.0001, -0.5), "C": (0.11, 0.0001, -0.5),
            "D": (0.08, 0.0001, -0.5), "E": (0.06, 0.0001, -0.5), "F": (0.04, 0.0001, -0.5)}
_SIGMA_Z = {"A": (0.20, 0.0, 1.0), "B": (0.12, 0.0, 1.0), "C": (0.08, 0.0002, -0.5),
            "D": (0.06, 0.0015, -0.5), "E": (0.03, 0.0003, -1.0), "F": (0.016, 0.0003, -1.0)}


def stability_class(wind_ms: float, daytime: bool) -> str:
    """Pasquill class for moderate sun by day and cloudless nights."""
    if daytime:
        return "B" if wind_ms < 2 else ("C" if wind_ms < 5 else "D")
    return "F" if wind_ms < 2 else ("E" if wind_ms < 3 else "D")


def _sigma(coeffs: tuple[float, float, float], x: np.ndarray) -> np.ndarray:
    """a * x * (1 + b x) ** c for the three exponents Briggs uses, without the slow general power."""
    a, b, c = coeffs
    if b == 0.0 or c == 1.0:
        return a * x * (1 + b * x) if c == 1.0 else a * x
    if c == -0.5:
        return a * x / np.sqrt(1 + b * x)
    return a * x / (1 + b * x)  # c == -1


def plume_ppm(source_x_m, source_y_m, emission_g_s, x_m, y_m, wind_ms: float, wind_to_rad: float,
              stability: str) -> np.ndarray:
    """Ground-level CO (ppm) at points (x_m, y_m) from point sources (arrays, summed)."""
    u = max(wind_ms, 0.5)
    cos_w, sin_w = math.cos(wind_to_rad), math.sin(wind_to_rad)
    dx = x_m[:, None] - np.asarray(source_x_m)[None, :]
    dy = y_m[:, None] - np.asarray(source_y_m)[None, :]
    down = dx * cos_w + dy * sin_w
    cross = dy * cos_w - dx * sin_w
    x = np.maximum(down, MIN_DOWNWIND_M)
    sig_y = _sigma(_SIGMA_Y[stability], x)
    sig_z = _sigma(_SIGMA_Z[stability], x)
    upwind = np.minimum(down, 0.0)
    exponent = -(cross * cross) / (2 * sig_y * sig_y) - (upwind * upwind) * (0.5 / BACK_DIFFUSION_M ** 2)
    conc_g_m3 = np.asarray(emission_g_s)[None, :] / (math.pi * u) / (sig_y * sig_z) * np.exp(exponent)
    return conc_g_m3.sum(axis=1) * (1000.0 / CO_MG_M3_PER_PPM)


def fire_sources(fire: Fire, fuel_kg_m2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split the front into arc segments; emission proportional to each segment's growth."""
    mx, my = fire.marker_xy()
    growth = np.maximum(fire.area_growth_m2_s, 0.0)
    total = float(fire.marker_growth.sum())
    weight = fire.marker_growth / total if total > 0 else np.full(len(mx), 1.0 / len(mx))
    per_marker_g_s = growth * weight * fuel_kg_m2 * CO_G_PER_KG_FUEL
    # N_MARKERS is a multiple of N_SOURCES: consecutive markers form one arc segment
    return (mx.reshape(N_SOURCES, -1).mean(axis=1), my.reshape(N_SOURCES, -1).mean(axis=1),
            per_marker_g_s.reshape(N_SOURCES, -1).sum(axis=1))


def _in_plume_cone(fire: Fire, x_m: np.ndarray, y_m: np.ndarray, weather: WeatherState,
                   stability: str) -> np.ndarray:
    """Nodes the smoke can reach at all: downwind within 5 sigma_y of the axis, or close upwind.

    Everything outside is below exp(-12) of the centreline value: skipping it changes nothing
    measurable and saves most of the work on a large site.
    """
    reach_m = float(fire.radius_m.max()) + 50.0
    cos_w, sin_w = math.cos(weather.wind_to_rad), math.sin(weather.wind_to_rad)
    dx, dy = x_m - fire.x_m, y_m - fire.y_m
    down = dx * cos_w + dy * sin_w
    cross = np.abs(dy * cos_w - dx * sin_w)
    spread = 5.0 * _sigma(_SIGMA_Y[stability], np.maximum(down + reach_m, MIN_DOWNWIND_M))
    return (down > -(reach_m + 5 * BACK_DIFFUSION_M)) & (cross < reach_m + spread)


def flame_length_m(fire: Fire, fuel_kg_m2: np.ndarray) -> float:
    """Byram (1959): L = 0.0775 I^0.46, I = heat x fuel x mean spread rate of the front (kW/m); >= 0.5 m."""
    perimeter_m = 2 * math.pi * float(fire.radius_m.mean())
    rate_ms = max(fire.area_growth_m2_s, 0.0) / perimeter_m
    intensity_kw_m = HEAT_OF_COMBUSTION_KJ_KG * float(np.mean(fuel_kg_m2)) * rate_ms
    return max(0.5, 0.0775 * intensity_kw_m ** 0.46)


def smoke_and_heat(fires: list[Fire], fuel_at_markers: list[np.ndarray], x_m: np.ndarray, y_m: np.ndarray,
                   weather: WeatherState) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per node: CO ppm, extra air temperature (C), burned flag, and the index of the dominant fire (-1)."""
    n = len(x_m)
    co_ppm = np.zeros(n)
    heat_c = np.zeros(n)
    burned = np.zeros(n, dtype=bool)
    dominant = np.full(n, -1, dtype=np.int64)
    best = np.zeros(n)
    stability = stability_class(weather.wind_ms, weather.daytime)
    for fire, fuel in zip(fires, fuel_at_markers):
        if not fire.active and fire.area_growth_m2_s <= 0:
            continue
        outside_m = fire.distance_outside_m(x_m, y_m)
        burned |= outside_m <= 0
        near = np.flatnonzero((outside_m < MAX_RANGE_M) & _in_plume_cone(fire, x_m, y_m, weather, stability))
        if near.size == 0:
            continue
        sx, sy, q = fire_sources(fire, fuel)
        ppm = plume_ppm(sx, sy, q, x_m[near], y_m[near], weather.wind_ms, weather.wind_to_rad, stability)
        front = FRONT_HEAT_C * np.exp(-np.maximum(outside_m[near], 0.0) / (FRONT_HEAT_FLAME_LENGTHS
                                                                          * flame_length_m(fire, fuel)))
        co_ppm[near] += ppm
        heat_c[near] += ppm * PLUME_HEAT_C_PER_PPM + np.where(fire.active, front, 0.0)
        better = ppm > best[near]
        dominant[near[better]] = fire.index
        best[near] = np.maximum(best[near], ppm)
    return co_ppm, heat_c, burned, dominant
