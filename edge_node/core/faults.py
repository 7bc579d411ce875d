"""Sensor faults: a dead, railing or stuck channel is a fault to report, never evidence of fire.

Each channel (temperature, humidity, gas) is checked on its own, so a dead gas
heater costs only the gas channel: the pipeline holds a faulty channel's
features at zero and the other channels keep detecting. Bits are schema.FAULT_*.

- rail/dead: a value no working BME68x reports in air: temperature at or beyond
  the -40 / +85 degC ends of its range, humidity <= 0 %RH or over 100 %RH (100 %RH
  itself is fog), a gas resistance below 2 ohm (an all-zero bus read or a read error).
- stuck: temperature AND humidity both the very same value for STUCK_READINGS
  readings in a row (the chip froze, or the driver re-reads a latched register).
  One channel repeating alone is not enough: recordings with coarse resolution
  (RH in whole or tenth percent) repeat for an hour in a still room. Gas is
  stuck only with them: a gas reading pinned at its floor in thick smoke
  (bme688_incense_perfume) is saturation, not a fault.
A fault clears on the first reading that passes again.
"""

from edge_node.core.schema import FAULT_GAS, FAULT_RH, FAULT_TEMP

TEMP_RAIL_LOW_CC = -4000
TEMP_RAIL_HIGH_CC = 8500
RH_SATURATED_CP = 10000
GAS_DEAD_Q8 = 256  # |gas index| below log2(2) * 256: the raw value read 0 or 1
STUCK_READINGS = 60  # 30 min at 30 s: a live sensor never repeats itself that long


class SensorFaults:
    """Per-node fault memory: the last value and repeat count of each channel (6 integers)."""

    def __init__(self) -> None:
        self.last = [0, 0, 0]
        self.repeats = [0, 0, 0]
        self.bits = 0

    def to_list(self) -> list:
        return self.last + self.repeats

    def restore(self, values) -> None:
        if len(values) == 6:
            self.last = list(values[:3])
            self.repeats = list(values[3:])

    def update(self, temp_cc: int, rh_cp: int, gas_q8: int) -> int:
        """Check one reading; return and keep the fault bits of this reading."""
        xs = (temp_cc, rh_cp, gas_q8)
        for c in range(3):
            if xs[c] == self.last[c]:
                if self.repeats[c] < STUCK_READINGS:
                    self.repeats[c] += 1
            else:
                self.repeats[c] = 0
                self.last[c] = xs[c]
        frozen = self.repeats[0] >= STUCK_READINGS and self.repeats[1] >= STUCK_READINGS
        bits = 0
        if temp_cc <= TEMP_RAIL_LOW_CC or temp_cc >= TEMP_RAIL_HIGH_CC or frozen:
            bits |= FAULT_TEMP
        if rh_cp <= 0 or rh_cp > RH_SATURATED_CP or frozen:
            bits |= FAULT_RH
        if -GAS_DEAD_Q8 < gas_q8 < GAS_DEAD_Q8 or (frozen and self.repeats[2] >= STUCK_READINGS):
            bits |= FAULT_GAS
        self.bits = bits
        return bits
