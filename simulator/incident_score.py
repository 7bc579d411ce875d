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
from pathlib import Path

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

    def close(self) -> None:  # a publish sink like the others
        pass

    def finish(self, end_ms: int) -> None:
        self.transitions += self.engine.tick(max(self.now_ms, end_ms))


def _node_xy(result: ScenarioResult) -> dict[str, tuple[float, float]]:
    return {n: (float(x), float(y)) for n, x, y in zip(result.node_ids, result.x_m, result.y_m)}


def _latlon_to_xy(result: ScenarioResult, lat: float, lon: float) -> tuple[float, float]:
    from simulator.scenario import SITE_LAT_E6, SITE_LON_E6

    lat0, lon0 = SITE_LAT_E6 / 1e6, SITE_LON_E6 / 1e6
    return ((lon - lon0) * M_PER_DEG_LAT * math.cos(math.radians(lat0)), (lat - lat0) * M_PER_DEG_LAT)


def alerts_by_node(result: ScenarioResult) -> dict[str, list]:
    by_node: dict[str, list] = {}
    for a in result.alert_records:
        by_node.setdefault(a.node, []).append(a)
    return by_node


def truth_of(by_node: dict[str, list], members: list[list]) -> tuple[int, str, int]:
    """(ignition or -1, cause, time of its first alert about that ignition) behind an incident's members:
    the majority label of the members' alerts within each member's evidence span."""
    labels: Counter[int] = Counter()
    causes: Counter[str] = Counter()
    first_by_label: dict[int, int] = {}
    for node, _lat, _lon, first_ms, last_ms, *_ in members:
        for a in by_node.get(node, []):
            if first_ms <= a.t_ms <= last_ms:
                labels[a.ignition] += 1
                causes[a.cause] += 1
                first_by_label[a.ignition] = min(first_by_label.get(a.ignition, a.t_ms), a.t_ms)
    ignition = labels.most_common(1)[0][0] if labels else -1
    cause = "fire" if ignition >= 0 else (causes.most_common(1)[0][0] if causes else "other")
    return ignition, cause, first_by_label.get(ignition, 0)


def incident_table(result: ScenarioResult, transitions: list[Event]) -> list[dict]:
    """One row per incident: when it opened/confirmed, where it was then, and what truth says it was."""
    by_node = alerts_by_node(result)
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
        row["ignition"], row["cause"], fire_first_ms = truth_of(by_node, row["members"])
        # An incident a false alert opened before the fire: it opened for the fire with the fire's evidence.
        for state in (OPENED, CONFIRMED):
            if row["ignition"] >= 0 and state + "_ms" in row:
                row[state + "_ms"] = max(row[state + "_ms"], fire_first_ms)
        row["confirmed"] = "confirmed_ms" in row
    return sorted(rows.values(), key=lambda r: r.get("opened_ms", 0))


def score(result: ScenarioResult, transitions: list[Event]) -> dict:
    table = incident_table(result, transitions)
    per_ignition: list[dict] = []
    for ign in result.ignitions:
        mine = [r for r in table if r["ignition"] == ign.index]
        with_open = [r for r in mine if "opened_ms" in r]
        confirmed = [r for r in mine if r["confirmed"]]
        first_open = min(with_open, key=lambda r: r["opened_ms"]) if with_open else None
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

    conf: list[float] = [p["confirmed_after_s"] for p in per_ignition if p["confirmed_after_s"] is not None]
    opened: list[float] = [p["open_after_s"] for p in per_ignition if p["open_after_s"] is not None]
    errors: list[float] = [p["error_at_confirm_m"] for p in per_ignition if p["error_at_confirm_m"] is not None]
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


def _fmt_min(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f} min"


