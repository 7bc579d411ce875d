"""Scenario report: summary.json, summary.md, alerts.csv and PNG figures in one directory.

matplotlib (Agg) is imported only here, when a report is asked for.
"""

import csv
import json
import math
from pathlib import Path

import numpy as np

from simulator.clock import iso_utc
from simulator.results import ScenarioResult


def node_detection_times_s(result: ScenarioResult) -> dict[int, list[float]]:
    """Per ignition: seconds from ignition to each node's first alert about it (the spread of detection)."""
    out: dict[int, dict[str, float]] = {i.index: {} for i in result.ignitions}
    by_index = {i.index: i for i in result.ignitions}
    for a in result.alert_records:
        if a.ignition >= 0 and a.node not in out[a.ignition]:
            out[a.ignition][a.node] = (a.t_ms - by_index[a.ignition].time_ms) / 1000.0
    return {k: sorted(v.values()) for k, v in out.items()}


def write_report(result: ScenarioResult, directory: str | Path, command: str = "") -> dict:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    summary = result.summary()
    summary["command"] = command
    summary["node_detection_times_s"] = {str(k): v for k, v in node_detection_times_s(result).items()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=_json_default) + "\n")
    (out / "summary.md").write_text(_markdown(result, summary, command))
    with open(out / "alerts.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["node", "seq", "t_ms", "time_utc", "score", "ignition", "sensor_fault", "cause"])
        for a in result.alert_records:
            writer.writerow([a.node, a.seq, a.t_ms, iso_utc(a.t_ms), a.score, a.ignition, a.fault, a.cause])
    _figures(result, out)
    return summary


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _fmt_s(seconds) -> str:
    return "not detected" if seconds is None else f"{seconds / 60:.1f} min"


def _markdown(result: ScenarioResult, s: dict, command: str) -> str:
    radio, battery = s["radio"], s["battery"]
    lines = [f"# Emberwatch simulation: {s['nodes']} nodes, {s['days']:g} days, seed {s['seed']}", ""]
    if command:
        lines += [f"Command: `{command}`", ""]
    lines += [(f"Engine {s['engine']} ({s['scorer']}); simulated {s['node_steps']:,} node-steps in {s['wall_s']:.1f} s "
              f"({s['speedup_vs_real_time']}x real time)."), "", "## Detection", "",
              ("| ignition | time (UTC) | x, y (m) | time to first alert (node / at gateway) | burned area (ha) "
              "| fire ended |"), "|---|---|---|---|---|---|"]
    for ign in s["ignitions"]:
        lines.append(f"| {ign['index']} | {iso_utc(ign['time_ms'])} | {ign['x_m']:.0f}, {ign['y_m']:.0f} | "
                     f"{_fmt_s(ign['latency_s'])} / {_fmt_s(ign['latency_at_gateway_s'])} | {ign['burned_area_ha']} | "
                     f"{ign['out_reason'] or 'still burning'} |")
    lines += ["", (f"Detected {s['detected']} of {len(s['ignitions'])} ignitions; median time to first alert "
              f"{_fmt_s(s['latency_s_median'])}."), "", "## Alerts", "",
              (f"- alerts: {s['alerts']} ({s['true_alerts']} about a fire, {s['false_alerts']} false; "
              f"{s['alerts_lost_on_radio']} lost on the radio)"),
              (f"- false alerts per node-month: {s['false_alerts_per_node_month']:.4f} "
              f"(healthy sensors only: {s['false_alerts_per_node_month_healthy']:.4f})"),
              f"- false alerts by likely cause: {s['false_alerts_by_cause']}, from {s['nodes_with_false_alerts']} nodes",
              (f"- sensor faults injected: {s['sensor_faults'] or 'none'}; nuisance events (sun flecks, exhaust): "
              f"{s['nuisance_events']}; nodes lost: {s['dead_nodes'] or 'none'}"),
              "", "## Radio", "",
              f"- {radio.get('model')}: sent {radio['sent']}, delivered {radio['delivered']}, lost {radio['lost']}"
              + (f" (collisions {radio['lost_collision']}, out of range {radio['lost_out_of_range']}, "
                 f"duty-cycle drops {radio['dropped_duty_cycle']}; loss rate {radio['loss_rate']:.2%}); "
                 f"nodes per SF {radio['nodes_per_sf']}" if "lost_collision" in radio else ""),
              "", "## Battery", "",
              (f"- {battery['battery']} ({battery['usable_mah']} mAh usable); charge used by all nodes (mAh): "
              f"{battery['used_mah_total_by_part']}"),
              (f"- projected life at the drain seen (days): min {battery['projected_life_days_min']:.0f}, "
              f"median {battery['projected_life_days_median']:.0f}, max {battery['projected_life_days_max']:.0f}"),
              "", "Figures: `map.png` (alerts by ignition and time, wind, gateways, faulty nodes, fire outlines), "
              "`detection.png`, `battery.png`.", ""]
    return "\n".join(lines)


def _figures(result: ScenarioResult, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from simulator.report_map import draw_map

    draw_map(result, out / "map.png")

    times = node_detection_times_s(result)
    fig, ax = plt.subplots(figsize=(7, 4))
    for k, values in times.items():
        if values:
            ax.hist(np.array(values) / 60, bins=20, alpha=0.6, label=f"ignition {k}")
    ax.set_xlabel("minutes from ignition to a node's first alert")
    ax.set_ylabel("nodes")
    ax.set_title("Detection: time from ignition to each node's first alert")
    if any(times.values()):
        ax.legend(fontsize=8)
    fig.savefig(out / "detection.png", dpi=110)
    plt.close(fig)

    life = result.battery_life_days
    fig, ax = plt.subplots(figsize=(7, 4))
    finite = life[np.isfinite(life)] / 365.25
    if finite.size:
        ax.hist(finite, bins=30)
    ax.set_xlabel("projected battery life (years)")
    ax.set_ylabel("nodes")
    ax.set_title("Battery projections at the drain seen in the simulation")
    fig.savefig(out / "battery.png", dpi=110)
    plt.close(fig)
