"""BME680/688 driver at register level, checked against Bosch's floating-point formulas,
and the battery divider arithmetic."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from edge_node.drivers import bme688
from edge_node.drivers.battery import BatteryGauge
from edge_node.wake import SensorError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_bme68x import COEFFS, FakeBme68xBus

from tests.edge_node.mp import helper_files, require_micropython, run_on_micropython

K = COEFFS


# Bosch's floating-point compensation (BME68x Sensor API with BME68X_USE_FPU), as an independent reference.
def float_temperature(adc: int) -> tuple[float, float]:
    var1 = (adc / 16384.0 - K["t1"] / 1024.0) * K["t2"]
    var2 = (adc / 131072.0 - K["t1"] / 8192.0) ** 2 * (K["t3"] * 16.0)
    t_fine = var1 + var2
    return t_fine / 5120.0, t_fine


def float_pressure(adc: int, t_fine: float) -> float:
    var1 = t_fine / 2.0 - 64000.0
    var2 = var1 * var1 * (K["p6"] / 131072.0)
    var2 = var2 + var1 * K["p5"] * 2.0
    var2 = var2 / 4.0 + K["p4"] * 65536.0
    var1 = ((K["p3"] * var1 * var1) / 16384.0 + K["p2"] * var1) / 524288.0
    var1 = (1.0 + var1 / 32768.0) * K["p1"]
    p = 1048576.0 - adc
    p = ((p - var2 / 4096.0) * 6250.0) / var1
    var1 = K["p9"] * p * p / 2147483648.0
    var2 = p * (K["p8"] / 32768.0)
    var3 = (p / 256.0) ** 3 * (K["p10"] / 131072.0)
    return p + (var1 + var2 + var3 + K["p7"] * 128.0) / 16.0


def float_humidity(adc: int, t_fine: float) -> float:
    temp = t_fine / 5120.0
    var1 = adc - (K["h1"] * 16.0 + (K["h3"] / 2.0) * temp)
    var2 = var1 * (K["h2"] / 262144.0 * (1.0 + K["h4"] / 16384.0 * temp + K["h5"] / 1048576.0 * temp * temp))
    var3 = K["h6"] / 16384.0
    var4 = K["h7"] / 2097152.0
    return min(100.0, max(0.0, var2 + (var3 + var4 * temp) * var2 * var2))


def float_res_heat(target_c: int, ambient_c: int) -> float:
    var1 = K["gh1"] / 16.0 + 49.0
    var2 = K["gh2"] / 32768.0 * 0.0005 + 0.00235
    var3 = K["gh3"] / 1024.0
    var5 = var1 * (1.0 + var2 * target_c) + var3 * ambient_c
    return 3.4 * (var5 * (4 / (4 + K["res_heat_range"])) * (1 / (1 + K["res_heat_val"] * 0.002)) - 25)


@pytest.mark.parametrize("adc_temp,adc_pres,adc_hum", [
    (500000, 400000, 25000), (470000, 420000, 18000), (540000, 380000, 30000), (450000, 360000, 21000)])
def test_integer_compensation_agrees_with_the_float_formulas(adc_temp: int, adc_pres: int, adc_hum: int) -> None:
    bus = FakeBme68xBus(adc_temp=adc_temp, adc_pres=adc_pres, adc_hum=adc_hum)
    sensor = bme688.Bme688(bus)
    temp_cc, rh_cp, pressure_pa, gas_ohm = sensor.read()
    ref_c, t_fine = float_temperature(adc_temp)
    assert abs(temp_cc - ref_c * 100) <= 1
    assert abs(pressure_pa - float_pressure(adc_pres, t_fine)) <= 3
    assert abs(rh_cp - float_humidity(adc_hum, t_fine) * 100) <= 5  # 0.05 %RH; the sensor's own is 3 %
    assert 0 <= rh_cp <= 10000 and 0 < pressure_pa
    assert isinstance(temp_cc, int) and isinstance(gas_ohm, int)


@pytest.mark.parametrize("adc_gas,gas_range", [(400, 5), (800, 2), (100, 10), (1023, 0)])
def test_bme688_gas_resistance_agrees_with_the_float_formula(adc_gas: int, gas_range: int) -> None:
    sensor = bme688.Bme688(FakeBme68xBus(variant=1, adc_gas=adc_gas, gas_range=gas_range))
    gas_ohm = sensor.read()[3]
    ref = 1000000.0 * (262144 >> gas_range) / (4096 + (adc_gas - 512) * 3)
    assert abs(gas_ohm - ref) <= 100 + ref * 1e-6


@pytest.mark.parametrize("adc_gas,gas_range", [(400, 5), (800, 2), (100, 10), (1023, 7)])
def test_bme680_gas_resistance_agrees_with_the_float_formula(adc_gas: int, gas_range: int) -> None:
    sensor = bme688.Bme688(FakeBme68xBus(variant=0, adc_gas=adc_gas, gas_range=gas_range))
    gas_ohm = sensor.read()[3]
    k1 = [0, 0, 0, 0, 0, -1, 0, -0.8, 0, 0, -0.2, -0.5, 0, -1, 0, 0]
    k2 = [0, 0, 0, 0, 0.1, 0.7, 0, -0.8, -0.1, 0, 0, 0, 0, 0, 0, 0]
    var1 = 1340.0 + 5.0 * K["range_sw_err"]
    var2 = var1 * (1.0 + k1[gas_range] / 100.0)
    var3 = 1.0 + k2[gas_range] / 100.0
    ref = 1.0 / (var3 * 0.000000125 * (1 << gas_range) * ((adc_gas - 512.0) / var2 + 1.0))
    assert abs(gas_ohm - ref) <= max(2.0, ref * 0.002)


@pytest.mark.parametrize("target_c,ambient_c", [(320, 25), (200, 10), (400, 35), (450, 20)])
def test_heater_code_agrees_with_the_float_formula(target_c: int, ambient_c: int) -> None:
    cal = bme688.Bme688(FakeBme68xBus()).cal
    code = bme688.heater_resistance_code(cal, target_c, ambient_c)
    # Bosch's integer and float variants differ by up to ~1.6 codes (the float one truncates).
    assert abs(code - float_res_heat(min(target_c, 400), ambient_c)) <= 2.0


def test_gas_wait_code_encodes_mantissa_and_multiplier() -> None:
    assert bme688.gas_wait_code(63) == 63
    assert bme688.gas_wait_code(150) == 64 + 37  # 37 x 4 = 148 ms
    assert bme688.gas_wait_code(5000) == 0xFF


def test_driver_configures_forced_mode_with_heater_step_zero() -> None:
    bus = FakeBme68xBus(variant=1)
    sensor = bme688.Bme688(bus, heater_c=320, heater_ms=150)
    sensor.read()
    written = dict(bus.writes)
    assert written[0xE0] == 0xB6  # soft reset
    assert written[0x71] == 0x20  # BME688: run_gas high, heater profile 0
    assert written[0x64] == bme688.gas_wait_code(150)
    assert written[0x5A] == bme688.heater_resistance_code(sensor.cal, 320, 25)
    assert bus.triggers == 1
    assert sensor.measurement_ms() >= 150


def test_missing_or_foreign_chip_raise_sensor_error() -> None:
    with pytest.raises(SensorError, match="no BME68x answers"):
        bme688.Bme688(FakeBme68xBus(addr=0x76), addr=0x77)
    with pytest.raises(SensorError, match="not a BME680/688"):
        bme688.Bme688(FakeBme68xBus(chip_id=0x60))


def test_invalid_gas_reading_keeps_temperature_humidity_and_pressure() -> None:
    """Bosch's API returns T, P and RH when the heater misses its target; so does the driver, gas None."""
    good = bme688.Bme688(FakeBme68xBus(adc_temp=500000, adc_pres=400000, adc_hum=25000)).read()
    bad = bme688.Bme688(FakeBme68xBus(gas_valid=False, adc_temp=500000, adc_pres=400000, adc_hum=25000)).read()
    assert bad[3] is None and good[3] is not None
    assert bad[:3] == good[:3]


