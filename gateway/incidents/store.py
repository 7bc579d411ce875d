"""Reading incidents (and what the engine needs to resume) back from InfluxDB or the SQLite store.

After a restart, even a kill -9, the engine carries on from the store: every open incident from
its newest stored transition (which holds its evidence), the suspect-level alerts still waiting
for a neighbour to agree, node positions and sensor faults from the newest heartbeats, and the
newest wind. Operator acknowledgements and resolutions, written by
`emberwatch incidents`, are read the same way while the gateway runs.
"""

from __future__ import annotations

from typing import Protocol

from edge_node.core.schema import LEVEL_SUSPECT
from gateway.config import StoreSettings
from gateway.incidents.model import ACKNOWLEDGED, RESOLVED
from gateway.influx_query import influxql_rows
from gateway.sqlite_sink import read_rows

DAY_MS = 86_400_000
INCIDENT_LOOKBACK_MS = 30 * DAY_MS  # an open incident's newest transition is at most this old
POSITION_LOOKBACK_MS = 7 * DAY_MS
WEATHER_LOOKBACK_MS = 3_600_000


class IncidentStore(Protocol):
    def latest_incidents(self, since_ms: int) -> list[dict]:
        """The newest stored transition of every incident with one since since_ms (row dicts, `time` in ms)."""
        ...

    def operator_actions(self, since_ms: int) -> list[dict]:
        """Acknowledgements and operator resolutions stored after since_ms, oldest first."""
        ...

    def node_positions(self, since_ms: int) -> list[dict]:
        """site, node, lat, lon, faults of each node's newest heartbeat."""
        ...

    def latest_weather(self, since_ms: int) -> list[dict]:
        """site, time, wind_ms, wind_dir_deg of each site's newest weather message."""
        ...

    def suspect_alerts(self, since_ms: int) -> list[dict]:
        """site, node, time, score, threshold, faults of every suspect-level alert since since_ms, oldest first."""
        ...


def open_store(settings: StoreSettings) -> IncidentStore:
    if settings.kind == "sqlite":
        return SqliteIncidentStore(settings.url)
    return InfluxIncidentStore(settings)


def _newest_per(rows: list[dict], key: str) -> list[dict]:
    newest: dict[object, dict] = {}
    for row in rows:
        if row.get(key) is not None and (row[key] not in newest or row["time"] >= newest[row[key]]["time"]):
            newest[row[key]] = row
    return sorted(newest.values(), key=lambda r: r["time"])


class InfluxIncidentStore:
    """InfluxQL over the v1 /query API, which every InfluxDB generation serves."""

    def __init__(self, settings: StoreSettings, timeout_s: float = 30.0) -> None:
        self.settings = settings
        self.timeout_s = timeout_s

    def query(self, q: str) -> list[dict]:
        return influxql_rows(self.settings, q, self.timeout_s)

    def latest_incidents(self, since_ms: int) -> list[dict]:
        # LIMIT applies per series, so this is each incident's newest transition.
        return self.query(f'SELECT * FROM "incident" WHERE time >= {since_ms}ms GROUP BY "incident" '
                          'ORDER BY time DESC LIMIT 1')

    def operator_actions(self, since_ms: int) -> list[dict]:
        rows = self.query(f'SELECT * FROM "incident" WHERE time > {since_ms}ms AND ("state" = \'{ACKNOWLEDGED}\' '
                          f'OR ("state" = \'{RESOLVED}\' AND "by" != \'\')) GROUP BY "incident"')
        return sorted(rows, key=lambda r: r["time"])

    def node_positions(self, since_ms: int) -> list[dict]:
        where = f"WHERE time >= {since_ms}ms GROUP BY \"site\", \"node\""
        placed = self.query(f'SELECT last("lat") AS "lat", "lon" FROM "heartbeat" {where}')
        faults = {(r["site"], r["node"]): r.get("faults") for r in
                  self.query(f'SELECT last("faults") AS "faults" FROM "heartbeat" {where}')}
        out = [{**r, "faults": faults.pop((r["site"], r["node"]), None)} for r in placed]
        return out + [{"site": s, "node": n, "lat": None, "lon": None, "faults": f} for (s, n), f in faults.items()]

    def latest_weather(self, since_ms: int) -> list[dict]:
        return self.query(f'SELECT last("wind_ms") AS "wind_ms", "wind_dir_deg" FROM "weather" '
                          f'WHERE time >= {since_ms}ms GROUP BY "site"')

    def suspect_alerts(self, since_ms: int) -> list[dict]:
        rows = self.query(f'SELECT "score", "threshold", "faults" FROM "alert" WHERE time >= {since_ms}ms '
                          f'AND "level" = {LEVEL_SUSPECT} GROUP BY "site", "node"')
        return sorted(rows, key=lambda r: r["time"])


class SqliteIncidentStore:
    def __init__(self, path: str) -> None:
        self.path = path

    def _rows(self, sql: str, args: tuple = ()) -> list[dict]:
        return read_rows(self.path, sql, args)

    def _timed(self, sql: str, args: tuple = ()) -> list[dict]:
        return [{**r, "time": r["t_ms"]} for r in self._rows(sql, args)]

    def latest_incidents(self, since_ms: int) -> list[dict]:
        return _newest_per(self._timed("SELECT * FROM incident WHERE t_ms >= ? ORDER BY t_ms", (since_ms,)),
                           "incident")

    def operator_actions(self, since_ms: int) -> list[dict]:
        return self._timed("SELECT * FROM incident WHERE t_ms > ? AND (state = ? OR (state = ? AND by != '')) "
                           "ORDER BY t_ms", (since_ms, ACKNOWLEDGED, RESOLVED))

    def node_positions(self, since_ms: int) -> list[dict]:
        rows = self._timed("SELECT site, node, t_ms, lat, lon, faults FROM heartbeat WHERE t_ms >= ? ORDER BY t_ms",
                           (since_ms,))
        newest: dict[tuple[str, str], dict] = {}
        for r in rows:
            mine = newest.setdefault((r["site"], r["node"]), {"site": r["site"], "node": r["node"], "lat": None,
                                                              "lon": None, "faults": None})
            if r["lat"] is not None and r["lon"] is not None:
                mine["lat"], mine["lon"] = r["lat"], r["lon"]
            if r["faults"] is not None:
                mine["faults"] = r["faults"]
        return list(newest.values())

    def latest_weather(self, since_ms: int) -> list[dict]:
        return _newest_per(self._timed("SELECT site, t_ms, wind_ms, wind_dir_deg FROM weather WHERE t_ms >= ? "
                                       "ORDER BY t_ms", (since_ms,)), "site")

    def suspect_alerts(self, since_ms: int) -> list[dict]:
        return self._timed("SELECT site, node, t_ms, score, threshold, faults FROM alert WHERE t_ms >= ? "
                           "AND level = ? ORDER BY t_ms", (since_ms, LEVEL_SUSPECT))
