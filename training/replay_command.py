"""What `emberwatch evaluate --csv` and `emberwatch calibrate --csv` share: options, reading, the node pipeline.

Both replay a user's recording through the real node pipeline (edge_node.core), so
they read the CSV strictly (training/sensor_table.py) and build the pipeline from a
weights module with the user's overrides; every problem is reported before any work.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
from pathlib import Path

import numpy as np

from edge_node.core.detector import Detector
from edge_node.core.pipeline import NodePipeline
from edge_node.core.scoring import Int8Autoencoder
from training.csv_mapping import check_gas_values, parse_column_map
from training.node_replay import EVENT_KINDS, Event, events_from_label
from training.sensor_table import InputError, SensorTable, _times_s, read_sensor_csv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIN_SAMPLES = 20


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threshold", type=int, help="override the model's factory threshold")
    parser.add_argument("--debounce", help="override k/n (alert when k of the last n samples are over)")
    parser.add_argument("--cooldown-s", type=int, help="override the cooldown")
    parser.add_argument("--interval-s", type=int, help="node wake interval to replay at (default: the model's)")


def load_weights_module(path: Path):
    if not Path(path).is_file():
        raise InputError(f"weights module {path} not found; run `emberwatch train` first")
    spec = importlib.util.spec_from_file_location("emberwatch_replay_weights", path)
    if spec is None or spec.loader is None:
        raise InputError(f"{path} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def detector_settings(args, weights) -> tuple[int, int, int, int, int]:
    """(threshold, k, n, cooldown_s, interval_s) with the overrides applied and checked."""
    k, n = weights.DEBOUNCE_K, weights.DEBOUNCE_N
    if args.debounce:
        try:
            k, n = (int(v) for v in args.debounce.split("/"))
        except ValueError:
            raise InputError(f"--debounce must look like 2/3, got {args.debounce!r}") from None
        if not 1 <= k <= n <= 30:
            raise InputError("--debounce needs 1 <= k <= n <= 30")
    thr = weights.THRESHOLD if args.threshold is None else args.threshold
    cool = weights.COOLDOWN_S if args.cooldown_s is None else args.cooldown_s
    interval = int(getattr(weights, "SAMPLE_INTERVAL_S", 30)) if args.interval_s is None else args.interval_s
    if thr < 0 or cool < 0 or interval < 1:
        raise InputError("--threshold and --cooldown-s must be >= 0, --interval-s >= 1")
    return thr, k, n, cool, interval


def make_pipeline(weights, thr: int, k: int, n: int, cool: int) -> NodePipeline:
    return NodePipeline(Int8Autoencoder.from_module(weights), Detector(thr, k, n, cool))


def parse_map(text: str | None) -> tuple[str, str, str, int]:
    if not text:
        raise InputError("--csv needs --map temperature=COL,humidity=COL,gas=COL[,gas_kind=...]")
    cmap = parse_column_map(text)  # its MappingError is an InputError
    return cmap.temperature, cmap.humidity, cmap.gas, cmap.gas_sign


def read_table(args, extra_columns: tuple[str, ...] = ()) -> tuple[SensorTable, tuple[str, str, str, int]]:
    temp, rh, gas, sign = parse_map(args.column_map)
    cols = [temp, rh, gas] + [c for c in extra_columns if c]
    table = read_sensor_csv(args.csv, cols, args.time, args.time_unit, args.row_interval_s, args.sort,
                            args.delimiter, tuple(args.missing))
    check_gas_values(table, gas, sign)
    return table, (temp, rh, gas, sign)


def check_length(table: SensorTable, interval_s: int, what: str) -> None:
    span = float(table.t_s[-1] - table.t_s[0]) if len(table.t_s) > 1 else 0.0
    wakes = int(span // interval_s) + 1
    if wakes < MIN_SAMPLES:
        raise InputError(f"{table.path}: {len(table.t_s)} rows spanning {span:.0f} s give {wakes} node samples at "
                         f"{interval_s} s; {what} needs at least {MIN_SAMPLES} ({MIN_SAMPLES * interval_s // 60} min), "
                         "or a shorter --interval-s")


def read_events(path: Path, table: SensorTable, time_unit: str, delimiter: str) -> list[Event]:
    """--events FILE: columns start,end,kind[,name]; times in the data's own time unit."""
    if not Path(path).is_file():
        raise InputError(f"{path}: no such file")
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [r for r in csv.DictReader(f, delimiter=delimiter)]
    if not rows or not {"start", "end", "kind"} <= set(rows[0]):
        raise InputError(f"{path}: needs a header with start,end,kind[,name] and at least one row")
    unit = table.time_unit if table.time_unit != "rows" else "s"
    lines = np.arange(2, len(rows) + 2)
    starts, _ = _times_s(Path(path), [r["start"] or "" for r in rows], lines, "start", unit)
    ends, _ = _times_s(Path(path), [r["end"] or "" for r in rows], lines, "end", unit)
    out = []
    for i, r in enumerate(rows):
        kind = (r["kind"] or "").strip()
        if kind not in EVENT_KINDS:
            raise InputError(f"{path} line {i + 2} column 'kind': {kind!r}; use fire or nuisance")
        if ends[i] < starts[i]:
            raise InputError(f"{path} line {i + 2}: end before start")
        out.append(Event(kind, float(starts[i]), float(ends[i]), (r.get("name") or "").strip()))
    return out


def label_events(table: SensorTable, label_column: str | None) -> list[Event]:
    if not label_column:
        return []
    return events_from_label(table.t_s, table.columns[label_column])