def test_driver_reads_the_same_on_micropython() -> None:
    require_micropython()
    cases = [(500000, 400000, 25000, 400, 5, 1), (470000, 420000, 18000, 300, 7, 0)]
    script = "from fake_bme68x import FakeBme68xBus\nfrom edge_node.drivers.bme688 import Bme688\n"
    for t, p, h, g, r, v in cases:
        script += (f"print(Bme688(FakeBme68xBus(variant={v}, adc_temp={t}, adc_pres={p}, adc_hum={h}, "
                   f"adc_gas={g}, gas_range={r})).read())\n")
    got = run_on_micropython(script, helper_files("fake_bme68x"))
    expected = [str(bme688.Bme688(FakeBme68xBus(variant=v, adc_temp=t, adc_pres=p, adc_hum=h, adc_gas=g,
                                                gas_range=r)).read()) for t, p, h, g, r, v in cases]
    assert got == expected


class FakeAdc:
    def __init__(self, uv: list[int]) -> None:
        self.uv = uv
        self.i = 0

    def read_uv(self) -> int:
        self.i += 1
        return self.uv[(self.i - 1) % len(self.uv)]


def test_battery_scales_the_mean_pin_voltage_by_the_divider() -> None:
    gauge = BatteryGauge(FakeAdc([1_950_000, 2_050_000]), top_kohm=100, bottom_kohm=100, samples=8)
    assert gauge.read_mv() == 4000
    assert BatteryGauge(FakeAdc([1_000_000]), top_kohm=220, bottom_kohm=100).read_mv() == 3200
    with pytest.raises(ValueError):
        BatteryGauge(FakeAdc([0]), top_kohm=100, bottom_kohm=0)


def test_calibration_bytes_decode_to_the_named_coefficients() -> None:
    cal = bme688.Bme688(FakeBme68xBus()).cal
    assert {name: getattr(cal, name) for name in K} == K
