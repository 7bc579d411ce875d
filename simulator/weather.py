"""Site weather, one state per time step: diurnal temperature and humidity,
wind speed and direction, rain, and the dead fine-fuel moisture it leaves behind.

Humidity follows from temperature and a daily dew point (vapour stays roughly
constant while the air warms), so the afternoon is hot and dry like real fire
weather. All randomness comes from the generator passed in.
"""

import math

import numpy as np

from simulator.clock import S_PER_DAY, S_PER_HOUR, hour_of_day


def saturation_vapour_hpa(temp_c):
    """Magnus formula; works on floats and numpy arrays."""
    return 6.112 * np.exp(17.62 * np.asarray(temp_c) / (243.12 + np.asarray(temp_c)))


def equilibrium_moisture_pct(temp_c: float, rh_pct: float) -> float:
    """Simard (1968) equilibrium moisture content of dead fine fuel, in % of dry weight."""
    t_f = temp_c * 9 / 5 + 32
    h = rh_pct
    if h < 10:
        return 0.03229 + 0.281073 * h - 0.000578 * h * t_f
    if h < 50:
        return 2.22749 + 0.160107 * h - 0.01478 * t_f
    return 21.0606 + 0.005565 * h * h - 0.00035 * h * t_f - 0.483199 * h


class WeatherState:
    __slots__ = (
        "daytime",
        "fuel_moisture",
        "rain_mm_h",
        "rh_pct",
        "t_s",
        "temp_c",
        "wind_ms",
        "wind_to_rad",
    )

    def __init__(self, t_s: float, temp_c: float, rh_pct: float, wind_ms: float, wind_to_rad: float,
                 rain_mm_h: float, fuel_moisture: float, daytime: bool) -> None:
        self.t_s = t_s
        self.temp_c = temp_c
        self.rh_pct = rh_pct
        self.wind_ms = wind_ms
        self.wind_to_rad = wind_to_rad  # direction the wind blows towards, radians from east, CCW
        self.rain_mm_h = rain_mm_h
        self.fuel_moisture = fuel_moisture  # fraction of dry weight
        self.daytime = daytime


class WeatherConfig:
    def __init__(self, mean_temp_c: float = 24.0, temp_swing_c: float = 7.0, dew_point_c: float = 10.0,
                 mean_wind_ms: float = 3.0, wind_to_deg: float = -45.0,
                 rain_events_per_day: float = 0.1, start_hour: float = 0.0) -> None:
        self.mean_temp_c = mean_temp_c
        self.temp_swing_c = temp_swing_c
        self.dew_point_c = dew_point_c
        self.mean_wind_ms = mean_wind_ms
        self.wind_to_deg = wind_to_deg  # default -45 deg: a north-westerly blowing to the south-east
        self.rain_events_per_day = rain_events_per_day
        # local solar hour at the scenario's start: lets a short run (a plan's scenario) begin near its ignition
        self.start_hour = start_hour


class Weather:
    """Advance with `step(t_s, dt_s)`; the state is uniform over the site."""

    def __init__(self, rng: np.random.Generator, days: float, config: WeatherConfig | None = None) -> None:
        self.config = config or WeatherConfig()
        self.rng = rng
        n_days = math.ceil(days) + 2
        c = self.config
        self.day_mean_c = c.mean_temp_c + rng.normal(0, 2.0, n_days)
        self.day_dew_c = c.dew_point_c + rng.normal(0, 2.5, n_days)
        self.rain_spells = self._draw_rain(days)
        self.wind_ms = c.mean_wind_ms
        self.wind_dev_rad = 0.0
        self.rain_mm_h = 0.0
        self.rain_cooling_c = 0.0
        self.wetness = 0.0  # 1 = soaked air and ground; dries over hours after the rain
        self.fuel_moisture: float | None = None

    def _draw_rain(self, days: float) -> list[tuple[float, float, float]]:
        """(start_s, end_s, mm_per_h) spells, Poisson in time."""
        spells = []
        n = self.rng.poisson(self.config.rain_events_per_day * days)
        for _ in range(n):
            start = self.rng.uniform(0, days * S_PER_DAY)
            spells.append((start, start + self.rng.uniform(1, 4) * S_PER_HOUR, self.rng.uniform(1, 8)))
        return sorted(spells)

    def _daily(self, values: np.ndarray, t_s: float) -> float:
        """Smooth day-to-day interpolation (values are per day, centred at noon)."""
        d = t_s / S_PER_DAY - 0.5
        i = math.floor(d)
        f = d - i
        i0 = min(max(i, 0), len(values) - 1)
        i1 = min(max(i + 1, 0), len(values) - 1)
        return float(values[i0] * (1 - f) + values[i1] * f)

    def step(self, t_s: float, dt_s: float) -> WeatherState:
        c = self.config
        hour = hour_of_day(t_s + c.start_hour * S_PER_HOUR)
        rain_target = sum(mm for start, end, mm in self.rain_spells if start <= t_s < end)
        relax = 1.0 - math.exp(-dt_s / 900.0)  # weather changes over ~15 minutes
        self.rain_mm_h += (rain_target - self.rain_mm_h) * relax
        cooling_target = 3.0 if rain_target > 0 else 0.0
        # evaporation from wet ground keeps the air cool for a couple of hours after the rain
        cool_relax = relax if cooling_target > self.rain_cooling_c else 1.0 - math.exp(-dt_s / 7200.0)
        self.rain_cooling_c += (cooling_target - self.rain_cooling_c) * cool_relax
        temp_c = (self._daily(self.day_mean_c, t_s) + c.temp_swing_c * math.cos(2 * math.pi * (hour - 15) / 24)
                  - self.rain_cooling_c)
        dew_c = self._daily(self.day_dew_c, t_s)
        # rain brings the dew point up to the air temperature within minutes; afterwards wet
        # ground keeps evaporating, so the air dries over hours, not as fast as it got wet
        target = min(1.0, rain_target)
        tau_s = 900.0 if target > self.wetness else 3 * 3600.0
        self.wetness += (target - self.wetness) * (1.0 - math.exp(-dt_s / tau_s))
        dew_c = min(temp_c, dew_c * (1 - self.wetness) + (temp_c - 0.5) * self.wetness)
        rh_pct = float(100.0 * saturation_vapour_hpa(dew_c) / saturation_vapour_hpa(temp_c))
        # wind: Ornstein-Uhlenbeck around a diurnal mean (afternoon breeze), direction wanders
        k = dt_s / 3600.0
        mean_wind = c.mean_wind_ms * (1 + 0.4 * math.cos(2 * math.pi * (hour - 15) / 24))
        self.wind_ms += (mean_wind - self.wind_ms) * min(1.0, k) + 0.5 * math.sqrt(k) * self.rng.normal()
        self.wind_ms = max(0.2, self.wind_ms)
        self.wind_dev_rad += -self.wind_dev_rad * min(1.0, k / 3) + 0.3 * math.sqrt(k) * self.rng.normal()
        emc = equilibrium_moisture_pct(temp_c, rh_pct) / 100.0
        moisture = emc if self.fuel_moisture is None else self.fuel_moisture
        moisture += (emc - moisture) * (1 - math.exp(-dt_s / 3600.0))  # 1-h fuel
        self.fuel_moisture = moisture = min(0.35, moisture + self.rain_mm_h * 0.02 * dt_s / 3600.0)
        return WeatherState(t_s, temp_c, rh_pct, self.wind_ms, math.radians(c.wind_to_deg) + self.wind_dev_rad,
                            self.rain_mm_h, moisture, 6 <= hour < 20)
