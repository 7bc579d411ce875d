"""`emberwatch evaluate`: score the committed int8 model (no TensorFlow) on real data or any CSV.

Default: the held-out real test blocks and normal sets of the training plan.
With `--csv FILE --map temperature=COL,humidity=COL,gas=COL[,gas_kind=...]`
a recording is replayed exactly as a node would live it (one reading per wake,
the real core pipeline with its levels, fault checks and self-calibration) and
judged per event: fire windows (from --label or --events) by delay from their
true onset, nuisance windows (--events) by the alerts they raise, the rest by
false alerts per node-day. --rows FILE writes what the node did at every wake.
Every bad input is an error naming file, line and column (exit 2).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "Evaluate the int8 model (AUC, false alerts per node-day, detection delay) on real data or a CSV."

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from training.csv_mapping import add_csv_arguments
    from training.real_data import default_data_dir

    parser.add_argument("--weights-module", type=Path,
                        default=PROJECT_ROOT / "edge_node" / "core" / "model_weights.py",
                        help="generated weights module to evaluate")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(), help="the shared real data folder")
    add_csv_arguments(parser, "evaluate on this CSV instead of the default test sets")
    parser.add_argument("--quick", action="store_true", help="small default test plan")
    from training.replay_command import add_replay_arguments
    add_replay_arguments(parser)
    parser.add_argument("--events", type=Path,
                        help="CSV of labelled windows: start,end,kind(fire|nuisance)[,name], in the data's time unit")
    parser.add_argument("--rows", type=Path, help="write per-sample output (time, score, level, alert) here")


def methods_for(weights) -> list:
    from edge_node.core.scoring import Int8Autoencoder, RiseRule
    from training.evaluation import Method
    from training.metrics import DetectorSettings
    from training.scorers import int8_scorer, rise_rule_scorer

    k, n, cool = weights.DEBOUNCE_K, weights.DEBOUNCE_N, weights.COOLDOWN_S
    return [Method("int8 autoencoder", int8_scorer(Int8Autoencoder.from_module(weights)),
                   DetectorSettings(weights.THRESHOLD, k, n, cool)),
            Method("RiseRule (static)", rise_rule_scorer(), DetectorSettings(RiseRule().threshold, k, n, cool))]


def run_csv(args: argparse.Namespace) -> int:
    from training import replay_command as rc
    from training.node_replay import judge, replay, write_rows
    from training.sensor_table import InputError

    try:
        weights = rc.load_weights_module(args.weights_module)
        thr, k, n, cool, interval = rc.detector_settings(args, weights)
        table, (temp, rh, gas, sign) = rc.read_table(args, (args.label,) if args.label else ())
        rc.check_length(table, interval, "evaluate")
        events = rc.label_events(table, args.label)
        if args.events:
            events += rc.read_events(args.events, table, args.time_unit, args.delimiter)
    except InputError as exc:
        print(f"emberwatch evaluate: {exc}", file=sys.stderr)
        return 2
    pipeline = rc.make_pipeline(weights, thr, k, n, cool)
    samples = replay(pipeline, table.t_s, table.line, table.columns[temp], table.columns[rh], table.columns[gas],
                     sign, interval)
    result = {"csv": str(args.csv), "time_unit": table.time_unit, "rows": len(table.t_s), "interval_s": interval,
              "threshold": thr, "debounce": [k, n], "cooldown_s": cool}
    result.update(judge(samples, events, interval, k))
    if args.rows:
        write_rows(args.rows, samples)
        result["rows_file"] = str(args.rows)
    print(json.dumps(result, indent=2, allow_nan=False))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.csv:
        return run_csv(args)
    from training import replay_command as rc
    from training.real_data import DataMissing
    from training.sensor_table import InputError

    try:
        weights = rc.load_weights_module(args.weights_module)
        interval_s = int(getattr(weights, "SAMPLE_INTERVAL_S", 30))
        from training.dataset import SplitPlan, build_splits
        plan = SplitPlan(interval_s=interval_s, phases=min(30, interval_s))
        splits = build_splits(args.data_dir, plan.quick() if args.quick else plan)
        labelled, normal = splits.test_labelled, splits.test_normal
    except (InputError, DataMissing) as exc:
        print(f"emberwatch evaluate: {exc}", file=sys.stderr)
        return 2
    from training.evaluation import evaluate_method

    results = {}
    for method in methods_for(weights):
        prefixes = ("smoke_A_alarm", "smoke_F") if not args.csv else ("",)
        results[method.name] = evaluate_method(method, labelled, normal, prefixes)
    print(json.dumps(results, indent=2, default=str))
    return 0
