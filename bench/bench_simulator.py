"""Simulator throughput: node-steps per second for the whole pipeline.

One node-step = one node sampling once: weather, fire spread, smoke plume and
sensor models, gas index, features, the scorer (int8 autoencoder when a trained
model is committed, else the rate-of-rise rule), the detector, the battery
ledger and the LoRa channel for the messages it sends. Payload encoding is only
timed in the `--event-log` line (JSON lines to a temporary file), since a
statistics run without listeners skips it.

    .venv/bin/python bench/bench_simulator.py           # 10,000 nodes x 1 day (fleet) + reference engine
    .venv/bin/python bench/bench_simulator.py --quick   # 2,000 nodes x 0.25 day

Prints wall-clock and CPU-time rates: on a shared machine wall time depends on
the other workloads, CPU time much less.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.publishers import EventLog
from simulator.scenario import ScenarioConfig, run_scenario


def measure(label: str, config: ScenarioConfig, with_log: bool = False) -> dict:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    if with_log:
        with tempfile.TemporaryDirectory() as tmp:
            log = EventLog(Path(tmp) / "events.jsonl")
            result = run_scenario(config, publish=log)
            log.close()
    else:
        result = run_scenario(config)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    row = {"label": label, "nodes": len(result.node_ids), "days": config.days, "engine": result.engine,
           "scorer": result.scorer, "node_steps": result.node_steps, "wall_s": wall, "cpu_s": cpu,
           "wall_rate": result.node_steps / wall, "cpu_rate": result.node_steps / cpu,
           "messages": result.messages_published, "x_real_time": result.sim_s / wall}
    print(f"{label:<34} {row['nodes']:>6} nodes {config.days:>5g} d  {result.scorer:<18} "
          f"{row['node_steps']:>11,} node-steps  wall {wall:6.1f} s = {row['wall_rate']:>10,.0f}/s  "
          f"cpu {cpu:6.1f} s = {row['cpu_rate']:>10,.0f}/s  ({row['x_real_time']:,.0f}x real time)", flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--days", type=float, default=1.0)
    args = parser.parse_args()
    nodes, days = (2000, 0.25) if args.quick else (args.nodes, args.days)
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    base = {"n_nodes": nodes, "days": days, "ignitions": 1, "seed": 1, "site": "bench"}
    measure("fleet engine, no listener", ScenarioConfig(**base))
    measure("fleet engine, JSON-lines event log", ScenarioConfig(**base), with_log=True)
    measure("reference engine (edge_node.core)",
            ScenarioConfig(**{**base, "n_nodes": min(nodes, 500), "days": min(days, 0.25), "engine": "reference"}))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
