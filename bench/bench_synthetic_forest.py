"""False alerts of a self-calibrated node on the training set's synthetic forest air.

The training report (`docs/model_report.md`) replays its synthetic forest test days at the factory
threshold. A node in place also self-calibrates (edge_node/core/calibration.py): after 6 hours its
threshold for smoky-looking readings can fall to 1/16 of the factory one. This replays quiet
synthetic node-days (`training.synthetic.forest_node_days`: diurnal cycle, weather drift, rain
showers, terpene-like gas wander) through the whole node pipeline, as a node runs it, and prints
the alerts by level, and per seed for the nodes that alerted.

    .venv/bin/python bench/bench_synthetic_forest.py [--seeds 100-129] [--days 2]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge_node.core.pipeline import default_pipeline  # noqa: E402
from edge_node.core.schema import LEVEL_FIRE  # noqa: E402
from training.node_replay import replay  # noqa: E402
from training.synthetic import forest_node_days  # noqa: E402


def alert_levels(seed: int, days: float) -> list[int]:
    """The level of every alert one synthetic node raises through the whole node pipeline."""
    rec = forest_node_days(seed=seed, days=days, interval_s=30)
    samples = replay(default_pipeline(), rec.t_s, np.arange(len(rec)), rec.temp_c, rec.rh_pct, rec.gas_raw,
                     rec.gas_sign, 30)
    return [s.level for s in samples if s.level]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="100-129", help="first-last seed")
    parser.add_argument("--days", type=float, default=2.0)
    args = parser.parse_args()
    first, _, last = args.seeds.partition("-")
    seeds = range(int(first), int(last or first) + 1)
    by_seed = {}  # seed: [fire-level, suspect] of the seeds that alerted
    for seed in seeds:
        levels = alert_levels(seed, args.days)
        if levels:
            fire = sum(level >= LEVEL_FIRE for level in levels)
            by_seed[seed] = [fire, len(levels) - fire]
    node_days = len(seeds) * args.days
    fire = sum(f for f, _ in by_seed.values())
    print(json.dumps({"node_days": node_days, "fire": fire, "suspect": sum(s for _, s in by_seed.values()),
                      "fire_per_node_month": round(fire / node_days * 30, 2), "alerting_seeds": by_seed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
