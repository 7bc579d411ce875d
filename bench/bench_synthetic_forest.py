"""False alerts of a self-calibrated node on the training set's synthetic forest air.

The training report (`docs/model_report.md`) replays its synthetic forest test days at the factory
threshold. A node in place also self-calibrates (edge_node/core/calibration.py): after 6 hours its
threshold for smoky-looking readings can fall to 1/16 of the factory one. This replays quiet
synthetic node-days (`training.synthetic.forest_node_days`: diurnal cycle, weather drift, rain
showers, terpene-like gas wander) through the whole node pipeline, as a node runs it, and prints
the alerts by level, with the air each fire-level alert came in.

    .venv/bin/python bench/bench_synthetic_forest.py [--seeds 100-129] [--days 2]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge_node.core.features import GAS_SIGN_RESISTANCE, gas_index_q8  # noqa: E402
from edge_node.core.pipeline import default_pipeline  # noqa: E402
from edge_node.core.schema import LEVEL_FIRE  # noqa: E402
from training.synthetic import forest_node_days  # noqa: E402


def replay_node_days(seed: int, days: float) -> list[tuple[int, float, list[int]]]:
    """(level, hours since start, features) of every alert one synthetic node raises."""
    rec = forest_node_days(seed=seed, days=days, interval_s=30)
    pipeline = default_pipeline()
    alerts = []
    prev_s = None
    for t_s, temp_c, rh_pct, gas_ohm in zip(rec.t_s, rec.temp_c, rec.rh_pct, rec.gas_raw):
        dt_s = 30 if prev_s is None else int(t_s - prev_s)
        prev_s = t_s
        level, _, feats = pipeline.step(int(t_s * 1000), dt_s, int(round(temp_c * 100)), int(round(rh_pct * 100)),
                                        gas_index_q8(int(gas_ohm), GAS_SIGN_RESISTANCE))
        if level:
            alerts.append((level, (t_s - rec.t_s[0]) / 3600, list(feats)))
    return alerts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="100-129", help="first-last seed")
    parser.add_argument("--days", type=float, default=2.0)
    args = parser.parse_args()
    first, _, last = args.seeds.partition("-")
    seeds = range(int(first), int(last or first) + 1)
    fire, suspect, nodes, wetter_cp = 0, 0, 0, []
    for seed in seeds:
        alerts = replay_node_days(seed, args.days)
        nodes += bool(alerts)
        for level, _, feats in alerts:
            if level >= LEVEL_FIRE:
                fire += 1
                wetter_cp.append(feats[2])
            else:
                suspect += 1
    node_days = len(seeds) * args.days
    print(json.dumps({"node_days": node_days, "nodes_alerting": nodes, "fire": fire, "suspect": suspect,
                      "fire_per_node_month": round(fire / node_days * 30, 2),
                      "rh_over_baseline_cp_at_fire_alerts": sorted(wetter_cp)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
