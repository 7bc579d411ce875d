"""The scenario map (map.png): who alerted when, about which ignition, with wind, gateways and faults.

Left: the whole site. Each ignition has a colour; the nodes that alerted about it are joined to it
and filled by minutes from ignition to their first alert; false alerts, faulty sensors, burned
nodes and gateways have their own markers; arrows show the wind (site mean, and at each ignition).
Right: one zoomed panel per ignition (up to three) with its fire outlines every 15 minutes, so a
fire of a few hectares is visible on an 8 km site.
"""

import math
from pathlib import Path

import numpy as np

from simulator.clock import EPOCH_MS, iso_utc
from simulator.results import ScenarioResult

MAX_ZOOMS = 3


def _first_true_alerts(result: ScenarioResult) -> dict[int, dict[str, int]]:
    """Per ignition: node -> time of its first alert about it."""
    out: dict[int, dict[str, int]] = {i.index: {} for i in result.ignitions}
    for a in result.alert_records:
        if a.ignition >= 0 and a.node not in out.get(a.ignition, {a.node: 0}):
            out[a.ignition][a.node] = a.t_ms
    return out


def _wind_at(result: ScenarioResult, t_s: float) -> tuple[float, float] | None:
    if not result.wind_log:
        return None
    times = np.array([w[0] for w in result.wind_log])
    k = int(np.clip(np.searchsorted(times, t_s), 0, len(times) - 1))
    return result.wind_log[k][1], result.wind_log[k][2]


def draw_map(result: ScenarioResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ignitions = result.ignitions
    zooms = ignitions[:MAX_ZOOMS]
    fig = plt.figure(figsize=(13 if zooms else 9, 9))
    grid = fig.add_gridspec(max(1, len(zooms)), 4 if zooms else 3)
    ax = fig.add_subplot(grid[:, :3])
    index = {node: i for i, node in enumerate(result.node_ids)}
    colours = plt.get_cmap("tab10")
    ax.scatter(result.x_m, result.y_m, s=5, c="0.75", label="node", zorder=1)
    firsts = _first_true_alerts(result)
    all_minutes = [(t - i.time_ms) / 60000 for i in ignitions for t in firsts[i.index].values()]
    norm = matplotlib.colors.Normalize(0, max(30.0, max(all_minutes, default=30.0)))
    cmap = plt.get_cmap("viridis_r")
    for ign in ignitions:
        colour = colours(ign.index % 10)
        nodes = firsts[ign.index]
        idx = [index[n] for n in nodes]
        for i in idx:
            ax.plot([ign.x_m, result.x_m[i]], [ign.y_m, result.y_m[i]], color=colour, lw=0.5, alpha=0.35, zorder=2)
        if idx:
            minutes = [(nodes[n] - ign.time_ms) / 60000 for n in nodes]
            ax.scatter(result.x_m[idx], result.y_m[idx], s=34, c=minutes, cmap=cmap, norm=norm, edgecolors=[colour],
                       linewidths=1.6, zorder=4)
        ax.plot([ign.x_m], [ign.y_m], marker="*", ms=17, c=colour, mec="k", zorder=6)
        ax.annotate(f"ignition {ign.index} {iso_utc(ign.time_ms)[11:16]}Z\n{len(nodes)} nodes alerted",
                    (ign.x_m, ign.y_m), xytext=(8, 8), textcoords="offset points", fontsize=8, color=colour,
                    fontweight="bold", zorder=7)
        wind = _wind_at(result, (ign.time_ms - EPOCH_MS) / 1000)
        _wind_arrow(ax, ign.x_m, ign.y_m, wind, colour)
    sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, shrink=0.6, pad=0.01, label="minutes from ignition to the node's first alert")
    alerted_true = {n for nodes in firsts.values() for n in nodes}
    false_nodes = sorted({a.node for a in result.alert_records if a.ignition < 0} - alerted_true)
    if false_nodes:
        idx = [index[n] for n in false_nodes]
        ax.scatter(result.x_m[idx], result.y_m[idx], s=36, marker="x", c="tab:blue", label="false alert", zorder=5)
    faulty: dict[str, list[int]] = {}
    for node, kind in result.fault_kinds.items():
        faulty.setdefault(kind, []).append(index[node])
    for kind, idx in sorted(faulty.items()):
        ax.scatter(result.x_m[idx], result.y_m[idx], s=60, marker="s", facecolors="none", edgecolors="k",
                   linewidths=1.0, label=f"faulty sensor: {kind} ({len(idx)})", zorder=3)
    burned = [index[n] for n, (_, reason) in result.dead_nodes.items() if reason == "burned"]
    if burned:
        ax.scatter(result.x_m[burned], result.y_m[burned], s=40, marker="X", c="k", label="burned", zorder=5)
    gateways = result.radio.get("gateway_xy_m") or []
    if gateways:
        gx, gy = np.array(gateways).T
        ax.scatter(gx, gy, s=170, marker="^", c="tab:blue", edgecolors="k", label=f"gateway ({len(gx)})", zorder=6)
    for fire in result.fires:
        if fire.perimeter_history:
            _, px, py = fire.perimeter_history[-1]
            ax.fill(np.append(px, px[0]), np.append(py, py[0]), color="orangered", alpha=0.5, zorder=3)
    _site_wind(ax, result)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m east)")
    ax.set_ylabel("y (m north)")
    ax.set_title("Alerts by ignition (lines) and time to first alert (fill); final fire outlines in red")
    ax.legend(loc="upper right", fontsize=7, framealpha=0.9)
    for row, ign in enumerate(zooms):
        _zoom(fig.add_subplot(grid[row, 3]), result, ign, colours(ign.index % 10), firsts[ign.index], index)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _wind_arrow(ax, x: float, y: float, wind: tuple[float, float] | None, colour) -> None:
    if wind is None:
        return
    speed, to_rad = wind
    span = float(np.ptp(ax.get_xlim())) or 1000.0
    length = span * 0.04 * (0.5 + min(speed, 10.0) / 5)
    ax.annotate("", xy=(x + length * math.cos(to_rad), y + length * math.sin(to_rad)), xytext=(x, y),
                arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.8}, zorder=7)


