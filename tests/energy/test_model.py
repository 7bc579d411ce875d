"""The energy model: published reference figures, bookkeeping identities and monotonicity."""

import dataclasses
import json
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.energy import (
    COMPONENTS,
    ProfileError,
    battery_life_days,
    build_node,
    charge_per_inference_mc,
    charge_per_message_mc,
    charge_per_wake_mc,
    energy_per_day,
    life_for_node,
    load_catalog,
    lora_time_on_air_s,
    message_phases,
    sleep_current_ua,
)
from simulator.energy.profiles import parse_catalog
from simulator.energy.report import lora_duty_cycle, node_life

CATALOG = load_catalog()


def test_casals_2017_headline_one_year_at_one_message_per_5_minutes() -> None:
    # Casals et al. 2017: 2400 mAh, one LoRaWAN message every 5 min -> about 1 year.
    life = life_for_node("casals2017", policy="stream", interval_s=300)
    assert life.life_days == pytest.approx(365.25, rel=0.15)


def test_casals_2017_asymptote_about_six_years() -> None:
    # Infrequent traffic tends to the sleep-current limit (6 years in the paper).
    life = life_for_node("casals2017", policy="stream", interval_s=30 * 86_400)
    assert life.life_years == pytest.approx(6.0, rel=0.15)


def test_components_sum_to_total_and_follow_their_causes() -> None:
    node = build_node("default")
    policy = CATALOG.policy("alert-only")
    day = energy_per_day(node, policy, 60)
    assert set(day.charge_mc) == set(COMPONENTS)
    assert day.total_charge_mc == pytest.approx(sum(day.charge_mc.values()))
    per_wake = charge_per_wake_mc(node, runs_inference=True)
    k = node.battery.rail_to_battery(node.supply_v)  # 2xAA: boost converter, > 1
    assert k > 1.2
    assert day.charge_mc["compute"] == pytest.approx(k * 1440 * charge_per_inference_mc(node))
    assert day.charge_mc["sensor"] == pytest.approx(k * 1440 * per_wake["sensor"])
    assert day.messages_per_day == pytest.approx(24 + policy.alerts_per_day)
    assert day.charge_mc["radio"] == pytest.approx(k * day.messages_per_day * charge_per_message_mc(node, 10))
    sleep_s = 86_400 - day.awake_s_per_day
    divider_ua = node.battery.nominal_v / 200.0 * 1000  # the firmware's 100k/100k divider: 13 uA at 2.6 V
    assert day.charge_mc["sleep"] == pytest.approx(k * sleep_current_ua(node) / 1000 * sleep_s
                                                   + (divider_ua + node.battery.regulator_iq_ua) * 86.4)


def test_stream_sends_every_sample_and_skips_inference() -> None:
    day = energy_per_day(build_node("default"), CATALOG.policy("stream"), 120)
    assert day.messages_per_day == pytest.approx(720)
    assert day.charge_mc["compute"] == 0


def test_lora_message_is_tx_plus_two_empty_receive_windows() -> None:
    node = build_node("default", radio="sx1276-sf9")
    phases = {p.name: p for p in message_phases(node, 10)}
    assert phases["lora tx"].duration_s == pytest.approx(lora_time_on_air_s(23, 9))
    assert phases["lora tx"].current_ma == pytest.approx(44.0 + node.mcu.idle_ma)
    assert phases["rx2 window"].duration_s == pytest.approx(6 * 2 ** 12 / 125_000)
    waits = phases["wait rx1"].duration_s + phases["rx1 window"].duration_s + phases["wait rx2"].duration_s
    assert waits == pytest.approx(2.0)


def test_micropython_inference_costs_more_than_native_and_scales_with_macs() -> None:
    native = charge_per_inference_mc(build_node("default", runtime="native"))
    interpreted = charge_per_inference_mc(build_node("default", runtime="micropython"))
    assert interpreted > 100 * native
    double = charge_per_inference_mc(build_node("default", macs_per_inference=288))
    assert double == pytest.approx(2 * interpreted)


def test_radio_dominates_compute_for_one_alert_on_every_radio() -> None:
    for radio in ("lora-sf7", "lora-sf12", "sx1276-sf9", "wifi-mqtt", "ltem-psm", "nbiot-psm"):
        node = build_node("default", radio=radio)
        assert charge_per_message_mc(node, 10) > 10 * charge_per_inference_mc(node), radio


def test_self_discharge_and_cut_off_shorten_life() -> None:
    battery = CATALOG.battery("2xAA")
    ideal = dataclasses.replace(battery, usable_fraction=1.0, self_discharge_per_year=0.0)
    assert battery_life_days(ideal, 1.0) == pytest.approx(2850.0)
    assert battery_life_days(battery, 1.0) < battery_life_days(ideal, 1.0)
    assert battery_life_days(ideal, 0.0) == math.inf
    assert battery_life_days(battery, 0.0) == pytest.approx(0.75 / 0.02 * 365.25)


def test_duty_cycle_only_for_lora() -> None:
    policy = CATALOG.policy("stream")
    assert lora_duty_cycle(build_node("default", radio="lora-sf12"), policy, 60) > 0.01
    assert lora_duty_cycle(build_node("default", radio="lora-sf7"), policy, 60) < 0.01
    assert lora_duty_cycle(build_node("default", radio="wifi-mqtt"), policy, 60) is None


