"""`emberwatch plan` throughput on 1 and 2 local Dask workers: scenarios per minute and the speed-up.

Runs the same Monte Carlo (2 km x 2 km, 200 and 400 m spacing, N scenarios each) alternately on 1 and
2 workers, `--rounds` times, and prints per run: wall time, scenarios per minute, the CPU seconds the
scenarios used (summed over workers) over the wall time (how many cores the run really got), and the
load average, since this machine is shared.

    .venv/bin/python bench/bench_plan.py [--scenarios 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.plan.command import add_arguments, build_specs  # noqa: E402
from simulator.plan.runner import run_trials  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    plan = argparse.ArgumentParser()
    add_arguments(plan)
    rates: dict[int, list[float]] = {1: [], 2: []}
    for round_no in range(args.rounds):
        for workers in (1, 2):
            plan_args = plan.parse_args(["--spacings", "200,400", "--scenarios", str(args.scenarios),
                                         "--workers", str(workers), "--quiet"])
            _, _, specs, _, _ = build_specs(plan_args)
            load = os.getloadavg()[0]
            started = time.monotonic()
            results = run_trials(specs, workers)
            wall = time.monotonic() - started
            cpu = sum(r["cpu_s"] for r in results)
            rate = len(specs) / wall * 60
            rates[workers].append(rate)
            print(f"round {round_no + 1}, {workers} worker(s): {len(specs)} scenarios in {wall:.1f} s = "
                  f"{rate:.1f}/min; scenario CPU {cpu:.1f} s = {cpu / wall:.2f} cores busy; "
                  f"load average at start {load:.1f}", flush=True)
    best1, best2 = max(rates[1]), max(rates[2])
    print(f"best of {args.rounds}: 1 worker {best1:.1f}/min, 2 workers {best2:.1f}/min, speed-up {best2 / best1:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
