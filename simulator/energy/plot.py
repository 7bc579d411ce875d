"""The battery plot: energy per day by component (stacked bars) and life vs sampling interval.

matplotlib is imported inside the function, with the Agg backend, so importing
this module (and the CLI) stays cheap and works without a display.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from simulator.energy.budget import COMPONENTS, NodeConfig
from simulator.energy.profiles import Policy
from simulator.energy.report import life_vs_interval, node_life

COMPONENT_COLOURS = {"sleep": "#9e9e9e", "wake": "#ffb74d", "sensor": "#81c784",
                     "compute": "#64b5f6", "radio": "#e57373"}


def interval_grid_s(low_s: float = 10.0, high_s: float = 3600.0, points: int = 40) -> list[float]:
    """Log-spaced sampling intervals for the life curve."""
    ratio = (high_s / low_s) ** (1.0 / (points - 1))
    return [low_s * ratio ** i for i in range(points)]


def _life_years_or_nan(node: NodeConfig, policy: Policy, intervals_s: Sequence[float]) -> list[float]:
    out = []
    for s in intervals_s:
        try:
            out.append(life_vs_interval(node, policy, [s])[0] / 365.25)
        except ValueError:  # the node cannot keep up at this interval
            out.append(math.nan)
    return out


def write_battery_plot(path: str | Path, node: NodeConfig, policies: Sequence[Policy], interval_s: float) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, (bars, curve) = plt.subplots(1, 2, figsize=(12, 4.8))
    names = [p.name for p in policies]
    bottoms = [0.0] * len(policies)
    lives = [node_life(node, p, interval_s) for p in policies]
    for component in COMPONENTS:
        heights = [life.budget.energy_mj[component] / 1000.0 for life in lives]
        bars.bar(names, heights, bottom=bottoms, label=component, color=COMPONENT_COLOURS[component])
        bottoms = [b + h for b, h in zip(bottoms, heights)]
    for x, (total, life) in enumerate(zip(bottoms, lives)):
        bars.annotate(f"{life.life_years:.2f} y", (x, total), ha="center", va="bottom")
    bars.set_ylabel("energy per day (J)")
    bars.set_title(f"Energy by component, sampling every {interval_s:g} s")
    bars.legend()

    grid = interval_grid_s()
    for policy in policies:
        curve.plot(grid, _life_years_or_nan(node, policy, grid), label=policy.name)
    curve.axvline(interval_s, color="grey", linestyle=":", label=f"{interval_s:g} s")
    curve.set_xscale("log")
    curve.set_xlabel("sampling interval (s)")
    curve.set_ylabel("battery life (years)")
    curve.set_title("Battery life vs sampling interval")
    curve.grid(True, which="both", alpha=0.3)
    curve.legend()
    b = node.battery
    fig.suptitle(f"{node.mcu.name} + {node.sensor.name} (heater wait: {node.sensor_wait}) + {node.radio.name} on "
                 f"{b.name} via {b.regulator} ({b.regulator_efficiency:.0%})"
                 + (f", {node.divider_kohm:g} kOhm divider" if node.divider_kohm else "")
                 + f"; {node.runtime}; 20 C, no cold derating", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
