"""The LoRaWAN exchanges beyond a plain unconfirmed uplink: a confirmed uplink with its ACK,
the retransmissions a lossy link costs, and the OTAA join.

What the firmware does (edge_node/lorawan_radio.py on a RAK3172 with RUI3): alerts go confirmed,
heartbeats unconfirmed; a confirmed send that gets no ACK is sent again up to
`confirmed_max_attempts` times in the same wake (RUI3's own AT+RETY stays at its default 0); the
OTAA join happens once and the module keeps the session through deep sleep.

LoRaWAN 1.0.x timing (LoRaWAN 1.0.3 specification, section 3.3 and 6.2.5, with the EU868
defaults of the LoRaWAN Regional Parameters): RX1 opens RECEIVE_DELAY1 = 1 s after the uplink
ends, on the uplink's data rate (RX1DROffset 0); RX2 RECEIVE_DELAY2 = 2 s after, at DR0 (SF12);
a join-accept comes JOIN_ACCEPT_DELAY1 = 5 s after the join-request. A receive window that
catches a frame stays open until the frame ends (a downlink has no payload CRC); when RX1
receives the ACK the device does not open RX2. Time on air: Semtech AN1200.13 (lora.py).
"""

from __future__ import annotations

from simulator.energy.lora import (
    LoraChip,
    LorawanSettings,
    lora_rx_window_s,
    lora_time_on_air_s,
    lorawan_uplink_phases,
)
from simulator.energy.phases import Phase


def downlink_time_on_air_s(phy_bytes: int, sf: int, settings: LorawanSettings) -> float:
    """A downlink frame on air: explicit header, no payload CRC (LoRaWAN 1.0.x, section 4)."""
    return lora_time_on_air_s(phy_bytes, sf, settings.bw_hz, settings.coding_rate,
                              settings.preamble_symbols, crc=False)


def expected_failed_attempts(packet_error_rate: float, max_attempts: int) -> tuple[float, float]:
    """(expected unacknowledged attempts, probability the message is acknowledged) for a confirmed
    uplink sent until acked, at most max_attempts times, each attempt lost with packet_error_rate.

    Attempt k happens with probability p^(k-1) and fails with p, so the failed attempts add up
    to p (1 - p^N) / (1 - p) and the ACK arrives with probability 1 - p^N.
    """
    p = packet_error_rate
    if not 0.0 <= p < 1.0:
        raise ValueError(f"packet error rate must be in [0, 1), got {p}")
    if max_attempts < 1:
        raise ValueError(f"confirmed uplinks need at least 1 attempt, got {max_attempts}")
    return p * (1.0 - p ** max_attempts) / (1.0 - p), 1.0 - p ** max_attempts


def acked_attempt_phases(chip: LoraChip, sf: int, app_payload_bytes: int, settings: LorawanSettings,
                         mcu_wait_ma: float, mcu_prepare_ma: float) -> list[Phase]:
    """One confirmed uplink whose ACK arrives in RX1: TX, RX1 delay, RX1 receiving the empty ACK
    frame, radio off; no RX2."""
    toa_s = lora_time_on_air_s(app_payload_bytes + settings.overhead_bytes, sf, settings.bw_hz,
                               settings.coding_rate, settings.preamble_symbols)
    phases = [
        Phase("radio prepare", chip.prepare_ma + mcu_prepare_ma, chip.prepare_s),
        Phase("lora tx (confirmed)", chip.tx_ma + mcu_wait_ma, toa_s),
        Phase("wait rx1", chip.wait_ma + mcu_wait_ma, settings.rx1_delay_s),
        Phase("rx1 ack", chip.rx_ma + mcu_wait_ma, downlink_time_on_air_s(settings.ack_frame_bytes, sf, settings)),
        Phase("radio off", chip.off_ma + mcu_wait_ma, chip.off_s),
    ]
    return [p for p in phases if p.duration_s > 0]


