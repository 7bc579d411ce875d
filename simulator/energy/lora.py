"""LoRa time on air (Semtech AN1200.13) and a LoRaWAN class A uplink as phases.

The time-on-air formula is the one in Semtech's "LoRa Modem Designer's Guide"
(AN1200.13) and the SX127x/SX126x datasheets:

    T_sym      = 2^SF / BW
    T_preamble = (n_preamble + 4.25) * T_sym
    n_payload  = 8 + max(ceil((8 PL - 4 SF + 28 + 16 CRC - 20 IH) / (4 (SF - 2 DE))) * (CR + 4), 0)

with IH = 1 for an implicit header, DE = 1 when low-data-rate optimisation is on
and CR = 1..4 for coding rates 4/5..4/8.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulator.energy.phases import Phase

# LoRaWAN mandates low-data-rate optimisation when a symbol lasts 16 ms or more
# (SF11 and SF12 at 125 kHz).
LOW_DATA_RATE_SYMBOL_S = 0.016


def lora_symbol_time_s(sf: int, bw_hz: float = 125_000) -> float:
    _check_sf_bw(sf, bw_hz)
    return (2 ** sf) / bw_hz


def lora_time_on_air_s(
    payload_bytes: int,
    sf: int,
    bw_hz: float = 125_000,
    coding_rate: int = 1,
    preamble_symbols: int = 8,
    explicit_header: bool = True,
    crc: bool = True,
    low_data_rate_opt: bool | None = None,
) -> float:
    """Seconds a LoRa frame of `payload_bytes` (PHY payload) spends on air.

    `low_data_rate_opt=None` switches it on automatically when the symbol time
    is >= 16 ms, as LoRaWAN radios do.
    """
    _check_sf_bw(sf, bw_hz)
    if not 0 <= payload_bytes <= 255:
        raise ValueError(f"LoRa payload must be 0..255 bytes, got {payload_bytes}")
    if coding_rate not in (1, 2, 3, 4):
        raise ValueError(f"coding_rate must be 1..4 (4/5..4/8), got {coding_rate}")
    if preamble_symbols < 0:
        raise ValueError(f"preamble_symbols must be >= 0, got {preamble_symbols}")
    t_sym = lora_symbol_time_s(sf, bw_hz)
    if low_data_rate_opt is None:
        low_data_rate_opt = t_sym >= LOW_DATA_RATE_SYMBOL_S
    de = 1 if low_data_rate_opt else 0
    ih = 0 if explicit_header else 1
    numerator = 8 * payload_bytes - 4 * sf + 28 + 16 * int(crc) - 20 * ih
    blocks = math.ceil(numerator / (4 * (sf - 2 * de)))
    payload_symbols = 8 + max(blocks * (coding_rate + 4), 0)
    preamble_s = (preamble_symbols + 4.25) * t_sym
    return preamble_s + payload_symbols * t_sym


def lora_rx_window_s(sf: int, bw_hz: float = 125_000, min_rx_symbols: int = 6, rx_error_ms: float = 10.0) -> float:
    """How long a class A receive window listens when no preamble comes, by SF.

    LoRaWAN 1.0.x only requires a window long enough to detect a downlink preamble; the length
    comes from the stack. Semtech LoRaMac-node (RegionCommonComputeRxWindowParameters) opens
    max(ceil(((2 min_rx - 8) T_sym + 2 rx_error) / T_sym), min_rx) symbols, so the window
    covers the timing error at fast SFs and min_rx symbols at slow ones: 24 symbols at SF7,
    9 at SF9, 6 at SF11-12 with 6 symbols and 10 ms.
    """
    t_sym = lora_symbol_time_s(sf, bw_hz)
    t_sym_us = round(t_sym * 1e6)
    symbols = max(math.ceil(((2 * min_rx_symbols - 8) * t_sym_us + 2 * rx_error_ms * 1000) / t_sym_us),
                  min_rx_symbols)
    return symbols * t_sym


def _check_sf_bw(sf: int, bw_hz: float) -> None:
    if sf not in range(6, 13):
        raise ValueError(f"spreading factor must be 6..12, got {sf}")
    if bw_hz <= 0:
        raise ValueError(f"bandwidth must be > 0 Hz, got {bw_hz}")


@dataclass(frozen=True, slots=True)
class LoraChip:
    """Transceiver currents. `wait_ma` is what the radio board draws between
    the class A windows (a bare chip sleeps; a measured module may not)."""

    name: str
    tx_ma: float
    rx_ma: float
    wait_ma: float
    sleep_ua: float
    prepare_ma: float = 0.0
    prepare_s: float = 0.0
    off_ma: float = 0.0
    off_s: float = 0.0
    prepare_mcu: str = "wait"     # MCU state while configuring the radio: "wait" or "active"


@dataclass(frozen=True, slots=True)
class LorawanSettings:
    """Regional/MAC parameters of a class A uplink (EU868 defaults in the profiles)."""

    overhead_bytes: int = 13          # MHDR + FHDR (7) + FPort + MIC: 1 + 7 + 1 + 4
    bw_hz: float = 125_000
    coding_rate: int = 1
    preamble_symbols: int = 8
    rx1_delay_s: float = 1.0
    rx2_delay_s: float = 2.0
    min_rx_symbols: int = 6           # preamble symbols the receiver needs to lock (Semtech LoRaMac-node)
    rx_error_ms: float = 10.0         # worst timing error each side of a window (LoRaMac-node SystemMaxRxError)
    rx2_sf: int = 12
    # Confirmed uplinks, join and retries (LoRaWAN 1.0.x; see simulator/energy/lorawan_exchanges.py)
    join_accept_delay1_s: float = 5.0
    join_request_bytes: int = 23      # MHDR 1 + AppEUI 8 + DevEUI 8 + DevNonce 2 + MIC 4
    join_accept_bytes: int = 33       # MHDR 1 + AppNonce 3 + NetID 3 + DevAddr 4 + DLSettings 1 + RxDelay 1 + CFList 16 + MIC 4
    ack_frame_bytes: int = 12         # an empty downlink with the ACK bit: MHDR 1 + FHDR 7 + MIC 4, no FPort
    confirmed_max_attempts: int = 2   # sends of one confirmed uplink before the message waits for the next wake
    packet_error_rate: float = 0.0    # share of confirmed attempts whose uplink or ACK is lost
    join_attempts: float = 1.0        # expected join-requests until a join-accept arrives
    join_retry_interval_s: float = 10.0  # from one join-request to the next


def lorawan_uplink_phases(
    chip: LoraChip,
    sf: int,
    app_payload_bytes: int,
    settings: LorawanSettings,
    mcu_wait_ma: float,
    mcu_prepare_ma: float | None = None,
) -> list[Phase]:
    """One unconfirmed class A uplink with no downlink: TX, then two empty
    receive windows. `mcu_wait_ma` is the MCU's draw while the radio works,
    `mcu_prepare_ma` while it configures the radio (default: `mcu_wait_ma`)."""
    toa_s = lora_time_on_air_s(
        app_payload_bytes + settings.overhead_bytes, sf, settings.bw_hz,
        settings.coding_rate, settings.preamble_symbols)
    rx1_s = lora_rx_window_s(sf, settings.bw_hz, settings.min_rx_symbols, settings.rx_error_ms)
    rx2_s = lora_rx_window_s(settings.rx2_sf, settings.bw_hz, settings.min_rx_symbols, settings.rx_error_ms)
    prepare_ma = mcu_wait_ma if mcu_prepare_ma is None else mcu_prepare_ma
    wait2_s = max(settings.rx2_delay_s - settings.rx1_delay_s - rx1_s, 0.0)
    phases = [
        Phase("radio prepare", chip.prepare_ma + prepare_ma, chip.prepare_s),
        Phase("lora tx", chip.tx_ma + mcu_wait_ma, toa_s),
        Phase("wait rx1", chip.wait_ma + mcu_wait_ma, settings.rx1_delay_s),
        Phase("rx1 window", chip.rx_ma + mcu_wait_ma, rx1_s),
        Phase("wait rx2", chip.wait_ma + mcu_wait_ma, wait2_s),
        Phase("rx2 window", chip.rx_ma + mcu_wait_ma, rx2_s),
        Phase("radio off", chip.off_ma + mcu_wait_ma, chip.off_s),
    ]
    return [p for p in phases if p.duration_s > 0]
