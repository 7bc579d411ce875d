"""The wake cycle when parts fail: dead or half-dead sensor, failing flash, unset or drifting clock.

Each test would fail on the firmware as first reviewed: a dead sensor silenced the heartbeat,
a flash failure aborted every wake, the first heartbeat was stamped 2000-01-01.
"""

from __future__ import annotations

from edge_node.core import schema
from edge_node.core.pipeline import default_pipeline
from edge_node.core.policy import EARLIEST_VALID_MS
from edge_node.wake import WakeCycle
from tests.edge_node import fakes

START_MS = 1780000000000
DAY_MS = 86400 * 1000


def _node(sensor, radio=None, clock=None, seq_store=None, boot_store=None, **config):
    cfg = fakes.make_config(**config)
    parts = {"clock": clock or fakes.FakeClock(START_MS), "store": fakes.MemoryStore(2048),
             "seq_store": seq_store or fakes.MemoryStore(0), "sensor": sensor, "boot_store": boot_store,
             "battery": fakes.FixedBattery(2550)}
    parts["radio"] = radio or fakes.FakeRadio()

    def wake(power_on: bool = False):
        return WakeCycle(cfg, default_pipeline(), parts["sensor"], parts["battery"], parts["radio"], parts["clock"],
                         parts["store"], parts["seq_store"], parts["boot_store"], power_on).run()
    return cfg, wake, parts


def _messages(radio) -> list[dict]:
    return [schema.decode(topic, payload) for topic, payload, _, _ in radio.published]


def _run(wake, clock, wakes: int, step_ms: int) -> list:
    reports = []
    for _ in range(wakes):
        reports.append(wake())
        clock.advance_ms(step_ms)
    return reports


def test_dead_sensor_still_beats_every_hour_with_the_fault_and_logs_once() -> None:
    cfg, wake, parts = _node(fakes.TraceSensor([None]), sample_interval_s=30, heartbeat_interval_s=3600)
    reports = _run(wake, parts["clock"], 2880, 30000)  # one day
    beats = [m for m in _messages(parts["radio"]) if m["k"] == "heartbeat"]
    assert len(beats) == 24
    assert all(b["flt"] == schema.FAULT_SENSOR_BUS and "temp_cc" not in b and b["bat_mv"] == 2550 for b in beats)
    assert sum(r.error_is_new for r in reports) == 1, "the same error must not be logged to flash every wake"


def test_invalid_gas_keeps_temperature_and_humidity_and_the_model_running() -> None:
    bad = set(range(100, 140))
    cfg, wake, parts = _node(fakes.GasFailingSensor(bad), sample_interval_s=60, heartbeat_interval_s=600)
    reports = _run(wake, parts["clock"], 200, 60000)
    beats = [m for m in _messages(parts["radio"]) if m["k"] == "heartbeat"]
    during = [b for b in beats if START_MS + 100 * 60000 <= b["t_ms"] < START_MS + 140 * 60000]
    assert during and all(b["flt"] == schema.FAULT_GAS and "gas_q8" not in b and "temp_cc" in b and "rh_cp" in b
                          for b in during)
    assert all(r.score >= 0 for r in reports[100:140]), "temperature and humidity still reach the model"
    assert beats[-1]["flt"] == 0 and "gas_q8" in beats[-1]


def test_failing_flash_for_the_seq_floor_is_survived_and_reported() -> None:
    flash = fakes.FailingStore()
    varied = [(2000 + i % 7, 5000 - i % 5, 101325, 150000 + 100 * (i % 3)) for i in range(50)]
    cfg, wake, parts = _node(fakes.TraceSensor(varied), seq_store=flash,
                             sample_interval_s=60, heartbeat_interval_s=600)
    _run(wake, parts["clock"], 60, 60000)
    beats = _messages(parts["radio"])
    assert len(beats) == 6, "every heartbeat still goes out"
    assert all(b["flt"] & schema.FAULT_STORAGE for b in beats)
    flash.failing = False
    _run(wake, parts["clock"], 20, 60000)
    later = _messages(parts["radio"])[6:]
    assert later and later[-1]["flt"] == 0 and int(flash.blob) > later[-1]["seq"]
    seqs = [m["seq"] for m in _messages(parts["radio"])]
    assert seqs == sorted(set(seqs))


