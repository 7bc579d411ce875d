"""Bosch BME680 / BME688 on I2C: temperature, humidity, pressure and gas resistance.

One forced-mode measurement per call with one heater step, which is what a
node that wakes every few minutes wants. The compensation is the integer
variant of Bosch's datasheet formulas (BME68x Sensor API, `BME68X_DO_NOT_USE_FPU`),
so ESP32 single-precision floats never touch a reading. The bus is passed in:
`Bme688(machine.I2C(0, sda=Pin(21), scl=Pin(22)), addr=0x77)`.

BME688 (variant id 1) and BME680 (variant id 0) differ only in the gas ADC
registers and gas formula; both are handled.
"""

from edge_node.errors import SensorError
from edge_node.ticks import sleep_ms

CHIP_ID = 0x61
REG_CHIP_ID = 0xD0
REG_VARIANT_ID = 0xF0
REG_SOFT_RESET = 0xE0
SOFT_RESET_CMD = 0xB6
REG_FIELD0 = 0x1D
REG_RES_HEAT0 = 0x5A
REG_GAS_WAIT0 = 0x64
REG_CTRL_GAS_0 = 0x70
REG_CTRL_GAS_1 = 0x71
REG_CTRL_HUM = 0x72
REG_CTRL_MEAS = 0x74
REG_CONFIG = 0x75
REG_COEFF1 = 0x8A  # 23 bytes
REG_COEFF2 = 0xE1  # 14 bytes
REG_COEFF3 = 0x00  # 5 bytes

VARIANT_GAS_HIGH = 1  # BME688
NEW_DATA = 0x80
GAS_VALID = 0x20
HEAT_STAB = 0x10
MODE_FORCED = 0x01

OS_1X = 1
OS_2X = 2
_OS_CYCLES = (0, 1, 2, 4, 8, 16)

# Gas range lookup tables for the BME680 (low-gas variant), from the Bosch API.
_LOW_K1 = (2147483647, 2147483647, 2147483647, 2147483647, 2147483647, 2126008810, 2147483647,
           2130303777, 2147483647, 2147483647, 2143188679, 2136746228, 2147483647, 2126008810,
           2147483647, 2147483647)
_LOW_K2 = (4096000000, 2048000000, 1024000000, 512000000, 255744255, 127110228, 64000000,
           32258064, 16016016, 8000000, 4000000, 2000000, 1000000, 500000, 250000, 125000)


