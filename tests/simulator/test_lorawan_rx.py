"""Simulated ChirpStack `up` events carry what the radio model says the gateways heard: rxInfo
(RSSI, SNR per gateway in range) and txInfo (spreading factor), read back by the gateway's parser."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gateway.lorawan.uplinks import parse_chirpstack
from simulator import radio
from simulator.lorawan_rx import gateway_eui, rx_metadata, snr_db
from simulator.radio_config import RadioConfig

ROOT = Path(__file__).resolve().parents[2]
NOISE_125K_DBM = -174.0 + 10 * math.log10(125_000) + 6.0  # -117.03 dBm


def test_snr_is_power_over_the_noise_floor_capped_where_demodulators_stop_reporting() -> None:
    assert snr_db(-120.0, 125_000) == pytest.approx(-120.0 - NOISE_125K_DBM)  # -2.97 dB
    assert snr_db(-130.0, 125_000) == pytest.approx(-12.97, abs=0.01)
    assert snr_db(-60.0, 125_000) == 13.5


def test_rx_metadata_lists_the_gateways_in_range_from_the_link_budget() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.uniform(0, 20_000, 400), rng.uniform(0, 20_000, 400)
    config = RadioConfig(near_gateways=3, sf=9)
    gx, gy = radio.gateway_positions(x, y, 4000.0)

    class Link:  # what LoRaChannel exposes, with the budget built by the radio model itself
        budget = radio.LinkBudget(x, y, gx, gy, config, seed=11)
        sf = np.full(400, 9)

    Link.config = config  # type: ignore[attr-defined]
    floor = radio.SENSITIVITY_125K_DBM[9]
    seen_several = False
    for node in range(400):
        sf, rx = rx_metadata(Link, node)
        powers = Link.budget.near_rssi_dbm[node]
        audible = [(g, p) for g, p in zip(Link.budget.near[node].tolist(), powers.tolist()) if p >= floor]
        assert sf == 9
        assert sorted(r["gatewayId"] for r in rx) == sorted(gateway_eui(g) for g, _ in audible)
        assert [r["rssi"] for r in rx] == sorted((round(p) for _, p in audible), reverse=True)
        assert all(r["snr"] == round(min(p - NOISE_125K_DBM, 13.5), 1)
                   for r, (_, p) in zip(rx, sorted(audible, key=lambda a: -a[1])))
        seen_several |= len(rx) > 1
    assert seen_several  # dense enough that some frames reach two or three gateways


def test_simulated_chirpstack_events_carry_rx_and_tx_info_the_gateway_reads(tmp_path: Path) -> None:
    events = tmp_path / "uplinks.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "emberwatch.cli", "simulate", "--nodes", "25", "--days", "0.2", "--ignitions", "0",
         "--seed", "3", "--site", "s1", "--quiet", "--radio", "sf=adr", "--lorawan", "chirpstack",
         "--event-log", str(events)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert len(lines) > 50
    by_device: dict[str, set] = {}
    for line in lines:
        event = json.loads(line["payload"])
        sf = event["txInfo"]["modulation"]["lora"]["spreadingFactor"]
        assert event["dr"] == 12 - sf and event["rxInfo"], event
        for rx in event["rxInfo"]:
            assert rx["rssi"] >= radio.SENSITIVITY_125K_DBM[sf] - 0.5
            assert abs(rx["snr"] - min(rx["rssi"] - NOISE_125K_DBM, 13.5)) <= 0.6
        # fixed shadowing: a node's received power at a gateway is the same for every frame
        by_device.setdefault(event["deviceInfo"]["devEui"], set()).add(
            tuple((rx["gatewayId"], rx["rssi"]) for rx in event["rxInfo"]))
        uplink = parse_chirpstack(line["topic"], line["payload"].encode())
        best = max(event["rxInfo"], key=lambda rx: rx["rssi"])
        assert (uplink.rssi_dbm, uplink.snr_db10, uplink.sf, uplink.gateways) == (
            best["rssi"], round(best["snr"] * 10), sf, len(event["rxInfo"]))
    assert all(len(seen) == 1 for seen in by_device.values())
