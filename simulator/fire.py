"""Fire spread: an elliptical front driven by fuel, wind, slope and fuel moisture.

Each fire is a star-shaped perimeter: N markers at fixed bearings from the
ignition point, each at a radius that grows at the rate an ellipse with the
ignition at its rear focus would give in that bearing (Anderson 1983 length
-to-breadth ratio from the effective midflame wind; polar form
rate(theta) = R_head * (1 - e) / (1 - e cos theta)). Under a steady wind the
perimeter is exactly that ellipse; when the wind turns, the shape follows.
Each marker's head rate is Rothermel's (simulator.rothermel) for the fuel model
under it, with the site's dead fuel moisture, the midflame wind (open wind x
the fuel's wind adjustment factor) and the local slope combined as vectors.
"""

import functools
import math

import numpy as np

from simulator.fuel_models import fuel_model
from simulator.rothermel import FuelBed, Moisture
from simulator.terrain import Terrain
from simulator.weather import WeatherState

N_MARKERS = 48
MAX_LENGTH_TO_BREADTH = 8.0
RAIN_STOPS_SPREAD_MM_H = 0.5


@functools.lru_cache(maxsize=8192)
def fuel_bed(code: str, dead_1h_milli: int, live_herb_centi: int, live_woody_centi: int) -> FuelBed:
    """Cached: moisture changes slowly, so a run needs only a few hundred distinct beds."""
    return FuelBed(fuel_model(code), Moisture(dead_1h_milli / 1000.0, live_herb=live_herb_centi / 100.0,
                                              live_woody=live_woody_centi / 100.0))


def length_to_breadth(midflame_wind_ms):
    """Anderson (1983) ellipse length-to-breadth ratio from the effective midflame wind, capped at 8
    as fire behaviour systems do, because the exponential fit runs away at high winds."""
    u_mph = np.asarray(midflame_wind_ms) * 2.23694
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
        self.head_rate_ms = 0.0
        self.head_intensity_kw_m = 0.0   # Byram's fireline intensity at the head
        self.heat_release_kw = 0.0       # whole front: what drives the plume's rise
        self.perimeter_history: list[tuple[float, np.ndarray, np.ndarray]] = []
        self._polar_cache: tuple | None = None  # (x, y, distance, bearing) of the last points asked about

    def marker_xy(self) -> tuple[np.ndarray, np.ndarray]:
        return (self.x_m + self.radius_m * np.cos(self.bearing_rad),
                self.y_m + self.radius_m * np.sin(self.bearing_rad))

    def _area(self) -> float:
        # polygon area of the star shape: sum of triangles between neighbouring markers
        r = self.radius_m
        return float(0.5 * np.sum(r * np.roll(r, -1)) * math.sin(2 * math.pi / N_MARKERS))

    def flame_length_m(self) -> float:
        """Byram (1959): L = 0.0775 I^0.46 (m, kW/m) at the head."""
        return 0.0775 * max(self.head_intensity_kw_m, 0.0) ** 0.46

    def advance(self, t_s: float, dt_s: float, weather: WeatherState, terrain: Terrain) -> None:
        if t_s < self.t_ignite_s or self.out_reason:
            self.area_growth_m2_s = self.heat_release_kw = 0.0
            return
        self.active = True
        mx, my = self.marker_xy()
        index = terrain.fuel_index_at(mx, my)
        sx, sy = terrain.slope_at(mx, my)
        slope_tan = np.hypot(sx, sy)
        fuel = terrain.fuel
        m1 = int(round(min(max(weather.fuel_moisture, 0.01), 0.6) * 1000))
        herb, woody = int(round(fuel.live_herb_moisture * 100)), int(round(fuel.live_woody_moisture * 100))
        head_rate = np.zeros(N_MARKERS)
        head_rad = np.zeros(N_MARKERS)
        lb = np.ones(N_MARKERS)
        heat_kj_m2 = np.zeros(N_MARKERS)
        burnable = index >= 0
        for k in np.unique(index[burnable]).tolist():
            code = terrain.fuel_codes[k]
            here = index == k
            bed = fuel_bed(code, m1, herb, woody)
            # Rothermel: wind and slope factors add as vectors; upslope acts like extra wind
            phi_w = float(bed.wind_factor(fuel.midflame_factor(code) * weather.wind_ms))
            phi_s = bed.slope_factor(slope_tan[here])
            vx = phi_w * math.cos(weather.wind_to_rad) + phi_s * sx[here] / (slope_tan[here] + 1e-12)
            vy = phi_w * math.sin(weather.wind_to_rad) + phi_s * sy[here] / (slope_tan[here] + 1e-12)
            phi = np.hypot(vx, vy)
            head_rate[here] = bed.head_rate_ms(phi)
            head_rad[here] = np.arctan2(vy, vx)
            lb[here] = length_to_breadth(bed.effective_wind_ms(phi))
            heat_kj_m2[here] = bed.fireline_intensity_kw_m(1.0)  # heat per unit area: intensity at 1 m/s
        if weather.rain_mm_h > RAIN_STOPS_SPREAD_MM_H:
            head_rate[:] = 0.0
        ecc = np.sqrt(1 - 1 / (lb * lb))
        rate = head_rate * (1 - ecc) / (1 - ecc * np.cos(self.bearing_rad - head_rad))
        old_area = self.area_m2
        self.marker_growth = self.radius_m * rate  # each bearing's share of the new burned area
        self.radius_m = self.radius_m + rate * dt_s
        self.area_m2 = self._area()
        self.area_growth_m2_s = (self.area_m2 - old_area) / dt_s
        head = int(np.argmax(head_rate))
        self.head_rate_ms = float(head_rate[head])
        self.head_intensity_kw_m = float(heat_kj_m2[head] * head_rate[head])
        total_growth = float(self.marker_growth.sum())
        share = self.marker_growth / total_growth if total_growth > 0 else np.zeros(N_MARKERS)
        self.heat_release_kw = float(max(self.area_growth_m2_s, 0.0) * np.sum(share * heat_kj_m2))
        if not burnable.any():
            self.extinguish("no fuel left")
        elif weather.rain_mm_h <= RAIN_STOPS_SPREAD_MM_H and not (head_rate[burnable] > 0).any():
            self.extinguish("fuel too wet")

    def extinguish(self, reason: str) -> None:
        self.out_reason = reason
        self.active = False
        self.area_growth_m2_s = 0.0
        self.heat_release_kw = 0.0

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
