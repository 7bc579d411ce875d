"""Stand-ins for a node's hardware, importable on CPython and on MicroPython alike.

They behave like the real parts at the interface the wake cycle uses: the
clock only moves forward when told, the radio can be switched off, the RTC
store has the ESP32's 2 KB capacity.
"""

from edge_node.wake import RadioError, SensorError


class FakeClock:
    def __init__(self, start_ms: int) -> None:
        self.t_ms = start_ms

    def now_ms(self) -> int:
        return self.t_ms

    def advance_ms(self, ms: int) -> None:
        self.t_ms += ms


class TraceSensor:
    """Replays (temp_cc, rh_cp, pressure_pa, gas_ohm) rows; a row of None raises SensorError."""

    def __init__(self, rows) -> None:
        self.rows = rows
        self.index = 0

    def read(self):
        row = self.rows[self.index % len(self.rows)]
        self.index += 1
        if row is None:
            raise SensorError("simulated I2C timeout")
        return row


class FixedBattery:
    def __init__(self, mv: int) -> None:
        self.mv = mv

    def read_mv(self) -> int:
        return self.mv


class FakeRadio:
    """Records what a broker would have acknowledged; `up` False fails connects,
    `fail_after` N fails the N+1-th publish of a connection."""

    def __init__(self) -> None:
        self.up = True
        self.fail_after = -1
        self.connected = False
        self.connects = 0
        self.published = []  # (topic, payload, retain, qos)
        self._count = 0

    def connect(self) -> None:
        self.connects += 1
        if not self.up:
            raise RadioError("no access point")
        self.connected = True
        self._count = 0

    def publish(self, topic, payload, retain, qos) -> None:
        if not self.connected:
            raise RadioError("not connected")
        if self.fail_after >= 0 and self._count >= self.fail_after:
            self.connected = False
            raise RadioError("connection reset")
        self._count += 1
        self.published.append((topic, payload, retain, qos))

    def disconnect(self) -> None:
        self.connected = False


class MemoryStore:
    """RTC memory: bytes that survive deep sleep, `capacity` bytes at most (0: unbounded flash)."""

    def __init__(self, capacity: int = 2048) -> None:
        self.capacity = capacity
        self.blob = None
        self.saves = 0

    def load(self):
        return self.blob

    def save(self, blob) -> None:
        if self.capacity and len(blob) > self.capacity:
            raise ValueError("blob exceeds RTC memory")
        self.blob = bytes(blob)
        self.saves += 1


def make_config(**overrides):
    from edge_node.config import parse_config
    raw = {"wifi_ssid": "forest-ap", "wifi_password": "forest-pw", "broker_host": "10.0.0.2",
           "site": "montesinho", "node": "n042", "lat": "41.901234", "lon": "-6.812345",
           "sample_interval_s": 60, "heartbeat_interval_s": 3600, "queue_capacity": 6}
    raw.update(overrides)
    return parse_config(raw)


class ClockRadio(FakeRadio):
    """A radio that can set the clock, as Wi-Fi + NTP does: `sync_clock` moves `clock` to `true_ms()`."""

    def __init__(self, clock, true_ms) -> None:
        FakeRadio.__init__(self)
        self.clock = clock
        self.true_ms = true_ms
        self.ntp_up = True
        self.syncs = 0

    def sync_clock(self) -> None:
        if not self.up or not self.ntp_up:
            raise RadioError("ntp timed out")
        self.syncs += 1
        self.clock.t_ms = self.true_ms()


class FailingStore(MemoryStore):
    """Flash whose writes fail while `failing` is True (worn or full), as FileStore raises OSError."""

    def __init__(self) -> None:
        MemoryStore.__init__(self, 0)
        self.failing = True

    def save(self, blob) -> None:
        if self.failing:
            raise OSError(28)  # ENOSPC
        MemoryStore.save(self, blob)


class GasFailingSensor:
    """Good temperature and humidity; gas invalid (None) on the listed reads, as the BME688 driver returns it."""

    def __init__(self, bad_reads) -> None:
        self.bad_reads = bad_reads
        self.index = 0

    def read(self):
        i = self.index
        self.index += 1
        return (2000 + (i % 5), 5000 - (i % 3), 101325, None if i in self.bad_reads else 150000 + 10 * (i % 4))
