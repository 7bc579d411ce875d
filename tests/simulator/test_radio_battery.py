"""LoRa channel (airtime, duty cycle, collisions, capture, range), battery ledger and sensor faults."""

import numpy as np
import pytest

from edge_node.core import schema
from simulator import radio
from simulator.battery_ledger import MESSAGE_PAYLOAD_BYTES, BatteryLedger
from simulator.energy import build_node, charge_per_message_mc, lora_time_on_air_s
from simulator.radio_config import RadioConfig
from simulator.scenario import ScenarioConfig, run_scenario
from simulator.sensors import (
    FAULT_DEAD_SENSOR,
    FAULT_NONE,
    FAULT_STUCK,
    FAULT_WET,
    SensorBank,
    SensorConfig,
)
from simulator.weather import WeatherState


class FixedBudget(radio.LinkBudget):
    """Received powers given outright: one gateway, each node at the power listed."""

    def __init__(self, rssi_dbm, config):
        self.table = np.array(rssi_dbm, dtype=float)[:, None]
        n = len(self.table)
        self.x_m, self.y_m, self.gx_m, self.gy_m = np.zeros(n), np.zeros(n), np.zeros(1), np.zeros(1)
        self.config, self.seed = config, 0
        self.near = np.zeros((n, 1), dtype=np.int64)
        self.near_rssi_dbm = self.table.copy()

    def rssi_dbm(self, node, gateway):
        return self.table[node, gateway]


def _channel(rssi_dbm, **settings):
    config = RadioConfig(**{"channels": 1, "tx_jitter_ms": 0, "preamble_grace_symbols": 0.0, **settings})
    return radio.LoRaChannel(FixedBudget(rssi_dbm, config), config, np.random.default_rng(0))


def _send(channel, t_ms, nodes):
    nodes = np.array(nodes)
    channel.send(np.full(len(nodes), t_ms, dtype=np.int64), nodes, [f"m{n}" for n in nodes])


def test_spreading_factor_follows_link_budget_and_airtime_matches_the_energy_model():
    ch = _channel([-100.0, -125.0, -131.0, -160.0])
    assert ch.sf.tolist() == [7, 10, 12, 12]
    expected_ms = round(lora_time_on_air_s(MESSAGE_PAYLOAD_BYTES + 13, 12) * 1000)  # binary frame + LoRaWAN
    assert ch.toa_ms[2] == expected_ms
    assert radio.path_loss_db(np.array([1000.0]))[0] < radio.path_loss_db(np.array([3000.0]))[0]


def test_overlap_on_same_sf_and_channel_loses_both_unless_one_is_6_db_stronger():
    equal = _channel([-110.0, -111.0])
    _send(equal, 0, [0, 1])
    assert equal.release(10_000) == []
    assert equal.stats()["lost_collision"] == 2
    capture = _channel([-100.0, -110.0])
    _send(capture, 0, [0, 1])
    assert [item for _, item in capture.release(10_000)] == ["m0"]
    apart = _channel([-110.0, -111.0])
    _send(apart, 0, [0])
    _send(apart, 5_000, [1])
    assert len(apart.release(10_000)) == 2


def test_duty_cycle_delays_the_next_frame_and_out_of_range_frames_are_lost():
    ch = _channel([-100.0, -150.0])
    toa = int(ch.toa_ms[0])
    _send(ch, 0, [0])
    _send(ch, 1_000, [0])  # must wait 99 x airtime after the first
    assert ch.queued(1_000)[0] == 1
    _send(ch, 0, [1])
    delivered = ch.release(10 ** 7)
    assert [t for t, _ in delivered] == [toa, toa + 99 * toa + toa]
    assert ch.stats()["lost_out_of_range"] == 1


def test_ledger_charges_what_the_energy_model_says():
    ledger = BatteryLedger(np.array([7, 12]), np.ones(2))
    start = ledger.remaining_mc.copy()
    ledger.tick(60.0, np.array([True, False]))
    ledger.messages(np.array([0, 1]))
    used = start - ledger.remaining_mc
    node = build_node("default")
    k = node.battery.rail_to_battery(node.supply_v)  # rail charge seen at the batteries (boost converter)
    msg_mc = [k * charge_per_message_mc(build_node("default", radio=f"lora-sf{sf}"), MESSAGE_PAYLOAD_BYTES)
              for sf in (7, 12)]
    sleep_mc = (ledger.sleep_ma + ledger.self_discharge_ma) * 60.0
    assert used == pytest.approx([sleep_mc + ledger.wake_mc + msg_mc[0], sleep_mc + msg_mc[1]])
    assert ledger.voltage_mv(np.array([0]))[0] <= 3000