def incident_markdown(s: dict) -> str:
    lines = ["# Incidents: the gateway's incident engine against the true ignitions", "",
             (f"{s['confirmed']} of {s['ignitions']} ignitions became confirmed incidents; median time from "
              f"ignition to open {_fmt_min(s['open_after_s_median'])}, to confirmed "
              f"{_fmt_min(s['confirmed_after_s_median'])}; median location error at confirmation "
              f"{s['error_at_confirm_m_median'] if s['error_at_confirm_m_median'] is not None else '-'} m."), "",
             "| ignition | opened after | confirmed after | error at open / confirm / last (m) | radius (m) | "
             "confirmed because | incidents |", "|---|---|---|---|---|---|---|"]
    for p in s["per_ignition"]:
        lines.append(f"| {p['index']} | {_fmt_min(p['open_after_s'])} | {_fmt_min(p['confirmed_after_s'])} | "
                     f"{p['error_at_open_m']} / {p['error_at_confirm_m']} / {p['error_final_m']} | "
                     f"{p['radius_at_confirm_m']} | {p['confirmed_by'] or '-'} | {p['incidents']} |")
    lines += ["", (f"False incidents: {s['false_incidents']} opened ({s['false_incidents_per_1000_node_months']} per "
                   f"1,000 node-months), {s['false_confirmed_incidents']} confirmed "
                   f"({s['false_confirmed_per_1000_node_months']} per 1,000 node-months) over {s['node_months']} "
                   "node-months."),
              f"- opened, per 1,000 node-months by cause: {s['false_incidents_per_1000_node_months_by_cause']}",
              f"- confirmed, per 1,000 node-months by cause: {s['false_confirmed_per_1000_node_months_by_cause']}",
              ("- causes are the simulator's labels of the alerts behind each incident; radio losses and delays "
               "act through which alerts arrive and when, so they have no label of their own."), "",
              "Figure: `incident_map.png`.", ""]
    return "\n".join(lines)


def write_incident_report(result: ScenarioResult, replay: IncidentReplay, directory: str | Path) -> dict:
    """incidents.json, incidents.md and incident_map.png in `directory`; returns the score."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    summary = score(result, replay.transitions)
    summary["weather_messages"] = replay.wind_messages
    summary["ignored_alerts"] = dict(replay.engine.ignored)
    (out / "incidents.json").write_text(json.dumps(summary, indent=2, default=_plain) + "\n")
    (out / "incidents.md").write_text(incident_markdown(summary))
    incident_map(result, summary, out / "incident_map.png")
    return summary


def _plain(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def incident_map(result: ScenarioResult, summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle

    fig, ax = plt.subplots(figsize=(9, 9))
    index = {node: i for i, node in enumerate(result.node_ids)}
    ax.scatter(result.x_m, result.y_m, s=4, c="0.75", label="node")
    fire_nodes = sorted({a.node for a in result.alert_records if a.ignition >= 0})
    false_nodes = sorted({a.node for a in result.alert_records if a.ignition < 0} - set(fire_nodes))
    for nodes, colour, label in ((fire_nodes, "tab:red", "alerted (smoke)"), (false_nodes, "tab:blue", "false alert")):
        idx = [index[n] for n in nodes]
        if idx:
            ax.scatter(result.x_m[idx], result.y_m[idx], s=14, c=colour, label=label, zorder=3)
    for ign in result.ignitions:
        ax.plot([ign.x_m], [ign.y_m], marker="*", ms=18, c="darkred", zorder=6)
        ax.annotate(f"ignition {ign.index}", (ign.x_m, ign.y_m), textcoords="offset points", xytext=(8, 8),
                    fontsize=8, color="darkred")
    for row in summary["table"]:
        confirmed = row["confirmed"]
        x, y = row["confirmed_xy"] if confirmed else row["opened_xy"]
        radius = row["confirmed_radius_m"] if confirmed else row["opened_radius_m"]
        colour = ("darkred" if row["ignition"] >= 0 else "navy") if confirmed else "orange"
        ax.add_patch(Circle((x, y), radius, fill=False, lw=1.6 if confirmed else 0.8, ec=colour, zorder=5,
                            ls="-" if confirmed else ":"))
        ax.plot([x], [y], marker="+", ms=10, c=colour, zorder=5)
        if row["ignition"] >= 0 and confirmed:
            ign = result.ignitions[row["ignition"]]
            ax.plot([ign.x_m, x], [ign.y_m, y], c="darkred", lw=0.8, ls="--", zorder=4)
    ax.plot([], [], c="darkred", lw=1.6, label="confirmed incident (fire), uncertainty circle")
    ax.plot([], [], c="navy", lw=1.6, label="confirmed incident (false)")
    ax.plot([], [], c="orange", lw=0.8, ls=":", label="opened, never confirmed")
    ax.plot([], [], marker="*", ms=12, c="darkred", ls="", label="true ignition")
    ax.set_aspect("equal")
    ax.set_xlabel("x (m east)")
    ax.set_ylabel("y (m north)")
    ax.set_title(f"Incidents vs ignitions: {summary['confirmed']}/{summary['ignitions']} confirmed, "
                 f"{summary['false_confirmed_incidents']} false confirmed")
    ax.legend(loc="upper right", fontsize=7)
    fig.savefig(path, dpi=110)
    plt.close(fig)
