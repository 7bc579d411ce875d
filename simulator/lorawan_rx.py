"""What the gateways heard of a simulated frame, in ChirpStack v4's `rxInfo`/`txInfo` terms.

The radio model (simulator/radio.py) knows each node's received power at its nearest gateways
(path loss + fixed shadowing) and its spreading factor. A gateway "heard" the frame when that power
is at or above the receiver sensitivity for the SF. SNR is the power over the receiver's noise
floor, -174 dBm/Hz + 10 log10(BW) + a 6 dB noise figure (Semtech AN1200.22, "LoRa Modulation
Basics": the SX127x sensitivity table follows from it), clipped at +13.5 dB where gateway
demodulators stop reporting higher (assumed). Collisions at one gateway but not another are not
told apart: a frame the model delivered lists every gateway in range.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.radio import sensitivity_dbm

NOISE_FIGURE_DB = 6.0
SNR_REPORTED_MAX_DB = 13.5
EU868_CHANNELS_HZ = (868_100_000, 868_300_000, 868_500_000)  # the three EU868 default channels


def gateway_eui(index: int) -> str:
    """A stable 8-byte gateway id per simulated gateway."""
    return "00800000e3b0%04x" % index


def snr_db(rssi_dbm: float, bw_hz: float) -> float:
    noise_dbm = -174.0 + 10 * math.log10(bw_hz) + NOISE_FIGURE_DB
    return min(rssi_dbm - noise_dbm, SNR_REPORTED_MAX_DB)


def rx_metadata(link, node: int) -> tuple[int, list[dict]]:
    """(spreading factor, rxInfo list strongest first) for a frame `node` sent over `link`
    (a simulator.radio.LoRaChannel)."""
    budget, config = link.budget, link.config
    sf = int(link.sf[node])
    floor = float(sensitivity_dbm(np.array([sf]), config.bw_hz)[0])
    pairs = sorted(zip(budget.near_rssi_dbm[node].tolist(), budget.near[node].tolist()), reverse=True)
    return sf, [{"gatewayId": gateway_eui(gateway), "rssi": round(rssi), "snr": round(snr_db(rssi, config.bw_hz), 1),
                 "metadata": {"region_common_name": "EU868", "region_name": "eu868"}}
                for rssi, gateway in pairs if rssi >= floor]


def tx_info(sf: int, bw_hz: int, frequency_hz: int) -> dict:
    return {"frequency": frequency_hz,
            "modulation": {"lora": {"bandwidth": bw_hz, "spreadingFactor": sf, "codeRate": "CR_4_5"}}}