@pytest.mark.parametrize("kwargs, match", [
    ({"mcu": "esp33"}, "valid mcu names: .*esp32"),
    ({"radio": "lora-sf13"}, "valid radio names: .*lora-sf12"),
    ({"battery": "AA"}, "valid battery names: .*2xAA"),
    ({"runtime": "cpython"}, "valid runtime names: micropython, native"),
    ({"mcu": "nrf52840", "radio": "wifi-mqtt"}, "needs mcu esp32"),
])
def test_unknown_or_incompatible_names_are_clear_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(ProfileError, match=match):
        build_node("default", **kwargs)


def test_interval_too_short_to_fit_the_duty_cycle_is_rejected() -> None:
    with pytest.raises(ValueError, match="awake"):
        energy_per_day(build_node("default", radio="lora-sf12"), CATALOG.policy("stream"), 2.0)


def test_bad_profile_file_reports_every_problem_at_once() -> None:
    data = {"supply_v": 3.3,
            "mcu": {"x": {"sleep_ua": -1, "active_ma": "fast", "idle_ma": 0, "boot_s": 0.1, "boot_mc": 1,
                          "nj_per_mac": 1, "micropython_us_per_mac": 1}},
            "battery": {"b": {"capacity_mah": 100, "usable_fraction": 1.5, "self_discharge_per_year": 0}},
            "node": {"n": {"mcu": "x", "sensor": "missing", "radio": "r", "battery": "b",
                           "runtime": "micropython", "macs_per_inference": 1}}}
    with pytest.raises(ProfileError) as err:
        parse_catalog(data)
    message = str(err.value)
    for fragment in ("sleep_ua must be >= 0", "active_ma must be a number", "usable_fraction must be > 0 and <= 1.0",
                     "unknown sensor 'missing'", "unknown radio 'r'"):
        assert fragment in message


def test_every_number_in_the_data_file_carries_a_source_comment() -> None:
    from importlib import resources

    text = resources.files("simulator.energy").joinpath("profiles.toml").read_text()
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        value = stripped.split("=", 1)[1].strip() if "=" in stripped and not stripped.startswith("#") else ""
        if re.match(r"\[?\s*[-0-9.]", value):
            assert "#" in stripped, f"profiles.toml line {number} has no source comment: {line}"


intervals = st.floats(min_value=30.0, max_value=86_400.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(a=intervals, b=intervals, policy=st.sampled_from(["stream", "alert-only"]),
              radio=st.sampled_from(["lora-sf7", "lora-sf10", "sx1276-sf9", "wifi-mqtt", "ble-adv", "ltem-psm"]))
def test_life_never_shrinks_when_sampling_less_often(a: float, b: float, policy: str, radio: str) -> None:
    short, long = sorted((a, b))
    node = build_node("default", radio=radio, mcu="nrf52840" if radio == "ble-adv" else "esp32")
    p = CATALOG.policy(policy)
    assert node_life(node, p, long).life_days >= node_life(node, p, short).life_days * (1 - 1e-12)


@settings(max_examples=60, deadline=None)
@given(small=st.floats(min_value=50.0, max_value=20_000.0), factor=st.floats(min_value=1.0, max_value=10.0),
       interval=intervals, policy=st.sampled_from(["stream", "alert-only"]))
def test_life_grows_with_capacity(small: float, factor: float, interval: float, policy: str) -> None:
    node = build_node("default")
    day = energy_per_day(node, CATALOG.policy(policy), interval)
    little = dataclasses.replace(node.battery, capacity_mah=small)
    big = dataclasses.replace(node.battery, capacity_mah=small * factor)
    assert battery_life_days(big, day.total_mah) >= battery_life_days(little, day.total_mah) * (1 - 1e-12)


def test_cold_derates_capacity_per_chemistry_and_the_cli_applies_it(capsys) -> None:
    from emberwatch.cli import main

    aa, li = CATALOG.battery("2xAA"), CATALOG.battery("li-socl2-aa")
    assert aa.capacity_fraction_at(25) == 1.0 and aa.capacity_fraction_at(0) == pytest.approx(0.65)
    assert aa.capacity_fraction_at(-5) == pytest.approx(0.55)  # between the -10 and 0 C points
    assert li.capacity_fraction_at(-20) > aa.capacity_fraction_at(-20)  # lithium thionyl chloride keeps going
    warm, cold = [], []
    for temp, out in ((None, warm), ("0", cold)):
        assert main(["battery", "--interval", "30", "--format", "json"] + (["--temp-c", temp] if temp else [])) == 0
        out.append(json.loads(capsys.readouterr().out))
    life = {p["policy"]: p["life_days"] for p in warm[0]["policies"]}
    cold_life = {p["policy"]: p["life_days"] for p in cold[0]["policies"]}
    assert cold_life["alert-only"] == pytest.approx(0.65 * life["alert-only"], rel=0.01)


def test_shipped_firmware_pays_its_boost_converter_divider_and_awake_heater_wait() -> None:
    node = build_node("default")
    assert (node.mcu.name, node.radio.name, node.battery.regulator, node.sensor_wait) == (
        "esp32", "wifi-mqtt-dhcp", "boost", "cpu-idle")
    light = energy_per_day(build_node("default"), CATALOG.policy("alert-only"), 30)
    assert node.battery.rail_to_battery(node.supply_v) == pytest.approx(3.3 / (2.6 * 0.85))
    # the divider alone: 2.6 V / 200 kOhm = 13 uA, all day, more than the ESP32's deep sleep
    assert light.charge_mc["sleep"] > 13.0 * 86.4
    dhcp = energy_per_day(node, CATALOG.policy("alert-only"), 30).charge_mc["radio"]
    static = energy_per_day(build_node("default", radio="wifi-mqtt"), CATALOG.policy("alert-only"), 30).charge_mc["radio"]
    assert dhcp > 1.8 * static
