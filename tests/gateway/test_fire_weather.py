"""Daily Canadian FWI per site: the reference vector, the processor's day logic, and the stored points."""

from __future__ import annotations

import time

import paho.mqtt.client as mqtt
import pytest

from edge_node.core import schema
from gateway.fire_weather import (
    DAY_MS,
    HOUR_MS,
    STARTUP,
    DailyWeather,
    FireWeatherConfigError,
    FireWeatherProcessor,
    FireWeatherSettings,
    next_day,
    settings_from_env,
)
from gateway.ingest import Event
from gateway.points import event_to_line
from tests.harness.gateway_runner import running_gateway
from tests.harness.influx_query import influxql
from tests.harness.servers import wait_until

APRIL_DAY = 19_460  # 2023-04-13 UTC, days since the epoch


def test_reference_vector_from_design_md() -> None:
    """17 C, 42 % RH, 25 km/h, no rain, from FFMC 85 / DMC 6 / DC 15 in April -> FWI 10.1 (Van Wagner & Pickett 1985)."""
    c = next_day(STARTUP, DailyWeather(temp_c=17.0, rh_pct=42.0, wind_kmh=25.0, rain_mm=0.0, month=4))
    assert [round(v, 1) for v in (c.ffmc, c.dmc, c.dc, c.isi, c.bui, c.fwi)] == [87.7, 8.5, 19.0, 10.9, 8.5, 10.1]


def test_rain_wets_the_codes_and_cold_wet_days_rate_low() -> None:
    dry = next_day(STARTUP, DailyWeather(17.0, 42.0, 25.0, 0.0, 4))
    wet = next_day(dry, DailyWeather(12.0, 90.0, 10.0, 12.0, 4))
    assert wet.ffmc < dry.ffmc and wet.dmc < dry.dmc and wet.dc < dry.dc
    assert wet.fwi < 1.0 < dry.fwi


def _heartbeat(site: str, node: str, t_ms: int, temp_c: float | None, rh: float | None) -> tuple[Event, int]:
    fields: dict[str, int | str] = {"bat_mv": 2900, "boot": 1, "flt": 0, "queued": 0}
    if temp_c is not None and rh is not None:
        fields.update(temp_cc=round(temp_c * 100), rh_cp=round(rh * 100))
    return Event("heartbeat", site, node, 1, t_ms, fields), t_ms


def _weather(site: str, t_ms: int, wind_kmh: float, rain_mm: float) -> tuple[Event, int]:
    return Event("weather", site, "ws1", 1, t_ms, {"wind_cms": round(wind_kmh / 3.6 * 100), "wdir_deg": 270,
                                                   "rain_um": round(rain_mm * 1000)}), t_ms


def _noon(day: int, offset_h: float = 0.0) -> int:
    return day * DAY_MS + 12 * HOUR_MS - int(offset_h * HOUR_MS)


def test_processor_rates_a_site_once_its_noon_window_closes() -> None:
    proc = FireWeatherProcessor(FireWeatherSettings(utc_offset_h=-7.0, grace_ms=600_000))
    noon = _noon(APRIL_DAY, -7.0)
    events = [_heartbeat("ridge", f"n{i}", noon - 20 * 60_000 + i, 17.0, 42.0) for i in range(4)]
    events.append(_heartbeat("ridge", "burning", noon, 65.0, 8.0))  # one node in the fire: the median ignores it
    events.append(_heartbeat("ridge", "morning", noon - 5 * HOUR_MS, 5.0, 95.0))  # outside the window
    events.append(_heartbeat("ridge", "faulty", noon, None, None))  # no readings: skipped
    events.append(_weather("ridge", noon - 6 * HOUR_MS, 40.0, 0.0))  # before the window: its rain counts, wind not
    events.append(_weather("ridge", noon + 10 * 60_000, 25.0, 0.0))
    events.append(_weather("valley", noon, 25.0, 0.0))  # a station but no temperature from anyone: no rating
    assert proc.observe(events, now_ms=noon + 30 * 60_000) == []
    assert proc.tick(noon + HOUR_MS + 9 * 60_000) == []  # window closed at 13:00, grace not over
    (rating,) = proc.tick(noon + HOUR_MS + 10 * 60_000)
    assert (rating.kind, rating.site, rating.node, rating.t_ms) == ("fire_weather", "ridge", "fwi", noon)
    assert rating.fields["fwi"] == pytest.approx(10.1, abs=0.05)
    assert rating.fields["nodes"] == 5 and rating.fields["temp_c"] == 17.0
    assert rating.fields["wind_kmh"] == pytest.approx(25.0, abs=0.02)  # sent as cm/s
    assert proc.tick(noon + 2 * HOUR_MS) == []  # once per day
    # A late heartbeat for the rated day changes nothing; the next day chains from today's codes.
    assert proc.observe([_heartbeat("ridge", "n9", noon, 30.0, 10.0)], noon + 3 * HOUR_MS) == []
    tomorrow = noon + DAY_MS
    (wet,) = proc.observe([_weather("ridge", tomorrow - 8 * HOUR_MS, 5.0, 15.0),
                           _heartbeat("ridge", "n1", tomorrow, 10.0, 95.0), _weather("ridge", tomorrow, 5.0, 0.0)],
                          now_ms=tomorrow + 2 * HOUR_MS)
    assert wet.fields["rain_mm"] == 15.0 and wet.fields["dc"] < rating.fields["dc"]
    assert wet.fields["fwi"] < 1.0