def test_cold_weather_locks_charge_in_the_cells():
    ledger = BatteryLedger(np.array([9, 9]), np.array([1.0, 0.5]))
    ledger.weather(20.0)
    assert not ledger.empty().any()
    ledger.weather(-20.0)  # alkaline at -20 C delivers about a quarter of its charge (profiles.toml)
    assert ledger.empty().tolist() == [False, True]
    ledger.weather(5.0)
    assert not ledger.empty().any()


def test_dead_battery_takes_a_node_offline_with_a_retained_status():
    messages = []
    config = ScenarioConfig(n_nodes=4, days=0.5, ignitions=0, seed=2, dead_battery_per_node_month=200.0)
    result = run_scenario(config, publish=lambda t, p, r: messages.append((t, p, r)))
    assert result.dead_nodes and {reason for _, reason in result.dead_nodes.values()} == {"battery"}
    offline = [schema.decode(t, p)["node"] for t, p, r in messages
               if t.endswith("/status") and r and b'"offline"' in p]
    assert sorted(offline) == sorted(result.dead_nodes)


def test_stuck_dead_and_wet_sensors_read_as_real_ones_do():
    n = 4
    bank = SensorBank(np.random.default_rng(1), np.zeros(n),
                      np.array([FAULT_NONE, FAULT_STUCK, FAULT_DEAD_SENSOR, FAULT_WET]),
                      np.array([np.inf, 120.0, 120.0, 120.0]), 86400.0, SensorConfig(nuisances_per_node_month=0.0))
    weather = WeatherState(0.0, 20.0, 50.0, 2.0, 0.0, 0.0, 0.1, True)
    zeros = np.zeros(n)
    readings, missing = [], []
    for t in (0.0, 60.0, 120.0, 180.0, 240.0):
        readings.append(bank.read(t, 60.0, weather, zeros, zeros))
        missing.append(bank.no_reading.tolist())
    stuck = [tuple(int(r[k][1]) for k in range(3)) for r in readings[1:]]
    assert len(set(stuck)) == 1  # frozen from the fault on, to the count
    # a dead sensor does not answer: no reading from the fault on (the driver raises), nothing made up
    assert [m[2] for m in missing] == [False, False, True, True, True] and not any(m[0] for m in missing)
    assert all(-4000 < int(r[0][2]) < 8500 for r in readings)
    # water in the enclosure: humidity at the driver's clamp, gas resistance down to a few kilo-ohm
    assert [int(r[1][3]) for r in readings[2:]] == [10_000] * 3
    assert all(1_000 < int(r[2][3]) < 10_000 for r in readings[2:]) and int(readings[0][2][3]) > 10_000
    healthy_gas = [int(r[2][0]) for r in readings]
    assert len(set(healthy_gas)) > 1 and min(healthy_gas) > 1000


def test_a_dead_sensor_never_alerts_and_its_heartbeats_say_so():
    messages = []
    config = ScenarioConfig(n_nodes=9, days=0.5, ignitions=0, seed=4, dead_sensor_per_node_month=300.0,
                            stuck_per_node_month=0.0, radio=False)
    result = run_scenario(config, publish=lambda t, p, r: messages.append((t, p)))
    dead = {node for node, kind in result.fault_kinds.items() if kind == "dead_sensor"}
    assert len(dead) >= 5
    assert not [a for a in result.alert_records if a.node in dead and a.fault == "dead_sensor"]
    beats = [schema.decode(t, p) for t, p in messages if t.endswith("/heartbeat")]
    flagged = {b["node"] for b in beats if b["flt"] == schema.FAULT_SENSOR_BUS}
    assert flagged and flagged <= dead
    assert all("temp_cc" not in b for b in beats if b["flt"] == schema.FAULT_SENSOR_BUS)
