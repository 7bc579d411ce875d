"""How far from a small night fire do nodes alert? The plume-rise check of issue #18.

One ignition at 21:00 (stable night air, light wind) in the middle of a 41 x 41 grid at 200 m (8 km
square), ideal radio, crews out 3 h after the first alert. Prints the farthest alerting node
(true alerts: the simulator's ground truth says the node smelt this fire), how many nodes alerted,
the burned area, and the peak CO a node saw at 0.5-1 km and beyond 2 km.

    .venv/bin/python bench/bench_night_plume.py [--seed N]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator import plume as plume_module  # noqa: E402
from simulator.scenario import ScenarioConfig, run_scenario  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hour", type=float, default=21.0)
    args = parser.parse_args()
    side = 41
    centre = (side - 1) / 2 * 200.0
    peaks: dict[str, float] = {"0.5-1 km": 0.0, ">2 km": 0.0}
    original = plume_module.smoke_and_heat

    def watched(fires, fuel, x_m, y_m, weather):
        co, heat, burned, dominant = original(fires, fuel, x_m, y_m, weather)
        d = np.hypot(x_m - centre, y_m - centre)
        for label, near in (("0.5-1 km", (d >= 500) & (d <= 1000)), (">2 km", d > 2000)):
            peaks[label] = max(peaks[label], float(co[near].max(initial=0.0)))
        return co, heat, burned, dominant

    import simulator.scenario as scenario_module
    scenario_module.smoke_and_heat = watched
    config = ScenarioConfig(n_nodes=side * side, spacing_m=200.0, days=1.0, seed=args.seed, radio=False,
                            ignition_plan=[(args.hour * 3600.0, centre, centre)], stuck_per_node_month=0.0,
                            dead_sensor_per_node_month=0.0, dead_battery_per_node_month=0.0)
    result = run_scenario(config)
    index = {node: i for i, node in enumerate(result.node_ids)}
    true_nodes = {a.node for a in result.alert_records if a.ignition == 0}
    dist = {n: float(np.hypot(result.x_m[index[n]] - centre, result.y_m[index[n]] - centre)) for n in true_nodes}
    summary = result.summary()
    print(json.dumps({"seed": args.seed, "ignition_hour": args.hour, "nodes_alerting_on_the_fire": len(true_nodes),
                      "farthest_alerting_m": round(max(dist.values(), default=0.0)),
                      "latency_s": summary["ignitions"][0]["latency_s"],
                      "burned_area_ha": summary["ignitions"][0]["burned_area_ha"],
                      "peak_co_ppm": {k: round(v, 2) for k, v in peaks.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
