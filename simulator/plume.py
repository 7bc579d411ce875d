"""Smoke and heat reaching the nodes: rising Gaussian plumes from the burning front.

Each fire emits carbon monoxide in proportion to the fuel it consumes (area
growth x fuel load x emission factor). The front is split into a few arc
segments, each a point source with a Gaussian plume along the wind (Briggs
open-country dispersion, Pasquill stability from wind and time of day). The
smoke is hot: it rises with the buoyancy flux of the fire's convective heat
release (Briggs 1975 plume rise: transitional 1.6 F^1/3 x^2/3 / u up to the
final rise, neutral/unstable or stable formulas by class), inside a mixed layer
whose top is reflected (about 1 km by day, 100-400 m at night). A buoyant
plume that rises through the night-time inversion leaves the ground-level air
(Briggs' partial penetration). So a small fire in stable night air is smelt
nearby and hardly at all kilometres away, as ground measurements downwind of
prescribed burns show (see docs/simulator_physics.md). The CO of smouldering
fuel behind the front does not rise: it spreads from the ground.
A short back-diffusion term lets nodes just upwind of the front smell it too.
Heat: plume air is warmer in proportion to its concentration, and nodes close
to the front feel its heat, over a few flame lengths (Byram's flame length
from the Rothermel fireline intensity at the head).
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
N_SOURCES = 8                # arc segments per fire front
BACK_DIFFUSION_M = 25.0
MIN_DOWNWIND_M = 10.0
MAX_RANGE_M = 6000.0         # beyond this a source adds nothing measurable
CONVECTIVE_FRACTION = 0.7    # the rest of a flame's heat leaves as radiation
# CO from smouldering behind the front rises with little buoyancy: it spreads from the ground. The share
# is a modelling choice (Weise et al. 2015, Fire Safety Journal 74, measure residual smouldering as a
# phase with its own emission factors).
SMOULDERING_CO_FRACTION = 0.10
SMOULDER_MIXING_DEPTH_M = 5.0  # residual heat and the canopy stir smouldering smoke over a few metres
BUOYANCY_PER_KW = 9.81 / (math.pi * 1.2 * 1.005 * 293.0)  # F (m4/s3) per kW: g / (pi rho c_p T)
LINE_PLUME_BETA = 0.6
MIN_RISE_WIND_MS = 1.0       # Briggs' rise formulas divide by u; regulatory models floor it at 1 m/s
POTENTIAL_TEMP_GRADIENT_K_M = {"E": 0.020, "F": 0.035}
# mixing-layer depth (m) by Pasquill class: convective by day, a shallow stable layer at night
MIXING_HEIGHT_DAY_M = {"A": 1600.0, "B": 1400.0, "C": 1100.0, "D": 800.0}
MIXING_HEIGHT_NIGHT_M = {"D": 400.0, "E": 200.0, "F": 100.0}

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


def mixing_height_m(stability: str, daytime: bool) -> float:
    table = MIXING_HEIGHT_DAY_M if daytime else MIXING_HEIGHT_NIGHT_M
    return table.get(stability, MIXING_HEIGHT_DAY_M["D"] if daytime else MIXING_HEIGHT_NIGHT_M["D"])


def buoyancy_flux(heat_release_kw: float) -> float:
    """Briggs' buoyancy flux F (m^4/s^3) of the fire's convective heat."""
    return BUOYANCY_PER_KW * CONVECTIVE_FRACTION * max(heat_release_kw, 0.0)


def final_rise_m(flux: float, wind_ms: float, stability: str) -> float:
    """Briggs (1975) final plume rise, as US EPA's ISC3 uses it."""
    if flux <= 0:
        return 0.0
    u = max(wind_ms, MIN_RISE_WIND_MS)
    if stability in POTENTIAL_TEMP_GRADIENT_K_M:
        s = 9.81 / 293.0 * POTENTIAL_TEMP_GRADIENT_K_M[stability]
        return min(2.6 * (flux / (u * s)) ** (1 / 3), 4.0 * flux ** 0.25 * s ** -0.375)
    return 21.425 * flux ** 0.75 / u if flux < 55 else 38.71 * flux ** 0.6 / u


def plume_rise_m(flux: float, wind_ms: float, stability: str, downwind_m, front_length_m: float = 0.0) -> np.ndarray:
    """Rise at each downwind distance: Briggs' 2/3 law until the final rise is reached.

    A fire front front_length_m long is a line source while its plume is young: a bent-over line
    plume rises as (3 F_L x^2 / (2 beta^2 u^3))^1/3 with F_L = F / length and beta = 0.6 (Briggs 1975),
    far less than a point source of the same heat; the lower of the two applies.
    """
    x = np.maximum(np.asarray(downwind_m, dtype=np.float64), 0.0)
    u = max(wind_ms, MIN_RISE_WIND_MS)
    rise = 1.6 * flux ** (1 / 3) * x ** (2 / 3) / u
    if front_length_m > 0:
        rise = np.minimum(rise, (3 * (flux / front_length_m) * x * x / (2 * LINE_PLUME_BETA ** 2 * u ** 3)) ** (1 / 3))
    return np.minimum(rise, final_rise_m(flux, wind_ms, stability))


def trapped_fraction(final_rise: float, mixing_height: float) -> float:
    """Share of a buoyant plume that stays below the mixing-layer top (Briggs 1975 partial penetration)."""
    if final_rise <= 0:
        return 1.0
    return float(min(1.0, max(0.0, mixing_height / final_rise - 0.5)))


