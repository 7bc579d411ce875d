"""`emberwatch calibrate --csv`: a threshold from your own clean recording, without TensorFlow.

The recording (clean air where the node will live, as long as you have: hours, not
minutes) is replayed through the real node pipeline as the node would sample it. The
threshold is the lowest one at which the node would have raised no alert at all on it
(no n-sample window with k scores above it), times --margin for the air you did not
record. It is printed, and with --out written into a copy of the weights module that
the firmware can ship (`emberwatch firmware build` takes edge_node/core/model_weights.py).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

HELP = "Set the detector threshold from your own clean-air recording (no TensorFlow)."

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from training.csv_mapping import add_csv_arguments
    from training.replay_command import add_replay_arguments

    parser.add_argument("--weights-module", type=Path,
                        default=PROJECT_ROOT / "edge_node" / "core" / "model_weights.py",
                        help="the model whose threshold to calibrate")
    add_csv_arguments(parser, "a clean-air recording from the node's site (required)")
    add_replay_arguments(parser)
    parser.add_argument("--margin", type=float, default=1.25,
                        help="threshold = margin x the lowest threshold silent on the recording (default 1.25)")
    parser.add_argument("--min-threshold", type=int,
                        help="never go below this (default: a quarter of the model's threshold: a short or "
                             "unusually still recording must not make the node jumpy; 0 to trust the data)")
    parser.add_argument("--out", type=Path, help="write a copy of the weights module with the new THRESHOLD here")


def silent_threshold(evidence: np.ndarray, k: int, n: int) -> int:
    """The lowest threshold at which no window of n samples holds k scores above it."""
    worst = 0
    for end in range(len(evidence)):
        window = np.sort(evidence[max(0, end - n + 1):end + 1])
        if len(window) >= k:
            worst = max(worst, int(window[-k]))
    return worst


def run(args: argparse.Namespace) -> int:
    from edge_node.core.detector import wet_air
    from edge_node.core.features import gas_index_q8
    from training import replay_command as rc
    from training.sensor_table import InputError

    try:
        if not args.csv:
            raise InputError("calibrate needs --csv FILE (a clean-air recording) and --map")
        if not args.margin >= 1.0:
            raise InputError(f"--margin must be >= 1, got {args.margin}")
        weights = rc.load_weights_module(args.weights_module)
        _, k, n, cool, interval = rc.detector_settings(args, weights)
        table, (temp, rh, gas, sign) = rc.read_table(args)
        rc.check_length(table, interval, "calibrate")
    except InputError as exc:
        print(f"emberwatch calibrate: {exc}", file=sys.stderr)
        return 2
    # Replay with an unreachable threshold: the node never sees an anomaly, so its slow
    # baseline keeps learning exactly as it would on a quiet day.
    pipeline = rc.make_pipeline(weights, 1 << 40, k, n, cool)
    evidence = []
    next_wake, prev_t = -np.inf, None
    cols = table.columns
    for i, t in enumerate(table.t_s):
        if t < next_wake:
            continue
        dt_s = interval if prev_t is None else max(1, int(round(t - prev_t)))
        prev_t, next_wake = float(t), float(t) + interval
        gas_q8 = gas_index_q8(max(1, int(round(cols[gas][i]))), sign)
        _, score, feats = pipeline.step(int(round(t * 1000)), dt_s, int(round(cols[temp][i] * 100)),
                                        int(round(cols[rh][i] * 100)), gas_q8)
        evidence.append(0 if wet_air(feats) else score)  # as training calibrates (metrics.calibrate_threshold)
    ev = np.array(evidence, dtype=np.int64)
    silent = silent_threshold(ev, k, n)
    floor = int(weights.THRESHOLD) // 4 if args.min_threshold is None else args.min_threshold
    threshold = max(int(np.ceil(max(silent, 1) * args.margin)), floor)
    result = {"csv": str(args.csv), "time_unit": table.time_unit, "samples": len(ev), "interval_s": interval,
              "hours": round(float(table.t_s[-1] - table.t_s[0]) / 3600, 3), "debounce": [k, n],
              "score_p50": int(np.percentile(ev, 50)), "score_p99": int(np.percentile(ev, 99)),
              "score_max": int(ev.max()), "silent_threshold": silent, "margin": args.margin,
              "min_threshold": floor, "threshold": threshold, "factory_threshold": int(weights.THRESHOLD)}
    if args.out:
        text = Path(args.weights_module).read_text()
        new, count = re.subn(r"^THRESHOLD = \d+$", f"THRESHOLD = {threshold}", text, flags=re.M)
        if count != 1:
            print(f"emberwatch calibrate: {args.weights_module} has no single 'THRESHOLD = N' line", file=sys.stderr)
            return 2
        args.out.write_text(new)
        result["out"] = str(args.out)
    print(json.dumps(result, indent=2, allow_nan=False))
    return 0
