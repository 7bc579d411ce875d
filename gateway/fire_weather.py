"""Per-site daily Canadian Fire Weather Index (FWI System) from what the gateway already receives.

The FWI System (Van Wagner 1987) rates fire danger from one noon observation a day: temperature,
relative humidity, 10-m wind and the 24-hour rain, carried forward through three fuel-moisture codes
(FFMC, DMC, DC) that remember yesterday. Here, per site and local day:

- temperature and humidity: the median of the nodes' heartbeats in the noon window (11:00-13:00 local
  standard time); the median, so the few nodes a fire is heating do not push the whole site's rating;
  the site's weather station's own readings only when no node reported;
- wind: the mean of the station's `weather` messages in the window (wind_cms, km/h for the FWI);
- rain: the sum of the station's rain_um since the previous day's rating.

A day is rated once its window has closed (plus a grace period for late messages); a day still
missing the station's wind or any temperature waits for a replay to bring them, up to two days, and
is then skipped: the site gets no rating that day and keeps its codes. A site with no rating yet
starts from the standard start-up values (FFMC 85, DMC 6, DC 15); after a restart the gateway
resumes each site from its newest stored rating (gateway/fire_weather_store.py). The equations
come from the `wildfire-fwi` package, which reproduces the
Van Wagner & Pickett (1985) reference values.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import wildfire_fwi  # type: ignore[import-untyped]  # no type hints shipped

from gateway.env_values import env_number
from gateway.ingest import Event

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
START_FFMC, START_DMC, START_DC = 85.0, 6.0, 15.0
WINDOW_START_H, WINDOW_END_H = 11, 13  # the FWI's noon observation, in local standard time
FIRE_WEATHER_NODE = "fwi"  # node tag of the stored points: one rating per site, not per node


@dataclass(frozen=True)
class FireWeatherSettings:
    utc_offset_h: float = 0.0  # the sites' local standard time minus UTC
    grace_ms: int = 15 * 60_000  # how long after the window closes late messages are still awaited
    give_up_ms: int = 2 * DAY_MS  # a day still missing wind or temperatures this long after is skipped


class FireWeatherConfigError(ValueError):
    pass


def settings_from_env(env: Mapping[str, str]) -> FireWeatherSettings:
    problems: list[str] = []
    offset = env_number(env, "EMBERWATCH_FWI_UTC_OFFSET_H", 0.0, -12.0, 14.0, problems)
    if problems:
        raise FireWeatherConfigError(problems[0] + " (hours from UTC, e.g. -7)")
    return FireWeatherSettings(utc_offset_h=offset)


@dataclass(frozen=True)
class DailyWeather:
    temp_c: float
    rh_pct: float
    wind_kmh: float
    rain_mm: float
    month: int  # 1-12


@dataclass(frozen=True)
class FireWeatherCodes:
    ffmc: float
    dmc: float
    dc: float
    isi: float = 0.0
    bui: float = 0.0
    fwi: float = 0.0


STARTUP = FireWeatherCodes(START_FFMC, START_DMC, START_DC)


def next_day(yesterday: FireWeatherCodes, w: DailyWeather) -> FireWeatherCodes:
    """Today's FWI System codes and indices from yesterday's codes and today's noon weather."""
    rh = min(100.0, max(0.0, w.rh_pct))
    wind, rain = max(0.0, w.wind_kmh), max(0.0, w.rain_mm)
    ffmc = wildfire_fwi.calculate_ffmc(w.temp_c, rh, wind, rain, yesterday.ffmc)
    dmc = wildfire_fwi.calculate_dmc(w.temp_c, rh, rain, yesterday.dmc, w.month)
    dc = wildfire_fwi.calculate_dc(w.temp_c, rain, yesterday.dc, w.month)
    isi = wildfire_fwi.calculate_isi(ffmc, wind)
    bui = wildfire_fwi.calculate_bui(dmc, dc)
    return FireWeatherCodes(ffmc, dmc, dc, isi, bui, wildfire_fwi.calculate_fwi(isi, bui))


@dataclass
class _SiteDay:
    node_temps: list[float] = field(default_factory=list)
    node_rhs: list[float] = field(default_factory=list)
    station_temps: list[float] = field(default_factory=list)
    station_rhs: list[float] = field(default_factory=list)
    winds_kmh: list[float] = field(default_factory=list)
    rain_mm: float = 0.0  # since the previous day's window closed


@dataclass
class _Site:
    codes: FireWeatherCodes = STARTUP
    rated_day: int | None = None  # local day number (days since the epoch) last rated
    days: dict[int, _SiteDay] = field(default_factory=dict)


