"""Resuming the fire-weather codes from the store, so a gateway restart does not reset a site's FWI.

FFMC, DMC and DC carry yesterday into today (DC over weeks), so a site that restarted from the
start-up values would be rated as if the season had just begun. At start the gateway reads each
site's newest stored `fire_weather` rating (InfluxDB measurement or SQLite table, the one the gateway
writes) and, like gateway/incidents/store.py, any rating still waiting in the spool because the
store was down when it was made; the newest of the two wins. A rating older than RESUME_LOOKBACK_MS
is not resumed: after a month without one the standard start-up values are the better guess.
"""

from __future__ import annotations

import logging
import time

from gateway.config import GatewayConfig, StoreSettings
from gateway.fire_weather import FireWeatherProcessor, FireWeatherSettings
from gateway.influx_query import StoreNotReadable, influxql_rows
from gateway.spool import spooled_events
from gateway.sqlite_sink import read_rows

log = logging.getLogger("emberwatch.gateway.fire_weather")

DAY_MS = 86_400_000
RESUME_LOOKBACK_MS = 30 * DAY_MS
CODES = ("ffmc", "dmc", "dc")


def stored_ratings(settings: StoreSettings, since_ms: int) -> list[dict]:
    """site, time (ms), ffmc, dmc, dc of each site's newest rating since since_ms.

    Raises SinkUnavailable when the store does not answer, StoreNotReadable for a write-only login."""
    if settings.kind == "sqlite":
        return _sqlite_ratings(settings.url, since_ms)
    # last() with further fields returns them from the same (newest) point, per site.
    return influxql_rows(settings, 'SELECT last("ffmc") AS "ffmc", "dmc", "dc" FROM "fire_weather" '
                                   f'WHERE time >= {since_ms}ms GROUP BY "site"')


def _sqlite_ratings(path: str, since_ms: int) -> list[dict]:
    sql = ("SELECT f.site, f.t_ms AS time, f.ffmc, f.dmc, f.dc FROM fire_weather f JOIN "
           "(SELECT site, MAX(t_ms) AS t_ms FROM fire_weather WHERE t_ms >= ? GROUP BY site) newest "
           "ON f.site = newest.site AND f.t_ms = newest.t_ms")
    return read_rows(path, sql, (since_ms,))


def spooled_ratings(spool_dir: str | None) -> list[dict]:
    """Ratings made while the store was down, still in the spool: the store does not have them yet."""
    return [{"site": e.site, "time": e.t_ms, **{k: e.fields.get(k) for k in CODES}}
            for e in spooled_events(spool_dir, "fire_weather")]


def resume(processor: FireWeatherProcessor, rows: list[dict]) -> int:
    """Give each site its newest rating's codes; returns how many sites resumed."""
    newest: dict[str, dict] = {}
    for row in rows:
        if any(not isinstance(row.get(k), (int, float)) for k in CODES) or row.get("time") is None:
            continue  # a damaged row: that site starts over rather than from garbage
        site = str(row["site"])
        if site not in newest or int(row["time"]) >= int(newest[site]["time"]):
            newest[site] = row
    for site, row in newest.items():
        processor.resume(site, float(row["ffmc"]), float(row["dmc"]), float(row["dc"]), int(row["time"]))
    return len(newest)


def open_fire_weather_processor(config: GatewayConfig, settings: FireWeatherSettings,
                                now_ms: int | None = None) -> FireWeatherProcessor:
    """The gateway's fire-weather processor, resumed from its store and spool (raises SinkUnavailable
    while the store does not answer, so the gateway waits for it as it does for incidents)."""
    processor = FireWeatherProcessor(settings)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    try:
        rows = stored_ratings(config.store, now_ms - RESUME_LOOKBACK_MS)
    except StoreNotReadable as exc:
        log.error("fire-weather codes start over from the start-up values: %s", exc)
        rows = []
    resumed = resume(processor, rows + spooled_ratings(config.spool_dir))
    log.info("fire weather resumed the codes of %d site(s) from the store", resumed)
    return processor
