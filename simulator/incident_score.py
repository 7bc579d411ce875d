"""Score the gateway's incident engine on a simulated forest: its incidents against the true ignitions.

The same engine the gateway runs (gateway.incidents) takes the messages the simulated radio
delivered, in delivery order, through the gateway's own ingest (decode, validate, de-duplicate),
so what is scored is what a gateway would have said. Each incident is matched to ground truth by
its evidence: the alerts of its member nodes within its evidence span, which the simulator labels
with the fire each was about (or the cause of a false alert).
"""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np

from gateway.incidents.engine import IncidentEngine
from gateway.incidents.model import CONFIRMED, MERGED, OPENED
from gateway.incidents.settings import IncidentSettings
from gateway.ingest import Event, Ingest
from simulator.results import CAUSES, ScenarioResult

M_PER_DEG_LAT = 111_320.0


class IncidentReplay:
    """A `publish(topic, payload, retain)` that feeds the incident engine, as a gateway would."""

    def __init__(self, settings: IncidentSettings | None = None) -> None:
        self.engine = IncidentEngine(settings)
        self.ingest = Ingest()
        self.transitions: list[Event] = []
        self.now_ms = 0
        self.wind_messages = 0

    def __call__(self, topic: str, payload: bytes, retain: bool = False) -> None:
        event = self.ingest.accept(topic, payload)
        if not isinstance(event, Event):
            return
        if event.t_ms is not None:
            # Messages come in delivery order, so the newest event time is the gateway's clock
            # to within the radio's latency (seconds).
            self.now_ms = max(self.now_ms, event.t_ms)
        self.wind_messages += event.kind == "weather"
        self.transitions += self.engine.observe([(event, self.now_ms)], self.now_ms)

    def finish(self, end_ms: int) -> None:
        self.transitions += self.engine.tick(max(self.now_ms, end_ms))


def _node_xy(result: ScenarioResult) -> dict[str, tuple[float, float]]:
    return {n: (float(x), float(y)) for n, x, y in zip(result.node_ids, result.x_m, result.y_m)}


def _latlon_to_xy(result: ScenarioResult, lat: float, lon: float) -> tuple[float, float]:
    from simulator.scenario import SITE_LAT_E6, SITE_LON_E6

    lat0, lon0 = SITE_LAT_E6 / 1e6, SITE_LON_E6 / 1e6
    return ((lon - lon0) * M_PER_DEG_LAT * math.cos(math.radians(lat0)), (lat - lat0) * M_PER_DEG_LAT)


def incident_table(result: ScenarioResult, transitions: list[Event]) -> list[dict]:
    """One row per incident: when it opened/confirmed, where it was then, and what truth says it was."""
    by_node: dict[str, list] = {}
    for a in result.alert_records:
        by_node.setdefault(a.node, []).append(a)
    rows: dict[str, dict] = {}
    for tr in transitions:
        f = tr.fields
        row = rows.setdefault(str(f["incident"]), {"incident": f["incident"], "origin": tr.node})
        xy = _latlon_to_xy(result, int(f["lat_e6"]) / 1e6, int(f["lon_e6"]) / 1e6)
        state = f["state"]
        if state in (OPENED, CONFIRMED) and state + "_ms" not in row:
            row[state + "_ms"] = tr.t_ms
            row[state + "_xy"] = xy
            row[state + "_radius_m"] = int(f["radius_m"])
            row[state + "_reason"] = f["reason"]
        row["final_xy"], row["final_radius_m"], row["nodes"] = xy, int(f["radius_m"]), int(f["nodes"])
        row["confidence"] = int(f["confidence_pct"]) / 100
        row["members"] = json.loads(str(f["members"]))
        if state == MERGED:
            row["merged_into"] = f["merged_into"]
    for row in rows.values():
        labels: Counter[int] = Counter()
        causes: Counter[str] = Counter()
        for node, _lat, _lon, first_ms, last_ms, *_ in row["members"]:
            for a in by_node.get(node, []):
                if first_ms <= a.t_ms <= last_ms:
                    labels[a.ignition] += 1
                    causes[a.cause] += 1
        row["ignition"] = labels.most_common(1)[0][0] if labels else -1
        row["cause"] = "fire" if row["ignition"] >= 0 else (causes.most_common(1)[0][0] if causes else "other")
        row["confirmed"] = "confirmed_ms" in row
    return sorted(rows.values(), key=lambda r: r.get("opened_ms", 0))


def score(result: ScenarioResult, transitions: list[Event]) -> dict:
    table = incident_table(result, transitions)
    per_ignition = []
    for ign in result.ignitions:
        mine = [r for r in table if r["ignition"] == ign.index]
        opened = [r for r in mine if "opened_ms" in r]
        confirmed = [r for r in mine if r["confirmed"]]
        first_open = min(opened, key=lambda r: r["opened_ms"]) if opened else None
        first_conf = min(confirmed, key=lambda r: r["confirmed_ms"]) if confirmed else None

        def error_m(row: dict | None, key: str) -> float | None:
            if row is None:
                return None
            x, y = row[key]
            return round(math.hypot(x - ign.x_m, y - ign.y_m), 1)

        per_ignition.append({
            "index": ign.index, "incidents": len(mine),
            "open_after_s": (first_open["opened_ms"] - ign.time_ms) / 1000 if first_open else None,
            "confirmed_after_s": (first_conf["confirmed_ms"] - ign.time_ms) / 1000 if first_conf else None,
            "error_at_open_m": error_m(first_open, "opened_xy"),
            "error_at_confirm_m": error_m(first_conf, "confirmed_xy"),
            "error_final_m": error_m(first_conf or first_open, "final_xy"),
            "radius_at_confirm_m": first_conf["confirmed_radius_m"] if first_conf else None,
            "confirmed_by": first_conf["confirmed_reason"] if first_conf else None,
        })
    months = result.node_months()
    false = [r for r in table if r["ignition"] < 0]
    false_confirmed = [r for r in false if r["confirmed"]]

    def per_1000(rows: list[dict]) -> dict[str, float]:
        counts = Counter(r["cause"] for r in rows)
        return {c: round(counts.get(c, 0) / months * 1000, 2) if months else math.nan for c in CAUSES[1:]}

    conf = [p["confirmed_after_s"] for p in per_ignition if p["confirmed_after_s"] is not None]
    opened = [p["open_after_s"] for p in per_ignition if p["open_after_s"] is not None]
    errors = [p["error_at_confirm_m"] for p in per_ignition if p["error_at_confirm_m"] is not None]
    return {
        "ignitions": len(result.ignitions),
        "confirmed": len(conf),
        "detection_probability": len(conf) / len(result.ignitions) if result.ignitions else None,
        "open_after_s_median": float(np.median(opened)) if opened else None,
        "confirmed_after_s_median": float(np.median(conf)) if conf else None,
        "error_at_confirm_m_median": float(np.median(errors)) if errors else None,
        "incidents": len(table),
        "true_incidents": len(table) - len(false),
        "false_incidents": len(false),
        "false_confirmed_incidents": len(false_confirmed),
        "node_months": round(months, 2),
        "false_incidents_per_1000_node_months": round(len(false) / months * 1000, 2) if months else None,
        "false_confirmed_per_1000_node_months": round(len(false_confirmed) / months * 1000, 2) if months else None,
        "false_incidents_per_1000_node_months_by_cause": per_1000(false),
        "false_confirmed_per_1000_node_months_by_cause": per_1000(false_confirmed),
        "per_ignition": per_ignition,
        "table": [{k: v for k, v in r.items() if k != "members"} for r in table],
    }