def test_a_replay_is_rated_in_day_order_and_a_day_without_wind_is_skipped_later() -> None:
    """After an outage the spool delivers days at once: each day keeps its own rain, in order."""
    proc = FireWeatherProcessor()
    day1, day2, day3 = (_noon(APRIL_DAY + i) for i in range(3))
    replay = [_heartbeat("ridge", "n1", d, 17.0, 42.0) for d in (day1, day2, day3)]
    replay += [_weather("ridge", day1, 25.0, 0.0), _weather("ridge", day1 + 3 * HOUR_MS, 0.0, 4.0),  # rain for day 2
               _weather("ridge", day3 - 6 * HOUR_MS, 0.0, 1.0), _weather("ridge", day3, 25.0, 0.0)]  # day 2: no wind
    now = day3 + DAY_MS
    ratings = proc.observe(replay, now)
    assert [r.t_ms for r in ratings] == [day1]  # day 2 waits for its wind, so day 3 waits too
    late, third = proc.observe([_weather("ridge", day2 + 5 * 60_000, 10.0, 0.0)], now)  # the wind arrives: both go
    assert (late.t_ms, late.fields["rain_mm"]) == (day2, 4.0)
    assert (third.t_ms, third.fields["rain_mm"]) == (day3, 1.0)
    # A day that never gets its wind is skipped after two days; its rain moves to the next day.
    proc2 = FireWeatherProcessor()
    proc2.observe([_heartbeat("ridge", "n1", day1, 17.0, 42.0), _weather("ridge", day1 - 2 * HOUR_MS, 0.0, 3.0),
                   _heartbeat("ridge", "n1", day2, 17.0, 42.0), _weather("ridge", day2, 25.0, 0.0)], day2 + HOUR_MS)
    assert proc2.tick(day1 + 2 * DAY_MS - HOUR_MS) == []
    (rated,) = proc2.tick(day1 + 2 * DAY_MS + HOUR_MS)
    assert (rated.t_ms, rated.fields["rain_mm"]) == (day2, 3.0)


def test_station_readings_stand_in_when_no_node_reports() -> None:
    proc = FireWeatherProcessor()
    noon = _noon(APRIL_DAY)
    station, received = _weather("ridge", noon, 25.0, 0.0)
    station.fields.update(temp_cc=1700, rh_cp=4200)
    (rating,) = proc.observe([(station, received)], now_ms=noon + 2 * HOUR_MS)
    assert rating.fields["fwi"] == pytest.approx(10.1, abs=0.05) and rating.fields["nodes"] == 0


def test_settings_refuse_a_bad_offset() -> None:
    assert settings_from_env({"EMBERWATCH_FWI_UTC_OFFSET_H": "-7"}).utc_offset_h == -7.0
    for bad in ("PST", "20"):
        with pytest.raises(FireWeatherConfigError, match="EMBERWATCH_FWI_UTC_OFFSET_H"):
            settings_from_env({"EMBERWATCH_FWI_UTC_OFFSET_H": bad})


def test_fire_weather_line_protocol() -> None:
    event = Event("fire_weather", "ridge", "fwi", None, 1_681_387_200_000, {"fwi": 10.1, "nodes": 5})  # type: ignore[dict-item]
    # Points are written in microseconds (gateway/points.py time_us).
    assert event_to_line(event, 0) == "fire_weather,site=ridge,node=fwi fwi=10.1,nodes=5i 1681387200000000"


@pytest.mark.integration
def test_gateway_stores_the_daily_rating_in_influxdb(gateway_env, mosquitto_server, influx_server) -> None:
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    yesterday = int(time.time() * 1000) // DAY_MS - 1
    noon = _noon(yesterday)
    with running_gateway(gateway_env, processors=[FireWeatherProcessor()]):
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fwi-test")
        client.connect("127.0.0.1", mosquitto_server.port)
        client.loop_start()
        infos = [client.publish(schema.topic(site, f"n{i}", "heartbeat"), schema.encode_heartbeat(
            f"n{i}", 1, noon - 60_000 * i, 2900, 1700, 4200, -1800), qos=1) for i in range(3)]
        infos.append(client.publish(schema.topic(site, "ws1", "weather"), schema.encode_weather(
            "ws1", 1, noon, 694, 270, 0), qos=1))
        for info in infos:
            info.wait_for_publish(10)
        client.disconnect()
        client.loop_stop()

        def rows() -> list[dict]:
            try:
                return influxql(influx_server.port, 'SELECT * FROM "fire_weather"', db)
            except RuntimeError:
                return []
        wait_until(lambda: rows(), 20, "the fire_weather point")
    (row,) = rows()
    assert (row["site"], row["node"], row["time"]) == (site, "fwi", noon)
    month = time.gmtime(noon / 1000).tm_mon  # DMC and DC day lengths depend on it
    expected = next_day(STARTUP, DailyWeather(17.0, 42.0, 694 * 0.036, 0.0, month))
    assert row["fwi"] == pytest.approx(expected.fwi, abs=0.001) and row["ffmc"] == pytest.approx(expected.ffmc, abs=0.001)
