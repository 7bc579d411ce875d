"""LoRa time on air against Semtech AN1200.13 and the LoRaWAN figures in DESIGN.md."""

import pytest

from simulator.energy import lora_symbol_time_s, lora_time_on_air_s


def test_an1200_13_example_sf9_13_bytes() -> None:
    # AN1200.13: SF9, 125 kHz, CR 4/5, 8-symbol preamble, explicit header, CRC on, 13 bytes.
    assert lora_time_on_air_s(13, 9) * 1000 == pytest.approx(164.864, abs=1e-9)


@pytest.mark.parametrize("sf, expected_ms", [(7, 61.696), (12, 1482.752)])
def test_lorawan_23_byte_frame(sf: int, expected_ms: float) -> None:
    # 10-byte application payload + 13 bytes of LoRaWAN overhead; SF12 uses LDRO automatically.
    assert lora_time_on_air_s(23, sf) * 1000 == pytest.approx(expected_ms, abs=1e-6)


def test_low_data_rate_optimisation_is_automatic_only_from_16_ms_symbols() -> None:
    assert lora_symbol_time_s(10) < 0.016 <= lora_symbol_time_s(11)
    assert lora_time_on_air_s(23, 11) == lora_time_on_air_s(23, 11, low_data_rate_opt=True)
    assert lora_time_on_air_s(23, 11) != lora_time_on_air_s(23, 11, low_data_rate_opt=False)
    assert lora_time_on_air_s(23, 10) == lora_time_on_air_s(23, 10, low_data_rate_opt=False)


def test_options_change_time_on_air_in_the_expected_direction() -> None:
    base = lora_time_on_air_s(20, 9)
    assert lora_time_on_air_s(20, 9, coding_rate=4) > base
    assert lora_time_on_air_s(20, 9, bw_hz=250_000) < base
    assert lora_time_on_air_s(20, 9, explicit_header=False) <= base
    assert lora_time_on_air_s(20, 9, crc=False) <= base
    assert lora_time_on_air_s(20, 9, preamble_symbols=16) == pytest.approx(base + 8 * lora_symbol_time_s(9))


def test_time_on_air_grows_with_sf_and_payload() -> None:
    times = [lora_time_on_air_s(23, sf) for sf in range(7, 13)]
    assert times == sorted(times)
    sizes = [lora_time_on_air_s(n, 9) for n in range(0, 256, 5)]
    assert sizes == sorted(sizes)


@pytest.mark.parametrize("kwargs", [
    {"payload_bytes": 256, "sf": 9}, {"payload_bytes": -1, "sf": 9}, {"payload_bytes": 10, "sf": 5},
    {"payload_bytes": 10, "sf": 13}, {"payload_bytes": 10, "sf": 9, "coding_rate": 5},
    {"payload_bytes": 10, "sf": 9, "bw_hz": 0},
])
def test_bad_parameters_raise_clear_errors(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="must be"):
        lora_time_on_air_s(**kwargs)
