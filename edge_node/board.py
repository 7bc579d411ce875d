"""ESP32 wiring: builds the real hardware, runs one wake, goes back to deep sleep.

The only module that touches `machine` and `network`; everything it hands to
the wake cycle has a fake twin in the tests. `main.py` on the board calls `run()`.
"""

import time

import machine
import network

from edge_node.config import ConfigError, load_config
from edge_node.core.pipeline import default_pipeline
from edge_node.drivers.battery import BatteryGauge
from edge_node.drivers.bme688 import Bme688
from edge_node.persist import FileStore, RtcMemoryStore
from edge_node.radio import MqttRadio
from edge_node.ticks import sleep_ms, ticks_diff, ticks_ms
from edge_node.wake import SensorError, WakeCycle

SEQ_FLOOR_PATH = "seq_floor"
LORAWAN_SESSION_PATH = "lorawan_session"  # "joined" once the modem holds an OTAA session
ERROR_LOG_PATH = "error.log"
CONFIG_RETRY_MS = 3600 * 1000  # a broken config.json waits for a human: sleep, do not crash-loop
_UNIX_2000_S = 946684800
_EARLIEST_VALID_S = 1735689600  # 2025-01-01: any earlier clock was never set


class UnixClock:
    """Event time in Unix milliseconds from the RTC, which keeps running through deep sleep."""

    def __init__(self) -> None:
        # Older ports count from 2000, newer ones from 1970.
        self.offset_s = _UNIX_2000_S if time.gmtime(0)[0] == 2000 else 0

    def now_ms(self) -> int:
        return time.time_ns() // 1000000 + self.offset_s * 1000

    def is_set(self) -> bool:
        return self.now_ms() // 1000 >= _EARLIEST_VALID_S


class EspMqttRadio(MqttRadio):
    """MqttRadio that also sets the RTC from NTP whenever Wi-Fi is up and the clock is unset."""

    def __init__(self, config, wlan, clock: UnixClock) -> None:
        super().__init__(config, wlan)
        self.clock = clock

    def _join_wifi(self) -> None:
        super()._join_wifi()
        if not self.clock.is_set():
            set_clock_from_ntp()


def set_clock_from_ntp() -> bool:
    try:
        import ntptime
        ntptime.settime()
        return True
    except (OSError, OverflowError, ImportError) as exc:
        print("ntp failed:", exc)
        return False


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


def build(config, clock: UnixClock):
    i2c = machine.I2C(0, sda=machine.Pin(config.i2c_sda_pin), scl=machine.Pin(config.i2c_scl_pin),
                      freq=400000)
    adc = machine.ADC(machine.Pin(config.battery_adc_pin), atten=machine.ADC.ATTN_11DB)
    pipeline = default_pipeline()
    if config.radio == "lorawan":
        radio = build_lorawan_radio(config, clock, pipeline)
    else:
        radio = EspMqttRadio(config, network.WLAN(network.STA_IF), clock)
    return WakeCycle(
        config, pipeline, Bme688(i2c, addr=config.bme_addr),
        BatteryGauge(adc, config.battery_divider_top_kohm, config.battery_divider_bottom_kohm),
        radio, clock, RtcMemoryStore(machine.RTC()), FileStore(SEQ_FLOOR_PATH))


def run() -> None:
    """Boot -> one wake -> deep sleep. Never returns on a board."""
    started = ticks_ms()
    sleep_for_ms = CONFIG_RETRY_MS
    try:
        config = load_config()
        sleep_for_ms = config.sample_interval_s * 1000
        clock = UnixClock()
        report = build(config, clock).run()
        sleep_for_ms = report.sleep_ms
        print("wake: alert", report.alert, "score", report.score, "sent", len(report.sent),
              "queued", report.queued, report.error or "", report.state_reset or "")
        if report.error:
            _log_error(str(report.t_ms) + " " + report.error)
    except ConfigError as exc:
        for problem in exc.problems:
            print("config:", problem)
        _log_error("config: " + str(exc))
    except SensorError as exc:  # sensor missing at boot: retry next wake, keep the log short
        print("sensor:", exc)
        _log_error("sensor: " + str(exc))
    except Exception as exc:  # last resort: an unexpected bug must not keep the node awake
        print("unexpected:", repr(exc))
        _log_error("unexpected: " + repr(exc))
    spent_ms = ticks_diff(ticks_ms(), started)
    if machine.reset_cause() != machine.DEEPSLEEP_RESET and spent_ms < 3000:
        # Power-on or reset button: leave a short window for mpremote to interrupt.
        sleep_ms(3000 - spent_ms)
    machine.deepsleep(max(1000, sleep_for_ms))
