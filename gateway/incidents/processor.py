"""The incident engine as a gateway EventProcessor, resumed from the store at start.

`open_incident_processor` does the I/O once (registry file, rebuild from the store); the
processor itself stays pure except for one injected reader that, every few seconds, fetches the
acknowledgements and resolutions operators stored with `emberwatch incidents`, so the engine
stops paging about an incident someone already handles.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping

from gateway.config import ConfigError, GatewayConfig
from gateway.incidents import records
from gateway.incidents import store as incident_store
from gateway.incidents.engine import IncidentEngine
from gateway.incidents.records import incident_from_row
from gateway.incidents.registry import RegistryError, load_registry
from gateway.incidents.settings import IncidentSettings
from gateway.influx_query import StoreNotReadable
from gateway.ingest import Event
from gateway.spool import spooled_events

log = logging.getLogger("emberwatch.gateway.incidents")

OPERATOR_POLL_MS = 5_000


class IncidentProcessor:
    def __init__(self, engine: IncidentEngine,
                 operator_actions: Callable[[int], list[dict]] | None = None, since_ms: int = 0) -> None:
        self.engine = engine
        self.operator_actions = operator_actions
        self._actions_since_ms = since_ms
        self._next_poll_ms = 0

    def observe(self, events: list[tuple[Event, int]], now_ms: int) -> list[Event]:
        out = self.engine.observe(events, now_ms)
        for transition in out:
            _log(transition)
        return out

    def tick(self, now_ms: int) -> list[Event]:
        if self.operator_actions is not None and now_ms >= self._next_poll_ms:
            self._next_poll_ms = now_ms + OPERATOR_POLL_MS
            try:
                actions = self.operator_actions(self._actions_since_ms)
            except Exception as exc:  # noqa: BLE001 - the store being down must not stop the gateway
                log.warning("cannot read operator actions on incidents: %s", exc)
                actions = []
            for row in actions:
                self._actions_since_ms = max(self._actions_since_ms, int(row["time"]))
                self.engine.operator(str(row["site"]), str(row["incident"]), str(row["state"]),
                                     str(row.get("by") or ""), int(row["time"]))
        out = self.engine.tick(now_ms)
        for transition in out:
            _log(transition)
        return out


def _log(event: Event) -> None:
    f = event.fields
    log.info("incident %s %s: %s", f["incident"], f["state"], f["reason"], extra={"fields": {
        "site": event.site, "incident": f["incident"], "state": f["state"], "nodes": f["nodes"],
        "lat": int(f["lat_e6"]) / 1e6, "lon": int(f["lon_e6"]) / 1e6, "radius_m": f["radius_m"],
        "confidence": int(f["confidence_pct"]) / 100}})


def spooled_incident_rows(spool_dir: str | None) -> list[dict]:
    """Incident transitions still waiting in the spool (the store was down when they were made):
    a gateway restarted before the spool drains must know them too, or it would reopen those fires."""
    return [{**records.sqlite_row(e), "site": e.site, "node": e.node, "time": e.t_ms}
            for e in spooled_events(spool_dir, records.KIND)]


def rebuild(engine: IncidentEngine, store: incident_store.IncidentStore, now_ms: int,
            spooled: list[dict] | None = None) -> int:
    """Load positions, faults, wind, every open incident (with transitions still in the spool) and the
    pending suspects from the store; returns how many open incidents were resumed."""
    for row in store.node_positions(now_ms - incident_store.POSITION_LOOKBACK_MS):
        book = engine.site(str(row["site"])).book
        if row.get("lat") is not None and row.get("lon") is not None:
            book.place(str(row["node"]), float(row["lat"]), float(row["lon"]))
        if row.get("faults") is not None:
            book.heartbeat(str(row["node"]), {"flt": int(row["faults"])})
    for row in store.latest_weather(now_ms - incident_store.WEATHER_LOOKBACK_MS):
        if row.get("wind_ms") is not None and row.get("wind_dir_deg") is not None:
            engine.observe([(Event("weather", str(row["site"]), "store", None, int(row["time"]), {
                "wind_cms": round(float(row["wind_ms"]) * 100), "wdir_deg": int(row["wind_dir_deg"])}), 0)], 0)
    newest: dict[str, dict] = {}
    for row in store.latest_incidents(now_ms - incident_store.INCIDENT_LOOKBACK_MS) + (spooled or []):
        mine = newest.get(str(row["incident"]))
        if mine is None or int(row["time"]) >= int(mine["time"]):
            newest[str(row["incident"])] = row
    restored = 0
    for row in newest.values():
        inc = incident_from_row(row)
        if inc is not None:
            engine.restore(inc)
            restored += 1
    # suspects still inside their window: one more from a neighbour after the restart opens the incident
    for row in store.suspect_alerts(now_ms - engine.settings.suspect_window_ms):
        engine.restore_suspect(str(row["site"]), str(row["node"]), int(row["time"]), int(row.get("score") or 0),
                               int(row.get("threshold") or 0), int(row.get("faults") or 0))
    return restored


def open_incident_processor(config: GatewayConfig, environ: Mapping[str, str] = os.environ,
                            now_ms: int | None = None) -> IncidentProcessor | None:
    """The gateway's incident processor, resumed from its store (raises SinkUnavailable if unreadable);
    None when EMBERWATCH_INCIDENTS=off. Raises ConfigError or RegistryError on bad settings."""
    settings = IncidentSettings.from_env(environ)
    if not settings.enabled:
        return None
    engine = IncidentEngine(settings)
    if settings.registry_path:
        try:
            registry = load_registry(settings.registry_path)
        except RegistryError as exc:
            raise ConfigError([str(exc)]) from exc
        for site, node, lat, lon in registry:
            engine.place(site, node, lat, lon)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    store = incident_store.open_store(config.store)
    try:
        restored = rebuild(engine, store, now_ms, spooled_incident_rows(config.spool_dir))
    except StoreNotReadable as exc:
        log.error("incidents start empty and operator acknowledgements go unseen: %s", exc)
        return IncidentProcessor(engine)
    log.info("incident engine resumed %d open incident(s) from the store", restored)
    return IncidentProcessor(engine, store.operator_actions, since_ms=now_ms)


def gateway_processors(config: GatewayConfig, environ: Mapping[str, str] = os.environ) -> list:
    """Every EventProcessor the gateway runs (the incident engine unless EMBERWATCH_INCIDENTS=off)."""
    processor = open_incident_processor(config, environ)
    return [processor] if processor is not None else []