def _site_wind(ax, result: ScenarioResult) -> None:
    """The run's mean wind as an arrow in the lower-left corner, with its speed."""
    if not result.wind_log:
        return
    u = np.mean([w[1] * math.cos(w[2]) for w in result.wind_log])
    v = np.mean([w[1] * math.sin(w[2]) for w in result.wind_log])
    speed = float(np.mean([w[1] for w in result.wind_log]))
    ax.annotate(f"mean wind {speed:.1f} m/s", xy=(0.09 + 0.06 * u / max(math.hypot(u, v), 1e-9),
                                                  0.08 + 0.06 * v / max(math.hypot(u, v), 1e-9)),
                xytext=(0.09, 0.08), xycoords="axes fraction", textcoords="axes fraction", fontsize=8,
                arrowprops={"arrowstyle": "-|>", "color": "k", "lw": 2}, ha="center", va="top")


def _zoom(ax, result: ScenarioResult, ign, colour, firsts: dict[str, int], index: dict[str, int]) -> None:
    import matplotlib.pyplot

    fire = result.fires[ign.index] if ign.index < len(result.fires) else None
    reach = 150.0
    if fire is not None and fire.perimeter_history:
        pts = np.concatenate([np.hypot(px - ign.x_m, py - ign.y_m) for _, px, py in fire.perimeter_history])
        reach = max(reach, float(pts.max()) * 1.6)
    near = np.flatnonzero((np.abs(result.x_m - ign.x_m) < reach * 1.5) & (np.abs(result.y_m - ign.y_m) < reach * 1.5))
    ax.scatter(result.x_m[near], result.y_m[near], s=10, c="0.6")
    idx = [index[n] for n in firsts if abs(result.x_m[index[n]] - ign.x_m) < reach * 1.5
           and abs(result.y_m[index[n]] - ign.y_m) < reach * 1.5]
    for i in idx:
        minutes = (firsts[result.node_ids[i]] - ign.time_ms) / 60000
        ax.annotate(f"{minutes:.0f}", (result.x_m[i], result.y_m[i]), fontsize=6, ha="center", va="bottom",
                    xytext=(0, 3), textcoords="offset points")
    if idx:
        ax.scatter(result.x_m[idx], result.y_m[idx], s=22, c=[colour], edgecolors="k", linewidths=0.5, zorder=4)
    if fire is not None:
        history = fire.perimeter_history
        shades = matplotlib.pyplot.get_cmap("autumn_r")
        for k, (t_s, px, py) in enumerate(history):
            ax.plot(np.append(px, px[0]), np.append(py, py[0]), color=shades((k + 1) / max(1, len(history))), lw=1.2)
        if history:
            _, px, py = history[-1]
            ax.fill(np.append(px, px[0]), np.append(py, py[0]), color="orangered", alpha=0.35)
    ax.plot([ign.x_m], [ign.y_m], marker="*", ms=12, c=colour, mec="k")
    ax.set_xlim(ign.x_m - reach * 1.5, ign.x_m + reach * 1.5)
    ax.set_ylim(ign.y_m - reach * 1.5, ign.y_m + reach * 1.5)
    ax.set_aspect("equal")
    ax.tick_params(labelsize=6)
    area = f"{fire.area_m2 / 1e4:.1f} ha" if fire is not None else ""
    ax.set_title(f"ignition {ign.index}: outlines every 15 min, {area}\nlabels: minutes to each node's first alert",
                 fontsize=7)
