"""A BME680/BME688 at register level on a fake I2C bus (CPython and MicroPython).

It holds a calibration block built from named coefficients and raw ADC
values, and answers a forced-mode trigger by flagging new, valid gas data,
so the driver's register handling and compensation can be exercised off-board.
"""

# A real-looking coefficient set (values seen on a BME680 breakout).
COEFFS = {"t1": 26203, "t2": 26519, "t3": 3, "p1": 35008, "p2": -10284, "p3": 88, "p4": 9692,
          "p5": -202, "p6": 30, "p7": 24, "p8": -516, "p9": -3469, "p10": 30, "h1": 794,
          "h2": 1007, "h3": 0, "h4": 45, "h5": 20, "h6": 120, "h7": -100, "gh1": -30, "gh2": -5969,
          "gh3": 18, "res_heat_val": 47, "res_heat_range": 1, "range_sw_err": -1}


def _u8(v):
    return v & 0xFF


def calibration_bytes(k):
    c = [0] * 42
    c[0], c[1] = _u8(k["t2"]), _u8(k["t2"] >> 8)
    c[2] = _u8(k["t3"])
    c[4], c[5] = _u8(k["p1"]), _u8(k["p1"] >> 8)
    c[6], c[7] = _u8(k["p2"]), _u8(k["p2"] >> 8)
    c[8] = _u8(k["p3"])
    c[10], c[11] = _u8(k["p4"]), _u8(k["p4"] >> 8)
    c[12], c[13] = _u8(k["p5"]), _u8(k["p5"] >> 8)
    c[14] = _u8(k["p7"])
    c[15] = _u8(k["p6"])
    c[18], c[19] = _u8(k["p8"]), _u8(k["p8"] >> 8)
    c[20], c[21] = _u8(k["p9"]), _u8(k["p9"] >> 8)
    c[22] = _u8(k["p10"])
    c[23] = _u8(k["h2"] >> 4)
    c[24] = ((k["h2"] & 0x0F) << 4) | (k["h1"] & 0x0F)
    c[25] = _u8(k["h1"] >> 4)
    c[26], c[27], c[28] = _u8(k["h3"]), _u8(k["h4"]), _u8(k["h5"])
    c[29], c[30] = _u8(k["h6"]), _u8(k["h7"])
    c[31], c[32] = _u8(k["t1"]), _u8(k["t1"] >> 8)
    c[33], c[34] = _u8(k["gh2"]), _u8(k["gh2"] >> 8)
    c[35], c[36] = _u8(k["gh1"]), _u8(k["gh3"])
    c[37] = _u8(k["res_heat_val"])
    c[39] = (k["res_heat_range"] & 0x3) << 4
    c[41] = _u8(k["range_sw_err"] << 4)
    return c


class FakeBme68xBus:
    """machine.I2C look-alike with one BME68x at `addr`."""

    def __init__(self, variant=1, addr=0x77, adc_temp=500000, adc_pres=400000, adc_hum=25000,
                 adc_gas=400, gas_range=5, gas_valid=True, chip_id=0x61) -> None:
        self.addr = addr
        self.regs = bytearray(256)
        self.regs[0xD0] = chip_id
        self.regs[0xF0] = variant
        c = calibration_bytes(COEFFS)
        for i in range(23):
            self.regs[0x8A + i] = c[i]
        for i in range(14):
            self.regs[0xE1 + i] = c[23 + i]
        for i in range(5):
            self.regs[0x00 + i] = c[37 + i]
        self.variant = variant
        self.adc = (adc_temp, adc_pres, adc_hum, adc_gas, gas_range)
        self.gas_valid = gas_valid
        self.writes = []
        self.triggers = 0

    def _check(self, addr) -> None:
        if addr != self.addr:
            raise OSError(19)  # ENODEV, as MicroPython reports a missing I2C device

    def readfrom_mem(self, addr, reg, n):
        self._check(addr)
        return bytes(self.regs[reg:reg + n])

    def writeto_mem(self, addr, reg, data):
        self._check(addr)
        for i in range(len(data)):
            self.regs[reg + i] = data[i]
            self.writes.append((reg + i, data[i]))
        if reg == 0x74 and data[0] & 0x03 == 1:
            self.triggers += 1
            self._measure()

    def _measure(self) -> None:
        adc_temp, adc_pres, adc_hum, adc_gas, gas_range = self.adc
        f = bytearray(17)
        f[0] = 0x80  # new data, gas index 0
        f[2], f[3], f[4] = adc_pres >> 12, (adc_pres >> 4) & 0xFF, (adc_pres & 0x0F) << 4
        f[5], f[6], f[7] = adc_temp >> 12, (adc_temp >> 4) & 0xFF, (adc_temp & 0x0F) << 4
        f[8], f[9] = adc_hum >> 8, adc_hum & 0xFF
        flags = 0x30 if self.gas_valid else 0x00
        gas_hi, gas_lo = adc_gas >> 2, ((adc_gas & 0x03) << 6) | flags | gas_range
        if self.variant == 1:
            f[15], f[16] = gas_hi, gas_lo
        else:
            f[13], f[14] = gas_hi, gas_lo
        for i in range(17):
            self.regs[0x1D + i] = f[i]
        self.regs[0x74] &= 0xFC  # back to sleep mode once the measurement is done
