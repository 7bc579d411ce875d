"""Any labelled or unlabelled sensor CSV, mapped onto a Recording by column names.

`--map temperature=COL,humidity=COL,gas=COL[,gas_kind=resistance|concentration]`
says which columns hold what; every mistake (unknown key, missing column,
non-numeric cell, time unit, unsorted rows) is reported with the file, line and column,
by the same strict reader (training/sensor_table.py) `evaluate` and `calibrate` use.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_node.core.features import GAS_SIGN_CONCENTRATION, GAS_SIGN_RESISTANCE
from training.recordings import Recording
from training.sensor_table import TIME_UNITS, InputError, SensorTable, read_sensor_csv

GAS_KINDS = {"resistance": GAS_SIGN_RESISTANCE, "concentration": GAS_SIGN_CONCENTRATION}
_REQUIRED_KEYS = ("temperature", "humidity", "gas")
_MISSING_TEXT = {"", "na", "nan", "null", "none"}


class MappingError(InputError):
    """A column mapping or CSV that cannot be read as sensor data; the message says why."""


@dataclass(frozen=True)
class ColumnMap:
    temperature: str
    humidity: str
    gas: str
    gas_sign: int
    label: str | None = None
    time: str | None = None


def parse_column_map(text: str, label: str | None = None, time: str | None = None) -> ColumnMap:
    """Parse 'temperature=T,humidity=RH,gas=R[,gas_kind=resistance]' into a ColumnMap."""
    pairs: dict[str, str] = {}
    for part in [p for p in text.split(",") if p.strip()]:
        if "=" not in part:
            raise MappingError(f"--map entry {part!r} is not KEY=COLUMN")
        key, col = (s.strip() for s in part.split("=", 1))
        if key not in _REQUIRED_KEYS + ("gas_kind",):
            raise MappingError(f"--map key {key!r} unknown; use temperature, humidity, gas, gas_kind")
        if not col:
            raise MappingError(f"--map key {key!r} has an empty column name")
        pairs[key] = col
    missing = [k for k in _REQUIRED_KEYS if k not in pairs]
    if missing:
        raise MappingError(f"--map lacks {', '.join(missing)} (need temperature=COL,humidity=COL,gas=COL)")
    kind = pairs.get("gas_kind", "resistance")
    if kind not in GAS_KINDS:
        raise MappingError(f"gas_kind {kind!r} unknown; use resistance (MOX, falls in smoke) "
                           "or concentration (eCO2/TVOC, rises in smoke)")
    return ColumnMap(pairs["temperature"], pairs["humidity"], pairs["gas"], GAS_KINDS[kind], label, time)


def read_columns(path: Path, names: list[str]) -> dict[str, list[str]]:
    """Read the named columns as text, checking they exist (header names are stripped of quotes)."""
    path = Path(path)
    if not path.is_file():
        raise MappingError(f"CSV file {path} does not exist")
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise MappingError(f"{path} is empty") from None
        absent = [n for n in names if n not in header]
        if absent:
            raise MappingError(f"{path.name} has no column {', '.join(map(repr, absent))}; "
                               f"columns are: {', '.join(header)}")
        # Some exports (e.g. R's write.csv) give data rows one more cell than the header.
        cols: dict[str, list[str]] = {n: [] for n in names}
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            offset = len(row) - len(header)
            if offset < 0:
                raise MappingError(f"{path.name} line {line_no}: {len(row)} cells, header has {len(header)}")
            for n in names:
                cols[n].append(row[header.index(n) + offset])
    return cols


def to_float_array(values: list[str], column: str, source: str,
                   missing_values: tuple[float, ...] = ()) -> np.ndarray:
    """Numbers from text; empty/NA and the given sentinel values become NaN."""
    out = np.empty(len(values))
    for i, text in enumerate(values):
        t = text.strip()
        if t.lower() in _MISSING_TEXT:
            out[i] = math.nan
            continue
        try:
            v = float(t)
        except ValueError:
            raise MappingError(f"{source}: column {column!r} data row {i + 1} is {text!r}, not a number") from None
        out[i] = math.nan if v in missing_values else v
    return out


def check_gas_values(table: SensorTable, gas: str, gas_sign: int) -> None:
    """A resistance is > 0 and a concentration is >= 0: anything else is a wrong mapping, said with its line."""
    g = table.columns[gas]
    if gas_sign == GAS_SIGN_RESISTANCE and np.nanmin(g) <= 0:
        bad = int(np.flatnonzero(g <= 0)[0])
        raise MappingError(f"{table.path} line {table.line[bad]} column {gas!r}: {g[bad]:g} is not a resistance "
                           "(> 0); a concentration sensor needs gas_kind=concentration")
    if gas_sign == GAS_SIGN_CONCENTRATION and np.nanmin(g) < 0:
        bad = int(np.flatnonzero(g < 0)[0])
        raise MappingError(f"{table.path} line {table.line[bad]} column {gas!r}: a negative concentration")


def load_mapped_csv(path: Path, cmap: ColumnMap, row_interval_s: float = 1.0,
                    missing_values: tuple[float, ...] = (), time_unit: str = "auto", sort: bool = False,
                    delimiter: str = ",") -> Recording:
    """A user CSV as a Recording, read as strictly as `evaluate` and `calibrate` read it.

    Without a time column rows are row_interval_s apart; sentinel values become gaps the node skips.
    """
    names = [cmap.temperature, cmap.humidity, cmap.gas]
    if cmap.label and cmap.label not in names:
        names.append(cmap.label)
    try:
        table = read_sensor_csv(path, names, cmap.time, time_unit, row_interval_s, sort, delimiter, missing_values)
    except InputError as exc:
        raise MappingError(str(exc)) from None
    check_gas_values(table, cmap.gas, cmap.gas_sign)
    label = None
    if cmap.label:
        raw = table.columns[cmap.label]
        if np.isnan(raw).any():
            bad = int(np.flatnonzero(np.isnan(raw))[0])
            raise MappingError(f"{table.path} line {table.line[bad]} column {cmap.label!r}: a missing label")
        label = (raw > 0).astype(np.int64)
    src = Path(path).name
    return Recording(src, table.t_s, table.columns[cmap.temperature], table.columns[cmap.humidity],
                     table.columns[cmap.gas], cmap.gas_sign, label,
                     provenance=f"user CSV {path} (time read as {table.time_unit})")


def add_csv_arguments(parser, csv_help: str) -> None:
    """The same --csv/--map/--label/--time options for `emberwatch train` and `emberwatch evaluate`."""
    parser.add_argument("--csv", type=Path, help=csv_help)
    parser.add_argument("--map", dest="column_map",
                        help="temperature=COL,humidity=COL,gas=COL[,gas_kind=resistance|concentration]")
    parser.add_argument("--label", help="CSV column with 1 = fire/smoke, 0 = normal")
    parser.add_argument("--time", help="CSV column with epoch seconds or ISO date-times")
    parser.add_argument("--row-interval-s", type=float, default=1.0, help="row spacing when there is no --time")
    parser.add_argument("--missing", type=float, action="append", default=[],
                        help="sentinel value meaning 'missing' (repeatable), e.g. --missing -200")
    parser.add_argument("--time-unit", choices=TIME_UNITS, default="auto",
                        help="unit of --time: s, ms, iso (ISO 8601), or auto (detected and reported)")
    parser.add_argument("--sort", action="store_true", help="sort rows by time instead of refusing unsorted input")
    parser.add_argument("--delimiter", default=",", help="CSV field separator (default ','; e.g. ';')")


def recording_from_args(args) -> Recording | None:
    """The --csv recording, or None without --csv; MappingError says what is wrong."""
    if not args.csv:
        return None
    if not args.column_map:
        raise MappingError("--csv needs --map temperature=COL,humidity=COL,gas=COL[,gas_kind=...]")
    cmap = parse_column_map(args.column_map, label=args.label, time=args.time)
    return load_mapped_csv(args.csv, cmap, args.row_interval_s, tuple(args.missing), args.time_unit, args.sort,
                           args.delimiter)
