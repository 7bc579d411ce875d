"""Battery voltage through a resistor divider on an ADC pin.

A Li-ion cell (up to 4.2 V) is above the ESP32 ADC's ~3.1 V range at 11 dB
attenuation, so it is read through a divider: V_bat = V_pin * (top + bottom) / bottom.
The ADC is passed in (`machine.ADC(Pin(35), atten=ADC.ATTN_11DB)`); its
`read_uv()` applies the chip's factory calibration, which raw counts lack.
"""


class BatteryGauge:
    def __init__(self, adc, top_kohm: int, bottom_kohm: int, samples: int = 8) -> None:
        if bottom_kohm <= 0 or top_kohm < 0:
            raise ValueError("divider resistors must be top >= 0 and bottom > 0 kohm")
        self.adc = adc
        self.top_kohm = top_kohm
        self.bottom_kohm = bottom_kohm
        self.samples = samples

    def read_mv(self) -> int:
        """Battery millivolts: the mean of a few ADC reads, scaled up by the divider ratio."""
        total_uv = 0
        for _ in range(self.samples):
            total_uv += self.adc.read_uv()
        pin_uv = total_uv // self.samples
        mv = pin_uv * (self.top_kohm + self.bottom_kohm) // (self.bottom_kohm * 1000)
        return 0 if mv < 0 else (10000 if mv > 10000 else mv)
