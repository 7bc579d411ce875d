"""Weather climatology for planning: seasonal ranges each Monte Carlo scenario draws its weather from.

A JSON file overrides any range: {"season": "...", "mean_temp_c": [18, 30], "mean_wind_ms": [1, 6], ...}.
Every range is [low, high], drawn uniformly; ignition hours follow the daily pattern of human-caused
fires (most in the afternoon), unless "ignition_hours" gives [first, last].
"""

import json
from pathlib import Path
from typing import Any

import numpy as np

from simulator.fuel_map import FuelConfig
from simulator.weather import WeatherConfig

RANGES = ("mean_temp_c", "temp_swing_c", "dew_point_c", "mean_wind_ms", "wind_to_deg", "rain_events_per_day",
          "live_herb_moisture", "live_woody_moisture", "ignition_hours")
# a Mediterranean mountain fire season (June-September), e.g. north-east Portugal
DEFAULT = {"season": "Mediterranean summer (June-September)", "mean_temp_c": [17.0, 29.0],
           "temp_swing_c": [5.0, 9.0], "dew_point_c": [2.0, 14.0], "mean_wind_ms": [1.0, 6.0],
           "wind_to_deg": [0.0, 360.0], "rain_events_per_day": [0.0, 0.15], "live_herb_moisture": [0.3, 1.0],
           "live_woody_moisture": [0.7, 1.2], "ignition_hours": None}
# share of ignitions by local hour: human-caused fires peak in the early afternoon
_HOURLY = np.array([1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 6, 8, 10, 11, 11, 10, 9, 7, 5, 4, 3, 2, 1, 1], dtype=float)


class ClimateError(ValueError):
    """A climatology that cannot be used; the message says why."""


class Climatology:
    def __init__(self, ranges: dict | None = None) -> None:
        self.ranges: dict[str, Any] = dict(DEFAULT)  # [low, high] lists, None, or the season name
        for key, value in (ranges or {}).items():
            if key == "season":
                self.ranges[key] = str(value)
                continue
            if key not in RANGES:
                raise ClimateError(f"unknown climate setting {key!r}; known: season, {', '.join(RANGES)}")
            if value is not None and not (isinstance(value, list) and len(value) == 2
                                          and all(isinstance(v, (int, float)) for v in value) and value[0] <= value[1]):
                raise ClimateError(f"{key} must be [low, high] with low <= high, got {value!r}")
            self.ranges[key] = value
        herb = self.ranges["live_herb_moisture"]
        if herb[0] < 0.3 or self.ranges["live_woody_moisture"][0] < 0.3:
            raise ClimateError("live fuel moisture ranges must stay >= 0.3 (fully cured)")

    @classmethod
    def from_file(cls, path: str | Path) -> "Climatology":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ClimateError(f"cannot read climatology {path}: {exc.strerror or exc}") from exc
        except json.JSONDecodeError as exc:
            raise ClimateError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from exc
        if not isinstance(data, dict):
            raise ClimateError(f"{path}: expected an object of ranges")
        return cls(data)

    def draw(self, rng: np.random.Generator, fuel_model: str) -> dict:
        """One scenario's weather and fuel settings (plain values, so they travel to any worker)."""
        r = self.ranges
        u = {key: float(rng.uniform(*r[key])) for key in RANGES if key != "ignition_hours"}
        if r["ignition_hours"] is None:
            hour = float(rng.choice(24, p=_HOURLY / _HOURLY.sum()) + rng.random())
        else:
            hour = float(rng.uniform(*r["ignition_hours"]))
        return {"weather": {k: u[k] for k in ("mean_temp_c", "temp_swing_c", "dew_point_c", "mean_wind_ms",
                                              "wind_to_deg", "rain_events_per_day")},
                "fuel": {"model": fuel_model, "live_herb_moisture": u["live_herb_moisture"],
                         "live_woody_moisture": u["live_woody_moisture"]},
                "ignition_hour": hour}


def weather_and_fuel(drawn: dict) -> tuple[WeatherConfig, FuelConfig]:
    return WeatherConfig(**drawn["weather"]), FuelConfig(**drawn["fuel"])
