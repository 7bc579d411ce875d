"""Incident figures over several seeds: `python -m simulator.incident_study --seeds 1-5 --spacing-m 200`.

Runs the default scenario (1,000 nodes, 7 days, 3 ignitions) once per seed, feeds what the radio
delivered to the gateway's incident engine (simulator/incident_score.py) and pools the results:
ignitions confirmed, median time from ignition to open and to confirmed, median location error
at confirmation, and false incidents per 1,000 node-months (opened and confirmed, by cause).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from simulator.incident_score import IncidentReplay, _plain, score
from simulator.scenario import ScenarioConfig, run_scenario


def parse_seeds(text: str) -> list[int]:
    if "-" in text:
        low, high = (int(v) for v in text.split("-", 1))
        return list(range(low, high + 1))
    return [int(v) for v in text.split(",")]


def study(seeds: list[int], spacing_m: float, nodes: int, days: float, ignitions: int) -> list[dict]:
    """One score (simulator/incident_score.py) per seed."""
    runs = []
    for seed in seeds:
        replay = IncidentReplay()
        result = run_scenario(ScenarioConfig(n_nodes=nodes, days=days, ignitions=ignitions, seed=seed,
                                             spacing_m=spacing_m), publish=replay)
        replay.finish(0)
        runs.append(score(result, replay.transitions))
        print(f"seed {seed}: {runs[-1]['confirmed']}/{runs[-1]['ignitions']} confirmed, "
              f"{runs[-1]['false_confirmed_incidents']} false confirmed", file=sys.stderr)
    return runs


def pool(runs: list[dict]) -> dict:
    fires = [p for r in runs for p in r["per_ignition"]]
    conf = [p["confirmed_after_s"] for p in fires if p["confirmed_after_s"] is not None]
    opened = [p["open_after_s"] for p in fires if p["open_after_s"] is not None]
    errors = [p["error_at_confirm_m"] for p in fires if p["error_at_confirm_m"] is not None]
    months = sum(r["node_months"] for r in runs)
    false_by: Counter[str] = Counter()
    false_conf_by: Counter[str] = Counter()
    for r in runs:
        for row in r["table"]:
            if row["ignition"] < 0:
                false_by[row["cause"]] += 1
                false_conf_by[row["cause"]] += row["confirmed"]
    return {
        "ignitions": len(fires), "confirmed": len(conf),
        "open_after_min_median": round(float(np.median(opened)) / 60, 1) if opened else None,
        "confirmed_after_min_median": round(float(np.median(conf)) / 60, 1) if conf else None,
        "confirmed_after_min_max": round(max(conf) / 60, 1) if conf else None,
        "error_at_confirm_m_median": round(float(np.median(errors))) if errors else None,
        "node_months": round(months, 1),
        "false_incidents_per_1000_node_months": round(sum(false_by.values()) / months * 1000, 2),
        "false_confirmed_per_1000_node_months": round(sum(false_conf_by.values()) / months * 1000, 2),
        "false_incidents_by_cause": dict(false_by), "false_confirmed_by_cause": dict(false_conf_by),
        "per_ignition": fires,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds("1-5"))
    parser.add_argument("--spacing-m", type=float, default=200.0)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--ignitions", type=int, default=3)
    parser.add_argument("--save", metavar="FILE", help="also write each seed's score here (JSON)")
    parser.add_argument("--pool", nargs="+", metavar="FILE", help="pool saved scores instead of simulating "
                        "(seeds run in parallel, one process each, then pooled)")
    args = parser.parse_args(argv)
    if args.pool:
        runs = [run for path in args.pool for run in json.loads(Path(path).read_text())]
    else:
        runs = study(args.seeds, args.spacing_m, args.nodes, args.days, args.ignitions)
    if args.save:
        Path(args.save).write_text(json.dumps(runs, default=_plain) + "\n")
    pooled = pool(runs)
    print(json.dumps({k: v for k, v in pooled.items() if k != "per_ignition"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
