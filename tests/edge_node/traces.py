"""Sensor traces for the parity tests, as CSV text (t_s, temp_cc, rh_cp, gas_raw, gas_sign).

The synthetic one is committed; the real ones are derived at test time from
../shared/data (never committed) and are None when that folder is absent.
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED_DATA = HERE.parents[2] / "shared" / "data"
HEADER = "t_s,temp_cc,rh_cp,gas_raw,gas_sign"


def synthetic() -> str:
    return (HERE / "data" / "synthetic_trace.csv").read_text()


def _to_csv(rows: list[tuple[int, int, int, int, int]]) -> str:
    return HEADER + "\n" + "\n".join(",".join(str(v) for v in r) for r in rows) + "\n"


def bme688_clean_air(heater_step: int = 5) -> str | None:
    """All 8 BME688 sensors of the dev kit, one heater step, one after another (gas resistance
    is only comparable within one sensor and heater step). Time from the power-on counter."""
    path = SHARED_DATA / "bme688_clean_air" / "powietrze_label_1.csv"
    if not path.exists():
        return None
    by_sensor: dict[int, list[tuple[int, int, int, int, int]]] = {}
    with path.open() as f:
        for rec in csv.DictReader(f):
            if int(rec["heater_profile_step_index"]) != heater_step or rec["error_code"] != "0":
                continue
            sensor = int(rec["sensor_index"])
            by_sensor.setdefault(sensor, []).append((
                int(rec["timestamp_since_poweron"]) // 1000,
                round(float(rec["temperature"]) * 100),
                round(float(rec["relative_humidity"]) * 100),
                max(1, int(float(rec["resistance_gassensor"]))),
                -1))
    rows: list[tuple[int, int, int, int, int]] = []
    offset_s = 0
    for sensor in sorted(by_sensor):
        series = by_sensor[sensor]
        for r in series:
            rows.append((r[0] + offset_s,) + r[1:])
        offset_s = rows[-1][0] + 60 - series[0][0] if series else offset_s
    return _to_csv(rows)


def smoke_session(every_s: int = 10) -> str | None:
    """The continuous IoT smoke session (3,178 s normal, then alarm), every `every_s`-th second,
    with the SGP30 raw ethanol signal as the gas value (it falls in smoke, like a resistance)."""
    path = SHARED_DATA / "smoke_detection_iot" / "smoke_detection_iot__allcols_first10081__repaired.csv"
    if not path.exists():
        return None
    rows = []
    with path.open() as f:
        for i, rec in enumerate(csv.DictReader(f)):
            if i % every_s:
                continue
            rows.append((int(rec["UTC"]), round(float(rec["Temperature[C]"]) * 100),
                         round(float(rec["Humidity[%]"]) * 100), max(1, int(rec["Raw Ethanol"])), -1))
    return _to_csv(rows)
