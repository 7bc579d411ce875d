"""Loaders for the measured data sets in ../shared/data (never committed).

The smoke set repeats itself (see ../shared/data/README.md), so it is cut into
its unique contiguous blocks here, once, and every split downstream is a
range of rows inside one block: nothing is ever split at random.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import numpy as np

from edge_node.core.features import GAS_SIGN_CONCENTRATION, GAS_SIGN_RESISTANCE
from training.csv_mapping import read_columns, to_float_array
from training.recordings import Recording

SMOKE_FILE = "smoke_detection_iot/smoke_detection_iot__T_RH_eCO2_full62630.csv"
BME688_FILE = "bme688_clean_air/powietrze_label_1.csv"
AIR_QUALITY_FILE = "uci_air_quality/AirQualityUCI.csv"
OCCUPANCY_FILES = ("uci_occupancy/datatest.txt", "uci_occupancy/datatraining.txt", "uci_occupancy/datatest2.txt")

# Unique contiguous sessions of the 62,630-row smoke file, [start, stop) rows at 1 Hz.
# A_dup and C_dup repeat A and C (humidity, eCO2, label identical) and are never used.
SMOKE_BLOCKS = {
    "A": (0, 24994),        # 3,178 s normal, then a long alarm session without combustion signal
    "A_dup": (24994, 49988),
    "F": (49988, 51147),    # the strongest combustion signature
    "C": (51147, 56891),    # labelled normal; rows 54,788+ hold an unlabelled heat/eCO2 event
    "C_dup": (56891, 62630),
}
UNIQUE_SMOKE_BLOCKS = ("A", "F", "C")
UNLABELLED_EVENT_ROW_C = 54788  # block C's heat/eCO2 event under label 0 starts at this row


class DataMissing(FileNotFoundError):
    """The shared data folder (or one file of it) is not present on this machine."""


def default_data_dir() -> Path:
    env = os.environ.get("EMBERWATCH_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def _require(data_dir: Path, rel: str) -> Path:
    path = Path(data_dir) / rel
    if not path.is_file():
        raise DataMissing(f"{path} not found: the real data sets live in ../shared/data beside the project "
                          "(set EMBERWATCH_DATA_DIR to point elsewhere)")
    return path


def load_smoke_file(data_dir: Path) -> Recording:
    """The whole 62,630-row smoke file at 1 Hz: eCO2 is a concentration (sign +1)."""
    path = _require(data_dir, SMOKE_FILE)
    cols = read_columns(path, ["Temperature[C]", "Humidity[%]", "eCO2[ppm]", "Fire Alarm"])
    f = {k: to_float_array(v, k, path.name) for k, v in cols.items()}
    n = len(f["eCO2[ppm]"])
    return Recording("smoke_iot", np.arange(n, dtype=float), f["Temperature[C]"], f["Humidity[%]"],
                     f["eCO2[ppm]"], GAS_SIGN_CONCENTRATION, f["Fire Alarm"].astype(np.int64),
                     provenance=f"{SMOKE_FILE} (Kaggle smoke detection, 1 Hz)")


def load_smoke_blocks(data_dir: Path) -> dict[str, Recording]:
    """The unique contiguous sessions A, F, C of the smoke file."""
    rec = load_smoke_file(data_dir)
    return {b: rec.slice_rows(*SMOKE_BLOCKS[b], name=f"smoke_{b}") for b in UNIQUE_SMOKE_BLOCKS}


def load_bme688_clean_air(data_dir: Path) -> list[Recording]:
    """One series per (sensor, heater step): resistance is only comparable within one pair."""
    path = _require(data_dir, BME688_FILE)
    names = ["sensor_index", "timestamp_since_poweron", "temperature", "relative_humidity",
             "resistance_gassensor", "heater_profile_step_index", "error_code"]
    f = {k: to_float_array(v, k, path.name) for k, v in read_columns(path, names).items()}
    ok = f["error_code"] == 0
    out = []
    for sensor in sorted(set(f["sensor_index"][ok].astype(int))):
        for step in sorted(set(f["heater_profile_step_index"][ok].astype(int))):
            m = ok & (f["sensor_index"] == sensor) & (f["heater_profile_step_index"] == step)
            order = np.argsort(f["timestamp_since_poweron"][m], kind="stable")
            t_s = f["timestamp_since_poweron"][m][order] / 1000.0
            out.append(Recording(f"bme688_s{sensor}_h{step}", t_s, f["temperature"][m][order],
                                 f["relative_humidity"][m][order], f["resistance_gassensor"][m][order],
                                 GAS_SIGN_RESISTANCE, np.zeros(len(t_s), dtype=np.int64),
                                 provenance=f"{BME688_FILE} (BME688 clean outdoor air)",
                                 extra={"sensor": sensor, "heater_step": step}))
    return out


def load_air_quality(data_dir: Path) -> Recording:
    """Hourly street air; -200 marks missing. PT08.S1 rises with pollution, so sign +1."""
    path = _require(data_dir, AIR_QUALITY_FILE)
    cols = read_columns(path, ["Date", "Time", "T", "RH", "PT08_S1_CO"])
    t_s = np.array([datetime.strptime(d + " " + t, "%d/%m/%Y %H:%M:%S").timestamp()
                    for d, t in zip(cols["Date"], cols["Time"])])
    f = {k: to_float_array(cols[k], k, path.name, missing_values=(-200.0,)) for k in ("T", "RH", "PT08_S1_CO")}
    return Recording("uci_air_quality", t_s, f["T"], f["RH"], f["PT08_S1_CO"], GAS_SIGN_CONCENTRATION,
                     np.zeros(len(t_s), dtype=np.int64), provenance=f"{AIR_QUALITY_FILE} (UCI, hourly)")


def load_occupancy(data_dir: Path) -> list[Recording]:
    """Indoor minute data (CO2 by NDIR, a concentration); occupancy is not fire, so label 0."""
    out = []
    for rel in OCCUPANCY_FILES:
        path = _require(data_dir, rel)
        cols = read_columns(path, ["date", "Temperature", "Humidity", "CO2"])
        t_s = np.array([datetime.fromisoformat(v.strip()).timestamp() for v in cols["date"]])
        f = {k: to_float_array(cols[k], k, path.name) for k in ("Temperature", "Humidity", "CO2")}
        out.append(Recording(f"occupancy_{Path(rel).stem}", t_s, f["Temperature"], f["Humidity"], f["CO2"],
                             GAS_SIGN_CONCENTRATION, np.zeros(len(t_s), dtype=np.int64),
                             provenance=f"{rel} (UCI occupancy, 1/min)"))
    return out