def _vertical_term(height_m: np.ndarray, sig_z: np.ndarray, lid_m: float) -> np.ndarray:
    """Sum of ground and lid image sources at ground level; a well-mixed layer once sigma_z is large."""
    if not math.isfinite(lid_m):
        return 2.0 * np.exp(-(height_m * height_m) / (2 * sig_z * sig_z))
    total = np.zeros(np.broadcast(height_m, sig_z).shape)
    for n in range(-2, 3):
        for sign in (-1.0, 1.0):
            total += np.exp(-((2 * n * lid_m + sign * height_m) ** 2) / (2 * sig_z * sig_z))
    mixed = math.sqrt(2 * math.pi) * sig_z / lid_m  # the well-mixed limit, written as the same factor
    return np.where(sig_z > 1.6 * lid_m, mixed, total)


def plume_ppm(source_x_m, source_y_m, emission_g_s, x_m, y_m, wind_ms: float, wind_to_rad: float,
              stability: str, flux: float = 0.0, mixing_height: float = math.inf,
              initial_sigma_m: tuple[float, float] = (0.0, 0.0), front_length_m: float = 0.0) -> np.ndarray:
    """Ground-level CO (ppm) at points (x_m, y_m) from point sources (arrays, summed).

    flux: buoyancy flux of the fire the sources belong to (0: smoke at ground level, no rise);
    mixing_height: the reflecting top of the mixed layer; initial_sigma_m: the spread (y, z) smoke
    already has where it leaves the fire (an area source, as Turner's virtual-source method treats it).
    """
    u = max(wind_ms, 0.5)
    cos_w, sin_w = math.cos(wind_to_rad), math.sin(wind_to_rad)
    dx = x_m[:, None] - np.asarray(source_x_m)[None, :]
    dy = y_m[:, None] - np.asarray(source_y_m)[None, :]
    down = dx * cos_w + dy * sin_w
    cross = dy * cos_w - dx * sin_w
    x = np.maximum(down, MIN_DOWNWIND_M)
    sig_y = _sigma(_SIGMA_Y[stability], x)
    sig_z = _sigma(_SIGMA_Z[stability], x)
    if initial_sigma_m[0] > 0 or initial_sigma_m[1] > 0:
        sig_y = np.sqrt(sig_y * sig_y + initial_sigma_m[0] ** 2)
        sig_z = np.sqrt(sig_z * sig_z + initial_sigma_m[1] ** 2)
    upwind = np.minimum(down, 0.0)
    exponent = -(cross * cross) / (2 * sig_y * sig_y) - (upwind * upwind) * (0.5 / BACK_DIFFUSION_M ** 2)
    vertical: float | np.ndarray = 2.0
    emission = np.asarray(emission_g_s, dtype=np.float64)
    if flux > 0 or math.isfinite(mixing_height):
        height = np.minimum(plume_rise_m(flux, wind_ms, stability, down, front_length_m), mixing_height)
        vertical = _vertical_term(height, sig_z, mixing_height)
        emission = emission * trapped_fraction(final_rise_m(flux, wind_ms, stability), mixing_height)
    conc_g_m3 = emission[None, :] / (2 * math.pi * u) / (sig_y * sig_z) * vertical * np.exp(exponent)
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


def flame_length_m(fire: Fire) -> float:
    """Byram's flame length at the head from the Rothermel intensity; >= 0.5 m (smouldering edges)."""
    return max(0.5, fire.flame_length_m())


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
    lid_m = mixing_height_m(stability, weather.daytime)
    for fire, fuel in zip(fires, fuel_at_markers):
        if not fire.active and fire.area_growth_m2_s <= 0:
            continue
        outside_m = fire.distance_outside_m(x_m, y_m)
        burned |= outside_m <= 0
        near = np.flatnonzero((outside_m < MAX_RANGE_M) & _in_plume_cone(fire, x_m, y_m, weather, stability))
        if near.size == 0:
            continue
        sx, sy, q = fire_sources(fire, fuel)
        args = (x_m[near], y_m[near], weather.wind_ms, weather.wind_to_rad, stability)
        # each arc segment's smoke leaves an area about as wide as the segment (Turner: sigma_y0 = width / 4.3)
        sigma_y0 = 2 * math.pi * float(fire.radius_m.mean()) / N_SOURCES / 4.3
        front_m = 2 * math.pi * float(fire.radius_m.mean())
        ppm = (plume_ppm(sx, sy, q * (1 - SMOULDERING_CO_FRACTION), *args, buoyancy_flux(fire.heat_release_kw), lid_m,
                         (sigma_y0, 0.0), front_m)
               + plume_ppm(sx, sy, q * SMOULDERING_CO_FRACTION, *args, 0.0, lid_m,
                           (sigma_y0, SMOULDER_MIXING_DEPTH_M)))
        front = FRONT_HEAT_C * np.exp(-np.maximum(outside_m[near], 0.0) / (FRONT_HEAT_FLAME_LENGTHS
                                                                          * flame_length_m(fire)))
        co_ppm[near] += ppm
        heat_c[near] += ppm * PLUME_HEAT_C_PER_PPM + np.where(fire.active, front, 0.0)
        better = ppm > best[near]
        dominant[near[better]] = fire.index
        best[near] = np.maximum(best[near], ppm)
    return co_ppm, heat_c, burned, dominant
