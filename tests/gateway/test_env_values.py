"""Numbers from the environment: one reader for the gateway, incident, LoRaWAN and fire-weather settings."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from gateway.config import ConfigError, GatewayConfig
from gateway.env_values import env_int, env_number
from gateway.fire_weather import FireWeatherConfigError
from gateway.fire_weather import settings_from_env as fire_weather_settings
from gateway.incidents.settings import IncidentSettings
from gateway.lorawan.settings import lorawan_from_env


def test_unset_or_blank_is_the_default_and_a_good_value_is_read() -> None:
    problems: list[str] = []
    assert env_int({}, "X", 7, 0, 10, problems) == 7
    assert env_int({"X": " "}, "X", 7, 0, 10, problems) == 7
    assert env_int({"X": "10"}, "X", 7, 0, 10, problems) == 10
    assert env_number({}, "Y", None, 0.0, 1.0, problems) is None
    assert env_number({"Y": "0.25"}, "Y", None, 0.0, 1.0, problems) == 0.25
    assert problems == []


@pytest.mark.parametrize(("number", "text", "problem"), [
    (False, "lots", "X='lots' is not an integer (allowed: 10..20000)"),
    (False, "2.5", "X='2.5' is not an integer (allowed: 10..20000)"),
    (False, "²", "X='²' is not an integer (allowed: 10..20000)"),
    (False, "9", "X=9 must be between 10 and 20000"),
    (False, "20001", "X=20001 must be between 10 and 20000"),
    (True, "far", "X='far' is not a number (allowed: 10..20000)"),
    (True, "9.5", "X=9.5 must be between 10 and 20000"),
    (True, "nan", "X=nan must be between 10 and 20000"),
    (True, "inf", "X=inf must be between 10 and 20000"),
])
def test_a_bad_value_is_one_problem_naming_variable_value_and_range(number: bool, text: str, problem: str) -> None:
    problems: list[str] = []
    if number:
        assert env_number({"X": text}, "X", 300.0, 10.0, 20_000.0, problems) == 300.0
    else:
        assert env_int({"X": text}, "X", 300, 10, 20_000, problems) == 300
    assert problems == [problem]


def test_incident_settings_report_every_bad_number_at_once() -> None:
    with pytest.raises(ConfigError) as err:
        IncidentSettings.from_env({"EMBERWATCH_INCIDENT_NEAR_M": "5", "EMBERWATCH_INCIDENT_QUIET_S": "soon",
                                   "EMBERWATCH_INCIDENT_SUSPECT_WINDOW_S": "1e9"})
    assert err.value.problems == [
        "EMBERWATCH_INCIDENT_NEAR_M=5 must be between 10 and 20000",
        "EMBERWATCH_INCIDENT_QUIET_S='soon' is not a number (allowed: 60..604800)",
        "EMBERWATCH_INCIDENT_SUSPECT_WINDOW_S=1e9 must be between 60 and 86400"]
    settings = IncidentSettings.from_env({"EMBERWATCH_INCIDENT_QUIET_S": "600", "EMBERWATCH_INCIDENT_NEAR_M": ""})
    assert (settings.quiet_ms, settings.suspect_window_ms, settings.near_m) == (600_000, 1_800_000, None)


def _ttn_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    registry = tmp_path / "devices.json"
    registry.write_text('{"devices": []}')
    return {"EMBERWATCH_INFLUX_URL": "http://127.0.0.1:8086", "EMBERWATCH_LORAWAN_SERVER": "ttn",
            "EMBERWATCH_LORAWAN_REGISTRY": str(registry), "EMBERWATCH_LORAWAN_APPLICATION": "forest@ttn", **extra}


def test_lorawan_backfill_is_read_and_checked_with_the_rest_of_the_gateway(tmp_path: Path) -> None:
    problems: list[str] = []
    settings = lorawan_from_env(_ttn_env(tmp_path, EMBERWATCH_TTN_BACKFILL_S="600"), problems)
    assert settings is not None and settings.backfill_s == 600 and problems == []
    settings = lorawan_from_env(_ttn_env(tmp_path), problems)
    assert settings is not None and settings.backfill_s == 3600
    # "²" passed str.isdigit() and then crashed int() before.
    for bad in ("²", "-1", "2592001"):
        with pytest.raises(ConfigError) as err:
            GatewayConfig.from_env(_ttn_env(tmp_path, EMBERWATCH_TTN_BACKFILL_S=bad, EMBERWATCH_BATCH_SIZE="0"))
        assert len(err.value.problems) == 2 and "EMBERWATCH_BATCH_SIZE=0" in err.value.problems[0]
        assert err.value.problems[1].startswith("EMBERWATCH_TTN_BACKFILL_S=") and "2592000" in err.value.problems[1]


def test_fire_weather_offset_names_the_variable_value_and_range() -> None:
    assert fire_weather_settings({}).utc_offset_h == 0.0
    assert math.isclose(fire_weather_settings({"EMBERWATCH_FWI_UTC_OFFSET_H": "5.5"}).utc_offset_h, 5.5)
    with pytest.raises(FireWeatherConfigError) as err:
        fire_weather_settings({"EMBERWATCH_FWI_UTC_OFFSET_H": "PST"})
    assert str(err.value) == "EMBERWATCH_FWI_UTC_OFFSET_H='PST' is not a number (allowed: -12..14) (hours from UTC, e.g. -7)"
