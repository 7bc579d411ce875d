"""A user's sensor CSV read strictly: every bad input is an error naming the file, line and column.

Used by `emberwatch evaluate --csv` and `emberwatch calibrate --csv`, which replay the rows
through the node's own pipeline and so must not guess: an empty cell, a word in a number
column, rows out of time order or two rows at the same time are reported before any work,
never silently dropped or reordered (unless --sort asks for it). Times may be epoch or
relative seconds, milliseconds or ISO 8601; the unit is declared (--time-unit) or detected
and always reported: numbers above 1e11 are epoch milliseconds (1e11 s is the year 5138),
1e9-1e11 epoch seconds; smaller (relative) times are seconds only when rows are under 100
apart, otherwise the file could be either (1 Hz in ms, or 5 min in s) and must be declared.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

TIME_UNITS = ("auto", "s", "ms", "iso")
EPOCH_MS_ABOVE = 1e11
EPOCH_S_ABOVE = 1e9  # 2001-09-09: relative times are smaller


class InputError(ValueError):
    """A CSV that cannot be replayed as written; the message names file, line and column."""


@dataclass(frozen=True)
class SensorTable:
    path: Path
    t_s: np.ndarray        # seconds, float, strictly increasing
    line: np.ndarray       # the file line each row came from (header = line 1)
    columns: dict          # name -> float array, in the same (possibly sorted) order
    time_unit: str         # what the time column was read as: s, ms or iso (or "rows")


def _open_rows(path: Path, delimiter: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8-sig") as f:
        text_rows = list(csv.reader(f, delimiter=delimiter))
    rows = [(i + 1, r) for i, r in enumerate(text_rows) if r and any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"{path}: the file is empty")
    header = [h.strip() for h in rows[0][1]]
    if delimiter == "," and len(header) == 1 and ";" in header[0]:
        raise InputError(f"{path} line 1: the header is separated by ';', not ','; "
                         "pass --delimiter ';' (a semicolon CSV, e.g. from a spreadsheet in a comma-decimal locale)")
    return header, rows[1:]


def read_sensor_csv(path: Path, columns: list[str], time_column: str | None, time_unit: str = "auto",
                    row_interval_s: float = 1.0, sort: bool = False, delimiter: str = ",",
                    missing_values: tuple[float, ...] = (), optional: tuple[str, ...] = ()) -> SensorTable:
    """Read the named numeric columns (and the time column) or raise InputError naming what is wrong.

    `optional` columns may have empty cells (read as NaN): a label column with gaps is an error,
    but e.g. an event-kind column is not required on every row.
    """
    path = Path(path)
    if time_unit not in TIME_UNITS:
        raise InputError(f"--time-unit must be one of {', '.join(TIME_UNITS)}, got {time_unit!r}")
    header, rows = _open_rows(path, delimiter)
    wanted = list(columns) + ([time_column] if time_column else [])
    absent = [c for c in wanted if c not in header]
    if absent:
        raise InputError(f"{path}: no column {', '.join(map(repr, absent))}; the columns are: {', '.join(header)}")
    if not rows:
        raise InputError(f"{path}: a header but no data rows")
    index = {c: header.index(c) for c in wanted}
    values = {c: np.empty(len(rows)) for c in columns}
    lines = np.array([ln for ln, _ in rows], dtype=np.int64)
    for r, (ln, row) in enumerate(rows):
        if len(row) != len(header):
            raise InputError(f"{path} line {ln}: {len(row)} cells, the header has {len(header)}")
        for c in columns:
            text = row[index[c]].strip()
            if not text:
                if c in optional:
                    values[c][r] = math.nan
                    continue
                raise InputError(f"{path} line {ln} column {c!r}: empty cell")
            try:
                v = float(text)
            except ValueError:
                hint = " (a decimal comma? this reader wants 21.5, not 21,5)" if "," in text else ""
                raise InputError(f"{path} line {ln} column {c!r}: {text!r} is not a number{hint}") from None
            if not math.isfinite(v):
                raise InputError(f"{path} line {ln} column {c!r}: {text!r} is not a finite number")
            values[c][r] = math.nan if v in missing_values else v
    if time_column:
        t_s, unit = _times_s(path, [row[index[time_column]] for _, row in rows], lines, time_column, time_unit)
    else:
        t_s, unit = np.arange(len(rows)) * float(row_interval_s), "rows"
    order = np.argsort(t_s, kind="stable")
    if sort:
        t_s, lines = t_s[order], lines[order]
        values = {c: v[order] for c, v in values.items()}
    dt = np.diff(t_s)
    if np.any(dt < 0):
        i = int(np.flatnonzero(dt < 0)[0])
        raise InputError(f"{path} line {lines[i + 1]} column {time_column!r}: time goes back "
                         f"(before line {lines[i]}); pass --sort to sort the rows by time")
    if np.any(dt == 0):
        i = int(np.flatnonzero(dt == 0)[0])
        raise InputError(f"{path} line {lines[i + 1]} column {time_column!r}: the same time as line {lines[i]}; "
                         "one reading per time, please (two sensors in one file? split it)")
    return SensorTable(path, t_s, lines, values, unit)


def _times_s(path: Path, texts: list[str], lines: np.ndarray, column: str, unit: str) -> tuple[np.ndarray, str]:
    out = np.empty(len(texts))
    if unit == "auto":
        first = texts[0].strip()
        try:
            float(first)
            unit = "number"
        except ValueError:
            unit = "iso"
    for i, text in enumerate(texts):
        t = text.strip()
        if not t:
            raise InputError(f"{path} line {lines[i]} column {column!r}: empty time")
        if unit == "iso":
            try:
                when = datetime.fromisoformat(t.replace("Z", "+00:00"))
            except ValueError:
                raise InputError(f"{path} line {lines[i]} column {column!r}: {t!r} is not an ISO 8601 "
                                 "date-time (2026-07-01T12:00:00Z)") from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)  # a recording without a zone: read as UTC
            out[i] = when.timestamp()
        else:
            try:
                out[i] = float(t)
            except ValueError:
                raise InputError(f"{path} line {lines[i]} column {column!r}: {t!r} is not a number "
                                 f"(time unit {unit})") from None
    if unit == "number":
        unit = _guess_unit(path, out, column)
    if unit == "ms":
        out = out / 1000.0
    return out, unit


def _guess_unit(path: Path, t: np.ndarray, column: str) -> str:
    size = float(np.median(np.abs(t)))
    if size > EPOCH_MS_ABOVE:
        return "ms"
    if size >= EPOCH_S_ABOVE:
        return "s"
    step = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    if abs(step) < 100:
        return "s"
    raise InputError(f"{path} column {column!r}: relative times {step:g} apart could be seconds or "
                     "milliseconds; say which with --time-unit s or --time-unit ms")
