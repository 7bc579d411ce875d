"""What a plan found, per spacing: detection probabilities, false incidents, battery, nodes, gateways.

Writes plan.json (every scenario and the table), plan.md, curve.png and layout.png.
"""

import json
import math
from pathlib import Path

import numpy as np

from simulator.plan.area import Area

DEADLINES_MIN = (5, 10, 30)
TOOK_HOLD_HA = 0.1  # an ignition that never burns this much went out by itself: nothing to detect


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson interval of a proportion: honest with a few dozen scenarios."""
    if n == 0:
        return (math.nan, math.nan)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _within(values: list, minutes: int) -> int:
    return sum(1 for v in values if v is not None and v <= minutes * 60)


def summarise(results: list[dict]) -> list[dict]:
    rows = []
    for spacing in sorted({r["spacing_m"] for r in results}):
        mine = [r for r in results if r["spacing_m"] == spacing and "error" not in r]
        if not mine:
            rows.append({"spacing_m": spacing, "scenarios": 0, "error": "no node fits in the area"})
            continue
        fires = [r for r in mine if r["burned_area_ha"] >= TOOK_HOLD_HA]
        n = len(fires)
        alert = [r["first_alert_at_gateway_s"] for r in fires]
        confirmed = [r["confirmed_after_s"] for r in fires]
        node_months = sum(r["node_months"] for r in mine)
        nodes = mine[0]["nodes"]
        row = {"spacing_m": spacing, "nodes": nodes, "gateways": max(r["gateways"] for r in mine),
               "scenarios": len(mine), "fires": n}
        for minutes in DEADLINES_MIN:
            hits = _within(alert, minutes)
            row[f"p_alert_{minutes}min"] = hits / n if n else math.nan
            row[f"p_alert_{minutes}min_ci95"] = [round(v, 3) for v in wilson(hits, n)]
            row[f"p_incident_{minutes}min"] = _within(confirmed, minutes) / n if n else math.nan
        seen = [v for v in alert if v is not None]
        row["alert_after_min_median"] = round(float(np.median(seen)) / 60, 1) if seen else None
        false_per_node_month = sum(r["false_incidents"] for r in mine) / node_months if node_months else math.nan
        row["false_incidents_per_month"] = round(false_per_node_month * nodes, 2)
        lives = [r["battery_life_days_median"] for r in mine if r["battery_life_days_median"] is not None]
        row["battery_life_days"] = round(float(np.median(lives))) if lives else None
        row["radio_loss_rate"] = round(float(np.mean([r["radio_loss_rate"] for r in mine])), 4)
        row["burned_ha_median"] = round(float(np.median([r["burned_area_ha"] for r in mine])), 2)
        rows.append(row)
    return rows


def recommend(rows: list[dict], target: float, deadline_min: int = 10) -> dict | None:
    """The fewest nodes that reach the target probability of an alert within the deadline, else the best."""
    usable = [r for r in rows if r.get("fires")]
    if not usable:
        return None
    key = f"p_alert_{deadline_min}min"
    good = [r for r in usable if r[key] >= target]
    if good:
        return min(good, key=lambda r: (r["nodes"], -r[key]))
    return max(usable, key=lambda r: (r[key], -r["nodes"]))


def write_plan(out_dir: str | Path, area: Area, rows: list[dict], results: list[dict], chosen: dict | None,
               meta: dict) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "plan.json").write_text(json.dumps({**meta, "table": rows, "recommended": chosen, "scenarios": results},
                                              indent=1) + "\n")
    (out / "plan.md").write_text(_markdown(area, rows, chosen, meta))
    _curve(out / "curve.png", rows, meta)
    shown = chosen or next((r for r in rows if r.get("scenarios")), None)  # no fire took hold: the densest layout
    if shown is not None:
        _layout(out / "layout.png", area, shown, meta, [r for r in results if r["spacing_m"] == shown["spacing_m"]])


def _fmt_p(row: dict, key: str) -> str:
    lo, hi = row[key + "_ci95"]
    return f"{row[key]:.2f} ({lo:.2f}-{hi:.2f})"


def _markdown(area: Area, rows: list[dict], chosen: dict | None, meta: dict) -> str:
    lines = [f"# Emberwatch deployment plan: {area.name or 'area'} ({area.area_m2() / 1e4:.0f} ha)", "",
             f"Command: `{meta.get('command', '')}`", "",
             (f"{meta['scenarios_per_spacing']} Monte Carlo scenarios per spacing: one ignition each at a random "
              f"point and hour, weather drawn from {meta['climate']['season']}, fuel {meta['fuel_model']}; "
              f"probabilities are over the fires that took hold (burned >= {TOOK_HOLD_HA} ha within "
              f"{meta.get('after_ignition_h', 1):g} h; the others went out by themselves, e.g. in damp night air); "
              f"detection = the first alert the gateway receives (the node pipeline, the LoRa radio and its losses "
              f"included); incidents = the gateway's incident engine confirming it. Wall time "
              f"{meta['wall_s']:.0f} s on {meta['workers_label']} ({meta['scenarios_per_min']:.1f} scenarios/min)."),
             "", "| spacing (m) | nodes | gateways | fires / scenarios | P(alert <= 5 min) | P(<= 10 min) | P(<= 30 min) "
             "| P(incident <= 10 / 30 min) | median alert (min) | false incidents / month | battery life (days) "
             "| radio loss |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if not r.get("scenarios"):
            lines.append(f"| {r['spacing_m']:g} | 0 | - | - | - | - | - | - | - | - | - | - |")
            continue
        lines.append(f"| {r['spacing_m']:g} | {r['nodes']} | {r['gateways']} | {r['fires']} / {r['scenarios']} | "
                     f"{_fmt_p(r, 'p_alert_5min')} | "
                     f"{_fmt_p(r, 'p_alert_10min')} | {_fmt_p(r, 'p_alert_30min')} | "
                     f"{r['p_incident_10min']:.2f} / {r['p_incident_30min']:.2f} | {r['alert_after_min_median']} | "
                     f"{r['false_incidents_per_month']} | {r['battery_life_days']} | {r['radio_loss_rate']:.2%} |")
    lines += ["", "P values with their 95 % Wilson intervals.", ""]
    if chosen is not None:
        lines += [(f"**Recommended: {chosen['spacing_m']:g} m spacing, {chosen['nodes']} nodes, {chosen['gateways']} "
                   f"gateway(s)** - the fewest nodes reaching P(alert <= 10 min) >= {meta['target']:.2f}"
                   if chosen["p_alert_10min"] >= meta["target"] else
                   f"**No spacing reached P(alert <= 10 min) >= {meta['target']:.2f}; the best was "
                   f"{chosen['spacing_m']:g} m ({chosen['nodes']} nodes)**"), ""]
    lines += ["Figures: `curve.png` (detection probability against spacing), `layout.png` (recommended layout).", ""]
    return "\n".join(lines)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _curve(path: Path, rows: list[dict], meta: dict) -> None:
    plt = _plt()
    rows = [r for r in rows if r.get("fires")]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    spacing = [r["spacing_m"] for r in rows]
    for minutes, colour in zip(DEADLINES_MIN, ("tab:red", "tab:orange", "tab:green")):
        p = [r[f"p_alert_{minutes}min"] for r in rows]
        lo = [r[f"p_alert_{minutes}min_ci95"][0] for r in rows]
        hi = [r[f"p_alert_{minutes}min_ci95"][1] for r in rows]
        ax.plot(spacing, p, marker="o", color=colour, label=f"alert within {minutes} min")
        ax.fill_between(spacing, lo, hi, color=colour, alpha=0.12)
    ax.axhline(meta["target"], color="0.5", ls="--", lw=0.8)
    ax.set_xlabel("node spacing (m)")
    ax.set_ylabel("probability of detection")
    ax.set_ylim(0, 1.05)
    ax2 = ax.twinx()
    ax2.plot(spacing, [r["nodes"] for r in rows], color="0.3", ls=":", marker="s", label="nodes")
    ax2.set_ylabel("nodes")
    ax2.set_yscale("log")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="lower left")
    ax.set_title(f"Detection against spacing ({meta['scenarios_per_spacing']} scenarios each, 95 % intervals)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _layout(path: Path, area: Area, chosen: dict, meta: dict, trials: list[dict]) -> None:
    from simulator.radio import gateway_positions

    plt = _plt()
    x, y = area.grid(chosen["spacing_m"])
    gx, gy = gateway_positions(x, y, meta["radio"]["gateway_spacing_m"])
    fig, ax = plt.subplots(figsize=(7, 7))
    ring = np.array(area.ring_m)
    ax.plot(ring[:, 0], ring[:, 1], color="k", lw=1)
    ax.scatter(x, y, s=14, c="tab:green", label=f"node ({len(x)})", zorder=3)
    ax.scatter(gx, gy, s=140, marker="^", c="tab:blue", edgecolors="k", label=f"gateway ({len(gx)})", zorder=4)
    for t in trials:
        minutes = t["first_alert_at_gateway_s"]
        colour = "tab:red" if minutes is None or minutes > 600 else "tab:orange" if minutes > 300 else "gold"
        ax.plot(*t["ignition_xy"], marker="*", ms=11, c=colour, mec="k", mew=0.4, zorder=5)
    for colour, label in (("gold", "ignition seen <= 5 min"), ("tab:orange", "seen 5-10 min"),
                          ("tab:red", "seen > 10 min or not")):
        ax.plot([], [], marker="*", ls="", ms=11, c=colour, mec="k", mew=0.4, label=label)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m east)")
    ax.set_ylabel("y (m north)")
    title = 'Recommended layout' if meta.get('recommended') else 'Layout'
    ax.set_title(f"{title}: {chosen['spacing_m']:g} m spacing, {len(x)} nodes, {len(gx)} gateway(s)")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