def test_boot_counter_from_flash_rides_on_every_message() -> None:
    boots = fakes.MemoryStore(0)
    boots.blob = b"41"
    cfg, wake, parts = _node(fakes.TraceSensor([(2000, 5000, 101325, 150000)]), boot_store=boots,
                             sample_interval_s=60, heartbeat_interval_s=120)
    assert wake(power_on=True).boot == 42
    parts["clock"].advance_ms(60000)
    for _ in range(5):
        assert wake().boot == 42  # deep-sleep wakes keep it
        parts["clock"].advance_ms(60000)
    parts["store"].blob = None  # battery swap: RTC memory gone, flash keeps the count
    assert wake(power_on=True).boot == 43 and boots.blob == b"43"
    assert {m["boot"] for m in _messages(parts["radio"])} == {42, 43}


def test_battery_percent_follows_the_configured_chemistry() -> None:
    for chemistry, mv, pct in (("2xAA", 2550, 50), ("li-ion-18650", 3750, 50), ("li-ion-18650", 2550, 0)):
        cfg, wake, parts = _node(fakes.TraceSensor([(2000, 5000, 101325, 150000)]), battery=chemistry)
        parts["battery"].mv = mv
        wake()
        assert _messages(parts["radio"])[0]["bat_pct"] == pct


def test_no_message_before_the_clock_is_set_and_held_alerts_keep_their_true_time() -> None:
    """Power-on with the RTC at 2000-01-01 and NTP unreachable for an hour, during a fire."""
    true = fakes.FakeClock(START_MS)
    clock = fakes.FakeClock(946684800000)  # what an ESP32's RTC says after power-on
    radio = fakes.ClockRadio(clock, true.now_ms)
    radio.ntp_up = False
    rows = [(2000, 5000, 101325, 150000)] * 40 + [(2000 + 150 * k, 5000 - 100 * k, 101325, 150000 // (1 + k))
                                                  for k in range(30)]
    cfg, wake, parts = _node(fakes.TraceSensor(rows), radio=radio, clock=clock, sample_interval_s=60,
                             heartbeat_interval_s=600)
    reports = []
    for i in range(70):
        radio.ntp_up = i >= 60
        reports.append(wake())
        clock.advance_ms(60000)
        true.advance_ms(60000)
    msgs = _messages(radio)
    assert msgs and all(m["t_ms"] >= EARLIEST_VALID_MS for m in msgs), "a message was stamped before NTP"
    alerts = [m for m in msgs if m["k"] == "alert"]
    raised = [i for i, r in enumerate(reports) if r.alert and i < 60]
    assert raised and len(alerts) >= 1
    first = min(alerts, key=lambda m: m["t_ms"])
    assert abs(first["t_ms"] - (START_MS + raised[0] * 60000)) <= 1000, "held alert re-stamped on the true clock"
    assert reports[-1].held == 0


def test_clock_resyncs_every_few_hours_and_sooner_when_it_drifts() -> None:
    true = fakes.FakeClock(START_MS)
    clock = fakes.FakeClock(START_MS)
    radio = fakes.ClockRadio(clock, true.now_ms)
    cfg, wake, parts = _node(fakes.TraceSensor([(2000, 5000, 101325, 150000)]), radio=radio, clock=clock,
                             sample_interval_s=60, heartbeat_interval_s=3600, ntp_resync_s=6 * 3600)
    for _ in range(2 * 1440):  # two days, the RTC keeping time
        wake()
        clock.advance_ms(60000)
        true.advance_ms(60000)
    steady = radio.syncs
    assert 8 <= steady <= 10  # first boot + every 6 h, riding on heartbeat sessions
    for _ in range(2 * 1440):  # two more days, the RTC running 0.5 % fast (7 minutes a day)
        wake()
        clock.advance_ms(60300)
        true.advance_ms(60000)
    assert radio.syncs - steady >= 12, "a drifting clock must be resynced more often"
