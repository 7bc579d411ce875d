"""Fire-weather codes survive a gateway restart: a new processor resumes from the store (and spool)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import GatewayConfig
from gateway.fire_weather import DAY_MS, HOUR_MS, STARTUP, DailyWeather, FireWeatherSettings, next_day
from gateway.fire_weather_store import open_fire_weather_processor, resume
from gateway.ingest import Event
from gateway.service import open_sink
from gateway.spool import Spool
from tests.gateway.test_fire_weather import APRIL_DAY, _heartbeat, _noon, _weather

SETTINGS = FireWeatherSettings(utc_offset_h=-7.0)
DAY1, DAY2 = _noon(APRIL_DAY, -7.0), _noon(APRIL_DAY + 1, -7.0)
DRY, WET = DailyWeather(17.0, 42.0, 25.0, 0.0, 4), DailyWeather(11.0, 80.0, 10.0, 0.0, 4)


def _day(site: str, noon: int, w: DailyWeather) -> list[tuple[Event, int]]:
    return [_heartbeat(site, "n1", noon, w.temp_c, w.rh_pct), _weather(site, noon, w.wind_kmh, w.rain_mm)]


def _rate_restart_and_rate_again(config: GatewayConfig) -> None:
    first = open_fire_weather_processor(config, SETTINGS, now_ms=DAY1 - HOUR_MS)  # an empty store
    ratings = first.observe(_day("ridge", DAY1, DRY) + _day("valley", DAY1, WET), DAY1 + 2 * HOUR_MS)
    assert sorted(r.site for r in ratings) == ["ridge", "valley"]
    sink = open_sink(config.store)
    try:
        sink.write([(r, DAY1 + 2 * HOUR_MS) for r in ratings])
    finally:
        sink.close()

    restarted = open_fire_weather_processor(config, SETTINGS, now_ms=DAY1 + 3 * HOUR_MS)
    # Day 1 is rated already: its messages replayed after the restart rate nothing again.
    assert restarted.observe(_day("ridge", DAY1, DRY), DAY1 + 4 * HOUR_MS) == []
    (ridge,) = restarted.observe(_day("ridge", DAY2, WET), DAY2 + 2 * HOUR_MS)
    from_stored = next_day(next_day(STARTUP, DRY), WET)
    from_scratch = next_day(STARTUP, WET)
    for code in ("ffmc", "dmc", "dc", "fwi"):  # stored rounded to 3 decimals
        assert ridge.fields[code] == pytest.approx(getattr(from_stored, code), abs=0.002), code
    assert ridge.fields["dmc"] != pytest.approx(from_scratch.dmc, abs=0.5)  # not the start-up values again
    assert restarted.sites["valley"].codes.dc == pytest.approx(next_day(STARTUP, WET).dc, abs=0.001)


def test_sqlite_store_resumes_each_sites_codes(tmp_path: Path) -> None:
    config = GatewayConfig.from_env({"EMBERWATCH_SITE": "ridge", "EMBERWATCH_SQLITE_PATH": str(tmp_path / "gw.db")})
    _rate_restart_and_rate_again(config)


@pytest.mark.integration
def test_influxdb_store_resumes_each_sites_codes(gateway_env) -> None:
    _rate_restart_and_rate_again(GatewayConfig.from_env(gateway_env))


def test_a_rating_still_in_the_spool_is_newer_than_the_stores(tmp_path: Path) -> None:
    config = GatewayConfig.from_env({"EMBERWATCH_SITE": "ridge", "EMBERWATCH_SQLITE_PATH": str(tmp_path / "gw.db"),
                                     "EMBERWATCH_SPOOL_DIR": str(tmp_path / "spool")})
    first = open_fire_weather_processor(config, SETTINGS, now_ms=DAY1)
    (day1,) = first.observe(_day("ridge", DAY1, DRY), DAY1 + 2 * HOUR_MS)
    (day2,) = first.observe(_day("ridge", DAY2, WET), DAY2 + 2 * HOUR_MS)
    sink = open_sink(config.store)
    sink.write([(day1, DAY1)])  # the store got day 1; day 2 was spooled while it was down
    sink.close()
    assert config.spool_dir
    spool = Spool(config.spool_dir)
    spool.append([(day2, DAY2)])
    spool.close()
    restarted = open_fire_weather_processor(config, SETTINGS, now_ms=DAY2 + 3 * HOUR_MS)
    assert restarted.sites["ridge"].codes.dc == pytest.approx(day2.fields["dc"])
    assert restarted.observe(_day("ridge", DAY2, DRY), DAY2 + 4 * HOUR_MS) == []  # day 2 is rated


def test_damaged_or_old_ratings_are_not_resumed(tmp_path: Path) -> None:
    config = GatewayConfig.from_env({"EMBERWATCH_SITE": "ridge", "EMBERWATCH_SQLITE_PATH": str(tmp_path / "gw.db")})
    first = open_fire_weather_processor(config, SETTINGS, now_ms=DAY1)
    ratings = first.observe(_day("ridge", DAY1, DRY), DAY1 + 2 * HOUR_MS)
    sink = open_sink(config.store)
    sink.write([(r, DAY1) for r in ratings])
    sink.close()
    # 31 days later the month-old codes are not trusted: start-up values
    later = open_fire_weather_processor(config, SETTINGS, now_ms=DAY1 + 31 * DAY_MS)
    assert "ridge" not in later.sites
    proc = open_fire_weather_processor(config, SETTINGS, now_ms=DAY1 - HOUR_MS)
    assert resume(proc, [{"site": "x", "time": DAY1, "ffmc": None, "dmc": 1.0, "dc": 2.0}]) == 0
