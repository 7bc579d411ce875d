"""The LoRaWAN node as the firmware runs it (RAK3172 + RUI3, edge_node/lorawan_radio.py): receive
windows by SF, the confirmed alert with its ACK, retransmissions, the OTAA join, each pinned to
values computed by hand from AN1200.13, LoRaWAN 1.0.x and the profile's datasheet currents."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.energy import (
    alert_phases,
    build_node,
    downlink_time_on_air_s,
    energy_per_day,
    expected_failed_attempts,
    join_charge_per_battery_mc,
    join_phases,
    load_catalog,
    lora_rx_window_s,
    lora_time_on_air_s,
    message_phases,
    total_charge_mc,
)
from simulator.energy.battery import self_discharge_mah_per_day, usable_capacity_mah
from simulator.energy.phases import MC_PER_MAH
from simulator.energy.report import node_life

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = load_catalog().lorawan

# Hand values. T_sym = 2^SF / 125 kHz. RAK3172: TX 87 mA, RX 5.22 mA, sleep 1.69 uA, UART exchange
# 5 mA for 20 ms, TX_DONE print 5 mA for 5 ms. ESP32: active 50 mA, awake in sleep_ms 27 mA.
WAIT_MA = 27.0 + 0.00169          # ESP32 polling the UART + the module asleep
TX_SF9_S = 0.205824               # 24-byte PHY frame (11 + 13), SF9, CRC: 50.25 symbols x 4.096 ms
ACK_SF9_S = 0.144384              # 12-byte downlink, no CRC: 8 + ceil(88 / 36) x 5 = 23 + 12.25 = 35.25 symbols
JOIN_ACCEPT_SF9_S = 0.246784      # 33 bytes, no CRC: 8 + ceil(256 / 36) x 5 = 48 + 12.25 = 60.25 symbols
PREPARE_MC = (5.0 + 50.0) * 0.020
TX_MC = (87.0 + 27.0) * TX_SF9_S
OFF_MC = (5.0 + 27.0) * 0.005
LISTEN_MC = WAIT_MA * 0.2


@pytest.mark.parametrize("sf, symbols", [(7, 24), (8, 14), (9, 9), (10, 7), (11, 6), (12, 6)])
def test_an_empty_receive_window_lasts_what_loramac_node_opens_by_sf(sf: int, symbols: int) -> None:
    # max(ceil((4 T_sym + 20 ms) / T_sym), 6): e.g. SF9 ceil(36384 / 4096) = 9
    assert lora_rx_window_s(sf) == pytest.approx(symbols * 2 ** sf / 125_000, abs=1e-12)


def test_downlinks_have_no_crc_and_the_frames_have_their_lorawan_sizes() -> None:
    assert downlink_time_on_air_s(SETTINGS.ack_frame_bytes, 9, SETTINGS) == pytest.approx(ACK_SF9_S, abs=1e-9)
    assert downlink_time_on_air_s(SETTINGS.join_accept_bytes, 9, SETTINGS) == pytest.approx(JOIN_ACCEPT_SF9_S,
                                                                                            abs=1e-9)
    assert lora_time_on_air_s(SETTINGS.join_request_bytes, 9) == pytest.approx(0.205824, abs=1e-9)
    assert downlink_time_on_air_s(13, 9, SETTINGS) < lora_time_on_air_s(13, 9)  # 3 blocks instead of 4: no CRC


def test_expected_failed_attempts_from_the_packet_error_rate() -> None:
    assert expected_failed_attempts(0.0, 2) == (0.0, 1.0)
    failed, acked = expected_failed_attempts(0.1, 2)  # 0.1 + 0.1 x 0.1 fail; acked 1 - 0.01
    assert failed == pytest.approx(0.11) and acked == pytest.approx(0.99)
    failed, acked = expected_failed_attempts(0.5, 2)
    assert failed == pytest.approx(0.75) and acked == pytest.approx(0.75)
    with pytest.raises(ValueError, match="packet error rate"):
        expected_failed_attempts(1.0, 2)


def test_a_confirmed_alert_is_tx_rx1_with_the_ack_and_no_rx2() -> None:
    node = build_node("lorawan-rak3172")
    phases = {p.name: p for p in alert_phases(node, 11)}
    assert list(phases) == ["radio prepare", "lora tx (confirmed)", "wait rx1", "rx1 ack", "radio off",
                            "host listens for downlinks"]
    assert phases["wait rx1"].duration_s == 1.0
    assert phases["rx1 ack"].duration_s == pytest.approx(ACK_SF9_S)
    expected = PREPARE_MC + TX_MC + WAIT_MA * 1.0 + (5.22 + 27.0) * ACK_SF9_S + OFF_MC + LISTEN_MC
    assert total_charge_mc(alert_phases(node, 11)) == pytest.approx(expected, abs=1e-9)  # 61.778 mC


def test_an_unconfirmed_heartbeat_listens_in_both_windows() -> None:
    node = build_node("lorawan-rak3172")
    rx1_s, rx2_s = 9 * 0.004096, 6 * 0.032768
    expected = (PREPARE_MC + TX_MC + WAIT_MA * 1.0 + (5.22 + 27.0) * rx1_s + WAIT_MA * (1.0 - rx1_s)
                + (5.22 + 27.0) * rx2_s + OFF_MC + LISTEN_MC)
    assert total_charge_mc(message_phases(node, 11)) == pytest.approx(expected, abs=1e-9)  # 90.655 mC


def test_each_unacked_attempt_costs_a_whole_exchange_with_two_empty_windows() -> None:
    clean = total_charge_mc(alert_phases(build_node("lorawan-rak3172"), 11))
    heartbeat = total_charge_mc(message_phases(build_node("lorawan-rak3172"), 11))
    one = total_charge_mc(alert_phases(build_node("lorawan-rak3172", retransmissions=1.0), 11))
    assert one - clean == pytest.approx(heartbeat - LISTEN_MC, abs=1e-9)  # the firmware listens once, at the end
    cat = load_catalog()
    lossy = dataclasses.replace(cat, lorawan=dataclasses.replace(cat.lorawan, packet_error_rate=0.5))
    per = total_charge_mc(alert_phases(build_node("lorawan-rak3172", catalog=lossy), 11))
    acked_part = clean - LISTEN_MC
    assert per == pytest.approx(0.75 * acked_part + 0.75 * (heartbeat - LISTEN_MC) + LISTEN_MC, abs=1e-9)


def test_the_otaa_join_waits_5_s_and_receives_the_join_accept_in_rx1() -> None:
    node = build_node("lorawan-rak3172")
    expected = PREPARE_MC + TX_MC + WAIT_MA * 5.0 + (5.22 + 27.0) * JOIN_ACCEPT_SF9_S + OFF_MC
    assert total_charge_mc(join_phases(node)) == pytest.approx(expected, abs=1e-9)  # 167.684 mC
    cat = load_catalog()
    twice = dataclasses.replace(cat, lorawan=dataclasses.replace(cat.lorawan, join_attempts=2.0))
    rx1_s, rx2_s = 9 * 0.004096, 6 * 0.032768
    failed = (PREPARE_MC + TX_MC + WAIT_MA * 5.0 + (5.22 + 27.0) * rx1_s + WAIT_MA * (1.0 - rx1_s)
              + (5.22 + 27.0) * rx2_s + WAIT_MA * 4.0 + OFF_MC)  # next request 10 s after the first
    assert total_charge_mc(join_phases(build_node("lorawan-rak3172", catalog=twice))) == pytest.approx(
        expected + failed, abs=1e-9)
    assert join_phases(build_node("lorawan")) == []  # the comparison node does not count a join


def test_a_day_pays_confirmed_alerts_and_unconfirmed_heartbeats_and_the_battery_pays_the_join_once() -> None:
    node = build_node("lorawan-rak3172")
    policy = load_catalog().policy("alert-only")  # 24 heartbeats, 1 alert
    day = energy_per_day(node, policy, 30)
    k = node.battery.rail_to_battery(node.supply_v)
    radio = k * (24 * total_charge_mc(message_phases(node, 11)) + total_charge_mc(alert_phases(node, 11)))
    assert day.charge_mc["radio"] == pytest.approx(radio, rel=1e-12)
    join_mah = k * total_charge_mc(join_phases(node)) / MC_PER_MAH
    assert join_charge_per_battery_mc(node) / MC_PER_MAH == pytest.approx(join_mah)
    life = node_life(node, policy, 30)
    drain = day.total_mah + self_discharge_mah_per_day(node.battery)
    assert life.life_days == pytest.approx((usable_capacity_mah(node.battery) - join_mah) / drain, rel=1e-12)


def test_the_comparison_node_without_confirmed_alerts_pays_an_alert_like_a_heartbeat() -> None:
    node = build_node("lorawan")
    assert total_charge_mc(alert_phases(node, 11)) == total_charge_mc(message_phases(node, 11))


def _battery(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emberwatch.cli", "battery", "--node", "lorawan-rak3172", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_command_prints_the_join_and_takes_the_link_quality() -> None:
    clean = _battery("--interval", "30")
    assert clean.returncode == 0, clean.stderr
    assert "OTAA join, once per battery: 250.4 mC" in clean.stdout  # 167.684 mC through the boost (x 1.4932)
    assert "one alert over rak3172-sf9: 203.87 mJ (confirmed; a heartbeat, unconfirmed: 299.16 mJ)" in clean.stdout
    lossy = _battery("--interval", "30", "--per", "0.5")
    assert "one alert over rak3172-sf9: 368.36 mJ" in lossy.stdout  # 0.75 x acked + 0.75 x unacked + listen
    bad = _battery("--per", "1.5", "--retransmissions", "-1", "--join-attempts", "0")
    assert bad.returncode == 2
    assert "--per must be in 0..0.99" in bad.stderr and "--retransmissions must be >= 0" in bad.stderr
    assert "--join-attempts must be >= 1" in bad.stderr