def unacked_attempt_phases(chip: LoraChip, sf: int, app_payload_bytes: int, settings: LorawanSettings,
                           mcu_wait_ma: float, mcu_prepare_ma: float) -> list[Phase]:
    """A confirmed attempt that hears nothing: the whole class A exchange with two empty windows
    (the firmware sends again at once when the modem reports SEND_CONFIRMED_FAILED)."""
    return [Phase(p.name.replace("lora tx", "lora tx (no ack)"), p.current_ma, p.duration_s)
            for p in lorawan_uplink_phases(chip, sf, app_payload_bytes, settings, mcu_wait_ma, mcu_prepare_ma)]


def confirmed_alert_phases(chip: LoraChip, sf: int, app_payload_bytes: int, settings: LorawanSettings,
                           mcu_wait_ma: float, mcu_prepare_ma: float,
                           retransmissions: float | None = None) -> list[Phase]:
    """The expected confirmed alert: the acked attempt (weighted by the chance of an ACK) plus the
    expected unacked attempts, their durations scaled by those expectations.

    retransmissions: expected unacked attempts per alert, given directly (the alert still ends
    acked); None derives them from settings.packet_error_rate and confirmed_max_attempts.
    """
    if retransmissions is None:
        failed, acked = expected_failed_attempts(settings.packet_error_rate, settings.confirmed_max_attempts)
    elif retransmissions < 0:
        raise ValueError(f"expected retransmissions must be >= 0, got {retransmissions}")
    else:
        failed, acked = retransmissions, 1.0
    phases = [Phase(p.name, p.current_ma, p.duration_s * acked)
              for p in acked_attempt_phases(chip, sf, app_payload_bytes, settings, mcu_wait_ma, mcu_prepare_ma)]
    phases += [Phase(p.name, p.current_ma, p.duration_s * failed)
               for p in unacked_attempt_phases(chip, sf, app_payload_bytes, settings, mcu_wait_ma, mcu_prepare_ma)]
    return [p for p in phases if p.duration_s > 0]


def otaa_join_phases(chip: LoraChip, sf: int, settings: LorawanSettings, mcu_wait_ma: float,
                     mcu_prepare_ma: float) -> list[Phase]:
    """One OTAA join: `join_attempts` expected join-requests, each but the last with two empty
    join-accept windows (5 s and 6 s) and a wait until the next attempt (`join_retry_interval_s`
    after the previous one), the last answered in RX1 by a join-accept with CFList."""
    attempts = settings.join_attempts
    if attempts < 1:
        raise ValueError(f"join attempts must be >= 1, got {attempts}")
    request_s = lora_time_on_air_s(settings.join_request_bytes, sf, settings.bw_hz, settings.coding_rate,
                                   settings.preamble_symbols)
    rx1_s = lora_rx_window_s(sf, settings.bw_hz, settings.min_rx_symbols, settings.rx_error_ms)
    rx2_s = lora_rx_window_s(settings.rx2_sf, settings.bw_hz, settings.min_rx_symbols, settings.rx_error_ms)
    failed = attempts - 1.0
    phases = [
        Phase("join prepare", chip.prepare_ma + mcu_prepare_ma, chip.prepare_s * attempts),
        Phase("join-request tx", chip.tx_ma + mcu_wait_ma, request_s * attempts),
        Phase("wait join-accept rx1", chip.wait_ma + mcu_wait_ma, settings.join_accept_delay1_s * attempts),
        Phase("rx1 join-accept", chip.rx_ma + mcu_wait_ma,
              downlink_time_on_air_s(settings.join_accept_bytes, sf, settings)),
        Phase("join rx1 empty", chip.rx_ma + mcu_wait_ma, rx1_s * failed),
        Phase("wait join-accept rx2", chip.wait_ma + mcu_wait_ma, max(1.0 - rx1_s, 0.0) * failed),
        Phase("join rx2 empty", chip.rx_ma + mcu_wait_ma, rx2_s * failed),
        Phase("wait next join attempt", chip.wait_ma + mcu_wait_ma,
              max(settings.join_retry_interval_s - settings.join_accept_delay1_s - 1.0, 0.0) * failed),
        Phase("join radio off", chip.off_ma + mcu_wait_ma, chip.off_s * attempts),
    ]
    return [p for p in phases if p.duration_s > 0]