def _cdiv(a: int, b: int) -> int:
    """C integer division (truncates toward zero); Python's // floors."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _s8(b: int) -> int:
    return b - 256 if b > 127 else b


def _u16(msb: int, lsb: int) -> int:
    return (msb << 8) | lsb


def _s16(msb: int, lsb: int) -> int:
    v = (msb << 8) | lsb
    return v - 65536 if v > 32767 else v


class Calibration:
    """The factory trimming coefficients, decoded from the 42 calibration bytes."""

    def __init__(self, c) -> None:
        self.t1 = _u16(c[32], c[31])
        self.t2 = _s16(c[1], c[0])
        self.t3 = _s8(c[2])
        self.p1 = _u16(c[5], c[4])
        self.p2 = _s16(c[7], c[6])
        self.p3 = _s8(c[8])
        self.p4 = _s16(c[11], c[10])
        self.p5 = _s16(c[13], c[12])
        self.p6 = _s8(c[15])
        self.p7 = _s8(c[14])
        self.p8 = _s16(c[19], c[18])
        self.p9 = _s16(c[21], c[20])
        self.p10 = c[22]
        self.h1 = (c[25] << 4) | (c[24] & 0x0F)
        self.h2 = (c[23] << 4) | (c[24] >> 4)
        self.h3 = _s8(c[26])
        self.h4 = _s8(c[27])
        self.h5 = _s8(c[28])
        self.h6 = c[29]
        self.h7 = _s8(c[30])
        self.gh1 = _s8(c[35])
        self.gh2 = _s16(c[34], c[33])
        self.gh3 = _s8(c[36])
        self.res_heat_val = _s8(c[37])
        self.res_heat_range = (c[39] & 0x30) // 16
        self.range_sw_err = _cdiv(_s8(c[41] & 0xF0), 16)


def compensate_temperature(cal: Calibration, adc: int):
    """-> (centi-degC, t_fine); t_fine feeds the pressure and humidity formulas."""
    var1 = (adc >> 3) - (cal.t1 << 1)
    var2 = (var1 * cal.t2) >> 11
    var3 = ((var1 >> 1) * (var1 >> 1)) >> 12
    var3 = (var3 * (cal.t3 << 4)) >> 14
    t_fine = var2 + var3
    return ((t_fine * 5) + 128) >> 8, t_fine


def compensate_pressure(cal: Calibration, adc: int, t_fine: int) -> int:
    """-> pascal."""
    var1 = (t_fine >> 1) - 64000
    var2 = ((((var1 >> 2) * (var1 >> 2)) >> 11) * cal.p6) >> 2
    var2 = var2 + ((var1 * cal.p5) << 1)
    var2 = (var2 >> 2) + (cal.p4 << 16)
    var1 = (((((var1 >> 2) * (var1 >> 2)) >> 13) * (cal.p3 << 5)) >> 3) + ((cal.p2 * var1) >> 1)
    var1 = var1 >> 18
    var1 = ((32768 + var1) * cal.p1) >> 15
    if var1 == 0:
        return 0
    p = 1048576 - adc
    p = (p - (var2 >> 12)) * 3125
    if p >= 0x40000000:
        p = _cdiv(p, var1) << 1
    else:
        p = _cdiv(p << 1, var1)
    var1 = (cal.p9 * (((p >> 3) * (p >> 3)) >> 13)) >> 12
    var2 = ((p >> 2) * cal.p8) >> 13
    var3 = ((p >> 8) * (p >> 8) * (p >> 8) * cal.p10) >> 17
    return p + ((var1 + var2 + var3 + (cal.p7 << 7)) >> 4)


def compensate_humidity(cal: Calibration, adc: int, t_fine: int) -> int:
    """-> milli-%RH, clamped to 0..100000."""
    temp_scaled = ((t_fine * 5) + 128) >> 8
    var1 = (adc - cal.h1 * 16) - (_cdiv(temp_scaled * cal.h3, 100) >> 1)
    var2 = (cal.h2 * (_cdiv(temp_scaled * cal.h4, 100)
                      + _cdiv((temp_scaled * _cdiv(temp_scaled * cal.h5, 100)) >> 6, 100)
                      + (1 << 14))) >> 10
    var3 = var1 * var2
    var4 = ((cal.h6 << 7) + _cdiv(temp_scaled * cal.h7, 100)) >> 4
    var5 = ((var3 >> 14) * (var3 >> 14)) >> 10
    var6 = (var4 * var5) >> 1
    hum = (((var3 + var6) >> 10) * 1000) >> 12
    return 0 if hum < 0 else (100000 if hum > 100000 else hum)


def gas_resistance_high(adc: int, gas_range: int) -> int:
    """BME688 gas resistance, ohm."""
    var1 = 262144 >> gas_range
    var2 = 4096 + (adc - 512) * 3
    return ((10000 * var1) // var2) * 100


def gas_resistance_low(cal: Calibration, adc: int, gas_range: int) -> int:
    """BME680 gas resistance, ohm."""
    var1 = ((1340 + 5 * cal.range_sw_err) * _LOW_K1[gas_range]) >> 16
    var2 = ((adc << 15) - 16777216) + var1
    var3 = (_LOW_K2[gas_range] * var1) >> 9
    return (var3 + (var2 >> 1)) // var2


def heater_resistance_code(cal: Calibration, target_c: int, ambient_c: int) -> int:
    """res_heat_x register value that heats the plate to target_c (capped at 400 C)."""
    if target_c > 400:
        target_c = 400
    var1 = _cdiv(ambient_c * cal.gh3, 1000) * 256
    var2 = (cal.gh1 + 784) * _cdiv(_cdiv((cal.gh2 + 154009) * target_c * 5, 100) + 3276800, 10)
    var3 = var1 + _cdiv(var2, 2)
    var4 = _cdiv(var3, cal.res_heat_range + 4)
    var5 = 131 * cal.res_heat_val + 65536
    res_x100 = (_cdiv(var4, var5) - 250) * 34
    return _cdiv(res_x100 + 50, 100) & 0xFF


def gas_wait_code(duration_ms: int) -> int:
    """gas_wait_x register value: 6-bit mantissa and a x1/x4/x16/x64 multiplier."""
    if duration_ms >= 0xFC0:
        return 0xFF
    factor = 0
    while duration_ms > 0x3F:
        duration_ms //= 4
        factor += 1
    return duration_ms + factor * 64


class Bme688:
    def __init__(self, i2c, addr: int = 0x77, heater_c: int = 320, heater_ms: int = 150,
                 os_temp: int = OS_2X, os_pres: int = OS_1X, os_hum: int = OS_1X) -> None:
        self.i2c = i2c
        self.addr = addr
        self.heater_c = heater_c
        self.heater_ms = heater_ms
        self.os_temp, self.os_pres, self.os_hum = os_temp, os_pres, os_hum
        self.ambient_c = 25  # refined from each reading; the heater code depends on it a little
        try:
            chip = self._read(REG_CHIP_ID, 1)[0]
        except OSError as exc:
            raise SensorError("no BME68x answers at I2C address " + hex(addr) + ": " + str(exc))
        if chip != CHIP_ID:
            raise SensorError("chip id " + hex(chip) + " at " + hex(addr) + " is not a BME680/688")
        self._write(REG_SOFT_RESET, SOFT_RESET_CMD)
        sleep_ms(10)
        self.variant = self._read(REG_VARIANT_ID, 1)[0]
        coeffs = self._read(REG_COEFF1, 23) + self._read(REG_COEFF2, 14) + self._read(REG_COEFF3, 5)
        self.cal = Calibration(coeffs)
        self._write(REG_CTRL_HUM, os_hum & 0x07)
        self._write(REG_CONFIG, 0)  # IIR filter off: one reading per wake, nothing to smooth
        self._write(REG_CTRL_MEAS, (os_temp << 5) | (os_pres << 2))
        self._write(REG_GAS_WAIT0, gas_wait_code(heater_ms))
        self._write(REG_CTRL_GAS_0, 0)  # heater enabled
        run_gas = 0x20 if self.variant == VARIANT_GAS_HIGH else 0x10
        self._write(REG_CTRL_GAS_1, run_gas)  # heater profile 0

    def _read(self, reg: int, n: int) -> bytes:
        return bytes(self.i2c.readfrom_mem(self.addr, reg, n))

    def _write(self, reg: int, value: int) -> None:
        self.i2c.writeto_mem(self.addr, reg, bytes([value]))

    def measurement_ms(self) -> int:
        """How long one forced-mode TPH + gas conversion takes (Bosch's bme68x_get_meas_dur)."""
        cycles = _OS_CYCLES[self.os_temp] + _OS_CYCLES[self.os_pres] + _OS_CYCLES[self.os_hum]
        tph_us = cycles * 1963 + 477 * 4 + 477 * 5 + 1000
        return (tph_us + 999) // 1000 + self.heater_ms

    def read(self):
        """One forced measurement -> (temp_cc, rh_cp, pressure_pa, gas_ohm or None); SensorError when
        the sensor does not answer. The heater wait is `sleep_ms`: the CPU idles awake (priced so in
        simulator/energy/profiles.toml, sensor.bme688-forced)."""
        try:
            self._write(REG_RES_HEAT0, heater_resistance_code(self.cal, self.heater_c, self.ambient_c))
            self._write(REG_CTRL_MEAS, (self.os_temp << 5) | (self.os_pres << 2) | MODE_FORCED)
            sleep_ms(self.measurement_ms())
            for _ in range(10):
                field = self._read(REG_FIELD0, 17)
                if field[0] & NEW_DATA:
                    break
                sleep_ms(10)
            else:
                raise SensorError("no new data after the measurement time")
        except OSError as exc:
            raise SensorError("I2C: " + str(exc))
        return self.decode_field(field)

    def decode_field(self, f):
        """17 bytes of field 0 -> (temp_cc, rh_cp, pressure_pa, gas_ohm); gas_ohm None when invalid."""
        adc_pres = (f[2] << 12) | (f[3] << 4) | (f[4] >> 4)
        adc_temp = (f[5] << 12) | (f[6] << 4) | (f[7] >> 4)
        adc_hum = (f[8] << 8) | f[9]
        if self.variant == VARIANT_GAS_HIGH:
            adc_gas, gas_range, flags = (f[15] << 2) | (f[16] >> 6), f[16] & 0x0F, f[16]
        else:
            adc_gas, gas_range, flags = (f[13] << 2) | (f[14] >> 6), f[14] & 0x0F, f[14]
        temp_cc, t_fine = compensate_temperature(self.cal, adc_temp)
        pressure_pa = compensate_pressure(self.cal, adc_pres, t_fine)
        rh_mp = compensate_humidity(self.cal, adc_hum, t_fine)
        self.ambient_c = temp_cc // 100
        if not flags & GAS_VALID or not flags & HEAT_STAB:
            # The heater missed its target (Bosch's API still returns T, P and RH then): gas is None.
            return temp_cc, rh_mp // 10, pressure_pa, None
        if self.variant == VARIANT_GAS_HIGH:
            gas_ohm = gas_resistance_high(adc_gas, gas_range)
        else:
            gas_ohm = gas_resistance_low(self.cal, adc_gas, gas_range)
        return temp_cc, rh_mp // 10, pressure_pa, gas_ohm
