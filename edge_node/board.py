"""ESP32 wiring: builds the real hardware, runs one wake, goes back to deep sleep.

The only module that touches `machine` and `network`; everything it hands to
the wake cycle has a fake twin in the tests. `main.py` on the board calls `run()`.
"""

import time

import machine
import network

from edge_node.config import ConfigError, load_config
from edge_node.core import policy
from edge_node.core.pipeline import default_pipeline
from edge_node.drivers.battery import BatteryGauge
from edge_node.drivers.bme688 import Bme688
from edge_node.errors import SensorError
from edge_node.persist import FileStore, RtcMemoryStore
from edge_node.radio import MqttRadio
from edge_node.ticks import sleep_ms, ticks_diff, ticks_ms
from edge_node.wake import WakeCycle

SEQ_FLOOR_PATH = "seq_floor"
LORAWAN_SESSION_PATH = "lorawan_session"  # "joined" once the modem holds an OTAA session
BOOT_COUNT_PATH = "boot_count"
ERROR_LOG_PATH = "error.log"
CONFIG_RETRY_MS = 3600 * 1000  # a broken config.json waits for a human: sleep, do not crash-loop
MPREMOTE_WINDOW_MS = 3000      # after a power-on, time for mpremote to interrupt before deep sleep
SENSOR_BUDGET_MS = 2000        # driver init + one forced measurement (~180 ms) + its retries
_UNIX_2000_S = 946684800


class UnixClock:
    """Event time in Unix milliseconds from the RTC, which keeps running through deep sleep."""

    def __init__(self) -> None:
        # Older ports count from 2000, newer ones from 1970.
        self.offset_s = _UNIX_2000_S if time.gmtime(0)[0] == 2000 else 0

    def now_ms(self) -> int:
        return time.time_ns() // 1000000 + self.offset_s * 1000

    def is_set(self) -> bool:
        return policy.clock_is_set(self.now_ms())


class DeadSensor:
    """Stands in for a sensor that did not answer at boot, so the wake still beats with FAULT_SENSOR_BUS."""

    def __init__(self, why: str) -> None:
        self.why = why

    def read(self):
        raise SensorError(self.why)


def _log_error(text: str) -> None:
    """Keep the last few errors on flash for a visit with mpremote (bounded: never fills flash)."""
    try:
        with open(ERROR_LOG_PATH) as f:
            old = f.read()[-1500:]
    except OSError:
        old = ""
    try:
        with open(ERROR_LOG_PATH, "w") as f:
            f.write(old + text + "\n")
    except OSError:
        pass


def build_lorawan_radio(config, clock: UnixClock, pipeline):
    """RAK3172 (RUI3) on UART 1; the operator's over-the-air settings are applied before the wake."""
    from edge_node.drivers.at_modem import AtModem
    from edge_node.lorawan_radio import LorawanRadio
    from edge_node.node_settings import OVERRIDES_PATH, NodeSettings

    settings = NodeSettings(config, pipeline, FileStore(OVERRIDES_PATH))
    settings.load()
    uart = machine.UART(1, baudrate=115200, tx=config.uart_tx_pin, rx=config.uart_rx_pin, timeout=0)
    return LorawanRadio(AtModem(uart), clock, settings, FileStore(LORAWAN_SESSION_PATH), ticks_ms, sleep_ms,
                        ticks_diff, join_timeout_s=config.lorawan_join_timeout_s,
                        send_budget_s=config.lorawan_send_budget_s)


def watchdog_ms(config) -> int:
    """The longest legal wake (every network step at its timeout) plus the power-on window."""
    if config.radio == "lorawan":  # the join and the send budget bound the modem's part
        return (MPREMOTE_WINDOW_MS + 2000 + SENSOR_BUDGET_MS
                + (config.lorawan_join_timeout_s + config.lorawan_send_budget_s + 5) * 1000)
    return MPREMOTE_WINDOW_MS + policy.longest_wake_ms(SENSOR_BUDGET_MS, config.wifi_timeout_s,
                                                       config.socket_timeout_s, config.queue_capacity,
                                                       config.socket_timeout_s)


def build(config, clock: UnixClock, power_on: bool):
    i2c = machine.I2C(0, sda=machine.Pin(config.i2c_sda_pin), scl=machine.Pin(config.i2c_scl_pin),
                      freq=400000)
    adc = machine.ADC(machine.Pin(config.battery_adc_pin), atten=machine.ADC.ATTN_11DB)
    pipeline = default_pipeline()
    if config.radio == "lorawan":
        radio = build_lorawan_radio(config, clock, pipeline)
    else:
        radio = MqttRadio(config, network.WLAN(network.STA_IF))
    sensor: object
    try:
        sensor = Bme688(i2c, addr=config.bme_addr)
    except SensorError as exc:  # no sensor: still wake, measure the battery and say so in the heartbeat
        sensor = DeadSensor(str(exc))
    return WakeCycle(
        config, pipeline, sensor,
        BatteryGauge(adc, config.battery_divider_top_kohm, config.battery_divider_bottom_kohm),
        radio, clock, RtcMemoryStore(machine.RTC()), FileStore(SEQ_FLOOR_PATH),
        FileStore(BOOT_COUNT_PATH), power_on)


def run() -> None:
    """Boot -> one wake -> deep sleep. Never returns on a board."""
    started = ticks_ms()
    sleep_for_ms = CONFIG_RETRY_MS
    power_on = machine.reset_cause() != machine.DEEPSLEEP_RESET
    try:
        config = load_config()
        sleep_for_ms = config.sample_interval_s * 1000
        # Sized to the longest legal wake: only a hang trips it, and the reset it causes is a new
        # boot that sleeps again, instead of Wi-Fi burning the battery flat.
        machine.WDT(timeout=watchdog_ms(config))
        report = build(config, UnixClock(), power_on).run()
        sleep_for_ms = report.sleep_ms
        print("wake: boot", report.boot, "alert", report.alert, "score", report.score, "sent", len(report.sent),
              "queued", report.queued, "faults", report.faults, report.error or "", report.state_reset or "")
        if report.error and report.error_is_new:  # a dead sensor must not rewrite flash every wake
            _log_error(str(report.t_ms) + " " + report.error)
    except ConfigError as exc:
        for problem in exc.problems:
            print("config:", problem)
        _log_error("config: " + str(exc))
    except Exception as exc:  # last resort: an unexpected bug must not keep the node awake
        print("unexpected:", repr(exc))
        _log_error("unexpected: " + repr(exc))
    spent_ms = ticks_diff(ticks_ms(), started)
    if power_on and spent_ms < MPREMOTE_WINDOW_MS:
        # Power-on or reset button: leave a short window for mpremote to interrupt.
        sleep_ms(MPREMOTE_WINDOW_MS - spent_ms)
    machine.deepsleep(max(1000, sleep_for_ms))