class FireWeatherProcessor:
    """An EventProcessor (gateway/processors.py): `fire_weather` events, one per site and day."""

    def __init__(self, settings: FireWeatherSettings | None = None) -> None:
        self.settings = settings or FireWeatherSettings()
        self.sites: dict[str, _Site] = {}

    def resume(self, site: str, ffmc: float, dmc: float, dc: float, rated_noon_ms: int) -> None:
        """Carry on from a stored rating: its codes are yesterday's for the next day rated, and
        days up to the rated one are not rated again (a replay of their messages changes nothing)."""
        state = self.sites.setdefault(site, _Site())
        day = self._local_day_and_hour(rated_noon_ms)[0]
        if state.rated_day is None or day >= state.rated_day:
            state.codes = FireWeatherCodes(ffmc, dmc, dc)
            state.rated_day = day
            for stale in [d for d in state.days if d <= day]:
                del state.days[stale]

    def _local_day_and_hour(self, t_ms: int) -> tuple[int, float]:
        local_ms = t_ms + int(self.settings.utc_offset_h * HOUR_MS)
        return local_ms // DAY_MS, (local_ms % DAY_MS) / HOUR_MS

    def _window_close_ms(self, day: int) -> int:
        return day * DAY_MS + WINDOW_END_H * HOUR_MS - int(self.settings.utc_offset_h * HOUR_MS)

    def observe(self, events: list[tuple[Event, int]], now_ms: int) -> list[Event]:
        for event, received_ms in events:
            if event.kind in ("heartbeat", "weather"):
                self._take(event, event.t_ms or received_ms)
        return self.tick(now_ms)

    def _take(self, event: Event, t_ms: int) -> None:
        site = self.sites.setdefault(event.site, _Site())
        day, hour = self._local_day_and_hour(t_ms)
        if event.kind == "weather":
            # Rain after a day's window counts towards the next day's rating (the FWI's noon-to-noon rain).
            rain_day = day + 1 if hour >= WINDOW_END_H else day
            rain = _number(event, "rain_um", 1000.0)
            if rain and (site.rated_day is None or rain_day > site.rated_day):
                site.days.setdefault(rain_day, _SiteDay()).rain_mm += rain
        if site.rated_day is not None and day <= site.rated_day:
            return  # that day is rated already
        if not WINDOW_START_H <= hour < WINDOW_END_H:
            return
        today = site.days.setdefault(day, _SiteDay())
        temp, rh = _number(event, "temp_cc", 100.0), _number(event, "rh_cp", 100.0)
        if event.kind == "heartbeat":
            if temp is not None and rh is not None:
                today.node_temps.append(temp)
                today.node_rhs.append(rh)
            return
        wind = _number(event, "wind_cms", 100.0)
        if wind is not None:
            today.winds_kmh.append(wind * 3.6)
        if temp is not None and rh is not None:
            today.station_temps.append(temp)
            today.station_rhs.append(rh)

    def tick(self, now_ms: int) -> list[Event]:
        out: list[Event] = []
        for name, site in self.sites.items():
            # Days in order, since each chains from the one before. A closed day still missing its wind or
            # temperatures (a replay after an outage brings them late) waits, up to give_up_ms, then is
            # skipped: the codes carry over unchanged.
            for day in sorted(site.days):
                closed_ms = self._window_close_ms(day)
                if now_ms < closed_ms + self.settings.grace_ms:
                    break
                rating = self._rate(name, site, day, site.days[day])
                if rating:
                    out += rating
                elif now_ms >= closed_ms + self.settings.give_up_ms:
                    skipped = site.days.pop(day)  # its rain still wets the next rated day
                    site.days.setdefault(day + 1, _SiteDay()).rain_mm += skipped.rain_mm
                else:
                    break
        return out

    def _rate(self, name: str, site: _Site, day: int, obs: _SiteDay) -> list[Event]:
        temps, rhs = (obs.node_temps, obs.node_rhs) if obs.node_temps else (obs.station_temps, obs.station_rhs)
        if not obs.winds_kmh or not temps:
            return []  # no station or no readings in the window (yet): no honest rating
        weather = DailyWeather(statistics.median(temps), statistics.median(rhs), statistics.fmean(obs.winds_kmh),
                               obs.rain_mm, time.gmtime(day * 86400).tm_mon)
        site.codes = next_day(site.codes, weather)
        site.rated_day = day
        for stale in [d for d in site.days if d <= day]:
            del site.days[stale]
        c = site.codes
        fields = {"ffmc": c.ffmc, "dmc": c.dmc, "dc": c.dc, "isi": c.isi, "bui": c.bui, "fwi": c.fwi,
                  "temp_c": weather.temp_c, "rh_pct": weather.rh_pct, "wind_kmh": weather.wind_kmh,
                  "rain_mm": weather.rain_mm, "nodes": len(obs.node_temps)}
        noon_ms = day * DAY_MS + 12 * HOUR_MS - int(self.settings.utc_offset_h * HOUR_MS)
        # Event fields are typed for wire integers; these derived ones are already in human units.
        return [Event("fire_weather", name, FIRE_WEATHER_NODE, None, noon_ms,
                      cast(dict[str, int | str], {k: round(v, 3) for k, v in fields.items()}))]


def _number(event: Event, key: str, divisor: float) -> float | None:
    value = event.fields.get(key)
    return value / divisor if isinstance(value, int) and not isinstance(value, bool) else None
