"""A fake `machine` module for running edge_node.board on the MicroPython test runner.

The I2C bus carries a simulated BME688 (fake_bme68x), the ADC reads a fixed
pin voltage, RTC memory is a module-level buffer that outlives each "boot",
and deepsleep raises DeepSleep so the test can boot the node again.
"""

from fake_bme68x import FakeBme68xBus

DEEPSLEEP_RESET = 4
PWRON_RESET = 1
ADC_PIN_UV = 1900000

rtc_memory = bytearray()
modem = None  # the RAK3172 stand-in behind UART 1 (LoRaWAN nodes), created on first use
sleeps = []
slept_ms = 0  # how far the RTC has run in deep sleep
clock_ms = 946684800000  # the RTC after power-on: 2000-01-01, until NTP sets it
watchdogs = []  # timeout_ms of every WDT armed
reset_causes = []  # consumed one per boot; DEEPSLEEP_RESET once empty
bus = None


def now_ms():
    return clock_ms


class WDT:
    def __init__(self, id=0, timeout=5000):
        watchdogs.append(timeout)

    def feed(self):
        pass


class DeepSleep(Exception):
    pass


class Pin:
    def __init__(self, number, *args, **kwargs):
        self.number = number


class I2C:
    def __new__(cls, bus_id, sda=None, scl=None, freq=400000):
        global bus
        if bus is None:
            bus = FakeBme68xBus(variant=1)
        return bus


class ADC:
    ATTN_11DB = 3

    def __init__(self, pin, atten=None):
        self.pin = pin

    def read_uv(self):
        return ADC_PIN_UV


class UART:
    """UART 1 with a RAK3172 (RUI3) stand-in on the other end; it keeps its session across boots."""

    def __new__(cls, uart_id, baudrate=115200, tx=None, rx=None, timeout=0):
        global modem
        if modem is None:
            from rak3172_standin import FakeTicks, Rak3172StandIn
            modem = Rak3172StandIn(FakeTicks())
        return modem


class RTC:
    def memory(self, data=None):
        global rtc_memory
        if data is None:
            return bytes(rtc_memory)
        if len(data) > 2048:
            raise ValueError("RTC memory holds 2048 bytes")
        rtc_memory = bytearray(data)


def reset_cause():
    return reset_causes.pop(0) if reset_causes else DEEPSLEEP_RESET


def deepsleep(ms=0):
    global slept_ms, clock_ms
    sleeps.append(ms)
    slept_ms += ms
    clock_ms += ms
    raise DeepSleep(ms)
