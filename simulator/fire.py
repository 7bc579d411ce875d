"""Fire spread: an elliptical front driven by wind, slope and fuel moisture.

Each fire is a star-shaped perimeter: N markers at fixed bearings from the
ignition point, each at a radius that grows at the rate an ellipse with the
ignition at its rear focus would give in that bearing (Anderson 1983 length
-to-breadth ratio from wind speed; Richards-style polar form
rate(theta) = R_head * (1 - e) / (1 - e cos theta)). Under a steady wind the
perimeter is exactly that ellipse; when the wind turns, the shape follows.
The head rate is a simplified Rothermel: no-wind rate x (1 + wind and slope
factors) x moisture damping, scaled by local fuel.
"""

import math

import numpy as np

from simulator.terrain import Terrain
from simulator.weather import WeatherState

N_MARKERS = 48
MOISTURE_OF_EXTINCTION = 0.30  # dead-fuel moisture fraction above which nothing spreads
MIDFLAME_WIND_FACTOR = 0.4
MAX_LENGTH_TO_BREADTH = 8.0
NO_WIND_RATE_MS = 0.02  # about 1.2 m/min in dry litter on flat ground


def moisture_damping(moisture: float) -> float:
    """Rothermel's moisture damping coefficient, 1 when dry, 0 at extinction."""
    r = max(0.0, moisture / MOISTURE_OF_EXTINCTION)
    if r >= 1.0:
        return 0.0
    return max(0.0, 1 - 2.59 * r + 5.11 * r * r - 3.52 * r ** 3)


def length_to_breadth(wind_ms):
    """Anderson (1983) ellipse length-to-breadth ratio from the open wind.

    Midflame wind under a forest canopy is ~0.4 of the open wind (wind adjustment
    factor); the ratio is capped at 8, as fire behaviour systems do, because the
    exponential fit runs away at high winds.
    """
    u_mph = MIDFLAME_WIND_FACTOR * np.asarray(wind_ms) * 2.23694
    lb = 0.936 * np.exp(0.2566 * u_mph) + 0.461 * np.exp(-0.1548 * u_mph) - 0.397
    return np.clip(lb, 1.0, MAX_LENGTH_TO_BREADTH)


class Fire:
    """One ignition's perimeter; `advance` moves it, `distance_outside_m` locates nodes."""

    def __init__(self, index: int, t_ignite_s: float, x_m: float, y_m: float) -> None:
        self.index = index
        self.t_ignite_s = t_ignite_s
        self.x_m = x_m
        self.y_m = y_m
        self.bearing_rad = np.linspace(0, 2 * math.pi, N_MARKERS, endpoint=False)
        self.radius_m = np.full(N_MARKERS, 1.0)
        self.active = False
        self.out_reason = ""
        self.area_m2 = math.pi
        self.area_growth_m2_s = 0.0
        self.marker_growth = np.zeros(N_MARKERS)
        self.perimeter_history: list[tuple[float, np.ndarray, np.ndarray]] = []
        self._polar_cache: tuple | None = None  # (x, y, distance, bearing) of the last points asked about

    def marker_xy(self) -> tuple[np.ndarray, np.ndarray]:
        return (self.x_m + self.radius_m * np.cos(self.bearing_rad),
                self.y_m + self.radius_m * np.sin(self.bearing_rad))

    def _area(self) -> float:
        # polygon area of the star shape: sum of triangles between neighbouring markers
        r = self.radius_m
        return float(0.5 * np.sum(r * np.roll(r, -1)) * math.sin(2 * math.pi / N_MARKERS))

    def advance(self, t_s: float, dt_s: float, weather: WeatherState, terrain: Terrain) -> None:
        if t_s < self.t_ignite_s or self.out_reason:
            self.area_growth_m2_s = 0.0
            return
        self.active = True
        mx, my = self.marker_xy()
        fuel = terrain.fuel_at(mx, my)
        sx, sy = terrain.slope_at(mx, my)
        # Wind and slope combine as vectors (Rothermel): upslope acts like extra wind.
        slope_factor = 5.275 * 0.1 ** -0.3 * (sx * sx + sy * sy)  # phi_s with packing ratio ~0.1
        slope_mag = np.hypot(sx, sy) + 1e-9
        wind_factor = 0.4 * weather.wind_ms ** 1.4
        vx = wind_factor * math.cos(weather.wind_to_rad) + slope_factor * sx / slope_mag
        vy = wind_factor * math.sin(weather.wind_to_rad) + slope_factor * sy / slope_mag
        phi = np.hypot(vx, vy)
        head_rad = np.arctan2(vy, vx)
        # equivalent wind speed for the ellipse shape, inverting wind_factor
        lb = length_to_breadth((phi / 0.4) ** (1 / 1.4))
        ecc = np.sqrt(1 - 1 / (lb * lb))
        damping = moisture_damping(weather.fuel_moisture)
        head_rate = NO_WIND_RATE_MS * (1 + phi) * damping * fuel
        if weather.rain_mm_h > 0.5:
            head_rate = head_rate * 0.0
        rate = head_rate * (1 - ecc) / (1 - ecc * np.cos(self.bearing_rad - head_rad))
        old_area = self.area_m2
        self.marker_growth = self.radius_m * rate  # each bearing's share of the new burned area
        self.radius_m = self.radius_m + rate * dt_s
        self.area_m2 = self._area()
        self.area_growth_m2_s = (self.area_m2 - old_area) / dt_s
        if damping == 0.0 or not np.any(fuel > 0):
            self.out_reason = "fuel too wet" if damping == 0.0 else "no fuel left"
            self.active = False

    def extinguish(self, reason: str) -> None:
        self.out_reason = reason
        self.active = False
        self.area_growth_m2_s = 0.0

    def record_perimeter(self, t_s: float) -> None:
        mx, my = self.marker_xy()
        self.perimeter_history.append((t_s, mx.copy(), my.copy()))

    def distance_outside_m(self, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """Distance from each point to the perimeter along the ray from ignition; <= 0 means burned."""
        cache = self._polar_cache
        if cache is None or cache[0] is not x_m or cache[1] is not y_m:
            # nodes do not move: their polar coordinates around the ignition are computed once
            dx, dy = x_m - self.x_m, y_m - self.y_m
            cache = self._polar_cache = (x_m, y_m, np.hypot(dx, dy), np.mod(np.arctan2(dy, dx), 2 * math.pi))
        r_ext = np.concatenate([self.radius_m, self.radius_m[:1]])
        b_ext = np.concatenate([self.bearing_rad, [2 * math.pi]])
        return cache[2] - np.interp(cache[3], b_ext, r_ext)
