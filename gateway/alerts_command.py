"""`emberwatch alerts`: alert history as a table, from InfluxDB (InfluxQL over /query) or the SQLite store."""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time

from edge_node.core.schema import is_valid_id
from gateway.config import ConfigError, StoreSettings, store_from_flags
from gateway.influx_query import StoreNotReadable, influxql_rows
from gateway.sink import SinkUnavailable

HELP = "Show alert history (e.g. --since 24h --site ridge) from InfluxDB or the embedded SQLite store"

COLUMNS = ("time", "site", "node", "seq", "score", "threshold", "temp_c", "rh_pct", "gas_index", "battery_mv")
FLOAT_COLUMNS = ("temp_c", "rh_pct", "gas_index")  # InfluxDB's JSON writes 18.0 as 18
_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
FORMATS = ("table", "json", "csv")
_DEFAULT_SINCE = -1  # 24h from InfluxDB, all from SQLite: resolved once the store is known


class AlertsError(RuntimeError):
    """The store could not be read; the message says why."""


def parse_since_s(text: str) -> int | None:
    """'90m', '24h', '7d' -> seconds; 'all' -> None (no lower bound)."""
    if text.strip() == "all":
        return None
    match = re.fullmatch(r"(\d+)([smhdw])", text.strip())
    if not match or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30m, 24h or 7d, or all")
    return int(match.group(1)) * _UNITS_S[match.group(2)]


def _id(text: str) -> str:
    if not is_valid_id(text):
        raise argparse.ArgumentTypeError(f"{text!r} must be 1-32 chars of [A-Za-z0-9_-]")
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=parse_since_s, default=_DEFAULT_SINCE, metavar="DURATION",
                        help="how far back, e.g. 30m, 24h, 7d, or all (default: 24h from InfluxDB; all from a SQLite "
                             "store, such as `emberwatch demo --store`, whose simulated clock is not today's)")
    parser.add_argument("--site", type=_id, help="only this site")
    parser.add_argument("--node", type=_id, help="only this node")
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="table for people (default), json (a list of objects) or csv (a header row) for tools")
    parser.add_argument("--influx-url", help="InfluxDB to read, e.g. http://localhost:8086 (overrides $EMBERWATCH_INFLUX_URL)")
    parser.add_argument("--influx-db", help="its database (overrides $EMBERWATCH_INFLUX_DB, default emberwatch)")
    parser.add_argument("--sqlite", help="SQLite store to read instead, e.g. the demo's (overrides $EMBERWATCH_SQLITE_PATH)")


def influxql_for(since_ms: int, site: str | None, node: str | None) -> str:
    # site and node passed is_valid_id, so they cannot break out of the quotes.
    where = [f"time >= {since_ms}ms"]
    if site:
        where.append(f"site = '{site}'")
    if node:
        where.append(f"node = '{node}'")
    return f"SELECT {', '.join(COLUMNS[1:])} FROM alert WHERE {' AND '.join(where)} ORDER BY time ASC"


def alerts_from_influx(store: StoreSettings, since_ms: int, site: str | None, node: str | None) -> list[dict]:
    try:
        return influxql_rows(store, influxql_for(since_ms, site, node))
    except (SinkUnavailable, StoreNotReadable) as exc:
        raise AlertsError(str(exc)) from exc


def alerts_from_sqlite(path: str, since_ms: int, site: str | None, node: str | None) -> list[dict]:
    if not os.path.exists(path):
        raise AlertsError(f"no SQLite store at {path}")
    from gateway.sqlite_sink import SqliteSink

    store = SqliteSink(path)
    try:
        rows = store.alerts_since(since_ms, site, node)
    finally:
        store.close()
    return [{**row, "time": row["t_ms"]} for row in rows]


def format_table(rows: list[dict]) -> str:
    cells = [list(COLUMNS)]
    for row in rows:
        t = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row["time"] / 1000)) + "Z"
        cells.append([t] + [_cell(row.get(c), c in FLOAT_COLUMNS) for c in COLUMNS[1:]])
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells)


def _cell(value: object, is_float: bool) -> str:
    if value is None:
        return "-"
    if is_float and isinstance(value, (int, float)):
        return f"{value:.2f}"
    return str(value)


def run(args: argparse.Namespace, now_s: float | None = None) -> int:
    try:
        store = store_from_flags(args.influx_url, args.influx_db, args.sqlite)
    except ConfigError as exc:
        print("emberwatch alerts: no alert store to read (give --influx-url or --sqlite):\n  - "
              + "\n  - ".join(exc.problems), file=sys.stderr)
        return 2
    since_s = args.since
    if since_s == _DEFAULT_SINCE:
        since_s = None if store.kind == "sqlite" else 24 * 3600
    since_ms = 0 if since_s is None else int(((time.time() if now_s is None else now_s) - since_s) * 1000)
    try:
        if store.kind == "sqlite":
            rows = alerts_from_sqlite(store.url, since_ms, args.site, args.node)
        else:
            rows = alerts_from_influx(store, since_ms, args.site, args.node)
    except AlertsError as exc:
        print(f"emberwatch alerts: error: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps([_record(row) for row in rows], indent=1))
        return 0
    if args.format == "csv":
        out = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
        out.writeheader()
        out.writerows(_record(row) for row in rows)
        return 0
    print(format_table(rows))
    since = "the beginning" if since_s is None else time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(since_ms / 1000))
    print(f"{len(rows)} alert(s) since {since}")
    return 0


def _record(row: dict) -> dict:
    """One alert for tools: ISO-8601 UTC time, the table's columns, missing readings as null."""
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(row["time"] / 1000)) + f".{row['time'] % 1000:03d}Z"
    return {"time": t, **{c: row.get(c) for c in COLUMNS[1:]}}
