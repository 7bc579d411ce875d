"""Embedded store for the demo and for sites without InfluxDB: one SQLite file.

Tables mirror the Influx measurements (same fields, from `gateway.points`) and
rows are keyed like points (site, node, time) so a replay overwrites instead
of duplicating, exactly as in the Influx path.
"""

from __future__ import annotations

import sqlite3
import threading

from gateway.incidents.records import SQLITE_COLUMNS as INCIDENT_COLUMNS
from gateway.ingest import Event
from gateway.points import to_point
from gateway.sink import SinkUnavailable

_RADIO = ("rssi_dbm", "snr_db", "sf", "gateways", "fcnt")  # LoRaWAN radio metadata (gateway/lorawan)
_COLUMNS = {
    "alert": ("seq", "score", "threshold", "temp_c", "rh_pct", "gas", "gas_index", "battery_mv",
              "level", "boot", "faults", "node_time_ms", "clock_suspect") + _RADIO,
    "heartbeat": ("seq", "battery_mv", "temp_c", "rh_pct", "gas_index", "queued", "lat", "lon",
                  "boot", "faults", "battery_pct", "node_time_ms", "clock_suspect") + _RADIO,
    "node_state": ("state", "online", "reason"),
    "weather": ("seq", "wind_ms", "wind_dir_deg", "rain_mm", "temp_c", "rh_pct", "battery_mv",
                "node_time_ms", "clock_suspect"),
    "incident": INCIDENT_COLUMNS,  # node: the node whose evidence opened it (gateway/incidents/records.py)
    "fire_weather": ("ffmc", "dmc", "dc", "isi", "bui", "fwi", "temp_c", "rh_pct", "wind_kmh", "rain_mm", "nodes"),
}


def _create_sql(table: str) -> str:
    # seq is part of the key where there is one: two messages of a node in one millisecond are two
    # rows (stores made before this keep their old key, where the second replaces the first).
    cols = ", ".join(_COLUMNS[table])
    key = "site, node, t_ms, seq" if "seq" in _COLUMNS[table] else "site, node, t_ms"
    return (f"CREATE TABLE IF NOT EXISTS {table} (site TEXT NOT NULL, node TEXT NOT NULL, "
            f"t_ms INTEGER NOT NULL, {cols}, PRIMARY KEY ({key}))")


def read_rows(path: str, sql: str, args: tuple = ()) -> list[dict]:
    """Rows of one query on a store file as dicts; a table never written to reads as no rows."""
    try:
        db = sqlite3.connect(path, timeout=10)
        try:
            cur = db.execute(sql, args)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]
        finally:
            db.close()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise SinkUnavailable(f"SQLite store {path}: {exc}") from exc
    except sqlite3.Error as exc:  # not a database file, locked, corrupt
        raise SinkUnavailable(f"SQLite store {path}: {exc}") from exc


class SqliteSink:
    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        for table in _COLUMNS:
            self.db.execute(_create_sql(table))
            self._add_missing_columns(table)

    def _add_missing_columns(self, table: str) -> None:
        """A store made by an older gateway gains the columns schema v2 added (as NULLs)."""
        have = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
        for col in _COLUMNS[table]:
            if col not in have:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {col}")

    def write(self, events: list[tuple[Event, int]]) -> None:
        try:
            with self._lock, self.db:
                for event, received_ms in events:
                    table, fields, t_ms = to_point(event, received_ms)
                    cols = _COLUMNS[table]
                    self.db.execute(
                        f"INSERT OR REPLACE INTO {table} (site, node, t_ms, {', '.join(cols)}) "
                        f"VALUES ({','.join('?' * (3 + len(cols)))})",
                        (event.site, event.node, t_ms, *(fields.get(c) for c in cols)))
        except sqlite3.Error as exc:
            raise SinkUnavailable(f"SQLite store {self.path}: {exc}") from exc

    def alerts_since(self, since_ms: int, site: str | None = None, node: str | None = None) -> list[dict]:
        sql = "SELECT * FROM alert WHERE t_ms >= ?"
        args: list[object] = [since_ms]
        if site:
            sql += " AND site = ?"
            args.append(site)
        if node:
            sql += " AND node = ?"
            args.append(node)
        with self._lock:
            cur = self.db.execute(sql + " ORDER BY t_ms", args)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def close(self) -> None:
        with self._lock:
            self.db.close()
